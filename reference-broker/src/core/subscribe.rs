//! SUBSCRIBE and UNSUBSCRIBE: options, granted QoS, authorization, optional features, and the
//! retained messages sent at subscribe time.

use std::sync::Arc;

use touchstone_codec::topic::{has_wildcards, split_shared};
use touchstone_codec::{
    Packet, QoS, ReasonCode, RetainHandling, SubAck, Subscribe, UnsubAck, Unsubscribe,
};

use super::connect::split_filter;
use super::message::{Delivery, Message};
use super::session::SessionSub;
use super::tree::Entry;
use super::{Broker, ConnectionId};

impl Broker {
    pub(super) fn on_subscribe(&mut self, id: ConnectionId, sub: Subscribe) {
        let Some(conn) = self.conns.get(&id) else {
            return;
        };
        let Some(sid) = conn.session else {
            return;
        };
        let v5 = conn.is_v5();
        let sub_id = sub.properties.subscription_identifier;
        if v5 && sub_id.is_some() && !self.config.subscription_identifiers {
            // 5.0 section 3.8.2.1.2: a Protocol Error when not supported.
            return self.protocol_error(
                id,
                ReasonCode::SUBSCRIPTION_IDENTIFIERS_NOT_SUPPORTED,
                "Subscription Identifiers are not supported",
            );
        }
        let user = conn.user.clone();
        let client_id = conn.client_id.clone();
        let cfg = &self.config;
        let faults = cfg.faults;
        let now = self.now;
        let mut codes = Vec::with_capacity(sub.filters.len());
        let wants_qos2 = sub
            .filters
            .iter()
            .any(|f| f.options.qos == QoS::ExactlyOnce);
        let mut retained: Vec<(Arc<Message>, QoS, Option<u32>)> = Vec::new();
        let Some(session) = self.sessions.get_mut(&sid) else {
            return;
        };
        // 3.1.1 [MQTT-3.8.4-4], 5.0 [MQTT-3.8.4-5]: each filter in turn, one SUBACK.
        for (n, s) in sub.filters.into_iter().enumerate() {
            let (share, inner) = match (v5, split_shared(&s.filter)) {
                (true, Ok(Some((name, inner)))) => (Some(name), inner),
                _ => (None, &*s.filter),
            };
            let code = if share.is_some() && !cfg.shared_subscriptions {
                ReasonCode::SHARED_SUBSCRIPTIONS_NOT_SUPPORTED
            } else if has_wildcards(inner) && !cfg.wildcard_subscriptions {
                // 3.1.1 [MQTT-3.8.3-2].
                if v5 {
                    ReasonCode::WILDCARD_SUBSCRIPTIONS_NOT_SUPPORTED
                } else {
                    ReasonCode::UNSPECIFIED_ERROR
                }
            } else if !self
                .acl
                .can_subscribe(user.as_deref(), &client_id, &s.filter)
            {
                if v5 {
                    ReasonCode::NOT_AUTHORIZED
                } else {
                    ReasonCode::UNSPECIFIED_ERROR
                }
            } else if faults.first_filter_only && n > 0 {
                // Fault: the filter is not acted on, yet granted.
                ReasonCode(s.options.qos.min(cfg.maximum_qos).as_u8())
            } else {
                // 5.0 [MQTT-3.2.2-10]: accepted whatever the QoS, granted at most Maximum QoS
                // (fault: QoS 2 whatever was asked).
                let granted = if faults.grant_higher_qos {
                    QoS::ExactlyOnce
                } else {
                    s.options.qos.min(cfg.maximum_qos)
                };
                let mut opts = s.options;
                opts.qos = granted;
                if faults.resubscribe_ignored {
                    // Fault: an identical filter keeps its old options.
                    if let Some(old) = session.subscriptions.get(&s.filter) {
                        opts = old.opts;
                    }
                }
                // 3.1.1 [MQTT-3.8.4-3], 5.0 [MQTT-3.8.4-3]: an identical filter replaces the
                // subscription.
                let old = session.subscriptions.insert(
                    s.filter.clone(),
                    SessionSub {
                        opts,
                        sub_id,
                        shared: share.is_some(),
                    },
                );
                // The same filter string read the other way (`$share/g/a` is a shared
                // subscription in 5.0 and a plain filter in 3.1.1, and a session may be resumed
                // with either version): the old subscription leaves the tree, and the new one is
                // new (found by the broker_core fuzzer: the tree kept both).
                let existed = match old {
                    Some(o) if o.shared != share.is_some() => {
                        let (old_share, old_inner) = split_filter(&s.filter, o.shared);
                        self.tree.remove(old_inner, old_share, sid);
                        false
                    }
                    Some(_) => true,
                    None => false,
                };
                self.tree.insert(inner, share, Entry { sid, opts, sub_id });
                // Retained messages: 3.1.1 [MQTT-3.3.1-6], [MQTT-3.8.4-3]; 5.0 Retain Handling
                // [MQTT-3.3.1-9] to [MQTT-3.3.1-11], [MQTT-3.8.4-4]. None for shared
                // subscriptions (5.0 section 4.8.2).
                let send = share.is_none()
                    && match opts.retain_handling {
                        RetainHandling::SendAtSubscribe => true,
                        RetainHandling::SendAtSubscribeIfNew => !existed,
                        RetainHandling::DoNotSend => false,
                    };
                if send {
                    let dollar_rule = !faults.dollar_topics_match_wildcards;
                    for m in self.retained.matching(inner, now, dollar_rule) {
                        retained.push((m, granted, sub_id));
                    }
                }
                ReasonCode(granted.as_u8())
            };
            codes.push(code);
        }
        // 3.1.1 [MQTT-3.8.4-1], [MQTT-3.8.4-2], [MQTT-3.9.3-1]; 5.0 [MQTT-3.8.4-1],
        // [MQTT-3.8.4-2], [MQTT-3.8.4-6], [MQTT-3.9.3-1].
        let ack = SubAck {
            packet_id: self.ack_id(sub.packet_id),
            properties: Default::default(),
            reason_codes: codes,
        };
        if let Some(conn) = self.conns.get_mut(&id) {
            if faults.bad_suback_flags && wants_qos2 {
                // Fault: reserved flags 0010 (breaks 3.1.1 [MQTT-2.2.2-1], 5.0 [MQTT-2.1.3-1]).
                let p = conn.protocol();
                if let Ok(mut bytes) = Packet::SubAck(ack.clone()).to_bytes(p) {
                    bytes[0] |= 0x02;
                    conn.send_raw(&bytes, &mut self.outbox);
                }
            } else {
                conn.send(Packet::SubAck(ack), &mut self.outbox);
            }
        }
        for (msg, granted, sub_id) in retained {
            let qos = if faults.deliver_at_publish_qos {
                msg.qos
            } else {
                msg.qos.min(granted)
            };
            // 3.1.1 [MQTT-3.3.1-8]: RETAIN 1 on messages sent for a new subscription (fault: 0).
            let d = Delivery {
                msg,
                qos,
                retain: !faults.retained_without_retain_flag,
                sub_ids: sub_id.into_iter().collect(),
            };
            self.deliver(sid, d);
        }
    }

