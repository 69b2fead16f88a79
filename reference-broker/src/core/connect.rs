//! CONNECT, CONNACK and enhanced authentication; session takeover, Clean Start, session
//! expiry; the Will; DISCONNECT from the client.

use std::sync::Arc;

use bytes::Bytes;
use touchstone_codec::properties::{ConnAckProperties, PublishProperties};
use touchstone_codec::{
    Auth, ConnAck, Connect, Disconnect, Packet, Protocol, QoS, ReasonCode, Str, Will,
};

use super::conn::{PendingAuth, Phase};
use super::message::Message;
use super::session::{PendingWill, Session};
use super::timers::Timer;
use super::SessionId;
use super::{Broker, CloseReason, ConnectionId, Ending};
use crate::auth::scram::{self, ScramServer};

impl Broker {
    pub(super) fn on_connect(&mut self, id: ConnectionId, connect: Box<Connect>) {
        let p = self.protocol_of(id);
        if let Some(conn) = self.conns.get_mut(&id).filter(|_| p.is_v5()) {
            // 5.0 [MQTT-3.2.2-19], [MQTT-3.2.2-20], [MQTT-3.15.2-2]: a refusing CONNACK and
            // AUTH fit the client's Maximum Packet Size too.
            if let Some(n) = connect.properties.maximum_packet_size {
                conn.client_max_packet = n as usize;
            }
            conn.fault_problem_info = self.config.faults.oversize_problem_info;
        }
        let cfg = &self.config;
        // Server busy (5.0 0x89; 3.1.1 0x03 Server unavailable).
        if cfg.max_connections.is_some_and(|max| self.connected >= max) {
            return self.refuse(
                id,
                ReasonCode::SERVER_BUSY,
                Some("too many connections".into()),
            );
        }
        // 3.1.1 [MQTT-3.1.3-9], 5.0 [MQTT-3.1.3-8]: identifier rejected.
        if cfg
            .max_client_id_length
            .is_some_and(|max| connect.client_id.len() > usize::from(max))
        {
            return self.refuse(
                id,
                ReasonCode::CLIENT_IDENTIFIER_NOT_VALID,
                Some("client identifier too long".into()),
            );
        }
        if connect.client_id.is_empty() && p == Protocol::V3_1 {
            // MQTT 3.1 requires 1 to 23 characters: identifier rejected.
            return self.refuse(id, ReasonCode::CLIENT_IDENTIFIER_NOT_VALID, None);
        }
        if let Some(will) = &connect.will {
            // Fault: breaks 5.0 [MQTT-3.2.2-12], [MQTT-3.2.2-13].
            if p.is_v5() && !cfg.faults.ignore_own_limits {
                // 5.0 [MQTT-3.2.2-12]: Will QoS above Maximum QoS.
                if will.qos > cfg.maximum_qos {
                    return self.refuse(
                        id,
                        ReasonCode::QOS_NOT_SUPPORTED,
                        Some("Will QoS is above the Maximum QoS".into()),
                    );
                }
                // 5.0 [MQTT-3.2.2-13]: Will Retain without retain support.
                if will.retain && !cfg.retain_available {
                    return self.refuse(
                        id,
                        ReasonCode::RETAIN_NOT_SUPPORTED,
                        Some("retained messages are not supported".into()),
                    );
                }
            }
        }
        // Enhanced authentication (5.0 section 4.12).
        if let Some(method) = connect.properties.authentication_method.clone() {
            let nonce = self.nonce();
            if method != scram::METHOD {
                // 5.0 [MQTT-4.12.0-1].
                return self.refuse(
                    id,
                    ReasonCode::BAD_AUTHENTICATION_METHOD,
                    Some(format!("supported: {}", scram::METHOD)),
                );
            }
            let Some(passwords) = &self.config.passwords else {
                return self.refuse(
                    id,
                    ReasonCode::BAD_AUTHENTICATION_METHOD,
                    Some("no user database configured".into()),
                );
            };
            let data = connect
                .properties
                .authentication_data
                .clone()
                .unwrap_or_default();
            let started = ScramServer::start(&data, |user| passwords.scram_keys(user), &nonce);
            return match started {
                Ok((scram, reply)) => {
                    let Some(conn) = self.conns.get_mut(&id) else {
                        return;
                    };
                    conn.phase = Phase::Authenticating(Box::new(PendingAuth { connect, scram }));
                    let mut auth = Auth {
                        reason_code: ReasonCode::CONTINUE_AUTHENTICATION,
                        ..Auth::default()
                    };
                    // 5.0 [MQTT-4.12.0-2], [MQTT-4.12.0-5].
                    auth.properties.authentication_method = Some(method);
                    auth.properties.authentication_data = Some(Bytes::from(reply));
                    conn.send(Packet::Auth(auth), &mut self.outbox);
                }
                Err(e) => self.refuse(
                    id,
                    ReasonCode::BAD_USER_NAME_OR_PASSWORD,
                    Some(e.to_string()),
                ),
            };
        }
        // User name and password.
        let user = connect.username.as_ref().map(|u| u.to_string());
        match (&user, &self.config.passwords) {
            (None, _) if !self.config.allow_anonymous => {
                return self.refuse(
                    id,
                    ReasonCode::NOT_AUTHORIZED,
                    Some("anonymous clients are not allowed".into()),
                );
            }
            (Some(u), Some(passwords)) => {
                let pw = connect.password.as_deref().unwrap_or_default();
                if !passwords.check(u, pw) {
                    return self.refuse(id, ReasonCode::BAD_USER_NAME_OR_PASSWORD, None);
                }
            }
            _ => {}
        }
        self.finish_connect(id, connect, user, None);
    }

