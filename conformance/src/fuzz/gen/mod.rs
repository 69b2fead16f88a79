//! Generation: bursts of real MQTT packets for several clients, described field by field so
//! that mutations act on fields (flag bits, lengths, property lists, strings), then written
//! with [`touchstone_codec::raw::Frame`] whatever they hold.
//!
//! Unmutated packets are valid for their version: a unit test decodes every one of them with
//! the strict codec.

use bytes::{BufMut, BytesMut};
use touchstone_codec::raw::Frame;
use touchstone_codec::{write_varint, Protocol};

mod mutate;

use super::rng::Rng;
use mutate::mutate;

/// One field of a packet body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Field {
    /// Bytes mutations leave alone (protocol name and level: the version is not fuzzed).
    Fixed(Vec<u8>),
    /// A byte (flags, options, reason codes).
    U8(u8),
    /// A Two Byte Integer.
    U16(u16),
    /// A Four Byte Integer.
    U32(u32),
    /// A Variable Byte Integer; the second value, if any, is the exact encoding to write.
    Varint(u32, Option<Vec<u8>>),
    /// A UTF-8 string field; the length prefix is the second value if given.
    Str(Vec<u8>, Option<u16>),
    /// A binary field; the length prefix is the second value if given.
    Bin(Vec<u8>, Option<u16>),
    /// A string pair (User Property value).
    Pair(Vec<u8>, Vec<u8>),
    /// A 5.0 property list: (identifier, value); the length is the second value if given.
    Props(Vec<(u8, Field)>, Option<u32>),
    /// Raw bytes (payloads, junk).
    Raw(Vec<u8>),
}

impl Field {
    fn write(&self, out: &mut BytesMut) {
        match self {
            Field::Fixed(b) | Field::Raw(b) => out.put_slice(b),
            Field::U8(v) => out.put_u8(*v),
            Field::U16(v) => out.put_u16(*v),
            Field::U32(v) => out.put_u32(*v),
            Field::Varint(v, None) => write_varint(out, *v),
            Field::Varint(_, Some(b)) => out.put_slice(b),
            Field::Str(s, len) | Field::Bin(s, len) => {
                out.put_u16(len.unwrap_or(s.len() as u16));
                out.put_slice(s);
            }
            Field::Pair(k, v) => {
                out.put_u16(k.len() as u16);
                out.put_slice(k);
                out.put_u16(v.len() as u16);
                out.put_slice(v);
            }
            Field::Props(props, len) => {
                let mut body = BytesMut::new();
                for (id, value) in props {
                    write_varint(&mut body, u32::from(*id));
                    value.write(&mut body);
                }
                write_varint(out, len.unwrap_or(body.len() as u32));
                out.put_slice(&body);
            }
        }
    }
}

/// How the Remaining Length is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Length {
    /// The body's length, minimally encoded.
    Auto,
    /// The body's length plus this (too long or too short).
    Delta(i64),
    /// These exact bytes.
    Bytes(Vec<u8>),
}

/// A packet as a list of fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pkt {
    /// First byte: type and flags.
    pub first: u8,
    /// Remaining Length.
    pub length: Length,
    /// Variable header and payload.
    pub fields: Vec<Field>,
    /// What the packet is, for people (`PUBLISH q1 "t"`), and the mutations applied.
    pub label: String,
    /// Bytes cut off the end of the encoding.
    pub truncate: usize,
}

impl Pkt {
    fn new(first: u8, label: impl Into<String>, fields: Vec<Field>) -> Pkt {
        Pkt {
            first,
            length: Length::Auto,
            fields,
            label: label.into(),
            truncate: 0,
        }
    }

