//! The tokio server: TCP, TLS and WebSocket listeners around the [`crate::core`] state machine.
//!
//! The shell is thin: each connection has a reader loop that feeds received bytes to the core
//! (held under a mutex) and a writer task that drains the connection's channel, batching
//! writes; a timer task ticks the core at its next deadline. All protocol behaviour lives in
//! the core.
//!
//! ```no_run
//! # async fn demo() -> Result<(), touchstone_broker::server::Error> {
//! use touchstone_broker::server::{Server, ServerConfig};
//!
//! let mut config = ServerConfig::default(); // TCP on 127.0.0.1, a free port
//! config.broker.maximum_qos = touchstone_codec::QoS::AtLeastOnce;
//! let server = Server::start(config).await?;
//! println!("mqtt://{}", server.tcp_addr().unwrap());
//! server.shutdown().await;
//! # Ok(()) }
//! ```

mod config;
mod shared;
mod stream;
mod tls;
mod ws;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::{watch, Notify};
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;

pub use config::{Listen, ServerConfig};

use crate::config::ConfigError;
use crate::core::{Broker, Stats};
use shared::Shared;

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Invalid configuration or an unreadable file it names.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A listener could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The TLS certificate or key could not be used.
    #[error("TLS: {0}")]
    Tls(String),
}

/// Starts servers. See [`Server::start`].
#[derive(Debug)]
pub struct Server;

/// Counts open connection tasks, to wait for them at shutdown.
#[derive(Default)]
struct Tracker {
    active: AtomicUsize,
    idle: Notify,
}

impl Tracker {
    fn enter(&self) {
        self.active.fetch_add(1, Ordering::AcqRel);
    }

    fn exit(&self) {
        if self.active.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.idle.notify_waiters();
        }
    }

    async fn wait_idle(&self) {
        loop {
            let idle = self.idle.notified();
            if self.active.load(Ordering::Acquire) == 0 {
                return;
            }
            idle.await;
        }
    }
}

/// A server that is running: its addresses, and [`RunningServer::shutdown`].
pub struct RunningServer {
    shared: Arc<Shared>,
    tcp: Option<SocketAddr>,
    tls: Option<SocketAddr>,
    ws: Option<SocketAddr>,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
    tracker: Arc<Tracker>,
}

impl std::fmt::Debug for RunningServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunningServer")
            .field("tcp", &self.tcp)
            .field("tls", &self.tls)
            .field("ws", &self.ws)
            .finish_non_exhaustive()
    }
}

#[derive(Clone)]
enum Kind {
    Tcp,
    Tls(TlsAcceptor),
    Ws,
}

impl Server {
    /// Loads the password file (if named and not already loaded), binds the listeners and
    /// starts serving. Must be called within a tokio runtime (multi-threaded or not).
    pub async fn start(mut config: ServerConfig) -> Result<RunningServer, Error> {
        config.broker.validate()?;
        if config.broker.passwords.is_none() {
            config.broker.load_password_file()?;
        }
        let broker = Broker::with_seed(config.broker.clone(), random_seed());
        let shared = Arc::new(Shared::new(
            broker,
            config.max_outbound_buffer.max(1),
            config.outbound_high_water.max(1),
            Duration::from_secs(config.slow_consumer_timeout),
        ));
        let (stop, _) = watch::channel(false);
        let tracker = Arc::new(Tracker::default());
        let mut listeners = Vec::new();
        let listen = &config.listen;
        if let Some(addr) = listen.tcp {
            listeners.push((bind(addr).await?, Kind::Tcp));
        }
        if let Some(addr) = listen.tls {
            let (Some(cert), Some(key)) = (&listen.tls_cert, &listen.tls_key) else {
                return Err(Error::Tls(
                    "a TLS listener needs tls_cert and tls_key".into(),
                ));
            };
            let acceptor = tls::acceptor(cert, key)?;
            listeners.push((bind(addr).await?, Kind::Tls(acceptor)));
        }
        if let Some(addr) = listen.ws {
            listeners.push((bind(addr).await?, Kind::Ws));
        }
        let mut running = RunningServer {
            shared: shared.clone(),
            tcp: None,
            tls: None,
            ws: None,
            stop,
            tasks: Vec::new(),
            tracker: tracker.clone(),
        };
        for (listener, kind) in listeners {
            let addr = listener.local_addr().map_err(|source| Error::Bind {
                addr: SocketAddr::from(([0, 0, 0, 0], 0)),
                source,
            })?;
            match kind {
                Kind::Tcp => running.tcp = Some(addr),
                Kind::Tls(_) => running.tls = Some(addr),
                Kind::Ws => running.ws = Some(addr),
            }
            tracing::info!(%addr, kind = kind.name(), "listening");
            running.tasks.push(tokio::spawn(accept_loop(
                listener,
                kind,
                shared.clone(),
                running.stop.subscribe(),
                tracker.clone(),
            )));
        }
        running
            .tasks
            .push(tokio::spawn(timer_loop(shared, running.stop.subscribe())));
        Ok(running)
    }
}

