//! QoS flows, redelivery, overlapping subscriptions, properties passthrough.

use touchstone_codec::{
    properties::PublishProperties, Disconnect, Packet, PubComp, PubRec, PubRel, ReasonCode,
    SubscriptionOptions, UserProperties,
};

use super::*;

#[test]
fn qos_flows_in_both_directions() {
    for proto in [V311, V5] {
        let mut t = broker();
        let s = t.client(proto, "s", true, 0);
        sub_ok(&mut t, s, "q/#", QoS::ExactlyOnce);
        let p = t.client(proto, "p", true, 0);
        // QoS 0.
        t.send(
            p,
            &Packet::Publish(publish("q/0", "zero", QoS::AtMostOnce, 0)),
        );
        assert!(t.take(p).is_empty());
        let got = publishes(t.take(s));
        assert_eq!(
            (got[0].qos, got[0].packet_id, got[0].dup),
            (QoS::AtMostOnce, None, false)
        );
        // QoS 1.
        t.send(
            p,
            &Packet::Publish(publish("q/1", "one", QoS::AtLeastOnce, 7)),
        );
        assert_eq!(t.take(p), vec![puback(7)]);
        let got = publishes(t.take(s));
        assert_eq!(got[0].qos, QoS::AtLeastOnce);
        let id = got[0].packet_id.unwrap();
        t.send(s, &Packet::PubAck(touchstone_codec::PubAck::new(id)));
        // QoS 2, publisher side.
        t.send(
            p,
            &Packet::Publish(publish("q/2", "two", QoS::ExactlyOnce, 8)),
        );
        assert_eq!(t.take(p), vec![Packet::PubRec(PubRec::new(pid(8)))]);
        t.send(p, &Packet::PubRel(PubRel::new(pid(8))));
        assert_eq!(t.take(p), vec![Packet::PubComp(PubComp::new(pid(8)))]);
        // QoS 2, subscriber side.
        let got = publishes(t.take(s));
        assert_eq!(got[0].qos, QoS::ExactlyOnce);
        let id = got[0].packet_id.unwrap();
        t.send(s, &Packet::PubRec(PubRec::new(id)));
        assert_eq!(t.take(s), vec![Packet::PubRel(PubRel::new(id))]);
        t.send(s, &Packet::PubComp(PubComp::new(id)));
        assert!(t.take(s).is_empty());
        assert_eq!(t.broker.stats().inflight, 0);
    }
}

#[test]
fn delivery_qos_is_the_lower_of_published_and_granted() {
    let mut t = broker();
    let s = t.client(V311, "s", true, 0);
    sub_ok(&mut t, s, "d", QoS::AtLeastOnce);
    let p = t.client(V311, "p", true, 0);
    t.send(p, &Packet::Publish(publish("d", "x", QoS::ExactlyOnce, 1)));
    assert_eq!(publishes(t.take(s))[0].qos, QoS::AtLeastOnce);
    t.send(p, &Packet::Publish(publish("d", "y", QoS::AtMostOnce, 0)));
    assert_eq!(publishes(t.take(s))[0].qos, QoS::AtMostOnce);
}

