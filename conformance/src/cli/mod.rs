//! The command line: clap definitions, exit status, and one module per subcommand.

pub mod broker;
pub mod coverage;
pub mod decode;
pub mod encode;
pub mod fuzz;
pub mod hexdump;
pub mod input;
pub mod list;
pub mod matrix;
pub mod mutate;
pub mod run;

use std::io::{self, IsTerminal, Read, Write};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use touchstone_codec::{Protocol, UnknownProtocol};

/// MQTT conformance and fuzz suite.
#[derive(Debug, Parser)]
#[command(
    name = "touchstone",
    version,
    about = "Touchstone: MQTT 3.1 / 3.1.1 / 5.0 conformance and fuzz suite"
)]
pub struct Cli {
    /// The subcommand.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Decode MQTT packets from hex and print each as one line of JSON.
    #[command(long_about = DECODE_ABOUT, after_long_help = DECODE_AFTER_HELP)]
    Decode(DecodeArgs),
    /// Encode MQTT packets from JSON (as `decode` prints them) into hex.
    #[command(long_about = ENCODE_ABOUT, after_long_help = ENCODE_AFTER_HELP)]
    Encode(EncodeArgs),
    /// Run the conformance cases against a broker.
    #[command(long_about = RUN_ABOUT, after_long_help = RUN_AFTER_HELP)]
    Run(Box<run::RunArgs>),
    /// List the conformance cases.
    List(list::ListArgs),
    /// Show which broker-wire statements of the specification the cases check.
    Coverage(coverage::CoverageArgs),
    /// Run the reference broker until interrupted.
    Broker(broker::BrokerArgs),
    /// Put JSON reports of several brokers side by side: a Markdown table and an HTML page.
    #[command(after_long_help = matrix::MATRIX_AFTER_HELP)]
    Matrix(matrix::MatrixArgs),
    /// Fuzz a live broker with mutated packet sequences; save minimal reproducers.
    #[command(long_about = FUZZ_ABOUT, after_long_help = FUZZ_AFTER_HELP)]
    Fuzz(Box<fuzz::FuzzArgs>),
    /// Replay findings saved by `touchstone fuzz` (exit 1 if any still reproduces).
    Replay(Box<fuzz::ReplayArgs>),
    /// Score the catalogue by mutants of the reference broker: how many broken brokers it
    /// notices.
    #[command(after_long_help = mutate::MUTATE_AFTER_HELP)]
    Mutate(Box<mutate::MutateArgs>),
    /// Print shell completions (bash, zsh, fish, elvish, powershell) to standard output.
    #[command(
        after_long_help = "Example:\n  touchstone completions bash > ~/.local/share/bash-completion/completions/touchstone"
    )]
    Completions(CompletionsArgs),
}

/// Arguments of `touchstone completions`.
#[derive(Debug, Clone, Args)]
pub struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

const FUZZ_ABOUT: &str = "Fuzz a live broker: semantic scenarios judged against the reference \
        model, and mutated packet sequences.\n\n\
        By default both run, each for half of --duration (--semantic or --packets: one only).\n\n\
        Semantic: random valid scenarios of three clients (sessions and their expiry, \
        subscriptions with wildcards, options and shared groups, QoS 0-2 with retain and \
        properties, wills, take-overs, reconnects) run against the target and, in lockstep, \
        against the reference broker's core; what each client receives is compared up to what \
        the specification leaves open (docs/semantic-fuzzing.md). --parallel scenarios run at a \
        time, each with its own client ids and topics.\n\n\
        Packets: each burst connects one to three clients, sends real packets of the chosen \
        version (CONNECT, SUBSCRIBE, PUBLISH QoS 0-2, acks, UNSUBSCRIBE, PINGREQ, DISCONNECT, \
        AUTH) with field-level mutations (flag bits, lengths, properties, boundary values, bad \
        UTF-8, wildcards, wrong state, truncation), probes each connection with a PINGREQ and \
        checks the replies; then a fresh client must complete a QoS 1 round trip.\n\n\
        Scenarios and bursts follow from (seed, index): --seed reproduces a run.";

