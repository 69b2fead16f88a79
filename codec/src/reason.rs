//! Reason codes (5.0) and return codes (3.1.1), and which ones each packet may carry.

use std::fmt;

/// A one-byte reason code (5.0) or return code (3.1.1 CONNACK and SUBACK).
///
/// Kept as the raw byte so that any value can be represented; [`ReasonCode::name`] gives the
/// 5.0 name, and the decoder checks that each packet carries only the codes defined for it.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct ReasonCode(pub u8);

macro_rules! reason_codes {
    ($($name:ident = $value:literal, $text:literal;)*) => {
        impl ReasonCode {
            $(
                #[doc = $text]
                pub const $name: ReasonCode = ReasonCode($value);
            )*
        }
    };
}

reason_codes! {
    SUCCESS = 0x00, "Success (also Normal disconnection, Granted QoS 0).";
    GRANTED_QOS_1 = 0x01, "Granted QoS 1.";
    GRANTED_QOS_2 = 0x02, "Granted QoS 2.";
    DISCONNECT_WITH_WILL = 0x04, "Disconnect with Will Message.";
    NO_MATCHING_SUBSCRIBERS = 0x10, "No matching subscribers.";
    NO_SUBSCRIPTION_EXISTED = 0x11, "No subscription existed.";
    CONTINUE_AUTHENTICATION = 0x18, "Continue authentication.";
    RE_AUTHENTICATE = 0x19, "Re-authenticate.";
    UNSPECIFIED_ERROR = 0x80, "Unspecified error (3.1.1 SUBACK: Failure).";
    MALFORMED_PACKET = 0x81, "Malformed Packet.";
    PROTOCOL_ERROR = 0x82, "Protocol Error.";
    IMPLEMENTATION_SPECIFIC_ERROR = 0x83, "Implementation specific error.";
    UNSUPPORTED_PROTOCOL_VERSION = 0x84, "Unsupported Protocol Version.";
    CLIENT_IDENTIFIER_NOT_VALID = 0x85, "Client Identifier not valid.";
    BAD_USER_NAME_OR_PASSWORD = 0x86, "Bad User Name or Password.";
    NOT_AUTHORIZED = 0x87, "Not authorized.";
    SERVER_UNAVAILABLE = 0x88, "Server unavailable.";
    SERVER_BUSY = 0x89, "Server busy.";
    BANNED = 0x8A, "Banned.";
    SERVER_SHUTTING_DOWN = 0x8B, "Server shutting down.";
    BAD_AUTHENTICATION_METHOD = 0x8C, "Bad authentication method.";
    KEEP_ALIVE_TIMEOUT = 0x8D, "Keep Alive timeout.";
    SESSION_TAKEN_OVER = 0x8E, "Session taken over.";
    TOPIC_FILTER_INVALID = 0x8F, "Topic Filter invalid.";
    TOPIC_NAME_INVALID = 0x90, "Topic Name invalid.";
    PACKET_IDENTIFIER_IN_USE = 0x91, "Packet Identifier in use.";
    PACKET_IDENTIFIER_NOT_FOUND = 0x92, "Packet Identifier not found.";
    RECEIVE_MAXIMUM_EXCEEDED = 0x93, "Receive Maximum exceeded.";
    TOPIC_ALIAS_INVALID = 0x94, "Topic Alias invalid.";
    PACKET_TOO_LARGE = 0x95, "Packet too large.";
    MESSAGE_RATE_TOO_HIGH = 0x96, "Message rate too high.";
    QUOTA_EXCEEDED = 0x97, "Quota exceeded.";
    ADMINISTRATIVE_ACTION = 0x98, "Administrative action.";
    PAYLOAD_FORMAT_INVALID = 0x99, "Payload format invalid.";
    RETAIN_NOT_SUPPORTED = 0x9A, "Retain not supported.";
    QOS_NOT_SUPPORTED = 0x9B, "QoS not supported.";
    USE_ANOTHER_SERVER = 0x9C, "Use another server.";
    SERVER_MOVED = 0x9D, "Server moved.";
    SHARED_SUBSCRIPTIONS_NOT_SUPPORTED = 0x9E, "Shared Subscriptions not supported.";
    CONNECTION_RATE_EXCEEDED = 0x9F, "Connection rate exceeded.";
    MAXIMUM_CONNECT_TIME = 0xA0, "Maximum connect time.";
    SUBSCRIPTION_IDENTIFIERS_NOT_SUPPORTED = 0xA1, "Subscription Identifiers not supported.";
    WILDCARD_SUBSCRIPTIONS_NOT_SUPPORTED = 0xA2, "Wildcard Subscriptions not supported.";
}

