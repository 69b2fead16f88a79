//! Helpers shared by the fuzz targets.

#![allow(dead_code)]

use bytes::BytesMut;
use touchstone_codec::{Decoder, ErrorKind, FixedHeader, Packet, Protocol, UserProperties};

/// The version a selector byte stands for (0: 3.1, 1: 3.1.1, 2: 5.0, and so on cyclically).
pub fn protocol(selector: u8) -> Protocol {
    Protocol::ALL[usize::from(selector) % 3]
}

/// Calls `f` with every string or binary field of `packet` that the decoder slices out of the
/// input (topic, payload, identifiers, string and binary properties), with its name.
pub fn each_field(packet: &Packet, mut f: impl FnMut(&'static str, &[u8])) {
    let mut opt = |name: &'static str, v: Option<&[u8]>| {
        if let Some(v) = v {
            f(name, v)
        }
    };
    match packet {
        Packet::Connect(c) => {
            opt("client_id", Some(c.client_id.as_bytes()));
            opt("username", c.username.as_deref().map(str::as_bytes));
            opt("password", c.password.as_deref());
            let p = &c.properties;
            opt(
                "authentication_method",
                p.authentication_method.as_deref().map(str::as_bytes),
            );
            opt("authentication_data", p.authentication_data.as_deref());
            if let Some(w) = &c.will {
                opt("will.topic", Some(w.topic.as_bytes()));
                opt("will.payload", Some(&w.payload));
                let p = &w.properties;
                opt(
                    "will.content_type",
                    p.content_type.as_deref().map(str::as_bytes),
                );
                opt(
                    "will.response_topic",
                    p.response_topic.as_deref().map(str::as_bytes),
                );
                opt("will.correlation_data", p.correlation_data.as_deref());
            }
        }
        Packet::ConnAck(c) => {
            let p = &c.properties;
            opt(
                "assigned_client_identifier",
                p.assigned_client_identifier.as_deref().map(str::as_bytes),
            );
            opt(
                "reason_string",
                p.reason_string.as_deref().map(str::as_bytes),
            );
            opt(
                "response_information",
                p.response_information.as_deref().map(str::as_bytes),
            );
            opt(
                "server_reference",
                p.server_reference.as_deref().map(str::as_bytes),
            );
            opt(
                "authentication_method",
                p.authentication_method.as_deref().map(str::as_bytes),
            );
            opt("authentication_data", p.authentication_data.as_deref());
        }
        Packet::Publish(x) => {
            opt("topic", Some(x.topic.as_bytes()));
            opt("payload", Some(&x.payload));
            let p = &x.properties;
            opt(
                "response_topic",
                p.response_topic.as_deref().map(str::as_bytes),
            );
            opt("correlation_data", p.correlation_data.as_deref());
            opt("content_type", p.content_type.as_deref().map(str::as_bytes));
        }
        Packet::PubAck(x) => opt(
            "reason_string",
            x.properties.reason_string.as_deref().map(str::as_bytes),
        ),
        Packet::PubRec(x) => opt(
            "reason_string",
            x.properties.reason_string.as_deref().map(str::as_bytes),
        ),
        Packet::PubRel(x) => opt(
            "reason_string",
            x.properties.reason_string.as_deref().map(str::as_bytes),
        ),
        Packet::PubComp(x) => opt(
            "reason_string",
            x.properties.reason_string.as_deref().map(str::as_bytes),
        ),
        Packet::SubAck(x) => opt(
            "reason_string",
            x.properties.reason_string.as_deref().map(str::as_bytes),
        ),
        Packet::UnsubAck(x) => opt(
            "reason_string",
            x.properties.reason_string.as_deref().map(str::as_bytes),
        ),
        Packet::Subscribe(x) => {
            for s in &x.filters {
                opt("filter", Some(s.filter.as_bytes()));
            }
        }
        Packet::Unsubscribe(x) => {
            for s in &x.filters {
                opt("filter", Some(s.as_bytes()));
            }
        }
        Packet::Disconnect(x) => {
            let p = &x.properties;
            opt(
                "reason_string",
                p.reason_string.as_deref().map(str::as_bytes),
            );
            opt(
                "server_reference",
                p.server_reference.as_deref().map(str::as_bytes),
            );
        }
        Packet::Auth(x) => {
            let p = &x.properties;
            opt(
                "authentication_method",
                p.authentication_method.as_deref().map(str::as_bytes),
            );
            opt("authentication_data", p.authentication_data.as_deref());
            opt(
                "reason_string",
                p.reason_string.as_deref().map(str::as_bytes),
            );
        }
        Packet::PingReq | Packet::PingResp => {}
    }
}

