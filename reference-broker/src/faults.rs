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
    /// A forwarded PUBLISH that has properties gets a User Property of the broker's own
    /// (`touchstone-broker` = `appended`) after the publisher's, which stay unaltered and in
    /// order (breaks nothing: 5.0 [MQTT-3.3.2-17] and [MQTT-3.3.2-18] fix the publisher's User
    /// Properties and their order, not that there are no others). For proving that
    /// conformance cases accept it.
    pub append_user_property: bool,
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
    /// No Local is ignored: a client gets its own messages back (breaks 5.0 [MQTT-3.8.3-3]).
    pub ignore_no_local: bool,
    /// A multi-filter SUBSCRIBE or UNSUBSCRIBE acts on its first filter only, though every
    /// filter gets a code (breaks 3.1.1 [MQTT-3.8.4-4], [MQTT-3.10.4-6]; 5.0 [MQTT-3.8.4-5],
    /// [MQTT-3.10.4-6]).
    pub first_filter_only: bool,
    /// Re-subscribing an existing filter keeps the old subscription's options (breaks 3.1.1
    /// [MQTT-3.8.4-3]; 5.0 [MQTT-3.8.4-3]).
    pub resubscribe_ignored: bool,
    /// PUBLISHes to subscribers carry no Subscription Identifiers (breaks 5.0
    /// [MQTT-3.3.4-3] to [MQTT-3.3.4-5]).
    pub drop_subscription_identifiers: bool,
    /// UNSUBSCRIBE also drops every QoS 1/2 delivery in flight to the client (breaks 3.1.1
    /// [MQTT-3.10.4-3], 5.0 [MQTT-3.10.4-3]).
    pub forget_inflight_on_unsubscribe: bool,
    /// PUBLISHes larger than the client's Maximum Packet Size are sent anyway (breaks 5.0
    /// [MQTT-3.1.2-24], [MQTT-3.1.2-25]).
    pub ignore_client_maximum_packet_size: bool,
    /// Outbound Topic Aliases go up to two above the client's Topic Alias Maximum, so a client
    /// allowing none gets some (breaks 5.0 [MQTT-3.1.2-26], [MQTT-3.1.2-27], [MQTT-3.3.2-11]).
    pub aliases_beyond_client_maximum: bool,
    /// The client's Receive Maximum is ignored (breaks 5.0 [MQTT-3.3.4-9], [MQTT-4.9.0-2]).
    pub ignore_client_receive_maximum: bool,
    /// Expired messages are still delivered (breaks 5.0 [MQTT-3.3.2-5]).
    pub deliver_expired: bool,
    /// Topic Aliases above the Topic Alias Maximum are accepted; Topic Alias equal to the
    /// maximum is refused (breaks 5.0 [MQTT-3.2.2-17], [MQTT-3.3.2-9], [MQTT-3.3.2-12]).
    pub alias_maximum_off_by_one: bool,
    /// More unacknowledged PUBLISHes than the Receive Maximum are accepted (breaks 5.0
    /// [MQTT-3.3.4-7]).
    pub ignore_server_receive_maximum: bool,
    /// CONNACK carries Response Information even when not requested (breaks 5.0
    /// [MQTT-3.1.2-28]).
    pub unrequested_response_information: bool,
    /// Every CONNACK, PUBACK, PUBREC, PUBREL, PUBCOMP, SUBACK, UNSUBACK, DISCONNECT and AUTH
    /// carries a long Reason String and a User Property, whatever the client's Maximum Packet
    /// Size (breaks 5.0 [MQTT-3.2.2-19], [MQTT-3.2.2-20], [MQTT-3.4.2-2], [MQTT-3.4.2-3],
    /// [MQTT-3.5.2-2], [MQTT-3.5.2-3], [MQTT-3.6.2-2], [MQTT-3.6.2-3], [MQTT-3.7.2-2],
    /// [MQTT-3.7.2-3], [MQTT-3.9.2-1], [MQTT-3.9.2-2], [MQTT-3.11.2-1], [MQTT-3.11.2-2],
    /// [MQTT-3.14.2-3], [MQTT-3.14.2-4], [MQTT-3.15.2-2], [MQTT-3.15.2-3]).
    pub oversize_problem_info: bool,
    /// The broker's own advertised limits are not enforced: PUBLISH or Will above Maximum QoS,
    /// RETAIN without Retain Available, packets above its Maximum Packet Size are accepted
    /// (breaks 5.0 [MQTT-3.2.2-11] to [MQTT-3.2.2-15]).
    pub ignore_own_limits: bool,
    /// A CONNECT with the Client Identifier of a connected client does not close the old
    /// connection (breaks 3.1.1 [MQTT-3.1.4-2], 5.0 [MQTT-3.1.4-3]).
    pub no_takeover_close: bool,
    /// The Will Delay Interval is ignored: Wills are published at once (breaks 5.0
    /// [MQTT-3.1.3-9]).
    pub ignore_will_delay: bool,
    /// Sessions never expire once their connection closed (breaks 5.0 [MQTT-4.1.0-2]).
    pub sessions_never_expire: bool,
    /// After a malformed packet on a connected connection the broker neither closes it nor
    /// reads anything more from it: the connection hangs (breaks 3.1.1 [MQTT-4.8.0-1], 5.0
    /// [MQTT-4.13.1-1]). For the live fuzzer's hang oracle.
    pub hang_on_malformed: bool,
    /// After the first malformed packet any client sends, the broker answers no new CONNECT
    /// (the connection with the malformed packet is closed as usual): the broker is wedged
    /// for new clients. For the live fuzzer's liveness oracle.
    pub wedge_after_malformed: bool,
    /// A SUBSCRIBE asking for QoS 2 on any filter is answered with a SUBACK whose reserved
    /// fixed-header flags are 0010 instead of 0000 (breaks 3.1.1 [MQTT-2.2.2-1], 5.0
    /// [MQTT-2.1.3-1]). For the live fuzzer's invalid-packet oracle.
    pub bad_suback_flags: bool,
    /// A PUBREL for a packet id the session does not hold closes the connection (5.0 with
    /// DISCONNECT 0x82) instead of being answered with PUBCOMP (breaks 3.1.1 [MQTT-4.3.3-2]
    /// as to the PUBCOMP, 5.0 [MQTT-4.3.3-11]).
    pub close_on_unknown_pubrel: bool,
    /// A QoS 1 or 2 message that finds the queue of a connected session full is dropped
    /// without being counted as dropped (a silent loss: breaks 3.1.1 and 5.0 [MQTT-4.5.0-1]
    /// as far as anyone can tell). For the broker-core fuzzer's model check.
    pub uncounted_queue_drop: bool,
    /// Every DISCONNECT the broker sends before closing a 5.0 connection over an error carries
    /// 0x80 Unspecified error instead of the code the text names (falls short of a SHOULD of
    /// 5.0 section 4.13.1 only; the close, the MUST of [MQTT-4.13.1-1], stays). For proving
    /// that conformance cases accept it.
    pub generic_disconnect_code: bool,
    /// The broker closes a 5.0 connection over an error without the DISCONNECT before it (falls
    /// short of the SHOULD of 5.0 section 4.13.1 only; the close stays). For proving that
    /// conformance cases report it as a SHOULD not followed, not a failure.
    pub silent_error_close: bool,
    /// A CONNECT naming a protocol level the broker does not support is answered with the 5.0
    /// CONNACK 0x84 Unsupported Protocol Version (`20 03 00 84 00`) instead of the 3.1.1
    /// CONNACK 0x01, then the close. Allowed to a server that also implements 5.0: it cannot
    /// tell which version's client sent an unknown level, and 5.0 [MQTT-3.1.2-2] lets it answer
    /// 0x84. For proving that conformance cases accept it.
    pub v5_connack_for_unknown_level: bool,
    /// A client's PUBACK with properties (Reason String, User Property; allowed) is taken for a
    /// protocol error and the connection closed (breaks 5.0 [MQTT-4.3.2-3] as far as the
    /// client can tell: its acknowledgement is refused).
    pub close_on_acknowledgement_properties: bool,
}

impl Faults {
    /// True if any fault is on.
    pub fn any(&self) -> bool {
        *self != Faults::default()
    }
}
