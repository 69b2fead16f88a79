//! 5.0 properties allowed and not allowed in each packet a client sends, generated from the
//! table of section 2.2.2.2: a property identifier not valid for the packet (or valid for no
//! packet), alone, first, last or in the middle of its properties, makes it a Malformed
//! Packet, and a property that may appear once, twice, a Protocol Error, which the server
//! answers by closing the connection (5.0 [MQTT-4.13.1-1]): 1,156 sequences, each on its own
//! connection. Every allowed property is accepted.

use crate::cases::prelude::*;

pub(crate) const CASES: &[Case] = &[
    FORBIDDEN_CONNECT,
    FORBIDDEN_WILL,
    FORBIDDEN_PUBLISH,
    PUBLISH_SUBSCRIPTION_ID,
    FORBIDDEN_PUBACK,
    FORBIDDEN_PUBREC,
    FORBIDDEN_PUBREL,
    FORBIDDEN_PUBCOMP,
    FORBIDDEN_SUBSCRIBE,
    FORBIDDEN_UNSUBSCRIBE,
    FORBIDDEN_DISCONNECT,
    DUPLICATED,
    ALLOWED,
];

/// Every property identifier of 5.0 (Table 2-4).
const ALL_IDS: &[u8] = &[
    0x01, 0x02, 0x03, 0x08, 0x09, 0x0B, 0x11, 0x12, 0x13, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1A, 0x1C,
    0x1F, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28, 0x29, 0x2A,
];

/// The packets a client sends and the property identifiers each allows (Table 2-4).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Connect,
    /// The Will Properties of a CONNECT.
    Will,
    Publish,
    PubAck,
    PubRec,
    PubRel,
    PubComp,
    Subscribe,
    Unsubscribe,
    Disconnect,
}

impl Kind {
    /// Every packet (and the Will Properties) a client sends with properties.
    const ALL: [Kind; 10] = [
        Kind::Connect,
        Kind::Will,
        Kind::Publish,
        Kind::PubAck,
        Kind::PubRec,
        Kind::PubRel,
        Kind::PubComp,
        Kind::Subscribe,
        Kind::Unsubscribe,
        Kind::Disconnect,
    ];

    fn allowed(self) -> &'static [u8] {
        match self {
            Kind::Connect => &[0x11, 0x15, 0x16, 0x17, 0x19, 0x21, 0x22, 0x26, 0x27],
            Kind::Will => &[0x01, 0x02, 0x03, 0x08, 0x09, 0x18, 0x26],
            // 0x0B is listed for PUBLISH, but only from server to client: from a client it
            // is a Protocol Error (5.0 [MQTT-3.3.4-6]), checked by its own case.
            Kind::Publish => &[0x01, 0x02, 0x03, 0x08, 0x09, 0x0B, 0x23, 0x26],
            Kind::PubAck | Kind::PubRec | Kind::PubRel | Kind::PubComp => &[0x1F, 0x26],
            Kind::Subscribe => &[0x0B, 0x26],
            Kind::Unsubscribe => &[0x26],
            Kind::Disconnect => &[0x11, 0x1C, 0x1F, 0x26],
        }
    }

    fn name(self) -> &'static str {
        match self {
            Kind::Connect => "CONNECT",
            Kind::Will => "the Will Properties of CONNECT",
            Kind::Publish => "PUBLISH",
            Kind::PubAck => "PUBACK",
            Kind::PubRec => "PUBREC",
            Kind::PubRel => "PUBREL",
            Kind::PubComp => "PUBCOMP",
            Kind::Subscribe => "SUBSCRIBE",
            Kind::Unsubscribe => "UNSUBSCRIBE",
            Kind::Disconnect => "DISCONNECT",
        }
    }

    /// The allowed identifiers that may appear once only (every one but User Property, and the
    /// Subscription Identifier a server sends in PUBLISH): twice is a Protocol Error (the
    /// property definitions of 5.0 section 3).
    fn once_only(self) -> impl Iterator<Item = u8> {
        self.allowed()
            .iter()
            .copied()
            .filter(move |id| *id != 0x26 && !(self == Kind::Publish && *id == 0x0B))
    }

    /// The identifiers not allowed in this packet.
    fn forbidden(self) -> impl Iterator<Item = u8> {
        ALL_IDS
            .iter()
            .copied()
            .filter(move |id| !self.allowed().contains(id))
    }

    /// What the forbidden case of this packet sends: the identifiers it does not allow, and
    /// those no property has.
    fn refused_ids(self) -> Vec<u8> {
        self.forbidden().chain(UNKNOWN_IDS.iter().copied()).collect()
    }
}