#[test]
fn qos2_duplicates_are_not_delivered_twice() {
    let mut t = broker();
    let s = t.client(V5, "s", true, 0);
    sub_ok(&mut t, s, "d", QoS::AtMostOnce);
    let p = t.client(V5, "p", true, 0);
    let m = publish("d", "x", QoS::ExactlyOnce, 3);
    t.send(p, &Packet::Publish(m.clone()));
    let mut dup = m;
    dup.dup = true;
    t.send(p, &Packet::Publish(dup));
    assert_eq!(
        t.take(p),
        vec![
            Packet::PubRec(PubRec::new(pid(3))),
            Packet::PubRec(PubRec::new(pid(3)))
        ]
    );
    assert_eq!(payloads(t.take(s)), ["x"]);
    t.send(p, &Packet::PubRel(PubRel::new(pid(3))));
    t.take(p);
    // After PUBCOMP the id is new again.
    t.send(p, &Packet::Publish(publish("d", "y", QoS::ExactlyOnce, 3)));
    assert_eq!(payloads(t.take(s)), ["y"]);
    // PUBREL of an unknown id: PUBCOMP 0x92.
    t.send(p, &Packet::PubRel(PubRel::new(pid(99))));
    match t.take(p).last() {
        Some(Packet::PubComp(c)) => {
            assert_eq!(c.reason_code, ReasonCode::PACKET_IDENTIFIER_NOT_FOUND)
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn redelivery_on_reconnect_with_dup_in_order() {
    for proto in [V311, V5] {
        let mut t = broker();
        let s = t.client(proto, "s", false, 300);
        sub_ok(&mut t, s, "r/#", QoS::ExactlyOnce);
        let p = t.client(proto, "p", true, 0);
        for (i, q) in [
            QoS::AtLeastOnce,
            QoS::ExactlyOnce,
            QoS::AtLeastOnce,
            QoS::ExactlyOnce,
        ]
        .into_iter()
        .enumerate()
        {
            t.send(
                p,
                &Packet::Publish(publish(&format!("r/{i}"), &i.to_string(), q, i as u16 + 1)),
            );
        }
        let first = publishes(t.take(s));
        assert_eq!(first.len(), 4);
        // PUBREC the second message: it must come back as a PUBREL.
        let second = first[1].packet_id.unwrap();
        t.send(s, &Packet::PubRec(PubRec::new(second)));
        assert_eq!(t.take(s), vec![Packet::PubRel(PubRel::new(second))]);
        t.drop_conn(s);
        // Queued while offline.
        t.send(
            p,
            &Packet::Publish(publish("r/4", "4", QoS::AtLeastOnce, 9)),
        );
        let (s, ack) = t.connect(proto, connect("s", false));
        assert!(ack.session_present);
        let again = t.take(s);
        let summary: Vec<String> = again
            .iter()
            .map(|p| match p {
                Packet::Publish(p) => format!(
                    "P{}{}",
                    String::from_utf8_lossy(&p.payload),
                    if p.dup { "d" } else { "" }
                ),
                Packet::PubRel(r) => format!("R{}", r.packet_id),
                other => format!("{other:?}"),
            })
            .collect();
        assert_eq!(
            summary,
            [
                "P0d".to_string(),
                format!("R{second}"),
                "P2d".into(),
                "P3d".into(),
                "P4".into()
            ],
            "{proto}"
        );
        // Same packet ids as before.
        let ids: Vec<u16> = publishes(again)
            .iter()
            .map(|p| p.packet_id.unwrap().get())
            .collect();
        assert_eq!(
            &ids[..3],
            &[
                first[0].packet_id.unwrap().get(),
                first[2].packet_id.unwrap().get(),
                first[3].packet_id.unwrap().get()
            ]
        );
    }
}

#[test]
fn overlapping_subscriptions_give_one_copy_with_every_identifier() {
    let mut t = broker();
    let s = t.client(V5, "s", true, 0);
    for (i, (f, q)) in [("o/+", QoS::AtMostOnce), ("o/#", QoS::ExactlyOnce)]
        .into_iter()
        .enumerate()
    {
        let mut sub = Subscribe {
            packet_id: pid(1),
            properties: Default::default(),
            filters: vec![Subscription::new(f, q)],
        };
        sub.properties.subscription_identifier = Some(i as u32 + 10);
        t.send(s, &Packet::Subscribe(sub));
    }
    t.take(s);
    let p = t.client(V5, "p", true, 0);
    t.send(
        p,
        &Packet::Publish(publish("o/x", "x", QoS::ExactlyOnce, 1)),
    );
    let got = publishes(t.take(s));
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].qos, QoS::ExactlyOnce);
    let mut ids = got[0].properties.subscription_identifiers.clone();
    ids.sort();
    assert_eq!(ids, [10, 11]);
}

#[test]
fn properties_pass_through_unaltered_and_in_order() {
    let mut t = broker();
    let s = t.client(V5, "s", true, 0);
    sub_ok(&mut t, s, "req", QoS::AtMostOnce);
    let p = t.client(V5, "p", true, 0);
    let mut m = publish("req", "body", QoS::AtLeastOnce, 1);
    let props = PublishProperties {
        payload_format_indicator: Some(touchstone_codec::PayloadFormat::Utf8),
        response_topic: Some("resp/1".into()),
        correlation_data: Some(Bytes::from_static(b"\x01\x02")),
        content_type: Some("text/plain".into()),
        user_properties: UserProperties::from_pairs([("b", "2"), ("a", "1"), ("b", "3")]),
        ..Default::default()
    };
    m.properties = props.clone().into();
    t.send(p, &Packet::Publish(m));
    let got = publishes(t.take(s));
    assert_eq!(*got[0].properties, props);
}

#[test]
fn no_local_and_retain_as_published() {
    let mut t = broker();
    let c = t.client(V5, "me", true, 0);
    let options = SubscriptionOptions {
        qos: QoS::AtMostOnce,
        no_local: true,
        retain_as_published: true,
        ..Default::default()
    };
    let other = t.client(V5, "other", true, 0);
    for conn in [c, other] {
        t.send(
            conn,
            &Packet::Subscribe(Subscribe {
                packet_id: pid(1),
                properties: Default::default(),
                filters: vec![Subscription {
                    filter: "n".into(),
                    options,
                }],
            }),
        );
        t.take(conn);
    }
    let mut m = publish("n", "x", QoS::AtMostOnce, 0);
    m.retain = true;
    t.send(c, &Packet::Publish(m));
    // 5.0 [MQTT-3.8.3-3]: not back to the publisher.
    assert!(t.take(c).is_empty());
    // 5.0 [MQTT-3.3.1-13]: RETAIN as published.
    assert!(publishes(t.take(other))[0].retain);
}

#[test]
fn packet_ids_in_use_are_not_reused() {
    let mut t = broker();
    let s = t.client(V5, "s", true, 0);
    sub_ok(&mut t, s, "i", QoS::AtLeastOnce);
    let p = t.client(V5, "p", true, 0);
    for i in 0..5 {
        t.send(
            p,
            &Packet::Publish(publish("i", &i.to_string(), QoS::AtLeastOnce, 1)),
        );
    }
    let mut ids: Vec<u16> = publishes(t.take(s))
        .iter()
        .map(|p| p.packet_id.unwrap().get())
        .collect();
    ids.dedup();
    assert_eq!(ids.len(), 5);
    let _ = Disconnect::default();
}
