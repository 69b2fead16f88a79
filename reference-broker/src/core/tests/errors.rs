//! Malformed input and protocol errors close only the connection they arrived on.

use touchstone_codec::{Packet, ReasonCode};

use super::*;

#[test]
fn malformed_packets_close_only_that_connection() {
    let mut t = broker();
    let bystander = t.client(V5, "b", true, 0);
    sub_ok(&mut t, bystander, "x", QoS::AtMostOnce);
    let c5 = t.client(V5, "c5", true, 0);
    // PUBLISH with QoS 3.
    t.send_raw(c5, &[0x36, 0x05, 0x00, 0x01, b'x', 0x00, 0x01]);
    match t.take(c5).as_slice() {
        [Packet::Disconnect(d)] => assert_eq!(d.reason_code, ReasonCode::MALFORMED_PACKET),
        other => panic!("{other:?}"),
    }
    assert!(t.closed(c5).is_some());
    let c3 = t.client(V311, "c3", true, 0);
    // SUBSCRIBE with reserved flags 0000 (3.1.1 [MQTT-3.8.1-1]).
    t.send_raw(c3, &[0x80, 0x06, 0x00, 0x01, 0x00, 0x01, b'x', 0x00]);
    assert!(t.take(c3).is_empty());
    assert!(t.closed(c3).is_some());
    // A client sending a server's packet.
    let c = t.client(V5, "c", true, 0);
    t.send(c, &Packet::PingResp);
    match t.take(c).as_slice() {
        [Packet::Disconnect(d)] => assert_eq!(d.reason_code, ReasonCode::PROTOCOL_ERROR),
        other => panic!("{other:?}"),
    }
    // The bystander is unaffected.
    let p = t.client(V5, "p", true, 0);
    t.send(
        p,
        &Packet::Publish(publish("x", "still here", QoS::AtMostOnce, 0)),
    );
    assert_eq!(payloads(t.take(bystander)), ["still here"]);
    assert!(t.closed(bystander).is_none());
}

#[test]
fn malformed_connect() {
    let mut t = broker();
    // 5.0 CONNECT with reserved flag bit 0 set: CONNACK 0x81 (5.0 [MQTT-3.1.2-3]).
    let c = t.open(V5);
    t.send_raw(
        c,
        &[
            0x10, 0x0d, 0, 4, b'M', b'Q', b'T', b'T', 5, 0x03, 0, 60, 0, 0, 0,
        ],
    );
    match t.take(c).as_slice() {
        [Packet::ConnAck(a)] => assert_eq!(a.reason_code, ReasonCode::MALFORMED_PACKET),
        other => panic!("{other:?}"),
    }
    assert!(t.closed(c).is_some());
    // 3.1.1: closed without CONNACK (3.1.1 [MQTT-3.1.4-1]).
    let c = t.open(V311);
    t.send_raw(
        c,
        &[
            0x10, 0x0c, 0, 4, b'M', b'Q', b'T', b'T', 4, 0x03, 0, 60, 0, 0,
        ],
    );
    assert!(t.take(c).is_empty());
    assert!(t.closed(c).is_some());
}

#[test]
fn byte_at_a_time_input_is_decoded() {
    let mut t = broker();
    let c = t.open(V5);
    let bytes = Packet::Connect(Box::new(connect("slow", true)))
        .to_bytes(V5)
        .unwrap();
    for b in bytes.iter() {
        t.send_raw(c, &[*b]);
    }
    assert!(matches!(t.take(c).as_slice(), [Packet::ConnAck(_)]));
}

#[test]
fn garbage_never_panics() {
    // A small deterministic fuzz: random bytes after a valid CONNECT.
    let mut seed = 0x1234_5678_u64;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut t = broker();
    for round in 0..300 {
        let proto = if round % 2 == 0 { V5 } else { V311 };
        let c = t.client(proto, &format!("g{round}"), round % 3 == 0, 10);
        let len = (next() % 64) as usize;
        let mut bytes: Vec<u8> = (0..len).map(|_| next() as u8).collect();
        if let Some(b) = bytes.first_mut() {
            *b = (*b & 0x0F) | ((next() % 15 + 1) as u8) << 4;
        }
        t.send_raw(c, &bytes);
        t.advance(100);
        assert!(!t.sent_garbage(c));
    }
}