    /// AUTH while the CONNECT waits for enhanced authentication to finish.
    pub(super) fn on_auth_during_connect(&mut self, id: ConnectionId, auth: Auth) {
        let Some(conn) = self.conns.get_mut(&id) else {
            return;
        };
        let Phase::Authenticating(pending) =
            std::mem::replace(&mut conn.phase, Phase::AwaitingConnect)
        else {
            return;
        };
        let PendingAuth { connect, scram } = *pending;
        // 5.0 [MQTT-4.12.0-3], [MQTT-4.12.0-5]: Continue authentication with the same method.
        if auth.reason_code != ReasonCode::CONTINUE_AUTHENTICATION {
            return self.refuse(
                id,
                ReasonCode::PROTOCOL_ERROR,
                Some("expected AUTH 0x18".into()),
            );
        }
        if auth.properties.authentication_method != connect.properties.authentication_method {
            return self.refuse(
                id,
                ReasonCode::BAD_AUTHENTICATION_METHOD,
                Some("Authentication Method changed".into()),
            );
        }
        let data = auth
            .properties
            .authentication_data
            .clone()
            .unwrap_or_default();
        match scram.finish(&data) {
            Ok((user, server_final)) => {
                self.finish_connect(id, connect, Some(user), Some(Bytes::from(server_final)))
            }
            // 5.0 [MQTT-4.12.0-4].
            Err(e) => self.refuse(
                id,
                ReasonCode::BAD_USER_NAME_OR_PASSWORD,
                Some(e.to_string()),
            ),
        }
    }

    /// AUTH after CONNACK: re-authentication (5.0 section 4.12.1).
    pub(super) fn on_reauth(&mut self, id: ConnectionId, auth: Auth) {
        let nonce = self.nonce();
        let Some(conn) = self.conns.get_mut(&id) else {
            return;
        };
        let Some(method) = conn.auth_method.clone() else {
            // 5.0 [MQTT-4.12.0-7]: no AUTH without an Authentication Method in CONNECT.
            return self.protocol_error(
                id,
                ReasonCode::PROTOCOL_ERROR,
                "AUTH without enhanced authentication",
            );
        };
        if auth.properties.authentication_method.as_ref() != Some(&method) {
            // 5.0 [MQTT-4.12.1-1].
            return self.protocol_error(
                id,
                ReasonCode::PROTOCOL_ERROR,
                "re-authentication with another method",
            );
        }
        let data = auth
            .properties
            .authentication_data
            .clone()
            .unwrap_or_default();
        let mut reply = Auth::default();
        reply.properties.authentication_method = Some(method);
        match (auth.reason_code, conn.reauth.take()) {
            (ReasonCode::RE_AUTHENTICATE, None) => {
                let Some(passwords) = &self.config.passwords else {
                    return self.protocol_error(id, ReasonCode::NOT_AUTHORIZED, "no user database");
                };
                match ScramServer::start(&data, |user| passwords.scram_keys(user), &nonce) {
                    Ok((scram, first)) => {
                        conn.reauth = Some(scram);
                        reply.reason_code = ReasonCode::CONTINUE_AUTHENTICATION;
                        reply.properties.authentication_data = Some(Bytes::from(first));
                        conn.send(Packet::Auth(reply), &mut self.outbox);
                    }
                    // 5.0 [MQTT-4.12.1-2].
                    Err(e) => self.protocol_error(id, ReasonCode::NOT_AUTHORIZED, e.to_string()),
                }
            }
            (ReasonCode::CONTINUE_AUTHENTICATION, Some(scram)) => match scram.finish(&data) {
                Ok((user, last)) if Some(&user) == conn.user.as_ref() => {
                    reply.reason_code = ReasonCode::SUCCESS;
                    reply.properties.authentication_data = Some(Bytes::from(last));
                    conn.send(Packet::Auth(reply), &mut self.outbox);
                }
                Ok(_) => self.protocol_error(
                    id,
                    ReasonCode::NOT_AUTHORIZED,
                    "re-authenticated as another user",
                ),
                Err(e) => self.protocol_error(id, ReasonCode::NOT_AUTHORIZED, e.to_string()),
            },
            _ => self.protocol_error(
                id,
                ReasonCode::PROTOCOL_ERROR,
                "unexpected AUTH reason code",
            ),
        }
    }

