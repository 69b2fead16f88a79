//! The topic filter lists of SUBSCRIBE and UNSUBSCRIBE once checked: where they lie in the packet,
//! and the walk over them that builds both the owned and the borrowed forms.

use crate::reader::Span;

/// A checked list of topic filters: its bounds in the packet and how many filters it holds.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FilterList {
    pub(crate) start: usize,
    pub(crate) end: usize,
    pub(crate) count: usize,
}

/// The filter at `pos` in `packet`, a checked list whose filters are each followed by
/// `extra` bytes (1 for the Subscription Options, 0 in UNSUBSCRIBE): its span, the byte after it
/// (0 if `extra` is 0) and the offset of the next filter. `None` past the end.
#[inline]
pub(crate) fn next_filter(packet: &[u8], pos: usize, extra: usize) -> Option<(Span, u8, usize)> {
    let len = packet.get(pos..pos + 2)?;
    let start = pos + 2;
    let end = start + u16::from_be_bytes([len[0], len[1]]) as usize;
    let byte = if extra == 0 { 0 } else { *packet.get(end)? };
    Some(((start, end), byte, end + extra))
}
