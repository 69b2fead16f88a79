//! The broker core: a deterministic, sans-IO state machine.
//!
//! Input: [`Broker::handle`] with the time in milliseconds (any monotonic origin) and an
//! [`Event`]: a connection opened, bytes received on it, the peer closed it, or a clock tick.
//! Output: [`Action`]s from [`Broker::poll_action`] (bytes to send to a connection, a connection
//! to close after those bytes) and [`Broker::next_deadline`], the time of the next tick the core
//! needs. The core decodes with the strict codec itself, keeping a buffer per connection and
//! detecting the protocol version from the CONNECT.
//!
//! The same inputs always give the same outputs: there is no clock, no randomness other than a
//! seeded generator ([`Broker::with_seed`]) and no I/O.

mod conn;
mod connect;
mod message;
mod publish;
mod retained;
mod session;
mod subscribe;
#[cfg(any(test, feature = "testkit"))]
pub mod testkit;
mod timers;
mod tree;

use std::borrow::Cow;
use std::fmt;
use std::net::SocketAddr;

use bytes::Bytes;
use touchstone_codec::{peek_protocol, Disconnect, ErrorKind, Packet, Protocol, ReasonCode, Str};

use crate::auth::Acl;
use crate::config::Config;
use crate::fxhash::{FxHashMap, PeerKeyMap};
use conn::{Conn, Outbox, Phase};
use session::Session;
use timers::{Timer, Timers};

/// Milliseconds on the caller's monotonic clock.
pub type Millis = u64;

/// A connection, as named by the shell. Ids must not be reused while the core knows them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnectionId(pub u64);

/// A session's internal id (never reused, unlike client identifiers).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SessionId(pub u64);

/// An input to the core.
#[derive(Debug, Clone, Copy)]
pub enum Event<'a> {
    /// A network connection was accepted.
    Opened {
        /// Its id.
        conn: ConnectionId,
        /// The peer's address, for logs.
        peer: Option<SocketAddr>,
    },
    /// Bytes arrived on a connection (any split: packets need not align with calls).
    Received {
        /// The connection.
        conn: ConnectionId,
        /// The bytes.
        data: &'a [u8],
    },
    /// The peer closed the connection, or it failed.
    Closed {
        /// The connection.
        conn: ConnectionId,
    },
    /// Time passed: fire due timers.
    Tick,
}

/// An output of the core.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Write these bytes to the connection.
    Send {
        /// The connection.
        conn: ConnectionId,
        /// Encoded packets.
        bytes: Bytes,
    },
    /// Close the connection once the bytes sent before are written. The core has forgotten it.
    Close {
        /// The connection.
        conn: ConnectionId,
        /// Why, for logs.
        reason: CloseReason,
    },
}

/// Why the core closed a connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CloseReason {
    /// The client sent DISCONNECT.
    ClientDisconnect,
    /// The CONNECT was refused (CONNACK with this 5.0 reason code, or none in 3.1.1 where no
    /// return code fits).
    Refused(ReasonCode),
    /// A malformed packet or protocol error (5.0 reason code), with a description.
    ProtocolError(ReasonCode, Cow<'static, str>),
    /// Nothing arrived within one and a half times the Keep Alive.
    KeepAliveTimeout,
    /// No CONNECT (or no end of enhanced authentication) in time.
    ConnectTimeout,
    /// Another connection took the session over.
    TakenOver,
    /// The broker is shutting down.
    Shutdown,
}

impl fmt::Display for CloseReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CloseReason::ClientDisconnect => f.write_str("client disconnected"),
            CloseReason::Refused(c) => write!(f, "connect refused: {c}"),
            CloseReason::ProtocolError(c, m) => write!(f, "{c}: {m}"),
            CloseReason::KeepAliveTimeout => f.write_str("keep alive timeout"),
            CloseReason::ConnectTimeout => f.write_str("connect timeout"),
            CloseReason::TakenOver => f.write_str("session taken over"),
            CloseReason::Shutdown => f.write_str("server shutting down"),
        }
    }
}

/// Counts, for tests and monitoring.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Stats {
    /// Open connections (whatever their phase).
    pub connections: usize,
    /// Connections past CONNACK.
    pub connected: usize,
    /// Sessions, connected or not.
    pub sessions: usize,
    /// Subscriptions of all sessions.
    pub subscriptions: usize,
    /// Retained messages.
    pub retained: usize,
    /// Messages queued in sessions (not yet sent).
    pub queued: usize,
    /// Outgoing QoS 1 and 2 messages in flight.
    pub inflight: usize,
    /// Messages dropped because a session's queue was full.
    pub dropped: u64,
}

