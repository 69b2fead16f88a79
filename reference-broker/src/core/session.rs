//! Session state (3.1.1 section 4.1, 5.0 section 4.1): subscriptions, QoS 1 and 2 messages in
//! flight both ways, the queue of messages waiting to be sent, the pending Will and expiry.

use std::collections::VecDeque;

use touchstone_codec::{Protocol, Str, SubscriptionOptions, Will};

use super::message::Delivery;
use super::{ConnectionId, Millis};
use crate::fxhash::{FxHashMap, PeerKeyMap};

/// A subscription as the session holds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SessionSub {
    pub opts: SubscriptionOptions,
    pub sub_id: Option<u32>,
    /// Made as a 5.0 shared subscription (`$share/...` is a plain filter in 3.1.1).
    pub shared: bool,
}

/// Where an outgoing QoS 1 or 2 message stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OutState {
    /// PUBLISH sent (QoS 1: waiting for PUBACK; QoS 2: for PUBREC).
    Published,
    /// QoS 2 PUBREL sent, waiting for PUBCOMP.
    Released,
}

/// An outgoing QoS 1 or 2 message with its packet id.
#[derive(Debug, Clone)]
pub(crate) struct Inflight {
    /// Send order, for redelivery in order (5.0 [MQTT-4.6.0-1] and 3.1.1 [MQTT-4.6.0-1] on the
    /// client side; the broker keeps the same order).
    pub seq: u64,
    pub delivery: Delivery,
    pub state: OutState,
}

/// A Will waiting for its Will Delay Interval (5.0 section 3.1.3.2.2).
#[derive(Debug, Clone)]
pub(crate) struct PendingWill {
    pub will: Will,
}

/// The state of one session.
#[derive(Debug)]
pub(crate) struct Session {
    pub client_id: Str,
    /// The connection attached, if any.
    pub conn: Option<ConnectionId>,
    /// The protocol of the last connection.
    pub protocol: Protocol,
    /// Session Expiry Interval, seconds (0xFFFFFFFF: never).
    pub expiry: u32,
    /// Bumped whenever a scheduled expiry stops applying.
    pub expiry_gen: u64,
    pub subscriptions: PeerKeyMap<Str, SessionSub>,
    /// Outgoing QoS 1 and 2 messages by packet id.
    pub inflight: FxHashMap<u16, Inflight>,
    pub next_seq: u64,
    pub next_pid: u16,
    /// Messages waiting for the client to connect or for send quota.
    pub queue: VecDeque<Delivery>,
    /// Incoming QoS 2 packet ids whose PUBREL has not arrived (5.0 [MQTT-4.3.3-10]).
    pub incoming_qos2: FxHashMap<u16, ()>,
    pub pending_will: Option<PendingWill>,
    pub will_gen: u64,
    /// Messages dropped because the queue was full.
    pub dropped: u64,
}

impl Session {
    pub fn new(client_id: Str, protocol: Protocol) -> Session {
        Session {
            client_id,
            conn: None,
            protocol,
            expiry: 0,
            expiry_gen: 0,
            subscriptions: PeerKeyMap::default(),
            inflight: FxHashMap::default(),
            next_seq: 0,
            next_pid: 1,
            queue: VecDeque::new(),
            incoming_qos2: FxHashMap::default(),
            pending_will: None,
            will_gen: 0,
            dropped: 0,
        }
    }

    /// A packet id not in use by an outgoing message (3.1.1 [MQTT-2.3.1-4], 5.0
    /// [MQTT-2.2.1-4]); `None` if all 65,535 are.
    pub fn allocate_pid(&mut self) -> Option<u16> {
        if self.inflight.len() >= usize::from(u16::MAX) {
            return None;
        }
        loop {
            let pid = self.next_pid;
            self.next_pid = self.next_pid.checked_add(1).unwrap_or(1);
            if !self.inflight.contains_key(&pid) {
                return Some(pid);
            }
        }
    }

    /// Queues a delivery; `false` (and counted as dropped) if the queue is full.
    pub fn enqueue(&mut self, d: Delivery, max: usize) -> bool {
        if self.queue.len() >= max {
            self.dropped += 1;
            return false;
        }
        self.queue.push_back(d);
        true
    }

    /// In-flight messages in the order they were first sent.
    pub fn inflight_in_order(&self) -> Vec<u16> {
        let mut v: Vec<(u64, u16)> = self.inflight.iter().map(|(k, e)| (e.seq, *k)).collect();
        v.sort_unstable();
        v.into_iter().map(|(_, k)| k).collect()
    }

    /// When the session expires after its connection closed at `now`.
    pub fn expires_at(&self, now: Millis) -> Option<Millis> {
        (self.expiry != u32::MAX).then(|| now + u64::from(self.expiry) * 1000)
    }
}
