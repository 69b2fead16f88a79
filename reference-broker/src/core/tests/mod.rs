//! Unit tests of the core: encoded packets in, decoded packets out, with injected time.

mod auth;
mod connect;
mod errors;
mod faults;
mod flow;
mod publish;
mod retain;
mod subscribe;
mod time;

use bytes::Bytes;
use touchstone_codec::{
    Connect, Packet, PacketId, Protocol, PubAck, Publish, QoS, Subscribe, Subscription,
};

use super::testkit::TestBroker;
use crate::Config;

pub(super) const V5: Protocol = Protocol::V5;
pub(super) const V311: Protocol = Protocol::V3_1_1;

pub(super) fn broker() -> TestBroker {
    TestBroker::new(Config::default())
}

pub(super) fn broker_with(f: impl FnOnce(&mut Config)) -> TestBroker {
    let mut c = Config::default();
    f(&mut c);
    c.validate().unwrap();
    TestBroker::new(c)
}

pub(super) fn pid(n: u16) -> PacketId {
    PacketId::new(n).unwrap()
}

pub(super) fn connect(id: &str, clean: bool) -> Connect {
    Connect {
        client_id: id.into(),
        clean_start: clean,
        ..Connect::default()
    }
}

pub(super) fn subscribe(id: u16, filter: &str, qos: QoS) -> Packet {
    Packet::Subscribe(Subscribe {
        packet_id: pid(id),
        properties: Default::default(),
        filters: vec![Subscription::new(filter, qos)],
    })
}

pub(super) fn publish(topic: &str, payload: &str, qos: QoS, id: u16) -> Publish {
    let mut p = Publish::new(topic, Bytes::copy_from_slice(payload.as_bytes()));
    p.qos = qos;
    if qos != QoS::AtMostOnce {
        p.packet_id = Some(pid(id));
    }
    p
}

pub(super) fn puback(id: u16) -> Packet {
    Packet::PubAck(PubAck::new(pid(id)))
}

/// Subscribes `conn` to `filter` and checks the SUBACK grants `qos`.
pub(super) fn sub_ok(t: &mut TestBroker, conn: super::ConnectionId, filter: &str, qos: QoS) {
    t.send(conn, &subscribe(1, filter, qos));
    match t.take(conn).first() {
        Some(Packet::SubAck(a)) => assert_eq!(a.reason_codes[0].0, qos.as_u8(), "{a:?}"),
        other => panic!("expected SUBACK, got {other:?}"),
    }
}

/// The PUBLISHes among `packets`.
pub(super) fn publishes(packets: Vec<Packet>) -> Vec<Publish> {
    packets
        .into_iter()
        .filter_map(|p| match p {
            Packet::Publish(p) => Some(p),
            _ => None,
        })
        .collect()
}

pub(super) fn payloads(packets: Vec<Packet>) -> Vec<String> {
    publishes(packets)
        .into_iter()
        .map(|p| String::from_utf8_lossy(&p.payload).into_owned())
        .collect()
}