/// A session as [`Broker::session_views`] shows it (borrowed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionView<'a> {
    /// Its client id.
    pub client_id: &'a str,
    /// A connection is attached.
    pub connected: bool,
    /// Subscriptions held.
    pub subscriptions: usize,
    /// Messages queued (not yet sent).
    pub queued: usize,
    /// Messages in flight to the client.
    pub inflight: usize,
    /// Messages dropped because its queue was full.
    pub dropped: u64,
}

/// One session as seen from outside, for tests and fuzzers ([`Broker::sessions`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionInfo {
    /// Its client identifier (assigned ones included).
    pub client_id: String,
    /// A connection is attached.
    pub connected: bool,
    /// Its subscriptions.
    pub subscriptions: usize,
    /// Messages queued (not yet sent).
    pub queued: usize,
    /// Outgoing QoS 1 and 2 messages in flight.
    pub inflight: usize,
    /// Messages dropped because its queue was full.
    pub dropped: u64,
}

/// How a connection ends, for the Will.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ending {
    /// DISCONNECT with reason 0x00: the Will is discarded (3.1.1 [MQTT-3.14.4-3], 5.0
    /// [MQTT-3.14.4-3]).
    Normal,
    /// Anything else: network failure, protocol error, keep-alive, takeover, DISCONNECT 0x04.
    Abnormal,
    /// Broker shutdown: the Will is discarded.
    Shutdown,
}

/// The broker state machine. See the [module documentation](self).
#[derive(Debug)]
pub struct Broker {
    config: Config,
    acl: Acl,
    now: Millis,
    conns: FxHashMap<ConnectionId, Conn>,
    sessions: FxHashMap<SessionId, Session>,
    client_ids: PeerKeyMap<Str, SessionId>,
    next_session: u64,
    /// Sessions ended so far (with `next_session`: the set of sessions changes only when one of
    /// the two does).
    sessions_ended: u64,
    tree: tree::SubscriptionTree,
    retained: retained::RetainedStore,
    timers: Timers,
    outbox: Outbox,
    connected: usize,
    rng: u64,
    hits: Vec<tree::Hit>,
    /// Fault `wedge_after_malformed` fired: new connections get no CONNACK.
    fault_wedged: bool,
}

impl Broker {
    /// A broker with `config` (validate it first with [`Config::validate`]) and seed 0.
    pub fn new(config: Config) -> Broker {
        Broker::with_seed(config, 0)
    }

