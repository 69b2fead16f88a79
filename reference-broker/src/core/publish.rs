//! PUBLISH in both directions: inbound checks (topic aliases, limits, authorization), QoS 1
//! and 2 acknowledgements both ways, routing to subscriptions, the session queue with flow
//! control, redelivery, and encoding each outgoing PUBLISH for its connection.

use std::sync::Arc;

use bytes::Bytes;
use touchstone_codec::properties::Props;
use touchstone_codec::{
    Packet, PacketId, PubAck, PubComp, PubRec, PubRel, Publish, QoS, ReasonCode, UserProperties,
};

use super::conn::{Conn, Outbox};
use super::message::{Delivery, Message};
use super::session::{Inflight, OutState};
use super::SessionId;
use super::{Broker, ConnectionId, Millis};
use crate::faults::Faults;

impl Broker {
    /// A packet id for an acknowledgement (fault: off by one, breaking 3.1.1
    /// [MQTT-2.3.1-6], [MQTT-2.3.1-7]; 5.0 [MQTT-2.2.1-5], [MQTT-2.2.1-6]).
    pub(super) fn ack_id(&self, pid: PacketId) -> PacketId {
        if self.config.faults.wrong_ack_packet_id {
            PacketId::new(pid.get().wrapping_add(1)).unwrap_or(PacketId::MIN)
        } else {
            pid
        }
    }