impl ReasonCode {
    /// 3.1.1 CONNACK: connection accepted.
    pub const V3_ACCEPTED: ReasonCode = ReasonCode(0x00);
    /// 3.1.1 CONNACK: unacceptable protocol version.
    pub const V3_UNACCEPTABLE_PROTOCOL_VERSION: ReasonCode = ReasonCode(0x01);
    /// 3.1.1 CONNACK: identifier rejected.
    pub const V3_IDENTIFIER_REJECTED: ReasonCode = ReasonCode(0x02);
    /// 3.1.1 CONNACK: server unavailable.
    pub const V3_SERVER_UNAVAILABLE: ReasonCode = ReasonCode(0x03);
    /// 3.1.1 CONNACK: bad user name or password.
    pub const V3_BAD_USER_NAME_OR_PASSWORD: ReasonCode = ReasonCode(0x04);
    /// 3.1.1 CONNACK: not authorized.
    pub const V3_NOT_AUTHORIZED: ReasonCode = ReasonCode(0x05);

    /// The raw byte.
    #[inline]
    pub const fn as_u8(self) -> u8 {
        self.0
    }

    /// True for codes below 0x80.
    #[inline]
    pub const fn is_success(self) -> bool {
        self.0 < 0x80
    }

    /// The 5.0 name of the code (context-free: 0x00 is "Success").
    pub const fn name(self) -> &'static str {
        match self.0 {
            0x00 => "Success",
            0x01 => "Granted QoS 1",
            0x02 => "Granted QoS 2",
            0x04 => "Disconnect with Will Message",
            0x10 => "No matching subscribers",
            0x11 => "No subscription existed",
            0x18 => "Continue authentication",
            0x19 => "Re-authenticate",
            0x80 => "Unspecified error",
            0x81 => "Malformed Packet",
            0x82 => "Protocol Error",
            0x83 => "Implementation specific error",
            0x84 => "Unsupported Protocol Version",
            0x85 => "Client Identifier not valid",
            0x86 => "Bad User Name or Password",
            0x87 => "Not authorized",
            0x88 => "Server unavailable",
            0x89 => "Server busy",
            0x8A => "Banned",
            0x8B => "Server shutting down",
            0x8C => "Bad authentication method",
            0x8D => "Keep Alive timeout",
            0x8E => "Session taken over",
            0x8F => "Topic Filter invalid",
            0x90 => "Topic Name invalid",
            0x91 => "Packet Identifier in use",
            0x92 => "Packet Identifier not found",
            0x93 => "Receive Maximum exceeded",
            0x94 => "Topic Alias invalid",
            0x95 => "Packet too large",
            0x96 => "Message rate too high",
            0x97 => "Quota exceeded",
            0x98 => "Administrative action",
            0x99 => "Payload format invalid",
            0x9A => "Retain not supported",
            0x9B => "QoS not supported",
            0x9C => "Use another server",
            0x9D => "Server moved",
            0x9E => "Shared Subscriptions not supported",
            0x9F => "Connection rate exceeded",
            0xA0 => "Maximum connect time",
            0xA1 => "Subscription Identifiers not supported",
            0xA2 => "Wildcard Subscriptions not supported",
            _ => "(undefined)",
        }
    }

    /// The 3.1.1 name of a CONNACK return code (Table 3.1), if the code is one.
    pub const fn v3_connack_name(self) -> Option<&'static str> {
        Some(match self.0 {
            0x00 => "Connection Accepted",
            0x01 => "Connection Refused, unacceptable protocol version",
            0x02 => "Connection Refused, identifier rejected",
            0x03 => "Connection Refused, Server unavailable",
            0x04 => "Connection Refused, bad user name or password",
            0x05 => "Connection Refused, not authorized",
            _ => return None,
        })
    }

    /// Maps a 5.0 CONNACK reason code to the nearest 3.1.1 CONNACK return code, if one exists.
    pub const fn to_v3_connack(self) -> Option<ReasonCode> {
        Some(ReasonCode(match self.0 {
            0x00 => 0x00,
            0x84 => 0x01,
            0x85 => 0x02,
            0x88 | 0x89 => 0x03,
            0x86 => 0x04,
            0x87 | 0x8A | 0x8C => 0x05,
            _ => return None,
        }))
    }
}

