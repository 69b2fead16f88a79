//! Keep-alive, will delay, message expiry, session expiry and retained expiry with injected
//! time.

use touchstone_codec::properties::WillProperties;
use touchstone_codec::{Packet, ReasonCode, Will};

use super::*;
use crate::core::CloseReason;

fn with_keep_alive(id: &str, secs: u16) -> Connect {
    let mut c = connect(id, true);
    c.keep_alive = secs;
    c
}

#[test]
fn keep_alive_closes_after_one_and_a_half_times() {
    let mut t = broker();
    let (c, _) = t.connect(V5, with_keep_alive("k", 10));
    t.advance(9_000);
    t.send(c, &Packet::PingReq); // resets the clock at 9 s
    assert_eq!(t.take(c), vec![Packet::PingResp]);
    t.advance(14_999);
    assert!(t.closed(c).is_none());
    t.advance(1);
    // 5.0 [MQTT-3.1.2-22]: DISCONNECT 0x8D, then close.
    match t.take(c).as_slice() {
        [Packet::Disconnect(d)] => assert_eq!(d.reason_code, ReasonCode::KEEP_ALIVE_TIMEOUT),
        other => panic!("{other:?}"),
    }
    assert_eq!(t.closed(c), Some(&CloseReason::KeepAliveTimeout));
}

#[test]
fn keep_alive_3_1_1_closes_without_disconnect_and_zero_disables() {
    let mut t = broker();
    let (c, _) = t.connect(V311, with_keep_alive("k3", 2));
    let (z, _) = t.connect(V311, with_keep_alive("k0", 0));
    t.advance(2_999);
    assert!(t.closed(c).is_none());
    t.advance(1);
    assert!(t.take(c).is_empty());
    assert_eq!(t.closed(c), Some(&CloseReason::KeepAliveTimeout));
    t.advance(1_000_000);
    assert!(t.closed(z).is_none());
}

#[test]
fn server_keep_alive_overrides_the_clients() {
    let mut t = broker_with(|c| c.server_keep_alive = Some(2));
    let (c, a) = t.connect(V5, with_keep_alive("s", 100));
    assert_eq!(a.properties.server_keep_alive, Some(2));
    t.advance(3_000);
    assert_eq!(t.closed(c), Some(&CloseReason::KeepAliveTimeout));
}

#[test]
fn connect_timeout() {
    let mut t = broker_with(|c| c.connect_timeout = 5);
    let c = t.open(V5);
    t.advance(4_999);
    assert!(t.closed(c).is_none());
    t.advance(1);
    assert_eq!(t.closed(c), Some(&CloseReason::ConnectTimeout));
}

fn will_connect(id: &str, delay: u32, expiry: u32) -> Connect {
    let mut c = connect(id, false);
    c.properties.session_expiry_interval = Some(expiry);
    let mut props = WillProperties::default();
    if delay > 0 {
        props.will_delay_interval = Some(delay);
    }
    c.will = Some(Will {
        topic: "will/t".into(),
        payload: Bytes::from_static(b"gone"),
        qos: QoS::AtLeastOnce,
        retain: false,
        properties: props.into(),
    });
    c
}

#[test]
fn will_delay_interval() {
    let mut t = broker();
    let watcher = t.client(V5, "watcher", true, 0);
    sub_ok(&mut t, watcher, "will/#", QoS::AtLeastOnce);
    let (c, _) = t.connect(V5, will_connect("w", 5, 100));
    t.drop_conn(c);
    t.advance(4_999);
    assert!(t.take(watcher).is_empty());
    t.advance(1);
    assert_eq!(payloads(t.take(watcher)), ["gone"]);

    // A new connection to the session within the delay: no Will (5.0 [MQTT-3.1.3-9]).
    let (c, _) = t.connect(V5, will_connect("w", 5, 100));
    t.drop_conn(c);
    t.advance(2_000);
    let (c, a) = t.connect(V5, will_connect("w", 5, 100));
    assert!(a.session_present);
    t.advance(10_000);
    assert!(t.take(watcher).is_empty());
    // Normal DISCONNECT: no Will (5.0 [MQTT-3.14.4-3]).
    t.send(c, &Packet::Disconnect(Default::default()));
    t.advance(10_000);
    assert!(t.take(watcher).is_empty());
}

