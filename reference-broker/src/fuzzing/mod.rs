//! A scenario runner with a reference model, for the `broker_core` fuzz target and for tests.
//!
//! A scenario is a list of [`Step`]s for up to [`CLIENTS`] client slots (client identifiers
//! `c0` to `c3`): open a connection and send CONNECT (3.1.1 or 5.0, Clean Start, Session Expiry,
//! Will, Receive Maximum, ...), SUBSCRIBE / UNSUBSCRIBE from a small filter alphabet (wildcards,
//! `$` topics, `$share`), PUBLISH at QoS 0/1/2 with RETAIN and Topic Aliases, acknowledgements
//! with plausible or wrong packet ids, PINGREQ, DISCONNECT, AUTH, raw bytes in arbitrary chunks,
//! closing the connection, and moving the clock (past keep-alive, Will Delay, session and
//! message expiry). [`run`] drives a [`Broker`] with them and returns the first [`Violation`].
//!
//! The runner decodes every byte it sends with the broker's own strict decoder (a mirror of the
//! connection's input buffer), so the model knows each packet the broker received, however the
//! bytes were produced or split. What it checks, after every step:
//!
//! 1. **Wire.** Every byte sent to a connection decodes with the strict codec for the
//!    connection's protocol (3.1.1 for the CONNACK 0x01 answering an unsupported level); only
//!    packet types a server sends (3.1.1 and 5.0 section 2.1.2), CONNACK first and once
//!    (3.1.1 [MQTT-3.2.0-1], 5.0 [MQTT-3.2.0-1]), nothing after a DISCONNECT or a close; no
//!    packet larger than a 5.0 client's Maximum Packet Size (5.0 [MQTT-3.1.2-24]).
//! 2. **Acknowledgements.** PUBACK/PUBREC, SUBACK and UNSUBACK carry the id of the packet they
//!    answer (3.1.1 [MQTT-2.3.1-6], [MQTT-2.3.1-7]; 5.0 [MQTT-2.2.1-5], [MQTT-2.2.1-6]); a SUBACK
//!    has one code per filter and never grants more than requested (3.1.1 [MQTT-3.8.4-5],
//!    5.0 [MQTT-3.8.4-6]; granted QoS may only be lower).
//! 3. **Delivery model.** A QoS 1 or 2 PUBLISH the broker acknowledged with success (PUBACK, or
//!    PUBREC that is not the answer to a QoS 2 duplicate) must reach every session with a
//!    matching ordinary subscription (No Local honoured) at the QoS min(published, highest
//!    granted), when that is 1 or 2 (QoS 0 deliveries may be dropped) (3.1.1 [MQTT-3.8.4-6], 5.0 [MQTT-3.8.4-8]; one copy for overlapping subscriptions,
//!    as the broker documents). Checked at the end: each session that still exists reconnects
//!    with Clean Start 0 and acknowledges everything; every obligation must have been met unless
//!    the session ended, its queue dropped messages (`max_queued_messages`, counted per
//!    session), a client declared a Maximum Packet Size (such messages are dropped as if
//!    delivered, 5.0 [MQTT-3.1.2-25]), or the message had a Message Expiry Interval.
//! 4. **No stray deliveries.** A live delivery (RETAIN 0) of a tracked message goes only to a
//!    session that had a matching subscription (plain or shared) when it was published, and at
//!    the expected QoS when only plain subscriptions matched ([MQTT-4.7.2-1] for `$` topics, 5.0
//!    [MQTT-3.8.3-3] for No Local).
//! 5. **Exactly once.** A QoS 2 message reaches a session in one QoS 2 flow at most (one packet
//!    id; re-sends carry DUP 1 and the same id), also when the publisher re-sends it (3.1.1
//!    [MQTT-4.3.3-2], 5.0 [MQTT-4.3.3-10], [MQTT-4.3.3-11] on the receiving side). Messages
//!    published with RETAIN are exempt (a new subscription legitimately gets them again).
//! 6. **Flows.** A new QoS 1/2 PUBLISH has DUP 0 and a packet id not in use (3.1.1
//!    [MQTT-4.3.2-1], [MQTT-4.3.3-1], [MQTT-2.3.1-2]; 5.0 [MQTT-4.3.2-1], [MQTT-4.3.3-1],
//!    [MQTT-2.2.1-3]); no PUBLISH re-send after PUBREC; a 5.0 client's Receive Maximum is
//!    respected for new messages (5.0 [MQTT-3.3.4-9], [MQTT-4.9.0-2]); on reconnect with a
//!    present session every unacknowledged PUBLISH is re-sent with DUP 1 and every PUBREL
//!    again, on the CONNACK's step (3.1.1 [MQTT-4.4.0-1], 5.0 [MQTT-4.4.0-1]); Session Present
//!    is 1 exactly when Clean Start is 0 and a session existed (3.1.1 [MQTT-3.2.2-1] to
//!    [MQTT-3.2.2-3], 5.0 [MQTT-3.2.2-2], [MQTT-3.2.2-3]).
//! 7. **Bounded state.** `stats().connections` equals the connections open; retained messages
//!    stay within `max_retained_messages`; each session's queue within `max_queued_messages`;
//!    `stats().subscriptions` equals the sum of the sessions' subscriptions, and for tracked
//!    sessions the model's count.
//!
//! A session whose packets the model cannot follow exactly (its connection was closed while
//! several packets arrived in one chunk) is marked uncertain and not checked until it is known
//! to start afresh. Shared subscriptions only relax checks (any member may get the message).

mod checks;
mod collect;
mod config;
mod inputs;
mod model;
mod naive;
mod outputs;
mod runner;
mod scenario;

pub use config::{config_from_env, fuzz_config};
pub use naive::{naive_filter, naive_matches, naive_topic_name};
#[cfg(feature = "fuzzing")]
pub use runner::replay;
pub use runner::{run, Violation};
pub use scenario::*;

#[cfg(test)]
mod tests;
