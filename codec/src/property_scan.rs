//! The scan of a 5.0 PUBLISH's properties when they are the usual kind, shared by the decoder's
//! fast path (`fast`) and the general PUBLISH decoder (`packet::publish`), which uses it to
//! check a borrowed packet's properties in one pass. A leaf: it knows bytes only, not packets.

/// What [`scan_publish_properties`] does with each property it has checked.
pub(crate) trait Visit {
    /// Property `id`, whose value is `b[start..end]` (for a string, with its length; for a
    /// User Property, from its identifier on).
    fn property(&mut self, b: &[u8], id: u8, start: usize, end: usize);
}

/// Checking only.
impl Visit for () {
    #[inline(always)]
    fn property(&mut self, _: &[u8], _: u8, _: usize, _: usize) {}
}

/// Walks the properties of a 5.0 PUBLISH starting at `pos` (its Property Length), when they are
/// the usual kind: a one-byte Property Length, each property once (but Subscription
/// Identifiers and User Properties), one-byte Subscription Identifiers, short ASCII strings,
/// adjacent User Properties and no Correlation Data. It checks their values as the general
/// decoder does, hands each to `visit`, and returns the offset after the properties and
/// whether a Topic Alias is among them. `None` leaves anything else (and every error) to the
/// general decoder.
#[inline(always)]
pub(crate) fn scan_publish_properties(
    b: &[u8],
    pos: usize,
    visit: &mut impl Visit,
) -> Option<(usize, bool)> {
    let len = *b.get(pos)?;
    if len >= 0x80 {
        return None;
    }
    let end = pos + 1 + len as usize;
    if end > b.len() {
        return None;
    }
    let mut seen = 0u64;
    let mut user_end = 0;
    let mut p = pos + 1;
    while p < end {
        let id = b[p];
        if id >= 64 || (seen & (1 << id) != 0 && id != 0x26 && id != 0x0B) {
            return None;
        }
        seen |= 1 << id;
        let at = p;
        p += 1;
        // The value's bounds.
        let (start, value_end) = match id {
            0x01 => {
                if *b.get(p)? > 1 {
                    return None;
                }
                (p, p + 1)
            }
            0x02 => (p, p + 4),
            0x23 => {
                if u16::from_be_bytes([*b.get(p)?, *b.get(p + 1)?]) == 0 {
                    return None;
                }
                (p, p + 2)
            }
            0x0B => {
                let v = *b.get(p)?;
                if v == 0 || v >= 0x80 {
                    return None;
                }
                (p, p + 1)
            }
            0x03 | 0x08 => {
                let e = plain_string(b, p)?;
                if id == 0x08 && (e == p + 2 || b[p + 2..e].iter().any(|&c| c == b'+' || c == b'#'))
                {
                    return None;
                }
                (p, e)
            }
            0x26 => {
                if user_end != 0 && user_end != at {
                    return None;
                }
                user_end = plain_string(b, plain_string(b, p)?)?;
                (at, user_end)
            }
            _ => return None,
        };
        if value_end > end {
            return None;
        }
        visit.property(b, id, start, value_end);
        p = value_end;
    }
    Some((end, seen & (1 << 0x23) != 0))
}

/// The end of the short ASCII string (no U+0000) whose length is at `at`.
#[inline(always)]
fn plain_string(b: &[u8], at: usize) -> Option<usize> {
    let n = u16::from_be_bytes([*b.get(at)?, *b.get(at + 1)?]) as usize;
    let s = b.get(at + 2..at + 2 + n)?;
    crate::scan::plain(s).then_some(at + 2 + n)
}
