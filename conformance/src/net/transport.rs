//! One transport abstraction over TCP, TLS and WebSocket (over either): write bytes, read bytes
//! with a deadline, observe the close.

use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::{timeout_at, Instant};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

use crate::net::target::Target;
use crate::net::tls::{self, TlsError, TlsOptions};

/// A byte stream: TCP or TLS over TCP.
trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// Opens connections to one target.
#[derive(Clone)]
pub struct Connector {
    target: Target,
    tls: Option<Arc<rustls::ClientConfig>>,
}

impl std::fmt::Debug for Connector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connector")
            .field("target", &self.target)
            .field("tls", &self.tls.is_some())
            .finish()
    }
}

/// Why a connector could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum ConnectorError {
    /// TLS options for a target without TLS.
    #[error("--ca-file, --cert, --key and --insecure need an mqtts:// or wss:// target, not {0}")]
    TlsOptionsWithoutTls(String),
    /// The TLS configuration could not be built.
    #[error(transparent)]
    Tls(#[from] TlsError),
}

impl Connector {
    /// A connector for `target`, with a TLS configuration from `tls` for `mqtts` and `wss`.
    pub fn new(target: Target, tls: &TlsOptions) -> Result<Connector, ConnectorError> {
        let tls = if target.scheme.is_tls() {
            Some(tls::client_config(tls)?)
        } else if tls.any() {
            return Err(ConnectorError::TlsOptionsWithoutTls(target.to_string()));
        } else {
            None
        };
        Ok(Connector { target, tls })
    }

    /// The target.
    pub fn target(&self) -> &Target {
        &self.target
    }

    /// Opens a connection (TCP, then TLS and the WebSocket handshake as the scheme asks), all
    /// within `within`.
    pub async fn connect(&self, within: Duration) -> Result<Transport, TransportError> {
        let deadline = Instant::now() + within;
        match timeout_at(deadline, self.connect_inner()).await {
            Ok(r) => r,
            Err(_) => Err(TransportError::new(format!(
                "could not connect to {} within {:.1} s",
                self.target,
                within.as_secs_f64()
            ))),
        }
    }

    async fn connect_inner(&self) -> Result<Transport, TransportError> {
        let t = &self.target;
        let tcp = TcpStream::connect(t.authority())
            .await
            .map_err(|e| TransportError::new(format!("cannot connect to {t}: {e}")))?;
        let _ = tcp.set_nodelay(true);
        let io: Box<dyn Io> = match &self.tls {
            None => Box::new(tcp),
            Some(config) => {
                let name =
                    tls::server_name(&t.host).map_err(|e| TransportError::new(e.to_string()))?;
                let tls = tokio_rustls::TlsConnector::from(config.clone())
                    .connect(name, tcp)
                    .await
                    .map_err(|e| TransportError::new(format!("TLS handshake with {t}: {e}")))?;
                Box::new(tls)
            }
        };
        let inner = if t.scheme.is_websocket() {
            let scheme = if t.scheme.is_tls() { "wss" } else { "ws" };
            let url = format!("{scheme}://{}{}", t.authority(), t.path);
            let mut request = url
                .as_str()
                .into_client_request()
                .map_err(|e| TransportError::new(format!("WebSocket request for {url}: {e}")))?;
            request
                .headers_mut()
                .insert("Sec-WebSocket-Protocol", HeaderValue::from_static("mqtt"));
            let (ws, response) = tokio_tungstenite::client_async(request, io)
                .await
                .map_err(|e| {
                    TransportError::new(format!(
                        "WebSocket handshake with {t} (subprotocol mqtt; 3.1.1 and 5.0 MQTT-6.0.0-4): {e}"
                    ))
                })?;
            let chosen = response
                .headers()
                .get("Sec-WebSocket-Protocol")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            if chosen != "mqtt" {
                return Err(TransportError::new(format!(
                    "WebSocket server {t} selected subprotocol `{chosen}`, not `mqtt` (MQTT-6.0.0-4)"
                )));
            }
            Inner::Ws(Box::new(ws))
        } else {
            Inner::Stream(io)
        };
        Ok(Transport {
            inner,
            read_buf: BytesMut::with_capacity(8 * 1024),
        })
    }
}

/// A transport failure (connecting, writing, or a WebSocket protocol violation).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct TransportError(pub String);

impl TransportError {
    fn new(message: impl Into<String>) -> Self {
        TransportError(message.into())
    }
}

/// How the connection ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CloseKind {
    /// The peer closed its side (TCP FIN, TLS close, or WebSocket close frame).
    Closed,
    /// The connection broke (reset, TLS or WebSocket error).
    Broken(String),
    /// The test client closed it.
    ByClient,
}

impl std::fmt::Display for CloseKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CloseKind::Closed => f.write_str("closed by the server"),
            CloseKind::Broken(why) => write!(f, "broken ({why})"),
            CloseKind::ByClient => f.write_str("closed by the test client"),
        }
    }
}

