//! # touchstone-conformance
//!
//! The MQTT conformance runner and tools behind the `touchstone` command.
//!
//! * [`cli`]: the command line (clap definitions and one module per subcommand).
//! * [`stream`]: decoding a whole byte stream into packets, with offsets counted from the start
//!   of the stream.
//! * [`json`]: the JSON forms the tools print and read besides the packets themselves (which
//!   serialize with their own serde derive).

pub mod cli;
pub mod json;
pub mod stream;
