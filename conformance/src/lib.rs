//! # touchstone-conformance
//!
//! The MQTT conformance runner and tools behind the `touchstone` command.
//!
//! * [`cli`]: the command line (clap definitions and one module per subcommand).
//! * [`stream`], [`json`]: decoding byte streams, and the JSON the tools print.
//! * The runner: [`target`] URLs, [`tls`], [`transport`] (TCP, TLS, WebSocket), the scripted
//!   [`client`] and its [`expect`] patterns, the [`case`] model and the [`context`] a case body
//!   scripts with, [`capabilities`], [`profile`]s, the [`runner`], [`outcome`]s, [`report`]s,
//!   the [`transcript`], and [`coverage`] against the embedded [`spec`] index.
//! * [`cases`]: the catalogue, one module per area.

pub mod capabilities;
pub mod case;
pub mod cases;
pub mod cli;
pub mod client;
pub mod context;
pub mod coverage;
pub mod embedded;
pub mod expect;
pub mod fuzz;
pub mod json;
pub mod outcome;
pub mod preflight;
pub mod profile;
pub mod redact;
pub mod report;
pub mod runner;
pub mod spec;
pub mod stream;
pub mod summary;
pub mod target;
pub mod tls;
pub mod transcript;
pub mod transport;
