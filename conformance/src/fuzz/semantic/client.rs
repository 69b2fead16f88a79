//! The scripted client of one side (the target or the model): encodes the operations,
//! acknowledges what it receives, and records the messages delivered to it. Sans-IO: bytes in,
//! bytes out.

use bytes::{Bytes, BytesMut};
use touchstone_codec::{
    Connect, Decoder, Disconnect, Framer, Packet, PacketId, Protocol, PubAck, PubComp, PubRec,
    PubRel, Publish, QoS, RetainHandling, Subscribe, Subscription, SubscriptionOptions,
    Unsubscribe, Will,
};

use super::scenario::{Op, FILTERS, SHARED, TOPICS};

/// A message as one client received it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// The operation index that published it (a Will: the CONNECT's).
    pub tag: usize,
    /// The topic, relative to the run's root.
    pub topic: String,
    /// QoS.
    pub qos: u8,
    /// RETAIN.
    pub retain: bool,
    /// DUP.
    pub dup: bool,
    /// The step during which it arrived.
    pub step: usize,
    /// 5.0 forwarded properties, as received (user properties, content type, response topic,
    /// correlation data, payload format indicator).
    pub properties: Vec<String>,
    /// 5.0 Subscription Identifiers, sorted.
    pub subscription_ids: Vec<u32>,
}

/// What a 5.0 server said in CONNACK it does not support (absent: supported).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Caps {
    /// Maximum QoS.
    pub maximum_qos: u8,
    /// Retain Available.
    pub retain: bool,
    /// Wildcard Subscription Available.
    pub wildcards: bool,
    /// Subscription Identifiers Available.
    pub subscription_ids: bool,
    /// Shared Subscription Available.
    pub shared: bool,
}

impl Default for Caps {
    fn default() -> Caps {
        Caps {
            maximum_qos: 2,
            retain: true,
            wildcards: true,
            subscription_ids: true,
            shared: true,
        }
    }
}

impl Caps {
    /// What both allow.
    pub fn and(self, other: Caps) -> Caps {
        Caps {
            maximum_qos: self.maximum_qos.min(other.maximum_qos),
            retain: self.retain && other.retain,
            wildcards: self.wildcards && other.wildcards,
            subscription_ids: self.subscription_ids && other.subscription_ids,
            shared: self.shared && other.shared,
        }
    }

    /// What a profile's capability statements allow (unstated: allowed).
    pub fn from_profile(overrides: [&crate::harness::capability::CapabilityOverrides; 2]) -> Caps {
        let mut c = Caps::default();
        for o in overrides {
            if let Some(q) = o.max_qos {
                c.maximum_qos = q;
            }
            if let Some(r) = o.retain {
                c.retain = r;
            }
            if let Some(w) = o.wildcards {
                c.wildcards = w;
            }
            if let Some(s) = o.shared_subscriptions {
                c.shared = s;
            }
            if let Some(i) = o.subscription_identifiers {
                c.subscription_ids = i;
            }
        }
        c
    }
}

/// What a step waits for on one client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Awaiting {
    /// Nothing.
    Nothing,
    /// CONNACK.
    ConnAck,
    /// SUBACK, UNSUBACK, PUBACK or PUBCOMP with this packet id.
    Ack(u16),
}

/// Names of the run: the root of every topic and the client ids.
#[derive(Debug, Clone)]
pub struct Names {
    /// `ts/<nonce>`.
    pub root: String,
    /// Client id prefix.
    pub client_prefix: String,
    /// Share name.
    pub share: String,
    /// User name for CONNECT.
    pub username: Option<String>,
    /// Password for CONNECT.
    pub password: Option<Vec<u8>>,
}

