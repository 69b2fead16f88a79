//! The checks after every call, and the final one: every obligation met.

use touchstone_codec::{Connect, Packet, PacketId, Protocol, PubAck, PubComp, PubRec, QoS};

use super::model::*;
use super::runner::{Res, Runner};

impl Runner {
    /// Checks after each call: sessions that ended, counts and limits.
    pub(super) fn end_of_call(&mut self) -> Res {
        if let Some((id, p)) = self.resend.iter().find(|(_, p)| !p.is_empty()) {
            let cid = self
                .conns
                .get(id)
                .and_then(|c| c.client.clone())
                .unwrap_or_default();
            let lossy = self.sessions.get(&cid).is_some_and(|s| s.lossy);
            if !lossy {
                let m = format!(
                    "{cid} reconnected to its session but in-flight messages {p:?} were not re-sent (3.1.1 [MQTT-4.4.0-1]; 5.0 [MQTT-4.4.0-1])"
                );
                return self.fail(m);
            }
        }
        self.resend.clear();
        // Forget the models of sessions that ended, or that never began (only when the set of
        // sessions may differ).
        let epoch = self.broker.session_epoch();
        if epoch != self.session_epoch || self.sessions.len() != self.broker.session_views().count()
        {
            self.session_epoch = epoch;
            let broker = &self.broker;
            self.sessions.retain(|cid, _| broker.has_session(cid));
        }
        let stats = self.broker.stats();
        if stats.connections != self.conns.len() {
            return self.fail(format!(
                "stats().connections is {} with {} connections open",
                stats.connections,
                self.conns.len()
            ));
        }
        if stats.retained > self.config.max_retained_messages {
            return self.fail(format!(
                "{} retained messages, above max_retained_messages {}",
                stats.retained, self.config.max_retained_messages
            ));
        }
        let mut total = 0;
        for info in self.broker.session_views() {
            total += info.subscriptions;
            if info.queued > self.config.max_queued_messages {
                return self.fail(format!(
                    "session {} queues {} messages, above max_queued_messages {}",
                    info.client_id, info.queued, self.config.max_queued_messages
                ));
            }
            if let Some(s) = self.sessions.get(info.client_id) {
                if !s.uncertain && s.subs.len() != info.subscriptions {
                    return self.fail(format!(
                        "session {} holds {} subscriptions; the SUBACKs and UNSUBACKs it got leave {}: {:?}",
                        info.client_id,
                        info.subscriptions,
                        s.subs.len(),
                        s.subs.keys().collect::<Vec<_>>()
                    ));
                }
            }
        }
        if stats.subscriptions != total {
            return self.fail(format!(
                "stats().subscriptions is {} but the sessions hold {total}",
                stats.subscriptions
            ));
        }
        Ok(())
    }

    /// The final check: every session with obligations reconnects (Clean Start 0) and
    /// acknowledges all it gets; then every obligation must have been met.
    pub(super) fn settle(&mut self) -> Res {
        let mut cids: Vec<String> = self
            .sessions
            .iter()
            .filter(|(_, s)| {
                !s.uncertain && s.expect.values().any(|e| e.obligation && !e.delivered)
            })
            .map(|(c, _)| c.clone())
            .collect();
        cids.sort();
        for cid in cids {
            if !self.broker.has_session(&cid) {
                continue;
            }
            let p = self
                .sessions
                .get(&cid)
                .and_then(|s| s.protocol)
                .unwrap_or(Protocol::V5);
            let mut c = Connect {
                clean_start: false,
                client_id: cid.as_str().into(),
                ..Connect::default()
            };
            if p.is_v5() {
                c.properties.session_expiry_interval = Some(u32::MAX);
            }
            let id = self.open(0);
            self.collect(None)?;
            self.send_packet(id, p, &Packet::Connect(Box::new(c)))?;
            for _ in 0..64 {
                let Some(s) = self.sessions.get(&cid) else {
                    break;
                };
                if !self.conns.contains_key(&id) {
                    break;
                }
                let acks: Vec<Packet> = s
                    .flows
                    .iter()
                    .map(|(&pid, f)| {
                        let pid = PacketId::new(pid).unwrap_or(PacketId::MIN);
                        match (f.qos, f.state) {
                            (QoS::AtLeastOnce, _) => Packet::PubAck(PubAck::new(pid)),
                            (_, FlowState::Published) => Packet::PubRec(PubRec::new(pid)),
                            (_, FlowState::Released) => Packet::PubComp(PubComp::new(pid)),
                        }
                    })
                    .collect();
                if acks.is_empty() {
                    break;
                }
                for a in &acks {
                    self.send_packet(id, p, a)?;
                }
            }
            let dropped = self
                .broker
                .sessions()
                .into_iter()
                .find(|s| s.client_id == cid)
                .map_or(0, |s| s.dropped);
            let Some(s) = self.sessions.get(&cid) else {
                continue;
            };
            if s.uncertain || s.lossy {
                continue;
            }
            let mut lost: Vec<u64> = s
                .expect
                .iter()
                .filter(|(t, e)| {
                    e.obligation
                        && !e.delivered
                        && e.dropped_at == dropped
                        && !self.ambiguous.contains(t)
                })
                .map(|(t, _)| *t)
                .collect();
            if !lost.is_empty() {
                lost.sort_unstable();
                let m = format!(
                    "accepted QoS 1/2 messages {lost:?} never reached {cid}, whose session has a matching subscription, dropped nothing and still exists (3.1.1 [MQTT-3.1.2-5], [MQTT-4.5.0-1]; 5.0 [MQTT-4.5.0-1])"
                );
                return self.fail(m);
            }
        }
        Ok(())
    }
}