    pub(super) fn on_unsubscribe(&mut self, id: ConnectionId, unsub: Unsubscribe) {
        let Some(conn) = self.conns.get(&id) else {
            return;
        };
        let Some(sid) = conn.session else {
            return;
        };
        let v5 = conn.is_v5();
        let Some(session) = self.sessions.get_mut(&sid) else {
            return;
        };
        let mut codes = Vec::new();
        // 3.1.1 [MQTT-3.10.4-1], 5.0 [MQTT-3.10.4-1]: filters compared character by character.
        for (n, f) in unsub.filters.iter().enumerate() {
            if self.config.faults.first_filter_only && n > 0 {
                if v5 {
                    codes.push(ReasonCode::SUCCESS);
                }
                continue;
            }
            let code = match session.subscriptions.remove(f.as_str()) {
                Some(sub) => {
                    let (share, inner) = split_filter(f, sub.shared);
                    // 3.1.1 [MQTT-3.10.4-2], 5.0 [MQTT-3.10.4-2]; messages in flight finish
                    // (3.1.1 [MQTT-3.10.4-3], 5.0 [MQTT-3.10.4-3]).
                    self.tree.remove(inner, share, sid);
                    ReasonCode::SUCCESS
                }
                None => ReasonCode::NO_SUBSCRIPTION_EXISTED,
            };
            if v5 {
                codes.push(code);
            }
        }
        if self.config.faults.forget_inflight_on_unsubscribe {
            session.inflight.clear();
        }
        // 3.1.1 [MQTT-3.10.4-4], [MQTT-3.10.4-5]; 5.0 [MQTT-3.10.4-4], [MQTT-3.10.4-5],
        // [MQTT-3.11.3-1].
        let ack = UnsubAck {
            packet_id: self.ack_id(unsub.packet_id),
            properties: Default::default(),
            reason_codes: codes,
        };
        if let Some(conn) = self.conns.get_mut(&id) {
            conn.send(Packet::UnsubAck(ack), &mut self.outbox);
        }
    }
}
