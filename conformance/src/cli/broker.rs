//! `touchstone broker`: runs the reference broker until interrupted.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Args;
use touchstone_broker::server::{Server, ServerConfig};

use super::{fail, Io, Status};

/// Arguments of `touchstone broker`.
#[derive(Debug, Clone, Args)]
pub struct BrokerArgs {
    /// TOML configuration file (listeners, limits, features, password file, ACLs); see
    /// reference-broker/README.md. Flags override its listeners.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Address of the MQTT-over-TCP listener (default 127.0.0.1:1883 without a config file).
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<SocketAddr>,

    /// Address of the MQTT-over-TLS listener (needs --tls-cert and --tls-key).
    #[arg(long, value_name = "ADDR")]
    pub tls_listen: Option<SocketAddr>,

    /// PEM certificate chain of the TLS listener.
    #[arg(long, value_name = "FILE")]
    pub tls_cert: Option<PathBuf>,

    /// PEM private key of the TLS listener.
    #[arg(long, value_name = "FILE")]
    pub tls_key: Option<PathBuf>,

    /// Address of the MQTT-over-WebSocket listener (subprotocol `mqtt`).
    #[arg(long, value_name = "ADDR")]
    pub ws_listen: Option<SocketAddr>,
}

/// The server configuration the arguments describe.
pub fn server_config(args: &BrokerArgs) -> Result<ServerConfig, String> {
    let mut config = match &args.config {
        Some(path) => {
            ServerConfig::from_file(path).map_err(|e| format!("{}: {e}", path.display()))?
        }
        None => {
            let mut c = ServerConfig::default();
            c.listen.tcp = Some(SocketAddr::from(([127, 0, 0, 1], 1883)));
            c
        }
    };
    if args.listen.is_some() {
        config.listen.tcp = args.listen;
    }
    if args.tls_listen.is_some() {
        config.listen.tls = args.tls_listen;
    }
    if args.tls_cert.is_some() {
        config.listen.tls_cert = args.tls_cert.clone();
    }
    if args.tls_key.is_some() {
        config.listen.tls_key = args.tls_key.clone();
    }
    if args.ws_listen.is_some() {
        config.listen.ws = args.ws_listen;
    }
    if config.listen.tls.is_some()
        && (config.listen.tls_cert.is_none() || config.listen.tls_key.is_none())
    {
        return Err("a TLS listener needs --tls-cert and --tls-key (or tls_cert and tls_key in the config file)".into());
    }
    if config.listen.tcp.is_none() && config.listen.tls.is_none() && config.listen.ws.is_none() {
        return Err("no listener: give --listen, --tls-listen or --ws-listen (or [listen] in the config file)".into());
    }
    Ok(config)
}

/// Runs `touchstone broker`: starts the listeners, prints their addresses, and serves until
/// interrupted (Ctrl-C or SIGTERM), then shuts down gracefully.
pub fn run(args: &BrokerArgs, io: &mut Io<'_>) -> Status {
    let config = match server_config(args) {
        Ok(c) => c,
        Err(e) => return fail(io, format_args!("{e}")),
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => return fail(io, format_args!("cannot start the async runtime: {e}")),
    };
    runtime.block_on(async {
        let server = match Server::start(config).await {
            Ok(s) => s,
            Err(e) => return fail(io, format_args!("cannot start the broker: {e}")),
        };
        for (name, addr) in [
            ("mqtt", server.tcp_addr()),
            ("mqtts", server.tls_addr()),
            ("ws", server.ws_addr()),
        ] {
            if let Some(addr) = addr {
                let _ = writeln!(io.stdout, "listening on {name}://{addr}");
            }
        }
        let _ = io.stdout.flush();
        wait_for_signal().await;
        let _ = writeln!(io.stderr, "shutting down");
        server.shutdown().await;
        Status::Success
    })
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}
