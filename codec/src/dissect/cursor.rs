//! The dissector's cursor: reads one primitive of the wire format at a time and records it as a
//! [`Field`], stopping (with the reason) where the bytes run out.

use super::{Field, Secret};
use crate::varint::{read_varint, Varint};

/// Shown bytes of a binary field; longer ones are cut with a count.
const SHOWN_BYTES: usize = 32;
/// Shown characters of a string field; longer ones are cut with a count.
const SHOWN_CHARS: usize = 80;

/// Why reading stopped before the end of the packet.
#[derive(Debug)]
pub(super) struct Stop;

/// A cursor over the bytes of one packet (offsets from its first byte).
pub(super) struct Cursor<'a> {
    pub(super) data: &'a [u8],
    pub(super) pos: usize,
    /// Where the packet (or the section being read) ends.
    pub(super) end: usize,
    pub(super) depth: usize,
    pub(super) fields: Vec<Field>,
    pub(super) problem: Option<String>,
}

impl<'a> Cursor<'a> {
    pub(super) fn new(data: &'a [u8], end: usize) -> Self {
        Cursor {
            data,
            pos: 0,
            end,
            depth: 0,
            fields: Vec::new(),
            problem: None,
        }
    }

    /// Bytes left before the end of the packet or section.
    pub(super) fn left(&self) -> usize {
        self.end.saturating_sub(self.pos)
    }

    /// Records a field of `len` bytes at the current position and moves past it.
    pub(super) fn push(&mut self, len: usize, name: impl Into<String>, value: String) {
        self.push_with(len, name, value, None);
    }

    fn push_with(
        &mut self,
        len: usize,
        name: impl Into<String>,
        value: String,
        secret: Option<Secret>,
    ) {
        self.fields.push(Field {
            offset: self.pos,
            len,
            depth: self.depth,
            name: name.into(),
            value,
            secret,
        });
        self.pos += len;
    }

    /// Stops with `why` (the first reason is kept).
    pub(super) fn stop(&mut self, why: String) -> Stop {
        if self.problem.is_none() {
            self.problem = Some(why);
        }
        Stop
    }

    /// The next `n` bytes, or a stop naming `what`.
    pub(super) fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8], Stop> {
        if self.left() < n || self.pos + n > self.data.len() {
            let why = if self.left() >= n {
                format!(
                    "the input ends inside the {what} (byte {}: {n} needed, {} given)",
                    self.pos,
                    self.data.len().saturating_sub(self.pos)
                )
            } else {
                format!(
                    "the {what} at byte {} needs {n} bytes, but only {} are left in the {}",
                    self.pos,
                    self.left(),
                    if self.depth > 0 { "section" } else { "packet" }
                )
            };
            return Err(self.stop(why));
        }
        Ok(&self.data[self.pos..self.pos + n])
    }

    /// A one-byte field, described by `describe`.
    pub(super) fn byte(
        &mut self,
        name: &str,
        describe: impl FnOnce(u8) -> String,
    ) -> Result<u8, Stop> {
        let b = self.take(1, name)?[0];
        self.push(1, name, describe(b));
        Ok(b)
    }

    /// A two-byte integer.
    pub(super) fn u16(&mut self, name: &str) -> Result<u16, Stop> {
        let b = self.take(2, name)?;
        let v = u16::from_be_bytes([b[0], b[1]]);
        self.push(2, name, v.to_string());
        Ok(v)
    }

    /// A four-byte integer.
    pub(super) fn u32(&mut self, name: &str) -> Result<u32, Stop> {
        let b = self.take(4, name)?;
        let v = u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
        self.push(4, name, v.to_string());
        Ok(v)
    }

    /// A Variable Byte Integer.
    pub(super) fn varint(&mut self, name: &str) -> Result<u32, Stop> {
        let rest = &self.data[self.pos.min(self.data.len())..self.end.min(self.data.len())];
        match read_varint(rest) {
            Varint::Value(v, n) => {
                self.push(n, name, format!("{v}"));
                Ok(v)
            }
            Varint::NotMinimal(v, n) => {
                self.push(
                    n,
                    name,
                    format!("{v} (not in the fewest bytes: malformed in 5.0)"),
                );
                Ok(v)
            }
            Varint::Incomplete => Err(self.stop(format!(
                "the input ends inside the {name} (byte {})",
                self.pos
            ))),
            Varint::TooLong => Err(self.stop(format!(
                "the {name} at byte {} is longer than 4 bytes (malformed)",
                self.pos
            ))),
        }
    }

    /// A length-prefixed UTF-8 string: the length and the text, as one field.
    pub(super) fn string(&mut self, name: &str) -> Result<String, Stop> {
        let len = self.prefix(name)?;
        let body = self.take(2 + len, name)?[2..].to_vec();
        let text = String::from_utf8_lossy(&body).into_owned();
        let shown = quote(&text);
        let note = if std::str::from_utf8(&body).is_err() {
            " (not valid UTF-8)"
        } else {
            ""
        };
        self.push(2 + len, name, format!("{shown}{note}"));
        Ok(text)
    }

    /// Length-prefixed binary data; `secret` names what a password or authentication data is.
    pub(super) fn binary(&mut self, name: &str, secret: Option<&'static str>) -> Result<(), Stop> {
        let len = self.prefix(name)?;
        let body = self.take(2 + len, name)?[2..].to_vec();
        let secret = secret.map(|what| Secret {
            what,
            start: self.pos + 2,
            end: self.pos + 2 + len,
        });
        self.push_with(2 + len, name, bytes_value(&body), secret);
        Ok(())
    }

    fn prefix(&mut self, name: &str) -> Result<usize, Stop> {
        let b = self.take(2, &format!("length of the {name}"))?;
        Ok(usize::from(u16::from_be_bytes([b[0], b[1]])))
    }

    /// Bytes left in the packet that no field explains.
    pub(super) fn trailing(&mut self, what: &str) {
        let n = self.left().min(self.data.len().saturating_sub(self.pos));
        if n > 0 {
            let body = self.data[self.pos..self.pos + n].to_vec();
            self.push(n, what, bytes_value(&body));
        }
    }
}

/// A string as a quoted literal, cut after [`SHOWN_CHARS`] characters.
pub(super) fn quote(s: &str) -> String {
    let count = s.chars().count();
    if count <= SHOWN_CHARS {
        format!("{s:?}")
    } else {
        let cut: String = s.chars().take(SHOWN_CHARS).collect();
        format!("{cut:?}… ({count} characters)")
    }
}

/// Bytes as hex, cut after [`SHOWN_BYTES`] with the length.
pub(super) fn bytes_value(b: &[u8]) -> String {
    let shown = crate::hex::encode(&b[..b.len().min(SHOWN_BYTES)]);
    match b.len() {
        0 => "(empty)".to_string(),
        n if n <= SHOWN_BYTES => format!("{shown} ({n} byte{})", if n == 1 { "" } else { "s" }),
        n => format!("{shown}… ({n} bytes)"),
    }
}