    pub(super) fn on_publish(&mut self, id: ConnectionId, mut publish: Publish) {
        let cfg = &self.config;
        let Some(conn) = self.conns.get_mut(&id) else {
            return;
        };
        let Some(sid) = conn.session else {
            return;
        };
        let v5 = conn.is_v5();
        if v5 {
            if let Some(alias) = publish.properties.topic_alias {
                // 5.0 [MQTT-3.2.2-17], [MQTT-3.3.2-9]: not above the Topic Alias Maximum we sent.
                // Fault: off by one (breaks 5.0 [MQTT-3.2.2-17], [MQTT-3.3.2-12]).
                if (alias > cfg.topic_alias_maximum) != cfg.faults.alias_maximum_off_by_one {
                    return self.protocol_error(
                        id,
                        ReasonCode::TOPIC_ALIAS_INVALID,
                        "Topic Alias above the Topic Alias Maximum",
                    );
                }
                let i = usize::from(alias) - 1;
                if publish.topic.is_empty() {
                    match conn.in_aliases.get(i).cloned().flatten() {
                        Some(topic) => publish.topic = topic,
                        None => {
                            return self.protocol_error(
                                id,
                                ReasonCode::PROTOCOL_ERROR,
                                "Topic Alias with no mapping and an empty Topic Name",
                            )
                        }
                    }
                } else {
                    if conn.in_aliases.len() <= i {
                        conn.in_aliases.resize(i + 1, None);
                    }
                    conn.in_aliases[i] = Some(publish.topic.clone());
                }
                publish.properties.topic_alias = None;
            }
            // 5.0 [MQTT-3.3.4-6].
            if !publish.properties.subscription_identifiers.is_empty() {
                return self.protocol_error(
                    id,
                    ReasonCode::PROTOCOL_ERROR,
                    "a PUBLISH from a client carries no Subscription Identifier",
                );
            }
            // 5.0 [MQTT-3.2.2-11] (fault: accepted, and so are RETAIN and size).
            if publish.qos > cfg.maximum_qos && !cfg.faults.ignore_own_limits {
                return self.protocol_error(
                    id,
                    ReasonCode::QOS_NOT_SUPPORTED,
                    "QoS above the Maximum QoS",
                );
            }
            // 5.0 [MQTT-3.2.2-14].
            if publish.retain && !cfg.retain_available && !cfg.faults.ignore_own_limits {
                return self.protocol_error(
                    id,
                    ReasonCode::RETAIN_NOT_SUPPORTED,
                    "retained messages are not supported",
                );
            }
        }
        let Some(session) = self.sessions.get_mut(&sid) else {
            return;
        };
        let pid = publish.packet_id;
        let duplicate = publish.qos == QoS::ExactlyOnce
            && pid.is_some_and(|p| session.incoming_qos2.contains_key(&p.get()));
        // 5.0 [MQTT-3.3.4-7]: QoS 1 and 2 PUBLISHes unacknowledged beyond Receive Maximum.
        if v5
            && publish.qos != QoS::AtMostOnce
            && !duplicate
            && session.incoming_qos2.len() >= usize::from(cfg.receive_maximum)
            && !cfg.faults.ignore_server_receive_maximum
        {
            return self.protocol_error(
                id,
                ReasonCode::RECEIVE_MAXIMUM_EXCEEDED,
                "Receive Maximum exceeded",
            );
        }
        let allowed = self.acl.is_open()
            || self
                .acl
                .can_publish(conn.user.as_deref(), &conn.client_id, &publish.topic);
        if duplicate {
            // 5.0 [MQTT-4.3.3-10], 3.1.1 [MQTT-4.3.3-2]: PUBREC again, no second delivery.
            if let Some(pid) = pid {
                let ack = PubRec::new(self.ack_id(pid));
                if let Some(conn) = self.conns.get_mut(&id) {
                    conn.send(Packet::PubRec(ack), &mut self.outbox);
                }
            }
            return;
        }
        let qos = publish.qos;
        if allowed {
            let mut props = publish.properties;
            if props.is_empty() {
                props = Props::none();
            }
            let msg = Message {
                topic: publish.topic,
                payload: publish.payload,
                qos,
                // 3.1.1 has no way to refuse RETAIN: without retain support it is ignored.
                retain: publish.retain && cfg.retain_available,
                props,
                received_at: self.now,
                origin: Some(sid),
            };
            self.route(Arc::new(msg));
        } else {
            tracing::debug!(conn = id.0, "PUBLISH not authorized");
        }
        let Some(pid) = pid else {
            return; // QoS 0: no answer (3.1.1 and 5.0 [MQTT-3.3.4-1]).
        };
        // 3.1.1 [MQTT-3.3.5-2]: an unauthorized PUBLISH is acknowledged normally; 5.0 answers
        // 0x87 Not authorized.
        let code = if allowed || !v5 {
            ReasonCode::SUCCESS
        } else {
            ReasonCode::NOT_AUTHORIZED
        };
        let reason = (code != ReasonCode::SUCCESS)
            .then(|| self.problem_info(id, "not authorized to publish to this topic"))
            .flatten();
        let ack_pid = self.ack_id(pid);
        let packet = if qos == QoS::AtLeastOnce {
            // 3.1.1 [MQTT-4.3.2-2], 5.0 [MQTT-4.3.2-4].
            let mut ack = PubAck::new(ack_pid);
            ack.reason_code = code;
            ack.properties.reason_string = reason;
            Packet::PubAck(ack)
        } else {
            // 3.1.1 [MQTT-4.3.3-2], 5.0 [MQTT-4.3.3-8]; after a failure code the id is free
            // again (5.0 [MQTT-4.3.3-9]).
            if code.is_success() {
                if let Some(s) = self.sessions.get_mut(&sid) {
                    s.incoming_qos2.insert(pid.get(), ());
                }
            }
            let mut ack = PubRec::new(ack_pid);
            ack.reason_code = code;
            ack.properties.reason_string = reason;
            Packet::PubRec(ack)
        };
        if let Some(conn) = self.conns.get_mut(&id) {
            conn.send(packet, &mut self.outbox);
        }
    }

