//! Receive Maximum and Maximum Packet Size both ways, topic aliases both ways.

use touchstone_codec::{Packet, ReasonCode};

use super::*;

#[test]
fn client_receive_maximum_limits_messages_in_flight() {
    let mut t = broker();
    let mut c = connect("s", true);
    c.properties.receive_maximum = Some(2);
    let (s, _) = t.connect(V5, c);
    sub_ok(&mut t, s, "f", QoS::AtLeastOnce);
    let p = t.client(V5, "p", true, 0);
    for i in 0..5 {
        t.send(
            p,
            &Packet::Publish(publish("f", &i.to_string(), QoS::AtLeastOnce, i + 1)),
        );
        // QoS 0 is not subject to the quota.
        t.send(p, &Packet::Publish(publish("f", "q0", QoS::AtMostOnce, 0)));
    }
    let got = publishes(t.take(s));
    let q1: Vec<&Publish> = got.iter().filter(|p| p.qos == QoS::AtLeastOnce).collect();
    assert_eq!(q1.len(), 2); // 5.0 [MQTT-3.3.4-9]
    assert_eq!(got.iter().filter(|p| p.qos == QoS::AtMostOnce).count(), 5);
    t.send(
        s,
        &Packet::PubAck(touchstone_codec::PubAck::new(q1[0].packet_id.unwrap())),
    );
    assert_eq!(payloads(t.take(s)), ["2"]);
}

