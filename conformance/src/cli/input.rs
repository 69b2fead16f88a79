//! Reading the input of a subcommand: text from the arguments or from standard input, and hex.

use std::fmt;

use touchstone_codec::hex::{self, HexError};

use super::Io;

/// Where a piece of input text came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// The only positional argument.
    Argument,
    /// Positional argument `n` (counting from 1) of several.
    NthArgument(usize),
    /// Standard input.
    Stdin,
    /// The file named by positional argument `n` (counting from 1).
    File(usize),
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Argument => f.write_str("the argument"),
            Origin::NthArgument(n) => write!(f, "argument {n}"),
            Origin::Stdin => f.write_str("standard input"),
            Origin::File(n) => write!(f, "the file of argument {n}"),
        }
    }
}

/// A piece of input text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    /// Where it came from.
    pub origin: Origin,
    /// The text.
    pub text: String,
}

impl Source {
    /// Describes the place of character number `char_pos` (counting from 0): `line 2, column 5
    /// of standard input`, or `position 3 of the argument` for one-line text.
    pub fn describe_char_pos(&self, char_pos: usize) -> String {
        if self.text.contains('\n') {
            let (mut line, mut column) = (1, 1);
            for ch in self.text.chars().take(char_pos) {
                if ch == '\n' {
                    line += 1;
                    column = 1;
                } else {
                    column += 1;
                }
            }
            format!("line {line}, column {column} of {}", self.origin)
        } else {
            format!("position {} of {}", char_pos + 1, self.origin)
        }
    }

    /// Describes the place of byte `offset` of the text: `line 2, column 5 of standard input`.
    pub fn describe_byte_offset(&self, offset: usize) -> String {
        let before = self.text.get(..offset).unwrap_or(&self.text);
        self.describe_char_pos(before.chars().count())
    }
}

/// A usage error in the input (exit status 2), for people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputError(pub String);

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// True if the arguments ask for standard input: none, or just `-`.
pub fn wants_stdin(args: &[String]) -> bool {
    args.is_empty() || (args.len() == 1 && args[0] == "-")
}

/// Reads all of standard input as bytes. `what` names what is read, for the hint printed when
/// standard input is a terminal.
pub fn read_stdin(io: &mut Io<'_>, what: &str) -> Result<Vec<u8>, InputError> {
    if io.stdin_is_terminal {
        let _ = writeln!(
            io.stderr,
            "reading {what} from standard input (end with Ctrl-D; see --help)"
        );
    }
    let mut bytes = Vec::new();
    io.stdin
        .read_to_end(&mut bytes)
        .map_err(|e| InputError(format!("cannot read standard input: {e}")))?;
    Ok(bytes)
}

/// The input texts: the positional arguments, or standard input (which must be UTF-8) when
/// there is none or just `-`. `what` names the input (`hex`); `hint` is added to the error for
/// an input that is not UTF-8.
pub fn read_sources(
    args: &[String],
    io: &mut Io<'_>,
    what: &str,
    hint: &str,
) -> Result<Vec<Source>, InputError> {
    if wants_stdin(args) {
        let bytes = read_stdin(io, what)?;
        let text = String::from_utf8(bytes).map_err(|e| {
            InputError(format!(
                "standard input is not UTF-8 text (invalid byte at offset {}): expected \
                 {what}{hint}",
                e.utf8_error().valid_up_to()
            ))
        })?;
        return Ok(vec![Source {
            origin: Origin::Stdin,
            text,
        }]);
    }
    if args.iter().any(|a| a == "-") {
        return Err(InputError(
            "`-` (standard input) must be the only input argument".to_string(),
        ));
    }
    Ok(args
        .iter()
        .enumerate()
        .map(|(i, a)| Source {
            origin: if args.len() == 1 {
                Origin::Argument
            } else {
                Origin::NthArgument(i + 1)
            },
            text: a.clone(),
        })
        .collect())
}

/// The bytes written in hex in `source`: ASCII whitespace is ignored, and the text may start
/// with `0x`.
pub fn hex_bytes(source: &Source) -> Result<Vec<u8>, InputError> {
    hex::decode(&source.text).map_err(|e| match e {
        HexError::InvalidChar { ch, pos } => InputError(format!(
            "invalid hex: {ch:?} at {} is not a hex digit (allowed: 0-9, a-f, A-F, \
                 whitespace, and a leading 0x)",
            source.describe_char_pos(pos)
        )),
        HexError::OddLength(n) => InputError(format!(
            "invalid hex: odd number of hex digits ({n}) in {}: every byte needs two",
            source.origin
        )),
    })
}

/// All the bytes of the hex sources, concatenated.
pub fn hex_input(sources: &[Source]) -> Result<Vec<u8>, InputError> {
    let mut bytes = Vec::new();
    for s in sources {
        bytes.extend(hex_bytes(s)?);
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn src(origin: Origin, text: &str) -> Source {
        Source {
            origin,
            text: text.to_string(),
        }
    }

    #[test]
    fn hex_positions_count_from_the_start_of_the_text() {
        let e = hex_bytes(&src(Origin::Argument, "  0x30zz")).unwrap_err();
        assert!(e.0.contains("'z' at position 7 of the argument"), "{e}");
        let e = hex_bytes(&src(Origin::Stdin, "3002\n00 0g\n")).unwrap_err();
        assert!(
            e.0.contains("'g' at line 2, column 5 of standard input"),
            "{e}"
        );
        let e = hex_bytes(&src(Origin::NthArgument(2), "303")).unwrap_err();
        assert!(
            e.0.contains("odd number of hex digits (3) in argument 2"),
            "{e}"
        );
    }

    #[test]
    fn hex_ignores_whitespace_and_prefix() {
        assert_eq!(
            hex_bytes(&src(Origin::Stdin, "0x30 02\n\t00 01\n")).unwrap(),
            vec![0x30, 0x02, 0x00, 0x01]
        );
        assert!(hex_bytes(&src(Origin::Stdin, " \n ")).unwrap().is_empty());
    }

    #[test]
    fn stdin_marker() {
        assert!(wants_stdin(&[]));
        assert!(wants_stdin(&["-".to_string()]));
        assert!(!wants_stdin(&["c000".to_string()]));
    }
}