    /// A broker whose generated values (assigned client identifiers, SCRAM nonces) come from
    /// `seed`. The server seeds it from the operating system.
    pub fn with_seed(config: Config, seed: u64) -> Broker {
        Broker {
            acl: Acl::new(config.acl.clone()),
            config,
            now: 0,
            conns: FxHashMap::default(),
            sessions: FxHashMap::default(),
            client_ids: PeerKeyMap::default(),
            next_session: 1,
            sessions_ended: 0,
            tree: tree::SubscriptionTree::default(),
            retained: retained::RetainedStore::default(),
            timers: Timers::default(),
            outbox: Outbox::default(),
            connected: 0,
            rng: seed ^ 0x9E37_79B9_7F4A_7C15,
            hits: Vec::new(),
            fault_wedged: false,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Switches test-only faults on or off (they apply from the next event on).
    pub fn set_faults(&mut self, faults: crate::Faults) {
        self.config.faults = faults;
    }

    /// Feeds one event at time `now` (milliseconds; must not go backwards).
    pub fn handle(&mut self, now: Millis, event: Event<'_>) {
        self.now = self.now.max(now);
        match event {
            Event::Opened { conn, peer } => self.on_opened(conn, peer),
            Event::Received { conn, data } => self.on_received(conn, data),
            Event::Closed { conn } => {
                if self.conns.contains_key(&conn) {
                    tracing::debug!(conn = conn.0, "connection closed by peer");
                    self.detach(conn, Ending::Abnormal);
                }
            }
            Event::Tick => self.fire_timers(),
        }
        self.flush();
    }

    /// The next action for the shell, if any.
    pub fn poll_action(&mut self) -> Option<Action> {
        self.outbox.actions.pop_front()
    }

    /// Takes every pending action.
    pub fn drain_actions(&mut self) -> std::collections::vec_deque::Drain<'_, Action> {
        self.outbox.actions.drain(..)
    }

    /// When the core next needs an [`Event::Tick`] (it may be early; ticking late only delays
    /// timeouts).
    pub fn next_deadline(&self) -> Option<Millis> {
        self.timers.next()
    }

    /// Disconnects every client (5.0: DISCONNECT 0x8B Server shutting down) and closes every
    /// connection. Wills are not published. Sessions stay (they do not survive the process).
    pub fn shutdown(&mut self, now: Millis) {
        self.now = self.now.max(now);
        let ids: Vec<ConnectionId> = self.conns.keys().copied().collect();
        for id in ids {
            self.server_disconnect(
                id,
                ReasonCode::SERVER_SHUTTING_DOWN,
                CloseReason::Shutdown,
                Ending::Shutdown,
            );
        }
        self.flush();
    }

    /// Current counts.
    pub fn stats(&self) -> Stats {
        Stats {
            connections: self.conns.len(),
            connected: self.connected,
            sessions: self.sessions.len(),
            subscriptions: self.tree.len(),
            retained: self.retained.len(),
            queued: self.sessions.values().map(|s| s.queue.len()).sum(),
            inflight: self.sessions.values().map(|s| s.inflight.len()).sum(),
            dropped: self.sessions.values().map(|s| s.dropped).sum(),
        }
    }

    /// Every session, in no particular order.
    pub fn sessions(&self) -> Vec<SessionInfo> {
        self.sessions
            .values()
            .map(|s| SessionInfo {
                client_id: s.client_id.to_string(),
                connected: s.conn.is_some(),
                subscriptions: s.subscriptions.len(),
                queued: s.queue.len(),
                inflight: s.inflight.len(),
                dropped: s.dropped,
            })
            .collect()
    }

    /// Each session's count of messages dropped for a full queue, by client id, without
    /// allocating (for checks that run after every event).
    pub fn drop_counts(&self) -> impl Iterator<Item = (&str, u64)> + '_ {
        self.sessions
            .values()
            .map(|s| (s.client_id.as_ref(), s.dropped))
    }

    /// Every session, as [`Broker::sessions`] gives them, without allocating.
    pub fn session_views(&self) -> impl Iterator<Item = SessionView<'_>> + '_ {
        self.sessions.values().map(|s| SessionView {
            client_id: s.client_id.as_ref(),
            connected: s.conn.is_some(),
            subscriptions: s.subscriptions.len(),
            queued: s.queue.len(),
            inflight: s.inflight.len(),
            dropped: s.dropped,
        })
    }

    /// A number that changes whenever a session begins or ends (for checks that need to know
    /// whether the set of sessions changed).
    pub fn session_epoch(&self) -> u64 {
        self.next_session + self.sessions_ended
    }

    /// True if a session exists for `client_id`.
    pub fn has_session(&self, client_id: &str) -> bool {
        self.client_ids.contains_key(client_id)
    }

    fn on_opened(&mut self, id: ConnectionId, peer: Option<SocketAddr>) {
        let conn = Conn::new(id, peer, self.now, self.config.max_packet());
        self.conns.insert(id, conn);
        self.schedule_conn(id);
    }

    fn on_received(&mut self, id: ConnectionId, data: &[u8]) {
        let now = self.now;
        {
            let Some(conn) = self.conns.get_mut(&id) else {
                return;
            };
            if conn.fault_hung || (self.fault_wedged && !conn.connected()) {
                // Faults `hang_on_malformed`, `wedge_after_malformed`: ignore the bytes.
                return;
            }
            conn.framer.push(data);
            conn.last_rx = now;
        }
        loop {
            let Some(conn) = self.conns.get_mut(&id) else {
                return;
            };
            if conn.protocol.is_none() {
                match peek_protocol(conn.framer.buffered()) {
                    Ok(Some(p)) => {
                        conn.protocol = Some(p);
                        conn.framer.set_decoder(
                            touchstone_codec::Decoder::new(p)
                                .with_max_packet_size(self.config.max_packet()),
                        );
                    }
                    Ok(None) => return,
                    Err(e) => {
                        self.on_bad_first_packet(id, e);
                        return;
                    }
                }
            }
            let before = conn.framer.consumed();
            match conn.framer.next_packet() {
                Ok(Some(packet)) => self.on_packet(id, packet),
                Ok(None) => return,
                Err(e) => {
                    if self.config.faults.accept_malformed && conn.connected() {
                        // Fault: skip the bad packet instead of closing (breaks 5.0
                        // [MQTT-4.13.1-1], 3.1.1 [MQTT-4.8.0-1]).
                        if conn.framer.consumed() == before {
                            conn.framer.take_buffered();
                        }
                        continue;
                    }
                    if conn.connected() {
                        if self.config.faults.wedge_after_malformed {
                            self.fault_wedged = true;
                        }
                        if self.config.faults.hang_on_malformed {
                            // Fault: neither close nor read on (breaks 5.0 [MQTT-4.13.1-1],
                            // 3.1.1 [MQTT-4.8.0-1]).
                            conn.fault_hung = true;
                            conn.framer.take_buffered();
                            return;
                        }
                    }
                    self.on_decode_error(id, e);
                    return;
                }
            }
        }
    }

