//! `Str`: an immutable UTF-8 string, inline when short, otherwise sharing the bytes of the
//! packet it was decoded from.

use std::borrow::Borrow;
use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::Deref;

use bytes::Bytes;

use crate::small::SmallBytes;

/// An immutable UTF-8 string. Decoding copies strings of up to 38 bytes inline and shares longer
/// ones with the packet's buffer. It always holds valid UTF-8 (the MQTT rules beyond that, such
/// as "no U+0000", are checked by the decoder and by checked encoding).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Str(SmallBytes);

impl Str {
    /// An empty string.
    pub const fn new() -> Self {
        Str(SmallBytes::new())
    }

    /// A string from a static `&str`, without a copy.
    pub const fn from_static(s: &'static str) -> Self {
        Str(SmallBytes::from_static(s.as_bytes()))
    }

    /// A string from bytes, if they are valid UTF-8.
    pub fn from_utf8(bytes: Bytes) -> Result<Self, std::str::Utf8Error> {
        std::str::from_utf8(&bytes)?;
        Ok(Str(SmallBytes::from_bytes(bytes)))
    }

    /// Wraps bytes the caller has checked to be UTF-8.
    #[inline]
    pub(crate) fn from_checked(bytes: SmallBytes) -> Self {
        debug_assert!(std::str::from_utf8(bytes.as_slice()).is_ok());
        Str(bytes)
    }

    /// The string.
    #[inline]
    #[allow(unsafe_code)]
    pub fn as_str(&self) -> &str {
        // SAFETY: every constructor takes a `&str`/`String` or checks the bytes with
        // `std::str::from_utf8` (or the decoder's ASCII fast path, which admits only bytes
        // 0x01..=0x7F) before wrapping them, and the bytes are immutable afterwards.
        unsafe { std::str::from_utf8_unchecked(self.0.as_slice()) }
    }

    /// The underlying bytes.
    #[inline]
    pub fn as_bytes(&self) -> &[u8] {
        self.0.as_slice()
    }

    /// The bytes as a shared buffer (copied if the string was inline).
    pub fn into_bytes(self) -> Bytes {
        self.0.into_bytes()
    }
}

/// `bytes` as a string, for bytes the decoder has checked: a field that passed the reader's string
/// checks (see `reader::check_utf8`).
#[inline]
#[allow(unsafe_code)]
pub(crate) fn checked(bytes: &[u8]) -> &str {
    debug_assert!(std::str::from_utf8(bytes).is_ok());
    // SAFETY: callers pass only bytes that `std::str::from_utf8` accepted or that the ASCII fast
    // path admitted (bytes 0x01..=0x7F only).
    unsafe { std::str::from_utf8_unchecked(bytes) }
}

impl Deref for Str {
    type Target = str;
    #[inline]
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for Str {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl Borrow<str> for Str {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl Hash for Str {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_str().hash(state)
    }
}

impl PartialOrd for Str {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Str {
    fn cmp(&self, other: &Self) -> Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl fmt::Debug for Str {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for Str {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<&str> for Str {
    fn from(s: &str) -> Self {
        Str(SmallBytes::inline(s.as_bytes())
            .unwrap_or_else(|| SmallBytes::Shared(Bytes::copy_from_slice(s.as_bytes()))))
    }
}

impl From<String> for Str {
    fn from(s: String) -> Self {
        Str(SmallBytes::from_vec(s.into_bytes()))
    }
}

impl From<&String> for Str {
    fn from(s: &String) -> Self {
        Str::from(s.as_str())
    }
}

impl PartialEq<str> for Str {
    fn eq(&self, other: &str) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl PartialEq<&str> for Str {
    fn eq(&self, other: &&str) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

#[cfg(feature = "serde")]
impl serde::Serialize for Str {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

#[cfg(feature = "serde")]
impl<'de> serde::Deserialize<'de> for Str {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        <String as serde::Deserialize>::deserialize(d).map(Str::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_and_shared_strings_compare_equal() {
        let short = Str::from("a/b");
        let long = "x".repeat(100);
        assert_eq!(short, Str::from_static("a/b"));
        assert_eq!(Str::from(long.as_str()), Str::from(long.clone()));
        assert_eq!(Str::from(long.as_str()).as_str(), long);
        assert_eq!(Str::from_utf8(Bytes::from_static(b"a/b")).unwrap(), short);
        assert!(Str::from_utf8(Bytes::from_static(b"\xff")).is_err());
        assert_eq!(Str::from("é").len(), 2);
    }
}
