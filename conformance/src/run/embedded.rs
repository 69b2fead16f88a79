//! The embedded reference broker: what `touchstone run` tests when no `--target` is given.
//!
//! Two instances start in-process on free loopback ports: one that takes anonymous clients
//! (the target, with a WebSocket listener too: the `--ws-target`), and one that requires a user
//! name and password (the `--auth-target` of the authentication cases, which also does
//! SCRAM-SHA-256 enhanced authentication for that user).

use touchstone_broker::auth::Passwords;
use touchstone_broker::server::{RunningServer, Server, ServerConfig};
use touchstone_broker::Config;

/// The user the embedded authentication target accepts.
pub const USER: &str = "touchstone";
/// Its password.
pub const PASSWORD: &str = "touchstone-embedded";
/// The enhanced authentication method the authentication broker accepts for [`USER`].
pub const SCRAM_METHOD: &str = touchstone_sasl::scram::METHOD;

/// The embedded reference broker could not start (no loopback port, say).
#[derive(Debug, thiserror::Error)]
#[error("cannot start the embedded reference broker: {0}")]
pub struct EmbeddedError(#[source] pub touchstone_broker::server::Error);

/// The running embedded brokers.
pub struct Embedded {
    open: RunningServer,
    auth: RunningServer,
}

impl Embedded {
    /// Starts both brokers.
    pub async fn start() -> Result<Embedded, EmbeddedError> {
        let mut config = ServerConfig::default();
        // A WebSocket listener too, for the `websocket` cases.
        config.listen.ws = Some(std::net::SocketAddr::from(([127, 0, 0, 1], 0)));
        let open = Server::start(config).await.map_err(EmbeddedError)?;
        let mut passwords = Passwords::default();
        passwords.insert(USER, PASSWORD);
        let broker = Config {
            allow_anonymous: false,
            passwords: Some(passwords),
            ..Config::default()
        };
        let auth = match Server::start(ServerConfig::with_broker(broker)).await {
            Ok(auth) => auth,
            Err(e) => {
                open.shutdown().await;
                return Err(EmbeddedError(e));
            }
        };
        Ok(Embedded { open, auth })
    }

    /// `mqtt://` URL of the anonymous broker.
    pub fn target(&self) -> String {
        url(&self.open)
    }

    /// `mqtt://` URL of the broker that requires [`USER`] and [`PASSWORD`].
    pub fn auth_target(&self) -> String {
        url(&self.auth)
    }

    /// `ws://` URL of the anonymous broker's WebSocket listener.
    pub fn ws_target(&self) -> Option<String> {
        self.open.ws_addr().map(|a| format!("ws://{a}/mqtt"))
    }

    /// The TCP addresses of the anonymous broker and of the authentication broker.
    pub fn tcp_addrs(&self) -> (Option<std::net::SocketAddr>, Option<std::net::SocketAddr>) {
        (self.open.tcp_addr(), self.auth.tcp_addr())
    }

    /// Stops both brokers.
    pub async fn shutdown(self) {
        self.open.shutdown().await;
        self.auth.shutdown().await;
    }
}

fn url(server: &RunningServer) -> String {
    match server.tcp_addr() {
        Some(addr) => format!("mqtt://{addr}"),
        None => "mqtt://127.0.0.1:0".to_string(),
    }
}