    /// The bytes on the wire.
    pub fn encode(&self) -> Vec<u8> {
        let mut body = BytesMut::new();
        for f in &self.fields {
            f.write(&mut body);
        }
        let frame = Frame::new(self.first).bytes(&body);
        let frame = match &self.length {
            Length::Auto => frame,
            Length::Delta(d) => {
                frame.remaining_length((body.len() as i64 + d).clamp(0, 268_435_455) as u32)
            }
            Length::Bytes(b) => frame.remaining_length_bytes(b),
        };
        let mut bytes = frame.to_bytes().to_vec();
        bytes.truncate(bytes.len().saturating_sub(self.truncate));
        bytes
    }
}

/// One action of a burst.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// The client (index into the burst's clients).
    pub client: usize,
    /// The bytes written (one write; one WebSocket frame).
    pub bytes: Vec<u8>,
    /// What they are.
    pub note: String,
}

/// A burst: several clients' packets, interleaved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Burst {
    /// The version the clients speak.
    pub protocol: Protocol,
    /// How many clients (connections).
    pub clients: usize,
    /// The writes, in order.
    pub steps: Vec<Step>,
}

/// What the generator needs to know about the run.
#[derive(Debug, Clone)]
pub struct GenConfig {
    /// Client ids and topics start with this (unique to the seed).
    pub prefix: String,
    /// User name and password for CONNECT.
    pub username: Option<String>,
    /// Password.
    pub password: Option<Vec<u8>>,
}

const PROP_PAYLOAD_FORMAT: u8 = 0x01;
const PROP_MESSAGE_EXPIRY: u8 = 0x02;
const PROP_CONTENT_TYPE: u8 = 0x03;
const PROP_RESPONSE_TOPIC: u8 = 0x08;
const PROP_CORRELATION: u8 = 0x09;
const PROP_SUB_ID: u8 = 0x0B;
const PROP_SESSION_EXPIRY: u8 = 0x11;
const PROP_REQUEST_PROBLEM: u8 = 0x17;
const PROP_WILL_DELAY: u8 = 0x18;
const PROP_REQUEST_RESPONSE: u8 = 0x19;
const PROP_REASON_STRING: u8 = 0x1F;
const PROP_RECEIVE_MAX: u8 = 0x21;
const PROP_ALIAS_MAX: u8 = 0x22;
const PROP_ALIAS: u8 = 0x23;
const PROP_USER: u8 = 0x26;
const PROP_MAX_PACKET: u8 = 0x27;

fn s(text: &str) -> Field {
    Field::Str(text.as_bytes().to_vec(), None)
}

fn user_prop(r: &mut Rng) -> (u8, Field) {
    let k = *r.pick(&["k", "a", "", "key-\u{e9}"]);
    let v = *r.pick(&["v", "", "value", "1"]);
    (PROP_USER, Field::Pair(k.into(), v.into()))
}

/// Makes a property value.
type ValueGen = fn(&mut Rng) -> Field;

/// Client generator state: ids in use, topics, the version.
struct Client {
    index: usize,
    next_id: u16,
}

impl Client {
    fn id(&mut self) -> u16 {
        self.next_id = self.next_id.wrapping_add(1).max(1);
        self.next_id
    }
}

struct Gen<'a> {
    r: &'a mut Rng,
    v5: bool,
    cfg: &'a GenConfig,
    burst: u64,
}

