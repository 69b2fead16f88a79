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

use std::collections::BTreeMap;

// The model's maps hold the run's own keys (tags, packet ids, client ids of four clients): the
// fast Fx hash, not SipHash (which cost a fifth of every execution).
use crate::fxhash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::fmt;

use bytes::{Bytes, BytesMut};
use touchstone_codec::{
    peek_protocol, Auth, Connect, Decoder, ErrorKind, Packet, PacketId, Protocol, PubAck, PubComp,
    PubRec, PubRel, Publish, QoS, ReasonCode, RetainHandling, Subscribe, Subscription,
    SubscriptionOptions, Unsubscribe, Will,
};

use crate::config::Config;
use crate::core::{Action, Broker, ConnectionId, Event, Millis};

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

/// The configuration scenarios run with: small limits, so that they are reached.
pub fn fuzz_config() -> Config {
    Config {
        receive_maximum: 3,
        topic_alias_maximum: 2,
        maximum_packet_size: Some(2048),
        max_session_expiry: 120,
        max_queued_messages: 4,
        max_retained_messages: 4,
        connect_timeout: 5,
        ..Config::default()
    }
}

/// [`fuzz_config`] with the faults named in `TOUCHSTONE_FUZZ_FAULTS` (comma-separated
/// [`Faults`](crate::Faults) field names, e.g. `deliver_at_publish_qos,ignore_no_local`) switched
/// on, to show that the fuzz target finds a broken broker. An unknown name is an error.
pub fn config_from_env() -> Result<Config, crate::ConfigError> {
    let mut config = fuzz_config();
    if let Ok(names) = std::env::var("TOUCHSTONE_FUZZ_FAULTS") {
        let text: String = names
            .split(',')
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map(|n| format!("{n} = true\n"))
            .collect();
        config.faults = toml::from_str(&text)?;
    }
    Ok(config)
}

#[cfg(feature = "arbitrary")]
use arbitrary::Arbitrary;

/// A packet id choice: one the runner saw in flight on the connection (plausible), or any.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "arbitrary", derive(Arbitrary))]
pub enum Pid {
    /// The n-th (cyclically) packet id in flight from the broker on this connection (1 if none).
    InFlight(u8),
    /// This id (0 becomes 1).
    Fixed(u16),
}

/// Which acknowledgement a client sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "arbitrary", derive(Arbitrary))]
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
#[cfg_attr(feature = "arbitrary", derive(Arbitrary))]
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
#[cfg_attr(feature = "arbitrary", derive(Arbitrary))]
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
#[cfg_attr(feature = "arbitrary", derive(Arbitrary))]
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

/// A rule the broker broke, or a limit it exceeded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// The step during which it was found (`steps.len()` for the final check).
    pub step: usize,
    /// What happened, with the statement where there is one.
    pub message: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "step {}: {}", self.step, self.message)
    }
}

impl std::error::Error for Violation {}

/// Runs `steps` against a broker with `config` (see [`fuzz_config`]) and checks the model's
/// invariants after every step and at the end. The first violation found is returned.
pub fn run(config: Config, steps: &[Step]) -> Result<(), Violation> {
    let mut r = Runner::new(config);
    r.trace = std::env::var_os("TOUCHSTONE_FUZZ_TRACE").is_some();
    for (i, step) in steps.iter().enumerate() {
        r.step_no = i;
        if r.trace {
            eprintln!("== step {i} at {} ms: {step:?}", r.now);
        }
        r.step(step)?;
    }
    r.step_no = steps.len();
    r.settle()
}

/// Runs a fuzz input as the `broker_core` target does (the bytes parsed into steps with
/// `arbitrary`'s take-rest rule), for reproducing a crash outside libFuzzer; with
/// `TOUCHSTONE_FUZZ_TRACE` set every step and packet is printed.
#[cfg(feature = "arbitrary")]
pub fn replay(config: Config, input: &[u8]) -> Result<(), Violation> {
    let u = arbitrary::Unstructured::new(input);
    let Ok(steps) = <Vec<Step> as Arbitrary>::arbitrary_take_rest(u) else {
        return Ok(());
    };
    if steps.len() > 64 {
        return Ok(());
    }
    run(config, &steps)
}

/// Parses a tagged payload `t:{n}`.
fn tag_of(payload: &[u8]) -> Option<u64> {
    let digits = payload.strip_prefix(b"t:")?;
    if digits.is_empty() || digits.len() > 12 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(digits).ok()?.parse().ok()
}

/// Naive topic matching, level by level (3.1.1 and 5.0 section 4.7): `+` one level, `#` the
/// parent and any levels below (last only), and a wildcard first level never matches a topic
/// starting with `$` ([MQTT-4.7.2-1]). `filter` is a plain filter (no `$share/` prefix).
pub fn naive_matches(filter: &str, topic: &str) -> bool {
    let f: Vec<&str> = filter.split('/').collect();
    let t: Vec<&str> = topic.split('/').collect();
    if topic.starts_with('$') && (f[0] == "+" || f[0] == "#") {
        return false;
    }
    let mut i = 0;
    loop {
        match (f.get(i), t.get(i)) {
            (Some(&"#"), _) if i + 1 == f.len() => return true,
            (Some(&"+"), Some(_)) => {}
            (Some(a), Some(b)) if a == b => {}
            (None, None) => return true,
            _ => return false,
        }
        i += 1;
    }
}

/// Naive topic filter validity (3.1.1 and 5.0 section 4.7.1, 4.7.3; with `shared`, 5.0 section
/// 4.8.2): non-empty, at most 65,535 bytes, no U+0000; `#` only as a whole last level, `+` only
/// as a whole level; `$share/{name}/{filter}` with a non-empty name without wildcards and a
/// valid non-empty filter. Returns the plain filter and the share name.
pub fn naive_filter(filter: &str, shared: bool) -> Option<(Option<&str>, &str)> {
    if filter.is_empty() || filter.len() > 65_535 || filter.contains('\0') {
        return None;
    }
    let mut share = None;
    let mut inner = filter;
    if shared {
        if let Some(rest) = filter.strip_prefix("$share/") {
            let (name, f) = rest.split_once('/')?;
            if name.is_empty() || name.contains('+') || name.contains('#') || f.is_empty() {
                return None;
            }
            share = Some(name);
            inner = f;
        }
    }
    let levels: Vec<&str> = inner.split('/').collect();
    for (i, l) in levels.iter().enumerate() {
        if l.contains('#') && (*l != "#" || i + 1 != levels.len()) {
            return None;
        }
        if l.contains('+') && *l != "+" {
            return None;
        }
    }
    Some((share, inner))
}