/// One property `id` with a value well formed for its type.
fn property(id: u8) -> Vec<u8> {
    let mut out = vec![id];
    match id {
        // Byte.
        0x01 | 0x17 | 0x19 | 0x24 | 0x25 | 0x28 | 0x29 | 0x2A => out.push(1),
        // Two Byte Integer.
        0x13 | 0x21 | 0x22 | 0x23 => out.extend_from_slice(&10u16.to_be_bytes()),
        // Four Byte Integer.
        0x02 | 0x11 | 0x18 | 0x27 => out.extend_from_slice(&100u32.to_be_bytes()),
        // Variable Byte Integer.
        0x0B => out.push(1),
        // Binary Data.
        0x09 | 0x16 => out.extend_from_slice(&[0, 2, 0xAB, 0xCD]),
        // UTF-8 String Pair.
        0x26 => out.extend_from_slice(&[0, 1, b'k', 0, 1, b'v']),
        // UTF-8 Encoded String (Response Topic a valid topic name).
        _ => out.extend_from_slice(&[0, 3, b'a', b'/', b'b']),
    }
    out
}

/// Packet id `n` (not zero).
fn pid(n: u16) -> PacketId {
    PacketId::new(n).unwrap_or(PacketId::MIN)
}

/// `props` as a Property Length and the properties.
fn with_length(frame: Frame, props: &[u8]) -> Frame {
    frame.varint(props.len() as u32).bytes(props)
}

/// `kind` with the properties `props`, built by hand (nothing checked), for topic `topic` and
/// client id `client_id` (and, for CONNECT, the credentials of `login`).
fn packet(kind: Kind, props: &[u8], topic: &str, client_id: &str, login: &touchstone_codec::Connect) -> Bytes {
    let frame = match kind {
        Kind::Connect => with_login(
            with_length(
                Frame::new(0x10)
                    .string("MQTT")
                    .u8(5)
                    .u8(0x02 | login_flags(login))
                    .u16(60),
                props,
            )
            .string(client_id),
            login,
        ),
        Kind::Will => with_login(
            with_length(
                Frame::new(0x10)
                    .string("MQTT")
                    .u8(5)
                    .u8(0x06 | login_flags(login)) // Clean Start, Will Flag, Will QoS 0.
                    .u16(60),
                &[],
            )
            .string(client_id)
            .varint(props.len() as u32)
            .bytes(props)
            .string(topic)
            .string("w"),
            login,
        ),
        Kind::Publish => with_length(Frame::new(0x32).string(topic).u16(1), props).bytes(b"p"),
        Kind::PubAck => with_length(Frame::new(0x40).u16(7).u8(0), props),
        Kind::PubRec => with_length(Frame::new(0x50).u16(7).u8(0), props),
        Kind::PubRel => with_length(Frame::new(0x62).u16(7).u8(0), props),
        Kind::PubComp => with_length(Frame::new(0x70).u16(7).u8(0), props),
        Kind::Subscribe => with_length(Frame::new(0x82).u16(3), props)
            .string(topic)
            .u8(1),
        Kind::Unsubscribe => with_length(Frame::new(0xA2).u16(3), props).string(topic),
        Kind::Disconnect => with_length(Frame::new(0xE0).u8(0), props),
    };
    frame.to_bytes()
}

