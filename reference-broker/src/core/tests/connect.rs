use touchstone_codec::{Disconnect, Packet, ReasonCode};

use super::*;
use crate::auth::Passwords;
use crate::core::CloseReason;

#[test]
fn v5_connack_advertises_the_configuration() {
    let mut t = broker_with(|c| {
        c.maximum_qos = QoS::AtLeastOnce;
        c.retain_available = false;
        c.wildcard_subscriptions = false;
        c.shared_subscriptions = false;
        c.subscription_identifiers = false;
        c.server_keep_alive = Some(7);
        c.maximum_packet_size = Some(4096);
    });
    let (_, ack) = t.connect(V5, connect("a", true));
    assert_eq!(ack.reason_code, ReasonCode::SUCCESS);
    assert!(!ack.session_present);
    let p = &ack.properties;
    assert_eq!(p.maximum_qos, Some(QoS::AtLeastOnce));
    assert_eq!(p.retain_available, Some(false));
    assert_eq!(p.wildcard_subscription_available, Some(false));
    assert_eq!(p.shared_subscription_available, Some(false));
    assert_eq!(p.subscription_identifiers_available, Some(false));
    assert_eq!(p.server_keep_alive, Some(7));
    assert_eq!(p.maximum_packet_size, Some(4096));
    assert_eq!(p.receive_maximum, Some(256));
    assert_eq!(p.topic_alias_maximum, Some(16));
    assert_eq!(p.assigned_client_identifier, None);
}

#[test]
fn empty_client_ids_are_assigned() {
    let mut t = broker();
    // 5.0 [MQTT-3.1.3-7], [MQTT-3.2.2-16].
    let (_, a) = t.connect(V5, connect("", true));
    let (_, b) = t.connect(V5, connect("", false));
    let ida = a.properties.assigned_client_identifier.clone().unwrap();
    let idb = b.properties.assigned_client_identifier.clone().unwrap();
    assert_ne!(ida, idb);
    assert!(t.broker.has_session(&ida));
    // 3.1.1 [MQTT-3.1.3-6]: with Clean Session 1 accepted ...
    let (_, c) = t.connect(V311, connect("", true));
    assert_eq!(c.reason_code, ReasonCode::SUCCESS);
    // ... and 3.1.1 [MQTT-3.1.3-8]: with Clean Session 0, 0x02 and close.
    let (conn, d) = t.connect(V311, connect("", false));
    assert_eq!(d.reason_code, ReasonCode::V3_IDENTIFIER_REJECTED);
    assert!(t.closed(conn).is_some());
}

#[test]
fn long_client_ids_can_be_refused() {
    let mut t = broker_with(|c| c.max_client_id_length = Some(4));
    let (_, a) = t.connect(V5, connect("12345", true));
    assert_eq!(a.reason_code, ReasonCode::CLIENT_IDENTIFIER_NOT_VALID);
    let (_, a) = t.connect(V311, connect("12345", true));
    assert_eq!(a.reason_code, ReasonCode::V3_IDENTIFIER_REJECTED);
    let (_, a) = t.connect(V311, connect("1234", true));
    assert_eq!(a.reason_code, ReasonCode::SUCCESS);
}

#[test]
fn session_present_follows_clean_session_3_1_1() {
    let mut t = broker();
    let (c, a) = t.connect(V311, connect("p", false));
    assert!(!a.session_present); // 3.1.1 [MQTT-3.2.2-3]
    t.send(c, &Packet::Disconnect(Disconnect::default()));
    assert!(t.closed(c).is_some());
    let (c, a) = t.connect(V311, connect("p", false));
    assert!(a.session_present); // 3.1.1 [MQTT-3.2.2-2]
    t.drop_conn(c);
    let (_, a) = t.connect(V311, connect("p", true));
    assert!(!a.session_present); // 3.1.1 [MQTT-3.2.2-1]
}

#[test]
fn v5_session_expiry_zero_ends_the_session_at_close() {
    let mut t = broker();
    let c = t.client(V5, "e", false, 0);
    t.drop_conn(c);
    assert!(!t.broker.has_session("e"));
    let c = t.client(V5, "e", false, 60);
    t.drop_conn(c);
    assert!(t.broker.has_session("e"));
    let (_, a) = t.connect(V5, connect("e", false));
    assert!(a.session_present);
}

#[test]
fn session_expiry_is_capped_and_the_cap_is_returned() {
    let mut t = broker_with(|c| c.max_session_expiry = 10);
    let mut c = connect("cap", true);
    c.properties.session_expiry_interval = Some(1000);
    let (_, a) = t.connect(V5, c);
    assert_eq!(a.properties.session_expiry_interval, Some(10));
}

#[test]
fn takeover_disconnects_the_old_connection() {
    let mut t = broker();
    let old = t.client(V5, "x", true, 0);
    let new = t.client(V5, "x", false, 0);
    // 5.0 [MQTT-3.1.4-3]: DISCONNECT 0x8E then close.
    match t.take(old).as_slice() {
        [Packet::Disconnect(d)] => assert_eq!(d.reason_code, ReasonCode::SESSION_TAKEN_OVER),
        other => panic!("{other:?}"),
    }
    assert_eq!(t.closed(old), Some(&CloseReason::TakenOver));
    assert!(t.closed(new).is_none());
    // 3.1.1 [MQTT-3.1.4-2]: the old connection is closed.
    let old = t.client(V311, "y", false, 0);
    let _new = t.client(V311, "y", false, 0);
    assert!(t.take(old).is_empty());
    assert_eq!(t.closed(old), Some(&CloseReason::TakenOver));
}

