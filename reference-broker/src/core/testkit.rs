//! A scripted harness around [`Broker`] for tests and fuzzers: open connections, send packets
//! or raw bytes, move the clock, and read back the decoded packets each connection received.

use std::collections::{HashMap, HashSet};

use bytes::BytesMut;
use touchstone_codec::{ConnAck, Connect, Decoder, Framer, Packet, Protocol};

use super::{Action, Broker, CloseReason, ConnectionId, Event, Millis};
use crate::config::Config;

/// What one test connection has received.
#[derive(Debug)]
struct Peer {
    protocol: Protocol,
    framer: Framer,
    packets: Vec<Packet>,
    closed: Option<CloseReason>,
}

/// A broker driven by a script, with injected time.
#[derive(Debug)]
pub struct TestBroker {
    /// The broker under test.
    pub broker: Broker,
    /// The current time.
    pub now: Millis,
    next_conn: u64,
    peers: HashMap<ConnectionId, Peer>,
    undecodable: HashSet<ConnectionId>,
}

impl TestBroker {
    /// A broker with `config` at time 0.
    pub fn new(config: Config) -> TestBroker {
        TestBroker {
            broker: Broker::new(config),
            now: 0,
            next_conn: 1,
            peers: HashMap::new(),
            undecodable: HashSet::new(),
        }
    }

    /// Opens a connection that will speak `protocol`.
    pub fn open(&mut self, protocol: Protocol) -> ConnectionId {
        let conn = ConnectionId(self.next_conn);
        self.next_conn += 1;
        self.peers.insert(
            conn,
            Peer {
                protocol,
                framer: Framer::new(Decoder::new(protocol)),
                packets: Vec::new(),
                closed: None,
            },
        );
        self.broker
            .handle(self.now, Event::Opened { conn, peer: None });
        self.collect();
        conn
    }

    /// Encodes `packet` (unchecked, so invalid packets can be sent) and delivers it.
    pub fn send(&mut self, conn: ConnectionId, packet: &Packet) {
        let protocol = self.peers.get(&conn).map_or(Protocol::V5, |p| p.protocol);
        let mut buf = BytesMut::new();
        packet.encode_unchecked(protocol, &mut buf);
        self.send_raw(conn, &buf);
    }

    /// Delivers raw bytes.
    pub fn send_raw(&mut self, conn: ConnectionId, bytes: &[u8]) {
        self.broker
            .handle(self.now, Event::Received { conn, data: bytes });
        self.collect();
    }

    /// The peer closes the connection.
    pub fn drop_conn(&mut self, conn: ConnectionId) {
        self.broker.handle(self.now, Event::Closed { conn });
        if let Some(p) = self.peers.get_mut(&conn) {
            p.closed.get_or_insert(CloseReason::ClientDisconnect);
        }
        self.collect();
    }

    /// Moves the clock forward by `ms` and ticks (firing every timer due on the way, in order).
    pub fn advance(&mut self, ms: Millis) {
        let end = self.now + ms;
        while let Some(d) = self.broker.next_deadline() {
            if d > end {
                break;
            }
            self.now = self.now.max(d);
            self.broker.handle(self.now, Event::Tick);
            self.collect();
        }
        self.now = end;
        self.broker.handle(self.now, Event::Tick);
        self.collect();
    }

    /// Takes the packets `conn` received since the last call.
    pub fn take(&mut self, conn: ConnectionId) -> Vec<Packet> {
        self.peers
            .get_mut(&conn)
            .map(|p| std::mem::take(&mut p.packets))
            .unwrap_or_default()
    }

    /// Takes the packets and checks there is exactly one.
    pub fn take_one(&mut self, conn: ConnectionId) -> Packet {
        let mut v = self.take(conn);
        assert_eq!(v.len(), 1, "expected one packet, got {v:?}");
        v.remove(0)
    }

    /// Why the broker closed the connection, if it did.
    pub fn closed(&self, conn: ConnectionId) -> Option<&CloseReason> {
        self.peers.get(&conn).and_then(|p| p.closed.as_ref())
    }

    /// True if the broker sent bytes that did not decode (a broker bug).
    pub fn sent_garbage(&self, conn: ConnectionId) -> bool {
        self.undecodable.contains(&conn)
    }

    /// True if the broker sent undecodable bytes to any connection.
    pub fn sent_garbage_anywhere(&self) -> bool {
        !self.undecodable.is_empty()
    }

    /// Opens a connection, sends `connect` and returns the connection and the CONNACK.
    pub fn connect(&mut self, protocol: Protocol, connect: Connect) -> (ConnectionId, ConnAck) {
        let conn = self.open(protocol);
        self.send(conn, &Packet::Connect(Box::new(connect)));
        let mut packets = self.take(conn);
        let ack = match packets.first() {
            Some(Packet::ConnAck(a)) => (**a).clone(),
            other => panic!("expected CONNACK, got {other:?}"),
        };
        packets.remove(0);
        if let Some(p) = self.peers.get_mut(&conn) {
            p.packets = packets;
        }
        (conn, ack)
    }

    /// Connects a client with `client_id` and Clean Start (Clean Session) `clean`, and 5.0
    /// Session Expiry Interval `expiry` when `protocol` is 5.0. Panics unless accepted.
    pub fn client(
        &mut self,
        protocol: Protocol,
        client_id: &str,
        clean: bool,
        expiry: u32,
    ) -> ConnectionId {
        let mut c = Connect {
            client_id: client_id.into(),
            clean_start: clean,
            ..Connect::default()
        };
        if protocol.is_v5() && expiry > 0 {
            c.properties.session_expiry_interval = Some(expiry);
        }
        let (conn, ack) = self.connect(protocol, c);
        assert!(ack.reason_code.is_success(), "refused: {ack:?}");
        conn
    }

    fn collect(&mut self) {
        while let Some(action) = self.broker.poll_action() {
            match action {
                Action::Send { conn, bytes } => {
                    let Some(peer) = self.peers.get_mut(&conn) else {
                        continue;
                    };
                    peer.framer.push(&bytes);
                    loop {
                        match peer.framer.next_packet() {
                            Ok(Some(p)) => peer.packets.push(p),
                            Ok(None) => break,
                            Err(_) => {
                                self.undecodable.insert(conn);
                                peer.framer.take_buffered();
                                break;
                            }
                        }
                    }
                }
                Action::Close { conn, reason } => {
                    if let Some(peer) = self.peers.get_mut(&conn) {
                        peer.closed = Some(reason);
                    }
                }
            }
        }
    }
}