macro_rules! forbidden_case {
    ($name:ident, $kind:expr, $id:literal, $title:literal, [$($s:literal),*]) => {
        const $name: Case = Case {
            id: $id,
            title: $title,
            protocols: V5,
            statements: &[v5("MQTT-4.13.1-1") $(, v5($s))*],
            requires: &[],
            body: |t| Box::pin(forbidden(t, $kind, $kind.refused_ids())),
        };
    };
}

forbidden_case!(
    FORBIDDEN_CONNECT,
    Kind::Connect,
    "property-rules.connect-forbidden",
    "CONNECT with a property not allowed in CONNECT is refused and the connection closed",
    ["MQTT-3.1.4-1"]
);
forbidden_case!(
    FORBIDDEN_PUBLISH,
    Kind::Publish,
    "property-rules.publish-forbidden",
    "PUBLISH with a property not allowed in PUBLISH closes the connection",
    []
);
forbidden_case!(
    FORBIDDEN_PUBACK,
    Kind::PubAck,
    "property-rules.puback-forbidden",
    "PUBACK with a property not allowed in PUBACK closes the connection",
    []
);
forbidden_case!(
    FORBIDDEN_PUBREC,
    Kind::PubRec,
    "property-rules.pubrec-forbidden",
    "PUBREC with a property not allowed in PUBREC closes the connection",
    []
);
forbidden_case!(
    FORBIDDEN_PUBREL,
    Kind::PubRel,
    "property-rules.pubrel-forbidden",
    "PUBREL with a property not allowed in PUBREL closes the connection",
    []
);
forbidden_case!(
    FORBIDDEN_PUBCOMP,
    Kind::PubComp,
    "property-rules.pubcomp-forbidden",
    "PUBCOMP with a property not allowed in PUBCOMP closes the connection",
    []
);
forbidden_case!(
    FORBIDDEN_SUBSCRIBE,
    Kind::Subscribe,
    "property-rules.subscribe-forbidden",
    "SUBSCRIBE with a property not allowed in SUBSCRIBE closes the connection",
    []
);
forbidden_case!(
    FORBIDDEN_UNSUBSCRIBE,
    Kind::Unsubscribe,
    "property-rules.unsubscribe-forbidden",
    "UNSUBSCRIBE with a property not allowed in UNSUBSCRIBE closes the connection",
    []
);
forbidden_case!(
    FORBIDDEN_DISCONNECT,
    Kind::Disconnect,
    "property-rules.disconnect-forbidden",
    "DISCONNECT 0x00 with a property not allowed in DISCONNECT is malformed, so the Will is published",
    ["MQTT-3.1.2-8"]
);

/// A client's PUBLISH with a Subscription Identifier is a Protocol Error.
const PUBLISH_SUBSCRIPTION_ID: Case = Case {
    id: "property-rules.publish-subscription-identifier-closes",
    title:
        "A client's PUBLISH with a Subscription Identifier (a Protocol Error) closes the connection",
    protocols: V5,
    statements: &[v5("MQTT-3.3.4-6"), v5("MQTT-4.13.1-1")],
    requires: &[],
    body: |t| Box::pin(forbidden(t, Kind::Publish, vec![0x0B])),
};

/// One malformed variant of a packet: its properties, how the failure names them, the client
/// name of its connection.
struct Variant {
    props: Vec<u8>,
    what: String,
    name: String,
    /// The identifier it is about.
    id: u8,
}

/// Identifiers no property has (0x00, and values between and after the defined ones): a
/// packet with one is malformed wherever it is.
const UNKNOWN_IDS: &[u8] = &[0x00, 0x04, 0x0A, 0x2B, 0x7F];

/// Where a bad property sits among allowed ones (a User Property, which every packet a client
/// sends allows): alone, first, last, or in the middle.
const POSITIONS: [&str; 4] = ["alone", "first", "last", "middle"];