    /// A SCRAM server nonce.
    fn nonce(&mut self) -> String {
        format!("{:016x}{:016x}", self.random(), self.random())
    }

    /// Refuses the CONNECT: 5.0 CONNACK with `code` (5.0 [MQTT-3.2.2-7]); 3.1.1 CONNACK with
    /// the matching return code, or no CONNACK where none fits (3.1.1 [MQTT-3.2.2-5],
    /// [MQTT-3.2.2-6]); then close (5.0 [MQTT-4.13.2-1]).
    pub(super) fn refuse(&mut self, id: ConnectionId, code: ReasonCode, text: Option<String>) {
        let Some(conn) = self.conns.get_mut(&id) else {
            return;
        };
        conn.phase = Phase::AwaitingConnect;
        let p = conn.protocol();
        let code_to_send = if p.is_v5() {
            Some(code)
        } else {
            code.to_v3_connack()
        };
        if let Some(c) = code_to_send {
            let mut ack = ConnAck {
                session_present: false, // 3.1.1 [MQTT-3.2.2-4], 5.0 [MQTT-3.2.2-6]
                reason_code: c,
                ..ConnAck::default()
            };
            if p.is_v5() {
                ack.properties.reason_string = text.map(Str::from);
            }
            conn.send(Packet::ConnAck(Box::new(ack)), &mut self.outbox);
        }
        self.close(id, CloseReason::Refused(code), Ending::Shutdown);
    }