const FUZZ_AFTER_HELP: &str = "\
Semantic oracle:
  divergence                 what a client received differs from what the reference model
                             delivered, beyond the specification's freedoms (QoS 0 loss,
                             extra copies for overlapping subscriptions, a lower granted QoS,
                             which member of a share group, ...): cites the statements broken

Packet oracles:
  liveness                   after a burst, a fresh client cannot connect and round-trip QoS 1
  hang                       a reaction is owed (PINGRESP, or a close after a violation) and
                             none comes before --deadline
  invalid-packet             the server sends bytes the strict codec rejects
  continued-after-violation  after a malformed packet or protocol error the server answers a
                             later packet, or acknowledges the bad one with success
                             (3.1.1 MQTT-4.8.0-1, 5.0 MQTT-4.13.1-1)
  ordering                   CONNACK not first (MQTT-3.2.0-1), a second CONNACK (5.0
                             MQTT-3.2.0-2), DISCONNECT before CONNACK (5.0 MQTT-3.14.0-1)

Findings are shrunk and saved as JSON replay files in --findings; replay one with
`touchstone replay FILE [--target URL]`. --known FILE|DIR: findings citing the same statements
as a known replay file (e.g. regressions/mosquitto) are counted but do not fail the run.

Exit status:
  0  no findings
  1  findings (each saved as a replay file)
  2  usage error
  3  the target could not be tested: it cannot do a QoS 1 round trip before fuzzing, or no
     semantic scenario could use it

Examples:
  touchstone fuzz --duration 30s
  touchstone fuzz --semantic --duration 5m --parallel 16
  touchstone fuzz --target mqtt://127.0.0.1:1883 --protocol 5 --seed 42 --duration 2m
  touchstone replay target/fuzz-findings/hang-5-42-17.json --target mqtt://127.0.0.1:1883";

const RUN_ABOUT: &str = "Run the conformance cases against a broker.\n\n\
        Each case scripts one or more clients against the target and checks what the \
        specification fixes, citing the normative statements it checks. Cases run concurrently, \
        each under a deadline, with client ids and topics unique to the run; retained messages \
        and sessions a case leaves are cleaned up after it.";

const RUN_AFTER_HELP: &str = "\
Outcomes:
  pass, fail (expected vs got, with the transcript), skip (the target lacks a capability the
  case needs), error (the target hung or closed on the case, a case bug), expected_fail (the
  profile lists the failure as a known deviation), unexpected_pass (listed, but passed),
  flaky (with --repeat: the verdict changed between runs), not_run (the run was interrupted
  or the target stopped answering).

Without --target, the embedded reference broker is the target.

Exit status:
  0    conformant: nothing failed or errored, no unexpected pass (expected failures are fine)
  1    non-conformance: a case failed, errored, passed unexpectedly, or was flaky
  2    usage or configuration error: a bad flag, --target, profile or output path
  3    the target could not be tested: unreachable, credentials refused, not an MQTT port,
       a --protocol it does not speak, or it stopped answering mid-run (partial report)
  130  interrupted (Ctrl-C, SIGTERM): the finished cases are reported

Credentials:
  --username / --password, or TOUCHSTONE_USERNAME / TOUCHSTONE_PASSWORD. They are never
  written to a report: passwords and authentication data are masked in every transcript.

Examples:
  touchstone run --target mqtt://127.0.0.1:1883
  touchstone run --target mqtt://127.0.0.1:1883 --protocol 5 --filter 'retain.*'
  touchstone run --target mqtts://broker:8883 --ca-file ca.pem --junit report.xml --json report.json
  touchstone run --target mqtt://127.0.0.1:1883 --repeat 10 --quiet
  touchstone run --target ws://127.0.0.1:8080/mqtt --profile profiles/mosquitto.toml";