/// `kind` with each identifier in `ids`, at each of [`POSITIONS`].
fn forbidden_variants(ids: Vec<u8>) -> Vec<Variant> {
    let user = property(0x26);
    let mut out = Vec::new();
    for id in ids {
        let bad = property(id);
        for (n, position) in POSITIONS.iter().enumerate() {
            let props = match n {
                0 => bad.clone(),
                1 => [bad.clone(), user.clone()].concat(),
                2 => [user.clone(), bad.clone()].concat(),
                _ => [user.clone(), bad.clone(), user.clone()].concat(),
            };
            let name = touchstone_codec::properties::property_name(u32::from(id));
            out.push(Variant {
                props,
                what: format!("property 0x{id:02X} ({name}), {position} among its properties"),
                name: format!("p{id:02x}{n}"),
                id,
            });
        }
    }
    out
}

/// `kind` with each identifier of `ids`, at each position: see [`refused`].
async fn forbidden(t: &mut Test, kind: Kind, ids: Vec<u8>) -> Verdict {
    refused(t, kind, forbidden_variants(ids)).await
}

/// `kind` with each property it allows once only, twice (a DISCONNECT's Session Expiry
/// Interval 0, as in the CONNECT: another value would be a Protocol Error of its own).
fn duplicated_variants(kind: Kind) -> Vec<Variant> {
    kind.once_only()
        .map(|id| {
            let one = if kind == Kind::Disconnect && id == 0x11 {
                vec![0x11, 0, 0, 0, 0]
            } else {
                property(id)
            };
            (id, one)
        })
        .map(|(id, one)| Variant {
            props: [one.clone(), one].concat(),
            what: format!(
                "property 0x{id:02X} ({}) twice",
                touchstone_codec::properties::property_name(u32::from(id))
            ),
            name: format!("d{id:02x}"),
            id,
        })
        .collect()
}


/// For each variant: a fresh connection sends `kind` with its properties and the server closes
/// the connection (DISCONNECT 0x81/0x82, or CONNACK 0x81/0x82 for CONNECT, may come first).
/// DISCONNECT closes the connection anyway, so there the Will tells: a malformed DISCONNECT is
/// not a normal disconnection and the Will is published.
async fn refused(t: &mut Test, kind: Kind, variants: Vec<Variant>) -> Verdict {
    let topic = t.topic("x");
    let mut watcher = None;
    let connect = matches!(kind, Kind::Connect | Kind::Will);
    if connect {
        // Control: the same server accepts a CONNECT with no properties.
        let mut control = t.client("control").connect().await?;
        control.disconnect().await?;
    }
    if kind == Kind::Disconnect {
        let mut w = t.client("watcher").connect().await?;
        w.subscribe(&format!("{}/will/+", t.prefix()), Q0)
            .granted()
            .await?;
        watcher = Some(w);
    }
    for v in variants {
        let expected = format!(
            "the connection closed after {} with {}",
            kind.name(),
            v.what
        );
        let will_topic = format!("{}/will/{}", t.prefix(), v.name);
        let builder = t.client(&v.name);
        let login = builder.connect_packet();
        let mut c = match kind {
            Kind::Connect | Kind::Will => builder.open().await?,
            Kind::Disconnect => builder.will(&will_topic, "gone").connect().await?,
            _ => builder.connect().await?,
        };
        let client_id = c.client_id().to_string();
        let to = if kind == Kind::Will { &will_topic } else { &topic };
        c.send_raw(packet(kind, &v.props, to, &client_id, &login))
            .await?;
        let mut cite = vec![v5("MQTT-4.13.1-1")];
        if connect {
            cite.push(v5("MQTT-3.1.4-1"));
        }
        if kind == Kind::Publish && v.id == 0x0B {
            cite.push(v5("MQTT-3.3.4-6"));
        }
        match c.expect_closed().within(t.timeout()).because(&cite).await {
            Ok(_) => {}
            Err(CaseError::Fail(mut f)) => {
                f.expected = expected;
                return Err(CaseError::Fail(f));
            }
            Err(e) => return Err(e),
        }
        if let Some(w) = &mut watcher {
            w.expect(publish(&will_topic).payload("gone"))
                .because(&[v5("MQTT-3.1.2-8"), v5("MQTT-4.13.1-1")])
                .await?;
        }
    }
    if let Some(mut w) = watcher {
        w.disconnect().await?;
    }
    Ok(())
}