#[test]
fn a_second_connect_is_a_protocol_error() {
    let mut t = broker();
    let c = t.client(V5, "twice", true, 0);
    t.send(c, &Packet::Connect(Box::new(connect("twice", true))));
    match t.take(c).as_slice() {
        [Packet::Disconnect(d)] => assert_eq!(d.reason_code, ReasonCode::PROTOCOL_ERROR),
        other => panic!("{other:?}"),
    }
    assert!(t.closed(c).is_some());
}

#[test]
fn unsupported_protocol_level_gets_0x01() {
    let mut t = broker();
    let c = t.open(V311);
    // CONNECT "MQTT" level 6.
    t.send_raw(
        c,
        &[0x10, 0x0c, 0, 4, b'M', b'Q', b'T', b'T', 6, 2, 0, 60, 0, 0],
    );
    match t.take(c).as_slice() {
        [Packet::ConnAck(a)] => {
            assert_eq!(a.reason_code, ReasonCode::V3_UNACCEPTABLE_PROTOCOL_VERSION)
        }
        other => panic!("{other:?}"),
    }
    assert!(t.closed(c).is_some());
    // Not MQTT at all: closed without a CONNACK.
    let c = t.open(V311);
    t.send_raw(c, b"GET / HTTP/1.1\r\n\r\n");
    assert!(t.take(c).is_empty());
    assert!(t.closed(c).is_some());
}

#[test]
fn first_packet_must_be_connect() {
    let mut t = broker();
    let c = t.open(V311);
    t.send(c, &Packet::PingReq);
    assert!(t.take(c).is_empty());
    assert!(t.closed(c).is_some());
}

#[test]
fn max_connections_refuses_with_server_busy() {
    let mut t = broker_with(|c| c.max_connections = Some(1));
    t.client(V5, "one", true, 0);
    let (c, a) = t.connect(V5, connect("two", true));
    assert_eq!(a.reason_code, ReasonCode::SERVER_BUSY);
    assert!(t.closed(c).is_some());
    let (_, a) = t.connect(V311, connect("three", true));
    assert_eq!(a.reason_code, ReasonCode::V3_SERVER_UNAVAILABLE);
}

#[test]
fn user_names_and_passwords() {
    let mut t = broker_with(|c| {
        c.passwords = Some(Passwords::parse("alice:secret").unwrap());
        c.allow_anonymous = false;
    });
    let with = |user: &str, pw: &str| {
        let mut c = connect("u", true);
        c.username = Some(user.into());
        c.password = Some(Bytes::copy_from_slice(pw.as_bytes()));
        c
    };
    let (_, a) = t.connect(V5, with("alice", "secret"));
    assert_eq!(a.reason_code, ReasonCode::SUCCESS);
    let (_, a) = t.connect(V5, with("alice", "wrong"));
    assert_eq!(a.reason_code, ReasonCode::BAD_USER_NAME_OR_PASSWORD);
    let (_, a) = t.connect(V311, with("bob", "secret"));
    assert_eq!(a.reason_code, ReasonCode::V3_BAD_USER_NAME_OR_PASSWORD);
    let (_, a) = t.connect(V5, connect("anon", true));
    assert_eq!(a.reason_code, ReasonCode::NOT_AUTHORIZED);
    let (c, a) = t.connect(V311, connect("anon", true));
    assert_eq!(a.reason_code, ReasonCode::V3_NOT_AUTHORIZED);
    assert!(t.closed(c).is_some());
}

#[test]
fn will_beyond_capabilities_is_refused() {
    let mut t = broker_with(|c| {
        c.maximum_qos = QoS::AtMostOnce;
        c.retain_available = false;
    });
    let mut c = connect("w", true);
    c.will = Some(touchstone_codec::Will {
        topic: "w".into(),
        qos: QoS::AtLeastOnce,
        ..Default::default()
    });
    let (_, a) = t.connect(V5, c.clone());
    assert_eq!(a.reason_code, ReasonCode::QOS_NOT_SUPPORTED); // 5.0 [MQTT-3.2.2-12]
    c.will.as_mut().unwrap().qos = QoS::AtMostOnce;
    c.will.as_mut().unwrap().retain = true;
    let (_, a) = t.connect(V5, c);
    assert_eq!(a.reason_code, ReasonCode::RETAIN_NOT_SUPPORTED); // 5.0 [MQTT-3.2.2-13]
}

#[test]
fn disconnect_may_not_raise_a_zero_session_expiry() {
    let mut t = broker();
    let c = t.client(V5, "d", true, 0);
    let mut d = Disconnect::default();
    d.properties.session_expiry_interval = Some(30);
    t.send(c, &Packet::Disconnect(d));
    match t.take(c).as_slice() {
        [Packet::Disconnect(d)] => assert_eq!(d.reason_code, ReasonCode::PROTOCOL_ERROR),
        other => panic!("{other:?}"),
    }
    // With a non-zero interval in CONNECT, DISCONNECT may change it.
    let c = t.client(V5, "d2", true, 10);
    let mut d = Disconnect::default();
    d.properties.session_expiry_interval = Some(0);
    t.send(c, &Packet::Disconnect(d));
    assert!(!t.broker.has_session("d2"));
}