    /// The first bytes are not a CONNECT of a supported version.
    fn on_bad_first_packet(&mut self, id: ConnectionId, e: touchstone_codec::DecodeError) {
        let Some(conn) = self.conns.get_mut(&id) else {
            return;
        };
        if e.kind == ErrorKind::UnsupportedProtocol && conn.framer.buffered().len() > 8 {
            // A CONNECT with protocol name "MQTT" and a level we do not support: 3.1.1
            // [MQTT-3.1.2-2] answers CONNACK 0x01 (in the 3.1.1 format the client may read;
            // 5.0 [MQTT-3.1.2-2] allows it too) and closes.
            let name_is_mqtt = conn
                .framer
                .buffered()
                .windows(6)
                .take(8)
                .any(|w| w == b"\x00\x04MQTT");
            if name_is_mqtt {
                if self.config.faults.v5_connack_for_unknown_level {
                    // Option `v5_connack_for_unknown_level`: the 5.0 answer, allowed to a
                    // server that also implements 5.0 (5.0 [MQTT-3.1.2-2]).
                    conn.send_raw(&[0x20, 0x03, 0x00, 0x84, 0x00], &mut self.outbox);
                } else {
                    conn.send_raw(&[0x20, 0x02, 0x00, 0x01], &mut self.outbox);
                }
            }
        }
        // 3.1.1 [MQTT-3.1.0-1], [MQTT-3.1.4-1]; 5.0 [MQTT-3.1.0-1], [MQTT-3.1.4-1].
        let reason = e.reason_code.unwrap_or(ReasonCode::PROTOCOL_ERROR);
        self.close(
            id,
            CloseReason::ProtocolError(reason, e.message.clone()),
            Ending::Abnormal,
        );
    }

    /// A packet broke a rule the codec checks.
    fn on_decode_error(&mut self, id: ConnectionId, e: touchstone_codec::DecodeError) {
        let Some(conn) = self.conns.get(&id) else {
            return;
        };
        tracing::debug!(conn = id.0, "decode error: {e}");
        let code = e.reason_code.unwrap_or(ReasonCode::MALFORMED_PACKET);
        if conn.connected() {
            // 5.0 [MQTT-4.13.1-1]: DISCONNECT with the reason code, then close; 3.1.1
            // [MQTT-4.8.0-1]: close.
            self.protocol_error(id, code, e.message.clone());
        } else {
            // The CONNECT itself: 5.0 answers CONNACK with the reason code; 3.1.1 answers the
            // return codes it has (0x01, 0x02) and otherwise closes without CONNACK
            // (3.1.1 [MQTT-3.1.4-1], [MQTT-3.2.2-6]).
            self.refuse(id, code, Some(e.message.to_string()));
        }
    }

    /// Closes the connection after a 5.0 DISCONNECT with `code` (3.1.1: just closes). Only
    /// after a CONNACK (5.0 [MQTT-3.14.0-1]).
    pub(crate) fn protocol_error(
        &mut self,
        id: ConnectionId,
        code: ReasonCode,
        why: impl Into<Cow<'static, str>>,
    ) {
        let why = why.into();
        self.server_disconnect_with(
            id,
            code,
            Some(why.to_string()),
            CloseReason::ProtocolError(code, why),
            Ending::Abnormal,
        );
    }

    pub(crate) fn server_disconnect(
        &mut self,
        id: ConnectionId,
        code: ReasonCode,
        reason: CloseReason,
        ending: Ending,
    ) {
        self.server_disconnect_with(id, code, None, reason, ending);
    }

