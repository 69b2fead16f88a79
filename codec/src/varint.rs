//! Variable Byte Integers (5.0 section 1.5.5; the Remaining Length of 3.1.1 section 2.2.3).

use bytes::BufMut;

/// The largest value a Variable Byte Integer can hold (four bytes).
pub const VARINT_MAX: u32 = 268_435_455;

/// Outcome of reading a Variable Byte Integer from the front of a slice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Varint {
    /// The value and the number of bytes it took.
    Value(u32, usize),
    /// The slice ended before the last byte of the integer.
    Incomplete,
    /// A fifth byte would be needed: malformed.
    TooLong,
    /// The value was not encoded in the fewest bytes (5.0 [MQTT-1.5.5-1]).
    NotMinimal(u32, usize),
}

/// Reads a Variable Byte Integer from the front of `buf`.
#[inline]
pub fn read_varint(buf: &[u8]) -> Varint {
    let mut value: u32 = 0;
    for i in 0..4 {
        let Some(&b) = buf.get(i) else {
            return Varint::Incomplete;
        };
        value |= u32::from(b & 0x7F) << (7 * i);
        if b & 0x80 == 0 {
            // A last byte of zero after the first means a shorter encoding existed.
            if i > 0 && b == 0 {
                return Varint::NotMinimal(value, i + 1);
            }
            return Varint::Value(value, i + 1);
        }
    }
    Varint::TooLong
}

/// Number of bytes needed to encode `value` (1 to 4; values above [`VARINT_MAX`] count as 4).
#[inline]
pub const fn varint_len(value: u32) -> usize {
    if value < 128 {
        1
    } else if value < 16_384 {
        2
    } else if value < 2_097_152 {
        3
    } else {
        4
    }
}

/// Writes `value` in the fewest bytes. Values above [`VARINT_MAX`] are truncated to 28 bits;
/// checked encoding rejects them before this point.
#[inline]
pub fn write_varint(buf: &mut impl BufMut, mut value: u32) {
    loop {
        let mut byte = (value & 0x7F) as u8;
        value >>= 7;
        if value > 0 {
            byte |= 0x80;
        }
        buf.put_u8(byte);
        if value == 0 {
            break;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_boundaries() {
        for v in [
            0, 1, 127, 128, 16_383, 16_384, 2_097_151, 2_097_152, VARINT_MAX,
        ] {
            let mut buf = Vec::new();
            write_varint(&mut buf, v);
            assert_eq!(buf.len(), varint_len(v));
            assert_eq!(read_varint(&buf), Varint::Value(v, buf.len()));
        }
    }

    #[test]
    fn rejects_five_bytes() {
        assert_eq!(
            read_varint(&[0xFF, 0xFF, 0xFF, 0xFF, 0x7F]),
            Varint::TooLong
        );
    }

    #[test]
    fn non_minimal_encoding_is_flagged_mqtt_1_5_5_1() {
        assert_eq!(read_varint(&[0x80, 0x00]), Varint::NotMinimal(0, 2));
        assert_eq!(read_varint(&[0xFF, 0x80, 0x00]), Varint::NotMinimal(127, 3));
    }

    #[test]
    fn incomplete_when_continuation_runs_out() {
        assert_eq!(read_varint(&[0x80]), Varint::Incomplete);
        assert_eq!(read_varint(&[]), Varint::Incomplete);
    }
}
