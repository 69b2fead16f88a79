//! Application messages as the broker holds them: shared between every session they are
//! queued in and the retained store.

use std::sync::Arc;

use bytes::Bytes;
use touchstone_codec::properties::{Props, PublishProperties};
use touchstone_codec::{QoS, Str};

use super::Millis;
use super::SessionId;

/// A message the broker owns: what the publisher sent, minus the Topic Alias and Subscription
/// Identifiers, which belong to one connection and one subscription.
#[derive(Debug, Clone)]
pub(crate) struct Message {
    pub topic: Str,
    pub payload: Bytes,
    /// QoS as published.
    pub qos: QoS,
    /// RETAIN as published.
    pub retain: bool,
    /// Properties to forward: Payload Format Indicator, Message Expiry Interval (as received),
    /// Content Type, Response Topic, Correlation Data, User Properties (in order).
    pub props: Props<PublishProperties>,
    /// When the broker received it (for the Message Expiry Interval).
    pub received_at: Millis,
    /// The publishing session, for No Local; `None` for Will Messages of ended sessions.
    pub origin: Option<SessionId>,
}

impl Message {
    /// The time the message expires, if it has a Message Expiry Interval.
    pub fn expires_at(&self) -> Option<Millis> {
        self.props
            .message_expiry_interval
            .map(|s| self.received_at.saturating_add(u64::from(s) * 1000))
    }

    /// True once the Message Expiry Interval has passed (5.0 [MQTT-3.3.2-5]). An interval of
    /// 0 lets the message go to the subscribers connected when it arrives, and no further.
    pub fn expired(&self, now: Millis) -> bool {
        self.expires_at()
            .is_some_and(|t| now >= t && now > self.received_at)
    }

    /// The Message Expiry Interval to forward: the received one minus the whole seconds the
    /// message has waited (5.0 [MQTT-3.3.2-6]).
    pub fn remaining_expiry(&self, now: Millis) -> Option<u32> {
        let interval = self.props.message_expiry_interval?;
        let waited = now.saturating_sub(self.received_at) / 1000;
        Some(interval.saturating_sub(u32::try_from(waited).unwrap_or(u32::MAX)))
    }
}

/// One message on its way to one session: the QoS and RETAIN it is delivered with and the
/// Subscription Identifiers of the subscriptions it matched.
#[derive(Debug, Clone)]
pub(crate) struct Delivery {
    pub msg: Arc<Message>,
    pub qos: QoS,
    pub retain: bool,
    pub sub_ids: Vec<u32>,
}
