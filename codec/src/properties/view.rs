//! Borrowed 5.0 properties: the checked bytes of a property section, read on access.

use std::fmt;

use super::{PayloadFormat, Props, PublishProperties};
use crate::protocol::Protocol;
use crate::reader::Reader;

/// The properties of a borrowed 5.0 PUBLISH ([`crate::PublishRef`]): the bytes of its property
/// section, checked on decode as strictly as [`PublishProperties`] and read on access, so that
/// decoding allocates nothing. Empty in 3.1.1.
///
/// ```
/// use touchstone_codec::{Decoder, PacketRef, Protocol};
///
/// // PUBLISH "a" with a Message Expiry Interval of 60 s and a User Property ("k", "v").
/// let bytes = [
///     0x30, 0x13, 0x00, 0x01, b'a', 0x0c, 0x02, 0x00, 0x00, 0x00, 0x3c, 0x26, 0x00, 0x01,
///     b'k', 0x00, 0x01, b'v', b'h', b'i', b'!',
/// ];
/// let (packet, _) = Decoder::new(Protocol::V5).decode_ref(&bytes).unwrap().unwrap();
/// let PacketRef::Publish(publish) = packet else { panic!("{packet:?}") };
/// assert_eq!(publish.properties.message_expiry_interval(), Some(60));
/// assert_eq!(publish.properties.user_properties().collect::<Vec<_>>(), [("k", "v")]);
/// assert_eq!(publish.payload, b"hi!");
/// ```
#[derive(Clone, Copy, Default, PartialEq, Eq)]
pub struct PublishPropertiesRef<'a> {
    /// The property section: Property Length, then the properties.
    section: &'a [u8],
}

impl<'a> PublishPropertiesRef<'a> {
    /// The view of a checked property section (Property Length included).
    #[inline]
    pub(crate) fn new(section: &'a [u8]) -> Self {
        PublishPropertiesRef { section }
    }

    /// The properties' bytes, without the Property Length.
    pub fn as_bytes(&self) -> &'a [u8] {
        // The Property Length is a Variable Byte Integer: bytes with the top bit set, then one
        // without.
        let n = self
            .section
            .iter()
            .position(|b| b & 0x80 == 0)
            .map_or(self.section.len(), |i| i + 1);
        self.section.get(n..).unwrap_or_default()
    }

    /// True if there are no properties.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.section.len() <= 1
    }

    /// Each property as its identifier and the bytes of its value.
    fn entries(&self) -> Entries<'a> {
        Entries {
            rest: self.as_bytes(),
        }
    }

    /// The value of the property `id` (one that appears at most once).
    fn value(&self, id: u8) -> Option<&'a [u8]> {
        self.entries().find(|&(i, _)| i == id).map(|(_, v)| v)
    }

    /// Payload Format Indicator (0x01).
    pub fn payload_format_indicator(&self) -> Option<PayloadFormat> {
        self.value(0x01).map(|v| match v {
            [1] => PayloadFormat::Utf8,
            _ => PayloadFormat::Unspecified,
        })
    }

    /// Message Expiry Interval (0x02), seconds.
    pub fn message_expiry_interval(&self) -> Option<u32> {
        self.value(0x02)
            .and_then(|v| Some(u32::from_be_bytes(v.try_into().ok()?)))
    }

    /// Topic Alias (0x23).
    pub fn topic_alias(&self) -> Option<u16> {
        self.value(0x23)
            .and_then(|v| Some(u16::from_be_bytes(v.try_into().ok()?)))
    }

    /// Response Topic (0x08).
    pub fn response_topic(&self) -> Option<&'a str> {
        self.value(0x08).map(string)
    }

    /// Correlation Data (0x09).
    pub fn correlation_data(&self) -> Option<&'a [u8]> {
        self.value(0x09).map(|v| v.get(2..).unwrap_or_default())
    }

    /// Content Type (0x03).
    pub fn content_type(&self) -> Option<&'a str> {
        self.value(0x03).map(string)
    }

    /// Subscription Identifiers (0x0B), in order (a server may send several).
    pub fn subscription_identifiers(&self) -> impl Iterator<Item = u32> + 'a {
        self.entries().filter(|&(id, _)| id == 0x0B).map(|(_, v)| {
            v.iter()
                .rev()
                .fold(0u32, |n, b| (n << 7) | u32::from(b & 0x7F))
        })
    }

    /// User Properties (0x26): name and value pairs, in order.
    pub fn user_properties(&self) -> impl Iterator<Item = (&'a str, &'a str)> + 'a {
        self.entries().filter(|&(id, _)| id == 0x26).map(|(_, v)| {
            let name_len = match v {
                [hi, lo, ..] => usize::from(u16::from_be_bytes([*hi, *lo])),
                _ => 0,
            };
            let (name, value) = v.split_at_checked(2 + name_len).unwrap_or((v, &[]));
            (string(name), string(value))
        })
    }

    /// The owned property set (allocates when there are properties).
    pub fn to_owned(&self) -> Props<PublishProperties> {
        if self.is_empty() {
            return Props::none();
        }
        let mut r = Reader::borrowed(self.section, 0, Protocol::V5);
        let owned = PublishProperties::decode_props(&mut r, "PUBLISH");
        debug_assert!(owned.is_ok(), "checked properties decode: {owned:?}");
        owned.unwrap_or_default()
    }
}

impl fmt::Debug for PublishPropertiesRef<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.to_owned(), f)
    }
}

/// A checked UTF-8 string with its two-byte length.
fn string(v: &[u8]) -> &str {
    crate::str::checked(v.get(2..).unwrap_or_default())
}

/// The properties of a checked section, as identifier and value bytes (a string or binary value
/// with its length; a User Property's two strings with theirs).
struct Entries<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for Entries<'a> {
    type Item = (u8, &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        let (&id, rest) = self.rest.split_first()?;
        let len16 = |at: usize| -> Option<usize> {
            Some(usize::from(u16::from_be_bytes([
                *rest.get(at)?,
                *rest.get(at + 1)?,
            ])))
        };
        let n = match id {
            0x01 | 0x17 | 0x19 | 0x24 | 0x25 | 0x28 | 0x29 | 0x2A => 1,
            0x13 | 0x21 | 0x22 | 0x23 => 2,
            0x02 | 0x11 | 0x18 | 0x27 => 4,
            0x0B => rest.iter().position(|b| b & 0x80 == 0)? + 1,
            0x26 => {
                let name = 2 + len16(0)?;
                name + 2 + len16(name)?
            }
            _ => 2 + len16(0)?,
        };
        // Checked bytes always hold the whole value; a short one ends the walk.
        let Some((value, rest)) = rest.split_at_checked(n) else {
            self.rest = &[];
            return None;
        };
        self.rest = rest;
        Some((id, value))
    }
}