impl Kind {
    fn name(&self) -> &'static str {
        match self {
            Kind::Tcp => "tcp",
            Kind::Tls(_) => "tls",
            Kind::Ws => "ws",
        }
    }
}

async fn bind(addr: SocketAddr) -> Result<TcpListener, Error> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| Error::Bind { addr, source })
}

/// A seed for the core's generator (assigned client ids, SCRAM nonces).
fn random_seed() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    h.write_u128(t);
    h.finish()
}

async fn accept_loop(
    listener: TcpListener,
    kind: Kind,
    shared: Arc<Shared>,
    mut stop: watch::Receiver<bool>,
    tracker: Arc<Tracker>,
) {
    loop {
        let accepted = tokio::select! {
            _ = stop.changed() => break,
            r = listener.accept() => r,
        };
        let (socket, peer) = match accepted {
            Ok(a) => a,
            Err(e) => {
                // Out of file descriptors and the like: back off briefly.
                tracing::warn!("accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(20)).await;
                continue;
            }
        };
        let _ = socket.set_nodelay(true);
        tracker.enter();
        let shared = shared.clone();
        let tracker = tracker.clone();
        let kind = kind.clone();
        tokio::spawn(async move {
            match kind {
                Kind::Tcp => stream::serve(shared, socket, Some(peer)).await,
                Kind::Tls(acceptor) => {
                    match tokio::time::timeout(Duration::from_secs(10), acceptor.accept(socket))
                        .await
                    {
                        Ok(Ok(tls)) => stream::serve(shared, tls, Some(peer)).await,
                        Ok(Err(e)) => tracing::debug!(%peer, "TLS handshake failed: {e}"),
                        Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
                    }
                }
                Kind::Ws => ws::serve(shared, socket, Some(peer)).await,
            }
            tracker.exit();
        });
    }
}

async fn timer_loop(shared: Arc<Shared>, mut stop: watch::Receiver<bool>) {
    loop {
        let next = shared.tick();
        let sleep = if next == u64::MAX {
            Duration::from_secs(3600)
        } else {
            shared.until(next)
        };
        tokio::select! {
            _ = stop.changed() => break,
            () = tokio::time::sleep(sleep) => {}
            () = shared.timer_wake.notified() => {}
        }
    }
}

impl RunningServer {
    /// The bound address of the TCP listener (`mqtt://`).
    pub fn tcp_addr(&self) -> Option<SocketAddr> {
        self.tcp
    }

    /// The bound address of the TLS listener (`mqtts://`).
    pub fn tls_addr(&self) -> Option<SocketAddr> {
        self.tls
    }

    /// The bound address of the WebSocket listener (`ws://`).
    pub fn ws_addr(&self) -> Option<SocketAddr> {
        self.ws
    }

    /// The core's counts.
    pub fn stats(&self) -> Stats {
        self.shared.stats()
    }

    /// Switches the broker's test-only [`crate::Faults`] while it runs (from the next event on),
    /// so that one server can prove that a conformance case fails against a broken broker.
    pub fn set_faults(&self, faults: crate::Faults) {
        self.shared.set_faults(faults);
    }

    /// Stops accepting, disconnects every client (5.0: DISCONNECT 0x8B), waits up to five
    /// seconds for the connections to close, and stops the server's tasks.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        for t in self.tasks.drain(..) {
            let _ = t.await;
        }
        self.shared.shutdown();
        let _ = tokio::time::timeout(Duration::from_secs(5), self.tracker.wait_idle()).await;
        tracing::info!("server stopped");
    }
}

impl Drop for RunningServer {
    /// Dropping a running server stops its listeners and timer; open connections end when
    /// their clients leave. Use [`RunningServer::shutdown`] to disconnect them.
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}
