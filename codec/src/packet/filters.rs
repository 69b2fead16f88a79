//! The topic filter lists of SUBSCRIBE and UNSUBSCRIBE once checked: where they lie in the packet
//! (walked with [`crate::reader::next_field`] to build both the owned and the borrowed forms).

/// A checked list of topic filters: its bounds in the packet and how many filters it holds.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FilterList {
    pub(crate) start: usize,
    pub(crate) end: usize,
    pub(crate) count: usize,
}
