//! Property-based round trips of the reference codec.
//!
//! For each of the fifteen packet types and each protocol version it exists in, arbitrary
//! *valid* packets (what the MQTT specification allows: valid topic names and filters, reason
//! codes from the per-packet tables, 5.0 properties in their ranges) must
//!
//! 1. pass `check` and `encode`;
//! 2. decode back to an equal packet, consuming exactly the encoded bytes;
//! 3. carry a Remaining Length equal to the bytes after the fixed header, and agree with
//!    `remaining_length` and `encoded_len`;
//! 4. decode the same when streamed in chunks (`Ok(None)` until the last byte);
//! 5. decode in order when several are concatenated in one buffer.
//!
//! Negative round trips check that what the checked encoder rejects the decoder rejects too
//! (where the unchecked encoding writes the invalid value as it is), and that whatever the
//! decoder accepts from mutated bytes passes `check` and round-trips.

use std::num::NonZeroU16;

use bytes::{Bytes, BytesMut};
use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;
use proptest::sample::{select, Index};
use proptest::strategy::Union;
use touchstone_codec::properties::{
    AckProperties, AuthProperties, ConnAckProperties, ConnectProperties, DisconnectProperties,
    PublishProperties, SubscribeProperties, UnsubscribeProperties, WillProperties,
};
use touchstone_codec::{
    decode_slice, read_varint, varint_len, Auth, ConnAck, Connect, DecodeError, Decoder,
    Disconnect, ErrorKind, FixedHeader, Packet, PacketId, PacketType, PayloadFormat, Protocol,
    PubAck, PubComp, PubRec, PubRel, Publish, QoS, ReasonCode, RetainHandling, Str, SubAck,
    Subscribe, Subscription, SubscriptionOptions, UnsubAck, Unsubscribe, UserProperties, Varint,
    Will, MAX_PACKET_SIZE, VARINT_MAX,
};

/// The valid reason codes of each packet (a copy of the crate-private `reason::valid` tables,
/// from the 5.0 tables in 3.2.2.2, 3.4.2.1, ..., 3.15.2.1 and 3.1.1 Table 3.1 and 3.9.3).
mod codes {
    pub const CONNACK: &[u8] = &[
        0x00, 0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8A, 0x8C, 0x90, 0x95,
        0x97, 0x99, 0x9A, 0x9B, 0x9C, 0x9D, 0x9F,
    ];
    pub const PUBACK: &[u8] = &[0x00, 0x10, 0x80, 0x83, 0x87, 0x90, 0x91, 0x97, 0x99];
    pub const PUBREL: &[u8] = &[0x00, 0x92];
    pub const SUBACK: &[u8] = &[
        0x00, 0x01, 0x02, 0x80, 0x83, 0x87, 0x8F, 0x91, 0x97, 0x9E, 0xA1, 0xA2,
    ];
    pub const UNSUBACK: &[u8] = &[0x00, 0x11, 0x80, 0x83, 0x87, 0x8F, 0x91];
    pub const DISCONNECT: &[u8] = &[
        0x00, 0x04, 0x80, 0x81, 0x82, 0x83, 0x87, 0x89, 0x8B, 0x8D, 0x8E, 0x8F, 0x90, 0x93, 0x94,
        0x95, 0x96, 0x97, 0x98, 0x99, 0x9A, 0x9B, 0x9C, 0x9D, 0x9E, 0x9F, 0xA0, 0xA1, 0xA2,
    ];
    pub const AUTH: &[u8] = &[0x00, 0x18, 0x19];
    pub const V3_CONNACK: &[u8] = &[0x00, 0x01, 0x02, 0x03, 0x04, 0x05];
    pub const V3_SUBACK: &[u8] = &[0x00, 0x01, 0x02, 0x80];
    /// Only Success exists in 3.1.1 acknowledgements and DISCONNECT.
    pub const V3_SUCCESS: &[u8] = &[0x00];
}

const ALL_TYPES: [PacketType; 15] = [
    PacketType::Connect,
    PacketType::ConnAck,
    PacketType::Publish,
    PacketType::PubAck,
    PacketType::PubRec,
    PacketType::PubRel,
    PacketType::PubComp,
    PacketType::Subscribe,
    PacketType::SubAck,
    PacketType::Unsubscribe,
    PacketType::UnsubAck,
    PacketType::PingReq,
    PacketType::PingResp,
    PacketType::Disconnect,
    PacketType::Auth,
];

fn types_of(p: Protocol) -> impl Iterator<Item = PacketType> {
    ALL_TYPES
        .into_iter()
        .filter(move |t| p.is_v5() || *t != PacketType::Auth)
}

/// 256 cases per test; `PROPTEST_CASES` overrides it for deeper runs.
fn config() -> ProptestConfig {
    if std::env::var_os("PROPTEST_CASES").is_some() {
        ProptestConfig::default()
    } else {
        ProptestConfig::with_cases(256)
    }
}

// ---------------------------------------------------------------------------------------------
// Scalars, strings, topics
// ---------------------------------------------------------------------------------------------

/// Characters of strings: mostly ASCII, often multi-byte, sometimes anything (never U+0000).
fn text_char() -> impl Strategy<Value = char> {
    prop_oneof![
        8 => proptest::char::range('a', 'z'),
        3 => select(vec![
            'A', 'Z', '0', '9', ' ', '-', '_', '.', '$', '/', '+', '#', '\u{1}', '\u{1f}',
            '\u{7f}', '\u{80}', '\u{9f}', 'é', 'ß', 'Ω', '日', '本', '\u{7ff}', '\u{800}',
            '\u{d7ff}', '\u{e000}', '\u{feff}', '\u{fffd}', '\u{ffff}', '🦀', '\u{10000}',
            '\u{10ffff}',
        ]),
        1 => any::<char>(),
    ]
    .prop_map(|c| if c == '\0' { 'z' } else { c })
}

/// Characters of one topic level: no `/`, no wildcard, no U+0000.
fn level_char() -> impl Strategy<Value = char> {
    text_char().prop_map(|c| match c {
        '/' => 's',
        '+' => 'p',
        '#' => 'h',
        c => c,
    })
}

fn string_of(
    ch: impl Strategy<Value = char> + 'static,
    len: std::ops::Range<usize>,
) -> BoxedStrategy<String> {
    vec(ch, len)
        .prop_map(|v| v.into_iter().collect::<String>())
        .boxed()
}

/// Any MQTT UTF-8 string (possibly empty).
fn text() -> BoxedStrategy<String> {
    prop_oneof![
        1 => Just(String::new()),
        8 => string_of(text_char(), 1..12),
        1 => string_of(text_char(), 100..250),
    ]
    .boxed()
}

fn s_str() -> BoxedStrategy<Str> {
    text().prop_map(Str::from).boxed()
}

/// Deterministic filler for large fields (cheap to generate and to shrink).
fn pattern(n: usize, seed: u8) -> Bytes {
    (0..n)
        .map(|i| (i as u8).wrapping_mul(31) ^ seed)
        .collect::<Vec<u8>>()
        .into()
}

fn s_bytes(max: usize) -> BoxedStrategy<Bytes> {
    prop_oneof![
        1 => Just(Bytes::new()),
        6 => vec(any::<u8>(), 0..max).prop_map(Bytes::from),
    ]
    .boxed()
}

/// Payloads: mostly small, sometimes above 127 bytes, occasionally above 16,383 bytes so that
/// the Remaining Length takes 2 and 3 bytes.
fn payload() -> BoxedStrategy<Bytes> {
    prop_oneof![
        2 => Just(Bytes::new()),
        20 => vec(any::<u8>(), 0..48).prop_map(Bytes::from),
        6 => vec(any::<u8>(), 100..400).prop_map(Bytes::from),
        2 => (16_300usize..16_500, any::<u8>()).prop_map(|(n, s)| pattern(n, s)),
    ]
    .boxed()
}

fn qos() -> impl Strategy<Value = QoS> {
    select(vec![QoS::AtMostOnce, QoS::AtLeastOnce, QoS::ExactlyOnce])
}

fn packet_id() -> impl Strategy<Value = PacketId> {
    prop_oneof![
        1 => Just(1u16),
        1 => Just(u16::MAX),
        1 => Just(256u16),
        6 => 1..=u16::MAX,
    ]
    .prop_map(|v| NonZeroU16::new(v).expect("non-zero"))
}

fn any_u16() -> impl Strategy<Value = u16> {
    prop_oneof![Just(0u16), Just(u16::MAX), any::<u16>()]
}

fn non_zero_u16() -> impl Strategy<Value = u16> {
    prop_oneof![Just(1u16), Just(u16::MAX), 1..=u16::MAX]
}

fn any_u32() -> impl Strategy<Value = u32> {
    prop_oneof![Just(0u32), Just(u32::MAX), any::<u32>()]
}

fn non_zero_u32() -> impl Strategy<Value = u32> {
    prop_oneof![Just(1u32), Just(u32::MAX), 1..=u32::MAX]
}

/// Subscription Identifier: 1 to 268,435,455, with the varint length boundaries.
fn subscription_id() -> impl Strategy<Value = u32> {
    prop_oneof![
        1 => select(vec![1u32, 127, 128, 16_383, 16_384, 2_097_151, 2_097_152, VARINT_MAX]),
        3 => 1..=VARINT_MAX,
    ]
}

fn opt<T: std::fmt::Debug + Clone>(
    s: impl Strategy<Value = T>,
) -> impl Strategy<Value = Option<T>> {
    option::weighted(0.4, s)
}

fn code(p: Protocol, v5: &'static [u8], v3: &'static [u8]) -> BoxedStrategy<ReasonCode> {
    select(if p.is_v5() { v5 } else { v3 })
        .prop_map(ReasonCode)
        .boxed()
}

/// One topic level (possibly empty).
fn topic_level() -> BoxedStrategy<String> {
    string_of(level_char(), 0..7)
}

/// A valid topic name: non-empty, no wildcards, no U+0000; with `$` topics, multi-byte
/// characters and the `/` edge cases.
fn topic_name() -> BoxedStrategy<String> {
    prop_oneof![
        10 => vec(topic_level(), 1..5).prop_map(|l| {
            let s = l.join("/");
            if s.is_empty() { "t".to_string() } else { s }
        }),
        3 => select(vec![
            "/", "//", "///", "a//b", "/a", "a/", "a", "$SYS/broker/load", "$SYS", "$", "$/",
            "$share/g/t", "$share", " ", "a b/c d", "🦀/é/日本", "sport/tennis/player1",
            "\u{feff}", "\u{ffff}/\u{10ffff}",
        ])
        .prop_map(String::from),
        2 => vec(topic_level(), 1..4).prop_map(|l| format!("${}", l.join("/"))),
        1 => (150usize..400, topic_level()).prop_map(|(n, l)| {
            let mut s = l;
            while s.len() < n {
                s.push_str("/level");
            }
            s
        }),
    ]
    .boxed()
}