/// Every User Properties list of `packet`.
pub fn each_user_properties(packet: &Packet, mut f: impl FnMut(&UserProperties)) {
    match packet {
        Packet::Connect(c) => {
            f(&c.properties.user_properties);
            if let Some(w) = &c.will {
                f(&w.properties.user_properties);
            }
        }
        Packet::ConnAck(c) => f(&c.properties.user_properties),
        Packet::Publish(x) => f(&x.properties.user_properties),
        Packet::PubAck(x) => f(&x.properties.user_properties),
        Packet::PubRec(x) => f(&x.properties.user_properties),
        Packet::PubRel(x) => f(&x.properties.user_properties),
        Packet::PubComp(x) => f(&x.properties.user_properties),
        Packet::Subscribe(x) => f(&x.properties.user_properties),
        Packet::SubAck(x) => f(&x.properties.user_properties),
        Packet::Unsubscribe(x) => f(&x.properties.user_properties),
        Packet::UnsubAck(x) => f(&x.properties.user_properties),
        Packet::Disconnect(x) => f(&x.properties.user_properties),
        Packet::Auth(x) => f(&x.properties.user_properties),
        Packet::PingReq | Packet::PingResp => {}
    }
}

/// The address range of an input buffer, which every slice a decoded packet holds must lie in.
#[derive(Clone, Copy)]
pub struct Region {
    start: usize,
    len: usize,
}

impl Region {
    pub fn of(bytes: &[u8]) -> Self {
        Region {
            start: bytes.as_ptr() as usize,
            len: bytes.len(),
        }
    }

    fn contains(self, v: &[u8]) -> bool {
        let s = v.as_ptr() as usize;
        self.start <= s && s + v.len() <= self.start + self.len
    }
}

/// Checks that a packet decoded from a `frame_len`-byte packet of the buffer `input` owns
/// nothing out of proportion to it: every string, binary field and payload is a slice of the
/// input (zero-copy), and lists and User Properties (which may be copied) are bounded by the
/// packet's own size.
pub fn check_footprint(packet: &Packet, input: Region, frame_len: usize) {
    each_field(packet, |name, v| {
        // Empty slices may be the static empty `Bytes`; strings of up to 38 bytes are kept
        // inline (a copy), binary fields and payloads always share the input.
        let binary = ["password", "payload", "correlation_data", "authentication_data"]
            .iter()
            .any(|b| name.ends_with(b));
        assert!(
            v.is_empty() || input.contains(v) || (!binary && v.len() <= 38),
            "{name} ({} bytes) is not a slice of the input: decoding copied it",
            v.len()
        );
    });
    let mut user_bytes = 0usize;
    each_user_properties(packet, |u| {
        user_bytes += u.iter().map(|(k, v)| 5 + k.len() + v.len()).sum::<usize>();
    });
    assert!(
        user_bytes <= frame_len,
        "User Properties hold {user_bytes} bytes, more than the {frame_len}-byte packet"
    );
    let (len, cap) = match packet {
        Packet::Subscribe(x) => (x.filters.len(), x.filters.capacity()),
        Packet::Unsubscribe(x) => (x.filters.len(), x.filters.capacity()),
        Packet::SubAck(x) => (x.reason_codes.len(), x.reason_codes.capacity()),
        Packet::UnsubAck(x) => (x.reason_codes.len(), x.reason_codes.capacity()),
        Packet::Publish(x) => (
            x.properties.subscription_identifiers.len(),
            x.properties.subscription_identifiers.capacity(),
        ),
        _ => (0, 0),
    };
    assert!(
        len <= frame_len,
        "{len} list entries from a {frame_len}-byte packet"
    );
    assert!(
        cap <= 2 * frame_len + 8,
        "list capacity {cap} for a {frame_len}-byte packet"
    );
}

