//! What a scenario is made of: the client slots, topics and filters, and the steps.

/// Client slots a scenario uses (client identifiers `c0` to `c3`).
pub const CLIENTS: usize = 4;

/// Topic names the steps publish to.
pub const TOPICS: &[&str] = &["a", "a/b", "a/b/c", "b", "/a", "a/", "$s/a", "$share/g/a"];

/// Topic filters the steps subscribe to (`$share/...` is a shared subscription in 5.0 and an
/// ordinary filter in 3.1.1).
pub const FILTERS: &[&str] = &[
    "a",
    "a/b",
    "a/+",
    "a/#",
    "#",
    "+",
    "+/b",
    "+/+",
    "$s/#",
    "$s/+",
    "/a",
    "/+",
    "a/b/c",
    "a/+/c",
    "$share/g/a/#",
    "$share/g/+",
    "$share/h/#",
];

#[cfg(feature = "fuzzing")]
use arbitrary::Arbitrary;

/// A packet id choice: one the runner saw in flight on the connection (plausible), or any.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "fuzzing", derive(Arbitrary))]
pub enum Pid {
    /// The n-th (cyclically) packet id in flight from the broker on this connection (1 if none).
    InFlight(u8),
    /// This id (0 becomes 1).
    Fixed(u16),
}

/// Which acknowledgement a client sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "fuzzing", derive(Arbitrary))]
pub enum AckKind {
    /// PUBACK.
    PubAck,
    /// PUBREC.
    PubRec,
    /// PUBREL.
    PubRel,
    /// PUBCOMP.
    PubComp,
}

/// One filter of a SUBSCRIBE.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "fuzzing", derive(Arbitrary))]
pub struct SubSpec {
    /// Index into [`FILTERS`] (cyclically).
    pub filter: u8,
    /// Requested QoS (`% 3`).
    pub qos: u8,
    /// No Local (5.0).
    pub no_local: bool,
    /// Retain As Published (5.0).
    pub retain_as_published: bool,
    /// Retain Handling (`% 3`, 5.0).
    pub retain_handling: u8,
}

/// The Will of a CONNECT.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "fuzzing", derive(Arbitrary))]
pub struct WillSpec {
    /// Index into [`TOPICS`].
    pub topic: u8,
    /// QoS (`% 3`).
    pub qos: u8,
    /// RETAIN.
    pub retain: bool,
    /// 5.0 Will Delay Interval in seconds (`% 8`, 0: absent).
    pub delay: u8,
}

/// A step of a scenario. `client` picks a slot (`% CLIENTS`); steps other than `Connect` and
/// `Raw` act on the slot's latest connection and do nothing if it has none.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "fuzzing", derive(Arbitrary))]
pub enum Step {
    /// Send a CONNECT for client identifier `c{client}` (or an empty one), on a new connection
    /// or on the slot's current one (a second CONNECT).
    Connect {
        /// Slot.
        client: u8,
        /// 5.0 (else 3.1.1).
        v5: bool,
        /// Open a new connection (a takeover if the old one is still open).
        new_connection: bool,
        /// Clean Start / Clean Session.
        clean: bool,
        /// An empty client identifier instead of `c{client}`.
        empty_id: bool,
        /// Keep Alive in seconds (`% 8`).
        keep_alive: u8,
        /// 5.0 Session Expiry Interval: `None` absent, else seconds (`% 16`, 15: 0xFFFFFFFF).
        expiry: Option<u8>,
        /// 5.0 Receive Maximum (`% 5`, 0: absent).
        receive_maximum: u8,
        /// 5.0 Topic Alias Maximum (`% 3`).
        alias_maximum: u8,
        /// 5.0 Maximum Packet Size: `Some(n)` is `16 + 4 * n` bytes.
        maximum_packet_size: Option<u8>,
        /// The Will.
        will: Option<WillSpec>,
        /// 5.0 Authentication Method `SCRAM-SHA-256` with this client-first data.
        auth: Option<u8>,
    },
    /// SUBSCRIBE.
    Subscribe {
        /// Slot.
        client: u8,
        /// Packet id.
        pid: u16,
        /// The filters (an empty list is a malformed SUBSCRIBE).
        filters: Vec<SubSpec>,
        /// 5.0 Subscription Identifier (`% 4`, 0: absent).
        sub_id: u8,
    },
    /// UNSUBSCRIBE.
    Unsubscribe {
        /// Slot.
        client: u8,
        /// Packet id.
        pid: u16,
        /// Indexes into [`FILTERS`].
        filters: Vec<u8>,
    },
    /// PUBLISH with a payload that identifies the message (`t:{n}`).
    Publish {
        /// Slot.
        client: u8,
        /// Index into [`TOPICS`].
        topic: u8,
        /// QoS (`% 4`: 3 is malformed).
        qos: u8,
        /// RETAIN.
        retain: bool,
        /// DUP.
        dup: bool,
        /// Packet id for QoS 1 and 2.
        pid: u16,
        /// 5.0 Topic Alias (`% 4`, 0: none; 3 is above the broker's maximum); with
        /// `empty_topic` the topic is left out.
        alias: u8,
        /// Leave the topic out (with an alias).
        empty_topic: bool,
        /// Re-send the slot's previous PUBLISH instead (same payload, DUP 1).
        resend: bool,
    },
    /// PUBACK, PUBREC, PUBREL or PUBCOMP.
    Ack {
        /// Slot.
        client: u8,
        /// Which.
        kind: AckKind,
        /// Packet id.
        pid: Pid,
        /// 5.0 reason code 0x80 (Unspecified error) instead of success.
        failure: bool,
    },
    /// PINGREQ.
    Ping {
        /// Slot.
        client: u8,
    },
    /// DISCONNECT.
    Disconnect {
        /// Slot.
        client: u8,
        /// 5.0 reason code: 0x00, or 0x04 (Disconnect with Will Message) when true.
        with_will: bool,
        /// 5.0 Session Expiry Interval in seconds (`% 16`).
        expiry: Option<u8>,
    },
    /// AUTH (5.0; re-authentication or continue).
    Auth {
        /// Slot.
        client: u8,
        /// 0x00, 0x18 or 0x19 (`% 3`).
        reason: u8,
    },
    /// Raw bytes on the slot's connection (a new one if it has none), delivered in chunks of
    /// the given sizes (cyclically; 0 means the rest).
    Raw {
        /// Slot.
        client: u8,
        /// The bytes.
        data: Vec<u8>,
        /// Chunk sizes.
        chunks: Vec<u8>,
    },
    /// The client closes its connection (no DISCONNECT).
    Close {
        /// Slot.
        client: u8,
    },
    /// Time passes: `ms * 16` milliseconds (up to about 17 minutes), firing timers on the way.
    Advance {
        /// Sixteen-millisecond units.
        ms: u16,
    },
}