/// The protocol version option shared by the subcommands.
#[derive(Debug, Clone, Args)]
pub struct ProtocolArg {
    /// MQTT protocol version: 3.1, 3.1.1 or 5 (also accepted: 3, 31, 311, 4, 5.0, 50).
    #[arg(short, long, value_name = "VERSION", value_parser = parse_protocol)]
    pub protocol: Protocol,
}

/// Arguments of `touchstone decode`.
#[derive(Debug, Clone, Args)]
pub struct DecodeArgs {
    /// MQTT protocol version: 3.1, 3.1.1 or 5 (also 3, 31, 311, 4, 5.0, 50). Default: the
    /// version of the CONNECT the input starts with.
    #[arg(short, long, value_name = "VERSION", value_parser = parse_protocol)]
    pub protocol: Option<Protocol>,

    /// Output: json (one object per packet, for scripts and `encode`), dissect (every field
    /// with its byte offset, flags and reason codes named, as a protocol analyser shows it), or
    /// auto: dissect on a terminal, json otherwise.
    #[arg(long, value_enum, default_value = "auto")]
    pub format: DecodeFormat,

    /// Show passwords and authentication data in the dissection (hidden by default).
    #[arg(long)]
    pub show_secrets: bool,

    /// Reject packets larger than BYTES (fixed header included) as packet_too_large.
    #[arg(long, value_name = "BYTES")]
    pub max_packet_size: Option<usize>,

    /// Pretty-print each JSON object over several lines (the output is then a sequence of
    /// objects, still readable by `touchstone encode`).
    #[arg(long)]
    pub pretty: bool,

    /// Read raw bytes, not hex, from standard input (or from a FILE argument).
    #[arg(long)]
    pub binary: bool,

    /// Packet bytes in hex, or a hex dump (xxd, hexdump -C, Wireshark's "Copy as Hex Dump"),
    /// or a FILE holding either (or raw bytes); `-` or none: read standard input.
    #[arg(value_name = "HEX|FILE")]
    pub hex: Vec<String>,
}

/// How `touchstone decode` prints packets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DecodeFormat {
    /// Dissect on a terminal, JSON otherwise.
    Auto,
    /// One JSON object per packet.
    Json,
    /// Every field with its offset, as a protocol analyser shows it.
    Dissect,
}

const DECODE_ABOUT: &str =
    "Decode MQTT packets: a field-by-field dissection, or one line of JSON each.\n\n\
        The bytes come from the HEX arguments (several are concatenated, each may start with \
        0x), from a FILE argument (hex, a hex dump, or raw bytes), or from standard input when \
        there is none or it is `-`. ASCII whitespace is ignored in hex; hex dumps of xxd, \
        hexdump -C and Wireshark (\"Copy as Hex Dump\") are read with their offsets and \
        without their ASCII column, or refused with the line at fault. The bytes are decoded \
        as one stream: concatenated packets give one entry each.";

const DECODE_AFTER_HELP: &str = "\
Output (--format dissect, the default on a terminal):
  For each packet: its offset, type, length and the strict verdict (valid, or the rule it
  breaks with the statements), then every field: offset, length, bytes, name and value
  (flags spelled out, reason codes named: 0x87 Not authorized). Passwords and authentication
  data are hidden unless --show-secrets. An invalid packet is dissected as far as its bytes
  go, and the next one follows.

