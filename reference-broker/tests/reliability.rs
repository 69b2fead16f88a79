//! Reliability: hundreds of random client disconnects and reconnects with persistent sessions,
//! driving the core directly. Counts that no QoS 1 message is lost and no QoS 2 message is lost
//! or duplicated, for publishers and subscribers of 3.1.1 and 5.0.

use std::collections::{BTreeMap, HashMap, HashSet};

use bytes::Bytes;
use touchstone_broker::core::testkit::TestBroker;
use touchstone_broker::core::ConnectionId;
use touchstone_broker::Config;
use touchstone_codec::{
    Connect, Packet, PacketId, Protocol, PubAck, PubComp, PubRec, PubRel, Publish, QoS, Subscribe,
    Subscription,
};

/// xorshift64*: a seeded, reproducible generator.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum PubState {
    Sent,
    Released,
}

/// A client with a persistent session, as a well-behaved MQTT client keeps it.
struct Client {
    id: String,
    protocol: Protocol,
    conn: Option<ConnectionId>,
    // Publisher state: packet id -> (message number, QoS, state), in send order.
    outgoing: BTreeMap<u64, (u16, u32, QoS, PubState)>,
    next_seq: u64,
    // Subscriber state: QoS 2 packet ids received and not yet released.
    pending_rel: HashSet<u16>,
    // Message number -> times delivered.
    received: HashMap<u32, u32>,
    // Packets read from the connection and not yet processed.
    backlog: std::collections::VecDeque<Packet>,
}

impl Client {
    fn new(id: &str, protocol: Protocol) -> Client {
        Client {
            id: id.into(),
            protocol,
            conn: None,
            outgoing: BTreeMap::new(),
            next_seq: 0,
            pending_rel: HashSet::new(),
            received: HashMap::new(),
            backlog: Default::default(),
        }
    }

    fn connect(&mut self, t: &mut TestBroker, first: bool) {
        let mut c = Connect {
            client_id: self.id.as_str().into(),
            // 3.1.1 sessions persist only with Clean Session 0 from the start.
            clean_start: first && self.protocol.is_v5(),
            keep_alive: 0,
            ..Connect::default()
        };
        if self.protocol.is_v5() {
            c.properties.session_expiry_interval = Some(u32::MAX);
            c.properties.receive_maximum = Some(8);
        }
        let (conn, ack) = t.connect(self.protocol, c);
        assert!(ack.reason_code.is_success());
        assert_eq!(ack.session_present, !first, "{}", self.id);
        self.conn = Some(conn);
        // 3.1.1 [MQTT-4.4.0-1], 5.0 [MQTT-4.4.0-1]: the client re-sends too, in order.
        let resend: Vec<(u16, u32, QoS, PubState)> = self.outgoing.values().copied().collect();
        for (pid, n, qos, state) in resend {
            let packet = match state {
                PubState::Sent => {
                    let mut p = message(n, qos, pid);
                    p.dup = true;
                    Packet::Publish(p)
                }
                PubState::Released => Packet::PubRel(PubRel::new(PacketId::new(pid).unwrap())),
            };
            t.send(conn, &packet);
        }
    }

    fn publish(&mut self, t: &mut TestBroker, n: u32, qos: QoS) -> bool {
        let Some(conn) = self.conn else { return false };
        let used: HashSet<u16> = self.outgoing.values().map(|e| e.0).collect();
        if used.len() >= 8 {
            return false; // stay within the broker's Receive Maximum
        }
        let pid = (1..=u16::MAX).find(|p| !used.contains(p)).unwrap();
        self.outgoing
            .insert(self.next_seq, (pid, n, qos, PubState::Sent));
        self.next_seq += 1;
        t.send(conn, &Packet::Publish(message(n, qos, pid)));
        true
    }

    /// Reads what arrived; processes `limit` packets at most (the rest are lost with the
    /// connection if it is then dropped).
    fn process(&mut self, t: &mut TestBroker, limit: usize) {
        let Some(conn) = self.conn else { return };
        self.backlog.extend(t.take(conn));
        assert!(
            t.closed(conn).is_none(),
            "{} was closed: {:?}",
            self.id,
            t.closed(conn)
        );
        let n = limit.min(self.backlog.len());
        let packets: Vec<Packet> = self.backlog.drain(..n).collect();
        for packet in packets {
            let reply = match packet {
                Packet::Publish(p) => {
                    let n: u32 = std::str::from_utf8(&p.payload).unwrap().parse().unwrap();
                    match p.qos {
                        QoS::AtLeastOnce => {
                            *self.received.entry(n).or_default() += 1;
                            Some(Packet::PubAck(PubAck::new(p.packet_id.unwrap())))
                        }
                        QoS::ExactlyOnce => {
                            let pid = p.packet_id.unwrap();
                            if self.pending_rel.insert(pid.get()) {
                                *self.received.entry(n).or_default() += 1;
                            } else {
                                assert!(p.dup, "a repeated QoS 2 PUBLISH must carry DUP");
                            }
                            Some(Packet::PubRec(PubRec::new(pid)))
                        }
                        QoS::AtMostOnce => None,
                    }
                }
                Packet::PubRel(r) => {
                    self.pending_rel.remove(&r.packet_id.get());
                    Some(Packet::PubComp(PubComp::new(r.packet_id)))
                }
                Packet::PubAck(a) => {
                    let key = self.find(a.packet_id.get(), QoS::AtLeastOnce);
                    self.outgoing
                        .remove(&key.expect("PUBACK for a message in flight"));
                    None
                }
                Packet::PubRec(r) => {
                    let key = self
                        .find(r.packet_id.get(), QoS::ExactlyOnce)
                        .expect("PUBREC for a message in flight");
                    self.outgoing.get_mut(&key).unwrap().3 = PubState::Released;
                    Some(Packet::PubRel(PubRel::new(r.packet_id)))
                }
                Packet::PubComp(c) => {
                    let key = self
                        .find(c.packet_id.get(), QoS::ExactlyOnce)
                        .expect("PUBCOMP for a message in flight");
                    self.outgoing.remove(&key);
                    None
                }
                Packet::SubAck(_) => None,
                other => panic!("{}: unexpected {other:?}", self.id),
            };
            if let Some(r) = reply {
                t.send(conn, &r);
            }
        }
    }