#[test]
fn will_is_published_when_the_session_ends_first() {
    let mut t = broker();
    let watcher = t.client(V5, "watcher", true, 0);
    sub_ok(&mut t, watcher, "will/t", QoS::AtMostOnce);
    let (c, _) = t.connect(V5, will_connect("w", 60, 3));
    t.drop_conn(c);
    t.advance(2_999);
    assert!(t.take(watcher).is_empty());
    t.advance(1);
    assert_eq!(payloads(t.take(watcher)), ["gone"]);
    assert!(!t.broker.has_session("w"));
}

#[test]
fn will_with_disconnect_0x04_and_takeover() {
    let mut t = broker();
    let watcher = t.client(V5, "watcher", true, 0);
    sub_ok(&mut t, watcher, "will/t", QoS::AtMostOnce);
    let (c, _) = t.connect(V5, will_connect("w", 0, 0));
    t.send(
        c,
        &Packet::Disconnect(touchstone_codec::Disconnect::new(
            ReasonCode::DISCONNECT_WITH_WILL,
        )),
    );
    assert_eq!(payloads(t.take(watcher)), ["gone"]);
    // Takeover of a connection with a Will and no delay: the old connection's Will goes out.
    let (_old, _) = t.connect(V5, will_connect("w", 0, 100));
    let (_new, _) = t.connect(V5, connect("w", false));
    assert_eq!(payloads(t.take(watcher)), ["gone"]);
}

#[test]
fn message_expiry_while_queued() {
    let mut t = broker();
    let sub = t.client(V5, "s", false, 600);
    sub_ok(&mut t, sub, "m/#", QoS::AtLeastOnce);
    t.drop_conn(sub);
    let pubr = t.client(V5, "p", true, 0);
    for (topic, expiry) in [("m/a", 10), ("m/b", 2)] {
        let mut p = publish(topic, topic, QoS::AtLeastOnce, 1);
        p.properties.message_expiry_interval = Some(expiry);
        t.send(pubr, &Packet::Publish(p));
    }
    t.advance(3_500);
    let (sub, _) = t.connect(V5, connect("s", false));
    let got = publishes(t.take(sub));
    // m/b expired after 2 s (5.0 [MQTT-3.3.2-5]); m/a waited 3 s (5.0 [MQTT-3.3.2-6]).
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].topic, "m/a");
    assert_eq!(got[0].properties.message_expiry_interval, Some(7));
    t.drop_conn(sub);
}

#[test]
fn session_expiry() {
    let mut t = broker();
    let c = t.client(V5, "se", false, 5);
    t.drop_conn(c);
    t.advance(4_999);
    assert!(t.broker.has_session("se"));
    let (c, a) = t.connect(V5, connect("se", false));
    assert!(a.session_present);
    t.drop_conn(c);
    t.advance(5_000);
    assert!(!t.broker.has_session("se"));
    let (_, a) = t.connect(V5, connect("se", false));
    assert!(!a.session_present);
    // 0xFFFFFFFF: never.
    let c = t.client(V5, "forever", false, u32::MAX);
    t.drop_conn(c);
    t.advance(10_000_000_000);
    assert!(t.broker.has_session("forever"));
}

#[test]
fn retained_messages_expire() {
    let mut t = broker();
    let p = t.client(V5, "p", true, 0);
    let mut m = publish("r/1", "v", QoS::AtMostOnce, 0);
    m.retain = true;
    m.properties.message_expiry_interval = Some(2);
    t.send(p, &Packet::Publish(m));
    t.advance(1_200);
    let s = t.client(V5, "s", true, 0);
    t.send(s, &subscribe(1, "r/#", QoS::AtMostOnce));
    let got = publishes(t.take(s));
    assert_eq!(got.len(), 1);
    assert!(got[0].retain);
    assert_eq!(got[0].properties.message_expiry_interval, Some(1));
    t.advance(1_000);
    t.send(s, &subscribe(2, "r/#", QoS::AtMostOnce));
    assert!(publishes(t.take(s)).is_empty());
}