Output (--format json, the default when piped):
  One JSON object per line for each packet, with a \"type\" field (CONNECT, PUBLISH, ...) and
  every field of the packet; binary fields (payload, password, correlation data, ...) are hex
  strings. If the input does not end with a valid packet, the last line is
    {\"error\": {\"kind\": K, \"reason_code\": N, \"statements\": [{\"version\": V, \"id\": ID}],
                \"offset\": O, \"packet_offset\": P, \"message\": M}}
  K: malformed, protocol_error, packet_too_large, unsupported_protocol, or incomplete (the input
  ends inside a packet). N: the 5.0 reason code to answer with (129, 130, 149, 132), null for
  incomplete. V: \"3.1.1\" or \"5.0\". O: offset of the offending byte from the start of the whole
  input (for incomplete: the input's length); P: offset of the failing packet's first byte.

Exit status:
  0  the input is a sequence of valid packets (an empty input is an empty sequence: no output)
  1  it is not: the last line of output is the error object
  2  usage error (bad hex or dump, unknown --protocol, no CONNECT to tell the version by, ...)
     or I/O error; a message on stderr

Examples:
  touchstone decode '100c 0004 4d515454 04 02 003c 0000'     (3.1.1, from its CONNECT)
  touchstone decode -p 5 --format dissect 'c000 e0020000'
  xxd capture.bin | touchstone decode -p 5
  hexdump -C capture.bin | touchstone decode -p 5 --format dissect
  touchstone decode -p 5 capture.bin                          (raw bytes or hex in a file)
  touchstone decode -p 5 --binary < capture.bin";

/// Arguments of `touchstone encode`.
#[derive(Debug, Clone, Args)]
pub struct EncodeArgs {
    /// The protocol version.
    #[command(flatten)]
    pub protocol: ProtocolArg,

    /// Do not check the packets: write invalid values as they are (fields that do not exist in
    /// the version, such as 5.0 properties for 3.1.1, are left out).
    #[arg(long)]
    pub unchecked: bool,

    /// Write the raw bytes to standard output instead of hex.
    #[arg(long)]
    pub binary: bool,

    /// Packets as JSON; `-` or none: read standard input.
    #[arg(value_name = "JSON")]
    pub json: Vec<String>,
}

const ENCODE_ABOUT: &str = "Encode MQTT packets from JSON (as `decode` prints them) into hex.\n\n\
        The JSON comes from the JSON arguments, or from standard input when there is none or \
        it is `-`. It may hold one packet object, several (one per line, or just \
        concatenated), or arrays of packet objects. Each packet is checked for the protocol \
        version, as the decoder would check it, and the hex of the whole stream is printed on \
        one line (lower case, no separators), so that `touchstone decode` reads it back.";

const ENCODE_AFTER_HELP: &str = "\
Input:
  Packet objects as `touchstone decode` prints them: a \"type\" field (CONNECT, CONNACK, PUBLISH,
  PUBACK, PUBREC, PUBREL, PUBCOMP, SUBSCRIBE, SUBACK, UNSUBSCRIBE, UNSUBACK, PINGREQ, PINGRESP,
  DISCONNECT, AUTH) and the packet's fields; fields with a default may be left out; binary fields
  are hex strings. Unknown fields are errors. An {\"error\": ...} object from `decode` is not a
  packet and is refused.

Exit status:
  0  every packet was encoded; the hex is on stdout (an empty input gives an empty line)
  1  invalid JSON, or a packet that cannot be encoded for the version: a message on stderr names
     each such object by its index (counting from 0) and the statements it would violate;
     nothing is written to stdout
  2  usage or I/O error

Examples:
  touchstone encode -p 5 '{\"type\":\"PUBLISH\",\"topic\":\"a/b\",\"payload\":\"6869\"}'
  touchstone encode -p 3.1.1 '[{\"type\":\"PINGREQ\"},{\"type\":\"DISCONNECT\"}]'
  touchstone decode -p 5 \"$(touchstone encode -p 5 '{\"type\":\"PINGREQ\"}')\"
  touchstone encode -p 5 --unchecked '{\"type\":\"PUBLISH\",\"topic\":\"a/+\"}'";

/// Parses a protocol version as users write it (`3.1`, `3.1.1`, `5`, ...).
pub fn parse_protocol(s: &str) -> Result<Protocol, UnknownProtocol> {
    s.parse()
}

/// How a subcommand ended; its exit status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Exit 0: done, and every input was valid.
    Success = 0,
    /// Exit 1: the input holds invalid packets, or packets that cannot be encoded.
    Invalid = 1,
    /// Exit 2: usage error or I/O error.
    Failure = 2,
    /// Exit 3 (`run`): the target could not be tested.
    Unavailable = 3,
    /// Exit 130 (`run`): interrupted; a partial report was written.
    Interrupted = 130,
}

impl From<crate::run::runner::RunStatus> for Status {
    fn from(s: crate::run::runner::RunStatus) -> Self {
        use crate::run::runner::RunStatus;
        match s {
            RunStatus::Conformant => Status::Success,
            RunStatus::NonConformant => Status::Invalid,
            RunStatus::TargetUnavailable => Status::Unavailable,
            RunStatus::Interrupted => Status::Interrupted,
        }
    }
}

impl From<Status> for ExitCode {
    fn from(s: Status) -> Self {
        ExitCode::from(s as u8)
    }
}

/// The standard streams a subcommand uses (real ones, or buffers in tests).
pub struct Io<'a> {
    /// Standard input.
    pub stdin: &'a mut dyn Read,
    /// True if standard input is a terminal (a hint is then printed before reading it).
    pub stdin_is_terminal: bool,
    /// True if standard output is a terminal (`decode` then dissects by default).
    pub stdout_is_terminal: bool,
    /// Standard output.
    pub stdout: &'a mut dyn Write,
    /// Standard error.
    pub stderr: &'a mut dyn Write,
}

