//! Test-only faults: switches that make the broker break one rule of the specification on
//! purpose, so that a conformance suite can prove that each of its cases fails against a
//! broken broker. All are off by default; never turn them on in any other use.
//!
//! Each fault is one small branch in the core, next to the code that obeys the rule it breaks
//! (search for `faults.` in `src/core`).

use serde::Deserialize;

/// The rules the broker can be told to break. See the README for the statement each breaks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Faults {
    /// Retained PUBLISHes are forwarded but never stored
    /// (breaks 3.1.1 [MQTT-3.3.1-5], 5.0 [MQTT-3.3.1-5]).
    pub no_retain_store: bool,
    /// A retained PUBLISH with an empty payload does not clear the topic's retained message
    /// (breaks 3.1.1 [MQTT-3.3.1-10], 5.0 [MQTT-3.3.1-6]).
    pub no_retain_clear: bool,
    /// Retained messages sent because of a new subscription carry RETAIN=0
    /// (breaks 3.1.1 [MQTT-3.3.1-8], 5.0 [MQTT-3.3.1-9] as to the flag).
    pub retained_without_retain_flag: bool,
    /// Messages forwarded to established subscriptions keep the publisher's RETAIN flag
    /// (breaks 3.1.1 [MQTT-3.3.1-9], 5.0 [MQTT-3.3.1-12]).
    pub forward_retain_flag: bool,
    /// No Will is published when a connection ends without DISCONNECT
    /// (breaks 3.1.1 [MQTT-3.1.2-8], 5.0 [MQTT-3.1.2-8]).
    pub no_will_on_abrupt_close: bool,
    /// The Will is published even after a normal DISCONNECT
    /// (breaks 3.1.1 [MQTT-3.14.4-3], 5.0 [MQTT-3.14.4-3]).
    pub will_after_disconnect: bool,
    /// Keep-alive is not enforced (breaks 3.1.1 [MQTT-3.1.2-24], 5.0 [MQTT-3.1.2-22]).
    pub ignore_keep_alive: bool,
    /// Filters starting with `+` or `#` match topics starting with `$`
    /// (breaks [MQTT-4.7.2-1] of both versions).
    pub dollar_topics_match_wildcards: bool,
    /// SUBACK grants QoS 2 whatever was requested (breaks 3.1.1 [MQTT-3.8.4-5] and
    /// [MQTT-3.8.4-6], 5.0 [MQTT-3.8.4-7] and [MQTT-3.8.4-8]).
    pub grant_higher_qos: bool,
    /// Messages are delivered at the publisher's QoS instead of the lower of it and the granted
    /// QoS (breaks 3.1.1 [MQTT-3.8.4-6], 5.0 [MQTT-3.8.4-8]).
    pub deliver_at_publish_qos: bool,
    /// PUBACK, PUBREC, PUBCOMP, SUBACK and UNSUBACK carry the packet id plus one
    /// (breaks 3.1.1 [MQTT-2.3.1-6], [MQTT-2.3.1-7]; 5.0 [MQTT-2.2.1-5], [MQTT-2.2.1-6]).
    pub wrong_ack_packet_id: bool,
    /// Redelivered PUBLISHes carry DUP=0 (breaks [MQTT-3.3.1-1] of both versions).
    pub no_dup_on_redelivery: bool,
    /// User Properties are not forwarded (breaks 5.0 [MQTT-3.3.2-17]).
    pub drop_user_properties: bool,
    /// User Properties are forwarded in reverse order (breaks 5.0 [MQTT-3.3.2-18]).
    pub reorder_user_properties: bool,
    /// The Message Expiry Interval is forwarded as received, not reduced by the time the
    /// message waited (breaks 5.0 [MQTT-3.3.2-6]).
    pub no_message_expiry_decrement: bool,
    /// Malformed packets are skipped instead of closing the connection (breaks 5.0
    /// [MQTT-4.13.1-1], 3.1.1 [MQTT-4.8.0-1]). A broken fixed header discards what is
    /// buffered.
    pub accept_malformed: bool,
    /// CONNACK's Session Present flag is inverted for accepted connections (breaks 3.1.1
    /// [MQTT-3.2.2-1] to [MQTT-3.2.2-3], 5.0 [MQTT-3.2.2-2], [MQTT-3.2.2-3]).
    pub wrong_session_present: bool,
    /// PINGREQ gets no PINGRESP (breaks [MQTT-3.12.4-1] of both versions).
    pub no_pingresp: bool,
}

impl Faults {
    /// True if any fault is on.
    pub fn any(&self) -> bool {
        *self != Faults::default()
    }
}
