//! Per-connection state: the framer of its input, the phase of the CONNECT exchange,
//! keep-alive, the client's limits, topic aliases both ways, and the output buffer.

use crate::fxhash::PeerKeyMap;
use std::net::SocketAddr;

use bytes::BytesMut;
use touchstone_codec::{Connect, Decoder, Framer, Packet, Protocol, Str, Will};

use super::SessionId;
use super::{Action, ConnectionId, Millis};
use crate::auth::scram::ScramServer;

/// Where a connection is in its life.
#[derive(Debug)]
pub(crate) enum Phase {
    /// Waiting for CONNECT.
    AwaitingConnect,
    /// CONNECT received with an Authentication Method; AUTH exchange under way.
    Authenticating(Box<PendingAuth>),
    /// CONNACK 0x00 sent.
    Connected,
}

/// A CONNECT held while enhanced authentication runs.
#[derive(Debug)]
pub(crate) struct PendingAuth {
    pub connect: Box<Connect>,
    pub scram: ScramServer,
}

/// One network connection.
#[derive(Debug)]
pub(crate) struct Conn {
    pub id: ConnectionId,
    pub peer: Option<SocketAddr>,
    pub opened_at: Millis,
    pub out: BytesMut,
    pub dirty: bool,
    pub protocol: Option<Protocol>,
    /// The input: bytes in, packets out (the version is set once the CONNECT shows it).
    pub framer: Framer,
    pub phase: Phase,
    pub session: Option<SessionId>,
    pub client_id: Str,
    pub user: Option<String>,
    /// Keep-alive in milliseconds as enforced (0: none).
    pub keep_alive_ms: u64,
    pub last_rx: Millis,
    /// The deadline of this connection's scheduled timer entry, if any.
    pub timer_at: Option<Millis>,
    pub will: Option<Will>,
    /// The Session Expiry Interval given in CONNECT was 0 (5.0 section 3.14.2.2.2).
    pub connect_expiry_zero: bool,
    // The client's limits (5.0 CONNECT properties).
    pub client_receive_max: u16,
    pub client_max_packet: usize,
    pub client_alias_max: u16,
    pub request_problem_info: bool,
    /// Inbound topic aliases: alias - 1 -> topic.
    pub in_aliases: Vec<Option<Str>>,
    /// Outbound topic aliases: topic -> alias.
    pub out_aliases: PeerKeyMap<Str, u16>,
    /// The Authentication Method of the CONNECT, for re-authentication.
    pub auth_method: Option<Str>,
    pub reauth: Option<ScramServer>,
    /// Fault `oversize_problem_info` is on for this connection.
    pub fault_problem_info: bool,
    /// Fault `hang_on_malformed` hit this connection: its bytes are ignored.
    pub fault_hung: bool,
}

impl Conn {
    pub fn new(id: ConnectionId, peer: Option<SocketAddr>, now: Millis, max_packet: usize) -> Conn {
        Conn {
            id,
            peer,
            opened_at: now,
            out: BytesMut::new(),
            dirty: false,
            protocol: None,
            framer: Framer::new(Decoder::new(Protocol::V3_1_1).with_max_packet_size(max_packet)),
            phase: Phase::AwaitingConnect,
            session: None,
            client_id: Str::new(),
            user: None,
            keep_alive_ms: 0,
            last_rx: now,
            timer_at: None,
            will: None,
            connect_expiry_zero: true,
            client_receive_max: u16::MAX,
            client_max_packet: touchstone_codec::MAX_PACKET_SIZE,
            client_alias_max: 0,
            request_problem_info: true,
            in_aliases: Vec::new(),
            out_aliases: PeerKeyMap::default(),
            auth_method: None,
            reauth: None,
            fault_problem_info: false,
            fault_hung: false,
        }
    }

    /// The protocol spoken (3.1.1 until CONNECT names one).
    #[inline]
    pub fn protocol(&self) -> Protocol {
        self.protocol.unwrap_or(Protocol::V3_1_1)
    }

    #[inline]
    pub fn is_v5(&self) -> bool {
        self.protocol().is_v5()
    }

    pub fn connected(&self) -> bool {
        matches!(self.phase, Phase::Connected)
    }

    /// Marks the output buffer as holding bytes to send.
    #[inline]
    pub fn mark(&mut self, out: &mut Outbox) {
        if !self.dirty {
            self.dirty = true;
            out.dirty.push(self.id);
        }
    }

