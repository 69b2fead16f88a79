//! Deliveries and flows: what the broker sent to each connection.

use touchstone_codec::{Packet, Protocol, QoS};

use super::model::*;
use super::runner::{Res, Runner, Violation};

impl Runner {
    pub(super) fn apply_outputs(&mut self, id: u64, packets: &[Packet]) -> Res {
        let Some(c) = self.conns.get(&id) else {
            return Ok(());
        };
        let Some(cid) = c.client.clone() else {
            return Ok(());
        };
        let receive_max = c.receive_max;
        let proto = c.protocol.unwrap_or(Protocol::V3_1_1);
        let step = self.step_no;
        let fail = |m: String| Err(Violation { step, message: m });
        let mut pending = self.resend.remove(&id);
        let ambiguous = &self.ambiguous;
        let s = self.sessions.entry(cid.clone()).or_default();
        for x in packets {
            match x {
                Packet::Publish(x) => {
                    // The payload's tag identifies the message in its flow even when it became
                    // ambiguous as an application message.
                    let raw_tag = tag_of(&x.payload);
                    let tag = raw_tag.filter(|t| !ambiguous.contains(t));
                    if s.uncertain {
                        continue;
                    }
                    if let Some(pid) = x.packet_id {
                        let pid = pid.get();
                        match s.flows.get(&pid) {
                            Some(f) => {
                                let resent =
                                    pending.as_mut().is_some_and(|p| p.remove(&(pid, false)));
                                if f.state == FlowState::Released {
                                    return fail(format!(
                                        "PUBLISH re-sent to {cid} with packet id {pid} after its PUBREC (3.1.1 and 5.0 section 4.3.3)"
                                    ));
                                }
                                if !x.dup || f.tag != raw_tag || !resent {
                                    return fail(format!(
                                        "PUBLISH to {cid} with packet id {pid} already in use (3.1.1 [MQTT-2.3.1-2]; 5.0 [MQTT-2.2.1-3]); DUP {}",
                                        u8::from(x.dup)
                                    ));
                                }
                                continue;
                            }
                            None => {
                                if x.dup {
                                    return fail(format!(
                                        "a new QoS {} PUBLISH to {cid} carries DUP 1 (3.1.1 [MQTT-4.3.2-1]; 5.0 [MQTT-4.3.2-1])",
                                        x.qos.as_u8()
                                    ));
                                }
                                if let Some(r) = receive_max.filter(|_| proto.is_v5()) {
                                    if s.flows.len() >= usize::from(r) {
                                        return fail(format!(
                                            "a new QoS {} PUBLISH to {cid} with {} unacknowledged already, above its Receive Maximum {r} (5.0 [MQTT-3.3.4-9], [MQTT-4.9.0-2])",
                                            x.qos.as_u8(),
                                            s.flows.len()
                                        ));
                                    }
                                }
                                s.flows.insert(
                                    pid,
                                    Flow {
                                        qos: x.qos,
                                        tag: raw_tag,
                                        state: FlowState::Published,
                                    },
                                );
                            }
                        }
                    }
                    let Some(tag) = tag else { continue };
                    let Some(e) = s.expect.get_mut(&tag) else {
                        if !x.retain {
                            return fail(format!(
                                "message t:{tag} delivered live to {cid}, which had no matching subscription when it was published (topic {:?}; [MQTT-4.7.2-1], 5.0 [MQTT-3.8.3-3])",
                                &*x.topic
                            ));
                        }
                        continue;
                    };
                    e.delivered = true;
                    if !x.retain && !e.shared {
                        if let Some(q) = e.qos {
                            if q != x.qos {
                                return fail(format!(
                                    "message t:{tag} delivered to {cid} at QoS {} instead of {} (3.1.1 [MQTT-3.8.4-6]; 5.0 [MQTT-3.8.4-8])",
                                    x.qos.as_u8(),
                                    q.as_u8()
                                ));
                            }
                        }
                    }
                    if x.qos == QoS::ExactlyOnce && !e.retained && !e.shared && !x.retain {
                        e.qos2_flows += 1;
                        if e.qos2_flows > 1 {
                            return fail(format!(
                                "QoS 2 message t:{tag} delivered to {cid} a second time, in a new flow (3.1.1 [MQTT-4.3.3-2]; 5.0 [MQTT-4.3.3-10])"
                            ));
                        }
                    }
                }
                Packet::PubRel(r) => {
                    if let Some(p) = pending.as_mut() {
                        p.remove(&(r.packet_id.get(), true));
                    }
                }
                _ => {}
            }
        }
        if let Some(p) = pending.filter(|p| !p.is_empty()) {
            if !s.lossy {
                let mut v: Vec<_> = p.into_iter().collect();
                v.sort_unstable();
                return fail(format!(
                    "{cid} reconnected to its session but these in-flight messages were not re-sent (packet id, PUBREL): {v:?} (3.1.1 [MQTT-4.4.0-1]; 5.0 [MQTT-4.4.0-1])"
                ));
            }
        }
        Ok(())
    }
}
