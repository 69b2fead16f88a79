//! The scripted test client: connects, sends packets (checked, unchecked or raw bytes),
//! receives with the strict codec, and records everything in the case's transcript.
//!
//! Nothing happens behind the case's back: no automatic PINGREQ, acknowledgement or retry, so
//! the transcript is exactly the exchange the case scripted.

mod builder;
mod expectation;
mod publish;
mod subscribe;

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use tokio::time::Instant;
use touchstone_codec::{
    decode_slice, ConnAck, DecodeError, Disconnect, Packet, PacketId, PacketType, Protocol, PubAck,
    PubComp, PubRec, Publish, QoS, ReasonCode,
};

pub use builder::ClientBuilder;
pub use expectation::{CloseExpectation, Closed, Expectation, RawRead};
pub use publish::PublishBuilder;
pub use subscribe::{SubscribeBuilder, UnsubscribeBuilder};

use crate::harness::context::CaseShared;
use crate::harness::expect::{connack, pingresp, pubrel};
use crate::harness::summary;
use crate::harness::transcript::Direction;
use crate::harness::verdict::{CaseError, Failure};
use crate::net::reader::{PacketReader, Stopped};
use crate::net::transport::{CloseKind, Received, Transport};

/// What the next read gave.
pub(crate) enum Event {
    Packet(Packet),
    Closed(CloseKind),
    Timeout,
}

/// A connected test client.
pub struct Client {
    shared: Arc<CaseShared>,
    builder: ClientBuilder,
    label: String,
    protocol: Protocol,
    reader: PacketReader,
    transport: Transport,
    inbox: VecDeque<Packet>,
    closed: Option<CloseKind>,
    broken: Option<Failure>,
    /// The server sent DISCONNECT: nothing may follow it.
    server_disconnected: bool,
    next_packet_id: u16,
    connack: Option<ConnAck>,
    /// Invalid packets that are not PUBLISHes under this prefix are skipped (see
    /// [`Client::skip_invalid_packets_except_under`]).
    skip_invalid_except: Option<String>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("label", &self.label)
            .field("closed", &self.closed)
            .finish()
    }
}

impl Client {
    /// From now on, skips (and notes in the transcript) whole packets the strict codec rejects,
    /// unless they are PUBLISHes whose Topic Name starts with `prefix`. Only for a client that
    /// subscribes to `#` for a rule about other topics: it receives every other case's traffic,
    /// including invalid packets a lenient server forwards, which the cases that sent them judge.
    pub fn skip_invalid_packets_except_under(&mut self, prefix: &str) {
        self.skip_invalid_except = Some(prefix.to_string());
    }

    /// Whether the connection is known to be closed.
    pub fn is_closed(&self) -> bool {
        self.closed.is_some()
    }

    /// The name in the transcript (`a`, `a#2` for the second connection).
    pub fn label(&self) -> &str {
        &self.label
    }

    /// The Client Identifier sent in CONNECT.
    pub fn client_id(&self) -> &str {
        self.builder.connect.client_id.as_str()
    }

    /// The protocol version.
    pub fn protocol(&self) -> Protocol {
        self.protocol
    }

    /// The CONNACK received by [`ClientBuilder::connect`].
    pub fn connack(&self) -> Option<&ConnAck> {
        self.connack.as_ref()
    }

    /// A builder for a new connection with the same settings (same client id); this
    /// connection is dropped without DISCONNECT.
    pub fn reconnect(self) -> ClientBuilder {
        self.builder.clone()
    }

    /// The next Packet Identifier (1, 2, ... 65535, 1, ...).
    pub fn next_packet_id(&mut self) -> PacketId {
        self.next_packet_id = self.next_packet_id.checked_add(1).unwrap_or(1);
        PacketId::new(self.next_packet_id).unwrap_or(PacketId::MIN)
    }

    fn fail(&self, expected: impl std::fmt::Display, got: impl Into<String>) -> CaseError {
        CaseError::fail(format!("{}: {expected}", self.label), got)
    }

