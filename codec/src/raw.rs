//! A writer of arbitrary frames, valid or not, for tests that must put any bytes on the wire.
//!
//! ```
//! use touchstone_codec::raw::Frame;
//! // PUBREL with reserved flags 0000 instead of 0010.
//! let bytes = Frame::new(0x60).u16(1).to_bytes();
//! assert_eq!(&bytes[..], &[0x60, 0x02, 0x00, 0x01]);
//! ```

use bytes::{BufMut, Bytes, BytesMut};

use crate::varint::write_varint;

/// How a [`Frame`] writes its Remaining Length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RemainingLength {
    /// The length of the body, minimally encoded.
    Auto,
    /// This value instead of the body's length, minimally encoded.
    Value(u32),
    /// These exact bytes (non-minimal or over-long encodings).
    Bytes([u8; 5], usize),
}

/// A packet built field by field, with nothing checked.
#[derive(Debug, Clone)]
pub struct Frame {
    first: u8,
    remaining: RemainingLength,
    body: BytesMut,
}

impl Frame {
    /// A frame with first byte `first` (type and flags) and an empty body.
    pub fn new(first: u8) -> Self {
        Frame {
            first,
            remaining: RemainingLength::Auto,
            body: BytesMut::new(),
        }
    }

    /// Declares `len` as the Remaining Length whatever the body holds.
    pub fn remaining_length(mut self, len: u32) -> Self {
        self.remaining = RemainingLength::Value(len);
        self
    }

    /// Writes these bytes as the Remaining Length (at most 5).
    pub fn remaining_length_bytes(mut self, bytes: &[u8]) -> Self {
        let mut b = [0u8; 5];
        let n = bytes.len().min(5);
        b[..n].copy_from_slice(&bytes[..n]);
        self.remaining = RemainingLength::Bytes(b, n);
        self
    }

    /// Appends a byte.
    pub fn u8(mut self, v: u8) -> Self {
        self.body.put_u8(v);
        self
    }

    /// Appends a Two Byte Integer.
    pub fn u16(mut self, v: u16) -> Self {
        self.body.put_u16(v);
        self
    }

    /// Appends a Four Byte Integer.
    pub fn u32(mut self, v: u32) -> Self {
        self.body.put_u32(v);
        self
    }

    /// Appends a Variable Byte Integer, minimally encoded.
    pub fn varint(mut self, v: u32) -> Self {
        write_varint(&mut self.body, v);
        self
    }

    /// Appends a string or binary field: a two-byte length and the bytes (any bytes).
    pub fn string(self, s: impl AsRef<[u8]>) -> Self {
        let s = s.as_ref();
        self.u16(s.len() as u16).bytes(s)
    }

    /// Appends raw bytes.
    pub fn bytes(mut self, b: impl AsRef<[u8]>) -> Self {
        self.body.put_slice(b.as_ref());
        self
    }

    /// The encoded frame.
    pub fn to_bytes(&self) -> Bytes {
        let mut out = BytesMut::with_capacity(self.body.len() + 5);
        out.put_u8(self.first);
        match self.remaining {
            RemainingLength::Auto => write_varint(&mut out, self.body.len() as u32),
            RemainingLength::Value(v) => write_varint(&mut out, v),
            RemainingLength::Bytes(b, n) => out.put_slice(&b[..n]),
        }
        out.put_slice(&self.body);
        out.freeze()
    }
}