    /// PUBREL from the client: 3.1.1 [MQTT-4.3.3-2], 5.0 [MQTT-4.3.3-11].
    pub(super) fn on_pubrel(&mut self, id: ConnectionId, pid: u16) {
        let Some(conn) = self.conns.get(&id) else {
            return;
        };
        let known = conn
            .session
            .and_then(|sid| self.sessions.get_mut(&sid))
            .is_some_and(|s| s.incoming_qos2.remove(&pid).is_some());
        let v5 = conn.is_v5();
        let Some(pid) = PacketId::new(pid) else {
            return;
        };
        if !known && self.config.faults.close_on_unknown_pubrel {
            self.protocol_error(id, ReasonCode::PROTOCOL_ERROR, "fault: unknown PUBREL");
            return;
        }
        // 3.1.1 [MQTT-4.3.3-2], 5.0 [MQTT-4.3.3-11]: PUBCOMP, known id or not.
        let mut comp = PubComp::new(self.ack_id(pid));
        if !known && v5 {
            comp.reason_code = ReasonCode::PACKET_IDENTIFIER_NOT_FOUND;
        }
        if let Some(conn) = self.conns.get_mut(&id) {
            conn.send(Packet::PubComp(comp), &mut self.outbox);
        }
    }

    /// PUBACK from the client ends a QoS 1 delivery (3.1.1 [MQTT-4.3.2-1], 5.0
    /// [MQTT-4.3.2-3]).
    pub(super) fn on_puback(&mut self, id: ConnectionId, pid: u16) {
        let Some(sid) = self.conns.get(&id).and_then(|c| c.session) else {
            return;
        };
        if let Some(s) = self.sessions.get_mut(&sid) {
            if s.inflight
                .get(&pid)
                .is_some_and(|e| e.delivery.qos == QoS::AtLeastOnce)
            {
                s.inflight.remove(&pid);
            }
        }
        self.pump(sid);
    }

    /// PUBREC from the client: PUBREL follows (5.0 [MQTT-4.3.3-4]), or after a failure code
    /// the message counts as acknowledged (5.0 [MQTT-4.4.0-2]).
    pub(super) fn on_pubrec(&mut self, id: ConnectionId, pid: u16, code: ReasonCode) {
        let Some(conn) = self.conns.get_mut(&id) else {
            return;
        };
        let Some(sid) = conn.session else {
            return;
        };
        let Some(s) = self.sessions.get_mut(&sid) else {
            return;
        };
        let Some(packet_id) = PacketId::new(pid) else {
            return;
        };
        let mut rel = PubRel::new(packet_id);
        match s.inflight.get_mut(&pid) {
            Some(e) if e.delivery.qos == QoS::ExactlyOnce => {
                if !code.is_success() {
                    s.inflight.remove(&pid);
                    return self.pump(sid);
                }
                e.state = OutState::Released;
            }
            _ if conn.is_v5() => rel.reason_code = ReasonCode::PACKET_IDENTIFIER_NOT_FOUND,
            _ => {}
        }
        conn.send(Packet::PubRel(rel), &mut self.outbox);
    }

    /// PUBCOMP from the client ends a QoS 2 delivery (5.0 [MQTT-4.3.3-5]).
    pub(super) fn on_pubcomp(&mut self, id: ConnectionId, pid: u16) {
        let Some(sid) = self.conns.get(&id).and_then(|c| c.session) else {
            return;
        };
        if let Some(s) = self.sessions.get_mut(&sid) {
            if s.inflight
                .get(&pid)
                .is_some_and(|e| e.state == OutState::Released)
            {
                s.inflight.remove(&pid);
            }
        }
        self.pump(sid);
    }