    fn server_disconnect_with(
        &mut self,
        id: ConnectionId,
        code: ReasonCode,
        text: Option<String>,
        reason: CloseReason,
        ending: Ending,
    ) {
        let Some(conn) = self.conns.get_mut(&id) else {
            return;
        };
        // Fault `silent_error_close`: the close without the DISCONNECT (a SHOULD).
        let silent = self.config.faults.silent_error_close && code.0 >= 0x80;
        if conn.is_v5() && conn.connected() && !silent {
            // Fault `generic_disconnect_code`: 0x80 where the text names a code (a SHOULD).
            let code = if self.config.faults.generic_disconnect_code && code.0 >= 0x80 {
                ReasonCode::UNSPECIFIED_ERROR
            } else {
                code
            };
            let mut d = Disconnect::new(code);
            d.properties.reason_string = text.map(Str::from);
            conn.send(Packet::Disconnect(d), &mut self.outbox);
        }
        self.close(id, reason, ending);
    }

    /// Flushes the connection's output, emits the close, and detaches it.
    pub(crate) fn close(&mut self, id: ConnectionId, reason: CloseReason, ending: Ending) {
        let Some(conn) = self.conns.get_mut(&id) else {
            return;
        };
        tracing::debug!(conn = id.0, peer = ?conn.peer, client_id = %conn.client_id, "closing: {reason}");
        conn.flush(&mut self.outbox);
        self.outbox
            .actions
            .push_back(Action::Close { conn: id, reason });
        self.detach(id, ending);
    }

    /// Forgets the connection: the session loses it, the Will is handled, session expiry
    /// starts.
    fn detach(&mut self, id: ConnectionId, ending: Ending) {
        let Some(conn) = self.conns.remove(&id) else {
            return;
        };
        if conn.connected() {
            self.connected -= 1;
        }
        let Some(sid) = conn.session else {
            return;
        };
        let Some(session) = self.sessions.get_mut(&sid) else {
            return;
        };
        if session.conn != Some(id) {
            return;
        }
        session.conn = None;
        self.handle_will(sid, conn.will, ending);
        self.start_session_expiry(sid);
    }

    /// Moves dirty output buffers into send actions.
    fn flush(&mut self) {
        let dirty = std::mem::take(&mut self.outbox.dirty);
        for id in &dirty {
            if let Some(conn) = self.conns.get_mut(id) {
                conn.flush(&mut self.outbox);
            }
        }
        let mut dirty = dirty;
        dirty.clear();
        if self.outbox.dirty.is_empty() {
            self.outbox.dirty = dirty;
        }
    }

    /// Makes sure the connection's timer entry is no later than its deadline.
    pub(crate) fn schedule_conn(&mut self, id: ConnectionId) {
        let connect_timeout = u64::from(self.config.connect_timeout) * 1000;
        let ignore = self.config.faults.ignore_keep_alive;
        let Some(conn) = self.conns.get_mut(&id) else {
            return;
        };
        if let Some(d) = conn.deadline(connect_timeout, ignore) {
            if conn.timer_at.is_none_or(|t| d < t) {
                conn.timer_at = Some(d);
                self.timers.schedule(d, Timer::Conn(id));
            }
        }
    }

    fn fire_timers(&mut self) {
        let now = self.now;
        while let Some((at, timer)) = self.timers.pop_due(now) {
            match timer {
                Timer::Conn(id) => self.conn_timer(id, at),
                Timer::Will(sid, gen) => self.will_timer(sid, gen),
                Timer::SessionExpiry(sid, gen) => self.session_timer(sid, gen),
            }
        }
    }

    fn conn_timer(&mut self, id: ConnectionId, at: Millis) {
        let connect_timeout = u64::from(self.config.connect_timeout) * 1000;
        let ignore = self.config.faults.ignore_keep_alive;
        let Some(conn) = self.conns.get_mut(&id) else {
            return;
        };
        if conn.timer_at != Some(at) {
            return; // superseded by an earlier entry
        }
        conn.timer_at = None;
        match conn.deadline(connect_timeout, ignore) {
            Some(d) if d <= self.now => {
                if conn.connected() {
                    // 3.1.1 [MQTT-3.1.2-24], 5.0 [MQTT-3.1.2-22]; 5.0 DISCONNECT 0x8D.
                    self.server_disconnect(
                        id,
                        ReasonCode::KEEP_ALIVE_TIMEOUT,
                        CloseReason::KeepAliveTimeout,
                        Ending::Abnormal,
                    );
                } else {
                    self.close(id, CloseReason::ConnectTimeout, Ending::Abnormal);
                }
            }
            Some(_) => self.schedule_conn(id),
            None => {}
        }
    }

