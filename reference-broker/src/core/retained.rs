//! The retained message store: the last retained message of each topic, with its Message
//! Expiry Interval.

use crate::fxhash::PeerKeyMap;
use std::sync::Arc;

use touchstone_codec::topic::{has_wildcards, topic_matches};
use touchstone_codec::Str;

use super::message::Message;
use super::Millis;

/// Retained messages by topic. Retained messages are not session state and outlive every
/// session (3.1.1 [MQTT-3.1.2-7]).
#[derive(Debug, Default)]
pub(crate) struct RetainedStore {
    by_topic: PeerKeyMap<Str, Arc<Message>>,
}

impl RetainedStore {
    /// Stores `msg` as its topic's retained message, replacing any other (3.1.1
    /// [MQTT-3.3.1-5], 5.0 [MQTT-3.3.1-5]); `false` if the store is full and the topic new.
    pub fn set(&mut self, msg: Arc<Message>, capacity: usize) -> bool {
        if self.by_topic.len() >= capacity && !self.by_topic.contains_key(&msg.topic) {
            return false;
        }
        self.by_topic.insert(msg.topic.clone(), msg);
        true
    }

    /// Removes the topic's retained message (3.1.1 [MQTT-3.3.1-10], 5.0 [MQTT-3.3.1-6]).
    pub fn clear(&mut self, topic: &str) {
        self.by_topic.remove(topic);
    }

    /// The unexpired retained messages matching `filter`, in topic order; expired ones are
    /// dropped.
    pub fn matching(&mut self, filter: &str, now: Millis, dollar_rule: bool) -> Vec<Arc<Message>> {
        self.by_topic.retain(|_, m| !m.expired(now));
        if !has_wildcards(filter) {
            return self.by_topic.get(filter).cloned().into_iter().collect();
        }
        let wild_root = filter.starts_with('+') || filter.starts_with('#');
        let mut out: Vec<Arc<Message>> = self
            .by_topic
            .values()
            .filter(|m| {
                if !dollar_rule && wild_root && m.topic.starts_with('$') {
                    // The `$` rule broken on purpose: match as if the topic had no `$`.
                    return topic_matches(filter, &m.topic.replacen('$', "_", 1));
                }
                topic_matches(filter, &m.topic)
            })
            .cloned()
            .collect();
        out.sort_by(|a, b| a.topic.cmp(&b.topic));
        out
    }

    /// Number of retained messages (expired ones included until next looked up).
    pub fn len(&self) -> usize {
        self.by_topic.len()
    }
}