/// Naive topic name validity: non-empty, at most 65,535 bytes, no U+0000, no wildcards.
pub fn naive_topic_name(name: &str) -> bool {
    !name.is_empty() && name.len() <= 65_535 && !name.contains(['\0', '+', '#'])
}

#[derive(Debug, Clone, Copy)]
struct SubModel {
    qos: QoS,
    no_local: bool,
    shared: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FlowState {
    Published,
    Released,
}

#[derive(Debug, Clone, Copy)]
struct Flow {
    qos: QoS,
    tag: Option<u64>,
    state: FlowState,
}

/// What a session may receive of one tracked message.
#[derive(Debug, Clone, Copy)]
struct Expect {
    /// QoS from the matching plain subscriptions (`None`: only shared ones matched).
    qos: Option<QoS>,
    /// A shared subscription matched too.
    shared: bool,
    /// It must arrive (accepted QoS 1/2 with a plain subscription, not exempt).
    obligation: bool,
    /// Arrived.
    delivered: bool,
    /// The session's drop count when the obligation began.
    dropped_at: u64,
    /// Exempt from the exactly-once check (published with RETAIN).
    retained: bool,
    /// QoS 2 flows it has had.
    qos2_flows: u32,
}

#[derive(Debug, Default)]
struct SessionModel {
    subs: BTreeMap<String, SubModel>,
    expect: HashMap<u64, Expect>,
    flows: BTreeMap<u16, Flow>,
    incoming_qos2: HashSet<u16>,
    /// The model lost track: no checks until the session starts afresh.
    uncertain: bool,
    /// A client of the session declared a Maximum Packet Size: deliveries may be dropped.
    lossy: bool,
    protocol: Option<Protocol>,
}

#[derive(Debug)]
struct ConnModel {
    /// Input mirror.
    mirror: BytesMut,
    protocol: Option<Protocol>,
    decoder: Option<Decoder>,
    /// The input stopped being decodable: the broker closes; the mirror stops.
    input_dead: bool,
    /// Output reassembly.
    out: BytesMut,
    out_protocol: Option<Protocol>,
    /// The CONNECT sent (the first packet).
    connect: Option<Box<Connect>>,
    /// Bound to this session once CONNACK 0x00 arrived.
    client: Option<String>,
    got_connack: bool,
    got_disconnect: bool,
    /// 5.0 client limits from the CONNECT.
    receive_max: Option<u16>,
    max_packet: Option<u32>,
    in_aliases: HashMap<u16, String>,
    /// Packet ids the broker has in flight here, for plausible acknowledgements.
    last_publish: Option<Publish>,
}

struct Runner {
    broker: Broker,
    config: Config,
    now: Millis,
    step_no: usize,
    next_conn: u64,
    conns: BTreeMap<u64, ConnModel>,
    slots: [Option<u64>; CLIENTS],
    sessions: HashMap<String, SessionModel>,
    next_tag: u64,
    /// Tags accepted more than once, or seen in a Will: no checks.
    ambiguous: HashSet<u64>,
    /// Tags published (QoS 0) or accepted (QoS 1/2) once.
    accepted: HashSet<u64>,
    /// Connections whose session's in-flight messages must be re-sent during this call.
    resend: HashMap<u64, HashSet<(u16, bool)>>,
    /// Print every packet (`TOUCHSTONE_FUZZ_TRACE`).
    trace: bool,
    /// Each session's drop count just before the last event handed to the broker.
    drops_before: HashMap<String, u64>,
    /// The broker's session epoch when the session models were last pruned.
    session_epoch: u64,
    /// The buffer the broker's actions are drained into.
    actions: Vec<Action>,
}

type Res = Result<(), Violation>;

fn qos_of(n: u8) -> QoS {
    QoS::from_u8(n % 3).unwrap_or(QoS::AtMostOnce)
}

impl Runner {
    fn new(config: Config) -> Runner {
        Runner {
            broker: Broker::new(config.clone()),
            config,
            now: 0,
            step_no: 0,
            next_conn: 1,
            conns: BTreeMap::new(),
            slots: [None; CLIENTS],
            sessions: HashMap::default(),
            next_tag: 0,
            ambiguous: HashSet::default(),
            accepted: HashSet::default(),
            resend: HashMap::default(),
            trace: false,
            drops_before: HashMap::default(),
            session_epoch: u64::MAX,
            actions: Vec::new(),
        }
    }

    /// Hands `event` to the broker, noting first each session's drop count: an obligation the
    /// event starts is measured from there, so a message the event itself drops is exempt.
    fn handle(&mut self, event: Event<'_>) {
        // Only sessions that dropped something are noted (absent means 0): usually none, so
        // nothing is allocated.
        self.drops_before.clear();
        for (cid, dropped) in self.broker.drop_counts() {
            if dropped > 0 {
                self.drops_before.insert(cid.to_string(), dropped);
            }
        }
        self.broker.handle(self.now, event);
    }

    fn fail(&self, message: String) -> Res {
        Err(Violation {
            step: self.step_no,
            message,
        })
    }

    fn open(&mut self, slot: usize) -> u64 {
        let id = self.next_conn;
        self.next_conn += 1;
        self.conns.insert(
            id,
            ConnModel {
                mirror: BytesMut::new(),
                protocol: None,
                decoder: None,
                input_dead: false,
                out: BytesMut::new(),
                out_protocol: None,
                connect: None,
                client: None,
                got_connack: false,
                got_disconnect: false,
                receive_max: None,
                max_packet: None,
                in_aliases: HashMap::default(),
                last_publish: None,
            },
        );
        self.slots[slot] = Some(id);
        self.handle(Event::Opened {
            conn: ConnectionId(id),
            peer: None,
        });
        id
    }

    fn current(&self, client: u8) -> Option<u64> {
        self.slots[usize::from(client) % CLIENTS].filter(|id| self.conns.contains_key(id))
    }

    fn protocol(&self, id: u64) -> Protocol {
        self.conns
            .get(&id)
            .and_then(|c| {
                c.protocol
                    .or_else(|| c.connect.as_ref().map(|_| Protocol::V5))
            })
            .unwrap_or(Protocol::V5)
    }

