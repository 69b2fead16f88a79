//! Secrets kept out of everything Touchstone records: every Password and Authentication Data
//! field (found by the codec's dissector, in CONNECT, CONNACK and AUTH) and every occurrence of
//! the run's own secrets (`--password`) are masked where bytes are recorded, before any report,
//! finding or log sees them.
//!
//! A mask keeps the length (each secret byte becomes `*`, 0x2A), so that a masked packet still
//! decodes, with its lengths intact; what was masked is listed with the entry.

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use touchstone_codec::{dissect, Packet, PacketType, Protocol};

/// The byte a secret byte becomes.
pub const MASK: u8 = b'*';

/// Known secrets shorter than this are masked only where the dissector finds them (a two-byte
/// password searched for everywhere would mask unrelated bytes).
const MIN_SEARCHED: usize = 4;

/// One masked span of a recorded packet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Masked {
    /// What it was: `Password`, `Authentication Data`, or `secret` (a known secret found
    /// elsewhere in the bytes).
    pub what: String,
    /// Offset of the first masked byte in the entry's bytes.
    pub offset: usize,
    /// How many bytes were masked.
    pub len: usize,
}

/// Masks secrets in recorded bytes, packets and text.
#[derive(Clone, Default)]
pub struct Redactor {
    known: Vec<Vec<u8>>,
}

impl std::fmt::Debug for Redactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Redactor({} known secrets)", self.known.len())
    }
}

impl Redactor {
    /// A redactor that also masks every occurrence of `known` secrets (empty ones are ignored).
    pub fn new(known: impl IntoIterator<Item = Vec<u8>>) -> Self {
        let mut known: Vec<Vec<u8>> = known.into_iter().filter(|k| !k.is_empty()).collect();
        // Longest first, so that a secret containing another is masked whole.
        known.sort_by_key(|k| std::cmp::Reverse(k.len()));
        known.dedup();
        Redactor { known }
    }

    /// `bytes` with every secret masked, and what was masked; `None` when there was nothing to
    /// mask (the bytes are then kept as they are, without a copy).
    pub fn bytes(&self, bytes: &[u8]) -> Option<(Bytes, Vec<Masked>)> {
        let mut spans = Vec::new();
        // Fields: walk the packets the bytes hold (a write may carry several).
        let mut at = 0;
        while at < bytes.len() {
            let rest = &bytes[at..];
            let t = PacketType::from_nibble(rest[0] >> 4);
            let d = dissect(Protocol::V5, rest);
            if matches!(
                t,
                Some(PacketType::Connect | PacketType::ConnAck | PacketType::Auth)
            ) {
                for s in d.secrets().filter(|s| s.end > s.start) {
                    spans.push(Masked {
                        what: s.what.to_string(),
                        offset: at + s.start,
                        len: s.end - s.start,
                    });
                }
            }
            if d.len == 0 {
                break;
            }
            at += d.len;
        }
        for k in self.known.iter().filter(|k| k.len() >= MIN_SEARCHED) {
            let mut from = 0;
            while let Some(i) = find(&bytes[from..], k) {
                let offset = from + i;
                if !spans
                    .iter()
                    .any(|s| offset >= s.offset && offset + k.len() <= s.offset + s.len)
                {
                    spans.push(Masked {
                        what: "secret".into(),
                        offset,
                        len: k.len(),
                    });
                }
                from = offset + k.len();
            }
        }
        if spans.is_empty() {
            return None;
        }
        let mut masked = bytes.to_vec();
        for s in &spans {
            masked[s.offset..s.offset + s.len].fill(MASK);
        }
        spans.sort_by_key(|s| s.offset);
        Some((Bytes::from(masked), spans))
    }

    /// Masks the secrets of a decoded packet in place (same lengths); true if it had any.
    pub fn packet(&self, p: &mut Packet) -> bool {
        // (Properties are read before they are borrowed mutably: a mutable borrow of an
        // absent set would allocate one.)
        match p {
            Packet::Connect(c) => {
                let mut any = mask(&mut c.password);
                if c.properties.authentication_data.is_some() {
                    any |= mask(&mut c.properties.authentication_data);
                }
                any
            }
            Packet::ConnAck(c) if c.properties.authentication_data.is_some() => {
                mask(&mut c.properties.authentication_data)
            }
            Packet::Auth(a) if a.properties.authentication_data.is_some() => {
                mask(&mut a.properties.authentication_data)
            }
            _ => false,
        }
    }

