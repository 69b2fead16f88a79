//! The runner: the broker under test, the model, and one step at a time.

use std::collections::BTreeMap;

use crate::fxhash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::fmt;

use bytes::{Bytes, BytesMut};
use touchstone_codec::{
    Auth, Connect, Packet, PacketId, Protocol, PubAck, PubComp, PubRec, PubRel, Publish, QoS,
    ReasonCode, RetainHandling, Subscribe, Subscription, SubscriptionOptions, Unsubscribe, Will,
};

use super::model::*;
use super::scenario::*;
use crate::config::Config;
use crate::core::{Action, Broker, ConnectionId, Event, Millis};
#[cfg(feature = "fuzzing")]
use arbitrary::Arbitrary;

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
#[cfg(feature = "fuzzing")]
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

pub(super) struct Runner {
    pub(super) broker: Broker,
    pub(super) config: Config,
    pub(super) now: Millis,
    pub(super) step_no: usize,
    pub(super) next_conn: u64,
    pub(super) conns: BTreeMap<u64, ConnModel>,
    pub(super) slots: [Option<u64>; CLIENTS],
    pub(super) sessions: HashMap<String, SessionModel>,
    pub(super) next_tag: u64,
    /// Tags accepted more than once, or seen in a Will: no checks.
    pub(super) ambiguous: HashSet<u64>,
    /// Tags published (QoS 0) or accepted (QoS 1/2) once.
    pub(super) accepted: HashSet<u64>,
    /// Connections whose session's in-flight messages must be re-sent during this call.
    pub(super) resend: HashMap<u64, HashSet<(u16, bool)>>,
    /// Print every packet (`TOUCHSTONE_FUZZ_TRACE`).
    pub(super) trace: bool,
    /// Each session's drop count just before the last event handed to the broker.
    pub(super) drops_before: HashMap<String, u64>,
    /// The broker's session epoch when the session models were last pruned.
    pub(super) session_epoch: u64,
    /// The buffer the broker's actions are drained into.
    pub(super) actions: Vec<Action>,
}

pub(super) type Res = Result<(), Violation>;

pub(super) fn qos_of(n: u8) -> QoS {
    QoS::from_u8(n % 3).unwrap_or(QoS::AtMostOnce)
}

impl Runner {
    pub(super) fn new(config: Config) -> Runner {
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
    pub(super) fn handle(&mut self, event: Event<'_>) {
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

    pub(super) fn fail(&self, message: String) -> Res {
        Err(Violation {
            step: self.step_no,
            message,
        })
    }

    pub(super) fn open(&mut self, slot: usize) -> u64 {
        let id = self.next_conn;
        self.next_conn += 1;
        self.conns.insert(
            id,
            ConnModel {
                mirror: touchstone_codec::Framer::new(touchstone_codec::Decoder::new(
                    Protocol::V3_1_1,
                )),
                protocol: None,
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

    pub(super) fn current(&self, client: u8) -> Option<u64> {
        self.slots[usize::from(client) % CLIENTS].filter(|id| self.conns.contains_key(id))
    }

    pub(super) fn protocol(&self, id: u64) -> Protocol {
        self.conns
            .get(&id)
            .and_then(|c| {
                c.protocol
                    .or_else(|| c.connect.as_ref().map(|_| Protocol::V5))
            })
            .unwrap_or(Protocol::V5)
    }

    pub(super) fn step(&mut self, step: &Step) -> Res {
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
}