    /// Sends `packet`, checked for the protocol version (a packet that cannot be encoded is a
    /// bug in the case: an `error` outcome).
    pub async fn send(&mut self, packet: Packet) -> Result<(), CaseError> {
        let bytes = packet.to_bytes(self.protocol).map_err(|e| {
            CaseError::Error(format!(
                "case bug: cannot encode {}: {e}",
                summary::packet(&packet)
            ))
        })?;
        self.write(bytes.freeze(), Some(packet), None).await
    }

    /// Sends `packet` without any check (invalid values go on the wire as they are).
    pub async fn send_unchecked(&mut self, packet: Packet) -> Result<(), CaseError> {
        let mut buf = BytesMut::new();
        packet.encode_unchecked(self.protocol, &mut buf);
        let note = packet
            .check(self.protocol)
            .err()
            .map(|e| format!("sent unchecked: {e}"));
        self.write(buf.freeze(), Some(packet), note).await
    }

    /// Sends arbitrary bytes (see [`touchstone_codec::raw::Frame`]).
    pub async fn send_raw(&mut self, bytes: impl Into<Bytes>) -> Result<(), CaseError> {
        let bytes = bytes.into();
        let (packet, note) = match decode_slice(self.protocol, &bytes) {
            Ok((p, n)) if n == bytes.len() => (Some(p), Some("raw bytes".to_string())),
            Ok((p, n)) => (
                Some(p),
                Some(format!(
                    "raw bytes: one packet and {} more bytes",
                    bytes.len() - n
                )),
            ),
            Err(e) => (None, Some(format!("raw bytes, not a valid packet: {e}"))),
        };
        self.write(bytes, packet, note).await
    }

    async fn write(
        &mut self,
        bytes: Bytes,
        packet: Option<Packet>,
        note: Option<String>,
    ) -> Result<(), CaseError> {
        let described = packet
            .as_ref()
            .map(summary::packet)
            .unwrap_or_else(|| "raw bytes".into());
        self.shared
            .transcript
            .push(&self.label, Direction::Send, bytes.clone(), packet, note);
        if let Some(kind) = &self.closed {
            return Err(self.fail(
                format_args!("an open connection to send {described}"),
                format!("the connection was already {kind}"),
            ));
        }
        if let Err(e) = self.transport.send(&bytes).await {
            self.shared.transcript.event(&self.label, e.0.clone());
            return Err(self.fail(format_args!("an open connection to send {described}"), e.0));
        }
        Ok(())
    }

    /// Takes the next whole packet off the stream, if there is one (through the codec's
    /// `Framer`, the one place received bytes become packets).
    fn try_decode(&mut self) -> Result<Option<Packet>, CaseError> {
        loop {
            match self.reader.buffered() {
                Ok(Some(f)) => {
                    self.shared.transcript.push(
                        &self.label,
                        Direction::Recv,
                        f.raw,
                        Some(f.packet.clone()),
                        None,
                    );
                    if self.server_disconnected && !matches!(f.packet, Packet::Disconnect(_)) {
                        // 5.0 MQTT-3.14.4-1: nothing after a DISCONNECT. A 3.1.1 server has no
                        // DISCONNECT at all (Table 2.1); one that sends it before closing is
                        // let through (and observed), but not one that goes on after it.
                        let failure = Failure {
                            expected: format!(
                                "{}: nothing after the server's DISCONNECT",
                                self.label
                            ),
                            got: summary::packet(&f.packet),
                            statements: if self.protocol.is_v5() {
                                vec![touchstone_codec::Statement::v5("MQTT-3.14.4-1")]
                            } else {
                                Vec::new()
                            },
                        };
                        self.broken = Some(failure.clone());
                        return Err(CaseError::Fail(Box::new(failure)));
                    }
                    if matches!(f.packet, Packet::Disconnect(_)) {
                        self.server_disconnected = true;
                    }
                    if let Some(rule) = client_only(self.protocol, f.packet.packet_type()) {
                        let failure = Failure {
                            expected: format!(
                                "{}: only packets a server sends ({rule})",
                                self.label
                            ),
                            got: summary::packet(&f.packet),
                            statements: Vec::new(),
                        };
                        self.broken = Some(failure.clone());
                        return Err(CaseError::Fail(Box::new(failure)));
                    }
                    return Ok(Some(f.packet));
                }
                Ok(None) => return Ok(None),
                Err(e) if !e.resumable => return Err(self.undecodable(e.raw, e.error)),
                Err(e) => {
                    if !self.skips(&e.raw, e.header_len.unwrap_or(0)) {
                        return Err(self.undecodable(e.raw, e.error));
                    }
                    self.shared.transcript.push(
                        &self.label,
                        Direction::Recv,
                        e.raw,
                        None,
                        Some(format!(
                            "not a valid MQTT {} packet: {}; skipped: this client receives other cases' traffic, judged by the cases that sent it",
                            self.protocol, e.error
                        )),
                    );
                }
            }
        }
    }