/// What a read returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Received {
    /// Some bytes (one read or one WebSocket binary frame).
    Data(Bytes),
    /// The connection is gone.
    Closed(CloseKind),
    /// The deadline passed first.
    Timeout,
}

enum Inner {
    Stream(Box<dyn Io>),
    Ws(Box<WebSocketStream<Box<dyn Io>>>),
    Closed,
}

/// An open connection.
pub struct Transport {
    inner: Inner,
    read_buf: BytesMut,
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match self.inner {
            Inner::Stream(_) => "stream",
            Inner::Ws(_) => "websocket",
            Inner::Closed => "closed",
        };
        f.debug_struct("Transport").field("kind", &kind).finish()
    }
}

impl Transport {
    /// True once a read saw the close, or after [`Transport::close`].
    pub fn is_closed(&self) -> bool {
        matches!(self.inner, Inner::Closed)
    }

    /// Writes `bytes` (one binary frame on WebSocket). Writing on a closed connection is an
    /// error.
    pub async fn send(&mut self, bytes: &[u8]) -> Result<(), TransportError> {
        let r = match &mut self.inner {
            Inner::Stream(io) => match io.write_all(bytes).await {
                Ok(()) => io.flush().await.map_err(|e| e.to_string()),
                Err(e) => Err(e.to_string()),
            },
            Inner::Ws(ws) => ws
                .send(Message::Binary(Bytes::copy_from_slice(bytes)))
                .await
                .map_err(|e| e.to_string()),
            Inner::Closed => return Err(TransportError::new("the connection is closed")),
        };
        r.map_err(|e| TransportError::new(format!("write failed: {e}")))
    }

    /// Reads what arrives before `deadline`.
    pub async fn recv(&mut self, deadline: Instant) -> Received {
        loop {
            let r = match &mut self.inner {
                Inner::Closed => return Received::Closed(CloseKind::Closed),
                Inner::Stream(io) => {
                    self.read_buf.reserve(8 * 1024);
                    match timeout_at(deadline, io.read_buf(&mut self.read_buf)).await {
                        Err(_) => return Received::Timeout,
                        Ok(Ok(0)) => Received::Closed(CloseKind::Closed),
                        Ok(Ok(_)) => Received::Data(self.read_buf.split().freeze()),
                        Ok(Err(e)) => Received::Closed(CloseKind::Broken(e.to_string())),
                    }
                }
                Inner::Ws(ws) => match timeout_at(deadline, ws.next()).await {
                    Err(_) => return Received::Timeout,
                    Ok(None) => Received::Closed(CloseKind::Closed),
                    Ok(Some(Ok(Message::Binary(b)))) => {
                        if b.is_empty() {
                            continue;
                        }
                        Received::Data(b)
                    }
                    Ok(Some(Ok(Message::Close(_)))) => Received::Closed(CloseKind::Closed),
                    Ok(Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_)))) => {
                        continue
                    }
                    Ok(Some(Ok(Message::Text(_)))) => Received::Closed(CloseKind::Broken(
                        "the server sent a text WebSocket frame; MQTT uses binary frames only \
                         (MQTT-6.0.0-1)"
                            .into(),
                    )),
                    Ok(Some(Err(e))) => Received::Closed(CloseKind::Broken(e.to_string())),
                },
            };
            if let Received::Closed(_) = r {
                self.inner = Inner::Closed;
            }
            return r;
        }
    }

    /// Closes the client's side (a TCP FIN, a TLS close or a WebSocket close frame), then reads
    /// until the server closes its side or `deadline` passes: once it has, the server has read
    /// everything sent before, and acted on it. Returns what arrived meanwhile, and whether the
    /// server's close was seen.
    pub async fn close_and_wait(&mut self, deadline: Instant) -> (Vec<Bytes>, bool) {
        let bound = deadline.min(Instant::now() + Duration::from_secs(1));
        let mut got = Vec::new();
        match &mut self.inner {
            Inner::Stream(io) => {
                let _ = timeout_at(bound, io.shutdown()).await;
            }
            Inner::Ws(ws) => {
                let _ = timeout_at(bound, ws.send(Message::Close(None))).await;
            }
            Inner::Closed => return (got, true),
        }
        loop {
            match self.recv(deadline).await {
                Received::Data(d) => got.push(d),
                Received::Closed(_) => return (got, true),
                Received::Timeout => {
                    self.inner = Inner::Closed;
                    return (got, false);
                }
            }
        }
    }

    /// Closes the connection without a DISCONNECT: a TCP FIN, a TLS close or a WebSocket close
    /// frame, as a client that goes away does. Bounded to one second.
    pub async fn close(&mut self) {
        let inner = std::mem::replace(&mut self.inner, Inner::Closed);
        let deadline = Instant::now() + Duration::from_secs(1);
        match inner {
            Inner::Stream(mut io) => {
                let _ = timeout_at(deadline, io.shutdown()).await;
            }
            Inner::Ws(mut ws) => {
                let _ = timeout_at(deadline, WebSocketStream::close(&mut *ws, None)).await;
            }
            Inner::Closed => {}
        }
    }
}