impl Gen<'_> {
    fn topic(&mut self) -> String {
        let leaf = *self.r.pick(&["a", "b", "a/b", "c/d/e"]);
        format!("touchstone/fuzz/{}/{}", self.cfg.prefix, leaf)
    }

    fn filter(&mut self) -> String {
        let leaf = *self
            .r
            .pick(&["a", "b", "a/b", "+", "#", "a/+", "+/b", "c/#"]);
        format!("touchstone/fuzz/{}/{}", self.cfg.prefix, leaf)
    }

    fn props(&mut self, choices: &[(u8, ValueGen)]) -> Field {
        let mut props = Vec::new();
        for (id, value) in choices {
            if self.r.chance(1, 3) {
                props.push((*id, value(self.r)));
            }
        }
        if self.r.chance(1, 4) {
            props.push(user_prop(self.r));
        }
        Field::Props(props, None)
    }

    fn connect(&mut self, c: &Client) -> Pkt {
        let level = if self.v5 { 5 } else { 4 };
        let mut fields = vec![Field::Fixed(vec![0, 4, b'M', b'Q', b'T', b'T', level])];
        let will = self.r.chance(1, 4);
        let will_qos = self.r.below(3) as u8;
        let mut flags = 0x02; // Clean Start / Clean Session: no state left behind.
        if will {
            flags |= 0x04 | (will_qos << 3);
        }
        if self.cfg.username.is_some() {
            flags |= 0x80;
        }
        if self.cfg.password.is_some() {
            flags |= 0x40;
        }
        fields.push(Field::U8(flags));
        fields.push(Field::U16(*self.r.pick(&[0, 10, 60, 600])));
        if self.v5 {
            fields.push(self.props(&[
                (PROP_SESSION_EXPIRY, |r| Field::U32(r.below(5) as u32)),
                (PROP_RECEIVE_MAX, |r| Field::U16(1 + r.below(100) as u16)),
                (PROP_MAX_PACKET, |r| {
                    Field::U32(1024 + r.below(65536) as u32)
                }),
                (PROP_ALIAS_MAX, |r| Field::U16(r.below(10) as u16)),
                (PROP_REQUEST_PROBLEM, |r| Field::U8(r.below(2) as u8)),
                (PROP_REQUEST_RESPONSE, |r| Field::U8(r.below(2) as u8)),
            ]));
        }
        fields.push(s(&format!(
            "fz{}b{}c{}",
            self.cfg.prefix, self.burst, c.index
        )));
        if will {
            if self.v5 {
                fields.push(self.props(&[
                    (PROP_WILL_DELAY, |r| Field::U32(r.below(2) as u32)),
                    (PROP_PAYLOAD_FORMAT, |r| Field::U8(r.below(2) as u8)),
                    (PROP_MESSAGE_EXPIRY, |r| Field::U32(1 + r.below(60) as u32)),
                    (PROP_CONTENT_TYPE, |_| s("text/plain")),
                ]));
            }
            let topic = self.topic();
            fields.push(s(&topic));
            fields.push(Field::Bin(b"will".to_vec(), None));
        }
        if let Some(u) = &self.cfg.username {
            fields.push(s(u));
        }
        if let Some(p) = &self.cfg.password {
            fields.push(Field::Bin(p.clone(), None));
        }
        Pkt::new(0x10, "CONNECT", fields)
    }

    fn publish(&mut self, c: &mut Client) -> Pkt {
        let qos = self.r.below(3) as u8;
        let retain = self.r.chance(1, 10);
        let topic = self.topic();
        let mut fields = vec![s(&topic)];
        if qos > 0 {
            fields.push(Field::U16(c.id()));
        }
        if self.v5 {
            fields.push(self.props(&[
                (PROP_PAYLOAD_FORMAT, |_| Field::U8(1)),
                (PROP_MESSAGE_EXPIRY, |r| Field::U32(1 + r.below(100) as u32)),
                (PROP_CONTENT_TYPE, |_| s("application/json")),
                (PROP_RESPONSE_TOPIC, |_| s("touchstone/fuzz/reply")),
                (PROP_CORRELATION, |_| Field::Bin(vec![1, 2, 3], None)),
                (PROP_ALIAS, |r| Field::U16(1 + r.below(3) as u16)),
            ]));
        }
        let payload = match self.r.below(4) {
            0 => Vec::new(),
            1 => b"hello".to_vec(),
            2 => vec![self.r.byte(); 1 + self.r.below(300)],
            _ => b"{\"t\":21.5}".to_vec(),
        };
        fields.push(Field::Raw(payload));
        Pkt::new(
            0x30 | (qos << 1) | u8::from(retain),
            format!(
                "PUBLISH q{qos}{} {topic:?}",
                if retain { " retain" } else { "" }
            ),
            fields,
        )
    }

    fn subscribe(&mut self, c: &mut Client) -> Pkt {
        let mut fields = vec![Field::U16(c.id())];
        if self.v5 {
            fields.push(self.props(&[(PROP_SUB_ID, |r| {
                Field::Varint(1 + r.below(1000) as u32, None)
            })]));
        }
        let n = 1 + self.r.below(3);
        let mut label = "SUBSCRIBE".to_string();
        for _ in 0..n {
            let f = self.filter();
            let mut options = self.r.below(3) as u8;
            if self.v5 {
                options |= (self.r.below(2) as u8) << 2; // No Local
                options |= (self.r.below(2) as u8) << 3; // Retain As Published
                options |= (self.r.below(3) as u8) << 4; // Retain Handling
            }
            label += &format!(" {f:?}/{options:#04x}");
            fields.push(s(&f));
            fields.push(Field::U8(options));
        }
        Pkt::new(0x82, label, fields)
    }

    fn unsubscribe(&mut self, c: &mut Client) -> Pkt {
        let mut fields = vec![Field::U16(c.id())];
        if self.v5 {
            fields.push(self.props(&[]));
        }
        let f = self.filter();
        fields.push(s(&f));
        Pkt::new(0xA2, format!("UNSUBSCRIBE {f:?}"), fields)
    }

    fn ack(&mut self, c: &mut Client) -> Pkt {
        let (first, name) = *self.r.pick(&[
            (0x40, "PUBACK"),
            (0x50, "PUBREC"),
            (0x62, "PUBREL"),
            (0x70, "PUBCOMP"),
        ]);
        // Ids the server never sent or does not know: acknowledging them is allowed, and a
        // PUBREL for an unknown id gets a PUBCOMP (5.0: 0x92).
        let id = if self.r.chance(1, 2) {
            c.next_id.max(1)
        } else {
            1 + self.r.below(60000) as u16
        };
        let mut fields = vec![Field::U16(id)];
        if self.v5 && self.r.chance(1, 2) {
            fields.push(Field::U8(0));
            if self.r.chance(1, 2) {
                fields.push(self.props(&[(PROP_REASON_STRING, |_| s("fuzz"))]));
            }
        }
        Pkt::new(first, format!("{name} id {id}"), fields)
    }

    fn disconnect(&mut self) -> Pkt {
        let mut fields = Vec::new();
        if self.v5 && self.r.chance(1, 2) {
            fields.push(Field::U8(*self.r.pick(&[0x00, 0x04])));
            if self.r.chance(1, 2) {
                fields.push(self.props(&[(PROP_REASON_STRING, |_| s("bye"))]));
            }
        }
        Pkt::new(0xE0, "DISCONNECT", fields)
    }

    fn auth(&mut self) -> Pkt {
        Pkt::new(
            0xF0,
            "AUTH (no Authentication Method was in CONNECT)",
            vec![
                Field::U8(0x18),
                Field::Props(vec![(0x15, s("SCRAM-SHA-256"))], None),
            ],
        )
    }
}