    /// Accepts an authenticated CONNECT: takeover, Clean Start, session, CONNACK, redelivery.
    fn finish_connect(
        &mut self,
        id: ConnectionId,
        connect: Box<Connect>,
        user: Option<String>,
        auth_data: Option<Bytes>,
    ) {
        let p = self.protocol_of(id);
        let now = self.now;
        // Client identifier: assign one for an empty id (3.1.1 [MQTT-3.1.3-6]; 5.0
        // [MQTT-3.1.3-6], [MQTT-3.1.3-7], [MQTT-3.2.2-16]).
        let assigned = connect.client_id.is_empty();
        let client_id: Str = if assigned {
            loop {
                let candidate = format!("ts-{:016x}", self.random());
                if !self.client_ids.contains_key(candidate.as_str()) {
                    break candidate.into();
                }
            }
        } else {
            connect.client_id.clone()
        };
        // Will topic authorization.
        if let Some(w) = &connect.will {
            if !self.acl.can_publish(user.as_deref(), &client_id, &w.topic) {
                return self.refuse(
                    id,
                    ReasonCode::NOT_AUTHORIZED,
                    Some("not authorized to publish the Will".into()),
                );
            }
        }

        // Session takeover: 3.1.1 [MQTT-3.1.4-2]; 5.0 [MQTT-3.1.4-3] (DISCONNECT 0x8E).
        if let Some(&sid) = self.client_ids.get(client_id.as_str()) {
            if let Some(old) = self.sessions.get(&sid).and_then(|s| s.conn) {
                // Fault: leave the old connection open (breaks 3.1.1 [MQTT-3.1.4-2], 5.0
                // [MQTT-3.1.4-3]).
                if old != id && !self.config.faults.no_takeover_close {
                    self.server_disconnect(
                        old,
                        ReasonCode::SESSION_TAKEN_OVER,
                        CloseReason::TakenOver,
                        Ending::Abnormal,
                    );
                }
            }
        }

        // Session expiry: 5.0 property (absent: 0); 3.1.1 Clean Session 0: kept until the cap.
        let cap = self.config.max_session_expiry;
        let requested = if p.is_v5() {
            connect.properties.session_expiry_interval.unwrap_or(0)
        } else if connect.clean_start {
            0
        } else {
            u32::MAX
        };
        let expiry = requested.min(cap);

        // Clean Start: 3.1.1 [MQTT-3.1.2-6], 5.0 [MQTT-3.1.2-4] discard; otherwise resume
        // (3.1.1 [MQTT-3.1.2-4], 5.0 [MQTT-3.1.2-5]) or create (5.0 [MQTT-3.1.2-6]).
        let existing = self.client_ids.get(client_id.as_str()).copied();
        if let (Some(sid), true) = (existing, connect.clean_start) {
            self.end_session(sid);
        }
        let (sid, session_present) = match self.client_ids.get(client_id.as_str()).copied() {
            Some(sid) => (sid, true),
            None => {
                let sid = SessionId(self.next_session);
                self.next_session += 1;
                self.sessions
                    .insert(sid, Session::new(client_id.clone(), p));
                self.client_ids.insert(client_id.clone(), sid);
                (sid, false)
            }
        };
        let Some(session) = self.sessions.get_mut(&sid) else {
            return;
        };
        // A new connection to the session before the Will Delay: no Will (5.0 [MQTT-3.1.3-9]).
        if session.pending_will.take().is_some() {
            session.will_gen += 1;
        }
        session.expiry_gen += 1; // cancels a scheduled expiry
        session.expiry = expiry;
        session.conn = Some(id);
        session.protocol = p;

        // The connection.
        let server_keep_alive = if p.is_v5() {
            self.config.server_keep_alive
        } else {
            None
        };
        let keep_alive = server_keep_alive.unwrap_or(connect.keep_alive);
        let Some(conn) = self.conns.get_mut(&id) else {
            // Cannot happen (the connection is the one being handled); leave the session
            // without a connection rather than panic.
            session_detached(&mut self.sessions, sid);
            return;
        };
        conn.phase = Phase::Connected;
        conn.session = Some(sid);
        conn.client_id = client_id.clone();
        conn.user = user;
        conn.keep_alive_ms = u64::from(keep_alive) * 1000;
        conn.last_rx = now;
        conn.will = connect.will.clone();
        conn.connect_expiry_zero = requested == 0;
        if p.is_v5() {
            let cp = &connect.properties;
            conn.client_receive_max = cp.receive_maximum.unwrap_or(u16::MAX);
            if self.config.faults.ignore_client_receive_maximum {
                conn.client_receive_max = u16::MAX; // Fault: breaks 5.0 [MQTT-3.3.4-9].
            }
            conn.client_max_packet = cp
                .maximum_packet_size
                .map_or(touchstone_codec::MAX_PACKET_SIZE, |n| n as usize);
            conn.client_alias_max = cp.topic_alias_maximum.unwrap_or(0);
            conn.request_problem_info = cp.request_problem_information.unwrap_or(true);
            conn.auth_method = cp.authentication_method.clone();
        }
        self.connected += 1;

        // CONNACK 0x00 (3.1.1 [MQTT-3.1.4-4], 5.0 [MQTT-3.1.4-5]) with Session Present
        // (3.1.1 [MQTT-3.2.2-1] to [MQTT-3.2.2-3], 5.0 [MQTT-3.2.2-2], [MQTT-3.2.2-3]).
        let mut ack = ConnAck {
            // Fault: an inverted Session Present.
            session_present: session_present != self.config.faults.wrong_session_present,
            reason_code: ReasonCode::SUCCESS,
            ..ConnAck::default()
        };
        if p.is_v5() {
            let c = &self.config;
            let mut props = ConnAckProperties::default();
            if expiry != requested {
                props.session_expiry_interval = Some(expiry);
            }
            if c.receive_maximum != u16::MAX {
                props.receive_maximum = Some(c.receive_maximum);
            }
            if c.maximum_qos < QoS::ExactlyOnce {
                props.maximum_qos = Some(c.maximum_qos); // 5.0 [MQTT-3.2.2-9]
            }
            if !c.retain_available {
                props.retain_available = Some(false);
            }
            props.maximum_packet_size = c.maximum_packet_size;
            if c.faults.unrequested_response_information {
                // Fault: breaks 5.0 [MQTT-3.1.2-28].
                props.response_information = Some("fault/response".into());
            }
            if assigned {
                props.assigned_client_identifier = Some(client_id.clone());
            }
            if c.topic_alias_maximum > 0 {
                props.topic_alias_maximum = Some(c.topic_alias_maximum);
            }
            if !c.wildcard_subscriptions {
                props.wildcard_subscription_available = Some(false);
            }
            if !c.subscription_identifiers {
                props.subscription_identifiers_available = Some(false);
            }
            if !c.shared_subscriptions {
                props.shared_subscription_available = Some(false);
            }
            props.server_keep_alive = server_keep_alive;
            if let Some(data) = auth_data {
                props.authentication_method = connect.properties.authentication_method.clone();
                props.authentication_data = Some(data);
            }
            ack.properties = props.into();
        }
        let Some(conn) = self.conns.get_mut(&id) else {
            return;
        };
        if !conn.send(Packet::ConnAck(Box::new(ack)), &mut self.outbox) {
            // No CONNACK fits the client's Maximum Packet Size (5.0 [MQTT-3.1.2-24]), and
            // nothing else may be sent before one (5.0 [MQTT-3.2.0-1]): the connection cannot
            // go on (found by the broker_core fuzzer: the resumed session's PUBLISHes went out
            // without a CONNACK).
            self.close(
                id,
                CloseReason::ProtocolError(
                    ReasonCode::PACKET_TOO_LARGE,
                    "no CONNACK fits the client's Maximum Packet Size".into(),
                ),
                Ending::Abnormal,
            );
            return;
        }
        tracing::debug!(conn = id.0, client_id = %client_id, protocol = %p, session_present, "connected");
        self.schedule_conn(id);

        // Redelivery: 3.1.1 [MQTT-4.4.0-1], 5.0 [MQTT-4.4.0-1].
        if session_present {
            self.resend_inflight(sid);
        }
        self.pump(sid);
    }

