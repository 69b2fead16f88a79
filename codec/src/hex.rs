//! Hexadecimal text: for tools, JSON and snapshots.

use std::fmt::Write;

/// Lower-case hex of `bytes`, no separators.
pub fn encode(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// Error for text that is not hex.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HexError {
    /// A character that is neither a hex digit nor whitespace.
    #[error("invalid hex character {ch:?} at position {pos}")]
    InvalidChar {
        /// The character.
        ch: char,
        /// Its character position in the text.
        pos: usize,
    },
    /// An odd number of hex digits.
    #[error("odd number of hex digits ({0}): every byte needs two")]
    OddLength(usize),
}

/// Bytes from hex text. ASCII whitespace anywhere is ignored, as is one `0x` prefix before the
/// first digit. Error positions count characters from the start of `text`.
pub fn decode(text: &str) -> Result<Vec<u8>, HexError> {
    let mut out = Vec::with_capacity(text.len() / 2);
    let mut high: Option<u8> = None;
    let mut digits = 0;
    let mut chars = text.chars().enumerate().peekable();
    while let Some((pos, ch)) = chars.next() {
        if ch.is_ascii_whitespace() {
            continue;
        }
        if digits == 0 && ch == '0' && matches!(chars.peek(), Some((_, 'x' | 'X'))) {
            chars.next();
            continue;
        }
        let v = ch.to_digit(16).ok_or(HexError::InvalidChar { ch, pos })? as u8;
        digits += 1;
        match high.take() {
            None => high = Some(v),
            Some(h) => out.push(h << 4 | v),
        }
    }
    if high.is_some() {
        return Err(HexError::OddLength(digits));
    }
    Ok(out)
}

/// serde adapters that write binary fields as hex strings.
#[cfg(feature = "serde")]
pub(crate) mod serde_bytes {
    use bytes::Bytes;
    use serde::{Deserialize, Deserializer, Serializer};

    pub(crate) fn serialize<S: Serializer>(b: &Bytes, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&super::encode(b))
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Bytes, D::Error> {
        let text = String::deserialize(d)?;
        super::decode(&text)
            .map(Bytes::from)
            .map_err(serde::de::Error::custom)
    }

    /// For `Option<Bytes>`.
    pub(crate) mod opt {
        use bytes::Bytes;
        use serde::{Deserialize, Deserializer, Serializer};

        pub(crate) fn serialize<S: Serializer>(b: &Option<Bytes>, s: S) -> Result<S::Ok, S::Error> {
            match b {
                Some(b) => s.serialize_str(&super::super::encode(b)),
                None => s.serialize_none(),
            }
        }

        pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
            d: D,
        ) -> Result<Option<Bytes>, D::Error> {
            match Option::<String>::deserialize(d)? {
                Some(text) => super::super::decode(&text)
                    .map(|v| Some(Bytes::from(v)))
                    .map_err(serde::de::Error::custom),
                None => Ok(None),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_whitespace() {
        assert_eq!(
            decode("30 02\n00 01").unwrap(),
            vec![0x30, 0x02, 0x00, 0x01]
        );
        assert_eq!(decode("0xC000").unwrap(), vec![0xC0, 0x00]);
        assert_eq!(encode(&[0xC0, 0x00]), "c000");
    }

    #[test]
    fn clear_errors() {
        assert_eq!(decode("3g"), Err(HexError::InvalidChar { ch: 'g', pos: 1 }));
        assert_eq!(decode("303"), Err(HexError::OddLength(3)));
        assert_eq!(
            decode("  0xzz"),
            Err(HexError::InvalidChar { ch: 'z', pos: 4 })
        );
        assert_eq!(
            decode("\u{a0}c0"),
            Err(HexError::InvalidChar {
                ch: '\u{a0}',
                pos: 0
            })
        );
        assert_eq!(
            decode("c0 0x00"),
            Err(HexError::InvalidChar { ch: 'x', pos: 4 })
        );
    }
}