/// Runs the command with the process's standard streams.
pub fn run(cli: Cli) -> ExitCode {
    let stdin = io::stdin();
    let stdin_is_terminal = stdin.is_terminal();
    let stdout_is_terminal = io::stdout().is_terminal();
    let mut stdin = stdin.lock();
    let mut stdout = io::BufWriter::new(io::stdout().lock());
    // Not locked for the whole command: the live progress view writes to standard error from
    // its own thread.
    let mut stderr = io::stderr();
    let mut io = Io {
        stdin: &mut stdin,
        stdin_is_terminal,
        stdout_is_terminal,
        stdout: &mut stdout,
        stderr: &mut stderr,
    };
    run_with(&cli, &mut io).into()
}

/// Runs the command with the given streams.
pub fn run_with(cli: &Cli, io: &mut Io<'_>) -> Status {
    let status = match &cli.command {
        Command::Decode(args) => decode::run(args, io),
        Command::Encode(args) => encode::run(args, io),
        Command::Run(args) => run::run(args, io),
        Command::List(args) => list::run(args, io),
        Command::Coverage(args) => coverage::run(args, io),
        Command::Broker(args) => broker::run(args, io),
        Command::Matrix(args) => matrix::run(args, io),
        Command::Fuzz(args) => fuzz::run(args, io),
        Command::Replay(args) => fuzz::replay(args, io),
        Command::Mutate(args) => mutate::run(args, io),
        Command::Completions(args) => {
            use clap::CommandFactory;
            // Into memory first: clap_complete panics on a failed write (a closed pipe).
            let mut script = Vec::new();
            clap_complete::generate(args.shell, &mut Cli::command(), "touchstone", &mut script);
            match io.stdout.write_all(&script) {
                Ok(()) => Status::Success,
                Err(e) => output_error(io, &e, Status::Success),
            }
        }
    };
    match io.stdout.flush() {
        Ok(()) => status,
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => status,
        Err(e) => fail(io, format_args!("cannot write to standard output: {e}")),
    }
}

/// Prints `error: {message}` on standard error and returns [`Status::Failure`].
pub(crate) fn fail(io: &mut Io<'_>, message: std::fmt::Arguments<'_>) -> Status {
    let _ = writeln!(io.stderr, "error: {message}");
    Status::Failure
}

/// What to do after a write to standard output failed: a closed pipe (`| head`) ends the
/// command quietly with `status`; any other error is a failure.
pub(crate) fn output_error(io: &mut Io<'_>, e: &io::Error, status: Status) -> Status {
    if e.kind() == io::ErrorKind::BrokenPipe {
        status
    } else {
        fail(io, format_args!("cannot write to standard output: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn clap_definitions_are_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn protocol_spellings() {
        assert_eq!(parse_protocol("3.1.1"), Ok(Protocol::V3_1_1));
        assert_eq!(parse_protocol("5"), Ok(Protocol::V5));
        assert!(parse_protocol("6").is_err());
    }
}
