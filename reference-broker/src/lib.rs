//! # touchstone-broker
//!
//! The reference MQTT broker of Touchstone (3.1, 3.1.1 and 5.0): where the specification says
//! MUST, it does; where it leaves a choice, the choice is written down in the crate's README.
//!
//! * [`core`]: a deterministic, sans-IO state machine. Input: connection events (opened, bytes
//!   received, closed) and clock ticks, each stamped with the time in milliseconds; output:
//!   [`core::Action`]s (bytes to send, connections to close) and the next timer deadline. It
//!   has no sockets, no clock and no threads, so it is unit-tested with injected time and
//!   fuzzed.
//! * [`server`]: a thin tokio shell around the core with TCP, TLS (rustls) and WebSocket
//!   (subprotocol `mqtt`) listeners, a TOML configuration file and graceful shutdown.
//! * [`auth`]: the password file, topic ACLs and SCRAM-SHA-256 enhanced authentication.
//! * [`Config`] holds every limit and optional feature, and [`Faults`] the test-only switches
//!   that make the broker break chosen rules on purpose.
//!
//! ```
//! use touchstone_broker::core::{Action, Broker, ConnectionId, Event};
//! use touchstone_broker::Config;
//! use touchstone_codec::{Connect, Packet, Protocol};
//!
//! let mut broker = Broker::new(Config::default());
//! let conn = ConnectionId(1);
//! broker.handle(0, Event::Opened { conn, peer: None });
//! let connect = Packet::Connect(Box::new(Connect { client_id: "a".into(), clean_start: true, ..Default::default() }));
//! let bytes = connect.to_bytes(Protocol::V5).unwrap();
//! broker.handle(0, Event::Received { conn, data: &bytes });
//! let Some(Action::Send { bytes, .. }) = broker.poll_action() else { panic!() };
//! assert_eq!(bytes[0], 0x20); // CONNACK
//! ```

pub mod auth;
mod config;
pub mod core;
mod faults;
#[cfg(any(test, feature = "fuzzing"))]
pub mod fuzzing;
mod fxhash;
#[cfg(feature = "server")]
pub mod server;

pub use config::{AclRule, Config, ConfigError};
pub use faults::Faults;