#[test]
fn exceeding_the_brokers_receive_maximum_is_0x93() {
    let mut t = broker_with(|c| c.receive_maximum = 2);
    let p = t.client(V5, "p", true, 0);
    t.send(p, &Packet::Publish(publish("x", "1", QoS::ExactlyOnce, 1)));
    t.send(p, &Packet::Publish(publish("x", "2", QoS::ExactlyOnce, 2)));
    assert!(t.closed(p).is_none());
    t.send(p, &Packet::Publish(publish("x", "3", QoS::AtLeastOnce, 3)));
    match t.take(p).last() {
        Some(Packet::Disconnect(d)) => {
            assert_eq!(d.reason_code, ReasonCode::RECEIVE_MAXIMUM_EXCEEDED)
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn oversize_packets_both_ways() {
    let mut t = broker_with(|c| c.maximum_packet_size = Some(100));
    let mut c = connect("s", true);
    c.properties.maximum_packet_size = Some(50);
    let (s, _) = t.connect(V5, c);
    sub_ok(&mut t, s, "big", QoS::AtLeastOnce);
    let p = t.client(V5, "p", true, 0);
    // Too big for the subscriber: dropped (5.0 [MQTT-3.1.2-25]), and nothing stays in flight.
    t.send(
        p,
        &Packet::Publish(publish("big", &"x".repeat(60), QoS::AtLeastOnce, 1)),
    );
    assert_eq!(t.take(p), vec![puback(1)]);
    assert!(t.take(s).is_empty());
    assert_eq!(t.broker.stats().inflight, 0);
    t.send(
        p,
        &Packet::Publish(publish("big", "small", QoS::AtLeastOnce, 2)),
    );
    assert_eq!(payloads(t.take(s)), ["small"]);
    assert_eq!(t.take(p), vec![puback(2)]);
    // Too big for the broker: DISCONNECT 0x95.
    t.send(
        p,
        &Packet::Publish(publish("big", &"x".repeat(200), QoS::AtMostOnce, 0)),
    );
    match t.take(p).as_slice() {
        [Packet::Disconnect(d)] => assert_eq!(d.reason_code, ReasonCode::PACKET_TOO_LARGE),
        other => panic!("{other:?}"),
    }
    assert!(t.closed(p).is_some());
    assert!(t.closed(s).is_none());
}

#[test]
fn inbound_topic_aliases() {
    let mut t = broker_with(|c| c.topic_alias_maximum = 2);
    let s = t.client(V5, "s", true, 0);
    sub_ok(&mut t, s, "alias/#", QoS::AtMostOnce);
    let p = t.client(V5, "p", true, 0);
    let mut m = publish("alias/a", "1", QoS::AtMostOnce, 0);
    m.properties.topic_alias = Some(1);
    t.send(p, &Packet::Publish(m));
    let mut m = publish("", "2", QoS::AtMostOnce, 0);
    m.properties.topic_alias = Some(1);
    t.send(p, &Packet::Publish(m));
    let got = publishes(t.take(s));
    assert_eq!(got.len(), 2);
    assert!(got
        .iter()
        .all(|p| p.topic == "alias/a" && p.properties.topic_alias.is_none()));
    // An alias with no mapping: Protocol Error; above the maximum: 0x94.
    let mut m = publish("", "3", QoS::AtMostOnce, 0);
    m.properties.topic_alias = Some(2);
    t.send(p, &Packet::Publish(m));
    match t.take(p).as_slice() {
        [Packet::Disconnect(d)] => assert_eq!(d.reason_code, ReasonCode::PROTOCOL_ERROR),
        other => panic!("{other:?}"),
    }
    let p = t.client(V5, "p2", true, 0);
    let mut m = publish("alias/a", "4", QoS::AtMostOnce, 0);
    m.properties.topic_alias = Some(3);
    t.send(p, &Packet::Publish(m));
    match t.take(p).as_slice() {
        [Packet::Disconnect(d)] => assert_eq!(d.reason_code, ReasonCode::TOPIC_ALIAS_INVALID),
        other => panic!("{other:?}"),
    }
}

#[test]
fn outbound_topic_aliases_stay_within_the_clients_maximum() {
    let mut t = broker();
    let mut c = connect("s", true);
    c.properties.topic_alias_maximum = Some(1);
    let (s, _) = t.connect(V5, c);
    sub_ok(&mut t, s, "t/#", QoS::AtMostOnce);
    let plain = t.client(V5, "plain", true, 0);
    sub_ok(&mut t, plain, "t/#", QoS::AtMostOnce);
    let p = t.client(V5, "p", true, 0);
    for topic in ["t/a", "t/a", "t/b", "t/a"] {
        t.send(
            p,
            &Packet::Publish(publish(topic, topic, QoS::AtMostOnce, 0)),
        );
    }
    let got: Vec<(String, Option<u16>)> = publishes(t.take(s))
        .into_iter()
        .map(|p| (p.topic.to_string(), p.properties.topic_alias))
        .collect();
    assert_eq!(
        got,
        [
            ("t/a".into(), Some(1)),
            ("".into(), Some(1)),
            ("t/b".into(), None),
            ("".into(), Some(1))
        ]
    );
    // 5.0 [MQTT-3.1.2-27]: none for a client without a Topic Alias Maximum.
    assert!(publishes(t.take(plain))
        .iter()
        .all(|p| p.properties.topic_alias.is_none()));
}

#[test]
fn queue_limit_bounds_memory() {
    let mut t = broker_with(|c| c.max_queued_messages = 3);
    let s = t.client(V5, "s", false, 100);
    sub_ok(&mut t, s, "l", QoS::AtLeastOnce);
    t.drop_conn(s);
    let p = t.client(V5, "p", true, 0);
    for i in 0..10 {
        t.send(
            p,
            &Packet::Publish(publish("l", &i.to_string(), QoS::AtLeastOnce, i + 1)),
        );
    }
    assert_eq!(t.broker.stats().queued, 3);
    assert_eq!(t.broker.stats().dropped, 7);
    let (s, _) = t.connect(V5, connect("s", false));
    assert_eq!(payloads(t.take(s)), ["0", "1", "2"]);
}

/// Found by the broker-core fuzzer (2026-12-07): a session whose client's Receive Maximum is
/// used up queues further QoS 1 and 2 messages up to `max_queued_messages` and drops (and
/// counts) the next one; a Clean Start 0 take-over re-sends the one in flight with DUP 1 and
/// then the queued ones, in order, within the new Receive Maximum.
#[test]
fn mqtt_4_9_0_2_and_4_4_0_1_a_full_queue_counts_its_drop_and_a_takeover_resumes_in_order() {
    let mut t = broker_with(|c| c.max_queued_messages = 4);
    let mut c = connect("s", false);
    c.properties.receive_maximum = Some(1);
    c.properties.session_expiry_interval = Some(60);
    let (s, _) = t.connect(V5, c);
    sub_ok(&mut t, s, "a/+", QoS::AtLeastOnce);
    let p = t.client(V5, "p", true, 0);
    for i in 1..=6u16 {
        t.send(
            p,
            &Packet::Publish(publish("a/b", &i.to_string(), QoS::AtLeastOnce, i)),
        );
    }
    // 5.0 [MQTT-4.9.0-2]: one in flight; four queued; the sixth dropped and counted.
    assert_eq!(payloads(t.take(s)), ["1"]);
    let info = t.broker.sessions();
    let info = info.iter().find(|i| i.client_id == "s").unwrap();
    assert_eq!((info.queued, info.dropped), (4, 1));
    // A take-over with Clean Start 0 and a larger Receive Maximum.
    let mut again = connect("s", false);
    again.properties.session_expiry_interval = Some(60);
    let (s2, ack) = t.connect(V5, again);
    assert!(ack.session_present);
    let got = publishes(t.take(s2));
    // 5.0 [MQTT-4.4.0-1]: the unacknowledged one first, with DUP 1 and its packet id; then the
    // queue in order (5.0 [MQTT-4.6.0-6]).
    assert!(got[0].dup && got[0].packet_id == Some(pid(1)), "{got:?}");
    let order: Vec<String> = got
        .iter()
        .map(|p| String::from_utf8_lossy(&p.payload).into_owned())
        .collect();
    assert_eq!(order, ["1", "2", "3", "4", "5"]);
}

/// Found by the broker-core fuzzer (2026-12-07): a 5.0 client resuming a session with queued
/// messages declares a Maximum Packet Size (12 bytes) that no CONNACK fits. The CONNACK is not
/// sent (5.0 [MQTT-3.1.2-24]), and since nothing but AUTH may precede it (5.0 [MQTT-3.2.0-1])
/// the queued PUBLISHes must not go out either: the broker closes the connection, sending
/// nothing.
#[test]
fn mqtt_3_1_2_24_and_3_2_0_1_no_connack_fits_so_nothing_is_sent() {
    let mut t = broker();
    let mut c = connect("s", false);
    c.properties.session_expiry_interval = Some(60);
    let (s, _) = t.connect(V5, c.clone());
    sub_ok(&mut t, s, "q", QoS::AtLeastOnce);
    t.drop_conn(s);
    let p = t.client(V5, "p", true, 0);
    t.send(p, &Packet::Publish(publish("q", "1", QoS::AtLeastOnce, 1)));
    c.properties.maximum_packet_size = Some(12);
    let s2 = t.open(V5);
    t.send(s2, &Packet::Connect(Box::new(c)));
    assert_eq!(t.take(s2), Vec::<Packet>::new(), "nothing before a CONNACK");
    assert!(t.closed(s2).is_some(), "the connection cannot go on");
}