impl fmt::Debug for ReasonCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "0x{:02X} ({})", self.0, self.name())
    }
}

impl fmt::Display for ReasonCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "0x{:02X} {}", self.0, self.name())
    }
}

impl From<u8> for ReasonCode {
    fn from(v: u8) -> Self {
        ReasonCode(v)
    }
}

#[cfg(feature = "serde")]
impl serde::Serialize for ReasonCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u8(self.0)
    }
}

#[cfg(feature = "serde")]
impl<'de> serde::Deserialize<'de> for ReasonCode {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        <u8 as serde::Deserialize>::deserialize(d).map(ReasonCode)
    }
}

/// The 5.0 reason codes each packet may carry (Tables in 3.2.2.2, 3.4.2.1, ..., 3.15.2.1).
pub mod valid {
    /// CONNACK reason codes [MQTT-3.2.2-8].
    pub const CONNACK: &[u8] = &[
        0x00, 0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8A, 0x8C, 0x90, 0x95,
        0x97, 0x99, 0x9A, 0x9B, 0x9C, 0x9D, 0x9F,
    ];
    /// PUBACK and PUBREC reason codes [MQTT-3.4.2-1], [MQTT-3.5.2-1].
    pub const PUBACK: &[u8] = &[0x00, 0x10, 0x80, 0x83, 0x87, 0x90, 0x91, 0x97, 0x99];
    /// PUBREL and PUBCOMP reason codes [MQTT-3.6.2-1], [MQTT-3.7.2-1].
    pub const PUBREL: &[u8] = &[0x00, 0x92];
    /// SUBACK reason codes [MQTT-3.9.3-2].
    pub const SUBACK: &[u8] = &[
        0x00, 0x01, 0x02, 0x80, 0x83, 0x87, 0x8F, 0x91, 0x97, 0x9E, 0xA1, 0xA2,
    ];
    /// UNSUBACK reason codes [MQTT-3.11.3-2].
    pub const UNSUBACK: &[u8] = &[0x00, 0x11, 0x80, 0x83, 0x87, 0x8F, 0x91];
    /// DISCONNECT reason codes [MQTT-3.14.2-1].
    pub const DISCONNECT: &[u8] = &[
        0x00, 0x04, 0x80, 0x81, 0x82, 0x83, 0x87, 0x89, 0x8B, 0x8D, 0x8E, 0x8F, 0x90, 0x93, 0x94,
        0x95, 0x96, 0x97, 0x98, 0x99, 0x9A, 0x9B, 0x9C, 0x9D, 0x9E, 0x9F, 0xA0, 0xA1, 0xA2,
    ];
    /// AUTH reason codes [MQTT-3.15.2-1].
    pub const AUTH: &[u8] = &[0x00, 0x18, 0x19];
    /// 3.1.1 CONNACK return codes (Table 3.1).
    pub const V3_CONNACK: &[u8] = &[0x00, 0x01, 0x02, 0x03, 0x04, 0x05];
    /// 3.1.1 SUBACK return codes [MQTT-3.9.3-2].
    pub const V3_SUBACK: &[u8] = &[0x00, 0x01, 0x02, 0x80];
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_cover_every_defined_code() {
        for table in [
            valid::CONNACK,
            valid::PUBACK,
            valid::PUBREL,
            valid::SUBACK,
            valid::UNSUBACK,
            valid::DISCONNECT,
            valid::AUTH,
        ] {
            for &c in table {
                assert_ne!(ReasonCode(c).name(), "(undefined)", "0x{c:02X}");
            }
        }
    }

    #[test]
    fn v5_connack_codes_map_to_v3() {
        assert_eq!(
            ReasonCode::NOT_AUTHORIZED.to_v3_connack(),
            Some(ReasonCode::V3_NOT_AUTHORIZED)
        );
        assert_eq!(
            ReasonCode::CLIENT_IDENTIFIER_NOT_VALID.to_v3_connack(),
            Some(ReasonCode::V3_IDENTIFIER_REJECTED)
        );
        assert_eq!(ReasonCode::PACKET_TOO_LARGE.to_v3_connack(), None);
    }
}
