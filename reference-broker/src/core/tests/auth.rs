//! Enhanced authentication with SCRAM-SHA-256.

use touchstone_codec::{Auth, ConnAck, Packet, ReasonCode};

use super::*;
use crate::auth::scram::{ScramClient, METHOD};
use crate::auth::Passwords;

fn scram_broker() -> TestBroker {
    broker_with(|c| {
        c.passwords =
            Some(Passwords::parse(&Passwords::hash_line("alice", "pw", b"salt", 64)).unwrap());
        c.allow_anonymous = false;
    })
}

fn auth(code: ReasonCode, data: Vec<u8>) -> Packet {
    let mut a = Auth {
        reason_code: code,
        ..Auth::default()
    };
    a.properties.authentication_method = Some(METHOD.into());
    a.properties.authentication_data = Some(Bytes::from(data));
    Packet::Auth(a)
}

fn start(t: &mut TestBroker, client: &ScramClient) -> (crate::core::ConnectionId, Vec<Packet>) {
    let c = t.open(V5);
    let mut connect = connect("scram", true);
    connect.properties.authentication_method = Some(METHOD.into());
    connect.properties.authentication_data = Some(Bytes::from(client.client_first()));
    t.send(c, &Packet::Connect(Box::new(connect)));
    let got = t.take(c);
    (c, got)
}

#[test]
fn scram_sha_256_connect_and_reauthenticate() {
    let mut t = scram_broker();
    let mut client = ScramClient::new("alice", "pw", "nonce1");
    let (c, got) = start(&mut t, &client);
    let first = match got.as_slice() {
        [Packet::Auth(a)] => {
            assert_eq!(a.reason_code, ReasonCode::CONTINUE_AUTHENTICATION); // 5.0 [MQTT-4.12.0-2]
            a.properties.authentication_data.clone().unwrap()
        }
        other => panic!("{other:?}"),
    };
    let last = client.client_final(&first).unwrap();
    t.send(c, &auth(ReasonCode::CONTINUE_AUTHENTICATION, last));
    let ack: ConnAck = match t.take(c).as_slice() {
        [Packet::ConnAck(a)] => (**a).clone(),
        other => panic!("{other:?}"),
    };
    assert_eq!(ack.reason_code, ReasonCode::SUCCESS);
    assert_eq!(
        ack.properties.authentication_method.as_deref(),
        Some(METHOD)
    ); // [MQTT-4.12.0-5]
    assert!(client.verify_server(ack.properties.authentication_data.as_ref().unwrap()));

    // Re-authentication (5.0 section 4.12.1).
    let mut again = ScramClient::new("alice", "pw", "nonce2");
    t.send(c, &auth(ReasonCode::RE_AUTHENTICATE, again.client_first()));
    let first = match t.take(c).as_slice() {
        [Packet::Auth(a)] => a.properties.authentication_data.clone().unwrap(),
        other => panic!("{other:?}"),
    };
    let last = again.client_final(&first).unwrap();
    t.send(c, &auth(ReasonCode::CONTINUE_AUTHENTICATION, last));
    match t.take(c).as_slice() {
        [Packet::Auth(a)] => {
            assert_eq!(a.reason_code, ReasonCode::SUCCESS);
            assert!(again.verify_server(a.properties.authentication_data.as_ref().unwrap()));
        }
        other => panic!("{other:?}"),
    }
    assert!(t.closed(c).is_none());
}

#[test]
fn scram_wrong_password_unknown_method_and_stray_auth() {
    let mut t = scram_broker();
    let mut client = ScramClient::new("alice", "wrong", "n");
    let (c, got) = start(&mut t, &client);
    let first = match got.as_slice() {
        [Packet::Auth(a)] => a.properties.authentication_data.clone().unwrap(),
        other => panic!("{other:?}"),
    };
    t.send(
        c,
        &auth(
            ReasonCode::CONTINUE_AUTHENTICATION,
            client.client_final(&first).unwrap(),
        ),
    );
    match t.take(c).as_slice() {
        [Packet::ConnAck(a)] => assert_eq!(a.reason_code, ReasonCode::BAD_USER_NAME_OR_PASSWORD),
        other => panic!("{other:?}"),
    }
    assert!(t.closed(c).is_some());

    let mut connect = connect("x", true);
    connect.properties.authentication_method = Some("PLAIN-TEXT".into());
    let (_, a) = t.connect(V5, connect);
    assert_eq!(a.reason_code, ReasonCode::BAD_AUTHENTICATION_METHOD); // 5.0 [MQTT-4.12.0-1]

    // AUTH from a client that did not start enhanced authentication (5.0 [MQTT-4.12.0-7]).
    let mut t = broker();
    let c = t.client(V5, "plain", true, 0);
    t.send(c, &auth(ReasonCode::RE_AUTHENTICATE, vec![]));
    match t.take(c).as_slice() {
        [Packet::Disconnect(d)] => assert_eq!(d.reason_code, ReasonCode::PROTOCOL_ERROR),
        other => panic!("{other:?}"),
    }
}