    /// Stores a retained message and hands a message to every matching subscription (3.1.1
    /// and 5.0 [MQTT-4.5.0-1]).
    pub(super) fn route(&mut self, msg: Arc<Message>) {
        let faults = self.config.faults;
        if msg.retain {
            if msg.payload.is_empty() {
                // 3.1.1 [MQTT-3.3.1-10], [MQTT-3.3.1-11]; 5.0 [MQTT-3.3.1-6], [MQTT-3.3.1-7].
                if !faults.no_retain_clear {
                    self.retained.clear(&msg.topic);
                }
            } else if !faults.no_retain_store {
                // 3.1.1 [MQTT-3.3.1-5], 5.0 [MQTT-3.3.1-5]. The payload is copied so that the
                // stored message does not hold on to the connection's read buffer.
                let stored = Message {
                    payload: Bytes::copy_from_slice(&msg.payload),
                    origin: None,
                    ..(*msg).clone()
                };
                if !self
                    .retained
                    .set(Arc::new(stored), self.config.max_retained_messages)
                {
                    tracing::warn!(topic = %msg.topic, "retained store full");
                }
            }
        }
        let mut hits = std::mem::take(&mut self.hits);
        hits.clear();
        let sessions = &self.sessions;
        self.tree.matches(
            &msg.topic,
            !faults.dollar_topics_match_wildcards,
            &|sid| sessions.get(&sid).is_some_and(|s| s.conn.is_some()),
            &mut hits,
        );
        // 5.0 [MQTT-3.8.3-3]: No Local.
        // (fault: ignored).
        hits.retain(|h| {
            faults.ignore_no_local || !(h.entry.opts.no_local && Some(h.entry.sid) == msg.origin)
        });
        hits.sort_unstable_by_key(|h| (h.shared, h.entry.sid));
        let mut i = 0;
        while i < hits.len() {
            let h = hits[i];
            let mut granted = h.entry.opts.qos;
            let mut as_published = h.entry.opts.retain_as_published;
            let mut sub_ids: Vec<u32> = h.entry.sub_id.into_iter().collect();
            let mut j = i + 1;
            // Overlapping subscriptions of one session: one copy at the highest QoS with every
            // Subscription Identifier (3.1.1 [MQTT-3.3.5-1]; 5.0 [MQTT-3.3.4-2],
            // [MQTT-3.3.4-3], [MQTT-3.3.4-4]). Shared subscriptions get copies of their own.
            while !h.shared && j < hits.len() && !hits[j].shared && hits[j].entry.sid == h.entry.sid
            {
                let e = hits[j].entry;
                granted = granted.max(e.opts.qos);
                as_published |= e.opts.retain_as_published;
                sub_ids.extend(e.sub_id);
                j += 1;
            }
            // 3.1.1 [MQTT-3.8.4-6], 5.0 [MQTT-3.8.4-8] (fault: the publisher's QoS).
            let qos = if faults.deliver_at_publish_qos {
                msg.qos
            } else {
                msg.qos.min(granted)
            };
            // 3.1.1 [MQTT-3.3.1-9]; 5.0 [MQTT-3.3.1-12], [MQTT-3.3.1-13] (fault: as published).
            let retain = msg.retain && (as_published || faults.forward_retain_flag);
            self.deliver(
                h.entry.sid,
                Delivery {
                    msg: msg.clone(),
                    qos,
                    retain,
                    sub_ids,
                },
            );
            i = j;
        }
        self.hits = hits;
    }

    /// Hands one message to one session: sent now, or queued (offline, or no send quota).
    pub(super) fn deliver(&mut self, sid: SessionId, d: Delivery) {
        let Some(session) = self.sessions.get_mut(&sid) else {
            return;
        };
        let max_queued = self.config.max_queued_messages;
        let Some(conn) = session.conn.and_then(|c| self.conns.get_mut(&c)) else {
            // 3.1.1 [MQTT-3.1.2-5]: QoS 1 and 2 are queued for offline sessions; QoS 0 only if
            // configured.
            if d.qos != QoS::AtMostOnce || self.config.queue_qos0_offline {
                session.enqueue(d, max_queued);
            }
            return;
        };
        let faults = &self.config.faults;
        if d.qos == QoS::AtMostOnce {
            write_publish(
                conn,
                &d,
                None,
                false,
                self.now,
                faults,
                &mut self.outbox,
                true,
            );
        } else if session.queue.is_empty()
            && session.inflight.len() < usize::from(conn.client_receive_max)
        {
            send_new(
                session,
                conn,
                d,
                self.now,
                faults,
                &mut self.outbox,
                max_queued,
            );
        } else {
            // 5.0 [MQTT-3.3.4-9], [MQTT-4.9.0-2]: no send quota left. A full queue drops the
            // message and counts it (session state within the server's capacity).
            if !session.enqueue(d, max_queued) && faults.uncounted_queue_drop {
                session.dropped -= 1; // Fault: the loss is not counted.
            }
        }
    }