    fn step(&mut self, step: &Step) -> Res {
        match step {
            Step::Connect {
                client,
                v5,
                new_connection,
                clean,
                empty_id,
                keep_alive,
                expiry,
                receive_maximum,
                alias_maximum,
                maximum_packet_size,
                will,
                auth,
            } => {
                let slot = usize::from(*client) % CLIENTS;
                let p = if *v5 { Protocol::V5 } else { Protocol::V3_1_1 };
                let mut c = Connect {
                    clean_start: *clean,
                    keep_alive: u16::from(keep_alive % 8),
                    client_id: if *empty_id {
                        "".into()
                    } else {
                        format!("c{slot}").as_str().into()
                    },
                    ..Connect::default()
                };
                if *v5 {
                    let props = &mut c.properties;
                    props.session_expiry_interval = expiry.map(|e| match e % 16 {
                        15 => u32::MAX,
                        n => u32::from(n),
                    });
                    if receive_maximum % 5 != 0 {
                        props.receive_maximum = Some(u16::from(receive_maximum % 5));
                    }
                    if alias_maximum % 3 != 0 {
                        props.topic_alias_maximum = Some(u16::from(alias_maximum % 3));
                    }
                    props.maximum_packet_size = maximum_packet_size.map(|n| 16 + 4 * u32::from(n));
                    if let Some(a) = auth {
                        props.authentication_method = Some("SCRAM-SHA-256".into());
                        props.authentication_data =
                            Some(Bytes::from(format!("n,,n=c{slot},r=nonce{a}")));
                    }
                }
                if let Some(w) = will {
                    let mut will = Will {
                        topic: TOPICS[usize::from(w.topic) % TOPICS.len()].into(),
                        payload: Bytes::from_static(b"will"),
                        qos: qos_of(w.qos),
                        retain: w.retain,
                        ..Will::default()
                    };
                    if *v5 && w.delay % 8 != 0 {
                        will.properties.will_delay_interval = Some(u32::from(w.delay % 8));
                    }
                    c.will = Some(will);
                }
                let id = match self.current(*client) {
                    Some(id) if !new_connection => id,
                    _ => self.open(slot),
                };
                self.collect(None)?;
                self.send_packet(id, p, &Packet::Connect(Box::new(c)))
            }
            Step::Subscribe {
                client,
                pid,
                filters,
                sub_id,
            } => {
                let Some(id) = self.current(*client) else {
                    return Ok(());
                };
                let p = self.protocol(id);
                let mut s = Subscribe {
                    packet_id: PacketId::new(*pid).unwrap_or(PacketId::MIN),
                    properties: Default::default(),
                    filters: filters
                        .iter()
                        .take(4)
                        .map(|f| Subscription {
                            filter: FILTERS[usize::from(f.filter) % FILTERS.len()].into(),
                            options: SubscriptionOptions {
                                qos: qos_of(f.qos),
                                no_local: f.no_local && p.is_v5(),
                                retain_as_published: f.retain_as_published && p.is_v5(),
                                retain_handling: match f.retain_handling % 3 {
                                    _ if !p.is_v5() => RetainHandling::SendAtSubscribe,
                                    0 => RetainHandling::SendAtSubscribe,
                                    1 => RetainHandling::SendAtSubscribeIfNew,
                                    _ => RetainHandling::DoNotSend,
                                },
                            },
                        })
                        .collect(),
                };
                if p.is_v5() && sub_id % 4 != 0 {
                    s.properties.subscription_identifier = Some(u32::from(sub_id % 4));
                }
                self.send_packet(id, p, &Packet::Subscribe(s))
            }
            Step::Unsubscribe {
                client,
                pid,
                filters,
            } => {
                let Some(id) = self.current(*client) else {
                    return Ok(());
                };
                let p = self.protocol(id);
                let u = Unsubscribe {
                    packet_id: PacketId::new(*pid).unwrap_or(PacketId::MIN),
                    properties: Default::default(),
                    filters: filters
                        .iter()
                        .take(4)
                        .map(|&f| FILTERS[usize::from(f) % FILTERS.len()].into())
                        .collect(),
                };
                self.send_packet(id, p, &Packet::Unsubscribe(u))
            }
            Step::Publish {
                client,
                topic,
                qos,
                retain,
                dup,
                pid,
                alias,
                empty_topic,
                resend,
            } => {
                let Some(id) = self.current(*client) else {
                    return Ok(());
                };
                let p = self.protocol(id);
                let previous = self.conns.get(&id).and_then(|c| c.last_publish.clone());
                let publish = match previous {
                    Some(mut prev) if *resend => {
                        prev.dup = prev.qos != QoS::AtMostOnce;
                        prev
                    }
                    _ => {
                        let q = QoS::from_u8(qos % 3).unwrap_or(QoS::AtMostOnce);
                        let tag = self.next_tag;
                        self.next_tag += 1;
                        let mut x = Publish {
                            dup: *dup && q != QoS::AtMostOnce,
                            qos: q,
                            retain: *retain,
                            topic: TOPICS[usize::from(*topic) % TOPICS.len()].into(),
                            packet_id: (q != QoS::AtMostOnce)
                                .then(|| PacketId::new(*pid).unwrap_or(PacketId::MIN)),
                            payload: Bytes::from(format!("t:{tag}")),
                            ..Publish::default()
                        };
                        if p.is_v5() && alias % 4 != 0 {
                            x.properties.topic_alias = Some(u16::from(alias % 4));
                            if *empty_topic {
                                x.topic = "".into();
                            }
                        }
                        x
                    }
                };
                if let Some(c) = self.conns.get_mut(&id) {
                    c.last_publish = Some(publish.clone());
                }
                let bytes = {
                    let mut b = BytesMut::new();
                    let mut x = publish;
                    if *qos % 4 == 3 {
                        // A malformed QoS 3 PUBLISH.
                        x.qos = QoS::ExactlyOnce;
                        Packet::Publish(x).encode_unchecked(p, &mut b);
                        b[0] |= 0x06;
                    } else {
                        Packet::Publish(x).encode_unchecked(p, &mut b);
                    }
                    b
                };
                self.send_bytes(id, &bytes, &[])
            }
            Step::Ack {
                client,
                kind,
                pid,
                failure,
            } => {
                let Some(id) = self.current(*client) else {
                    return Ok(());
                };
                let p = self.protocol(id);
                let pid = match pid {
                    Pid::Fixed(n) => PacketId::new(*n).unwrap_or(PacketId::MIN),
                    Pid::InFlight(i) => {
                        let flows: Vec<u16> = self
                            .conns
                            .get(&id)
                            .and_then(|c| c.client.as_ref())
                            .and_then(|cid| self.sessions.get(cid))
                            .map(|s| s.flows.keys().copied().collect())
                            .unwrap_or_default();
                        if flows.is_empty() {
                            PacketId::MIN
                        } else {
                            PacketId::new(flows[usize::from(*i) % flows.len()])
                                .unwrap_or(PacketId::MIN)
                        }
                    }
                };
                let code = if *failure && p.is_v5() {
                    ReasonCode::UNSPECIFIED_ERROR
                } else {
                    ReasonCode::SUCCESS
                };
                let packet = match kind {
                    AckKind::PubAck => {
                        let mut a = PubAck::new(pid);
                        a.reason_code = code;
                        Packet::PubAck(a)
                    }
                    AckKind::PubRec => {
                        let mut a = PubRec::new(pid);
                        a.reason_code = code;
                        Packet::PubRec(a)
                    }
                    AckKind::PubRel => Packet::PubRel(PubRel::new(pid)),
                    AckKind::PubComp => Packet::PubComp(PubComp::new(pid)),
                };
                self.send_packet(id, p, &packet)
            }
            Step::Ping { client } => {
                let Some(id) = self.current(*client) else {
                    return Ok(());
                };
                let p = self.protocol(id);
                self.send_packet(id, p, &Packet::PingReq)
            }
            Step::Disconnect {
                client,
                with_will,
                expiry,
            } => {
                let Some(id) = self.current(*client) else {
                    return Ok(());
                };
                let p = self.protocol(id);
                let mut d = touchstone_codec::Disconnect::new(if *with_will {
                    ReasonCode(0x04)
                } else {
                    ReasonCode::SUCCESS
                });
                if p.is_v5() {
                    d.properties.session_expiry_interval = expiry.map(|e| u32::from(e % 16));
                }
                self.send_packet(id, p, &Packet::Disconnect(d))
            }
            Step::Auth { client, reason } => {
                let Some(id) = self.current(*client) else {
                    return Ok(());
                };
                let p = self.protocol(id);
                let mut a = Auth {
                    reason_code: ReasonCode([0x00, 0x18, 0x19][usize::from(reason % 3)]),
                    ..Auth::default()
                };
                a.properties.authentication_method = Some("SCRAM-SHA-256".into());
                a.properties.authentication_data = Some(Bytes::from_static(b"c=biws,r=x,p=eA=="));
                self.send_packet(id, p, &Packet::Auth(a))
            }
            Step::Raw {
                client,
                data,
                chunks,
            } => {
                let id = match self.current(*client) {
                    Some(id) => id,
                    None => {
                        let id = self.open(usize::from(*client) % CLIENTS);
                        self.collect(None)?;
                        id
                    }
                };
                self.send_bytes(id, data, chunks)
            }
            Step::Close { client } => {
                let Some(id) = self.current(*client) else {
                    return Ok(());
                };
                self.conns.remove(&id);
                self.handle(Event::Closed {
                    conn: ConnectionId(id),
                });
                self.collect(None)
            }
            Step::Advance { ms } => {
                let end = self.now + u64::from(*ms) * 16;
                while let Some(d) = self.broker.next_deadline() {
                    if d > end {
                        break;
                    }
                    self.now = self.now.max(d);
                    self.handle(Event::Tick);
                    self.collect(None)?;
                }
                self.now = end;
                self.handle(Event::Tick);
                self.collect(None)
            }
        }
    }

