//! Packet patterns for expectations. A pattern compares only what the specification fixes:
//! `publish(&topic).qos(Q1).retain(true).payload("v")` says nothing about the packet id's
//! value, the order of unrelated packets, or fields the case leaves open.
//!
//! Each pattern *concerns* some packets (a PUBLISH pattern with a topic concerns PUBLISHes on
//! that topic; an acknowledgement pattern concerns that type with that packet id): the first
//! concerned packet must then match. Packets a pattern does not concern stay queued for later
//! expectations, so PINGRESP or an unrelated acknowledgement in between breaks nothing.

use bytes::Bytes;
use touchstone_codec::{
    ConnAck, Disconnect, Packet, PacketId, PacketType, PubAck, PubComp, PubRec, PubRel, Publish,
    QoS, ReasonCode, SubAck, UnsubAck,
};

use crate::harness::summary;

/// What an expectation waits for.
pub trait Pattern: Send {
    /// What a match yields (usually the packet).
    type Output: Send;
    /// The pattern for people, e.g. `PUBLISH "a/b" q1`.
    fn describe(&self) -> String;
    /// True if `packet` is the kind of packet this pattern is about.
    fn concerns(&self, packet: &Packet) -> bool;
    /// Checks a concerned packet; `Err` says what differs.
    fn check(&self, packet: &Packet) -> Result<(), String>;
    /// The output for a packet that passed [`Pattern::check`].
    fn output(&self, packet: Packet) -> Option<Self::Output>;
}

type Check<T> = Box<dyn Fn(&T) -> Result<(), String> + Send + Sync>;

/// Which PUBLISHes a [`PublishPattern`] concerns.
#[derive(Debug, Clone, PartialEq, Eq)]
enum TopicMatch {
    Any,
    Exact(String),
    Prefix(String),
}

/// A PUBLISH pattern: see [`publish`] and [`any_publish`].
pub struct PublishPattern {
    topic: TopicMatch,
    qos: Option<QoS>,
    retain: Option<bool>,
    dup: Option<bool>,
    payload: Option<Bytes>,
    user_properties: Option<Vec<(String, String)>>,
    checks: Vec<(String, Check<Publish>)>,
}

/// A PUBLISH on `topic` (any QoS, flags and payload unless narrowed).
pub fn publish(topic: impl Into<String>) -> PublishPattern {
    PublishPattern {
        topic: TopicMatch::Exact(topic.into()),
        ..any_publish()
    }
}

/// A PUBLISH whose topic starts with `prefix`.
pub fn publish_under(prefix: impl Into<String>) -> PublishPattern {
    PublishPattern {
        topic: TopicMatch::Prefix(prefix.into()),
        ..any_publish()
    }
}

/// Any PUBLISH.
pub fn any_publish() -> PublishPattern {
    PublishPattern {
        topic: TopicMatch::Any,
        qos: None,
        retain: None,
        dup: None,
        payload: None,
        user_properties: None,
        checks: Vec::new(),
    }
}

impl PublishPattern {
    /// The QoS must be `qos`.
    pub fn qos(mut self, qos: QoS) -> Self {
        self.qos = Some(qos);
        self
    }

    /// The RETAIN flag must be `retain`.
    pub fn retain(mut self, retain: bool) -> Self {
        self.retain = Some(retain);
        self
    }

    /// The DUP flag must be `dup`.
    pub fn dup(mut self, dup: bool) -> Self {
        self.dup = Some(dup);
        self
    }

    /// The payload must be exactly `payload`.
    pub fn payload(mut self, payload: impl AsRef<[u8]>) -> Self {
        self.payload = Some(Bytes::copy_from_slice(payload.as_ref()));
        self
    }

    /// The User Properties must hold these, unaltered and in this order (5.0); others a server
    /// adds before, between or after them are allowed.
    pub fn user_properties(mut self, pairs: &[(&str, &str)]) -> Self {
        self.user_properties = Some(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        );
        self
    }

    /// A further check on the packet, described as `what` (e.g. `Content Type "text/plain"`).
    pub fn satisfies(
        mut self,
        what: impl Into<String>,
        f: impl Fn(&Publish) -> Result<(), String> + Send + Sync + 'static,
    ) -> Self {
        self.checks.push((what.into(), Box::new(f)));
        self
    }
}

impl Pattern for PublishPattern {
    type Output = Publish;

