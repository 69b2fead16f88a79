//! The check that [`Decoder::decode_ref`] agrees with [`Decoder::decode`], for the tests and the
//! fuzz target `decode_ref`.

use bytes::BytesMut;

use crate::decoder::Decoder;

impl Decoder {
    /// Decodes `bytes` packet by packet with both [`Decoder::decode`] and
    /// [`Decoder::decode_ref`] until either stops (`Ok(None)` or an error), and returns how many
    /// packets both decoded, or how they first differ: a different result, a borrowed packet
    /// whose owned copy differs, or a different number of bytes taken.
    #[doc(hidden)]
    pub fn compare_decode_ref(&self, bytes: &[u8]) -> Result<usize, String> {
        let mut buf = BytesMut::from(bytes);
        let mut at = 0;
        let mut n = 0;
        loop {
            let before = buf.len();
            let owned = self.decode(&mut buf);
            let rest = bytes.get(at..).unwrap_or_default();
            let borrowed = self.decode_ref(rest);
            match (owned, borrowed) {
                (Ok(None), Ok(None)) => return Ok(n),
                (Err(a), Err(b)) if a == b => return Ok(n),
                (Ok(Some(p)), Ok(Some((r, len)))) => {
                    if r.to_owned() != p {
                        return Err(format!("packet {n}: decode {p:?}, decode_ref {r:?}"));
                    }
                    if before - buf.len() != len {
                        return Err(format!(
                            "packet {n}: decode took {} bytes, decode_ref {len}",
                            before - buf.len()
                        ));
                    }
                    at += len;
                    n += 1;
                }
                (a, b) => return Err(format!("packet {n}: decode {a:?}, decode_ref {b:?}")),
            }
        }
    }
}
