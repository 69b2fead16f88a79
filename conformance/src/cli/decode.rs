//! `touchstone decode`: packets from hex, a hex dump, a file or raw bytes, printed as JSON (one
//! object per packet) or dissected field by field as a protocol analyser shows them.

use std::fmt::Write as _;

use serde::Serialize;
use touchstone_codec::{decode_slice, dissect, peek_protocol, Decoder, Protocol};

use super::input::{hex_input, read_sources, read_stdin, wants_stdin, InputError, Origin, Source};
use super::{fail, hexdump, output_error, DecodeArgs, DecodeFormat, Io, Status};
use crate::net::stream::PacketStream;
use crate::report::forms::ErrorLine;

/// Runs `touchstone decode`.
pub fn run(args: &DecodeArgs, io: &mut Io<'_>) -> Status {
    let bytes = match input(args, io) {
        Ok(b) => b,
        Err(e) => return fail(io, format_args!("{e}")),
    };
    let protocol = match args.protocol {
        Some(p) => p,
        None if bytes.is_empty() => Protocol::V5,
        None => match peek_protocol(&bytes) {
            Ok(Some(p)) => p,
            _ => {
                return fail(
                    io,
                    format_args!(
                        "the input does not start with a CONNECT that names its version: give --protocol (3.1, 3.1.1 or 5)"
                    ),
                )
            }
        },
    };
    let dissect = match args.format {
        DecodeFormat::Dissect => true,
        DecodeFormat::Json => false,
        DecodeFormat::Auto => io.stdout_is_terminal,
    };
    if dissect {
        return dissection(args, io, protocol, &bytes);
    }
    let mut decoder = Decoder::new(protocol);
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

/// The input bytes: raw with --binary (standard input or a file), else hex or a hex dump from
/// the arguments, files or standard input; a file that is not text is raw bytes.
fn input(args: &DecodeArgs, io: &mut Io<'_>) -> Result<Vec<u8>, InputError> {
    let files: Vec<&String> = args
        .hex
        .iter()
        .filter(|a| *a != "-" && std::path::Path::new(a).is_file())
        .collect();
    if args.binary && !wants_stdin(&args.hex) && files.len() != args.hex.len() {
        return Err(InputError(
            "--binary reads standard input or FILE arguments: give no HEX argument".into(),
        ));
    }
    if args.binary && wants_stdin(&args.hex) {
        return read_stdin(io, "packet bytes");
    }
    let mut sources = Vec::new();
    let mut raw = Vec::new();
    if files.is_empty() {
        sources = read_sources(&args.hex, io, "hex", " (for raw bytes, use --binary)")?;
    } else {
        for (i, arg) in args.hex.iter().enumerate() {
            let origin = if args.hex.len() == 1 {
                Origin::Argument
            } else {
                Origin::NthArgument(i + 1)
            };
            if !files.contains(&arg) {
                sources.push(Source {
                    origin,
                    text: arg.clone(),
                });
                continue;
            }
            let bytes =
                std::fs::read(arg).map_err(|e| InputError(format!("cannot read {arg}: {e}")))?;
            let text = std::str::from_utf8(&bytes).ok().filter(|t| {
                t.bytes()
                    .all(|b| b.is_ascii_graphic() || b.is_ascii_whitespace())
            });
            match text {
                Some(t) if !args.binary => sources.push(Source {
                    origin: Origin::File(i + 1),
                    text: t.to_string(),
                }),
                _ => raw.push((sources.len(), bytes)),
            }
        }
    }
    let mut out = Vec::new();
    let mut raw = raw.into_iter().peekable();
    for (i, s) in sources.iter().enumerate() {
        while let Some((_, b)) = raw.next_if(|(at, _)| *at == i) {
            out.extend(b);
        }
        match hexdump::read(&s.text) {
            Some(Ok(b)) => out.extend(b),
            Some(Err(e)) => {
                return Err(InputError(format!(
                    "{} looks like a hex dump (it starts with offset 0), but cannot be read as one: {e}",
                    s.origin
                )))
            }
            None => out.extend(hex_input(std::slice::from_ref(s))?),
        }
    }
    for (_, b) in raw {
        out.extend(b);
    }
    Ok(out)
}

/// The dissection of every packet of the stream.
fn dissection(args: &DecodeArgs, io: &mut Io<'_>, protocol: Protocol, bytes: &[u8]) -> Status {
    let mut status = Status::Success;
    let mut at = 0;
    let mut n = 0;
    let mut out = String::new();
    while at < bytes.len() {
        n += 1;
        let rest = &bytes[at..];
        let d = dissect(protocol, rest);
        let verdict = match decode_slice(protocol, rest) {
            Ok((_, len)) if len == d.len => format!("valid MQTT {protocol}"),
            Ok((_, len)) => format!("valid MQTT {protocol} ({len} bytes)"),
            Err(e) => {
                status = Status::Invalid;
                let cites: Vec<String> = e.statements.iter().map(|s| s.to_string()).collect();
                format!(
                    "INVALID: {} at byte {}{}",
                    e.message,
                    at + e.offset,
                    if cites.is_empty() {
                        String::new()
                    } else {
                        format!(" [{}]", cites.join(", "))
                    }
                )
            }
        };
        let _ = writeln!(
            out,
            "packet {n} at byte {at}: {}, {} bytes — {verdict}",
            d.packet_type.map(|t| t.name()).unwrap_or("(reserved type)"),
            d.len
        );
        let _ = writeln!(
            out,
            "  {:>6} {:>5}  {:<24} {:<34} value",
            "offset", "len", "bytes", "field"
        );
        for f in &d.fields {
            let shown = &rest[f.offset..f.offset + f.len];
            let mut hex: Vec<String> = shown.iter().take(8).map(|b| format!("{b:02x}")).collect();
            if shown.len() > 8 {
                hex.push("…".into());
            }
            let value = match &f.secret {
                Some(s) if !args.show_secrets => {
                    // The field's own bytes are shown but for the secret ones.
                    hex = shown
                        .iter()
                        .enumerate()
                        .take(8)
                        .map(|(i, b)| {
                            if f.offset + i >= s.start {
                                "**".to_string()
                            } else {
                                format!("{b:02x}")
                            }
                        })
                        .collect();
                    if shown.len() > 8 {
                        hex.push("…".into());
                    }
                    format!("<{} bytes, hidden: --show-secrets>", s.end - s.start)
                }
                _ => f.value.clone(),
            };
            let _ = writeln!(
                out,
                "  {:>6} {:>5}  {:<24} {:<34} {value}",
                at + f.offset,
                f.len,
                hex.join(" "),
                format!("{}{}", "  ".repeat(f.depth), f.name)
            );
        }
        if let Some(p) = &d.problem {
            let _ = writeln!(out, "  stopped: {p}");
        }
        if d.len == 0 {
            break;
        }
        at += d.len;
    }
    if let Err(e) = io.stdout.write_all(out.as_bytes()) {
        return output_error(io, &e, status);
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
            stdout_is_terminal: false,
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
    fn dissection_names_fields_offsets_flags_and_reason_codes() {
        let (status, out, _) = run_cli(
            &[
                "decode",
                "-p",
                "5",
                "--format",
                "dissect",
                "2003008700 e0028e00",
            ],
            "",
        );
        assert_eq!(status, Status::Success, "{out}");
        assert!(
            out.contains("packet 1 at byte 0: CONNACK, 5 bytes — valid MQTT 5"),
            "{out}"
        );
        assert!(
            out.contains("       3     1  87                       Reason Code                        0x87 Not authorized"),
            "{out}"
        );
        assert!(out.contains("packet 2 at byte 5: DISCONNECT"), "{out}");
        assert!(out.contains("0x8E Session taken over"), "{out}");
    }

    #[test]
    fn dissection_goes_on_after_an_invalid_packet_and_hides_secrets() {
        let connect = "101c 0004 4d515454 04 c2 003c 0001 63 0005 616c696365 0006 733363726574";
        let input = format!("{connect} 6002 0001 c000");
        let (status, out, _) = run_cli(&["decode", "--format", "dissect", &input], "");
        assert_eq!(status, Status::Invalid);
        assert!(out.contains("INVALID: PUBREL fixed-header flags"), "{out}");
        assert!(out.contains("[3.1.1 MQTT-2.2.2-1"), "{out}");
        assert!(out.contains("packet 3 at byte 34: PINGREQ"), "{out}");
        assert!(out.contains("<6 bytes, hidden: --show-secrets>"), "{out}");
        assert!(!out.contains("73 33 63"), "{out}");
        let (_, out, _) = run_cli(
            &["decode", "--format", "dissect", "--show-secrets", connect],
            "",
        );
        assert!(out.contains("733363726574"), "{out}");
    }

    #[test]
    fn the_version_comes_from_the_connect_or_must_be_given() {
        let (status, out, _) = run_cli(&["decode", "100c00044d5154540402003c0000"], "");
        assert_eq!(status, Status::Success);
        assert!(out.contains("\"type\":\"CONNECT\""), "{out}");
        let (status, _, err) = run_cli(&["decode", "c000"], "");
        assert_eq!(status, Status::Failure);
        assert!(err.contains("give --protocol"), "{err}");
    }

    #[test]
    fn hex_dumps_and_files() {
        let pings = "{\"type\":\"PINGREQ\"}\n{\"type\":\"PINGRESP\"}\n";
        for dump in [
            "00000000: c000 d000                                ....\n",
            "00000000  c0 00 d0 00                                       |....|\n00000004\n",
            "0000   c0 00 d0 00                                       ....\n",
        ] {
            let (status, out, err) = run_cli(&["decode", "-p", "5"], dump);
            assert_eq!(
                (status, out.as_str()),
                (Status::Success, pings),
                "{dump}: {err}"
            );
        }
        let (status, _, err) =
            run_cli(&["decode", "-p", "5"], "00000000  c0 00\n00000010  d0 00\n");
        assert_eq!(status, Status::Failure);
        assert!(err.contains("looks like a hex dump"), "{err}");
        let dir = std::env::temp_dir().join(format!("touchstone-decode-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (text, raw) = (dir.join("hex.txt"), dir.join("cap.bin"));
        std::fs::write(&text, "c000\nd000\n").unwrap();
        std::fs::write(&raw, [0xc0, 0x00, 0xd0, 0x00]).unwrap();
        for f in [&text, &raw] {
            let (status, out, err) = run_cli(&["decode", "-p", "5", f.to_str().unwrap()], "");
            assert_eq!(
                (status, out.as_str()),
                (Status::Success, pings),
                "{}: {err}",
                f.display()
            );
        }
        let _ = std::fs::remove_dir_all(&dir);
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