/// A valid topic filter without the shared-subscription prefix (4.7.1): `+` fills a level,
/// `#` is alone in the last level.
fn plain_filter() -> BoxedStrategy<String> {
    let level = prop_oneof![3 => topic_level(), 1 => Just("+".to_string())];
    prop_oneof![
        8 => (vec(level, 0..5), any::<bool>()).prop_map(|(mut levels, hash)| {
            if hash || levels.is_empty() {
                levels.push("#".to_string());
            }
            let s = levels.join("/");
            if s.is_empty() { "#".to_string() } else { s }
        }),
        3 => select(vec![
            "#", "+", "/", "//", "+/+", "/+", "+/", "/#", "+/#", "a//b", "a/+/b", "$SYS/#",
            "$SYS/+/x", "sport/tennis/+/#", "🦀/+/日本/#", "$", "$share", "$sharex/a",
        ])
        .prop_map(String::from),
        2 => topic_name(),
    ]
    // A `$share/` prefix belongs to `shared_filter` (it has its own rules in 5.0).
    .prop_map(|f| {
        if f.starts_with("$share/") {
            format!("x{f}")
        } else {
            f
        }
    })
    .boxed()
}

/// A shared subscription `$share/{ShareName}/{filter}` (5.0 4.8.2); an ordinary filter in
/// 3.1.1.
fn shared_filter() -> BoxedStrategy<String> {
    (string_of(level_char(), 1..6), plain_filter())
        .prop_map(|(name, f)| format!("$share/{name}/{f}"))
        .boxed()
}

/// A valid topic filter of `p`. In 3.1.1 `$share/...` is an ordinary filter, so forms that
/// are invalid shared subscriptions in 5.0 are valid there.
fn topic_filter(p: Protocol) -> BoxedStrategy<String> {
    if p.is_v5() {
        prop_oneof![4 => plain_filter(), 1 => shared_filter()].boxed()
    } else {
        prop_oneof![
            8 => plain_filter(),
            2 => shared_filter(),
            1 => select(vec!["$share//a", "$share/", "$share/g", "$share/g/", "$share//", "$share/+/#"])
                .prop_map(String::from),
        ]
        .boxed()
    }
}

// ---------------------------------------------------------------------------------------------
// 5.0 properties
// ---------------------------------------------------------------------------------------------

/// User Properties: often none, else some pairs with repeated names and empty strings.
fn user_properties() -> BoxedStrategy<UserProperties> {
    let name = prop_oneof![
        2 => select(vec!["", "k", "k", "key", "名前"]).prop_map(String::from),
        3 => text(),
    ];
    let value = prop_oneof![1 => Just(String::new()), 4 => text()];
    prop_oneof![
        2 => Just(UserProperties::new()),
        3 => vec((name, value), 1..5).prop_map(UserProperties::from_pairs),
    ]
    .boxed()
}

/// Empty property sets are frequent, to exercise the short forms.
fn maybe_empty<T: Default + Clone + std::fmt::Debug + 'static>(
    s: impl Strategy<Value = T> + 'static,
) -> BoxedStrategy<T> {
    prop_oneof![1 => Just(T::default()), 3 => s].boxed()
}

fn payload_format() -> impl Strategy<Value = PayloadFormat> {
    select(vec![PayloadFormat::Unspecified, PayloadFormat::Utf8])
}

fn response_topic() -> BoxedStrategy<Str> {
    topic_name().prop_map(Str::from).boxed()
}

fn connect_properties() -> BoxedStrategy<ConnectProperties> {
    maybe_empty(
        (
            (
                opt(any_u32()),
                opt(non_zero_u16()),
                opt(non_zero_u32()),
                opt(any_u16()),
            ),
            (
                opt(any::<bool>()),
                opt(any::<bool>()),
                opt(s_str()),
                opt(s_bytes(40)),
            ),
            user_properties(),
        )
            .prop_map(|((a, b, c, d), (e, f, g, h), u)| ConnectProperties {
                session_expiry_interval: a,
                receive_maximum: b,
                maximum_packet_size: c,
                topic_alias_maximum: d,
                request_response_information: e,
                request_problem_information: f,
                // 5.0 3.1.2.11.10: Authentication Data only with an Authentication Method.
                authentication_data: h.filter(|_| g.is_some()),
                authentication_method: g,
                user_properties: u,
            }),
    )
}

fn will_properties() -> BoxedStrategy<WillProperties> {
    maybe_empty(
        (
            opt(any_u32()),
            opt(payload_format()),
            opt(any_u32()),
            opt(s_str()),
            opt(response_topic()),
            opt(s_bytes(40)),
            user_properties(),
        )
            .prop_map(|(a, b, c, d, e, f, u)| WillProperties {
                will_delay_interval: a,
                payload_format_indicator: b,
                message_expiry_interval: c,
                content_type: d,
                response_topic: e,
                correlation_data: f,
                user_properties: u,
            }),
    )
}

fn connack_properties() -> BoxedStrategy<ConnAckProperties> {
    maybe_empty(
        (
            (
                opt(any_u32()),
                opt(non_zero_u16()),
                opt(select(vec![QoS::AtMostOnce, QoS::AtLeastOnce])),
                opt(any::<bool>()),
                opt(non_zero_u32()),
                opt(s_str()),
            ),
            (
                opt(any_u16()),
                opt(s_str()),
                opt(any::<bool>()),
                opt(any::<bool>()),
                opt(any::<bool>()),
                opt(any_u16()),
            ),
            (opt(s_str()), opt(s_str()), opt(s_str()), opt(s_bytes(40))),
            user_properties(),
        )
            .prop_map(
                |((a, b, c, d, e, f), (g, h, i, j, k, l), (m, n, o, q), u)| ConnAckProperties {
                    session_expiry_interval: a,
                    receive_maximum: b,
                    maximum_qos: c,
                    retain_available: d,
                    maximum_packet_size: e,
                    assigned_client_identifier: f,
                    topic_alias_maximum: g,
                    reason_string: h,
                    wildcard_subscription_available: i,
                    subscription_identifiers_available: j,
                    shared_subscription_available: k,
                    server_keep_alive: l,
                    response_information: m,
                    server_reference: n,
                    authentication_method: o,
                    authentication_data: q,
                    user_properties: u,
                },
            ),
    )
}

fn publish_properties() -> BoxedStrategy<PublishProperties> {
    maybe_empty(
        (
            opt(payload_format()),
            opt(any_u32()),
            opt(non_zero_u16()),
            opt(response_topic()),
            opt(s_bytes(40)),
            opt(s_str()),
            vec(subscription_id(), 0..3),
            user_properties(),
        )
            .prop_map(|(a, b, c, d, e, f, ids, u)| PublishProperties {
                payload_format_indicator: a,
                message_expiry_interval: b,
                topic_alias: c,
                response_topic: d,
                correlation_data: e,
                content_type: f,
                subscription_identifiers: ids,
                user_properties: u,
            }),
    )
}

fn ack_properties() -> BoxedStrategy<AckProperties> {
    maybe_empty(
        (opt(s_str()), user_properties()).prop_map(|(r, u)| AckProperties {
            reason_string: r,
            user_properties: u,
        }),
    )
}

fn subscribe_properties() -> BoxedStrategy<SubscribeProperties> {
    maybe_empty(
        (opt(subscription_id()), user_properties()).prop_map(|(s, u)| SubscribeProperties {
            subscription_identifier: s,
            user_properties: u,
        }),
    )
}

fn unsubscribe_properties() -> BoxedStrategy<UnsubscribeProperties> {
    user_properties()
        .prop_map(|u| UnsubscribeProperties { user_properties: u })
        .boxed()
}

fn disconnect_properties() -> BoxedStrategy<DisconnectProperties> {
    maybe_empty(
        (
            opt(any_u32()),
            opt(s_str()),
            opt(s_str()),
            user_properties(),
        )
            .prop_map(|(a, b, c, u)| DisconnectProperties {
                session_expiry_interval: a,
                reason_string: b,
                server_reference: c,
                user_properties: u,
            }),
    )
}

fn auth_properties() -> BoxedStrategy<AuthProperties> {
    maybe_empty(
        (
            opt(s_str()),
            opt(s_bytes(40)),
            opt(s_str()),
            user_properties(),
        )
            .prop_map(|(a, b, c, u)| AuthProperties {
                authentication_method: a,
                authentication_data: b,
                reason_string: c,
                user_properties: u,
            }),
    )
}

/// The 5.0 properties `s` in 5.0, none in 3.1 / 3.1.1.
fn v5<T: Default + Clone + std::fmt::Debug + 'static>(
    p: Protocol,
    s: BoxedStrategy<T>,
) -> BoxedStrategy<T> {
    if p.is_v5() {
        s
    } else {
        Just(T::default()).boxed()
    }
}

// ---------------------------------------------------------------------------------------------
// Packets
// ---------------------------------------------------------------------------------------------