    fn describe(&self) -> String {
        let mut s = String::from("PUBLISH");
        match &self.topic {
            TopicMatch::Any => {}
            TopicMatch::Exact(t) => s += &format!(" {t:?}"),
            TopicMatch::Prefix(t) => s += &format!(" under {t:?}"),
        }
        if let Some(q) = self.qos {
            s += &format!(" q{}", q.as_u8());
        }
        match self.retain {
            Some(true) => s += " retain=1",
            Some(false) => s += " retain=0",
            None => {}
        }
        match self.dup {
            Some(true) => s += " dup=1",
            Some(false) => s += " dup=0",
            None => {}
        }
        if let Some(p) = &self.payload {
            s += &format!(" payload={}", summary::bytes(p));
        }
        if let Some(u) = &self.user_properties {
            let pairs: Vec<String> = u.iter().map(|(k, v)| format!("{k:?}:{v:?}")).collect();
            s += &format!(" user=[{}]", pairs.join(", "));
        }
        for (what, _) in &self.checks {
            s += &format!(" {what}");
        }
        s
    }

    fn concerns(&self, packet: &Packet) -> bool {
        match (packet, &self.topic) {
            (Packet::Publish(p), TopicMatch::Exact(t)) => p.topic.as_str() == t,
            (Packet::Publish(p), TopicMatch::Prefix(t)) => p.topic.as_str().starts_with(t.as_str()),
            (Packet::Publish(_), TopicMatch::Any) => true,
            _ => false,
        }
    }

    fn check(&self, packet: &Packet) -> Result<(), String> {
        let Packet::Publish(p) = packet else {
            return Err(format!("a {}", packet.packet_type()));
        };
        let mut diffs = Vec::new();
        if let Some(q) = self.qos {
            if p.qos != q {
                diffs.push(format!("QoS is {}, not {}", p.qos.as_u8(), q.as_u8()));
            }
        }
        if let Some(r) = self.retain {
            if p.retain != r {
                diffs.push(format!(
                    "RETAIN is {}, not {}",
                    u8::from(p.retain),
                    u8::from(r)
                ));
            }
        }
        if let Some(d) = self.dup {
            if p.dup != d {
                diffs.push(format!("DUP is {}, not {}", u8::from(p.dup), u8::from(d)));
            }
        }
        if let Some(want) = &self.payload {
            if p.payload != want {
                diffs.push(format!(
                    "payload is {}, not {}",
                    summary::bytes(&p.payload),
                    summary::bytes(want)
                ));
            }
        }
        if let Some(want) = &self.user_properties {
            let got: Vec<(String, String)> = p
                .properties
                .user_properties
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            // Every expected pair, unaltered and in its order; pairs a server adds around them
            // are allowed (5.0 [MQTT-3.3.2-17], [MQTT-3.3.2-18] fix no more).
            let mut rest = got.iter();
            if !want.iter().all(|w| rest.any(|g| g == w)) {
                diffs.push(format!(
                    "User Properties are {got:?}, which do not hold {want:?} unaltered and in that order"
                ));
            }
        }
        for (what, f) in &self.checks {
            if let Err(e) = f(p) {
                diffs.push(format!("{what}: {e}"));
            }
        }
        if diffs.is_empty() {
            Ok(())
        } else {
            Err(diffs.join("; "))
        }
    }

    fn output(&self, packet: Packet) -> Option<Publish> {
        match packet {
            Packet::Publish(p) => Some(p),
            _ => None,
        }
    }
}

/// Which reason codes an acknowledgement may carry.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Reasons {
    Any,
    Success,
    Failure,
    OneOf(Vec<ReasonCode>),
}

impl Reasons {
    fn allows(&self, code: ReasonCode) -> bool {
        match self {
            Reasons::Any => true,
            Reasons::Success => code.is_success(),
            Reasons::Failure => !code.is_success(),
            Reasons::OneOf(codes) => codes.contains(&code),
        }
    }

    fn describe(&self) -> String {
        self.describe_with(summary::reason)
    }

    fn describe_with(&self, name: fn(ReasonCode) -> String) -> String {
        match self {
            Reasons::Any => String::new(),
            Reasons::Success => " reason < 0x80".into(),
            Reasons::Failure => " reason >= 0x80".into(),
            Reasons::OneOf(codes) => {
                let c: Vec<String> = codes.iter().map(|c| name(*c)).collect();
                format!(" reason {}", c.join(" or "))
            }
        }
    }
}