    /// Encodes `packet` into the output buffer. A packet larger than the client's Maximum
    /// Packet Size loses its Reason String and User Properties first (5.0 [MQTT-3.2.2-19],
    /// [MQTT-3.4.2-2], [MQTT-3.9.2-1], [MQTT-3.14.2-3], ...), and is not sent at all if still
    /// too large (5.0 [MQTT-3.1.2-24]). False if it was not sent.
    pub fn send(&mut self, mut packet: Packet, out: &mut Outbox) -> bool {
        let p = self.protocol();
        if self.fault_problem_info && p.is_v5() {
            // Fault: problem information whatever the client's Maximum Packet Size (breaks
            // 5.0 [MQTT-3.2.2-19], [MQTT-3.4.2-2], [MQTT-3.14.2-3] and their kin).
            pad_problem_info(&mut packet);
        } else if p.is_v5() && packet.encoded_len(p) > self.client_max_packet {
            strip_problem_info(&mut packet);
            if packet.encoded_len(p) > self.client_max_packet {
                tracing::debug!(
                    conn = self.id.0,
                    "dropping a {} larger than the client's Maximum Packet Size",
                    packet.packet_type()
                );
                return false;
            }
        }
        if self.out.capacity() - self.out.len() < 64 {
            self.out.reserve(4096);
        }
        if let Err(e) = packet.encode(p, &mut self.out) {
            tracing::error!(
                conn = self.id.0,
                "cannot encode {}: {e}",
                packet.packet_type()
            );
            return false;
        }
        self.mark(out);
        true
    }

    /// Writes raw bytes (a 3.1.1 CONNACK for an unknown protocol level).
    pub fn send_raw(&mut self, bytes: &[u8], out: &mut Outbox) {
        self.out.extend_from_slice(bytes);
        self.mark(out);
    }

    /// Moves the buffered output into a send action.
    pub fn flush(&mut self, out: &mut Outbox) {
        self.dirty = false;
        if !self.out.is_empty() {
            out.actions.push_back(Action::Send {
                conn: self.id,
                bytes: self.out.split().freeze(),
            });
        }
    }

    /// The deadline of the keep-alive or CONNECT timeout (`None`: none applies).
    pub fn deadline(&self, connect_timeout_ms: u64, ignore_keep_alive: bool) -> Option<Millis> {
        match self.phase {
            Phase::AwaitingConnect | Phase::Authenticating(_) => {
                Some(self.opened_at + connect_timeout_ms)
            }
            // 3.1.1 [MQTT-3.1.2-24], 5.0 [MQTT-3.1.2-22]: one and a half times the Keep Alive.
            Phase::Connected if self.keep_alive_ms > 0 && !ignore_keep_alive => {
                Some(self.last_rx + self.keep_alive_ms * 3 / 2)
            }
            Phase::Connected => None,
        }
    }
}

/// Fault `oversize_problem_info`: a long Reason String and a User Property on every packet that
/// can carry them (except PUBLISH).
fn pad_problem_info(packet: &mut Packet) {
    let text = Str::from("x".repeat(200).as_str());
    macro_rules! pad {
        ($props:expr) => {{
            $props.reason_string = Some(text.clone());
            $props.user_properties.push("fault", &"y".repeat(200));
        }};
    }
    match packet {
        Packet::ConnAck(c) => pad!(c.properties),
        Packet::PubAck(a) => pad!(a.properties),
        Packet::PubRec(a) => pad!(a.properties),
        Packet::PubRel(a) => pad!(a.properties),
        Packet::PubComp(a) => pad!(a.properties),
        Packet::SubAck(a) => pad!(a.properties),
        Packet::UnsubAck(a) => pad!(a.properties),
        Packet::Disconnect(d) => pad!(d.properties),
        Packet::Auth(a) => pad!(a.properties),
        _ => {}
    }
}

/// Removes the Reason String and User Properties of a non-PUBLISH packet.
fn strip_problem_info(packet: &mut Packet) {
    use touchstone_codec::UserProperties;
    match packet {
        Packet::ConnAck(c) => {
            c.properties.reason_string = None;
            c.properties.user_properties = UserProperties::new();
        }
        Packet::PubAck(a) => a.properties = Default::default(),
        Packet::PubRec(a) => a.properties = Default::default(),
        Packet::PubRel(a) => a.properties = Default::default(),
        Packet::PubComp(a) => a.properties = Default::default(),
        Packet::SubAck(a) => a.properties = Default::default(),
        Packet::UnsubAck(a) => a.properties = Default::default(),
        Packet::Disconnect(d) => {
            d.properties.reason_string = None;
            d.properties.user_properties = UserProperties::new();
        }
        Packet::Auth(a) => {
            a.properties.reason_string = None;
            a.properties.user_properties = UserProperties::new();
        }
        _ => {}
    }
}

/// The core's output: actions ready for the shell, and connections with buffered bytes.
#[derive(Debug, Default)]
pub(crate) struct Outbox {
    pub actions: std::collections::VecDeque<Action>,
    pub dirty: Vec<ConnectionId>,
}