fn client_id() -> BoxedStrategy<Str> {
    prop_oneof![
        1 => Just(Str::new()),
        3 => string_of(
            select(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789".to_vec())
                .prop_map(char::from),
            1..24,
        )
        .prop_map(Str::from),
        2 => s_str(),
    ]
    .boxed()
}

fn will(p: Protocol) -> BoxedStrategy<Will> {
    (
        topic_name(),
        prop_oneof![4 => s_bytes(48), 1 => (130usize..300, any::<u8>()).prop_map(|(n, s)| pattern(n, s))],
        qos(),
        any::<bool>(),
        v5(p, will_properties()),
    )
        .prop_map(|(topic, payload, qos, retain, properties)| Will {
            topic: topic.into(),
            payload,
            qos,
            retain,
            properties: properties.into(),
        })
        .boxed()
}

fn connect(p: Protocol) -> BoxedStrategy<Connect> {
    (
        (any::<bool>(), any_u16(), client_id()),
        opt(will(p)),
        (opt(s_str()), opt(s_bytes(40)), s_str()),
        v5(p, connect_properties()),
    )
        .prop_map(
            move |(
                (clean_start, keep_alive, client_id),
                will,
                (username, password, fallback),
                properties,
            )| {
                let mut c = Connect {
                    clean_start,
                    keep_alive,
                    client_id,
                    will,
                    username,
                    password,
                    properties: properties.into(),
                };
                if !p.is_v5() {
                    // 3.1.1 [MQTT-3.1.3-7]: an empty Client Identifier needs Clean Session.
                    if c.client_id.is_empty() {
                        c.clean_start = true;
                    }
                    // 3.1.1 [MQTT-3.1.2-22]: no Password without a User Name.
                    if c.password.is_some() && c.username.is_none() {
                        c.username = Some(fallback);
                    }
                }
                c
            },
        )
        .boxed()
}

fn connack(p: Protocol) -> BoxedStrategy<ConnAck> {
    (
        any::<bool>(),
        code(p, codes::CONNACK, codes::V3_CONNACK),
        v5(p, connack_properties()),
    )
        .prop_map(move |(sp, reason_code, properties)| ConnAck {
            // Session Present only with code 0; in 3.1 the flags byte is reserved (it came
            // with 3.1.1).
            session_present: sp && reason_code == ReasonCode::SUCCESS && p != Protocol::V3_1,
            reason_code,
            properties: properties.into(),
        })
        .boxed()
}

fn publish(p: Protocol) -> BoxedStrategy<Publish> {
    (
        (qos(), any::<bool>(), any::<bool>()),
        topic_name(),
        packet_id(),
        v5(p, publish_properties()),
        payload(),
        any::<bool>(),
    )
        .prop_map(
            move |((qos, dup, retain), topic, id, properties, payload, use_alias)| {
                // 5.0 3.3.2.1: an empty Topic Name only with a Topic Alias.
                let topic = if p.is_v5() && use_alias && properties.topic_alias.is_some() {
                    Str::new()
                } else {
                    Str::from(topic)
                };
                Publish {
                    dup: dup && qos != QoS::AtMostOnce,
                    qos,
                    retain,
                    topic,
                    packet_id: (qos != QoS::AtMostOnce).then_some(id),
                    properties: properties.into(),
                    payload,
                }
            },
        )
        .boxed()
}

type AckParts = (PacketId, ReasonCode, AckProperties);

fn ack(p: Protocol, table: &'static [u8]) -> BoxedStrategy<AckParts> {
    (
        packet_id(),
        code(p, table, codes::V3_SUCCESS),
        v5(p, ack_properties()),
    )
        .boxed()
}

fn subscription(p: Protocol) -> BoxedStrategy<Subscription> {
    let options = if p.is_v5() {
        (
            qos(),
            any::<bool>(),
            any::<bool>(),
            select(vec![
                RetainHandling::SendAtSubscribe,
                RetainHandling::SendAtSubscribeIfNew,
                RetainHandling::DoNotSend,
            ]),
        )
            .prop_map(
                |(qos, no_local, retain_as_published, retain_handling)| SubscriptionOptions {
                    qos,
                    no_local,
                    retain_as_published,
                    retain_handling,
                },
            )
            .boxed()
    } else {
        qos()
            .prop_map(|qos| SubscriptionOptions {
                qos,
                ..SubscriptionOptions::default()
            })
            .boxed()
    };
    (topic_filter(p), options)
        .prop_map(|(filter, mut options)| {
            // 5.0 [MQTT-3.8.3-4]: No Local is 0 on a Shared Subscription.
            if filter.starts_with("$share/") {
                options.no_local = false;
            }
            Subscription {
                filter: filter.into(),
                options,
            }
        })
        .boxed()
}

fn subscribe(p: Protocol) -> BoxedStrategy<Subscribe> {
    (
        packet_id(),
        v5(p, subscribe_properties()),
        prop_oneof![8 => vec(subscription(p), 1..5), 1 => vec(subscription(p), 10..30)],
    )
        .prop_map(|(packet_id, properties, filters)| Subscribe {
            packet_id,
            properties: properties.into(),
            filters,
        })
        .boxed()
}

fn suback(p: Protocol) -> BoxedStrategy<SubAck> {
    let c = code(p, codes::SUBACK, codes::V3_SUBACK);
    (
        packet_id(),
        v5(p, ack_properties()),
        prop_oneof![8 => vec(c.clone(), 1..8), 1 => vec(c, 120..200)],
    )
        .prop_map(|(packet_id, properties, reason_codes)| SubAck {
            packet_id,
            properties: properties.into(),
            reason_codes,
        })
        .boxed()
}

fn unsubscribe(p: Protocol) -> BoxedStrategy<Unsubscribe> {
    (
        packet_id(),
        v5(p, unsubscribe_properties()),
        prop_oneof![8 => vec(topic_filter(p), 1..5), 1 => vec(topic_filter(p), 10..30)],
    )
        .prop_map(|(packet_id, properties, filters)| Unsubscribe {
            packet_id,
            properties: properties.into(),
            filters: filters.into_iter().map(Str::from).collect(),
        })
        .boxed()
}

fn unsuback(p: Protocol) -> BoxedStrategy<UnsubAck> {
    if p.is_v5() {
        let c = code(p, codes::UNSUBACK, codes::V3_SUCCESS);
        (
            packet_id(),
            ack_properties(),
            prop_oneof![8 => vec(c.clone(), 1..8), 1 => vec(c, 120..200)],
        )
            .prop_map(|(packet_id, properties, reason_codes)| UnsubAck {
                packet_id,
                properties: properties.into(),
                reason_codes,
            })
            .boxed()
    } else {
        packet_id()
            .prop_map(|packet_id| UnsubAck {
                packet_id,
                properties: AckProperties::default().into(),
                reason_codes: Vec::new(),
            })
            .boxed()
    }
}

fn disconnect(p: Protocol) -> BoxedStrategy<Disconnect> {
    (
        code(p, codes::DISCONNECT, codes::V3_SUCCESS),
        v5(p, disconnect_properties()),
    )
        .prop_map(|(reason_code, properties)| Disconnect {
            reason_code,
            properties: properties.into(),
        })
        .boxed()
}

fn auth() -> BoxedStrategy<Auth> {
    (select(codes::AUTH).prop_map(ReasonCode), auth_properties())
        .prop_map(|(reason_code, properties)| Auth {
            reason_code,
            properties: properties.into(),
        })
        .boxed()
}

/// Arbitrary valid packets of type `t` for protocol `p`.
fn packet(t: PacketType, p: Protocol) -> BoxedStrategy<Packet> {
    match t {
        PacketType::Connect => connect(p)
            .prop_map(|c| Packet::Connect(Box::new(c)))
            .boxed(),
        PacketType::ConnAck => connack(p)
            .prop_map(|c| Packet::ConnAck(Box::new(c)))
            .boxed(),
        PacketType::Publish => publish(p).prop_map(Packet::Publish).boxed(),
        PacketType::PubAck => ack(p, codes::PUBACK)
            .prop_map(|(packet_id, reason_code, properties)| {
                Packet::PubAck(PubAck {
                    packet_id,
                    reason_code,
                    properties: properties.into(),
                })
            })
            .boxed(),
        PacketType::PubRec => ack(p, codes::PUBACK)
            .prop_map(|(packet_id, reason_code, properties)| {
                Packet::PubRec(PubRec {
                    packet_id,
                    reason_code,
                    properties: properties.into(),
                })
            })
            .boxed(),
        PacketType::PubRel => ack(p, codes::PUBREL)
            .prop_map(|(packet_id, reason_code, properties)| {
                Packet::PubRel(PubRel {
                    packet_id,
                    reason_code,
                    properties: properties.into(),
                })
            })
            .boxed(),
        PacketType::PubComp => ack(p, codes::PUBREL)
            .prop_map(|(packet_id, reason_code, properties)| {
                Packet::PubComp(PubComp {
                    packet_id,
                    reason_code,
                    properties: properties.into(),
                })
            })
            .boxed(),
        PacketType::Subscribe => subscribe(p).prop_map(Packet::Subscribe).boxed(),
        PacketType::SubAck => suback(p).prop_map(Packet::SubAck).boxed(),
        PacketType::Unsubscribe => unsubscribe(p).prop_map(Packet::Unsubscribe).boxed(),
        PacketType::UnsubAck => unsuback(p).prop_map(Packet::UnsubAck).boxed(),
        PacketType::PingReq => Just(Packet::PingReq).boxed(),
        PacketType::PingResp => Just(Packet::PingResp).boxed(),
        PacketType::Disconnect => disconnect(p).prop_map(Packet::Disconnect).boxed(),
        PacketType::Auth => {
            assert!(p.is_v5(), "AUTH exists only in 5.0");
            auth().prop_map(Packet::Auth).boxed()
        }
    }
}

/// Any valid packet of `p`, every type equally likely.
fn any_packet(p: Protocol) -> BoxedStrategy<Packet> {
    Union::new(types_of(p).map(|t| packet(t, p))).boxed()
}

fn splits() -> impl Strategy<Value = Vec<Index>> {
    vec(any::<Index>(), 0..8)
}

// ---------------------------------------------------------------------------------------------
// The properties
// ---------------------------------------------------------------------------------------------

fn encode(p: Protocol, packet: &Packet) -> Result<BytesMut, TestCaseError> {
    packet
        .check(p)
        .map_err(|e| TestCaseError::fail(format!("check({p}) failed: {e}")))?;
    let mut buf = BytesMut::new();
    packet
        .encode(p, &mut buf)
        .map_err(|e| TestCaseError::fail(format!("encode({p}) failed: {e}")))?;
    Ok(buf)
}

/// Feeds `bytes` to a streaming decoder cut at `cuts` (sorted, the last one `bytes.len()`).
fn stream(
    p: Protocol,
    bytes: &[u8],
    cuts: &[usize],
    expected: &Packet,
) -> Result<(), TestCaseError> {
    let dec = Decoder::new(p);
    let mut buf = BytesMut::new();
    let mut fed = 0;
    for &cut in cuts {
        buf.extend_from_slice(&bytes[fed..cut]);
        fed = cut;
        let got = dec.decode(&mut buf);
        if fed < bytes.len() {
            prop_assert_eq!(got, Ok(None), "after {} of {} bytes", fed, bytes.len());
            prop_assert_eq!(
                &buf[..],
                &bytes[..fed],
                "buffer changed before a whole packet"
            );
        } else {
            prop_assert_eq!(got, Ok(Some(expected.clone())));
            prop_assert!(buf.is_empty(), "{} bytes left over", buf.len());
        }
    }
    prop_assert_eq!(dec.decode(&mut buf), Ok(None));
    Ok(())
}

fn cut_points(len: usize, splits: &[Index]) -> Vec<usize> {
    let mut cuts: Vec<usize> = splits.iter().map(|i| i.index(len + 1)).collect();
    cuts.push(len);
    cuts.sort_unstable();
    cuts.dedup();
    cuts
}

/// Properties 1 to 4 for one valid packet.
fn round_trip(p: Protocol, packet: &Packet, splits: &[Index]) -> Result<(), TestCaseError> {
    // 1. check and encode.
    let buf = encode(p, packet)?;
    prop_assert_eq!(
        &packet
            .to_bytes(p)
            .map_err(|e| TestCaseError::fail(e.to_string()))?[..],
        &buf[..]
    );

    // 3. lengths.
    let h = FixedHeader::parse(&buf, p, MAX_PACKET_SIZE)
        .map_err(|e| TestCaseError::fail(format!("fixed header: {e}")))?
        .ok_or_else(|| TestCaseError::fail("fixed header incomplete"))?;
    prop_assert_eq!(h.packet_type, packet.packet_type());
    prop_assert_eq!(h.first_byte, buf[0]);
    prop_assert_eq!(h.remaining_length, buf.len() - h.header_len);
    prop_assert_eq!(h.header_len, 1 + varint_len(h.remaining_length as u32));
    prop_assert_eq!(
        read_varint(&buf[1..]),
        Varint::Value(h.remaining_length as u32, h.header_len - 1)
    );
    prop_assert_eq!(packet.remaining_length(p), h.remaining_length);
    prop_assert_eq!(packet.encoded_len(p), buf.len());
    if let Some(required) = packet.packet_type().required_flags() {
        prop_assert_eq!(buf[0] & 0x0F, required);
    }

    // 2. decode back to an equal packet, consuming exactly the bytes.
    let (decoded, used) =
        decode_slice(p, &buf).map_err(|e| TestCaseError::fail(format!("decode: {e}")))?;
    prop_assert_eq!(&decoded, packet);
    prop_assert_eq!(used, buf.len());
    // ... also with more bytes after it.
    let mut longer = buf.to_vec();
    longer.extend_from_slice(&[0xC0, 0x00, 0xFF]);
    let (again, used) = decode_slice(p, &longer)
        .map_err(|e| TestCaseError::fail(format!("decode with trailing bytes: {e}")))?;
    prop_assert_eq!(&again, packet);
    prop_assert_eq!(used, buf.len());
    // ... and the borrowed decoder agrees.
    if let Err(e) = Decoder::new(p).compare_decode_ref(&longer) {
        return Err(TestCaseError::fail(format!("decode_ref: {e}")));
    }
    // ... and the decoded packet encodes to the same bytes.
    prop_assert_eq!(&encode(p, &decoded)?[..], &buf[..]);
    // The maximum packet size is inclusive.
    prop_assert_eq!(
        Decoder::new(p)
            .with_max_packet_size(buf.len())
            .decode_slice(&buf)
            .map(|(q, _)| q),
        Ok(packet.clone())
    );
    let too_large = Decoder::new(p)
        .with_max_packet_size(buf.len() - 1)
        .decode_slice(&buf);
    prop_assert_eq!(
        too_large.map_err(|e| e.kind),
        Err(ErrorKind::PacketTooLarge)
    );

    // 4. streaming decode at random split points, and a byte at a time for small packets.
    let cuts = cut_points(buf.len(), splits);
    for &cut in &cuts {
        if cut < buf.len() {
            let e = decode_slice(p, &buf[..cut]).map(|(q, _)| q);
            prop_assert_eq!(e.map_err(|e| e.kind), Err(ErrorKind::Incomplete));
        }
    }
    stream(p, &buf, &cuts, packet)?;
    if buf.len() <= 300 {
        let every: Vec<usize> = (1..=buf.len()).collect();
        stream(p, &buf, &every, packet)?;
    }
    Ok(())
}

/// Property 5: packets concatenated in one buffer decode back in order, also when the buffer
/// is filled in chunks.
fn concatenated(p: Protocol, packets: &[Packet], splits: &[Index]) -> Result<(), TestCaseError> {
    let mut all = BytesMut::new();
    let mut ends = Vec::new();
    for q in packets {
        q.encode(p, &mut all)
            .map_err(|e| TestCaseError::fail(format!("encode: {e}")))?;
        ends.push(all.len());
    }
    let total = all.len();

    // All at once, through `decode_slice`.
    let mut at = 0;
    for (q, &end) in packets.iter().zip(&ends) {
        let (got, used) =
            decode_slice(p, &all[at..]).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(&got, q);
        at += used;
        prop_assert_eq!(at, end);
    }

    // All at once, through the streaming decoder.
    let dec = Decoder::new(p);
    let mut buf = all.clone();
    for q in packets {
        prop_assert_eq!(dec.decode(&mut buf), Ok(Some(q.clone())));
    }
    prop_assert!(buf.is_empty());
    prop_assert_eq!(dec.decode(&mut buf), Ok(None));

    // In chunks: decode whatever is complete after each chunk.
    let mut buf = BytesMut::new();
    let mut out = Vec::new();
    let mut fed = 0;
    for cut in cut_points(total, splits) {
        buf.extend_from_slice(&all[fed..cut]);
        fed = cut;
        while let Some(q) = dec
            .decode(&mut buf)
            .map_err(|e| TestCaseError::fail(e.to_string()))?
        {
            out.push(q);
            prop_assert_eq!(fed - buf.len(), ends[out.len() - 1]);
        }
    }
    prop_assert_eq!(&out[..], packets);
    prop_assert!(buf.is_empty());
    Ok(())
}

macro_rules! round_trip_tests {
    ($($module:ident => $ty:ident [$($name:ident => $p:ident),*];)*) => {$(
        mod $module {
            use super::*;
            proptest! {
                #![proptest_config(config())]
                $(
                    #[test]
                    fn $name((packet, splits) in (packet(PacketType::$ty, Protocol::$p), splits())) {
                        round_trip(Protocol::$p, &packet, &splits)?;
                    }
                )*
            }
        }
    )*};
}

round_trip_tests! {
    connect => Connect [v3_1 => V3_1, v3_1_1 => V3_1_1, v5 => V5];
    connack => ConnAck [v3_1 => V3_1, v3_1_1 => V3_1_1, v5 => V5];
    publish => Publish [v3_1 => V3_1, v3_1_1 => V3_1_1, v5 => V5];
    puback => PubAck [v3_1 => V3_1, v3_1_1 => V3_1_1, v5 => V5];
    pubrec => PubRec [v3_1 => V3_1, v3_1_1 => V3_1_1, v5 => V5];
    pubrel => PubRel [v3_1 => V3_1, v3_1_1 => V3_1_1, v5 => V5];
    pubcomp => PubComp [v3_1 => V3_1, v3_1_1 => V3_1_1, v5 => V5];
    subscribe => Subscribe [v3_1 => V3_1, v3_1_1 => V3_1_1, v5 => V5];
    suback => SubAck [v3_1 => V3_1, v3_1_1 => V3_1_1, v5 => V5];
    unsubscribe => Unsubscribe [v3_1 => V3_1, v3_1_1 => V3_1_1, v5 => V5];
    unsuback => UnsubAck [v3_1 => V3_1, v3_1_1 => V3_1_1, v5 => V5];
    pingreq => PingReq [v3_1 => V3_1, v3_1_1 => V3_1_1, v5 => V5];
    pingresp => PingResp [v3_1 => V3_1, v3_1_1 => V3_1_1, v5 => V5];
    disconnect => Disconnect [v3_1 => V3_1, v3_1_1 => V3_1_1, v5 => V5];
    auth => Auth [v5 => V5];
}

mod stream_of_packets {
    use super::*;
    proptest! {
        #![proptest_config(config())]
        #[test]
        fn v3_1((packets, splits) in (vec(any_packet(Protocol::V3_1), 1..8), splits())) {
            concatenated(Protocol::V3_1, &packets, &splits)?;
        }

        #[test]
        fn v3_1_1((packets, splits) in (vec(any_packet(Protocol::V3_1_1), 1..8), splits())) {
            concatenated(Protocol::V3_1_1, &packets, &splits)?;
        }

        #[test]
        fn v5((packets, splits) in (vec(any_packet(Protocol::V5), 1..8), splits())) {
            concatenated(Protocol::V5, &packets, &splits)?;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Negative round trips: what `check` rejects, the decoder rejects
// ---------------------------------------------------------------------------------------------

/// A byte that is not in `table`.
fn not_in(table: &'static [u8]) -> BoxedStrategy<ReasonCode> {
    any::<u8>()
        .prop_filter("a valid code", move |c| !table.contains(c))
        .prop_map(ReasonCode)
        .boxed()
}

/// Inserts `s` at a char boundary of `into` chosen by `at`.
fn insert_at(into: &str, at: Index, s: &str) -> String {
    let bounds: Vec<usize> = (0..=into.len())
        .filter(|&i| into.is_char_boundary(i))
        .collect();
    let i = bounds[at.index(bounds.len())];
    format!("{}{s}{}", &into[..i], &into[i..])
}

type Invalid = (&'static str, Packet);

fn bad_filter(p: Protocol) -> BoxedStrategy<String> {
    let mut bad = vec![
        "",
        "a#",
        "#a",
        "a/#/b",
        "#/",
        "#/a",
        "+a",
        "a+",
        "a/b+",
        "++",
        "##",
        "+#",
        "a/+b/c",
        "sport/tennis#",
        "x\0y",
    ];
    if p.is_v5() {
        bad.extend([
            "$share/",
            "$share//a",
            "$share/g",
            "$share/g/",
            "$share/g+/a",
            "$share/#/a",
            "$share/g/a#",
            "$share/+/x",
        ]);
    }
    select(bad).prop_map(String::from).boxed()
}

/// Valid packets made invalid in one way that the unchecked encoding writes as it is.
fn invalid_packet(p: Protocol) -> BoxedStrategy<Invalid> {
    let mut v: Vec<BoxedStrategy<Invalid>> = vec![
        publish(p)
            .prop_map(|mut x| {
                x.qos = QoS::AtMostOnce;
                x.packet_id = None;
                x.dup = true;
                ("DUP on QoS 0", Packet::Publish(x))
            })
            .boxed(),
        (publish(p), any::<Index>(), select(vec!["+", "#", "\0"]))
            .prop_map(|(mut x, at, c)| {
                x.topic = insert_at(&x.topic, at, c).into();
                ("wildcard or U+0000 in a Topic Name", Packet::Publish(x))
            })
            .boxed(),
        publish(p)
            .prop_map(|mut x| {
                x.topic = Str::new();
                x.properties.topic_alias = None;
                ("empty Topic Name", Packet::Publish(x))
            })
            .boxed(),
        (
            connect(p),
            will(p),
            topic_name(),
            any::<Index>(),
            select(vec!["+", "#", "\0"]),
        )
            .prop_map(|(mut c, mut w, t, at, s)| {
                w.topic = if s == "\0" && t.len() % 3 == 0 {
                    Str::new()
                } else {
                    insert_at(&t, at, s).into()
                };
                c.will = Some(w);
                ("invalid Will Topic", Packet::Connect(Box::new(c)))
            })
            .boxed(),
        (connect(p), any::<Index>())
            .prop_map(|(mut c, at)| {
                c.client_id = insert_at(&c.client_id, at, "\0").into();
                c.clean_start = true;
                (
                    "U+0000 in the Client Identifier",
                    Packet::Connect(Box::new(c)),
                )
            })
            .boxed(),
        (
            connack(p),
            not_in(if p.is_v5() {
                codes::CONNACK
            } else {
                codes::V3_CONNACK
            }),
        )
            .prop_map(|(mut c, code)| {
                c.reason_code = code;
                c.session_present = false;
                ("invalid CONNACK code", Packet::ConnAck(Box::new(c)))
            })
            .boxed(),
        (
            connack(p),
            select(if p.is_v5() {
                &codes::CONNACK[1..]
            } else {
                &codes::V3_CONNACK[1..]
            }),
        )
            .prop_map(|(mut c, code)| {
                c.reason_code = ReasonCode(code);
                c.session_present = true;
                (
                    "Session Present with an error code",
                    Packet::ConnAck(Box::new(c)),
                )
            })
            .boxed(),
        subscribe(p)
            .prop_map(|mut s| {
                s.filters.clear();
                ("SUBSCRIBE without filters", Packet::Subscribe(s))
            })
            .boxed(),
        (subscribe(p), bad_filter(p), any::<Index>())
            .prop_map(|(mut s, f, at)| {
                let i = at.index(s.filters.len());
                s.filters[i].filter = f.into();
                s.filters[i].options.no_local = false;
                ("invalid Topic Filter in SUBSCRIBE", Packet::Subscribe(s))
            })
            .boxed(),
        suback(p)
            .prop_map(|mut s| {
                s.reason_codes.clear();
                ("SUBACK without codes", Packet::SubAck(s))
            })
            .boxed(),
        (
            suback(p),
            not_in(if p.is_v5() {
                codes::SUBACK
            } else {
                codes::V3_SUBACK
            }),
            any::<Index>(),
        )
            .prop_map(|(mut s, code, at)| {
                let i = at.index(s.reason_codes.len() + 1);
                s.reason_codes.insert(i, code);
                ("invalid SUBACK code", Packet::SubAck(s))
            })
            .boxed(),
        unsubscribe(p)
            .prop_map(|mut u| {
                u.filters.clear();
                ("UNSUBSCRIBE without filters", Packet::Unsubscribe(u))
            })
            .boxed(),
        (unsubscribe(p), bad_filter(p), any::<Index>())
            .prop_map(|(mut u, f, at)| {
                let i = at.index(u.filters.len());
                u.filters[i] = f.into();
                (
                    "invalid Topic Filter in UNSUBSCRIBE",
                    Packet::Unsubscribe(u),
                )
            })
            .boxed(),
    ];
    if !p.is_v5() {
        v.push(
            connect(p)
                .prop_map(|mut c| {
                    c.client_id = Str::new();
                    c.clean_start = false;
                    (
                        "empty Client Identifier without Clean Session",
                        Packet::Connect(Box::new(c)),
                    )
                })
                .boxed(),
        );
        v.push(
            (connect(p), s_bytes(20))
                .prop_map(|(mut c, pw)| {
                    c.username = None;
                    c.password = Some(pw);
                    ("Password without User Name", Packet::Connect(Box::new(c)))
                })
                .boxed(),
        );
    } else {
        v.extend([
            publish(p)
                .prop_map(|mut x| {
                    x.properties.topic_alias = Some(0);
                    if x.topic.is_empty() {
                        x.topic = "t".into();
                    }
                    ("Topic Alias 0", Packet::Publish(x))
                })
                .boxed(),
            (publish(p), any::<Index>())
                .prop_map(|(mut x, at)| {
                    let ids = &mut x.properties.subscription_identifiers;
                    let i = at.index(ids.len() + 1);
                    ids.insert(i, 0);
                    ("Subscription Identifier 0 in PUBLISH", Packet::Publish(x))
                })
                .boxed(),
            (
                publish(p),
                prop_oneof![
                    Just(String::new()),
                    topic_name().prop_map(|t| t + "/+"),
                    topic_name().prop_map(|t| t + "#")
                ],
            )
                .prop_map(|(mut x, t)| {
                    x.properties.response_topic = Some(t.into());
                    ("invalid Response Topic", Packet::Publish(x))
                })
                .boxed(),
            (connect(p), select(vec![0usize, 1]))
                .prop_map(|(mut c, which)| {
                    if which == 0 {
                        c.properties.receive_maximum = Some(0);
                    } else {
                        c.properties.maximum_packet_size = Some(0);
                    }
                    (
                        "Receive Maximum or Maximum Packet Size 0 in CONNECT",
                        Packet::Connect(Box::new(c)),
                    )
                })
                .boxed(),
            (connect(p), will(p), select(vec!["", "a/+", "#", "a\0"]))
                .prop_map(|(mut c, mut w, t)| {
                    w.properties.response_topic = Some(t.into());
                    c.will = Some(w);
                    ("invalid Will Response Topic", Packet::Connect(Box::new(c)))
                })
                .boxed(),
            (connack(p), select(vec![0usize, 1, 2]))
                .prop_map(|(mut c, which)| {
                    match which {
                        0 => c.properties.maximum_qos = Some(QoS::ExactlyOnce),
                        1 => c.properties.receive_maximum = Some(0),
                        _ => c.properties.maximum_packet_size = Some(0),
                    }
                    (
                        "out-of-range CONNACK property",
                        Packet::ConnAck(Box::new(c)),
                    )
                })
                .boxed(),
            (ack(p, codes::PUBACK), not_in(codes::PUBACK))
                .prop_map(|((packet_id, _, properties), reason_code)| {
                    (
                        "invalid PUBACK code",
                        Packet::PubAck(PubAck {
                            packet_id,
                            reason_code,
                            properties: properties.into(),
                        }),
                    )
                })
                .boxed(),
            (ack(p, codes::PUBACK), not_in(codes::PUBACK))
                .prop_map(|((packet_id, _, properties), reason_code)| {
                    (
                        "invalid PUBREC code",
                        Packet::PubRec(PubRec {
                            packet_id,
                            reason_code,
                            properties: properties.into(),
                        }),
                    )
                })
                .boxed(),
            (ack(p, codes::PUBREL), not_in(codes::PUBREL))
                .prop_map(|((packet_id, _, properties), reason_code)| {
                    (
                        "invalid PUBREL code",
                        Packet::PubRel(PubRel {
                            packet_id,
                            reason_code,
                            properties: properties.into(),
                        }),
                    )
                })
                .boxed(),
            (ack(p, codes::PUBREL), not_in(codes::PUBREL))
                .prop_map(|((packet_id, _, properties), reason_code)| {
                    (
                        "invalid PUBCOMP code",
                        Packet::PubComp(PubComp {
                            packet_id,
                            reason_code,
                            properties: properties.into(),
                        }),
                    )
                })
                .boxed(),
            (ack(p, codes::PUBACK), text(), any::<Index>(), any::<bool>())
                .prop_map(
                    |((packet_id, reason_code, mut properties), s, at, in_user)| {
                        let bad = insert_at(&s, at, "\0");
                        if in_user {
                            properties.user_properties =
                                UserProperties::from_pairs([("k", bad.as_str())]);
                        } else {
                            properties.reason_string = Some(bad.into());
                        }
                        (
                            "U+0000 in a property string",
                            Packet::PubAck(PubAck {
                                packet_id,
                                reason_code,
                                properties: properties.into(),
                            }),
                        )
                    },
                )
                .boxed(),
            (
                subscribe(p),
                string_of(level_char(), 1..5),
                plain_filter(),
                any::<Index>(),
            )
                .prop_map(|(mut s, name, f, at)| {
                    let i = at.index(s.filters.len());
                    s.filters[i].filter = format!("$share/{name}/{f}").into();
                    s.filters[i].options.no_local = true;
                    ("No Local on a Shared Subscription", Packet::Subscribe(s))
                })
                .boxed(),
            subscribe(p)
                .prop_map(|mut s| {
                    s.properties.subscription_identifier = Some(0);
                    (
                        "Subscription Identifier 0 in SUBSCRIBE",
                        Packet::Subscribe(s),
                    )
                })
                .boxed(),
            unsuback(p)
                .prop_map(|mut u| {
                    u.reason_codes.clear();
                    ("5.0 UNSUBACK without codes", Packet::UnsubAck(u))
                })
                .boxed(),
            (unsuback(p), not_in(codes::UNSUBACK), any::<Index>())
                .prop_map(|(mut u, code, at)| {
                    let i = at.index(u.reason_codes.len() + 1);
                    u.reason_codes.insert(i, code);
                    ("invalid UNSUBACK code", Packet::UnsubAck(u))
                })
                .boxed(),
            (disconnect(p), not_in(codes::DISCONNECT))
                .prop_map(|(mut d, code)| {
                    d.reason_code = code;
                    ("invalid DISCONNECT code", Packet::Disconnect(d))
                })
                .boxed(),
            (auth(), not_in(codes::AUTH))
                .prop_map(|(mut a, code)| {
                    a.reason_code = code;
                    ("invalid AUTH code", Packet::Auth(a))
                })
                .boxed(),
        ]);
    }
    Union::new(v).boxed()
}

fn rejected(p: Protocol, what: &str, packet: &Packet) -> Result<(), TestCaseError> {
    prop_assert!(packet.check(p).is_err(), "check accepted {}", what);
    let mut buf = BytesMut::from(&b"before"[..]);
    prop_assert!(
        packet.encode(p, &mut buf).is_err(),
        "encode accepted {}",
        what
    );
    prop_assert_eq!(&buf[..], b"before", "a failed encode wrote bytes");
    prop_assert!(packet.to_bytes(p).is_err());

    let mut raw = BytesMut::new();
    packet.encode_unchecked(p, &mut raw);
    prop_assert_eq!(raw.len(), packet.encoded_len(p));
    let got = decode_slice(p, &raw);
    prop_assert!(got.is_err(), "the decoder accepted {}: {:?}", what, got);
    let err: DecodeError = got.unwrap_err();
    prop_assert_ne!(err.kind, ErrorKind::Incomplete, "{}: {}", what, err);
    // Streaming: the same error; a bad fixed header leaves the buffer as it was, a bad body
    // takes the whole invalid packet out of it.
    let mut s = raw.clone();
    s.extend_from_slice(&[0xC0, 0x00]);
    let kept = s.clone();
    let header_ok = FixedHeader::parse(&raw, p, usize::MAX).is_ok();
    prop_assert_eq!(Decoder::new(p).decode(&mut s), Err(err));
    if header_ok {
        prop_assert_eq!(&s[..], &[0xC0, 0x00][..]);
    } else {
        prop_assert_eq!(&s[..], &kept[..]);
    }
    Ok(())
}

/// If the decoder accepts `bytes`, the packet passes `check` and round-trips.
fn accepted_is_valid(p: Protocol, bytes: &[u8]) -> Result<(), TestCaseError> {
    if let Ok((q, used)) = decode_slice(p, bytes) {
        prop_assert!(used <= bytes.len());
        if let Err(e) = q.check(p) {
            return Err(TestCaseError::fail(format!(
                "decoded {q:?} from {:02x?} but check rejects it: {e}",
                &bytes[..used]
            )));
        }
        let again = encode(p, &q)?;
        let (r, n) = decode_slice(p, &again)
            .map_err(|e| TestCaseError::fail(format!("re-encoded {q:?} does not decode: {e}")))?;
        prop_assert_eq!(r, q);
        prop_assert_eq!(n, again.len());
    }
    Ok(())
}

/// Whatever the decoder accepts from a valid packet with some bytes overwritten is a packet
/// that `check` accepts and that round-trips.
fn mutant(p: Protocol, packet: &Packet, edits: &[(Index, u8)]) -> Result<(), TestCaseError> {
    let mut bytes = encode(p, packet)?.to_vec();
    for (at, b) in edits {
        let i = at.index(bytes.len());
        bytes[i] = *b;
    }
    accepted_is_valid(p, &bytes)
}

fn edits() -> impl Strategy<Value = Vec<(Index, u8)>> {
    vec(
        (
            any::<Index>(),
            prop_oneof![
                any::<u8>(),
                select(vec![0u8, 1, 2, 0x7F, 0x80, 0xFF, b'+', b'#', b'/'])
            ],
        ),
        1..4,
    )
}

mod negative {
    use super::*;
    proptest! {
        #![proptest_config(config())]
        #[test]
        fn rejected_v3_1((what, packet) in invalid_packet(Protocol::V3_1)) {
            rejected(Protocol::V3_1, what, &packet)?;
        }

        #[test]
        fn rejected_v3_1_1((what, packet) in invalid_packet(Protocol::V3_1_1)) {
            rejected(Protocol::V3_1_1, what, &packet)?;
        }

        #[test]
        fn rejected_v5((what, packet) in invalid_packet(Protocol::V5)) {
            rejected(Protocol::V5, what, &packet)?;
        }

        #[test]
        fn mutants_v3_1((packet, e) in (any_packet(Protocol::V3_1), edits())) {
            mutant(Protocol::V3_1, &packet, &e)?;
        }

        #[test]
        fn mutants_v3_1_1((packet, e) in (any_packet(Protocol::V3_1_1), edits())) {
            mutant(Protocol::V3_1_1, &packet, &e)?;
        }

        #[test]
        fn mutants_v5((packet, e) in (any_packet(Protocol::V5), edits())) {
            mutant(Protocol::V5, &packet, &e)?;
        }
    }
}

/// A structural edit of a packet body; the Remaining Length is recomputed afterwards.
#[derive(Debug, Clone)]
enum Edit {
    Set(Index, u8),
    Insert(Index, u8),
    Delete(Index),
    /// XOR of the fixed-header flags (low nibble of the first byte).
    Flags(u8),
}

fn structural_edits() -> impl Strategy<Value = Vec<Edit>> {
    let byte = prop_oneof![
        any::<u8>(),
        select(vec![0u8, 1, 0x7F, 0x80, 0xFF, 0x26, b'/'])
    ];
    vec(
        prop_oneof![
            (any::<Index>(), byte.clone()).prop_map(|(i, b)| Edit::Set(i, b)),
            (any::<Index>(), byte).prop_map(|(i, b)| Edit::Insert(i, b)),
            any::<Index>().prop_map(Edit::Delete),
            (1u8..16).prop_map(Edit::Flags),
        ],
        1..4,
    )
}

/// Like [`mutant`], with bytes inserted and removed and the Remaining Length fixed up, so that
/// the decoder sees a well-framed packet with a damaged body.
fn structural_mutant(p: Protocol, packet: &Packet, edits: &[Edit]) -> Result<(), TestCaseError> {
    let bytes = encode(p, packet)?;
    let h = FixedHeader::parse(&bytes, p, MAX_PACKET_SIZE)
        .ok()
        .flatten()
        .ok_or_else(|| TestCaseError::fail("fixed header"))?;
    let mut first = bytes[0];
    let mut body = bytes[h.header_len..].to_vec();
    for e in edits {
        match *e {
            Edit::Set(i, b) if !body.is_empty() => {
                let i = i.index(body.len());
                body[i] = b;
            }
            Edit::Insert(i, b) => body.insert(i.index(body.len() + 1), b),
            Edit::Delete(i) if !body.is_empty() => {
                body.remove(i.index(body.len()));
            }
            Edit::Flags(x) => first ^= x,
            _ => {}
        }
    }
    let framed = touchstone_codec::raw::Frame::new(first)
        .bytes(&body)
        .to_bytes();
    accepted_is_valid(p, &framed)
}

mod negative_structural {
    use super::*;
    proptest! {
        #![proptest_config(config())]
        #[test]
        fn v3_1((packet, e) in (any_packet(Protocol::V3_1), structural_edits())) {
            structural_mutant(Protocol::V3_1, &packet, &e)?;
        }

        #[test]
        fn v3_1_1((packet, e) in (any_packet(Protocol::V3_1_1), structural_edits())) {
            structural_mutant(Protocol::V3_1_1, &packet, &e)?;
        }

        #[test]
        fn v5((packet, e) in (any_packet(Protocol::V5), structural_edits())) {
            structural_mutant(Protocol::V5, &packet, &e)?;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The generators reach the cases they are meant to reach
// ---------------------------------------------------------------------------------------------

/// The features of a valid packet that the generators must produce now and then.
fn features(p: Protocol, q: &Packet, out: &mut std::collections::BTreeSet<String>) {
    let mut add = |f: &str| {
        out.insert(format!("{p} {} {f}", q.packet_type()));
    };
    let n = q.remaining_length(p);
    add(&format!("remaining length bytes {}", varint_len(n as u32)));
    let repeated = |u: &UserProperties| {
        let names: Vec<&str> = u.iter().map(|(k, _)| k).collect();
        (1..names.len()).any(|i| names[..i].contains(&names[i]))
    };
    let topic = |t: &str, add: &mut dyn FnMut(&str)| {
        if !t.is_ascii() {
            add("non-ASCII topic");
        }
        if t.starts_with('$') {
            add("$ topic");
        }
        if t == "/" || t.contains("//") {
            add("'/' edge topic");
        }
    };
    match q {
        Packet::Connect(c) => {
            if c.client_id.is_empty() {
                add("empty client id");
            }
            if c.password.is_some() && c.username.is_none() {
                add("password without user name");
            }
            if let Some(w) = &c.will {
                add(&format!("will qos {}", w.qos));
                if !w.properties.is_empty() {
                    add("will properties");
                }
            }
            if repeated(&c.properties.user_properties) {
                add("repeated user property names");
            }
        }
        Packet::ConnAck(c) if c.session_present => add("session present"),
        Packet::Publish(x) => {
            topic(&x.topic, &mut add);
            if x.topic.is_empty() {
                add("empty topic with alias");
            }
            if x.dup {
                add("dup");
            }
            add(&format!(
                "{} subscription ids",
                x.properties.subscription_identifiers.len()
            ));
            if repeated(&x.properties.user_properties) {
                add("repeated user property names");
            }
        }
        Packet::PubAck(a) if !a.properties.is_empty() => add("ack properties"),
        Packet::PubRel(a) if a.reason_code.0 != 0 => add("error code"),
        Packet::Subscribe(s) => {
            for f in &s.filters {
                if f.filter.starts_with("$share/") {
                    add("shared filter");
                }
                if f.filter.contains('+') {
                    add("+ filter");
                }
                if f.filter.ends_with('#') {
                    add("# filter");
                }
                if f.options.no_local {
                    add("no local");
                }
                if f.options.retain_handling == RetainHandling::DoNotSend {
                    add("retain handling 2");
                }
            }
        }
        _ => {}
    }
}

#[test]
fn generators_cover_the_edge_cases() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;

    let mut runner = TestRunner::deterministic();
    let mut seen = std::collections::BTreeSet::new();
    for p in Protocol::ALL {
        for t in types_of(p) {
            let s = packet(t, p);
            for _ in 0..150 {
                let q = s.new_tree(&mut runner).expect("a packet").current();
                features(p, &q, &mut seen);
            }
        }
    }
    let mut expected = Vec::new();
    for p in Protocol::ALL {
        let ty = |t: &str, f: &str| format!("{p} {t} {f}");
        for n in 1..=3 {
            expected.push(ty("PUBLISH", &format!("remaining length bytes {n}")));
        }
        for t in ["CONNECT", "SUBSCRIBE", "SUBACK", "UNSUBSCRIBE"] {
            expected.push(ty(t, "remaining length bytes 2"));
        }
        for f in ["non-ASCII topic", "$ topic", "'/' edge topic", "dup"] {
            expected.push(ty("PUBLISH", f));
        }
        for f in ["shared filter", "+ filter", "# filter"] {
            expected.push(ty("SUBSCRIBE", f));
        }
        expected.push(ty("CONNECT", "empty client id"));
        expected.push(ty("CONNECT", "will qos 2"));
        if p != Protocol::V3_1 {
            expected.push(ty("CONNACK", "session present"));
        }
        if p.is_v5() {
            for f in [
                "empty topic with alias",
                "0 subscription ids",
                "2 subscription ids",
                "repeated user property names",
            ] {
                expected.push(ty("PUBLISH", f));
            }
            expected.push(ty("CONNECT", "password without user name"));
            expected.push(ty("CONNECT", "will properties"));
            expected.push(ty("CONNECT", "repeated user property names"));
            expected.push(ty("PUBACK", "ack properties"));
            expected.push(ty("PUBREL", "error code"));
            expected.push(ty("SUBSCRIBE", "no local"));
            expected.push(ty("SUBSCRIBE", "retain handling 2"));
            expected.push(ty("UNSUBACK", "remaining length bytes 2"));
            expected.push(ty("DISCONNECT", "remaining length bytes 2"));
            expected.push(ty("AUTH", "remaining length bytes 2"));
        }
    }
    let missing: Vec<&String> = expected.iter().filter(|f| !seen.contains(*f)).collect();
    assert!(missing.is_empty(), "never generated: {missing:#?}");
}

// ---------------------------------------------------------------------------------------------
// Sizes at the limits
// ---------------------------------------------------------------------------------------------

fn run(p: Protocol, packet: &Packet, cuts: &[usize]) {
    let splits: Vec<Index> = Vec::new();
    if let Err(e) = round_trip(p, packet, &splits) {
        panic!("{p}: {e}");
    }
    let bytes = packet.to_bytes(p).expect("valid");
    let mut cuts: Vec<usize> = cuts.iter().map(|&c| c.min(bytes.len())).collect();
    cuts.push(bytes.len());
    cuts.sort_unstable();
    cuts.dedup();
    if let Err(e) = stream(p, &bytes, &cuts, packet) {
        panic!("{p}: {e}");
    }
}

/// Remaining Lengths of 1 to 4 bytes, on both sides of each boundary (127/128, 16,383/16,384,
/// 2,097,151/2,097,152).
#[test]
fn remaining_length_boundaries() {
    for p in Protocol::ALL {
        let mut x = Publish::new("t", Bytes::new());
        let base = Packet::Publish(x.clone()).remaining_length(p);
        for target in [0usize, 127, 128, 16_383, 16_384, 2_097_151, 2_097_152] {
            let Some(n) = target.checked_sub(base) else {
                continue;
            };
            x.payload = pattern(n, 7);
            let q = Packet::Publish(x.clone());
            assert_eq!(q.remaining_length(p), target);
            assert_eq!(q.encoded_len(p), 1 + varint_len(target as u32) + target);
            run(p, &q, &[1, 2, 3, 4, 5, target / 2]);
        }
    }
}

/// Strings and binary fields of 65,535 bytes encode and decode; one byte more is refused.
#[test]
fn longest_strings() {
    let long = "é".repeat(32_767) + "a"; // 65,535 bytes, multi-byte
    assert_eq!(long.len(), 65_535);
    let too_long = long.clone() + "b";
    for p in Protocol::ALL {
        let mut x = Publish::new(long.as_str(), "x");
        run(p, &Packet::Publish(x.clone()), &[3, 40_000]);
        x.topic = too_long.as_str().into();
        assert!(Packet::Publish(x).check(p).is_err());

        let mut c = Connect {
            client_id: long.as_str().into(),
            username: Some(long.as_str().into()),
            password: Some(pattern(65_535, 1)),
            will: Some(Will {
                topic: long.as_str().into(),
                payload: pattern(65_535, 2),
                ..Will::default()
            }),
            ..Connect::default()
        };
        run(p, &Packet::Connect(Box::new(c.clone())), &[100_000]);
        c.password = Some(pattern(65_536, 1));
        assert!(Packet::Connect(Box::new(c)).check(p).is_err());

        let f = Subscription::new(long.as_str(), QoS::ExactlyOnce);
        let s = Subscribe {
            packet_id: NonZeroU16::MIN,
            properties: SubscribeProperties::default().into(),
            filters: vec![f.clone(), f],
        };
        run(p, &Packet::Subscribe(s), &[65_540]);
    }
    let mut props = AckProperties {
        reason_string: Some(long.as_str().into()),
        user_properties: UserProperties::from_pairs([(long.as_str(), long.as_str()), ("", "")]),
    };
    let ack = |properties: &AckProperties| {
        Packet::PubAck(PubAck {
            packet_id: NonZeroU16::MAX,
            reason_code: ReasonCode::QUOTA_EXCEEDED,
            properties: properties.clone().into(),
        })
    };
    run(Protocol::V5, &ack(&props), &[70_000]);
    props.user_properties.push("k", &too_long);
    assert!(ack(&props).check(Protocol::V5).is_err());
}

// ---------------------------------------------------------------------------------------------
// `check` and the decoder agree on arbitrary (also invalid) packets
// ---------------------------------------------------------------------------------------------

/// One change to one field of a packet, maybe making it invalid.
#[derive(Debug, Clone)]
struct Damage {
    site: Index,
    s: String,
    b: u8,
    n: u32,
}

/// Strings valid and invalid in every role: text, topic names, filters, bad filters, empty,
/// U+0000.
fn loose_string(p: Protocol) -> BoxedStrategy<String> {
    prop_oneof![
        2 => text(),
        2 => topic_name(),
        2 => topic_filter(p),
        2 => bad_filter(p),
        1 => Just(String::new()),
        1 => (text(), any::<Index>()).prop_map(|(s, at)| insert_at(&s, at, "\0")),
    ]
    .boxed()
}

fn damage_strategy(p: Protocol) -> impl Strategy<Value = Damage> {
    (
        any::<Index>(),
        loose_string(p),
        prop_oneof![any::<u8>(), select(vec![0u8, 1, 2, 3, 0x80, 0x92])],
        prop_oneof![
            2 => Just(0u32),
            3 => select(vec![1u32, 2, 0xFFFF, 0x1_0000, VARINT_MAX, VARINT_MAX + 1, u32::MAX]),
            2 => any::<u32>(),
        ],
    )
        .prop_map(|(site, s, b, n)| Damage { site, s, b, n })
}

fn damage_ack(code: &mut ReasonCode, props: &mut AckProperties, d: &Damage) {
    match d.site.index(3) {
        0 => *code = ReasonCode(d.b),
        1 => props.reason_string = Some(d.s.as_str().into()),
        _ => props.user_properties.push(&d.s, &d.s),
    }
}

/// Applies `d` to one field of `q` (the field chosen by `d.site`).
fn damage(q: &mut Packet, d: &Damage) {
    let s = || Str::from(d.s.as_str());
    let qos = QoS::from_u8(d.b % 3).expect("0 to 2");
    let n16 = d.n as u16;
    match q {
        Packet::Connect(c) => {
            let w = c.will.get_or_insert_with(|| Will {
                topic: "w".into(),
                ..Will::default()
            });
            match d.site.index(16) {
                0 => c.client_id = s(),
                1 => c.clean_start = !c.clean_start,
                2 => w.topic = s(),
                3 => w.qos = qos,
                4 => w.retain = !w.retain,
                5 => w.properties.response_topic = Some(s()),
                6 => w.properties.content_type = Some(s()),
                7 => c.will = None,
                8 => c.username = (d.b % 2 == 0).then(s),
                9 => c.password = (d.b % 2 == 0).then(|| Bytes::from(d.s.clone())),
                10 => c.properties.receive_maximum = Some(n16),
                11 => c.properties.maximum_packet_size = Some(d.n),
                12 => c.properties.topic_alias_maximum = Some(n16),
                13 => c.properties.authentication_method = Some(s()),
                14 => w.properties.user_properties.push(&d.s, "v"),
                _ => c.properties.user_properties.push("k", &d.s),
            }
        }
        Packet::ConnAck(c) => match d.site.index(9) {
            0 | 1 => c.reason_code = ReasonCode(d.b),
            2 => c.session_present = !c.session_present,
            3 => c.properties.maximum_qos = Some(qos),
            4 => c.properties.receive_maximum = Some(n16),
            5 => c.properties.maximum_packet_size = Some(d.n),
            6 => c.properties.assigned_client_identifier = Some(s()),
            7 => c.properties.server_keep_alive = Some(n16),
            _ => c.properties.user_properties.push(&d.s, &d.s),
        },
        Packet::Publish(x) => match d.site.index(12) {
            0 | 1 => x.topic = s(),
            2 => x.qos = qos,
            3 => x.dup = !x.dup,
            4 => x.packet_id = PacketId::new(n16),
            5 => x.properties.topic_alias = (d.b % 4 != 0).then_some(n16),
            6 => x.properties.subscription_identifiers.push(d.n),
            7 => x.properties.response_topic = Some(s()),
            8 => x.properties.content_type = Some(s()),
            9 => x.properties.message_expiry_interval = Some(d.n),
            10 => x.retain = !x.retain,
            _ => x.properties.user_properties.push(&d.s, &d.s),
        },
        Packet::PubAck(a) => damage_ack(&mut a.reason_code, &mut a.properties, d),
        Packet::PubRec(a) => damage_ack(&mut a.reason_code, &mut a.properties, d),
        Packet::PubRel(a) => damage_ack(&mut a.reason_code, &mut a.properties, d),
        Packet::PubComp(a) => damage_ack(&mut a.reason_code, &mut a.properties, d),
        Packet::Subscribe(x) => {
            let i = d.site.index(x.filters.len().max(1));
            match (d.site.index(9), x.filters.get_mut(i)) {
                (0, _) => x.filters.clear(),
                (1 | 2, Some(f)) => f.filter = s(),
                (3, Some(f)) => f.options.no_local = !f.options.no_local,
                (4, Some(f)) => f.options.retain_as_published = !f.options.retain_as_published,
                (5, Some(f)) => f.options.retain_handling = RetainHandling::DoNotSend,
                (6, Some(f)) => f.options.qos = qos,
                (7, _) => x.properties.subscription_identifier = Some(d.n),
                _ => x.properties.user_properties.push(&d.s, &d.s),
            }
        }
        Packet::SubAck(x) => match d.site.index(4) {
            0 => x.reason_codes.clear(),
            1 => x.reason_codes.push(ReasonCode(d.b)),
            2 => x.properties.reason_string = Some(s()),
            _ => x.properties.user_properties.push(&d.s, &d.s),
        },
        Packet::Unsubscribe(x) => match d.site.index(3) {
            0 => x.filters.clear(),
            1 => x.filters.push(s()),
            _ => x.properties.user_properties.push(&d.s, &d.s),
        },
        Packet::UnsubAck(x) => match d.site.index(4) {
            0 => x.reason_codes.clear(),
            1 => x.reason_codes.push(ReasonCode(d.b)),
            2 => x.properties.reason_string = Some(s()),
            _ => x.properties.user_properties.push(&d.s, &d.s),
        },
        Packet::Disconnect(x) => match d.site.index(4) {
            0 | 1 => x.reason_code = ReasonCode(d.b),
            2 => x.properties.server_reference = Some(s()),
            _ => x.properties.session_expiry_interval = Some(d.n),
        },
        Packet::Auth(x) => match d.site.index(3) {
            0 | 1 => x.reason_code = ReasonCode(d.b),
            _ => x.properties.authentication_method = Some(s()),
        },
        Packet::PingReq | Packet::PingResp => {}
    }
}

/// `check` accepts a packet exactly when its unchecked encoding decodes back to it.
fn check_agrees_with_decoder(p: Protocol, q: &Packet) -> Result<(), TestCaseError> {
    let mut raw = BytesMut::new();
    q.encode_unchecked(p, &mut raw);
    let decoded = decode_slice(p, &raw);
    let round_trips = matches!(&decoded, Ok((r, n)) if r == q && *n == raw.len());
    match (q.check(p), round_trips) {
        (Ok(()), true) => Ok(()),
        (Err(_), false) => {
            // The decoder may accept the bytes as some other packet (a 5.0-only field left out
            // for 3.1.1, say); then that packet must be valid.
            accepted_is_valid(p, &raw)
        }
        (Ok(()), false) => Err(TestCaseError::fail(format!(
            "check accepts {q:?} but its bytes {:02x?} decode to {decoded:?}",
            &raw[..]
        ))),
        (Err(e), true) => Err(TestCaseError::fail(format!(
            "check rejects {q:?} ({e}) but the decoder accepts its bytes {:02x?}",
            &raw[..]
        ))),
    }
}

mod check_vs_decoder {
    use super::*;
    proptest! {
        #![proptest_config(config())]
        #[test]
        fn v3_1((mut q, ds) in (any_packet(Protocol::V3_1), vec(damage_strategy(Protocol::V3_1), 1..4))) {
            for d in &ds {
                damage(&mut q, d);
            }
            check_agrees_with_decoder(Protocol::V3_1, &q)?;
        }

        #[test]
        fn v3_1_1((mut q, ds) in (any_packet(Protocol::V3_1_1), vec(damage_strategy(Protocol::V3_1_1), 1..4))) {
            for d in &ds {
                damage(&mut q, d);
            }
            check_agrees_with_decoder(Protocol::V3_1_1, &q)?;
        }

        #[test]
        fn v5((mut q, ds) in (any_packet(Protocol::V5), vec(damage_strategy(Protocol::V5), 1..4))) {
            for d in &ds {
                damage(&mut q, d);
            }
            check_agrees_with_decoder(Protocol::V5, &q)?;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Valid encodings other than the encoder's own
// ---------------------------------------------------------------------------------------------

/// The specification allows several encodings of some packets (a Success code written out, an
/// empty Property Length, properties in any order, User Properties between other properties).
/// They decode to the packet the canonical encoding gives, and re-encode canonically.
#[test]
fn other_valid_encodings_decode_to_the_same_packet() {
    use touchstone_codec::raw::Frame;

    let p = Protocol::V5;
    let same = |frame: Frame, expected: Packet| {
        let bytes = frame.to_bytes();
        let (q, n) = decode_slice(p, &bytes).unwrap_or_else(|e| panic!("{bytes:02x?}: {e}"));
        assert_eq!(q, expected, "{bytes:02x?}");
        assert_eq!(n, bytes.len());
        let canonical = expected.to_bytes(p).expect("valid");
        assert!(canonical.len() <= bytes.len());
        assert_eq!(decode_slice(p, &canonical).map(|(q, _)| q), Ok(expected));
    };
    let id = NonZeroU16::new(0x1234).expect("non-zero");

    // PUBACK, PUBREC, PUBREL, PUBCOMP: Success written out, with and without Property Length.
    let acks: [(u8, Packet); 4] = [
        (0x40, Packet::PubAck(PubAck::new(id))),
        (0x50, Packet::PubRec(PubRec::new(id))),
        (0x62, Packet::PubRel(PubRel::new(id))),
        (0x70, Packet::PubComp(PubComp::new(id))),
    ];
    for (first, expected) in acks {
        same(Frame::new(first).u16(0x1234).u8(0), expected.clone());
        same(Frame::new(first).u16(0x1234).u8(0).varint(0), expected);
    }
    // An error code with an empty Property Length.
    same(
        Frame::new(0x40).u16(0x1234).u8(0x97).varint(0),
        Packet::PubAck(PubAck {
            packet_id: id,
            reason_code: ReasonCode::QUOTA_EXCEEDED,
            properties: AckProperties::default().into(),
        }),
    );

    // DISCONNECT and AUTH: Success written out, with and without Property Length.
    let normal = Packet::Disconnect(Disconnect::default());
    same(Frame::new(0xE0).u8(0), normal.clone());
    same(Frame::new(0xE0).u8(0).varint(0), normal);
    let auth = Packet::Auth(Auth::default());
    same(Frame::new(0xF0).u8(0), auth.clone());
    same(Frame::new(0xF0).u8(0).varint(0), auth);
    same(
        Frame::new(0xE0).u8(0x8B).varint(0),
        Packet::Disconnect(Disconnect::new(ReasonCode::SERVER_SHUTTING_DOWN)),
    );

    // PUBLISH with properties in another order and User Properties around the others.
    let mut props = Vec::new();
    props.extend_from_slice(&[0x26, 0, 1, b'k', 0, 1, b'1']);
    props.extend_from_slice(&[0x03, 0, 4]);
    props.extend_from_slice(b"text");
    props.extend_from_slice(&[0x0B, 0x80, 0x01]); // Subscription Identifier 128
    props.extend_from_slice(&[0x26, 0, 1, b'k', 0, 0]);
    props.extend_from_slice(&[0x01, 1]);
    props.extend_from_slice(&[0x0B, 5]);
    props.extend_from_slice(&[0x23, 0, 9]);
    props.extend_from_slice(&[0x26, 0, 0, 0, 1, b'3']);
    let mut publish = Publish::new("", "payload");
    publish.qos = QoS::AtLeastOnce;
    publish.packet_id = Some(id);
    publish.properties = PublishProperties {
        payload_format_indicator: Some(PayloadFormat::Utf8),
        topic_alias: Some(9),
        content_type: Some("text".into()),
        subscription_identifiers: vec![128, 5],
        user_properties: UserProperties::from_pairs([("k", "1"), ("k", ""), ("", "3")]),
        ..PublishProperties::default()
    }
    .into();
    same(
        Frame::new(0x32)
            .string("")
            .u16(0x1234)
            .varint(props.len() as u32)
            .bytes(&props)
            .bytes("payload"),
        Packet::Publish(publish),
    );
}

/// The decoder's fast path (PUBLISH, short acknowledgements, pings) returns exactly what the
/// general decoder returns, for valid packets and for damaged ones, and leaves the buffer in the
/// same state; and the borrowed decoder (`decode_ref`) agrees with the owned one.
fn same_as_general_decoder(p: Protocol, bytes: &[u8]) -> Result<(), TestCaseError> {
    let decoder = Decoder::new(p);
    if let Err(e) = decoder.compare_decode_ref(bytes) {
        return Err(TestCaseError::fail(format!(
            "decode_ref on {bytes:02x?}: {e}"
        )));
    }
    let mut fast = BytesMut::from(bytes);
    let mut general = BytesMut::from(bytes);
    loop {
        let a = decoder.decode(&mut fast);
        let b = decoder.decode_general(&mut general);
        prop_assert_eq!(&a, &b, "decode and decode_general differ on {:02x?}", bytes);
        prop_assert_eq!(
            &fast[..],
            &general[..],
            "buffers differ after decoding {:02x?}",
            bytes
        );
        if !matches!(a, Ok(Some(_))) {
            return Ok(());
        }
    }
}

mod fast_path {
    use super::*;
    proptest! {
        #![proptest_config(config())]
        #[test]
        fn agrees_with_the_general_decoder_v3_1_1(packets in vec(any_packet(Protocol::V3_1_1), 1..4), edits in edits()) {
            let mut bytes = Vec::new();
            for packet in &packets {
                bytes.extend_from_slice(&encode(Protocol::V3_1_1, packet)?);
            }
            same_as_general_decoder(Protocol::V3_1_1, &bytes)?;
            let n = bytes.len();
            for (at, value) in &edits {
                bytes[at.index(n)] = *value;
            }
            same_as_general_decoder(Protocol::V3_1_1, &bytes)?;
        }

        #[test]
        fn agrees_with_the_general_decoder_v5(packets in vec(any_packet(Protocol::V5), 1..4), edits in edits()) {
            let mut bytes = Vec::new();
            for packet in &packets {
                bytes.extend_from_slice(&encode(Protocol::V5, packet)?);
            }
            same_as_general_decoder(Protocol::V5, &bytes)?;
            let n = bytes.len();
            for (at, value) in &edits {
                bytes[at.index(n)] = *value;
            }
            same_as_general_decoder(Protocol::V5, &bytes)?;
        }
    }
}

/// Inputs aimed at each rule the fast path checks: it must decline, so that the general
/// decoder's error (or packet) comes out.
#[test]
fn fast_path_agrees_with_the_general_decoder_on_edge_cases() {
    use touchstone_codec::raw::Frame;
    let v5_publish = |props: &[u8]| {
        Frame::new(0x30)
            .string("t")
            .varint(props.len() as u32)
            .bytes(props)
            .bytes("x")
    };
    let cases: Vec<(Protocol, Frame)> = vec![
        (Protocol::V5, v5_publish(&[0x23, 0, 0])), // Topic Alias 0
        (Protocol::V5, Frame::new(0x30).string("").u8(0).bytes("x")), // empty topic, no alias
        (
            Protocol::V5,
            Frame::new(0x30).string("").u8(3).bytes([0x23, 0, 1]),
        ), // empty topic + alias
        (
            Protocol::V5,
            v5_publish(&[0x02, 0, 0, 0, 1, 0x02, 0, 0, 0, 2]),
        ), // duplicate property
        (Protocol::V5, v5_publish(&[0x01, 2])),    // payload format 2
        (Protocol::V5, v5_publish(&[0x0B, 0])),    // subscription id 0
        (Protocol::V5, v5_publish(&[0x0B, 1, 0x0B, 2])), // two subscription ids
        (Protocol::V5, v5_publish(&[0x08, 0, 3, b'a', b'/', b'#'])), // response topic wildcard
        (Protocol::V5, v5_publish(&[0x08, 0, 0])), // empty response topic
        (Protocol::V5, v5_publish(&[0x03, 0, 1, 0xFF])), // content type not UTF-8
        (Protocol::V5, v5_publish(&[0x03, 0, 2, 0xC3, 0xA9])), // content type non-ASCII
        (Protocol::V5, v5_publish(&[0x03, 0, 1, 0])), // content type U+0000
        (
            Protocol::V5,
            v5_publish(&[
                0x26, 0, 1, b'k', 0, 1, b'v', 0x02, 0, 0, 0, 1, 0x26, 0, 1, b'k', 0, 1, b'w',
            ]),
        ), // split user properties
        (Protocol::V5, v5_publish(&[0x26, 0, 1, b'k', 0, 1, 0])), // user property U+0000
        (Protocol::V5, v5_publish(&[0x11, 0, 0, 0, 1])), // property not allowed
        (Protocol::V5, v5_publish(&[0x7F])),       // unknown property
        (Protocol::V5, v5_publish(&[0x02, 0, 0])), // property cut short
        (
            Protocol::V5,
            Frame::new(0x30).string("t").u8(9).bytes([0x02, 0, 0, 0, 1]),
        ), // length past end
        (Protocol::V3_1_1, Frame::new(0x38).string("t")), // DUP at QoS 0
        (Protocol::V3_1_1, Frame::new(0x36).string("t").u16(1)), // QoS 3
        (Protocol::V3_1_1, Frame::new(0x32).string("t").u16(0)), // packet id 0
        (Protocol::V3_1_1, Frame::new(0x32).string("t").u8(1)), // packet id cut short
        (Protocol::V3_1_1, Frame::new(0x30).string("")), // empty topic
        (Protocol::V3_1_1, Frame::new(0x30).string("a/+")), // wildcard
        (Protocol::V3_1_1, Frame::new(0x30).string("a\0")), // U+0000
        (Protocol::V3_1_1, Frame::new(0x30).string([0xC3, 0xA9])), // non-ASCII topic
        (Protocol::V3_1_1, Frame::new(0x30).string("x".repeat(60))), // long topic
        (Protocol::V3_1_1, Frame::new(0x30).u16(9).bytes("ab")), // topic past the end
        (Protocol::V3_1_1, Frame::new(0x40).u16(0)), // PUBACK id 0
        (Protocol::V3_1_1, Frame::new(0x40).u16(1).u8(0)), // PUBACK too long
        (Protocol::V3_1_1, Frame::new(0x60).u16(1)), // PUBREL flags
        (Protocol::V3_1_1, Frame::new(0xC0).u8(0)), // PINGREQ too long
        (
            Protocol::V3_1_1,
            Frame::new(0xC0).remaining_length_bytes(&[0x80, 0x00]),
        ), // non-minimal
        (
            Protocol::V3_1_1,
            Frame::new(0x30)
                .remaining_length_bytes(&[0x85, 0x00])
                .string("t")
                .bytes("xy"),
        ), // non-minimal 2 bytes
        (
            Protocol::V3_1_1,
            Frame::new(0x30).string("t").bytes(vec![7u8; 300]),
        ), // 2-byte length
        (Protocol::V5, Frame::new(0xF0)),          // AUTH
    ];
    for (p, frame) in cases {
        let bytes = frame.to_bytes();
        if let Err(e) = same_as_general_decoder(p, &bytes) {
            panic!("{p} {}: {e}", touchstone_codec::hex::encode(&bytes));
        }
        // Also with a valid packet after it, and cut short.
        let mut more = bytes.to_vec();
        more.extend_from_slice(&[0xC0, 0x00]);
        same_as_general_decoder(p, &more).unwrap();
        same_as_general_decoder(p, &bytes[..bytes.len() - 1]).unwrap();
    }
}