    /// Sends queued messages while the client's Receive Maximum allows.
    pub(super) fn pump(&mut self, sid: SessionId) {
        let Some(session) = self.sessions.get_mut(&sid) else {
            return;
        };
        let Some(conn) = session.conn.and_then(|c| self.conns.get_mut(&c)) else {
            return;
        };
        let faults = &self.config.faults;
        let max_queued = self.config.max_queued_messages;
        while let Some(front) = session.queue.front() {
            if front.msg.expired(self.now) && !faults.deliver_expired {
                // 5.0 [MQTT-3.3.2-5] (fault: delivered).
                session.queue.pop_front();
                continue;
            }
            if front.qos != QoS::AtMostOnce
                && session.inflight.len() >= usize::from(conn.client_receive_max)
            {
                break; // 5.0 [MQTT-4.9.0-2]
            }
            let Some(d) = session.queue.pop_front() else {
                break;
            };
            if d.qos == QoS::AtMostOnce {
                write_publish(
                    conn,
                    &d,
                    None,
                    false,
                    self.now,
                    faults,
                    &mut self.outbox,
                    true,
                );
            } else {
                send_new(
                    session,
                    conn,
                    d,
                    self.now,
                    faults,
                    &mut self.outbox,
                    max_queued,
                );
            }
        }
    }

    /// Re-sends unacknowledged PUBLISHes (DUP=1) and PUBRELs with their original packet ids, in
    /// their original order (3.1.1 [MQTT-4.4.0-1], 5.0 [MQTT-4.4.0-1]).
    pub(super) fn resend_inflight(&mut self, sid: SessionId) {
        let Some(session) = self.sessions.get_mut(&sid) else {
            return;
        };
        let Some(conn) = session.conn.and_then(|c| self.conns.get_mut(&c)) else {
            return;
        };
        let faults = &self.config.faults;
        for pid in session.inflight_in_order() {
            let Some(e) = session.inflight.get(&pid) else {
                continue;
            };
            let Some(packet_id) = PacketId::new(pid) else {
                continue;
            };
            match e.state {
                OutState::Published => {
                    // 3.1.1 and 5.0 [MQTT-3.3.1-1] (fault: DUP=0). Once sent, a message no longer
                    // expires (5.0 [MQTT-4.3.3-7]).
                    let dup = !faults.no_dup_on_redelivery;
                    if !write_publish(
                        conn,
                        &e.delivery,
                        Some(pid),
                        dup,
                        self.now,
                        faults,
                        &mut self.outbox,
                        false,
                    ) {
                        session.inflight.remove(&pid);
                    }
                }
                OutState::Released => {
                    conn.send(Packet::PubRel(PubRel::new(packet_id)), &mut self.outbox);
                }
            }
        }
    }
}

/// Sends a QoS 1 or 2 message with a new packet id and records it in flight.
fn send_new(
    session: &mut super::session::Session,
    conn: &mut Conn,
    d: Delivery,
    now: Millis,
    faults: &Faults,
    out: &mut Outbox,
    max_queued: usize,
) {
    if d.msg.expired(now) && !faults.deliver_expired {
        return; // 5.0 [MQTT-3.3.2-5] (fault: delivered)
    }
    let Some(pid) = session.allocate_pid() else {
        session.enqueue(d, max_queued);
        return;
    };
    // 3.1.1 [MQTT-4.3.2-1], [MQTT-4.3.3-1]; 5.0 [MQTT-4.3.2-2], [MQTT-4.3.3-2]: DUP 0.
    if write_publish(conn, &d, Some(pid), false, now, faults, out, true) {
        let seq = session.next_seq;
        session.next_seq += 1;
        session.inflight.insert(
            pid,
            Inflight {
                seq,
                delivery: d,
                state: OutState::Published,
            },
        );
    }
}