impl Names {
    /// Names unique to `nonce`.
    pub fn new(nonce: &str) -> Names {
        Names {
            root: format!("ts/{nonce}"),
            client_prefix: format!("ts{nonce}c"),
            share: format!("g{nonce}"),
            username: None,
            password: None,
        }
    }
    /// The client id of a slot.
    pub fn client_id(&self, slot: u8) -> String {
        format!("{}{slot}", self.client_prefix)
    }
    /// A topic's full name.
    pub fn topic(&self, t: u8) -> String {
        format!("{}/{}", self.root, TOPICS[usize::from(t)])
    }
    /// A filter's full text.
    pub fn filter(&self, f: u8) -> String {
        if f == SHARED {
            format!("$share/{}/{}/s/#", self.share, self.root)
        } else {
            format!("{}/{}", self.root, FILTERS[usize::from(f)])
        }
    }
    /// The payload of operation `tag`.
    pub fn payload(&self, tag: usize) -> Bytes {
        Bytes::from(format!("{}#{tag}", self.root))
    }
    fn tag_of(&self, payload: &[u8]) -> Option<usize> {
        let s = std::str::from_utf8(payload).ok()?;
        s.strip_prefix(&self.root)?.strip_prefix('#')?.parse().ok()
    }
}

/// The properties a 5.0 PUBLISH with `properties` carries (to be forwarded unchanged).
pub fn set_properties(p: &mut Publish, tag: usize) {
    let props = &mut *p.properties;
    props.user_properties.push("k", &format!("v{tag}"));
    props.user_properties.push("k", "second");
    props.user_properties.push("a", "z");
    props.content_type = Some("text/x-touchstone".into());
    props.response_topic = Some(format!("r/{tag}").as_str().into());
    props.correlation_data = Some(Bytes::from(vec![0, 1, 2, tag as u8]));
    props.payload_format_indicator = Some(touchstone_codec::PayloadFormat::Utf8);
}

fn forwarded(p: &Publish) -> Vec<String> {
    let props = &p.properties;
    let mut out: Vec<String> = props
        .user_properties
        .iter()
        .map(|(k, v)| format!("user {k}={v}"))
        .collect();
    if let Some(c) = &props.content_type {
        out.push(format!("content-type {c}"));
    }
    if let Some(r) = &props.response_topic {
        out.push(format!("response-topic {r}"));
    }
    if let Some(d) = &props.correlation_data {
        out.push(format!(
            "correlation-data {}",
            touchstone_codec::hex::encode(d)
        ));
    }
    if let Some(f) = &props.payload_format_indicator {
        out.push(format!("payload-format {f:?}"));
    }
    out
}

/// One client of one side.
#[derive(Debug)]
pub struct Client {
    protocol: Protocol,
    /// The server's bytes, framed into packets.
    framer: Framer,
    next_id: u16,
    /// What the current step waits for.
    pub awaiting: Awaiting,
    /// A PINGREQ was sent after the operation and its PINGRESP has not come: the server
    /// reads a connection's packets in order, so once it comes, it has handled the operation
    /// (a QoS 0 PUBLISH; a SUBSCRIBE and the retained messages it sends) before another
    /// client's next one. It may come before the packet awaited: some servers answer a
    /// PINGREQ before they finish a SUBSCRIBE.
    ping_owed: bool,
    /// Connected (CONNACK 0 seen, not closed).
    pub connected: bool,
    /// The last CONNACK: (Session Present, return/reason code, 5.0 Session Expiry Interval).
    pub connack: Option<(bool, u8, Option<u32>)>,
    /// The last SUBACK's or UNSUBACK's codes, and PUBACK/PUBREC reason.
    pub last_codes: Vec<u8>,
    /// Messages received, in order.
    pub deliveries: Vec<Delivery>,
    /// Packets this side could not decode or did not expect (none expected).
    pub errors: Vec<String>,
    /// The server sent DISCONNECT (5.0), with this reason.
    pub server_disconnect: Option<u8>,
    /// What the last CONNACK said the server supports.
    pub caps: Caps,
}

impl Client {
    /// A client speaking `protocol`, before its connection opens.
    pub fn new(protocol: Protocol) -> Client {
        Client {
            protocol,
            framer: Framer::new(Decoder::new(protocol)),
            next_id: 0,
            awaiting: Awaiting::Nothing,
            ping_owed: false,
            connected: false,
            connack: None,
            last_codes: Vec::new(),
            deliveries: Vec::new(),
            errors: Vec::new(),
            server_disconnect: None,
            caps: Caps::default(),
        }
    }

    /// A new connection: the input buffer and the flows start afresh.
    pub fn reset_connection(&mut self) {
        self.framer = Framer::new(Decoder::new(self.protocol));
        self.awaiting = Awaiting::Nothing;
        self.ping_owed = false;
        self.connected = false;
        self.server_disconnect = None;
    }