/// Generates burst `burst` of the run seeded with `seed`: a deterministic function of both.
pub fn burst(seed: u64, burst: u64, protocols: &[Protocol], cfg: &GenConfig) -> Burst {
    let mut r = Rng::for_burst(seed, burst);
    let protocol = *r.pick(protocols);
    let clients = 1 + r.below(3);
    let v5 = protocol.is_v5();
    let mut g = Gen {
        r: &mut r,
        v5,
        cfg,
        burst,
    };
    // Each client's packets: CONNECT, then a handful of others.
    let mut scripts: Vec<Vec<Pkt>> = Vec::new();
    for index in 0..clients {
        let mut c = Client {
            index,
            next_id: g.r.below(100) as u16,
        };
        let mut pkts = vec![g.connect(&c)];
        let n = 1 + g.r.below(6);
        for _ in 0..n {
            let p = match g.r.below(12) {
                0..=3 => g.publish(&mut c),
                4..=5 => g.subscribe(&mut c),
                6 => g.unsubscribe(&mut c),
                7..=8 => g.ack(&mut c),
                9 => Pkt::new(0xC0, "PINGREQ", vec![]),
                10 if v5 && g.r.chance(1, 4) => g.auth(),
                _ => g.publish(&mut c),
            };
            pkts.push(p);
        }
        if g.r.chance(1, 5) {
            pkts.push(g.disconnect());
        }
        scripts.push(pkts);
    }
    // Mutate: most bursts get one to three field-level mutations; some none at all (valid
    // traffic must be handled too).
    let mutations = match g.r.below(8) {
        0 => 0,
        1..=4 => 1,
        5..=6 => 2,
        _ => 3,
    };
    for _ in 0..mutations {
        let ci = g.r.below(scripts.len());
        mutate(g.r, v5, &mut scripts[ci]);
    }
    // Interleave the clients' writes; sometimes two packets go in one write, or a packet is
    // split over two writes.
    let mut cursors = vec![0usize; scripts.len()];
    let mut steps = Vec::new();
    while cursors.iter().zip(&scripts).any(|(c, s)| *c < s.len()) {
        let live: Vec<usize> = (0..scripts.len())
            .filter(|&i| cursors[i] < scripts[i].len())
            .collect();
        let ci = *r.pick(&live);
        let p = &scripts[ci][cursors[ci]];
        cursors[ci] += 1;
        let bytes = p.encode();
        if r.chance(1, 10) && cursors[ci] < scripts[ci].len() {
            let q = &scripts[ci][cursors[ci]];
            cursors[ci] += 1;
            let mut both = bytes;
            both.extend(q.encode());
            steps.push(Step {
                client: ci,
                bytes: both,
                note: format!("{} + {} (one write)", p.label, q.label),
            });
        } else if r.chance(1, 12) && bytes.len() > 2 {
            let cut = 1 + r.below(bytes.len() - 1);
            steps.push(Step {
                client: ci,
                bytes: bytes[..cut].to_vec(),
                note: format!("{} (first {cut} bytes)", p.label),
            });
            steps.push(Step {
                client: ci,
                bytes: bytes[cut..].to_vec(),
                note: format!("{} (the rest)", p.label),
            });
        } else {
            steps.push(Step {
                client: ci,
                bytes,
                note: p.label.clone(),
            });
        }
    }
    Burst {
        protocol,
        clients,
        steps,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use touchstone_codec::hex::encode as hex;
    use touchstone_codec::Decoder;

    fn cfg() -> GenConfig {
        GenConfig {
            prefix: "t".into(),
            username: None,
            password: None,
        }
    }

    #[test]
    fn deterministic() {
        let c = cfg();
        for b in 0..50 {
            assert_eq!(
                burst(9, b, &[Protocol::V3_1_1, Protocol::V5], &c),
                burst(9, b, &[Protocol::V3_1_1, Protocol::V5], &c)
            );
        }
    }

    #[test]
    fn unmutated_packets_are_valid() {
        let c = cfg();
        for v5 in [false, true] {
            for seed in 0..300 {
                let mut r = Rng::for_burst(seed, 0);
                let mut g = Gen {
                    r: &mut r,
                    v5,
                    cfg: &c,
                    burst: 0,
                };
                let mut cl = Client {
                    index: 0,
                    next_id: 5,
                };
                let pkts = [
                    g.connect(&cl),
                    g.publish(&mut cl),
                    g.subscribe(&mut cl),
                    g.unsubscribe(&mut cl),
                    g.ack(&mut cl),
                    g.disconnect(),
                ];
                let p = if v5 { Protocol::V5 } else { Protocol::V3_1_1 };
                for pkt in pkts {
                    let bytes = pkt.encode();
                    let r = Decoder::new(p).decode_slice(&bytes);
                    assert!(r.is_ok(), "{p:?} {} {}: {r:?}", pkt.label, hex(&bytes));
                }
            }
        }
    }
}
