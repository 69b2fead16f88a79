//! Encoding primitives.

use bytes::{BufMut, BytesMut};

/// Writes a UTF-8 Encoded String or Binary Data: a Two Byte Integer length and the bytes.
/// Lengths above 65,535 are truncated; checked encoding rejects them before this point.
#[inline]
pub(crate) fn put_bin(buf: &mut BytesMut, b: &[u8]) {
    buf.put_u16(b.len() as u16);
    buf.put_slice(b);
}

/// Encoded length of a string or binary field.
#[inline]
pub(crate) const fn bin_len(b: &[u8]) -> usize {
    2 + b.len()
}
