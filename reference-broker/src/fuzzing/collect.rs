//! Feeding bytes to the broker, and collecting and checking what it sends back.

use crate::fxhash::FxHashMap as HashMap;

use bytes::BytesMut;
use touchstone_codec::{peek_protocol, Decoder, ErrorKind, Packet, Protocol};

use super::model::*;
use super::runner::{Res, Runner};
use crate::core::{Action, ConnectionId, Event};

impl Runner {
    pub(super) fn send_packet(&mut self, id: u64, p: Protocol, packet: &Packet) -> Res {
        let mut buf = BytesMut::new();
        packet.encode_unchecked(p, &mut buf);
        self.send_bytes(id, &buf, &[])
    }

    /// Feeds `data` in chunks, checking after each.
    pub(super) fn send_bytes(&mut self, id: u64, data: &[u8], chunks: &[u8]) -> Res {
        let mut off = 0;
        let mut k = 0;
        loop {
            let size = match chunks.get(k % chunks.len().max(1)) {
                Some(&n) if n > 0 => usize::from(n),
                _ => data.len() - off,
            };
            k += 1;
            let end = (off + size).min(data.len());
            let chunk = &data[off..end];
            off = end;
            if !self.conns.contains_key(&id) {
                return Ok(());
            }
            let inputs = self.mirror_input(id, chunk);
            self.handle(Event::Received {
                conn: ConnectionId(id),
                data: chunk,
            });
            self.collect(Some((id, inputs)))?;
            if off >= data.len() {
                return Ok(());
            }
        }
    }

    /// Decodes what the broker will decode of `chunk` (the same decoder, the same buffer).
    pub(super) fn mirror_input(&mut self, id: u64, chunk: &[u8]) -> Vec<Packet> {
        let max = self
            .config
            .maximum_packet_size
            .map_or(touchstone_codec::MAX_PACKET_SIZE, |n| n as usize);
        let Some(c) = self.conns.get_mut(&id) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        if c.input_dead {
            return out;
        }
        c.mirror.push(chunk);
        loop {
            if c.protocol.is_none() {
                match peek_protocol(c.mirror.buffered()) {
                    Ok(Some(p)) => {
                        c.protocol = Some(p);
                        c.mirror
                            .set_decoder(Decoder::new(p).with_max_packet_size(max));
                    }
                    Ok(None) => return out,
                    Err(e) => {
                        if e.kind == ErrorKind::UnsupportedProtocol {
                            c.out_protocol = Some(Protocol::V3_1_1);
                        }
                        c.input_dead = true;
                        return out;
                    }
                }
            }
            match c.mirror.next_packet() {
                Ok(Some(p)) => {
                    // The client's 5.0 limits bind what the broker sends from this very event
                    // on (the CONNACK first: found by the fuzzer, a CONNACK too large for a
                    // 16-byte Maximum Packet Size is not sent, and the resumed session's
                    // PUBLISHes follow), so they are known before its outputs are checked.
                    if let Packet::Connect(x) = &p {
                        if c.connect.is_none() && c.protocol.is_some_and(|v| v.is_v5()) {
                            c.receive_max = x.properties.receive_maximum;
                            c.max_packet = x.properties.maximum_packet_size;
                        }
                    }
                    out.push(p)
                }
                Ok(None) => return out,
                Err(_) => {
                    c.input_dead = true;
                    return out;
                }
            }
        }
    }

    /// Takes the broker's actions and checks everything that happened in this call. `input`:
    /// the connection that received bytes, and the packets the broker decoded from them.
    pub(super) fn collect(&mut self, input: Option<(u64, Vec<Packet>)>) -> Res {
        // Sessions' drop counts before the event whose outputs these are: a message the event
        // itself dropped (a full queue) must count as dropped, so the count is the one noted
        // before the broker handled it, not one taken now.
        let before = std::mem::take(&mut self.drops_before);
        let result = self.collect_with(input, &before);
        self.drops_before = before;
        result
    }