    /// `text` with every known secret (as text, and as lower- and upper-case hex) replaced by
    /// `<redacted>`.
    pub fn text(&self, text: &str) -> String {
        let mut out = text.to_string();
        for k in self.known.iter().filter(|k| k.len() >= MIN_SEARCHED) {
            let hex = touchstone_codec::hex::encode(k);
            let mut forms = vec![hex.clone(), hex.to_uppercase()];
            if let Ok(s) = std::str::from_utf8(k) {
                forms.insert(0, s.to_string());
            }
            for f in forms {
                if out.contains(&f) {
                    out = out.replace(&f, "<redacted>");
                }
            }
        }
        out
    }
}

/// Puts `password` back into every masked Password field of `bytes` that has its length (a
/// replay file saved with the secrets masked, replayed with the same credentials); returns how
/// many fields were restored.
pub fn restore_password(bytes: &mut [u8], password: &[u8]) -> usize {
    let mut restored = 0;
    let mut at = 0;
    while at < bytes.len() {
        let d = dissect(Protocol::V5, &bytes[at..]);
        if PacketType::from_nibble(bytes[at] >> 4) == Some(PacketType::Connect) {
            for s in d.secrets().filter(|s| s.what == "Password") {
                let field = &mut bytes[at + s.start..at + s.end];
                if field.len() == password.len() && field.iter().all(|&b| b == MASK) {
                    field.copy_from_slice(password);
                    restored += 1;
                }
            }
        }
        if d.len == 0 {
            break;
        }
        at += d.len;
    }
    restored
}

/// Replaces a field's bytes with the mask of the same length; true if it was set.
fn mask(field: &mut Option<Bytes>) -> bool {
    match field {
        Some(v) => {
            *v = Bytes::from(vec![MASK; v.len()]);
            true
        }
        None => false,
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;
    use touchstone_codec::hex;

    const CONNECT: &str = "101c00044d51545404c2003c0001630005616c6963650006733363726574";

    #[test]
    fn the_password_field_is_masked_in_place() {
        let b = hex::decode(CONNECT).unwrap();
        let (masked, spans) = Redactor::default().bytes(&b).unwrap();
        assert_eq!(masked.len(), b.len());
        assert_eq!(&masked[24..], b"******");
        assert_eq!(
            spans,
            vec![Masked {
                what: "Password".into(),
                offset: 24,
                len: 6
            }]
        );
        // Still a valid CONNECT, whose password is the mask.
        let (p, _) = touchstone_codec::decode_slice(Protocol::V3_1_1, &masked).unwrap();
        let Packet::Connect(c) = p else { panic!() };
        assert_eq!(c.password.as_deref(), Some(&b"******"[..]));
    }

    #[test]
    fn known_secrets_are_masked_anywhere_and_in_text() {
        // A PUBLISH whose payload holds the password, after a PINGREQ in the same write.
        let r = Redactor::new([b"s3cret".to_vec()]);
        let b = hex::decode(&"c000 300b 0003 612f62 733363726574 21".replace(' ', "")).unwrap();
        let (masked, spans) = r.bytes(&b).unwrap();
        assert_eq!(spans[0].what, "secret");
        assert!(!masked.windows(6).any(|w| w == b"s3cret"));
        assert_eq!(
            r.text("got s3cret, 733363726574 and 733363726574 in upper: 733363726574"),
            "got <redacted>, <redacted> and <redacted> in upper: <redacted>"
        );
        assert_eq!(r.text("733363726574".to_uppercase().as_str()), "<redacted>");
        // Nothing to mask: no copy.
        assert!(r.bytes(&hex::decode("c000").unwrap()).is_none());
    }

    #[test]
    fn a_truncated_connect_still_has_its_known_password_masked() {
        let b = hex::decode(CONNECT).unwrap();
        let cut = &b[..b.len() - 1];
        assert!(Redactor::default().bytes(cut).is_none());
        let (masked, _) = Redactor::new([b"s3cre".to_vec()]).bytes(cut).unwrap();
        assert!(!masked.windows(5).any(|w| w == b"s3cre"));
    }

    #[test]
    fn a_masked_password_is_restored_for_replay() {
        let b = hex::decode(CONNECT).unwrap();
        let (masked, _) = Redactor::default().bytes(&b).unwrap();
        let mut replay = masked.to_vec();
        assert_eq!(restore_password(&mut replay, b"other-length"), 0);
        assert_eq!(restore_password(&mut replay, b"s3cret"), 1);
        assert_eq!(replay, b);
    }

    #[test]
    fn decoded_packets_are_masked() {
        let b = hex::decode(CONNECT).unwrap();
        let (mut p, _) = touchstone_codec::decode_slice(Protocol::V3_1_1, &b).unwrap();
        assert!(Redactor::default().packet(&mut p));
        let Packet::Connect(c) = p else { panic!() };
        assert_eq!(c.password.as_deref(), Some(&b"******"[..]));
        let mut ping = Packet::PingReq;
        assert!(!Redactor::default().packet(&mut ping));
    }
}
