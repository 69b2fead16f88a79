//! The retained store and the RETAIN flag.

use touchstone_codec::{Packet, RetainHandling, SubscriptionOptions};

use super::*;

fn retained(topic: &str, payload: &str, qos: QoS) -> Packet {
    let mut m = publish(topic, payload, qos, 1);
    m.retain = true;
    Packet::Publish(m)
}

#[test]
fn store_replace_clear() {
    for proto in [V311, V5] {
        let mut t = broker();
        let p = t.client(proto, "p", true, 0);
        t.send(p, &retained("r/a", "1", QoS::AtLeastOnce));
        t.send(p, &retained("r/a", "2", QoS::AtLeastOnce));
        t.send(p, &retained("r/b", "b", QoS::AtMostOnce));
        let s = t.client(proto, "s", true, 0);
        t.send(s, &subscribe(1, "r/+", QoS::AtLeastOnce));
        let got = t.take(s);
        assert!(matches!(got[0], Packet::SubAck(_)), "SUBACK first");
        let got = publishes(got);
        // 3.1.1 [MQTT-3.3.1-8]: RETAIN 1 for a new subscription.
        assert!(got.iter().all(|p| p.retain));
        let mut v: Vec<(String, QoS)> = got
            .iter()
            .map(|p| (String::from_utf8_lossy(&p.payload).into(), p.qos))
            .collect();
        v.sort();
        assert_eq!(
            v,
            [
                ("2".into(), QoS::AtLeastOnce),
                ("b".into(), QoS::AtMostOnce)
            ]
        );
        // Forwarded live: RETAIN 0 (3.1.1 [MQTT-3.3.1-9], 5.0 [MQTT-3.3.1-12]).
        t.send(p, &retained("r/a", "3", QoS::AtMostOnce));
        assert!(!publishes(t.take(s))[0].retain);
        // Empty payload: forwarded, and clears (3.1.1 [MQTT-3.3.1-10], 5.0 [MQTT-3.3.1-6]).
        t.send(p, &retained("r/a", "", QoS::AtMostOnce));
        assert_eq!(payloads(t.take(s)), [""]);
        t.send(s, &subscribe(2, "r/a", QoS::AtMostOnce));
        assert!(publishes(t.take(s)).is_empty());
        // RETAIN 0 leaves the stored message alone (5.0 [MQTT-3.3.1-8]).
        t.send(
            p,
            &Packet::Publish(publish("r/b", "live", QoS::AtMostOnce, 0)),
        );
        t.send(s, &subscribe(3, "r/b", QoS::AtMostOnce));
        assert_eq!(payloads(t.take(s)), ["live", "b"]);
        assert_eq!(t.broker.stats().retained, 1);
    }
}

#[test]
fn retain_handling() {
    let mut t = broker();
    let p = t.client(V5, "p", true, 0);
    t.send(p, &retained("h", "v", QoS::AtMostOnce));
    let s = t.client(V5, "s", true, 0);
    let sub = |rh| {
        Packet::Subscribe(Subscribe {
            packet_id: pid(1),
            properties: Default::default(),
            filters: vec![Subscription {
                filter: "h".into(),
                options: SubscriptionOptions {
                    retain_handling: rh,
                    ..Default::default()
                },
            }],
        })
    };
    t.send(s, &sub(RetainHandling::DoNotSend)); // 5.0 [MQTT-3.3.1-11]
    assert!(publishes(t.take(s)).is_empty());
    t.send(s, &sub(RetainHandling::SendAtSubscribeIfNew)); // exists: nothing (5.0 [MQTT-3.3.1-10])
    assert!(publishes(t.take(s)).is_empty());
    t.send(s, &sub(RetainHandling::SendAtSubscribe)); // 5.0 [MQTT-3.3.1-9]
    assert_eq!(payloads(t.take(s)), ["v"]);
    let s2 = t.client(V5, "s2", true, 0);
    t.send(s2, &sub(RetainHandling::SendAtSubscribeIfNew)); // new: sent
    assert_eq!(payloads(t.take(s2)), ["v"]);
}

#[test]
fn dollar_topics_and_wildcards() {
    let mut t = broker();
    let p = t.client(V5, "p", true, 0);
    t.send(p, &retained("$x/a", "dollar", QoS::AtMostOnce));
    let s = t.client(V5, "s", true, 0);
    t.send(s, &subscribe(1, "#", QoS::AtMostOnce));
    t.send(s, &subscribe(2, "+/a", QoS::AtMostOnce));
    assert!(publishes(t.take(s)).is_empty()); // [MQTT-4.7.2-1]
    t.send(
        p,
        &Packet::Publish(publish("$x/a", "live", QoS::AtMostOnce, 0)),
    );
    assert!(publishes(t.take(s)).is_empty());
    t.send(s, &subscribe(3, "$x/#", QoS::AtMostOnce));
    assert_eq!(payloads(t.take(s)), ["dollar"]);
}

#[test]
fn retain_unavailable() {
    let mut t = broker_with(|c| c.retain_available = false);
    let p = t.client(V5, "p", true, 0);
    t.send(p, &retained("x", "v", QoS::AtMostOnce));
    match t.take(p).as_slice() {
        [Packet::Disconnect(d)] => assert_eq!(
            d.reason_code,
            touchstone_codec::ReasonCode::RETAIN_NOT_SUPPORTED
        ),
        other => panic!("{other:?}"),
    }
    // 3.1.1: RETAIN is ignored.
    let p = t.client(V311, "p3", true, 0);
    t.send(p, &retained("x", "v", QoS::AtMostOnce));
    assert!(t.closed(p).is_none());
    assert_eq!(t.broker.stats().retained, 0);
}
