//! # touchstone-conformance
//!
//! The MQTT conformance runner and tools behind the `touchstone` command. The folders are the
//! layers; each may import those listed before it (`ARCHITECTURE.md` has the whole map):
//!
//! * [`spec`]: the embedded index of normative statements, and coverage against it.
//! * [`net`]: target URLs, TLS, the transports (TCP, TLS, WebSocket) and the one framer that
//!   turns received bytes into packets.
//! * [`harness`]: what a case is written with: the scripted [`harness::client`], expectations,
//!   the transcript (secrets masked), the case model, capabilities and the per-case context.
//! * [`cases`]: the catalogue, one module per area.
//! * [`run`]: preflight, discovery, profiles, the runner and outcomes.
//! * [`report`]: the terminal, JSON, JUnit and Markdown reports, and the matrix of several runs.
//! * [`fuzz`]: live fuzzing, packet bursts and semantic scenarios.
//! * [`cli`]: the command line (clap definitions and one module per subcommand).

pub mod cases;
pub mod cli;
pub mod fuzz;
pub mod harness;
pub mod mutate;
pub mod net;
pub mod report;
pub mod run;
pub mod spec;