/// Will Properties with an identifier not allowed there: the CONNECT is malformed.
const FORBIDDEN_WILL: Case = Case {
    id: "property-rules.will-forbidden",
    title: "A Will Property not allowed in the Will Properties: the CONNECT is refused and the connection closed",
    protocols: V5,
    statements: &[v5("MQTT-4.13.1-1"), v5("MQTT-3.1.4-1")],
    requires: &[],
    body: |t| Box::pin(forbidden(t, Kind::Will, Kind::Will.refused_ids())),
};

/// Every property a packet allows once only, twice: a Protocol Error, for each packet a client
/// sends (the Will Properties too).
const DUPLICATED: Case = Case {
    id: "property-rules.duplicated-closes",
    title: "A property that may appear once, twice, in any packet a client sends: the connection closed",
    protocols: V5,
    statements: &[v5("MQTT-4.13.1-1"), v5("MQTT-3.1.4-1")],
    requires: &[],
    body: |t| Box::pin(duplicated(t)),
};

async fn duplicated(t: &mut Test) -> Verdict {
    for kind in Kind::ALL {
        refused(t, kind, duplicated_variants(kind)).await?;
    }
    Ok(())
}

/// Checks with PINGREQ that the connection is still open after `after`, a packet with allowed
/// properties that the server does not answer; a failure names that packet and cites `id`
/// (5.0), besides PINGRESP's own statement.
async fn still_open(c: &mut crate::harness::client::Client, after: &str, id: &'static str) -> Verdict {
    c.ping().await.map_err(|e| match e {
        CaseError::Fail(mut f) => {
            f.expected = format!("{} (the connection still open after {after})", f.expected);
            CaseError::Fail(f).because(&[v5(id)])
        }
        other => other,
    })
}

/// Every packet a client sends, with every property allowed in it, is accepted.
const ALLOWED: Case = Case {
    id: "property-rules.allowed-accepted",
    title: "CONNECT, PUBLISH, PUBACK, PUBREC, PUBREL, PUBCOMP, SUBSCRIBE, UNSUBSCRIBE and DISCONNECT with every allowed property are accepted",
    protocols: V5,
    statements: &[
        v5("MQTT-3.1.4-5"),
        v5("MQTT-4.3.2-4"),
        v5("MQTT-4.3.3-8"),
        v5("MQTT-4.3.2-3"),
        v5("MQTT-4.3.3-4"),
        v5("MQTT-4.3.3-5"),
        v5("MQTT-3.8.4-1"),
        v5("MQTT-3.10.4-4"),
        v5("MQTT-3.14.4-3"),
    ],
    requires: &[Qos1, Qos2],
    body: |t| Box::pin(allowed(t)),
};

/// The properties `kind` allows, except those the case cannot send blindly: Authentication
/// Method and Data (enhanced authentication, see the `auth` cases), Topic Alias (only if the
/// server allows aliases) and a client's Subscription Identifier in PUBLISH (a Protocol
/// Error).
fn allowed_props(t: &Test, kind: Kind) -> Vec<u8> {
    let aliases = t.capabilities().topic_alias_maximum >= 10;
    let mut out = Vec::new();
    for id in kind.allowed() {
        let skip = matches!(id, 0x15 | 0x16)
            || (kind == Kind::Publish && *id == 0x0B)
            || (*id == 0x23 && !aliases)
            || (kind == Kind::Disconnect && *id == 0x11);
        if !skip {
            out.extend(property(*id));
        }
    }
    if kind == Kind::Disconnect {
        // Session Expiry Interval 0, as in the CONNECT (a non-zero one would be a Protocol
        // Error, 5.0 [MQTT-3.14.2-2]).
        out.extend_from_slice(&[0x11, 0, 0, 0, 0]);
    }
    out
}