    /// The next pseudo-random number (SplitMix64).
    pub(crate) fn random(&mut self) -> u64 {
        self.rng = self.rng.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.rng;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn on_packet(&mut self, id: ConnectionId, packet: Packet) {
        let Some(conn) = self.conns.get(&id) else {
            return;
        };
        match (&conn.phase, packet) {
            (Phase::AwaitingConnect, Packet::Connect(c)) => self.on_connect(id, c),
            (Phase::AwaitingConnect, _) => {
                // peek_protocol let only a CONNECT through; kept for completeness.
                self.close(
                    id,
                    CloseReason::ProtocolError(
                        ReasonCode::PROTOCOL_ERROR,
                        "first packet is not CONNECT".into(),
                    ),
                    Ending::Abnormal,
                );
            }
            (Phase::Authenticating(_), Packet::Auth(a)) => self.on_auth_during_connect(id, a),
            (Phase::Authenticating(_), Packet::Disconnect(_)) => {
                self.close(id, CloseReason::ClientDisconnect, Ending::Normal)
            }
            (Phase::Authenticating(_), p) => {
                // 5.0 [MQTT-3.1.2-30]: only AUTH or DISCONNECT before CONNACK.
                let _ = p;
                self.refuse(
                    id,
                    ReasonCode::PROTOCOL_ERROR,
                    Some("only AUTH or DISCONNECT may follow a CONNECT with an Authentication Method".into()),
                );
            }
            (Phase::Connected, packet) => self.on_connected_packet(id, packet),
        }
    }

    fn on_connected_packet(&mut self, id: ConnectionId, packet: Packet) {
        match packet {
            Packet::Publish(p) => self.on_publish(id, p),
            // Fault `close_on_acknowledgement_properties`: an acknowledgement with properties
            // (allowed, 5.0 section 3.4.2.2) is taken for a protocol error.
            Packet::PubAck(a)
                if self.config.faults.close_on_acknowledgement_properties
                    && a.properties != Default::default() =>
            {
                self.protocol_error(id, ReasonCode::PROTOCOL_ERROR, "fault: PUBACK properties")
            }
            Packet::PubAck(a) => self.on_puback(id, a.packet_id.get()),
            Packet::PubRec(r) => self.on_pubrec(id, r.packet_id.get(), r.reason_code),
            Packet::PubRel(r) => self.on_pubrel(id, r.packet_id.get()),
            Packet::PubComp(c) => self.on_pubcomp(id, c.packet_id.get()),
            Packet::Subscribe(s) => self.on_subscribe(id, s),
            Packet::Unsubscribe(u) => self.on_unsubscribe(id, u),
            Packet::PingReq => {
                if self.config.faults.no_pingresp {
                    return; // Fault: breaks 3.1.1 and 5.0 [MQTT-3.12.4-1].
                }
                if let Some(conn) = self.conns.get_mut(&id) {
                    // 3.1.1 and 5.0 [MQTT-3.12.4-1].
                    conn.send(Packet::PingResp, &mut self.outbox);
                }
            }
            Packet::Disconnect(d) => self.on_disconnect(id, d),
            Packet::Auth(a) => self.on_reauth(id, a),
            // 3.1.1 [MQTT-3.1.0-2], 5.0 [MQTT-3.1.0-2]: a second CONNECT is a protocol error.
            Packet::Connect(_) => {
                self.protocol_error(id, ReasonCode::PROTOCOL_ERROR, "second CONNECT")
            }
            other => {
                let name = other.packet_type().name();
                self.protocol_error(
                    id,
                    ReasonCode::PROTOCOL_ERROR,
                    format!("a client does not send {name}"),
                )
            }
        }
    }

    /// Reason strings are sent on acknowledgements only if the client did not set Request
    /// Problem Information to 0 (5.0 [MQTT-3.1.2-29]).
    pub(crate) fn problem_info(&self, id: ConnectionId, text: &str) -> Option<Str> {
        let conn = self.conns.get(&id)?;
        (conn.is_v5() && conn.request_problem_info).then(|| Str::from(text))
    }

    pub(crate) fn protocol_of(&self, id: ConnectionId) -> Protocol {
        self.conns
            .get(&id)
            .map_or(Protocol::V3_1_1, |c| c.protocol())
    }
}

#[cfg(test)]
mod tests;
