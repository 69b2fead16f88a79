//! `SmallBytes`: immutable bytes kept inline when short, shared ([`Bytes`]) when long.
//!
//! Copying up to 38 bytes is cheaper than the atomic reference-count operations a shared slice
//! costs on creation and on drop, and MQTT strings (topics, client ids, property names) are
//! mostly short. Payloads are always shared.

use bytes::Bytes;

/// Longest value kept inline (the enum is then 40 bytes, against 32 for `Bytes`).
pub(crate) const INLINE: usize = 38;

#[derive(Clone)]
pub(crate) enum SmallBytes {
    Inline { len: u8, buf: [u8; INLINE] },
    Shared(Bytes),
}

impl SmallBytes {
    pub(crate) const fn new() -> Self {
        SmallBytes::Inline {
            len: 0,
            buf: [0; INLINE],
        }
    }

    pub(crate) const fn from_static(b: &'static [u8]) -> Self {
        SmallBytes::Shared(Bytes::from_static(b))
    }

    /// A copy of `b` if it is short; `None` if it needs sharing.
    #[inline]
    pub(crate) fn inline(b: &[u8]) -> Option<Self> {
        if b.len() > INLINE {
            return None;
        }
        let mut buf = [0; INLINE];
        buf[..b.len()].copy_from_slice(b);
        Some(SmallBytes::Inline {
            len: b.len() as u8,
            buf,
        })
    }

    /// A copy of `data[start..end]` if it is short. When `data` has `INLINE` bytes from `start`,
    /// they are copied whole (a fixed-size copy; the bytes past `end` are never read).
    #[inline(always)]
    pub(crate) fn inline_at(data: &[u8], start: usize, end: usize) -> Option<Self> {
        let n = end - start;
        if n > INLINE {
            return None;
        }
        let mut buf = [0; INLINE];
        match data.get(start..start + INLINE) {
            Some(window) => buf.copy_from_slice(window),
            None => buf[..n].copy_from_slice(&data[start..end]),
        }
        Some(SmallBytes::Inline { len: n as u8, buf })
    }

    /// From a `Vec`, without copying if it is long.
    pub(crate) fn from_vec(v: Vec<u8>) -> Self {
        Self::inline(&v).unwrap_or_else(|| SmallBytes::Shared(Bytes::from(v)))
    }

    /// From shared bytes, copied inline if short.
    pub(crate) fn from_bytes(b: Bytes) -> Self {
        Self::inline(&b).unwrap_or(SmallBytes::Shared(b))
    }

    #[inline]
    pub(crate) fn as_slice(&self) -> &[u8] {
        match self {
            SmallBytes::Inline { len, buf } => &buf[..*len as usize],
            SmallBytes::Shared(b) => b,
        }
    }

    pub(crate) fn into_bytes(self) -> Bytes {
        match self {
            SmallBytes::Inline { .. } => Bytes::copy_from_slice(self.as_slice()),
            SmallBytes::Shared(b) => b,
        }
    }
}

impl Default for SmallBytes {
    fn default() -> Self {
        SmallBytes::new()
    }
}

impl PartialEq for SmallBytes {
    fn eq(&self, other: &Self) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl Eq for SmallBytes {}

impl std::hash::Hash for SmallBytes {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_slice().hash(state)
    }
}