    fn find(&self, pid: u16, qos: QoS) -> Option<u64> {
        self.outgoing
            .iter()
            .find(|(_, e)| e.0 == pid && e.2 == qos)
            .map(|(k, _)| *k)
    }

    fn drop_conn(&mut self, t: &mut TestBroker) {
        if let Some(c) = self.conn.take() {
            t.drop_conn(c);
        }
        self.backlog.clear();
    }
}

fn message(n: u32, qos: QoS, pid: u16) -> Publish {
    let mut p = Publish::new("rel/data", Bytes::from(n.to_string()));
    p.qos = qos;
    p.packet_id = PacketId::new(pid);
    p
}

fn run(seed: u64, steps: usize) -> (usize, usize) {
    let mut rng = Rng(seed);
    let mut t = TestBroker::new(Config::default());
    let mut subs: Vec<Client> = vec![
        Client::new("sub-v5", Protocol::V5),
        Client::new("sub-v311", Protocol::V3_1_1),
        Client::new("sub-v5-b", Protocol::V5),
    ];
    let mut pubs: Vec<Client> = vec![
        Client::new("pub-v5", Protocol::V5),
        Client::new("pub-v311", Protocol::V3_1_1),
    ];
    for s in &mut subs {
        s.connect(&mut t, true);
        let conn = s.conn.unwrap();
        t.send(
            conn,
            &Packet::Subscribe(Subscribe {
                packet_id: PacketId::new(1).unwrap(),
                properties: Default::default(),
                filters: vec![Subscription::new("rel/#", QoS::ExactlyOnce)],
            }),
        );
        s.process(&mut t, usize::MAX);
    }
    for p in &mut pubs {
        p.connect(&mut t, true);
    }
    let mut sent: HashMap<u32, QoS> = HashMap::new();
    let mut next = 0u32;
    let mut disconnects = 0;
    for _ in 0..steps {
        match rng.below(10) {
            0..=3 => {
                let p = &mut pubs[rng.below(2) as usize];
                let qos = if rng.chance(50) {
                    QoS::AtLeastOnce
                } else {
                    QoS::ExactlyOnce
                };
                if p.publish(&mut t, next, qos) {
                    sent.insert(next, qos);
                    next += 1;
                }
            }
            4..=7 => {
                let all = subs.len() + pubs.len();
                let i = rng.below(all as u64) as usize;
                let c = if i < subs.len() {
                    &mut subs[i]
                } else {
                    &mut pubs[i - subs.len()]
                };
                let limit = rng.below(6) as usize;
                c.process(&mut t, limit);
                if rng.chance(40) && c.conn.is_some() {
                    // Whatever was not processed is lost with the connection.
                    c.drop_conn(&mut t);
                    disconnects += 1;
                } else {
                    c.process(&mut t, usize::MAX);
                }
            }
            _ => {
                for c in subs.iter_mut().chain(pubs.iter_mut()) {
                    if c.conn.is_none() && rng.chance(50) {
                        c.connect(&mut t, false);
                    }
                }
            }
        }
        t.advance(rng.below(50));
    }
    // Reconnect everyone and let the exchanges finish.
    for c in subs.iter_mut().chain(pubs.iter_mut()) {
        if c.conn.is_none() {
            c.connect(&mut t, false);
        }
    }
    for _ in 0..200 {
        for c in subs.iter_mut().chain(pubs.iter_mut()) {
            c.process(&mut t, usize::MAX);
        }
    }
    for p in &pubs {
        assert!(
            p.outgoing.is_empty(),
            "{} still has {} messages in flight",
            p.id,
            p.outgoing.len()
        );
    }
    let stats = t.broker.stats();
    assert_eq!(
        (stats.inflight, stats.queued, stats.dropped),
        (0, 0, 0),
        "{stats:?}"
    );
    for s in &subs {
        assert!(s.pending_rel.is_empty());
        for (n, qos) in &sent {
            let got = s.received.get(n).copied().unwrap_or(0);
            match qos {
                QoS::AtLeastOnce => {
                    assert!(got >= 1, "{}: QoS 1 message {n} lost (seed {seed})", s.id)
                }
                QoS::ExactlyOnce => assert_eq!(
                    got, 1,
                    "{}: QoS 2 message {n} delivered {got} times (seed {seed})",
                    s.id
                ),
                QoS::AtMostOnce => {}
            }
        }
        assert_eq!(
            s.received.len(),
            sent.len(),
            "{}: unexpected messages",
            s.id
        );
    }
    (sent.len(), disconnects)
}

#[test]
fn no_qos1_loss_and_no_qos2_loss_or_duplicate_across_random_reconnects() {
    let mut messages = 0;
    let mut disconnects = 0;
    for seed in [1, 2, 3, 0xDEAD_BEEF] {
        let (m, d) = run(seed, 1500);
        messages += m;
        disconnects += d;
    }
    println!("{messages} messages, {disconnects} random disconnects");
    assert!(disconnects >= 400, "only {disconnects} disconnects");
    assert!(messages >= 1000, "only {messages} messages");
}
