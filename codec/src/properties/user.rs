//! User Properties (5.0 property 0x26), kept in their wire form so that decoding does not
//! allocate and forwarding keeps them unaltered and in order (5.0 [MQTT-3.3.2-17], [MQTT-3.3.2-18]).

use std::fmt;

use crate::small::SmallBytes;

/// An ordered list of User Properties (name, value). Names may repeat.
///
/// Held as the encoded properties (`0x26`, name, value, ...), shared with the decoded packet.
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct UserProperties {
    raw: SmallBytes,
    count: u32,
    /// Set by `push` of a name or value longer than 65,535 bytes, which cannot be encoded.
    oversize: bool,
}

impl UserProperties {
    /// No user properties.
    pub const fn new() -> Self {
        UserProperties {
            raw: SmallBytes::new(),
            count: 0,
            oversize: false,
        }
    }

    /// From already-validated wire bytes holding `count` properties.
    pub(crate) fn from_raw(raw: SmallBytes, count: u32) -> Self {
        UserProperties {
            raw,
            count,
            oversize: false,
        }
    }

    /// From (name, value) pairs.
    pub fn from_pairs<K: AsRef<str>, V: AsRef<str>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        let mut p = UserProperties::new();
        for (k, v) in pairs {
            p.push(k.as_ref(), v.as_ref());
        }
        p
    }

    /// Appends a property.
    pub fn push(&mut self, name: &str, value: &str) {
        let old = self.raw.as_slice();
        let mut buf = Vec::with_capacity(old.len() + 5 + name.len() + value.len());
        buf.extend_from_slice(old);
        buf.push(0x26);
        buf.extend_from_slice(&(name.len() as u16).to_be_bytes());
        buf.extend_from_slice(name.as_bytes());
        buf.extend_from_slice(&(value.len() as u16).to_be_bytes());
        buf.extend_from_slice(value.as_bytes());
        self.raw = SmallBytes::from_vec(buf);
        self.count += 1;
        self.oversize |= name.len() > 65_535 || value.len() > 65_535;
    }

    /// True if there are none.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Number of properties.
    pub fn len(&self) -> usize {
        self.count as usize
    }

    /// The properties in order.
    pub fn iter(&self) -> Iter<'_> {
        Iter {
            raw: self.raw.as_slice(),
        }
    }

    /// The encoded properties, identifiers included.
    #[inline]
    pub(crate) fn raw(&self) -> &[u8] {
        self.raw.as_slice()
    }

    /// True if every name and value is at most 65,535 bytes (always true once decoded; `push`
    /// of a longer string makes the list unencodable).
    pub(crate) fn lengths_ok(&self) -> bool {
        !self.oversize
    }
}

/// Iterator over [`UserProperties`].
pub struct Iter<'a> {
    raw: &'a [u8],
}

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a str, &'a str);

    fn next(&mut self) -> Option<Self::Item> {
        let raw = self.raw;
        if raw.first() != Some(&0x26) {
            return None;
        }
        let (name, rest) = split_str(raw.get(1..)?)?;
        let (value, rest) = split_str(rest)?;
        self.raw = rest;
        Some((name, value))
    }
}

fn split_str(b: &[u8]) -> Option<(&str, &[u8])> {
    let len = u16::from_be_bytes([*b.first()?, *b.get(1)?]) as usize;
    let s = std::str::from_utf8(b.get(2..2 + len)?).ok()?;
    Some((s, &b[2 + len..]))
}

impl<'a> IntoIterator for &'a UserProperties {
    type Item = (&'a str, &'a str);
    type IntoIter = Iter<'a>;
    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

impl fmt::Debug for UserProperties {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl<K: AsRef<str>, V: AsRef<str>> FromIterator<(K, V)> for UserProperties {
    fn from_iter<T: IntoIterator<Item = (K, V)>>(iter: T) -> Self {
        UserProperties::from_pairs(iter)
    }
}

#[cfg(feature = "serde")]
impl serde::Serialize for UserProperties {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let mut seq = s.serialize_seq(Some(self.len()))?;
        for pair in self.iter() {
            seq.serialize_element(&[pair.0, pair.1])?;
        }
        seq.end()
    }
}

#[cfg(feature = "serde")]
impl<'de> serde::Deserialize<'de> for UserProperties {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let pairs = <Vec<(String, String)> as serde::Deserialize>::deserialize(d)?;
        Ok(UserProperties::from_pairs(pairs))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_order_and_duplicates() {
        let p = UserProperties::from_pairs([("a", "1"), ("b", "2"), ("a", "3")]);
        assert_eq!(p.len(), 3);
        assert_eq!(
            p.iter().collect::<Vec<_>>(),
            vec![("a", "1"), ("b", "2"), ("a", "3")]
        );
        assert!(p.lengths_ok());
    }

    #[test]
    fn over_long_values_are_detected() {
        let long = "x".repeat(70_000);
        let p = UserProperties::from_pairs([("a", long.as_str())]);
        assert!(!p.lengths_ok());
    }
}