    fn send_packet(&mut self, id: u64, p: Protocol, packet: &Packet) -> Res {
        let mut buf = BytesMut::new();
        packet.encode_unchecked(p, &mut buf);
        self.send_bytes(id, &buf, &[])
    }

    /// Feeds `data` in chunks, checking after each.
    fn send_bytes(&mut self, id: u64, data: &[u8], chunks: &[u8]) -> Res {
        let mut off = 0;
        let mut k = 0;
        loop {
            let size = match chunks.get(k % chunks.len().max(1)) {
                Some(&n) if n > 0 => usize::from(n),
                _ => data.len() - off,
            };
            k += 1;
            let end = (off + size).min(data.len());
            let chunk = &data[off..end];
            off = end;
            if !self.conns.contains_key(&id) {
                return Ok(());
            }
            let inputs = self.mirror_input(id, chunk);
            self.handle(Event::Received {
                conn: ConnectionId(id),
                data: chunk,
            });
            self.collect(Some((id, inputs)))?;
            if off >= data.len() {
                return Ok(());
            }
        }
    }

    /// Decodes what the broker will decode of `chunk` (the same decoder, the same buffer).
    fn mirror_input(&mut self, id: u64, chunk: &[u8]) -> Vec<Packet> {
        let max = self
            .config
            .maximum_packet_size
            .map_or(touchstone_codec::MAX_PACKET_SIZE, |n| n as usize);
        let Some(c) = self.conns.get_mut(&id) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        if c.input_dead {
            return out;
        }
        c.mirror.extend_from_slice(chunk);
        loop {
            if c.protocol.is_none() {
                match peek_protocol(&c.mirror) {
                    Ok(Some(p)) => {
                        c.protocol = Some(p);
                        c.decoder = Some(Decoder::new(p).with_max_packet_size(max));
                    }
                    Ok(None) => return out,
                    Err(e) => {
                        if e.kind == ErrorKind::UnsupportedProtocol {
                            c.out_protocol = Some(Protocol::V3_1_1);
                        }
                        c.input_dead = true;
                        return out;
                    }
                }
            }
            let Some(d) = &c.decoder else {
                return out;
            };
            match d.decode(&mut c.mirror) {
                Ok(Some(p)) => {
                    // The client's 5.0 limits bind what the broker sends from this very event
                    // on (the CONNACK first: found by the fuzzer, a CONNACK too large for a
                    // 16-byte Maximum Packet Size is not sent, and the resumed session's
                    // PUBLISHes follow), so they are known before its outputs are checked.
                    if let Packet::Connect(x) = &p {
                        if c.connect.is_none() && c.protocol.is_some_and(|v| v.is_v5()) {
                            c.receive_max = x.properties.receive_maximum;
                            c.max_packet = x.properties.maximum_packet_size;
                        }
                    }
                    out.push(p)
                }
                Ok(None) => return out,
                Err(_) => {
                    c.input_dead = true;
                    return out;
                }
            }
        }
    }

    /// Takes the broker's actions and checks everything that happened in this call. `input`:
    /// the connection that received bytes, and the packets the broker decoded from them.
    fn collect(&mut self, input: Option<(u64, Vec<Packet>)>) -> Res {
        // Sessions' drop counts before the event whose outputs these are: a message the event
        // itself dropped (a full queue) must count as dropped, so the count is the one noted
        // before the broker handled it, not one taken now.
        let before = std::mem::take(&mut self.drops_before);
        let result = self.collect_with(input, &before);
        self.drops_before = before;
        result
    }