    /// Whether the invalid packet `raw` may be skipped: the client skips invalid packets
    /// ([`Client::skip_invalid_packets_except_under`]) and `raw` is not a PUBLISH whose Topic
    /// Name (after the `header_len` bytes of fixed header and its own length) starts with the
    /// prefix.
    fn skips(&self, raw: &[u8], header_len: usize) -> bool {
        let Some(prefix) = &self.skip_invalid_except else {
            return false;
        };
        let publish_under = raw.first().is_some_and(|b| b >> 4 == 3)
            && raw
                .get(header_len + 2..)
                .is_some_and(|topic| topic.starts_with(prefix.as_bytes()));
        !publish_under
    }

    /// The server sent bytes the strict codec rejects: a failure citing what they break.
    fn undecodable(&mut self, raw: Bytes, e: DecodeError) -> CaseError {
        self.shared.transcript.push(
            &self.label,
            Direction::Recv,
            raw.clone(),
            None,
            Some(format!("not a valid MQTT {} packet: {e}", self.protocol)),
        );
        let failure = Failure {
            expected: format!(
                "{}: valid MQTT {} packets from the server",
                self.label, self.protocol
            ),
            got: format!("{} ({e})", summary::hex(&raw, 32)),
            statements: e.statements.clone(),
        };
        self.broken = Some(failure.clone());
        CaseError::Fail(Box::new(failure))
    }

    /// The next packet, close or timeout.
    pub(crate) async fn next_event(&mut self, deadline: Instant) -> Result<Event, CaseError> {
        loop {
            if let Some(f) = &self.broken {
                return Err(CaseError::Fail(Box::new(f.clone())));
            }
            if let Some(p) = self.try_decode()? {
                return Ok(Event::Packet(p));
            }
            if let Some(kind) = &self.closed {
                return Ok(Event::Closed(kind.clone()));
            }
            match self.reader.fill(&mut self.transport, deadline).await {
                Ok(()) => {}
                Err(Stopped::Timeout) => return Ok(Event::Timeout),
                Err(Stopped::Closed(kind)) => {
                    if !self.reader.framer().buffered().is_empty() {
                        let raw = self.reader.framer().take_buffered();
                        self.shared.transcript.push(
                            &self.label,
                            Direction::Recv,
                            raw,
                            None,
                            Some("the connection closed inside this packet".into()),
                        );
                    }
                    self.shared.transcript.event(&self.label, kind.to_string());
                    self.closed = Some(kind.clone());
                    return Ok(Event::Closed(kind));
                }
            }
        }
    }

    /// Packets received but not taken by any expectation yet, as a list for failure messages.
    fn pending(&self) -> String {
        let items: Vec<String> = self
            .inbox
            .iter()
            .filter(|p| !matches!(p, Packet::PingResp))
            .map(summary::packet)
            .collect();
        items.join("; ")
    }