/// Encodes a PUBLISH of `d` for `conn`. Returns false if it was not sent: expired (when
/// `check_expiry`), or larger than the client's Maximum Packet Size, in which case it is
/// dropped as if delivered (5.0 [MQTT-3.1.2-25]).
#[allow(clippy::too_many_arguments)]
fn write_publish(
    conn: &mut Conn,
    d: &Delivery,
    pid: Option<u16>,
    dup: bool,
    now: Millis,
    faults: &Faults,
    out: &mut Outbox,
    check_expiry: bool,
) -> bool {
    let msg = &d.msg;
    if check_expiry && msg.expired(now) && !faults.deliver_expired {
        return false; // 5.0 [MQTT-3.3.2-5] (fault: delivered)
    }
    let p = conn.protocol();
    let mut publish = Publish {
        dup: dup && d.qos != QoS::AtMostOnce,
        qos: d.qos,
        retain: d.retain,
        topic: msg.topic.clone(),
        packet_id: pid.and_then(PacketId::new),
        properties: Props::none(),
        payload: msg.payload.clone(),
    };
    let mut new_alias = None;
    if p.is_v5()
        && (!msg.props.is_empty()
            || !d.sub_ids.is_empty()
            || conn.client_alias_max > 0
            || faults.aliases_beyond_client_maximum)
    {
        // 5.0 [MQTT-3.3.2-4], [MQTT-3.3.2-15], [MQTT-3.3.2-16], [MQTT-3.3.2-20]: forwarded
        // unchanged; [MQTT-3.3.2-17], [MQTT-3.3.2-18]: User Properties unchanged and in order.
        let mut props = (*msg.props).clone();
        if !faults.no_message_expiry_decrement {
            // 5.0 [MQTT-3.3.2-6] (fault: forwarded as received).
            props.message_expiry_interval = msg.remaining_expiry(now);
        }
        if faults.drop_user_properties {
            props.user_properties = UserProperties::new();
        } else if faults.reorder_user_properties {
            let mut pairs: Vec<(String, String)> = props
                .user_properties
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            pairs.reverse();
            props.user_properties = UserProperties::from_pairs(pairs);
        }
        if faults.append_user_property {
            props.user_properties.push("touchstone-broker", "appended");
        }
        if !faults.drop_subscription_identifiers {
            // 5.0 [MQTT-3.3.4-3] (fault: none).
            props.subscription_identifiers = d.sub_ids.clone();
        }
        // Topic aliases: 5.0 [MQTT-3.1.2-26], [MQTT-3.1.2-27], [MQTT-3.3.2-11]: only up to the
        // client's Topic Alias Maximum, first come first served, never replaced.
        // Fault: two more than allowed (breaks 5.0 [MQTT-3.1.2-26], [MQTT-3.1.2-27]).
        let alias_max = if faults.aliases_beyond_client_maximum {
            conn.client_alias_max.saturating_add(2)
        } else {
            conn.client_alias_max
        };
        if alias_max > 0 {
            if let Some(&alias) = conn.out_aliases.get(&msg.topic) {
                props.topic_alias = Some(alias);
                publish.topic = touchstone_codec::Str::new();
            } else if conn.out_aliases.len() < usize::from(alias_max) {
                let alias = conn.out_aliases.len() as u16 + 1;
                props.topic_alias = Some(alias);
                new_alias = Some(alias);
            }
        }
        publish.properties = props.into();
    }
    let packet = Packet::Publish(publish);
    if p.is_v5()
        && packet.encoded_len(p) > conn.client_max_packet
        && !faults.ignore_client_maximum_packet_size
    {
        // 5.0 [MQTT-3.1.2-24], [MQTT-3.1.2-25] (fault: sent anyway).
        tracing::debug!(
            conn = conn.id.0,
            "dropping a PUBLISH larger than the client's Maximum Packet Size"
        );
        return false;
    }
    if let Some(alias) = new_alias {
        conn.out_aliases.insert(msg.topic.clone(), alias);
    }
    if conn.out.capacity() - conn.out.len() < 64 + msg.payload.len() {
        conn.out.reserve(4096 + msg.payload.len());
    }
    packet.encode_unchecked(p, &mut conn.out);
    conn.mark(out);
    true
}