    /// The connection is gone: nothing more is awaited on it.
    pub fn connection_closed(&mut self) {
        self.connected = false;
        self.awaiting = Awaiting::Nothing;
        self.ping_owed = false;
    }

    fn id(&mut self) -> PacketId {
        self.next_id = self.next_id % 60_000 + 1;
        PacketId::new(self.next_id).unwrap_or(PacketId::MIN)
    }

    /// The bytes of operation `op` (number `tag`), and what to wait for.
    pub fn encode(&mut self, op: &Op, tag: usize, names: &Names) -> Bytes {
        let v5 = self.protocol.is_v5();
        let packet = match *op {
            Op::Connect {
                client,
                clean,
                keep_session,
                will,
            } => {
                let mut c = Connect {
                    clean_start: clean,
                    keep_alive: 0,
                    client_id: names.client_id(client).as_str().into(),
                    username: names.username.as_deref().map(Into::into),
                    password: names.password.clone().map(Bytes::from),
                    ..Connect::default()
                };
                if v5 {
                    c.properties.session_expiry_interval = Some(if keep_session { 300 } else { 0 });
                } else if !keep_session {
                    c.clean_start = true;
                }
                if let Some((t, q, r)) = will {
                    c.will = Some(Will {
                        topic: names.topic(t).as_str().into(),
                        payload: names.payload(tag),
                        qos: qos(q),
                        retain: r,
                        ..Will::default()
                    });
                }
                self.awaiting = Awaiting::ConnAck;
                Packet::Connect(Box::new(c))
            }
            Op::Subscribe {
                filter,
                qos: q,
                no_local,
                retain_as_published,
                retain_handling,
                id,
                ..
            } => {
                let pid = self.id();
                let mut s = Subscribe {
                    packet_id: pid,
                    filters: vec![Subscription {
                        filter: names.filter(filter).as_str().into(),
                        options: SubscriptionOptions {
                            qos: qos(q),
                            no_local,
                            retain_as_published,
                            retain_handling: match retain_handling {
                                1 => RetainHandling::SendAtSubscribeIfNew,
                                2 => RetainHandling::DoNotSend,
                                _ => RetainHandling::SendAtSubscribe,
                            },
                        },
                    }],
                    properties: Default::default(),
                };
                if v5 {
                    s.properties.subscription_identifier = id;
                }
                self.awaiting = Awaiting::Ack(pid.get());
                self.ping_owed = true;
                Packet::Subscribe(s)
            }
            Op::Unsubscribe { filter, .. } => {
                let pid = self.id();
                self.awaiting = Awaiting::Ack(pid.get());
                Packet::Unsubscribe(Unsubscribe {
                    packet_id: pid,
                    filters: vec![names.filter(filter).as_str().into()],
                    properties: Default::default(),
                })
            }
            Op::Publish {
                topic,
                qos: q,
                retain,
                properties,
                ..
            } => {
                let mut p = Publish {
                    qos: qos(q),
                    retain,
                    topic: names.topic(topic).as_str().into(),
                    payload: names.payload(tag),
                    ..Publish::default()
                };
                if q > 0 {
                    let pid = self.id();
                    p.packet_id = Some(pid);
                    self.awaiting = Awaiting::Ack(pid.get());
                } else {
                    self.awaiting = Awaiting::Nothing;
                    self.ping_owed = true;
                }
                if properties && v5 {
                    set_properties(&mut p, tag);
                }
                Packet::Publish(p)
            }
            Op::Disconnect { .. } => {
                self.awaiting = Awaiting::Nothing;
                Packet::Disconnect(Disconnect::default())
            }
            Op::Drop { .. } => {
                self.awaiting = Awaiting::Nothing;
                return Bytes::new();
            }
        };
        let mut buf = BytesMut::new();
        packet.encode_unchecked(self.protocol, &mut buf);
        if self.ping_owed {
            Packet::PingReq.encode_unchecked(self.protocol, &mut buf);
        }
        buf.freeze()
    }

    /// True when nothing the current step sent is still unanswered.
    pub fn idle(&self) -> bool {
        self.awaiting == Awaiting::Nothing && !self.ping_owed
    }