macro_rules! ack_pattern {
    ($(#[$m:meta])* $fn:ident, $ty:ident, $pattern:ident, $variant:ident) => {
        $(#[$m])*
        pub fn $fn(packet_id: PacketId) -> $pattern {
            $pattern { packet_id, reasons: Reasons::Any }
        }

        #[doc = concat!("A ", stringify!($variant), " pattern: see [`", stringify!($fn), "`].")]
        #[derive(Debug, Clone)]
        pub struct $pattern {
            packet_id: PacketId,
            reasons: Reasons,
        }

        impl $pattern {
            /// The reason code must be `code` (5.0; 3.1.1 acknowledgements are always 0).
            pub fn reason(mut self, code: ReasonCode) -> Self {
                self.reasons = Reasons::OneOf(vec![code]);
                self
            }
            /// The reason code must be one of `codes`.
            pub fn reason_in(mut self, codes: &[ReasonCode]) -> Self {
                self.reasons = Reasons::OneOf(codes.to_vec());
                self
            }
            /// The reason code must be below 0x80.
            pub fn success(mut self) -> Self {
                self.reasons = Reasons::Success;
                self
            }
        }

        impl Pattern for $pattern {
            type Output = $ty;
            fn describe(&self) -> String {
                format!("{} id={}{}", PacketType::$variant, self.packet_id, self.reasons.describe())
            }
            fn concerns(&self, packet: &Packet) -> bool {
                matches!(packet, Packet::$variant(a) if a.packet_id == self.packet_id)
            }
            fn check(&self, packet: &Packet) -> Result<(), String> {
                match packet {
                    Packet::$variant(a) if self.reasons.allows(a.reason_code) => Ok(()),
                    Packet::$variant(a) => Err(format!("reason code is {}", summary::reason(a.reason_code))),
                    other => Err(format!("a {}", other.packet_type())),
                }
            }
            fn output(&self, packet: Packet) -> Option<$ty> {
                match packet {
                    Packet::$variant(a) => Some(a),
                    _ => None,
                }
            }
        }
    };
}

ack_pattern!(
    /// A PUBACK for `packet_id`.
    puback, PubAck, PubAckPattern, PubAck
);
ack_pattern!(
    /// A PUBREC for `packet_id`.
    pubrec, PubRec, PubRecPattern, PubRec
);
ack_pattern!(
    /// A PUBREL for `packet_id`.
    pubrel, PubRel, PubRelPattern, PubRel
);
ack_pattern!(
    /// A PUBCOMP for `packet_id`.
    pubcomp, PubComp, PubCompPattern, PubComp
);

/// A SUBACK pattern: see [`suback`].
#[derive(Debug, Clone)]
pub struct SubAckPattern {
    packet_id: PacketId,
    count: Option<usize>,
}

/// A SUBACK for `packet_id`.
pub fn suback(packet_id: PacketId) -> SubAckPattern {
    SubAckPattern {
        packet_id,
        count: None,
    }
}

impl SubAckPattern {
    /// It must carry `n` codes (one per filter of the SUBSCRIBE).
    pub fn codes(mut self, n: usize) -> Self {
        self.count = Some(n);
        self
    }
}

impl Pattern for SubAckPattern {
    type Output = SubAck;
    fn describe(&self) -> String {
        match self.count {
            Some(n) => format!("SUBACK id={} with {n} code(s)", self.packet_id),
            None => format!("SUBACK id={}", self.packet_id),
        }
    }
    fn concerns(&self, packet: &Packet) -> bool {
        matches!(packet, Packet::SubAck(a) if a.packet_id == self.packet_id)
    }
    fn check(&self, packet: &Packet) -> Result<(), String> {
        match (packet, self.count) {
            (Packet::SubAck(a), Some(n)) if a.reason_codes.len() != n => {
                Err(format!("it has {} codes", a.reason_codes.len()))
            }
            (Packet::SubAck(_), _) => Ok(()),
            (other, _) => Err(format!("a {}", other.packet_type())),
        }
    }
    fn output(&self, packet: Packet) -> Option<SubAck> {
        match packet {
            Packet::SubAck(a) => Some(a),
            _ => None,
        }
    }
}

/// An UNSUBACK pattern: see [`unsuback`].
#[derive(Debug, Clone)]
pub struct UnsubAckPattern {
    packet_id: PacketId,
    count: Option<usize>,
}

/// An UNSUBACK for `packet_id`.
pub fn unsuback(packet_id: PacketId) -> UnsubAckPattern {
    UnsubAckPattern {
        packet_id,
        count: None,
    }
}

impl UnsubAckPattern {
    /// It must carry `n` reason codes (5.0: one per filter).
    pub fn codes(mut self, n: usize) -> Self {
        self.count = Some(n);
        self
    }
}

impl Pattern for UnsubAckPattern {
    type Output = UnsubAck;
    fn describe(&self) -> String {
        match self.count {
            Some(n) => format!("UNSUBACK id={} with {n} reason code(s)", self.packet_id),
            None => format!("UNSUBACK id={}", self.packet_id),
        }
    }
    fn concerns(&self, packet: &Packet) -> bool {
        matches!(packet, Packet::UnsubAck(a) if a.packet_id == self.packet_id)
    }
    fn check(&self, packet: &Packet) -> Result<(), String> {
        match (packet, self.count) {
            (Packet::UnsubAck(a), Some(n)) if a.reason_codes.len() != n => {
                Err(format!("it has {} reason codes", a.reason_codes.len()))
            }
            (Packet::UnsubAck(_), _) => Ok(()),
            (other, _) => Err(format!("a {}", other.packet_type())),
        }
    }
    fn output(&self, packet: Packet) -> Option<UnsubAck> {
        match packet {
            Packet::UnsubAck(a) => Some(a),
            _ => None,
        }
    }
}

/// A CONNACK pattern: see [`connack`].
#[derive(Debug, Clone)]
pub struct ConnAckPattern {
    reasons: Reasons,
    session_present: Option<bool>,
}

/// A CONNACK (any return / reason code unless narrowed).
pub fn connack() -> ConnAckPattern {
    ConnAckPattern {
        reasons: Reasons::Any,
        session_present: None,
    }
}

impl ConnAckPattern {
    /// The code must be 0 (connection accepted).
    pub fn accepted(mut self) -> Self {
        self.reasons = Reasons::OneOf(vec![ReasonCode::SUCCESS]);
        self
    }
    /// The code must be `code`.
    pub fn reason(mut self, code: ReasonCode) -> Self {
        self.reasons = Reasons::OneOf(vec![code]);
        self
    }
    /// The code must be one of `codes`.
    pub fn reason_in(mut self, codes: &[ReasonCode]) -> Self {
        self.reasons = Reasons::OneOf(codes.to_vec());
        self
    }
    /// The code must be a refusal (3.1.1: non-zero; 5.0: 0x80 or above).
    pub fn refused(mut self) -> Self {
        self.reasons = Reasons::Failure;
        self
    }
    /// Session Present must be `present`.
    pub fn session_present(mut self, present: bool) -> Self {
        self.session_present = Some(present);
        self
    }
}

impl Pattern for ConnAckPattern {
    type Output = ConnAck;
    fn describe(&self) -> String {
        let mut s = String::from("CONNACK");
        if let Some(sp) = self.session_present {
            s += &format!(" session_present={}", u8::from(sp));
        }
        match self.reasons {
            Reasons::Failure => s + " refusing (code != 0)",
            _ => s + &self.reasons.describe_with(summary::connack_code),
        }
    }
    fn concerns(&self, packet: &Packet) -> bool {
        matches!(packet, Packet::ConnAck(_))
    }
    fn check(&self, packet: &Packet) -> Result<(), String> {
        let Packet::ConnAck(c) = packet else {
            return Err(format!("a {}", packet.packet_type()));
        };
        let mut diffs = Vec::new();
        let refused = self.reasons == Reasons::Failure;
        let allowed = if refused {
            c.reason_code.0 != 0
        } else {
            self.reasons.allows(c.reason_code)
        };
        if !allowed {
            diffs.push(format!("code is {}", summary::connack_code(c.reason_code)));
        }
        if let Some(sp) = self.session_present {
            if c.session_present != sp {
                diffs.push(format!(
                    "Session Present is {}",
                    u8::from(c.session_present)
                ));
            }
        }
        if diffs.is_empty() {
            Ok(())
        } else {
            Err(diffs.join("; "))
        }
    }
    fn output(&self, packet: Packet) -> Option<ConnAck> {
        match packet {
            Packet::ConnAck(c) => Some(*c),
            _ => None,
        }
    }
}

/// A PINGRESP pattern: see [`pingresp`].
#[derive(Debug, Clone, Copy)]
pub struct PingRespPattern;

/// A PINGRESP.
pub fn pingresp() -> PingRespPattern {
    PingRespPattern
}

impl Pattern for PingRespPattern {
    type Output = ();
    fn describe(&self) -> String {
        "PINGRESP".into()
    }
    fn concerns(&self, packet: &Packet) -> bool {
        matches!(packet, Packet::PingResp)
    }
    fn check(&self, _packet: &Packet) -> Result<(), String> {
        Ok(())
    }
    fn output(&self, _packet: Packet) -> Option<()> {
        Some(())
    }
}

/// A DISCONNECT pattern (5.0, from the server): see [`disconnect`].
#[derive(Debug, Clone)]
pub struct DisconnectPattern {
    reasons: Reasons,
}

/// A DISCONNECT from the server (any reason unless narrowed).
pub fn disconnect() -> DisconnectPattern {
    DisconnectPattern {
        reasons: Reasons::Any,
    }
}

impl DisconnectPattern {
    /// The reason code must be `code`.
    pub fn reason(mut self, code: ReasonCode) -> Self {
        self.reasons = Reasons::OneOf(vec![code]);
        self
    }
    /// The reason code must be one of `codes`.
    pub fn reason_in(mut self, codes: &[ReasonCode]) -> Self {
        self.reasons = Reasons::OneOf(codes.to_vec());
        self
    }
}

impl Pattern for DisconnectPattern {
    type Output = Disconnect;
    fn describe(&self) -> String {
        format!("DISCONNECT{}", self.reasons.describe())
    }
    fn concerns(&self, packet: &Packet) -> bool {
        matches!(packet, Packet::Disconnect(_))
    }
    fn check(&self, packet: &Packet) -> Result<(), String> {
        match packet {
            Packet::Disconnect(d) if self.reasons.allows(d.reason_code) => Ok(()),
            Packet::Disconnect(d) => {
                Err(format!("reason code is {}", summary::reason(d.reason_code)))
            }
            other => Err(format!("a {}", other.packet_type())),
        }
    }
    fn output(&self, packet: Packet) -> Option<Disconnect> {
        match packet {
            Packet::Disconnect(d) => Some(d),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use touchstone_codec::UserProperties;

    fn pid(n: u16) -> PacketId {
        PacketId::new(n).unwrap()
    }

    #[test]
    fn publish_pattern_concerns_its_topic_only() {
        let p = publish("a/b")
            .qos(QoS::AtLeastOnce)
            .retain(true)
            .payload("v");
        let mut m = Publish::new("a/b", "v");
        m.qos = QoS::AtLeastOnce;
        m.packet_id = Some(pid(1));
        m.retain = true;
        assert!(p.concerns(&Packet::Publish(m.clone())));
        assert_eq!(p.check(&Packet::Publish(m.clone())), Ok(()));
        m.retain = false;
        assert_eq!(
            p.check(&Packet::Publish(m.clone())),
            Err("RETAIN is 0, not 1".into())
        );
        assert!(!p.concerns(&Packet::Publish(Publish::new("a/c", "v"))));
        assert!(!p.concerns(&Packet::PingResp));
        assert_eq!(p.describe(), r#"PUBLISH "a/b" q1 retain=1 payload="v""#);
    }

    #[test]
    fn user_properties_compare_in_order() {
        let p = any_publish().user_properties(&[("a", "1"), ("b", "2")]);
        let mut m = Publish::new("t", "");
        m.properties.user_properties = UserProperties::from_pairs([("b", "2"), ("a", "1")]);
        assert!(p.check(&Packet::Publish(m.clone())).is_err());
        m.properties.user_properties = UserProperties::from_pairs([("a", "1"), ("b", "2")]);
        assert_eq!(p.check(&Packet::Publish(m.clone())), Ok(()));
        // A server's own pairs around them are allowed; a missing or altered pair is not.
        m.properties.user_properties =
            UserProperties::from_pairs([("s", "0"), ("a", "1"), ("s", "1"), ("b", "2")]);
        assert_eq!(p.check(&Packet::Publish(m.clone())), Ok(()));
        m.properties.user_properties = UserProperties::from_pairs([("a", "1"), ("s", "1")]);
        assert!(p.check(&Packet::Publish(m.clone())).is_err());
        m.properties.user_properties = UserProperties::from_pairs([("a", "1"), ("b", "3")]);
        assert!(p.check(&Packet::Publish(m)).is_err());
    }

    #[test]
    fn acks_concern_their_id() {
        let p = puback(pid(3)).success();
        assert!(p.concerns(&Packet::PubAck(PubAck::new(pid(3)))));
        assert!(!p.concerns(&Packet::PubAck(PubAck::new(pid(4)))));
        let mut bad = PubAck::new(pid(3));
        bad.reason_code = ReasonCode::NOT_AUTHORIZED;
        assert!(p.check(&Packet::PubAck(bad)).is_err());
    }

    #[test]
    fn connack_refused_means_nonzero() {
        let p = connack().refused().session_present(false);
        let mut c = ConnAck {
            reason_code: ReasonCode(0x01),
            ..Default::default()
        };
        assert_eq!(p.check(&Packet::ConnAck(Box::new(c.clone()))), Ok(()));
        c.reason_code = ReasonCode::SUCCESS;
        assert!(p.check(&Packet::ConnAck(Box::new(c))).is_err());
    }
}