    fn collect_with(
        &mut self,
        input: Option<(u64, Vec<Packet>)>,
        before: &HashMap<String, u64>,
    ) -> Res {
        let mut outputs: Vec<(u64, Vec<Packet>)> = Vec::new();
        let mut closed: Vec<u64> = Vec::new();
        // One buffer for every call's actions (taken and put back; lost only on a violation).
        let mut actions = std::mem::take(&mut self.actions);
        actions.extend(self.broker.drain_actions());
        for action in actions.drain(..) {
            match action {
                Action::Send { conn, bytes } => {
                    let id = conn.0;
                    if closed.contains(&id) {
                        return self.fail(format!("bytes sent to connection {id} after Close"));
                    }
                    let Some(c) = self.conns.get_mut(&id) else {
                        // The client closed it; the broker cannot know yet. Nothing to check.
                        continue;
                    };
                    c.out.extend_from_slice(&bytes);
                    let p = c.out_protocol.or(c.protocol).unwrap_or(Protocol::V3_1_1);
                    let mut dec = Decoder::new(p);
                    if let Some(n) = c.max_packet.filter(|_| p.is_v5()) {
                        dec = dec.with_max_packet_size(n as usize);
                    }
                    let mut packets = Vec::new();
                    loop {
                        match dec.decode(&mut c.out) {
                            Ok(Some(x)) => packets.push(x),
                            Ok(None) => break,
                            Err(e) => {
                                return self.fail(format!(
                                    "connection {id} ({p}) received bytes the strict decoder rejects: {e}"
                                ))
                            }
                        }
                    }
                    match outputs.iter_mut().find(|(i, _)| *i == id) {
                        Some((_, v)) => v.extend(packets),
                        None => outputs.push((id, packets)),
                    }
                }
                Action::Close { conn, .. } => closed.push(conn.0),
            }
        }
        self.actions = actions;
        // Wire rules per connection.
        for (id, packets) in &outputs {
            let Some(c) = self.conns.get_mut(id) else {
                continue;
            };
            let p = c.out_protocol.or(c.protocol).unwrap_or(Protocol::V3_1_1);
            for x in packets {
                let t = x.packet_type().name();
                if c.got_disconnect {
                    let m = format!("{t} sent to connection {id} after DISCONNECT");
                    return self.fail(m);
                }
                let allowed = match x {
                    Packet::ConnAck(_) => {
                        if c.got_connack {
                            let m = format!("a second CONNACK on connection {id}");
                            return self.fail(m);
                        }
                        c.got_connack = true;
                        true
                    }
                    Packet::Auth(_) => p.is_v5(),
                    // Nothing but AUTH before CONNACK, even when no CONNACK could fit the
                    // client's Maximum Packet Size (5.0 [MQTT-3.2.0-1], [MQTT-3.14.0-1]; the
                    // server then sends nothing).
                    Packet::Disconnect(_) => {
                        c.got_disconnect = true;
                        p.is_v5() && c.got_connack
                    }
                    Packet::Publish(_)
                    | Packet::PubAck(_)
                    | Packet::PubRec(_)
                    | Packet::PubRel(_)
                    | Packet::PubComp(_)
                    | Packet::SubAck(_)
                    | Packet::UnsubAck(_)
                    | Packet::PingResp => c.got_connack,
                    _ => false,
                };
                if !allowed {
                    let m = format!(
                        "the broker sent {t} to a {p} client (connection {id}) {}",
                        if c.got_connack { "" } else { "before CONNACK" }
                    );
                    return self.fail(m);
                }
            }
        }
        if self.trace {
            if let Some((id, inputs)) = &input {
                for x in inputs {
                    eprintln!("   conn {id} -> broker: {x:?}");
                }
            }
            for (id, packets) in &outputs {
                for x in packets {
                    eprintln!("   broker -> conn {id}: {x:?}");
                }
            }
            for id in &closed {
                eprintln!("   broker closes conn {id}");
            }
        }
        // The input's effects, in order, paired with the answers.
        if let Some((id, inputs)) = input {
            let answers = outputs
                .iter()
                .find(|(i, _)| *i == id)
                .map_or(&[][..], |(_, v)| v.as_slice());
            let was_closed = closed.contains(&id);
            self.apply_inputs(id, &inputs, answers, was_closed, before)?;
        }
        // Deliveries and flows.
        for (id, packets) in &outputs {
            self.apply_outputs(*id, packets)?;
        }
        for id in &closed {
            self.conns.remove(id);
        }
        self.end_of_call()
    }

    fn session_mut(&mut self, cid: &str) -> &mut SessionModel {
        // Looked up before inserting: `entry` would allocate the key on every call.
        if !self.sessions.contains_key(cid) {
            self.sessions
                .insert(cid.to_string(), SessionModel::default());
        }
        self.sessions.get_mut(cid).expect("inserted above")
    }

