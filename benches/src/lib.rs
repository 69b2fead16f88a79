//! Touchstone's benchmarks: byte streams, peer codecs and a strictness catalogue.
//!
//! - [`streams`]: deterministic, hand-encoded MQTT 3.1.1 and 5.0 byte streams;
//! - [`peers`]: the peer codecs (rumqttc's mqttbytes, ntex-mqtt, mqttrs) driven as streaming
//!   decoders;
//! - [`touchstone`]: Touchstone's codec driven the same ways (owned and borrowed);
//! - [`malformed`]: a catalogue of malformed MQTT 3.1.1 packets, each breaking one rule.
//!
//! The criterion benchmark is `benches/decode.rs`; `benches/broker.rs` measures the reference
//! broker's message throughput against Mosquitto's; the strictness table is the `strictness`
//! binary.

pub mod malformed;
pub mod peers;
pub mod streams;
pub mod touchstone;