/// Random sequences of well-formed (but not necessarily sensible) packets on several
/// connections with random time: the core never panics and everything it sends decodes with
/// the strict codec.
#[test]
fn random_packet_sequences_keep_the_output_valid() {
    use touchstone_codec::{
        Auth, Disconnect, PubComp, PubRec, PubRel, ReasonCode, RetainHandling, SubscriptionOptions,
        Unsubscribe, Will,
    };
    let mut seed = 0x9E37_79B9_u64;
    let mut next = move |n: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % n
    };
    let topics = ["a", "a/b", "$x/y", "b/c/d", "a/b/c"];
    let filters = ["#", "+/b", "a/#", "$share/g/a/#", "$x/+", "a/b", "+"];
    let mut t = broker_with(|c| {
        c.receive_maximum = 3;
        c.topic_alias_maximum = 2;
        c.max_queued_messages = 20;
        c.maximum_packet_size = Some(200);
    });
    let mut conns = Vec::new();
    for step in 0..6000u64 {
        if conns.len() < 6 || next(20) == 0 {
            let proto = if next(2) == 0 { V5 } else { V311 };
            let mut c = connect(&format!("c{}", next(8)), next(3) == 0);
            c.keep_alive = next(4) as u16;
            if proto == V5 {
                c.properties.session_expiry_interval = Some(next(5) as u32);
                c.properties.receive_maximum = Some(next(3) as u16 + 1);
                c.properties.topic_alias_maximum = Some(next(3) as u16);
                c.properties.maximum_packet_size = Some(40 + next(100) as u32);
            }
            if next(3) == 0 {
                let mut w = Will {
                    topic: topics[next(5) as usize].into(),
                    ..Default::default()
                };
                w.qos = QoS::from_u8(next(3) as u8).unwrap();
                if proto == V5 {
                    w.properties.will_delay_interval = Some(next(3) as u32);
                }
                c.will = Some(w);
            }
            let conn = t.open(proto);
            t.send(conn, &Packet::Connect(Box::new(c)));
            conns.push((conn, proto));
        }
        let i = next(conns.len() as u64) as usize;
        let (conn, proto) = conns[i];
        let id = pid(next(5) as u16 + 1);
        let packet = match next(12) {
            0..=3 => {
                let mut p = publish(
                    topics[next(5) as usize],
                    "payload",
                    QoS::from_u8(next(3) as u8).unwrap(),
                    id.get(),
                );
                p.retain = next(4) == 0;
                if proto == V5 && next(3) == 0 {
                    p.properties.topic_alias = Some(next(3) as u16 + 1);
                    if next(2) == 0 {
                        p.topic = "".into();
                    }
                }
                if proto == V5 && next(3) == 0 {
                    p.properties.message_expiry_interval = Some(next(3) as u32);
                }
                Packet::Publish(p)
            }
            4 => {
                let options = SubscriptionOptions {
                    qos: QoS::from_u8(next(3) as u8).unwrap(),
                    no_local: false,
                    retain_as_published: proto == V5 && next(2) == 0,
                    retain_handling: if proto == V5 {
                        [
                            RetainHandling::SendAtSubscribe,
                            RetainHandling::SendAtSubscribeIfNew,
                            RetainHandling::DoNotSend,
                        ][next(3) as usize]
                    } else {
                        RetainHandling::SendAtSubscribe
                    },
                };
                let mut s = Subscribe {
                    packet_id: id,
                    properties: Default::default(),
                    filters: vec![Subscription {
                        filter: filters[next(7) as usize].into(),
                        options,
                    }],
                };
                if proto == V5 && next(2) == 0 {
                    s.properties.subscription_identifier = Some(next(3) as u32 + 1);
                }
                Packet::Subscribe(s)
            }
            5 => Packet::Unsubscribe(Unsubscribe {
                packet_id: id,
                properties: Default::default(),
                filters: vec![filters[next(7) as usize].into()],
            }),
            6 => puback(id.get()),
            7 => Packet::PubRec(PubRec::new(id)),
            8 => Packet::PubRel(PubRel::new(id)),
            9 => Packet::PubComp(PubComp::new(id)),
            10 => {
                if proto == V5 && next(4) == 0 {
                    Packet::Auth(Auth::default())
                } else {
                    Packet::PingReq
                }
            }
            _ => {
                if next(3) == 0 {
                    t.drop_conn(conn);
                    conns.swap_remove(i);
                    continue;
                }
                let code = if proto == V5 && next(2) == 0 {
                    ReasonCode::DISCONNECT_WITH_WILL
                } else {
                    ReasonCode::SUCCESS
                };
                Packet::Disconnect(Disconnect::new(code))
            }
        };
        t.send(conn, &packet);
        if t.closed(conn).is_some() {
            conns.swap_remove(i);
        }
        if step % 7 == 0 {
            t.advance(next(1500));
        }
        assert!(!t.sent_garbage(conn), "step {step}: undecodable output");
        t.take(conn);
    }
    assert!(!t.sent_garbage_anywhere());
    let stats = t.broker.stats();
    assert!(stats.queued <= 20 * stats.sessions, "{stats:?}");
}
