//! SUBSCRIBE options, optional features, shared subscriptions, ACLs.

use touchstone_codec::{Packet, ReasonCode, UnsubAck, Unsubscribe};

use crate::config::AclRule;

use super::*;

fn suback_codes(t: &mut TestBroker, c: crate::core::ConnectionId, filters: &[&str]) -> Vec<u8> {
    t.send(
        c,
        &Packet::Subscribe(Subscribe {
            packet_id: pid(5),
            properties: Default::default(),
            filters: filters
                .iter()
                .map(|f| Subscription::new(*f, QoS::ExactlyOnce))
                .collect(),
        }),
    );
    match t.take(c).first() {
        Some(Packet::SubAck(a)) => {
            assert_eq!(a.packet_id, pid(5));
            a.reason_codes.iter().map(|c| c.0).collect()
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn optional_features_switched_off() {
    let mut t = broker_with(|c| {
        c.wildcard_subscriptions = false;
        c.shared_subscriptions = false;
        c.maximum_qos = QoS::AtLeastOnce;
    });
    let c = t.client(V5, "c", true, 0);
    assert_eq!(
        suback_codes(&mut t, c, &["a/+", "$share/g/a", "a"]),
        [0xA2, 0x9E, 0x01]
    );
    let c3 = t.client(V311, "c3", true, 0);
    assert_eq!(suback_codes(&mut t, c3, &["a/#", "a"]), [0x80, 0x01]);
}

#[test]
fn subscription_identifiers_switched_off() {
    let mut t = broker_with(|c| c.subscription_identifiers = false);
    let c = t.client(V5, "c", true, 0);
    let mut s = Subscribe {
        packet_id: pid(1),
        properties: Default::default(),
        filters: vec![Subscription::new("a", QoS::AtMostOnce)],
    };
    s.properties.subscription_identifier = Some(3);
    t.send(c, &Packet::Subscribe(s));
    match t.take(c).as_slice() {
        [Packet::Disconnect(d)] => assert_eq!(
            d.reason_code,
            ReasonCode::SUBSCRIPTION_IDENTIFIERS_NOT_SUPPORTED
        ),
        other => panic!("{other:?}"),
    }
}

#[test]
fn shared_subscriptions_take_turns() {
    let mut t = broker();
    let members: Vec<_> = (0..3)
        .map(|i| t.client(V5, &format!("m{i}"), true, 0))
        .collect();
    for &m in &members {
        sub_ok(&mut t, m, "$share/g/s/+", QoS::AtLeastOnce);
    }
    let plain = t.client(V5, "plain", true, 0);
    sub_ok(&mut t, plain, "s/+", QoS::AtMostOnce);
    let p = t.client(V5, "p", true, 0);
    for i in 0..6 {
        t.send(
            p,
            &Packet::Publish(publish("s/x", &i.to_string(), QoS::AtMostOnce, 0)),
        );
    }
    for (i, &m) in members.iter().enumerate() {
        assert_eq!(payloads(t.take(m)), [i.to_string(), (i + 3).to_string()]);
    }
    assert_eq!(payloads(t.take(plain)).len(), 6);
    // A disconnected member is skipped while others are online.
    t.drop_conn(members[0]);
    for i in 0..4 {
        t.send(
            p,
            &Packet::Publish(publish("s/x", &i.to_string(), QoS::AtMostOnce, 0)),
        );
    }
    assert_eq!(
        payloads(t.take(members[1])).len() + payloads(t.take(members[2])).len(),
        4
    );
}

#[test]
fn unsubscribe() {
    let mut t = broker();
    let c = t.client(V5, "c", true, 0);
    sub_ok(&mut t, c, "u/+", QoS::AtMostOnce);
    t.send(
        c,
        &Packet::Unsubscribe(Unsubscribe {
            packet_id: pid(9),
            properties: Default::default(),
            filters: vec!["u/+".into(), "u/#".into()],
        }),
    );
    let expected = UnsubAck {
        packet_id: pid(9),
        properties: Default::default(),
        reason_codes: vec![ReasonCode::SUCCESS, ReasonCode::NO_SUBSCRIPTION_EXISTED],
    };
    assert_eq!(t.take(c), vec![Packet::UnsubAck(expected)]);
    let p = t.client(V5, "p", true, 0);
    t.send(p, &Packet::Publish(publish("u/x", "x", QoS::AtMostOnce, 0)));
    assert!(t.take(c).is_empty());
    assert_eq!(t.broker.stats().subscriptions, 0);
}

#[test]
fn acl_not_authorized() {
    let mut t = broker_with(|c| {
        c.acl = vec![AclRule {
            user: "*".into(),
            publish: vec!["open/#".into()],
            subscribe: vec!["open/#".into()],
        }];
    });
    let c = t.client(V5, "c", true, 0);
    assert_eq!(
        suback_codes(&mut t, c, &["open/+", "secret/#"]),
        [0x02, 0x87]
    );
    let c3 = t.client(V311, "c3", true, 0);
    assert_eq!(
        suback_codes(&mut t, c3, &["open/a", "secret"]),
        [0x02, 0x80]
    );
    t.send(
        c,
        &Packet::Publish(publish("secret/x", "x", QoS::AtLeastOnce, 4)),
    );
    match t.take(c).as_slice() {
        [Packet::PubAck(a)] => {
            assert_eq!(a.reason_code, ReasonCode::NOT_AUTHORIZED);
            assert!(a.properties.reason_string.is_some());
        }
        other => panic!("{other:?}"),
    }
    // 3.1.1: acknowledged normally and dropped (3.1.1 [MQTT-3.3.5-2]).
    sub_ok(&mut t, c, "open/#", QoS::AtMostOnce);
    t.send(
        c3,
        &Packet::Publish(publish("secret/x", "x", QoS::AtLeastOnce, 4)),
    );
    assert_eq!(t.take(c3), vec![puback(4)]);
    t.send(
        c3,
        &Packet::Publish(publish("open/x", "ok", QoS::AtMostOnce, 0)),
    );
    assert_eq!(payloads(t.take(c)), ["ok"]);
}

#[test]
fn request_problem_information_zero_removes_reason_strings() {
    let mut t = broker_with(|c| {
        c.acl = vec![AclRule {
            user: "*".into(),
            publish: vec![],
            subscribe: vec![],
        }];
    });
    let mut c = connect("c", true);
    c.properties.request_problem_information = Some(false);
    let (c, _) = t.connect(V5, c);
    t.send(c, &Packet::Publish(publish("x", "x", QoS::AtLeastOnce, 4)));
    match t.take(c).as_slice() {
        [Packet::PubAck(a)] => {
            assert_eq!(a.reason_code, ReasonCode::NOT_AUTHORIZED);
            assert_eq!(a.properties.reason_string, None); // 5.0 [MQTT-3.1.2-29]
        }
        other => panic!("{other:?}"),
    }
}

/// Found by the broker-core fuzzer (2026-12-07): a session subscribed in 5.0 to the shared
/// subscription `$share/g/s/#` and resumed in 3.1.1, where the same string is a plain filter
/// (3.1.1 has no shared subscriptions), subscribes to it again. The identical filter replaces
/// the subscription (3.1.1 and 5.0 [MQTT-3.8.4-3]): the shared one leaves the subscription
/// tree, so the session holds one subscription, no longer takes turns in the share group, and
/// the counts agree.
#[test]
fn mqtt_3_8_4_3_a_filter_reread_as_plain_in_3_1_1_replaces_the_shared_subscription() {
    let mut t = broker();
    let mut c = connect("s", false);
    c.properties.session_expiry_interval = Some(60);
    let (s, _) = t.connect(V5, c);
    sub_ok(&mut t, s, "$share/g/s/#", QoS::AtLeastOnce);
    t.drop_conn(s);
    let (s, ack) = t.connect(V311, connect("s", false));
    assert!(ack.session_present);
    sub_ok(&mut t, s, "$share/g/s/#", QoS::AtLeastOnce);
    let stats = t.broker.stats();
    let held: usize = t.broker.session_views().map(|v| v.subscriptions).sum();
    assert_eq!((stats.subscriptions, held), (1, 1));
    // The share group is gone: a PUBLISH on s/x reaches nobody.
    let p = t.client(V5, "p", true, 0);
    t.send(
        p,
        &Packet::Publish(publish("s/x", "1", QoS::AtLeastOnce, 1)),
    );
    assert!(payloads(t.take(s)).is_empty());
}