    /// DISCONNECT from the client.
    pub(super) fn on_disconnect(&mut self, id: ConnectionId, d: Disconnect) {
        let Some(conn) = self.conns.get_mut(&id) else {
            return;
        };
        if let Some(new_expiry) = d.properties.session_expiry_interval {
            // 5.0 section 3.14.2.2.2: non-zero after a CONNECT with 0 is a Protocol Error.
            if conn.connect_expiry_zero && new_expiry != 0 {
                return self.protocol_error(
                    id,
                    ReasonCode::PROTOCOL_ERROR,
                    "Session Expiry Interval was 0 in CONNECT",
                );
            }
            if let Some(s) = conn.session.and_then(|sid| self.sessions.get_mut(&sid)) {
                s.expiry = new_expiry.min(self.config.max_session_expiry);
            }
        }
        // 5.0: 0x04 Disconnect with Will Message and any other reason publish the Will; 0x00
        // discards it (3.1.1 [MQTT-3.14.4-3], 5.0 [MQTT-3.14.4-3]).
        let ending = if d.reason_code == ReasonCode::SUCCESS {
            Ending::Normal
        } else {
            Ending::Abnormal
        };
        self.close(id, CloseReason::ClientDisconnect, ending);
    }

    /// What happens to the Will of a connection that ended.
    pub(super) fn handle_will(&mut self, sid: SessionId, will: Option<Will>, ending: Ending) {
        let Some(will) = will else {
            return;
        };
        let faults = self.config.faults;
        let publish = match ending {
            // Fault: publish it anyway (breaks 3.1.1 and 5.0 [MQTT-3.14.4-3]).
            Ending::Normal => faults.will_after_disconnect,
            // Fault: never publish it (breaks 3.1.1 and 5.0 [MQTT-3.1.2-8]).
            Ending::Abnormal => !faults.no_will_on_abrupt_close,
            Ending::Shutdown => false,
        };
        if !publish {
            return; // 3.1.1 [MQTT-3.1.2-10], 5.0 [MQTT-3.1.2-10]: removed from the session.
        }
        let delay = will.properties.will_delay_interval.unwrap_or(0);
        let Some(session) = self.sessions.get_mut(&sid) else {
            return;
        };
        // Fault: no Will Delay (breaks 5.0 [MQTT-3.1.3-9]).
        if delay == 0 || session.expiry == 0 || faults.ignore_will_delay {
            let origin = Some(sid);
            self.publish_will(will, origin);
            return;
        }
        // 5.0 [MQTT-3.1.2-8]: after the Will Delay Interval or when the session ends.
        session.will_gen += 1;
        session.pending_will = Some(PendingWill { will });
        let gen = session.will_gen;
        self.timers
            .schedule(self.now + u64::from(delay) * 1000, Timer::Will(sid, gen));
    }