/// Decodes `data` as a stream of `protocol` packets with the streaming decoder until it needs
/// more bytes or fails. Must never panic; checks each packet's footprint, and that a failed
/// decode leaves the buffer as it was and explains itself.
pub fn decode_stream(protocol: Protocol, data: &[u8]) {
    let decoder = Decoder::new(protocol);
    let mut buf = BytesMut::from(data);
    let input = Region::of(&buf);
    let mut consumed = 0usize;
    loop {
        let before = buf.len();
        match decoder.decode(&mut buf) {
            Ok(Some(packet)) => {
                let n = before - buf.len();
                assert!(n >= 2, "a packet of {n} bytes");
                check_footprint(&packet, input, n);
                consumed += n;
            }
            Ok(None) => {
                assert_eq!(&buf[..], &data[consumed..], "Ok(None) consumed bytes");
                break;
            }
            Err(e) => {
                // A bad fixed header leaves the buffer as it was; a bad body takes the whole
                // invalid packet out of it.
                let rest = &data[consumed..];
                let left = match FixedHeader::parse(rest, protocol, decoder.max_packet_size()) {
                    Ok(Some(h)) => {
                        assert!(e.offset <= h.packet_len(), "error offset {} past the packet: {e}", e.offset);
                        &rest[h.packet_len()..]
                    }
                    _ => rest,
                };
                assert_eq!(&buf[..], left, "a failed decode must remove exactly the invalid packet, or nothing");
                assert_ne!(e.kind, ErrorKind::Incomplete, "{e}");
                assert!(e.reason_code.is_some(), "{e}");
                assert!(
                    e.offset <= rest.len(),
                    "error offset {} past the {} bytes buffered: {e}",
                    e.offset,
                    rest.len()
                );
                break;
            }
        }
    }
}

/// Routes a PUBLISH on `name` through the broker core to one 5.0 session per valid filter of
/// `filters` (shared subscriptions included) and checks who got it against the naive matcher:
/// every plain subscription whose filter matches, exactly one member of each matching share
/// group, nobody else.
pub fn broker_routes_like_the_model(filters: &[String], name: &str) {
    use touchstone_broker::core::testkit::TestBroker;
    use touchstone_broker::fuzzing::{naive_filter, naive_matches, naive_topic_name};
    use touchstone_codec::{PacketId, QoS, Subscribe, Subscription};

    if !naive_topic_name(name) {
        return;
    }
    let mut t = TestBroker::new(touchstone_broker::Config::default());
    let mut subs = Vec::new();
    for (i, f) in filters.iter().enumerate() {
        let Some((share, inner)) = naive_filter(f, true) else {
            continue;
        };
        let conn = t.client(Protocol::V5, &format!("s{i}"), true, 0);
        let s = Subscribe {
            packet_id: PacketId::MIN,
            properties: Default::default(),
            filters: vec![Subscription::new(f.as_str(), QoS::AtMostOnce)],
        };
        t.send(conn, &Packet::Subscribe(s));
        let ack = t.take(conn);
        assert!(
            matches!(ack.as_slice(), [Packet::SubAck(a)] if a.reason_codes[0].is_success()),
            "SUBSCRIBE {f:?}: {ack:?}"
        );
        subs.push((conn, share.map(str::to_string), inner.to_string()));
    }
    let publisher = t.client(Protocol::V5, "publisher", true, 0);
    let publish = touchstone_codec::Publish::new(name, "x");
    t.send(publisher, &Packet::Publish(publish));
    assert!(t.take(publisher).is_empty());
    let mut groups: std::collections::HashMap<(String, String), usize> = Default::default();
    for (conn, share, inner) in &subs {
        let got = t.take(*conn);
        assert!(got.len() <= 1, "{inner:?} got {} copies", got.len());
        let matched = naive_matches(inner, name);
        match share {
            None => assert_eq!(
                got.len() == 1,
                matched,
                "subscription {inner:?} and PUBLISH on {name:?}"
            ),
            Some(g) => {
                assert!(matched || got.is_empty(), "$share/{g}/{inner} got {name:?}");
                if matched {
                    *groups.entry((g.clone(), inner.clone())).or_default() += got.len();
                }
            }
        }
    }
    for ((g, inner), n) in groups {
        assert_eq!(
            n, 1,
            "share group {g} of {inner:?}: {n} members got {name:?}"
        );
    }
    assert!(!t.sent_garbage_anywhere());
}
