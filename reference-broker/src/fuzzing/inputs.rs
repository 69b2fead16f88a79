//! The effects of the packets a client sent, paired with the broker's answers.

use crate::fxhash::{FxHashMap as HashMap, FxHashSet as HashSet};

use touchstone_codec::{Packet, Protocol, Publish, QoS};

use super::model::*;
use super::naive::{naive_filter, naive_matches};
use super::runner::{Res, Runner};

impl Runner {
    pub(super) fn apply_inputs(
        &mut self,
        id: u64,
        inputs: &[Packet],
        answers: &[Packet],
        closed: bool,
        dropped_before: &HashMap<String, u64>,
    ) -> Res {
        let mut connacks = answers.iter().filter_map(|x| match x {
            Packet::ConnAck(a) => Some(a),
            _ => None,
        });
        let mut acks = answers.iter().filter_map(|x| match x {
            Packet::PubAck(a) => Some((a.packet_id, a.reason_code)),
            Packet::PubRec(a) => Some((a.packet_id, a.reason_code)),
            _ => None,
        });
        let mut subacks = answers.iter().filter_map(|x| match x {
            Packet::SubAck(a) => Some(a),
            _ => None,
        });
        let mut unsubacks = answers.iter().filter_map(|x| match x {
            Packet::UnsubAck(a) => Some(a),
            _ => None,
        });
        // Closed while several packets were processed: where the broker stopped is unknown.
        if closed && inputs.len() > 1 {
            let cid = self.conns.get(&id).and_then(|c| c.client.clone());
            if let Some(cid) = cid {
                self.session_mut(&cid).uncertain = true;
            }
        }
        for packet in inputs {
            let Some(c) = self.conns.get_mut(&id) else {
                return Ok(());
            };
            let p = c.protocol.unwrap_or(Protocol::V3_1_1);
            match packet {
                Packet::Connect(x) if c.connect.is_none() => {
                    c.connect = Some(x.clone());
                    if p.is_v5() {
                        c.receive_max = x.properties.receive_maximum;
                        c.max_packet = x.properties.maximum_packet_size;
                    }
                    if let Some(w) = &x.will {
                        if let Some(t) = tag_of(&w.payload) {
                            self.ambiguous.insert(t);
                        }
                    }
                    match connacks.next() {
                        Some(ack) => self.on_connack(id, ack)?,
                        None if !x.client_id.is_empty() => {
                            // Accepted without a CONNACK we could see (too large for the client:
                            // the broker then closes the connection), or authenticating: the
                            // session may have changed unseen (a Clean Start discards it).
                            self.session_mut(&x.client_id).uncertain = true;
                        }
                        None => {}
                    }
                }
                Packet::Auth(_) if c.client.is_none() && c.connect.is_some() => {
                    if let Some(ack) = connacks.next() {
                        self.on_connack(id, ack)?;
                    }
                }
                Packet::Publish(x) => {
                    if c.connect.is_none() {
                        continue;
                    }
                    // A connection the model cannot bind to a session (a 3.1.1 identifier
                    // assigned by the broker, a CONNACK too large for the client) may still
                    // publish: its messages may be delivered, nothing more is known.
                    let cid = c.client.clone();
                    let mut topic = x.topic.to_string();
                    if let Some(a) = x.properties.topic_alias.filter(|_| p.is_v5()) {
                        if topic.is_empty() {
                            match c.in_aliases.get(&a) {
                                Some(t) => topic = t.clone(),
                                None => continue,
                            }
                        } else if a <= self.config.topic_alias_maximum {
                            c.in_aliases.insert(a, topic.clone());
                        }
                    }
                    let tag = tag_of(&x.payload);
                    let exempt = x.properties.message_expiry_interval.is_some();
                    let Some(cid) = cid else {
                        if let Some(t) = tag {
                            self.new_message(t, &topic, x, "", false, exempt, dropped_before);
                        }
                        continue;
                    };
                    if x.qos == QoS::AtMostOnce {
                        if let Some(t) = tag {
                            self.new_message(t, &topic, x, &cid, false, exempt, dropped_before);
                        }
                        continue;
                    }
                    let Some(pid) = x.packet_id else { continue };
                    let Some((ack_pid, code)) = acks.next() else {
                        continue;
                    };
                    let uncertain = self.session_mut(&cid).uncertain;
                    if ack_pid != pid && !uncertain {
                        return self.fail(format!(
                            "PUBLISH packet id {pid} acknowledged with packet id {ack_pid} (3.1.1 [MQTT-2.3.1-6]; 5.0 [MQTT-2.2.1-5])"
                        ));
                    }
                    let s = self.session_mut(&cid);
                    let duplicate =
                        x.qos == QoS::ExactlyOnce && s.incoming_qos2.contains(&pid.get());
                    if duplicate || !code.is_success() {
                        continue;
                    }
                    if x.qos == QoS::ExactlyOnce {
                        s.incoming_qos2.insert(pid.get());
                    }
                    if let Some(t) = tag {
                        self.new_message(t, &topic, x, &cid, true, exempt, dropped_before);
                    }
                }
                Packet::PubRel(x) => {
                    if let Some(cid) = c.client.clone() {
                        self.session_mut(&cid)
                            .incoming_qos2
                            .remove(&x.packet_id.get());
                    }
                }
                Packet::PubAck(x) => {
                    if let Some(cid) = c.client.clone() {
                        let s = self.session_mut(&cid);
                        let pid = x.packet_id.get();
                        if s.flows.get(&pid).is_some_and(|f| f.qos == QoS::AtLeastOnce) {
                            s.flows.remove(&pid);
                        }
                    }
                }
                Packet::PubRec(x) => {
                    if let Some(cid) = c.client.clone() {
                        let v5 = p.is_v5();
                        let s = self.session_mut(&cid);
                        let pid = x.packet_id.get();
                        if let Some(f) = s.flows.get_mut(&pid) {
                            if f.qos == QoS::ExactlyOnce {
                                if v5 && !x.reason_code.is_success() {
                                    s.flows.remove(&pid);
                                } else {
                                    f.state = FlowState::Released;
                                }
                            }
                        }
                    }
                }
                Packet::PubComp(x) => {
                    if let Some(cid) = c.client.clone() {
                        let s = self.session_mut(&cid);
                        let pid = x.packet_id.get();
                        if s.flows
                            .get(&pid)
                            .is_some_and(|f| f.state == FlowState::Released)
                        {
                            s.flows.remove(&pid);
                        }
                    }
                }
                Packet::Subscribe(x) => {
                    let Some(cid) = c.client.clone() else {
                        continue;
                    };
                    let Some(ack) = subacks.next() else { continue };
                    let uncertain = self.session_mut(&cid).uncertain;
                    if uncertain {
                        continue;
                    }
                    if ack.packet_id != x.packet_id {
                        return self.fail(format!(
                            "SUBSCRIBE packet id {} answered by SUBACK {} (3.1.1 [MQTT-3.8.4-2]; 5.0 [MQTT-3.8.4-2])",
                            x.packet_id, ack.packet_id
                        ));
                    }
                    if ack.reason_codes.len() != x.filters.len() {
                        return self.fail(format!(
                            "SUBACK has {} codes for {} filters (3.1.1 [MQTT-3.8.4-4]; 5.0 [MQTT-3.8.4-6])",
                            ack.reason_codes.len(),
                            x.filters.len()
                        ));
                    }
                    for (f, code) in x.filters.iter().zip(&ack.reason_codes) {
                        if !code.is_success() {
                            continue;
                        }
                        let Some(granted) = QoS::from_u8(code.as_u8()) else {
                            return self.fail(format!("SUBACK success code {code:?} is not a QoS"));
                        };
                        if granted > f.options.qos {
                            return self.fail(format!(
                                "SUBACK grants QoS {} for {:?} requested at QoS {} (3.1.1 [MQTT-3.8.4-5]; 5.0 [MQTT-3.8.4-6])",
                                granted.as_u8(),
                                &*f.filter,
                                f.options.qos.as_u8()
                            ));
                        }
                        let shared = p.is_v5() && f.filter.starts_with("$share/");
                        self.session_mut(&cid).subs.insert(
                            f.filter.to_string(),
                            SubModel {
                                qos: granted,
                                no_local: f.options.no_local,
                                shared,
                            },
                        );
                    }
                }
                Packet::Unsubscribe(x) => {
                    let Some(cid) = c.client.clone() else {
                        continue;
                    };
                    let Some(ack) = unsubacks.next() else {
                        continue;
                    };
                    let s = self.session_mut(&cid);
                    if s.uncertain {
                        continue;
                    }
                    if ack.packet_id != x.packet_id {
                        return self.fail(format!(
                            "UNSUBSCRIBE packet id {} answered by UNSUBACK {} (3.1.1 [MQTT-3.10.4-4]; 5.0 [MQTT-3.10.4-4])",
                            x.packet_id, ack.packet_id
                        ));
                    }
                    for f in &x.filters {
                        s.subs.remove(&**f);
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }

    pub(super) fn on_connack(&mut self, id: u64, ack: &touchstone_codec::ConnAck) -> Res {
        let Some(c) = self.conns.get_mut(&id) else {
            return Ok(());
        };
        if !ack.reason_code.is_success() {
            return Ok(());
        }
        let Some(connect) = c.connect.clone() else {
            return Ok(());
        };
        let p = c.protocol.unwrap_or(Protocol::V3_1_1);
        let cid = if connect.client_id.is_empty() {
            match &ack.properties.assigned_client_identifier {
                Some(a) => a.to_string(),
                None => return Ok(()), // 3.1.1: assigned internally, not tracked
            }
        } else {
            connect.client_id.to_string()
        };
        c.client = Some(cid.clone());
        let lossy = c.max_packet.is_some();
        // Acknowledgements may vanish below this size (5.0 [MQTT-3.1.2-24]): no pairing.
        let tiny = c.max_packet.is_some_and(|n| n < 64);
        // Did a session exist before? The model's own knowledge: a session model that was
        // not reset, confirmed by the broker before this step.
        let s = self.session_mut(&cid);
        if !ack.session_present {
            *s = SessionModel::default();
        } else if !s.uncertain && !s.flows.is_empty() {
            let pending: HashSet<(u16, bool)> = s
                .flows
                .iter()
                .map(|(&pid, f)| (pid, f.state == FlowState::Released))
                .collect();
            self.resend.insert(id, pending);
        }
        let s = self.session_mut(&cid);
        s.lossy |= lossy;
        s.uncertain |= tiny;
        s.protocol = Some(p);
        if connect.clean_start && ack.session_present {
            return self.fail(format!(
                "CONNACK Session Present 1 after Clean Start 1 for {cid} (3.1.1 [MQTT-3.2.2-1]; 5.0 [MQTT-3.2.2-2])"
            ));
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn new_message(
        &mut self,
        tag: u64,
        topic: &str,
        x: &Publish,
        origin: &str,
        accepted: bool,
        exempt: bool,
        dropped_before: &HashMap<String, u64>,
    ) {
        if !self.accepted.insert(tag) {
            self.ambiguous.insert(tag);
        }
        if self.ambiguous.contains(&tag) {
            return;
        }
        for (cid, s) in self.sessions.iter_mut() {
            if s.uncertain {
                continue;
            }
            let mut plain: Option<QoS> = None;
            let mut shared = false;
            for (filter, sub) in &s.subs {
                let inner = if sub.shared {
                    match naive_filter(filter, true) {
                        Some((_, inner)) => inner,
                        None => continue,
                    }
                } else {
                    filter.as_str()
                };
                if !naive_matches(inner, topic) || (sub.no_local && cid == origin) {
                    continue;
                }
                if sub.shared {
                    shared = true;
                } else {
                    plain = Some(plain.map_or(sub.qos, |q| q.max(sub.qos)));
                }
            }
            if plain.is_none() && !shared {
                continue;
            }
            let qos = plain.map(|g| g.min(x.qos));
            let e = s.expect.entry(tag).or_insert(Expect {
                qos,
                shared,
                obligation: false,
                delivered: false,
                dropped_at: dropped_before.get(cid).copied().unwrap_or(0),
                retained: x.retain,
                qos2_flows: 0,
            });
            // Delivered at QoS 0 (granted 0): may be dropped, e.g. for an offline session.
            e.obligation |= accepted && qos.is_some_and(|q| q != QoS::AtMostOnce) && !exempt;
        }
    }
}