    /// Waits for a packet matching `pattern` (default time: the run's expectation timeout).
    pub fn expect<P: crate::harness::expect::Pattern>(&mut self, pattern: P) -> Expectation<'_, P> {
        Expectation::new(self, pattern)
    }

    /// Expects the server to close the connection (see [`CloseExpectation`]).
    pub fn expect_closed(&mut self) -> CloseExpectation<'_> {
        CloseExpectation::new(self)
    }

    /// Expects no packet (other than PINGRESP) and no close within `within`; packets received
    /// earlier and never expected count too.
    pub async fn expect_nothing(&mut self, within: Duration) -> Result<(), CaseError> {
        let pending = self.pending();
        if !pending.is_empty() {
            return Err(self.fail("no further packets", format!("received {pending}")));
        }
        self.inbox.clear();
        let deadline = Instant::now() + within;
        loop {
            match self.next_event(deadline).await? {
                Event::Timeout => return Ok(()),
                Event::Packet(Packet::PingResp) => {}
                Event::Packet(p) => {
                    return Err(self.fail(
                        format_args!("nothing within {:.1} s", within.as_secs_f64()),
                        summary::packet(&p),
                    ))
                }
                Event::Closed(kind) => {
                    return Err(self.fail(
                        format_args!(
                            "the connection to stay open for {:.1} s",
                            within.as_secs_f64()
                        ),
                        format!("the connection was {kind}"),
                    ))
                }
            }
        }
    }

    /// Expects no packet that `pattern` concerns within `within` (others are kept).
    pub async fn expect_no<P: crate::harness::expect::Pattern>(
        &mut self,
        pattern: P,
        within: Duration,
    ) -> Result<(), CaseError> {
        if let Some(p) = self.inbox.iter().find(|p| pattern.concerns(p)) {
            return Err(self.fail(
                format_args!("no {}", pattern.describe()),
                summary::packet(p),
            ));
        }
        let deadline = Instant::now() + within;
        loop {
            match self.next_event(deadline).await? {
                Event::Timeout | Event::Closed(_) => return Ok(()),
                Event::Packet(p) if pattern.concerns(&p) => {
                    return Err(self.fail(
                        format_args!(
                            "no {} within {:.1} s",
                            pattern.describe(),
                            within.as_secs_f64()
                        ),
                        summary::packet(&p),
                    ))
                }
                Event::Packet(p) => self.inbox.push_back(p),
            }
        }
    }

    /// Waits up to `within` for a packet that `pattern` concerns and leaves it for the
    /// expectation that follows: true if one is there, false if none came (or the connection
    /// closed: that expectation then says so). For cases that act when the server holds a
    /// packet back, as a server may keep fewer PUBLISHes in flight than the client allows.
    pub async fn arrives<P: crate::harness::expect::Pattern>(
        &mut self,
        pattern: &P,
        within: Duration,
    ) -> Result<bool, CaseError> {
        let deadline = Instant::now() + within;
        loop {
            if self.inbox.iter().any(|p| pattern.concerns(p)) {
                return Ok(true);
            }
            match self.next_event(deadline).await? {
                Event::Packet(p) => self.inbox.push_back(p),
                Event::Timeout | Event::Closed(_) => return Ok(false),
            }
        }
    }

    /// The next packet, whatever it is (earlier unexpected ones first); `None` if the server
    /// closed the connection; a failure if nothing came within `within`. For cases that
    /// accept several behaviours and must look before they judge.
    /// A PINGRESP is passed over, as everywhere a case does not ask for one: one the client did
    /// not ask for breaks no statement (see `mutation/equivalent.toml`).
    pub async fn next_packet(&mut self, within: Duration) -> Result<Option<Packet>, CaseError> {
        self.inbox.retain(|p| !matches!(p, Packet::PingResp));
        if let Some(p) = self.inbox.pop_front() {
            return Ok(Some(p));
        }
        let deadline = Instant::now() + within;
        loop {
            match self.next_event(deadline).await? {
                Event::Packet(Packet::PingResp) => {}
                Event::Packet(p) => return Ok(Some(p)),
                Event::Closed(_) => return Ok(None),
                Event::Timeout => {
                    return Err(self.fail(
                        "a packet or the close of the connection",
                        format!("nothing within {:.1} s", within.as_secs_f64()),
                    ))
                }
            }
        }
    }

    /// The next packet (earlier unexpected ones first), `Ok(None)` if nothing came within
    /// `within`; a failure if the server closed the connection. For cases that read until
    /// they have what they want or a deadline passes.
    /// PINGRESPs are passed over (see [`Client::next_packet`]).
    pub async fn poll_packet(&mut self, within: Duration) -> Result<Option<Packet>, CaseError> {
        self.inbox.retain(|p| !matches!(p, Packet::PingResp));
        if let Some(p) = self.inbox.pop_front() {
            return Ok(Some(p));
        }
        let deadline = Instant::now() + within;
        loop {
            match self.next_event(deadline).await? {
                Event::Packet(Packet::PingResp) => {}
                Event::Packet(p) => return Ok(Some(p)),
                Event::Timeout => return Ok(None),
                Event::Closed(_) => {
                    return Err(self.fail("the connection open", "the server closed it"))
                }
            }
        }
    }

    /// Reads raw bytes until the server closes the connection or `within` passes, without
    /// decoding (for answers whose format the case must work out itself).
    pub async fn read_until_closed(&mut self, within: Duration) -> Result<RawRead, CaseError> {
        let deadline = Instant::now() + within;
        let mut data = BytesMut::from(&self.reader.framer().take_buffered()[..]);
        let closed = loop {
            if let Some(kind) = &self.closed {
                break Some(kind.clone());
            }
            match self.transport.recv(deadline).await {
                Received::Data(b) => data.extend_from_slice(&b),
                Received::Timeout => break None,
                Received::Closed(kind) => {
                    self.closed = Some(kind.clone());
                    break Some(kind);
                }
            }
        };
        let bytes = data.freeze();
        if !bytes.is_empty() {
            self.shared.transcript.push(
                &self.label,
                Direction::Recv,
                bytes.clone(),
                None,
                Some("raw bytes (decoded by the case)".into()),
            );
        }
        match &closed {
            Some(kind) => self.shared.transcript.event(&self.label, kind.to_string()),
            None => self.shared.transcript.event(
                &self.label,
                format!("still open after {:.1} s", within.as_secs_f64()),
            ),
        }
        Ok(RawRead { bytes, closed })
    }

    /// `[v311_id]` or `[v5_id]` for this client's version.
    fn cite(&self, v311_id: &'static str, v5_id: &'static str) -> [touchstone_codec::Statement; 1] {
        if self.protocol.is_v5() {
            [crate::harness::verdict::v5(v5_id)]
        } else {
            [crate::harness::verdict::v311(v311_id)]
        }
    }

    /// Expects CONNACK as the first packet, with code 0.
    async fn expect_connack_first(&mut self) -> Result<ConnAck, CaseError> {
        let deadline = Instant::now() + self.shared.run.timing.expect;
        let pattern = connack().accepted();
        match self.next_event(deadline).await? {
            Event::Packet(Packet::ConnAck(c)) => {
                if let Err(why) =
                    crate::harness::expect::Pattern::check(&pattern, &Packet::ConnAck(c.clone()))
                {
                    let cite = self.cite("MQTT-3.1.4-4", "MQTT-3.1.4-5");
                    return Err(self
                        .fail(crate::harness::expect::Pattern::describe(&pattern), why)
                        .because(&cite));
                }
                self.connack = Some((*c).clone());
                Ok(*c)
            }
            Event::Packet(other) => {
                let cite = self.cite("MQTT-3.2.0-1", "MQTT-3.2.0-1");
                Err(self
                    .fail("CONNACK as the first packet", summary::packet(&other))
                    .because(&cite))
            }
            Event::Closed(kind) => Err(self.fail("CONNACK", format!("the connection was {kind}"))),
            Event::Timeout => Err(self.fail(
                "CONNACK",
                format!(
                    "nothing within {:.1} s",
                    self.shared.run.timing.expect.as_secs_f64()
                ),
            )),
        }
    }

    /// Starts a PUBLISH to `topic` (QoS 0, empty payload unless set).
    pub fn publish(&mut self, topic: &str) -> PublishBuilder<'_> {
        PublishBuilder::new(self, topic)
    }

    /// Starts a SUBSCRIBE to `filter` at `qos`.
    pub fn subscribe(&mut self, filter: &str, qos: QoS) -> SubscribeBuilder<'_> {
        SubscribeBuilder::new(self, filter, qos)
    }

    /// Starts an UNSUBSCRIBE from `filter`.
    pub fn unsubscribe(&mut self, filter: &str) -> UnsubscribeBuilder<'_> {
        UnsubscribeBuilder::new(self, filter)
    }

    /// Acknowledges a received PUBLISH as its QoS asks: nothing (QoS 0), PUBACK (QoS 1), or
    /// PUBREC, then PUBREL expected, then PUBCOMP (QoS 2).
    pub async fn ack(&mut self, message: &Publish) -> Result<(), CaseError> {
        let Some(id) = message.packet_id else {
            return Ok(());
        };
        match message.qos {
            QoS::AtMostOnce => Ok(()),
            QoS::AtLeastOnce => self.send(Packet::PubAck(PubAck::new(id))).await,
            QoS::ExactlyOnce => {
                self.send(Packet::PubRec(PubRec::new(id))).await?;
                let cite = if self.protocol.is_v5() {
                    [
                        crate::harness::verdict::v5("MQTT-4.3.3-4"),
                        crate::harness::verdict::v5("MQTT-2.2.1-5"),
                    ]
                } else {
                    [
                        crate::harness::verdict::v311("MQTT-4.3.3-1"),
                        crate::harness::verdict::v311("MQTT-2.3.1-6"),
                    ]
                };
                self.expect(pubrel(id)).because(&cite).await?;
                self.send(Packet::PubComp(PubComp::new(id))).await
            }
        }
    }

    /// Sends PINGREQ and expects PINGRESP (3.1.1 and 5.0 MQTT-3.12.4-1).
    pub async fn ping(&mut self) -> Result<(), CaseError> {
        self.send(Packet::PingReq).await?;
        let cite = self.cite("MQTT-3.12.4-1", "MQTT-3.12.4-1");
        self.expect(pingresp()).because(&cite).await
    }

    /// Sends DISCONNECT (5.0: Normal disconnection) and closes the connection.
    pub async fn disconnect(&mut self) -> Result<(), CaseError> {
        self.disconnect_with(ReasonCode::SUCCESS).await
    }

    /// Sends DISCONNECT with `reason` (5.0) and closes the connection.
    pub async fn disconnect_with(&mut self, reason: ReasonCode) -> Result<(), CaseError> {
        self.send(Packet::Disconnect(Disconnect::new(reason)))
            .await?;
        self.close().await;
        Ok(())
    }

    /// Sends DISCONNECT (5.0: Normal disconnection), closes the client's side and reads until the
    /// server closes its own, up to `within`: true if it did. A server closes after it has read
    /// the DISCONNECT (and the client's close) and acted on them, so what another client does
    /// next comes after; for cases that must order the two across connections.
    pub async fn disconnect_and_wait(&mut self, within: Duration) -> Result<bool, CaseError> {
        self.send(Packet::Disconnect(Disconnect::new(ReasonCode::SUCCESS)))
            .await?;
        if self.closed.is_some() {
            return Ok(true);
        }
        let (got, closed) = self.transport.close_and_wait(Instant::now() + within).await;
        self.closed = Some(CloseKind::ByClient);
        let bytes: usize = got.iter().map(|b| b.len()).sum();
        let note = match (closed, bytes) {
            (true, 0) => "the client closed its side; the server closed the connection".into(),
            (true, n) => format!(
                "the client closed its side; {n} bytes arrived, then the server closed the connection"
            ),
            (false, n) => format!(
                "the client closed its side; the server kept the connection open {:.1} s ({n} bytes arrived)",
                within.as_secs_f64()
            ),
        };
        self.shared.transcript.event(&self.label, note);
        Ok(closed)
    }

    /// Closes the network connection without DISCONNECT (a client that goes away).
    pub async fn close(&mut self) {
        if self.closed.is_none() {
            self.transport.close().await;
            self.closed = Some(CloseKind::ByClient);
            self.shared
                .transcript
                .event(&self.label, "the client closed the connection");
        }
    }
}

/// Why a packet of type `t` can never come from a server in `protocol`, if it cannot: the
/// tables of control packet types give each type its direction.
fn client_only(protocol: Protocol, t: PacketType) -> Option<String> {
    let only_client = matches!(
        t,
        PacketType::Connect | PacketType::Subscribe | PacketType::Unsubscribe | PacketType::PingReq
    );
    only_client.then(|| {
        if protocol.is_v5() {
            format!(
                "5.0 section 2.1.2, Table 2-1: {} goes from client to server only",
                t.name()
            )
        } else {
            format!(
                "3.1.1 section 2.2.1, Table 2.1: {} goes from client to server only",
                t.name()
            )
        }
    })
}
