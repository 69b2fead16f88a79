//! Each fault breaks its rule, and only when switched on.

use touchstone_codec::{Packet, PubAck, SubscriptionOptions};

use super::*;
use crate::Faults;

fn faulty(f: impl FnOnce(&mut Faults)) -> TestBroker {
    broker_with(|c| f(&mut c.faults))
}

fn retained(topic: &str, payload: &str) -> Packet {
    let mut m = publish(topic, payload, QoS::AtMostOnce, 0);
    m.retain = true;
    Packet::Publish(m)
}

#[test]
fn retain_faults() {
    let mut t = faulty(|f| f.no_retain_store = true);
    let p = t.client(V311, "p", true, 0);
    t.send(p, &retained("r", "v"));
    assert_eq!(t.broker.stats().retained, 0);

    let mut t = faulty(|f| f.no_retain_clear = true);
    let p = t.client(V311, "p", true, 0);
    t.send(p, &retained("r", "v"));
    t.send(p, &retained("r", ""));
    assert_eq!(t.broker.stats().retained, 1);

    let mut t = faulty(|f| f.retained_without_retain_flag = true);
    let p = t.client(V311, "p", true, 0);
    t.send(p, &retained("r", "v"));
    t.send(p, &subscribe(1, "r", QoS::AtMostOnce));
    assert!(!publishes(t.take(p))[0].retain);

    let mut t = faulty(|f| f.forward_retain_flag = true);
    let p = t.client(V311, "p", true, 0);
    sub_ok(&mut t, p, "r", QoS::AtMostOnce);
    t.send(p, &retained("r", "v"));
    assert!(publishes(t.take(p))[0].retain);
}

fn with_will(id: &str) -> Connect {
    let mut c = connect(id, true);
    c.will = Some(touchstone_codec::Will {
        topic: "w".into(),
        payload: Bytes::from_static(b"will"),
        ..Default::default()
    });
    c
}

#[test]
fn will_faults() {
    let mut t = faulty(|f| f.no_will_on_abrupt_close = true);
    let s = t.client(V311, "s", true, 0);
    sub_ok(&mut t, s, "w", QoS::AtMostOnce);
    let (c, _) = t.connect(V311, with_will("c"));
    t.drop_conn(c);
    assert!(t.take(s).is_empty());

    let mut t = faulty(|f| f.will_after_disconnect = true);
    let s = t.client(V311, "s", true, 0);
    sub_ok(&mut t, s, "w", QoS::AtMostOnce);
    let (c, _) = t.connect(V311, with_will("c"));
    t.send(c, &Packet::Disconnect(Default::default()));
    assert_eq!(payloads(t.take(s)), ["will"]);
}

#[test]
fn keep_alive_and_ping_faults() {
    let mut t = faulty(|f| {
        f.ignore_keep_alive = true;
        f.no_pingresp = true;
    });
    let mut c = connect("k", true);
    c.keep_alive = 1;
    let (c, _) = t.connect(V311, c);
    t.send(c, &Packet::PingReq);
    assert!(t.take(c).is_empty());
    t.advance(60_000);
    assert!(t.closed(c).is_none());
}

#[test]
fn topic_and_qos_faults() {
    let mut t = faulty(|f| f.dollar_topics_match_wildcards = true);
    let s = t.client(V311, "s", true, 0);
    sub_ok(&mut t, s, "#", QoS::AtMostOnce);
    t.send(
        s,
        &Packet::Publish(publish("$SYS/x", "x", QoS::AtMostOnce, 0)),
    );
    assert_eq!(payloads(t.take(s)), ["x"]);

    let mut t = faulty(|f| f.grant_higher_qos = true);
    let s = t.client(V311, "s", true, 0);
    t.send(s, &subscribe(1, "g", QoS::AtMostOnce));
    match t.take(s).as_slice() {
        [Packet::SubAck(a)] => assert_eq!(a.reason_codes[0].0, 2),
        other => panic!("{other:?}"),
    }

    let mut t = faulty(|f| f.deliver_at_publish_qos = true);
    let s = t.client(V311, "s", true, 0);
    sub_ok(&mut t, s, "g", QoS::AtMostOnce);
    t.send(s, &Packet::Publish(publish("g", "x", QoS::AtLeastOnce, 1)));
    let got = publishes(t.take(s));
    assert_eq!(got[0].qos, QoS::AtLeastOnce);

    let mut t = faulty(|f| f.wrong_ack_packet_id = true);
    let s = t.client(V311, "s", true, 0);
    t.send(s, &Packet::Publish(publish("g", "x", QoS::AtLeastOnce, 1)));
    assert_eq!(t.take(s), vec![Packet::PubAck(PubAck::new(pid(2)))]);
}

#[test]
fn redelivery_and_property_faults() {
    let mut t = faulty(|f| f.no_dup_on_redelivery = true);
    let s = t.client(V311, "s", false, 0);
    sub_ok(&mut t, s, "d", QoS::AtLeastOnce);
    t.send(s, &Packet::Publish(publish("d", "x", QoS::AtLeastOnce, 1)));
    t.take(s);
    t.drop_conn(s);
    let (s, _) = t.connect(V311, connect("s", false));
    assert!(!publishes(t.take(s))[0].dup);

    for (fault, expected) in [
        (
            Faults {
                drop_user_properties: true,
                ..Faults::default()
            },
            vec![],
        ),
        (
            Faults {
                reorder_user_properties: true,
                ..Faults::default()
            },
            vec![("b", "2"), ("a", "1")],
        ),
    ] {
        let mut t = faulty(|f| *f = fault);
        let s = t.client(V5, "s", true, 0);
        sub_ok(&mut t, s, "u", QoS::AtMostOnce);
        let mut m = publish("u", "x", QoS::AtMostOnce, 0);
        m.properties.user_properties = [("a", "1"), ("b", "2")].into_iter().collect();
        t.send(s, &Packet::Publish(m));
        let got = publishes(t.take(s));
        assert_eq!(
            got[0].properties.user_properties.iter().collect::<Vec<_>>(),
            expected
        );
    }

    let mut t = faulty(|f| f.no_message_expiry_decrement = true);
    let s = t.client(V5, "s", false, 100);
    sub_ok(&mut t, s, "e", QoS::AtLeastOnce);
    t.drop_conn(s);
    let p = t.client(V5, "p", true, 0);
    let mut m = publish("e", "x", QoS::AtLeastOnce, 1);
    m.properties.message_expiry_interval = Some(100);
    t.send(p, &Packet::Publish(m));
    t.advance(5_000);
    let (s, _) = t.connect(V5, connect("s", false));
    assert_eq!(
        publishes(t.take(s))[0].properties.message_expiry_interval,
        Some(100)
    );
}

#[test]
fn connection_faults() {
    let mut t = faulty(|f| f.accept_malformed = true);
    let c = t.client(V5, "m", true, 0);
    t.send_raw(c, &[0x36, 0x05, 0x00, 0x01, b'x', 0x00, 0x01]);
    assert!(t.closed(c).is_none());
    t.send(c, &Packet::PingReq);
    assert_eq!(t.take(c), vec![Packet::PingResp]);

    let mut t = faulty(|f| f.wrong_session_present = true);
    let (_, a) = t.connect(V5, connect("sp", true));
    assert!(a.session_present);
    let _ = SubscriptionOptions::default();
}

#[test]
fn no_fault_is_on_by_default() {
    assert!(!Faults::default().any());
    assert!(Faults {
        no_pingresp: true,
        ..Faults::default()
    }
    .any());
}