    pub(super) fn collect_with(
        &mut self,
        input: Option<(u64, Vec<Packet>)>,
        before: &HashMap<String, u64>,
    ) -> Res {
        let mut outputs: Vec<(u64, Vec<Packet>)> = Vec::new();
        let mut closed: Vec<u64> = Vec::new();
        // One buffer for every call's actions (taken and put back; lost only on a violation).
        let mut actions = std::mem::take(&mut self.actions);
        actions.extend(self.broker.drain_actions());
        for action in actions.drain(..) {
            match action {
                Action::Send { conn, bytes } => {
                    let id = conn.0;
                    if closed.contains(&id) {
                        return self.fail(format!("bytes sent to connection {id} after Close"));
                    }
                    let Some(c) = self.conns.get_mut(&id) else {
                        // The client closed it; the broker cannot know yet. Nothing to check.
                        continue;
                    };
                    c.out.extend_from_slice(&bytes);
                    let p = c.out_protocol.or(c.protocol).unwrap_or(Protocol::V3_1_1);
                    let mut dec = Decoder::new(p);
                    if let Some(n) = c.max_packet.filter(|_| p.is_v5()) {
                        dec = dec.with_max_packet_size(n as usize);
                    }
                    let mut packets = Vec::new();
                    loop {
                        match dec.decode(&mut c.out) {
                            Ok(Some(x)) => packets.push(x),
                            Ok(None) => break,
                            Err(e) => {
                                return self.fail(format!(
                                    "connection {id} ({p}) received bytes the strict decoder rejects: {e}"
                                ))
                            }
                        }
                    }
                    match outputs.iter_mut().find(|(i, _)| *i == id) {
                        Some((_, v)) => v.extend(packets),
                        None => outputs.push((id, packets)),
                    }
                }
                Action::Close { conn, .. } => closed.push(conn.0),
            }
        }
        self.actions = actions;
        // Wire rules per connection.
        for (id, packets) in &outputs {
            let Some(c) = self.conns.get_mut(id) else {
                continue;
            };
            let p = c.out_protocol.or(c.protocol).unwrap_or(Protocol::V3_1_1);
            for x in packets {
                let t = x.packet_type().name();
                if c.got_disconnect {
                    let m = format!("{t} sent to connection {id} after DISCONNECT");
                    return self.fail(m);
                }
                let allowed = match x {
                    Packet::ConnAck(_) => {
                        if c.got_connack {
                            let m = format!("a second CONNACK on connection {id}");
                            return self.fail(m);
                        }
                        c.got_connack = true;
                        true
                    }
                    Packet::Auth(_) => p.is_v5(),
                    // Nothing but AUTH before CONNACK, even when no CONNACK could fit the
                    // client's Maximum Packet Size (5.0 [MQTT-3.2.0-1], [MQTT-3.14.0-1]; the
                    // server then sends nothing).
                    Packet::Disconnect(_) => {
                        c.got_disconnect = true;
                        p.is_v5() && c.got_connack
                    }
                    Packet::Publish(_)
                    | Packet::PubAck(_)
                    | Packet::PubRec(_)
                    | Packet::PubRel(_)
                    | Packet::PubComp(_)
                    | Packet::SubAck(_)
                    | Packet::UnsubAck(_)
                    | Packet::PingResp => c.got_connack,
                    _ => false,
                };
                if !allowed {
                    let m = format!(
                        "the broker sent {t} to a {p} client (connection {id}) {}",
                        if c.got_connack { "" } else { "before CONNACK" }
                    );
                    return self.fail(m);
                }
            }
        }
        if self.trace {
            if let Some((id, inputs)) = &input {
                for x in inputs {
                    eprintln!("   conn {id} -> broker: {x:?}");
                }
            }
            for (id, packets) in &outputs {
                for x in packets {
                    eprintln!("   broker -> conn {id}: {x:?}");
                }
            }
            for id in &closed {
                eprintln!("   broker closes conn {id}");
            }
        }
        // The input's effects, in order, paired with the answers.
        if let Some((id, inputs)) = input {
            let answers = outputs
                .iter()
                .find(|(i, _)| *i == id)
                .map_or(&[][..], |(_, v)| v.as_slice());
            let was_closed = closed.contains(&id);
            self.apply_inputs(id, &inputs, answers, was_closed, before)?;
        }
        // Deliveries and flows.
        for (id, packets) in &outputs {
            self.apply_outputs(*id, packets)?;
        }
        for id in &closed {
            self.conns.remove(id);
        }
        self.end_of_call()
    }

    pub(super) fn session_mut(&mut self, cid: &str) -> &mut SessionModel {
        // Looked up before inserting: `entry` would allocate the key on every call.
        if !self.sessions.contains_key(cid) {
            self.sessions
                .insert(cid.to_string(), SessionModel::default());
        }
        self.sessions.get_mut(cid).expect("inserted above")
    }
}