    /// Takes bytes from the server; returns the bytes to answer with (acknowledgements).
    pub fn receive(&mut self, data: &[u8], step: usize, names: &Names) -> BytesMut {
        self.framer.push(data);
        let mut out = BytesMut::new();
        loop {
            let packet = match self.framer.next_packet() {
                Ok(Some(p)) => p,
                Ok(None) => break,
                Err(e) => {
                    self.errors
                        .push(format!("undecodable bytes from the server: {e}"));
                    self.framer.take_buffered();
                    break;
                }
            };
            let answer = self.on_packet(packet, step, names);
            if let Some(a) = answer {
                a.encode_unchecked(self.protocol, &mut out);
            }
        }
        out
    }

    fn done(&mut self, id: u16) {
        if self.awaiting == Awaiting::Ack(id) {
            self.awaiting = Awaiting::Nothing;
        }
    }

    fn on_packet(&mut self, packet: Packet, step: usize, names: &Names) -> Option<Packet> {
        match packet {
            Packet::ConnAck(a) => {
                self.connected = a.reason_code.0 == 0;
                self.connack = Some((
                    a.session_present,
                    a.reason_code.0,
                    a.properties.session_expiry_interval,
                ));
                let p = &a.properties;
                self.caps = Caps {
                    maximum_qos: p.maximum_qos.map_or(2, |q| q as u8),
                    retain: p.retain_available.unwrap_or(true),
                    wildcards: p.wildcard_subscription_available.unwrap_or(true),
                    subscription_ids: p.subscription_identifiers_available.unwrap_or(true),
                    shared: p.shared_subscription_available.unwrap_or(true),
                };
                if self.awaiting == Awaiting::ConnAck {
                    self.awaiting = Awaiting::Nothing;
                }
                None
            }
            Packet::Publish(p) => {
                let topic = p
                    .topic
                    .as_str()
                    .strip_prefix(&names.root)
                    .and_then(|t| t.strip_prefix('/'))
                    .unwrap_or(p.topic.as_str())
                    .to_string();
                let mut ids: Vec<u32> = p.properties.subscription_identifiers.to_vec();
                ids.sort_unstable();
                match names.tag_of(&p.payload) {
                    Some(tag) => self.deliveries.push(Delivery {
                        tag,
                        topic,
                        qos: p.qos as u8,
                        retain: p.retain,
                        dup: p.dup,
                        step,
                        properties: forwarded(&p),
                        subscription_ids: ids,
                    }),
                    None => self.errors.push(format!(
                        "a PUBLISH on {} that no operation of this run published",
                        p.topic.as_str()
                    )),
                }
                let pid = p.packet_id?;
                match p.qos {
                    QoS::AtLeastOnce => Some(Packet::PubAck(PubAck::new(pid))),
                    QoS::ExactlyOnce => Some(Packet::PubRec(PubRec::new(pid))),
                    QoS::AtMostOnce => None,
                }
            }
            Packet::PubRel(r) => Some(Packet::PubComp(PubComp::new(r.packet_id))),
            Packet::PubAck(a) => {
                self.last_codes = vec![a.reason_code.0];
                self.done(a.packet_id.get());
                None
            }
            Packet::PubRec(a) => {
                self.last_codes = vec![a.reason_code.0];
                if a.reason_code.0 >= 0x80 {
                    self.done(a.packet_id.get());
                    return None;
                }
                Some(Packet::PubRel(PubRel::new(a.packet_id)))
            }
            Packet::PubComp(a) => {
                self.done(a.packet_id.get());
                None
            }
            Packet::SubAck(a) => {
                self.last_codes = a.reason_codes.iter().map(|c| c.0).collect();
                self.done(a.packet_id.get());
                None
            }
            Packet::UnsubAck(a) => {
                self.last_codes = a.reason_codes.iter().map(|c| c.0).collect();
                self.done(a.packet_id.get());
                None
            }
            Packet::Disconnect(d) => {
                self.server_disconnect = Some(d.reason_code.0);
                None
            }
            Packet::PingResp => {
                self.ping_owed = false;
                None
            }
            other => {
                self.errors.push(format!(
                    "the server sent {} to a client",
                    other.packet_type().name()
                ));
                None
            }
        }
    }
}

fn qos(n: u8) -> QoS {
    QoS::from_u8(n.min(2)).unwrap_or(QoS::AtMostOnce)
}