async fn allowed(t: &mut Test) -> Verdict {
    let topic = t.topic("x");
    let will_topic = t.topic("will");
    let mut watcher = t.client("watcher").connect().await?;
    watcher.subscribe(&will_topic, Q0).granted().await?;

    // CONNECT with every allowed property (Session Expiry Interval 0 is the one in the table).
    let builder = t.client("c").will(&will_topic, "gone");
    let login = builder.connect_packet();
    let mut c = builder.open().await?;
    let client_id = c.client_id().to_string();
    let mut connect_props = allowed_props(t, Kind::Connect);
    // Session Expiry Interval 0 (the table value 100 would keep a session).
    let at = connect_props.iter().position(|b| *b == 0x11).unwrap_or(0);
    connect_props[at + 1..at + 5].copy_from_slice(&[0, 0, 0, 0]);
    // Maximum Packet Size 65536 (the table value 100 would leave the copies of the PUBLISHes
    // below, which carry every property, a few bytes to spare: limits are the `limits` cases').
    if let Some(at) = connect_props.iter().position(|b| *b == 0x27) {
        connect_props[at + 1..at + 5].copy_from_slice(&65536u32.to_be_bytes());
    }
    let connect = with_length(
        Frame::new(0x10)
            .string("MQTT")
            .u8(5)
            .u8(0x06 | login_flags(&login)) // Clean Start, Will Flag, Will QoS 0.
            .u16(60),
        &connect_props,
    )
    .string(&client_id)
    .u8(0) // Will Properties: none.
    .string(&will_topic)
    .string("gone");
    let connect = with_login(connect, &login);
    c.send_raw(connect.to_bytes()).await?;
    c.expect(connack().accepted())
        .because(&[v5("MQTT-3.1.4-5")])
        .await?;

    // SUBSCRIBE (Subscription Identifier, User Property) to QoS 2.
    let sub = with_length(Frame::new(0x82).u16(3), &allowed_props(t, Kind::Subscribe))
        .string(&topic)
        .u8(2);
    c.send_raw(sub.to_bytes()).await?;
    let granted = c
        .expect(suback(pid(3)))
        .because(&[v5("MQTT-3.8.4-1")])
        .await?;
    check(
        granted.reason_codes.first().is_some_and(|r| r.0 == 2),
        "SUBACK granting QoS 2",
        || format!("{:?}", granted.reason_codes),
    )?;

    // PUBLISH QoS 1 with every allowed property: PUBACK, and the copy comes back.
    let pub_props = allowed_props(t, Kind::Publish);
    let publish1 = with_length(Frame::new(0x32).string(&topic).u16(11), &pub_props).bytes(b"p1");
    c.send_raw(publish1.to_bytes()).await?;
    c.expect(puback(pid(11)))
        .because(&[v5("MQTT-4.3.2-4")])
        .await?;
    let m = c.expect(any_publish().payload("p1")).await?;
    let (Some(id), Q1) = (m.packet_id, m.qos) else {
        return Err(CaseError::fail(
            "the message at QoS 1",
            summary::packet(&Packet::Publish(m)),
        ));
    };
    // PUBACK with Reason String and User Property.
    let ack = with_length(
        Frame::new(0x40).u16(id.get()).u8(0),
        &allowed_props(t, Kind::PubAck),
    );
    c.send_raw(ack.to_bytes()).await?;
    // A PUBACK answers nothing: a server that refused it closed the connection, and that must
    // be blamed on the PUBACK, not on the next packet's answer.
    still_open(&mut c, "the PUBACK with Reason String and User Property", "MQTT-4.3.2-3").await?;

    // PUBLISH QoS 2: PUBREC; PUBREL with properties: PUBCOMP.
    let publish2 = with_length(Frame::new(0x34).string(&topic).u16(12), &pub_props).bytes(b"p2");
    c.send_raw(publish2.to_bytes()).await?;
    c.expect(pubrec(pid(12)))
        .because(&[v5("MQTT-4.3.3-8")])
        .await?;
    let rel = with_length(
        Frame::new(0x62).u16(12).u8(0),
        &allowed_props(t, Kind::PubRel),
    );
    c.send_raw(rel.to_bytes()).await?;
    c.expect(pubcomp(pid(12))).await?;
    // The copy at QoS 2: PUBREC and PUBCOMP with properties.
    let m = c.expect(any_publish().payload("p2")).await?;
    let Some(id) = m.packet_id else {
        return Err(CaseError::fail(
            "the message at QoS 2",
            summary::packet(&Packet::Publish(m)),
        ));
    };
    let rec = with_length(
        Frame::new(0x50).u16(id.get()).u8(0),
        &allowed_props(t, Kind::PubRec),
    );
    c.send_raw(rec.to_bytes()).await?;
    c.expect(pubrel(id))
        .because(&[v5("MQTT-4.3.3-4")])
        .await?;
    let comp = with_length(
        Frame::new(0x70).u16(id.get()).u8(0),
        &allowed_props(t, Kind::PubComp),
    );
    c.send_raw(comp.to_bytes()).await?;
    still_open(&mut c, "the PUBCOMP with Reason String and User Property", "MQTT-4.3.3-5").await?;

    // UNSUBSCRIBE with a User Property.
    let unsub = with_length(
        Frame::new(0xA2).u16(4),
        &allowed_props(t, Kind::Unsubscribe),
    )
    .string(&topic);
    c.send_raw(unsub.to_bytes()).await?;
    c.expect(unsuback(pid(4)))
        .because(&[v5("MQTT-3.10.4-4")])
        .await?;
    c.ping().await?;

    // DISCONNECT 0x00 with Session Expiry Interval 0, Reason String and User Property: a
    // normal disconnection, so no Will.
    let disc = with_length(Frame::new(0xE0).u8(0), &allowed_props(t, Kind::Disconnect));
    c.send_raw(disc.to_bytes()).await?;
    // The client closes the connection after DISCONNECT (5.0 MQTT-3.14.4-2); the server SHOULD
    // close it too if the client has not (5.0 3.14.4): both are fine.
    let after = c.read_until_closed(t.quiet()).await?;
    t.observe(if after.closed.is_some() {
        "the server closed the connection after the client's DISCONNECT"
    } else {
        "the server left the close to the client after its DISCONNECT"
    });
    c.close().await;
    watcher
        .expect_no(publish(&will_topic), t.quiet())
        .await
        .map_err(|e| e.because(&[v5("MQTT-3.14.4-3")]))?;
    // Control: the same Will without the DISCONNECT is published.
    let mut d = t.client("d").will(&will_topic, "gone").connect().await?;
    d.close().await;
    watcher.expect(publish(&will_topic).payload("gone")).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_generated_property_matrix_has_1156_refused_sequences() {
        let forbidden: usize = Kind::ALL
            .iter()
            .map(|k| forbidden_variants(k.refused_ids()).len())
            .sum::<usize>()
            + forbidden_variants(vec![0x0B]).len();
        let duplicated: usize = Kind::ALL.iter().map(|k| duplicated_variants(*k).len()).sum();
        assert_eq!((forbidden, duplicated), (1128, 28));
        // Every identifier is either allowed or forbidden in each packet, none twice.
        for k in Kind::ALL {
            assert_eq!(k.allowed().len() + k.forbidden().count(), ALL_IDS.len(), "{k:?}");
        }
    }
}
