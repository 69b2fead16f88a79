//! Timer deadlines: a heap with lazy deletion. An entry that no longer applies (a keep-alive
//! reset by traffic, a Will cancelled by a reconnect) is checked and dropped when it fires.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use super::SessionId;
use super::{ConnectionId, Millis};

/// What a deadline is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Timer {
    /// The connection's CONNECT timeout or keep-alive.
    Conn(ConnectionId),
    /// A delayed Will Message; the number is the session's will generation.
    Will(SessionId, u64),
    /// Session expiry; the number is the session's expiry generation.
    SessionExpiry(SessionId, u64),
}

/// The pending deadlines.
#[derive(Debug, Default)]
pub(crate) struct Timers {
    heap: BinaryHeap<Reverse<(Millis, Timer)>>,
}

impl Timers {
    pub fn schedule(&mut self, at: Millis, timer: Timer) {
        self.heap.push(Reverse((at, timer)));
    }

    /// The earliest deadline (possibly of an entry that no longer applies).
    pub fn next(&self) -> Option<Millis> {
        self.heap.peek().map(|Reverse((at, _))| *at)
    }

    /// Removes and returns an entry due at `now`.
    pub fn pop_due(&mut self, now: Millis) -> Option<(Millis, Timer)> {
        match self.heap.peek() {
            Some(Reverse((at, _))) if *at <= now => self.heap.pop().map(|Reverse(e)| e),
            _ => None,
        }
    }
}
