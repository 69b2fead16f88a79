//! `touchstone decode`: hex in, one JSON object per packet out.

use serde::Serialize;
use touchstone_codec::Decoder;

use super::input::{hex_input, read_sources, read_stdin, wants_stdin};
use super::{fail, output_error, DecodeArgs, Io, Status};
use crate::json::ErrorLine;
use crate::stream::PacketStream;

/// Runs `touchstone decode`.
pub fn run(args: &DecodeArgs, io: &mut Io<'_>) -> Status {
    let bytes = if args.binary {
        if !wants_stdin(&args.hex) {
            return fail(
                io,
                format_args!("--binary reads standard input: give no HEX argument"),
            );
        }
        read_stdin(io, "packet bytes")
    } else {
        read_sources(&args.hex, io, "hex", " (for raw bytes, use --binary)")
            .and_then(|sources| hex_input(&sources))
    };
    let bytes = match bytes {
        Ok(b) => b,
        Err(e) => return fail(io, format_args!("{e}")),
    };

    let mut decoder = Decoder::new(args.protocol.protocol);
    if let Some(max) = args.max_packet_size {
        decoder = decoder.with_max_packet_size(max);
    }
    let mut status = Status::Success;
    for item in PacketStream::new(decoder, &bytes) {
        let written = match item {
            Ok(decoded) => write_json(io, &decoded.packet, args.pretty),
            Err(e) => {
                status = Status::Invalid;
                write_json(io, &ErrorLine::from(&e), args.pretty)
            }
        };
        if let Err(e) = written {
            return output_error(io, &e, status);
        }
    }
    status
}

/// Writes `value` as JSON and a newline.
fn write_json<T: Serialize>(io: &mut Io<'_>, value: &T, pretty: bool) -> std::io::Result<()> {
    let result = if pretty {
        serde_json::to_writer_pretty(&mut *io.stdout, value)
    } else {
        serde_json::to_writer(&mut *io.stdout, value)
    };
    result.map_err(std::io::Error::from)?;
    io.stdout.write_all(b"\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Cli, Command};
    use clap::Parser;

    /// Runs `touchstone args...` with `stdin`; returns (status, stdout, stderr).
    fn run_cli(args: &[&str], stdin: &str) -> (Status, String, String) {
        let cli =
            Cli::try_parse_from(std::iter::once("touchstone").chain(args.iter().copied())).unwrap();
        let Command::Decode(args) = &cli.command else {
            panic!("not decode")
        };
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let mut stdin = stdin.as_bytes();
        let mut io = Io {
            stdin: &mut stdin,
            stdin_is_terminal: false,
            stdout: &mut out,
            stderr: &mut err,
        };
        let status = run(args, &mut io);
        (
            status,
            String::from_utf8(out).unwrap(),
            String::from_utf8(err).unwrap(),
        )
    }

    #[test]
    fn decodes_a_stream() {
        let (status, out, _) = run_cli(&["decode", "-p", "5", "c000 d000"], "");
        assert_eq!(status, Status::Success);
        assert_eq!(out, "{\"type\":\"PINGREQ\"}\n{\"type\":\"PINGRESP\"}\n");
    }

    #[test]
    fn empty_input_is_an_empty_stream() {
        let (status, out, err) = run_cli(&["decode", "-p", "5"], " \n");
        assert_eq!(
            (status, out.as_str(), err.as_str()),
            (Status::Success, "", "")
        );
    }

    #[test]
    fn too_large() {
        let (status, out, _) = run_cli(
            &[
                "decode",
                "-p",
                "5",
                "--max-packet-size",
                "4",
                "c000 300300016100",
            ],
            "",
        );
        assert_eq!(status, Status::Invalid);
        let last = out.lines().last().unwrap();
        let e: ErrorLine = serde_json::from_str(last).unwrap();
        assert_eq!(e.error.kind, "packet_too_large");
        assert_eq!(e.error.reason_code, Some(0x95));
        assert_eq!((e.error.offset, e.error.packet_offset), (2, 2));
    }

    #[test]
    fn binary_input() {
        let (status, out, _) = run_cli(&["decode", "-p", "3.1.1", "--binary"], "\u{c0}");
        // The UTF-8 of U+00C0 is c3 80: a PINGREQ with flags 0011, which is malformed.
        assert_eq!(status, Status::Invalid);
        assert!(out.contains("\"malformed\""));
        let (status, _, err) = run_cli(&["decode", "-p", "5", "--binary", "c000"], "");
        assert_eq!(status, Status::Failure);
        assert!(err.contains("--binary"));
    }
}