    fn apply_inputs(
        &mut self,
        id: u64,
        inputs: &[Packet],
        answers: &[Packet],
        closed: bool,
        dropped_before: &HashMap<String, u64>,
    ) -> Res {
        let mut connacks = answers.iter().filter_map(|x| match x {
            Packet::ConnAck(a) => Some(a),
            _ => None,
        });
        let mut acks = answers.iter().filter_map(|x| match x {
            Packet::PubAck(a) => Some((a.packet_id, a.reason_code)),
            Packet::PubRec(a) => Some((a.packet_id, a.reason_code)),
            _ => None,
        });
        let mut subacks = answers.iter().filter_map(|x| match x {
            Packet::SubAck(a) => Some(a),
            _ => None,
        });
        let mut unsubacks = answers.iter().filter_map(|x| match x {
            Packet::UnsubAck(a) => Some(a),
            _ => None,
        });
        // Closed while several packets were processed: where the broker stopped is unknown.
        if closed && inputs.len() > 1 {
            let cid = self.conns.get(&id).and_then(|c| c.client.clone());
            if let Some(cid) = cid {
                self.session_mut(&cid).uncertain = true;
            }
        }
        for packet in inputs {
            let Some(c) = self.conns.get_mut(&id) else {
                return Ok(());
            };
            let p = c.protocol.unwrap_or(Protocol::V3_1_1);
            match packet {
                Packet::Connect(x) if c.connect.is_none() => {
                    c.connect = Some(x.clone());
                    if p.is_v5() {
                        c.receive_max = x.properties.receive_maximum;
                        c.max_packet = x.properties.maximum_packet_size;
                    }
                    if let Some(w) = &x.will {
                        if let Some(t) = tag_of(&w.payload) {
                            self.ambiguous.insert(t);
                        }
                    }
                    match connacks.next() {
                        Some(ack) => self.on_connack(id, ack)?,
                        None if !x.client_id.is_empty() => {
                            // Accepted without a CONNACK we could see (too large for the client:
                            // the broker then closes the connection), or authenticating: the
                            // session may have changed unseen (a Clean Start discards it).
                            self.session_mut(&x.client_id).uncertain = true;
                        }
                        None => {}
                    }
                }
                Packet::Auth(_) if c.client.is_none() && c.connect.is_some() => {
                    if let Some(ack) = connacks.next() {
                        self.on_connack(id, ack)?;
                    }
                }
                Packet::Publish(x) => {
                    if c.connect.is_none() {
                        continue;
                    }
                    // A connection the model cannot bind to a session (a 3.1.1 identifier
                    // assigned by the broker, a CONNACK too large for the client) may still
                    // publish: its messages may be delivered, nothing more is known.
                    let cid = c.client.clone();
                    let mut topic = x.topic.to_string();
                    if let Some(a) = x.properties.topic_alias.filter(|_| p.is_v5()) {
                        if topic.is_empty() {
                            match c.in_aliases.get(&a) {
                                Some(t) => topic = t.clone(),
                                None => continue,
                            }
                        } else if a <= self.config.topic_alias_maximum {
                            c.in_aliases.insert(a, topic.clone());
                        }
                    }
                    let tag = tag_of(&x.payload);
                    let exempt = x.properties.message_expiry_interval.is_some();
                    let Some(cid) = cid else {
                        if let Some(t) = tag {
                            self.new_message(t, &topic, x, "", false, exempt, dropped_before);
                        }
                        continue;
                    };
                    if x.qos == QoS::AtMostOnce {
                        if let Some(t) = tag {
                            self.new_message(t, &topic, x, &cid, false, exempt, dropped_before);
                        }
                        continue;
                    }
                    let Some(pid) = x.packet_id else { continue };
                    let Some((ack_pid, code)) = acks.next() else {
                        continue;
                    };
                    let uncertain = self.session_mut(&cid).uncertain;
                    if ack_pid != pid && !uncertain {
                        return self.fail(format!(
                            "PUBLISH packet id {pid} acknowledged with packet id {ack_pid} (3.1.1 [MQTT-2.3.1-6]; 5.0 [MQTT-2.2.1-5])"
                        ));
                    }
                    let s = self.session_mut(&cid);
                    let duplicate =
                        x.qos == QoS::ExactlyOnce && s.incoming_qos2.contains(&pid.get());
                    if duplicate || !code.is_success() {
                        continue;
                    }
                    if x.qos == QoS::ExactlyOnce {
                        s.incoming_qos2.insert(pid.get());
                    }
                    if let Some(t) = tag {
                        self.new_message(t, &topic, x, &cid, true, exempt, dropped_before);
                    }
                }
                Packet::PubRel(x) => {
                    if let Some(cid) = c.client.clone() {
                        self.session_mut(&cid)
                            .incoming_qos2
                            .remove(&x.packet_id.get());
                    }
                }
                Packet::PubAck(x) => {
                    if let Some(cid) = c.client.clone() {
                        let s = self.session_mut(&cid);
                        let pid = x.packet_id.get();
                        if s.flows.get(&pid).is_some_and(|f| f.qos == QoS::AtLeastOnce) {
                            s.flows.remove(&pid);
                        }
                    }
                }
                Packet::PubRec(x) => {
                    if let Some(cid) = c.client.clone() {
                        let v5 = p.is_v5();
                        let s = self.session_mut(&cid);
                        let pid = x.packet_id.get();
                        if let Some(f) = s.flows.get_mut(&pid) {
                            if f.qos == QoS::ExactlyOnce {
                                if v5 && !x.reason_code.is_success() {
                                    s.flows.remove(&pid);
                                } else {
                                    f.state = FlowState::Released;
                                }
                            }
                        }
                    }
                }
                Packet::PubComp(x) => {
                    if let Some(cid) = c.client.clone() {
                        let s = self.session_mut(&cid);
                        let pid = x.packet_id.get();
                        if s.flows
                            .get(&pid)
                            .is_some_and(|f| f.state == FlowState::Released)
                        {
                            s.flows.remove(&pid);
                        }
                    }
                }
                Packet::Subscribe(x) => {
                    let Some(cid) = c.client.clone() else {
                        continue;
                    };
                    let Some(ack) = subacks.next() else { continue };
                    let uncertain = self.session_mut(&cid).uncertain;
                    if uncertain {
                        continue;
                    }
                    if ack.packet_id != x.packet_id {
                        return self.fail(format!(
                            "SUBSCRIBE packet id {} answered by SUBACK {} (3.1.1 [MQTT-3.8.4-2]; 5.0 [MQTT-3.8.4-2])",
                            x.packet_id, ack.packet_id
                        ));
                    }
                    if ack.reason_codes.len() != x.filters.len() {
                        return self.fail(format!(
                            "SUBACK has {} codes for {} filters (3.1.1 [MQTT-3.8.4-4]; 5.0 [MQTT-3.8.4-6])",
                            ack.reason_codes.len(),
                            x.filters.len()
                        ));
                    }
                    for (f, code) in x.filters.iter().zip(&ack.reason_codes) {
                        if !code.is_success() {
                            continue;
                        }
                        let Some(granted) = QoS::from_u8(code.as_u8()) else {
                            return self.fail(format!("SUBACK success code {code:?} is not a QoS"));
                        };
                        if granted > f.options.qos {
                            return self.fail(format!(
                                "SUBACK grants QoS {} for {:?} requested at QoS {} (3.1.1 [MQTT-3.8.4-5]; 5.0 [MQTT-3.8.4-6])",
                                granted.as_u8(),
                                &*f.filter,
                                f.options.qos.as_u8()
                            ));
                        }
                        let shared = p.is_v5() && f.filter.starts_with("$share/");
                        self.session_mut(&cid).subs.insert(
                            f.filter.to_string(),
                            SubModel {
                                qos: granted,
                                no_local: f.options.no_local,
                                shared,
                            },
                        );
                    }
                }
                Packet::Unsubscribe(x) => {
                    let Some(cid) = c.client.clone() else {
                        continue;
                    };
                    let Some(ack) = unsubacks.next() else {
                        continue;
                    };
                    let s = self.session_mut(&cid);
                    if s.uncertain {
                        continue;
                    }
                    if ack.packet_id != x.packet_id {
                        return self.fail(format!(
                            "UNSUBSCRIBE packet id {} answered by UNSUBACK {} (3.1.1 [MQTT-3.10.4-4]; 5.0 [MQTT-3.10.4-4])",
                            x.packet_id, ack.packet_id
                        ));
                    }
                    for f in &x.filters {
                        s.subs.remove(&**f);
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }

    fn on_connack(&mut self, id: u64, ack: &touchstone_codec::ConnAck) -> Res {
        let Some(c) = self.conns.get_mut(&id) else {
            return Ok(());
        };
        if !ack.reason_code.is_success() {
            return Ok(());
        }
        let Some(connect) = c.connect.clone() else {
            return Ok(());
        };
        let p = c.protocol.unwrap_or(Protocol::V3_1_1);
        let cid = if connect.client_id.is_empty() {
            match &ack.properties.assigned_client_identifier {
                Some(a) => a.to_string(),
                None => return Ok(()), // 3.1.1: assigned internally, not tracked
            }
        } else {
            connect.client_id.to_string()
        };
        c.client = Some(cid.clone());
        let lossy = c.max_packet.is_some();
        // Acknowledgements may vanish below this size (5.0 [MQTT-3.1.2-24]): no pairing.
        let tiny = c.max_packet.is_some_and(|n| n < 64);
        // Did a session exist before? The model's own knowledge: a session model that was
        // not reset, confirmed by the broker before this step.
        let s = self.session_mut(&cid);
        if !ack.session_present {
            *s = SessionModel::default();
        } else if !s.uncertain && !s.flows.is_empty() {
            let pending: HashSet<(u16, bool)> = s
                .flows
                .iter()
                .map(|(&pid, f)| (pid, f.state == FlowState::Released))
                .collect();
            self.resend.insert(id, pending);
        }
        let s = self.session_mut(&cid);
        s.lossy |= lossy;
        s.uncertain |= tiny;
        s.protocol = Some(p);
        if connect.clean_start && ack.session_present {
            return self.fail(format!(
                "CONNACK Session Present 1 after Clean Start 1 for {cid} (3.1.1 [MQTT-3.2.2-1]; 5.0 [MQTT-3.2.2-2])"
            ));
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn new_message(
        &mut self,
        tag: u64,
        topic: &str,
        x: &Publish,
        origin: &str,
        accepted: bool,
        exempt: bool,
        dropped_before: &HashMap<String, u64>,
    ) {
        if !self.accepted.insert(tag) {
            self.ambiguous.insert(tag);
        }
        if self.ambiguous.contains(&tag) {
            return;
        }
        for (cid, s) in self.sessions.iter_mut() {
            if s.uncertain {
                continue;
            }
            let mut plain: Option<QoS> = None;
            let mut shared = false;
            for (filter, sub) in &s.subs {
                let inner = if sub.shared {
                    match naive_filter(filter, true) {
                        Some((_, inner)) => inner,
                        None => continue,
                    }
                } else {
                    filter.as_str()
                };
                if !naive_matches(inner, topic) || (sub.no_local && cid == origin) {
                    continue;
                }
                if sub.shared {
                    shared = true;
                } else {
                    plain = Some(plain.map_or(sub.qos, |q| q.max(sub.qos)));
                }
            }
            if plain.is_none() && !shared {
                continue;
            }
            let qos = plain.map(|g| g.min(x.qos));
            let e = s.expect.entry(tag).or_insert(Expect {
                qos,
                shared,
                obligation: false,
                delivered: false,
                dropped_at: dropped_before.get(cid).copied().unwrap_or(0),
                retained: x.retain,
                qos2_flows: 0,
            });
            // Delivered at QoS 0 (granted 0): may be dropped, e.g. for an offline session.
            e.obligation |= accepted && qos.is_some_and(|q| q != QoS::AtMostOnce) && !exempt;
        }
    }

    fn apply_outputs(&mut self, id: u64, packets: &[Packet]) -> Res {
        let Some(c) = self.conns.get(&id) else {
            return Ok(());
        };
        let Some(cid) = c.client.clone() else {
            return Ok(());
        };
        let receive_max = c.receive_max;
        let proto = c.protocol.unwrap_or(Protocol::V3_1_1);
        let step = self.step_no;
        let fail = |m: String| Err(Violation { step, message: m });
        let mut pending = self.resend.remove(&id);
        let ambiguous = &self.ambiguous;
        let s = self.sessions.entry(cid.clone()).or_default();
        for x in packets {
            match x {
                Packet::Publish(x) => {
                    // The payload's tag identifies the message in its flow even when it became
                    // ambiguous as an application message.
                    let raw_tag = tag_of(&x.payload);
                    let tag = raw_tag.filter(|t| !ambiguous.contains(t));
                    if s.uncertain {
                        continue;
                    }
                    if let Some(pid) = x.packet_id {
                        let pid = pid.get();
                        match s.flows.get(&pid) {
                            Some(f) => {
                                let resent =
                                    pending.as_mut().is_some_and(|p| p.remove(&(pid, false)));
                                if f.state == FlowState::Released {
                                    return fail(format!(
                                        "PUBLISH re-sent to {cid} with packet id {pid} after its PUBREC (3.1.1 and 5.0 section 4.3.3)"
                                    ));
                                }
                                if !x.dup || f.tag != raw_tag || !resent {
                                    return fail(format!(
                                        "PUBLISH to {cid} with packet id {pid} already in use (3.1.1 [MQTT-2.3.1-2]; 5.0 [MQTT-2.2.1-3]); DUP {}",
                                        u8::from(x.dup)
                                    ));
                                }
                                continue;
                            }
                            None => {
                                if x.dup {
                                    return fail(format!(
                                        "a new QoS {} PUBLISH to {cid} carries DUP 1 (3.1.1 [MQTT-4.3.2-1]; 5.0 [MQTT-4.3.2-1])",
                                        x.qos.as_u8()
                                    ));
                                }
                                if let Some(r) = receive_max.filter(|_| proto.is_v5()) {
                                    if s.flows.len() >= usize::from(r) {
                                        return fail(format!(
                                            "a new QoS {} PUBLISH to {cid} with {} unacknowledged already, above its Receive Maximum {r} (5.0 [MQTT-3.3.4-9], [MQTT-4.9.0-2])",
                                            x.qos.as_u8(),
                                            s.flows.len()
                                        ));
                                    }
                                }
                                s.flows.insert(
                                    pid,
                                    Flow {
                                        qos: x.qos,
                                        tag: raw_tag,
                                        state: FlowState::Published,
                                    },
                                );
                            }
                        }
                    }
                    let Some(tag) = tag else { continue };
                    let Some(e) = s.expect.get_mut(&tag) else {
                        if !x.retain {
                            return fail(format!(
                                "message t:{tag} delivered live to {cid}, which had no matching subscription when it was published (topic {:?}; [MQTT-4.7.2-1], 5.0 [MQTT-3.8.3-3])",
                                &*x.topic
                            ));
                        }
                        continue;
                    };
                    e.delivered = true;
                    if !x.retain && !e.shared {
                        if let Some(q) = e.qos {
                            if q != x.qos {
                                return fail(format!(
                                    "message t:{tag} delivered to {cid} at QoS {} instead of {} (3.1.1 [MQTT-3.8.4-6]; 5.0 [MQTT-3.8.4-8])",
                                    x.qos.as_u8(),
                                    q.as_u8()
                                ));
                            }
                        }
                    }
                    if x.qos == QoS::ExactlyOnce && !e.retained && !e.shared && !x.retain {
                        e.qos2_flows += 1;
                        if e.qos2_flows > 1 {
                            return fail(format!(
                                "QoS 2 message t:{tag} delivered to {cid} a second time, in a new flow (3.1.1 [MQTT-4.3.3-2]; 5.0 [MQTT-4.3.3-10])"
                            ));
                        }
                    }
                }
                Packet::PubRel(r) => {
                    if let Some(p) = pending.as_mut() {
                        p.remove(&(r.packet_id.get(), true));
                    }
                }
                _ => {}
            }
        }
        if let Some(p) = pending.filter(|p| !p.is_empty()) {
            if !s.lossy {
                let mut v: Vec<_> = p.into_iter().collect();
                v.sort_unstable();
                return fail(format!(
                    "{cid} reconnected to its session but these in-flight messages were not re-sent (packet id, PUBREL): {v:?} (3.1.1 [MQTT-4.4.0-1]; 5.0 [MQTT-4.4.0-1])"
                ));
            }
        }
        Ok(())
    }

    /// Checks after each call: sessions that ended, counts and limits.
    fn end_of_call(&mut self) -> Res {
        if let Some((id, p)) = self.resend.iter().find(|(_, p)| !p.is_empty()) {
            let cid = self
                .conns
                .get(id)
                .and_then(|c| c.client.clone())
                .unwrap_or_default();
            let lossy = self.sessions.get(&cid).is_some_and(|s| s.lossy);
            if !lossy {
                let m = format!(
                    "{cid} reconnected to its session but in-flight messages {p:?} were not re-sent (3.1.1 [MQTT-4.4.0-1]; 5.0 [MQTT-4.4.0-1])"
                );
                return self.fail(m);
            }
        }
        self.resend.clear();
        // Forget the models of sessions that ended, or that never began (only when the set of
        // sessions may differ).
        let epoch = self.broker.session_epoch();
        if epoch != self.session_epoch || self.sessions.len() != self.broker.session_views().count()
        {
            self.session_epoch = epoch;
            let broker = &self.broker;
            self.sessions.retain(|cid, _| broker.has_session(cid));
        }
        let stats = self.broker.stats();
        if stats.connections != self.conns.len() {
            return self.fail(format!(
                "stats().connections is {} with {} connections open",
                stats.connections,
                self.conns.len()
            ));
        }
        if stats.retained > self.config.max_retained_messages {
            return self.fail(format!(
                "{} retained messages, above max_retained_messages {}",
                stats.retained, self.config.max_retained_messages
            ));
        }
        let mut total = 0;
        for info in self.broker.session_views() {
            total += info.subscriptions;
            if info.queued > self.config.max_queued_messages {
                return self.fail(format!(
                    "session {} queues {} messages, above max_queued_messages {}",
                    info.client_id, info.queued, self.config.max_queued_messages
                ));
            }
            if let Some(s) = self.sessions.get(info.client_id) {
                if !s.uncertain && s.subs.len() != info.subscriptions {
                    return self.fail(format!(
                        "session {} holds {} subscriptions; the SUBACKs and UNSUBACKs it got leave {}: {:?}",
                        info.client_id,
                        info.subscriptions,
                        s.subs.len(),
                        s.subs.keys().collect::<Vec<_>>()
                    ));
                }
            }
        }
        if stats.subscriptions != total {
            return self.fail(format!(
                "stats().subscriptions is {} but the sessions hold {total}",
                stats.subscriptions
            ));
        }
        Ok(())
    }

    /// The final check: every session with obligations reconnects (Clean Start 0) and
    /// acknowledges all it gets; then every obligation must have been met.
    fn settle(&mut self) -> Res {
        let mut cids: Vec<String> = self
            .sessions
            .iter()
            .filter(|(_, s)| {
                !s.uncertain && s.expect.values().any(|e| e.obligation && !e.delivered)
            })
            .map(|(c, _)| c.clone())
            .collect();
        cids.sort();
        for cid in cids {
            if !self.broker.has_session(&cid) {
                continue;
            }
            let p = self
                .sessions
                .get(&cid)
                .and_then(|s| s.protocol)
                .unwrap_or(Protocol::V5);
            let mut c = Connect {
                clean_start: false,
                client_id: cid.as_str().into(),
                ..Connect::default()
            };
            if p.is_v5() {
                c.properties.session_expiry_interval = Some(u32::MAX);
            }
            let id = self.open(0);
            self.collect(None)?;
            self.send_packet(id, p, &Packet::Connect(Box::new(c)))?;
            for _ in 0..64 {
                let Some(s) = self.sessions.get(&cid) else {
                    break;
                };
                if !self.conns.contains_key(&id) {
                    break;
                }
                let acks: Vec<Packet> = s
                    .flows
                    .iter()
                    .map(|(&pid, f)| {
                        let pid = PacketId::new(pid).unwrap_or(PacketId::MIN);
                        match (f.qos, f.state) {
                            (QoS::AtLeastOnce, _) => Packet::PubAck(PubAck::new(pid)),
                            (_, FlowState::Published) => Packet::PubRec(PubRec::new(pid)),
                            (_, FlowState::Released) => Packet::PubComp(PubComp::new(pid)),
                        }
                    })
                    .collect();
                if acks.is_empty() {
                    break;
                }
                for a in &acks {
                    self.send_packet(id, p, a)?;
                }
            }
            let dropped = self
                .broker
                .sessions()
                .into_iter()
                .find(|s| s.client_id == cid)
                .map_or(0, |s| s.dropped);
            let Some(s) = self.sessions.get(&cid) else {
                continue;
            };
            if s.uncertain || s.lossy {
                continue;
            }
            let mut lost: Vec<u64> = s
                .expect
                .iter()
                .filter(|(t, e)| {
                    e.obligation
                        && !e.delivered
                        && e.dropped_at == dropped
                        && !self.ambiguous.contains(t)
                })
                .map(|(t, _)| *t)
                .collect();
            if !lost.is_empty() {
                lost.sort_unstable();
                let m = format!(
                    "accepted QoS 1/2 messages {lost:?} never reached {cid}, whose session has a matching subscription, dropped nothing and still exists (3.1.1 [MQTT-3.1.2-5], [MQTT-4.5.0-1]; 5.0 [MQTT-4.5.0-1])"
                );
                return self.fail(m);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