    pub(super) fn will_timer(&mut self, sid: SessionId, gen: u64) {
        let Some(session) = self.sessions.get_mut(&sid) else {
            return;
        };
        if session.will_gen != gen || session.conn.is_some() {
            return;
        }
        if let Some(p) = session.pending_will.take() {
            self.publish_will(p.will, Some(sid));
        }
    }

    /// Publishes a Will as the client's message (3.1.1 [MQTT-3.1.2-16], [MQTT-3.1.2-17];
    /// 5.0 [MQTT-3.1.2-14], [MQTT-3.1.2-15]; User Properties in order, 5.0 [MQTT-3.1.3-10]).
    fn publish_will(&mut self, will: Will, origin: Option<SessionId>) {
        let wp = will.properties.into_inner();
        let props = PublishProperties {
            payload_format_indicator: wp.payload_format_indicator,
            message_expiry_interval: wp.message_expiry_interval,
            content_type: wp.content_type,
            response_topic: wp.response_topic,
            correlation_data: wp.correlation_data,
            user_properties: wp.user_properties,
            ..PublishProperties::default()
        };
        let msg = Message {
            topic: will.topic,
            payload: will.payload,
            qos: will.qos.min(self.config.maximum_qos),
            retain: will.retain && self.config.retain_available,
            props: props.into(),
            received_at: self.now,
            origin,
        };
        tracing::debug!(topic = %msg.topic, "publishing a Will");
        self.route(Arc::new(msg));
    }

    /// Starts the expiry of a session whose connection closed.
    pub(super) fn start_session_expiry(&mut self, sid: SessionId) {
        let Some(session) = self.sessions.get_mut(&sid) else {
            return;
        };
        if session.expiry == 0 {
            // 3.1.1 [MQTT-3.1.2-6]; 5.0 [MQTT-4.1.0-2] with an interval of 0.
            self.end_session(sid);
            return;
        }
        session.expiry_gen += 1;
        if let Some(at) = session.expires_at(self.now) {
            let gen = session.expiry_gen;
            self.timers.schedule(at, Timer::SessionExpiry(sid, gen));
        }
    }

    pub(super) fn session_timer(&mut self, sid: SessionId, gen: u64) {
        let Some(session) = self.sessions.get(&sid) else {
            return;
        };
        // Fault: never expire (breaks 5.0 [MQTT-4.1.0-2]).
        if session.expiry_gen == gen
            && session.conn.is_none()
            && !self.config.faults.sessions_never_expire
        {
            // 5.0 [MQTT-4.1.0-2].
            self.end_session(sid);
        }
    }

    /// Ends a session: publishes a pending Will (5.0 [MQTT-3.1.2-8]: the session ended before
    /// the Will Delay) and forgets its state.
    pub(super) fn end_session(&mut self, sid: SessionId) {
        let Some(mut session) = self.sessions.remove(&sid) else {
            return;
        };
        self.sessions_ended += 1;
        self.client_ids.remove(session.client_id.as_str());
        for (filter, sub) in session.subscriptions.drain() {
            let (share, inner) = split_filter(&filter, sub.shared);
            self.tree.remove(inner, share, sid);
        }
        tracing::debug!(client_id = %session.client_id, "session ended");
        if let Some(p) = session.pending_will.take() {
            self.publish_will(p.will, None);
        }
    }
}

fn session_detached(sessions: &mut crate::fxhash::FxHashMap<SessionId, Session>, sid: SessionId) {
    if let Some(s) = sessions.get_mut(&sid) {
        s.conn = None;
    }
}

/// Splits a session's filter into its shared-subscription group and plain filter (`shared`:
/// it was made as a 5.0 shared subscription).
pub(super) fn split_filter(filter: &str, shared: bool) -> (Option<&str>, &str) {
    if shared {
        if let Ok(Some((name, inner))) = touchstone_codec::topic::split_shared(filter) {
            return (Some(name), inner);
        }
    }
    (None, filter)
}
