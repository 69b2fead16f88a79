//! The network layer: target URLs, TLS, the transports (TCP, TLS, WebSocket), and reading
//! packets: [`reader`] from a transport, [`stream`] from a whole byte stream, both through the
//! codec's `Framer`, the one place where received bytes become packets.

pub mod reader;
pub mod stream;
pub mod target;
pub mod tls;
pub mod transport;
