//! The network layer: target URLs, TLS, the transports (TCP, TLS, WebSocket) and the framer
//! that turns received bytes into packets through the codec's streaming decoder.

pub mod framer;
pub mod target;
pub mod tls;
pub mod transport;
