//! 5.0 properties (section 2.2.2): the property decoder with its value checks, the encoders, and
//! the property set of each packet.

mod props;
mod sets;
mod user;
mod view;
pub(crate) mod wire;

use bytes::Bytes;

pub use props::{PropertySet, Props};
pub use sets::{
    AckProperties, AuthProperties, ConnAckProperties, ConnectProperties, DisconnectProperties,
    PublishProperties, SubscribeProperties, UnsubscribeProperties, WillProperties,
};
pub use user::{Iter as UserPropertiesIter, UserProperties};
pub use view::PublishPropertiesRef;

use crate::error::DecodeError;
use crate::protocol::Statement;
use crate::qos::QoS;
use crate::reader::{Reader, Source};
use crate::small::SmallBytes;
use crate::str::Str;
use crate::topic::name_has_wildcard;

/// The Payload Format Indicator (property 0x01).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum PayloadFormat {
    /// 0: unspecified bytes.
    #[default]
    Unspecified = 0,
    /// 1: UTF-8 encoded character data.
    Utf8 = 1,
}

#[cfg(feature = "serde")]
impl serde::Serialize for PayloadFormat {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u8(*self as u8)
    }
}

#[cfg(feature = "serde")]
impl<'de> serde::Deserialize<'de> for PayloadFormat {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match <u8 as serde::Deserialize>::deserialize(d)? {
            0 => Ok(PayloadFormat::Unspecified),
            1 => Ok(PayloadFormat::Utf8),
            v => Err(serde::de::Error::custom(format!(
                "payload format indicator must be 0 or 1, not {v}"
            ))),
        }
    }
}

/// One decoded property other than a User Property.
#[derive(Debug)]
pub(crate) enum Property {
    PayloadFormatIndicator(PayloadFormat),
    MessageExpiryInterval(u32),
    ContentType(Str),
    ResponseTopic(Str),
    CorrelationData(Bytes),
    SubscriptionIdentifier(u32),
    SessionExpiryInterval(u32),
    AssignedClientIdentifier(Str),
    ServerKeepAlive(u16),
    AuthenticationMethod(Str),
    AuthenticationData(Bytes),
    RequestProblemInformation(bool),
    WillDelayInterval(u32),
    RequestResponseInformation(bool),
    ResponseInformation(Str),
    ServerReference(Str),
    ReasonString(Str),
    ReceiveMaximum(u16),
    TopicAliasMaximum(u16),
    TopicAlias(u16),
    MaximumQos(QoS),
    RetainAvailable(bool),
    MaximumPacketSize(u32),
    WildcardSubscriptionAvailable(bool),
    SubscriptionIdentifierAvailable(bool),
    SharedSubscriptionAvailable(bool),
}

impl Property {
    /// The property identifier.
    pub(crate) fn id(&self) -> u8 {
        match self {
            Property::PayloadFormatIndicator(_) => 0x01,
            Property::MessageExpiryInterval(_) => 0x02,
            Property::ContentType(_) => 0x03,
            Property::ResponseTopic(_) => 0x08,
            Property::CorrelationData(_) => 0x09,
            Property::SubscriptionIdentifier(_) => 0x0B,
            Property::SessionExpiryInterval(_) => 0x11,
            Property::AssignedClientIdentifier(_) => 0x12,
            Property::ServerKeepAlive(_) => 0x13,
            Property::AuthenticationMethod(_) => 0x15,
            Property::AuthenticationData(_) => 0x16,
            Property::RequestProblemInformation(_) => 0x17,
            Property::WillDelayInterval(_) => 0x18,
            Property::RequestResponseInformation(_) => 0x19,
            Property::ResponseInformation(_) => 0x1A,
            Property::ServerReference(_) => 0x1C,
            Property::ReasonString(_) => 0x1F,
            Property::ReceiveMaximum(_) => 0x21,
            Property::TopicAliasMaximum(_) => 0x22,
            Property::TopicAlias(_) => 0x23,
            Property::MaximumQos(_) => 0x24,
            Property::RetainAvailable(_) => 0x25,
            Property::MaximumPacketSize(_) => 0x27,
            Property::WildcardSubscriptionAvailable(_) => 0x28,
            Property::SubscriptionIdentifierAvailable(_) => 0x29,
            Property::SharedSubscriptionAvailable(_) => 0x2A,
        }
    }
}

/// The name of property `id`, as the specification writes it.
pub fn property_name(id: u32) -> &'static str {
    match id {
        0x01 => "Payload Format Indicator",
        0x02 => "Message Expiry Interval",
        0x03 => "Content Type",
        0x08 => "Response Topic",
        0x09 => "Correlation Data",
        0x0B => "Subscription Identifier",
        0x11 => "Session Expiry Interval",
        0x12 => "Assigned Client Identifier",
        0x13 => "Server Keep Alive",
        0x15 => "Authentication Method",
        0x16 => "Authentication Data",
        0x17 => "Request Problem Information",
        0x18 => "Will Delay Interval",
        0x19 => "Request Response Information",
        0x1A => "Response Information",
        0x1C => "Server Reference",
        0x1F => "Reason String",
        0x21 => "Receive Maximum",
        0x22 => "Topic Alias Maximum",
        0x23 => "Topic Alias",
        0x24 => "Maximum QoS",
        0x25 => "Retain Available",
        0x26 => "User Property",
        0x27 => "Maximum Packet Size",
        0x28 => "Wildcard Subscription Available",
        0x29 => "Subscription Identifier Available",
        0x2A => "Shared Subscription Available",
        _ => "unknown property",
    }
}

#[cold]
pub(crate) fn not_allowed(at: usize, id: u8, packet: &str) -> DecodeError {
    // 5.0 section 2.2.2.2: an identifier not valid for the packet type makes it malformed.
    DecodeError::malformed(
        at,
        format!(
            "property {} (0x{id:02X}) is not allowed in {packet}",
            property_name(id.into())
        ),
    )
}

#[cold]
pub(crate) fn duplicate(at: usize, id: u8, packet: &str) -> DecodeError {
    DecodeError::protocol(
        at,
        format!(
            "property {} (0x{id:02X}) appears more than once in {packet}",
            property_name(id.into())
        ),
    )
}

/// Reads a Property Length and the properties it covers. User Properties are collected (without
/// copying when they are adjacent, as usual); every other property goes to `each` with its
/// offset, which assigns it or rejects it as not allowed or duplicated.
#[inline]
pub(crate) fn read_properties<S: Source>(
    r: &mut Reader<'_, S>,
    packet: &'static str,
    mut each: impl FnMut(Property, usize) -> Result<(), DecodeError>,
) -> Result<UserProperties, DecodeError> {
    let len_at = r.pos();
    let len = r.varint("Property Length")? as usize;
    if len > r.remaining() {
        return Err(DecodeError::malformed(
            len_at,
            format!(
                "Property Length {len} exceeds the {} bytes left in {packet}",
                r.remaining()
            ),
        ));
    }
    let end = r.pos() + len;
    let mut user = UserRun::default();
    while r.pos() < end {
        let at = r.pos();
        // Every defined identifier fits in one byte; the varint reader explains the rest.
        let id = match r.peek() {
            Some(b) if b < 0x80 => u32::from(r.u8("Property Identifier")?),
            _ => r.varint("Property Identifier")?,
        };
        if id == 0x26 {
            let user_property = [Statement::v5("MQTT-1.5.7-1")];
            r.skip_string("User Property name", &user_property)?;
            r.skip_string("User Property value", &user_property)?;
            user.add(r, at);
        } else {
            let prop = read_value(r, id, at)?;
            each(prop, at)?;
        }
        if r.pos() > end {
            return Err(DecodeError::malformed(
                at,
                format!(
                    "property {} runs past the end of the Property Length",
                    property_name(id)
                ),
            ));
        }
    }
    Ok(user.finish(r))
}

/// Collects User Properties: a range of the packet while they are adjacent (as usual), a copy
/// otherwise.
#[derive(Default)]
struct UserRun {
    start: usize,
    end: usize,
    count: u32,
    copied: Option<Vec<u8>>,
}

impl UserRun {
    #[inline]
    fn add<S: Source>(&mut self, r: &Reader<'_, S>, at: usize) {
        let now = r.pos();
        if self.count == 0 {
            self.start = at;
            self.end = now;
        } else if let Some(copy) = &mut self.copied {
            copy.extend_from_slice(r.bytes(at, now));
        } else if self.end == at {
            self.end = now;
        } else {
            let mut copy = r.bytes(self.start, self.end).to_vec();
            copy.extend_from_slice(r.bytes(at, now));
            self.copied = Some(copy);
        }
        self.count += 1;
    }

    #[inline]
    fn finish<S: Source>(self, r: &mut Reader<'_, S>) -> UserProperties {
        match (self.count, self.copied) {
            (0, _) => UserProperties::new(),
            (n, Some(copy)) => UserProperties::from_raw(SmallBytes::from_vec(copy), n),
            (n, None) => UserProperties::from_raw(r.small(self.start, self.end), n),
        }
    }
}

#[inline]
fn flag<S: Source>(r: &mut Reader<'_, S>, id: u32, at: usize) -> Result<bool, DecodeError> {
    match r.u8(property_name(id))? {
        0 => Ok(false),
        1 => Ok(true),
        v => Err(DecodeError::protocol(
            at,
            format!("{} must be 0 or 1, not {v}", property_name(id)),
        )),
    }
}

#[inline]
fn non_zero_u16<S: Source>(
    r: &mut Reader<'_, S>,
    id: u32,
    at: usize,
    cite: &[Statement],
) -> Result<u16, DecodeError> {
    match r.u16(property_name(id))? {
        0 => Err(
            DecodeError::protocol(at, format!("{} must not be 0", property_name(id))).cite(cite),
        ),
        v => Ok(v),
    }
}

/// Reads the value of property `id` and checks its range.
fn read_value<S: Source>(
    r: &mut Reader<'_, S>,
    id: u32,
    at: usize,
) -> Result<Property, DecodeError> {
    Ok(match id {
        0x01 => match r.u8("Payload Format Indicator")? {
            0 => Property::PayloadFormatIndicator(PayloadFormat::Unspecified),
            1 => Property::PayloadFormatIndicator(PayloadFormat::Utf8),
            v => {
                return Err(DecodeError::protocol(
                    at,
                    format!("Payload Format Indicator must be 0 or 1, not {v}"),
                ))
            }
        },
        0x02 => Property::MessageExpiryInterval(r.u32("Message Expiry Interval")?),
        0x03 => Property::ContentType(r.string("Content Type", &[Statement::v5("MQTT-3.3.2-19")])?),
        0x08 => {
            let topic = r.topic_string("Response Topic", &[Statement::v5("MQTT-3.3.2-13")])?;
            if topic.is_empty() {
                return Err(DecodeError::malformed(at, "Response Topic is empty")
                    .cite(&[Statement::v5("MQTT-4.7.3-1")]));
            }
            if name_has_wildcard(topic.as_bytes()) {
                return Err(DecodeError::malformed(
                    at,
                    "Response Topic contains a wildcard character",
                )
                .cite(&[Statement::v5("MQTT-3.3.2-14")]));
            }
            Property::ResponseTopic(topic)
        }
        0x09 => Property::CorrelationData(r.binary("Correlation Data")?),
        0x0B => match r.varint("Subscription Identifier")? {
            0 => {
                return Err(DecodeError::protocol(
                    at,
                    "Subscription Identifier must not be 0",
                ))
            }
            v => Property::SubscriptionIdentifier(v),
        },
        0x11 => Property::SessionExpiryInterval(r.u32("Session Expiry Interval")?),
        0x12 => Property::AssignedClientIdentifier(r.string("Assigned Client Identifier", &[])?),
        0x13 => Property::ServerKeepAlive(r.u16("Server Keep Alive")?),
        0x15 => Property::AuthenticationMethod(r.string("Authentication Method", &[])?),
        0x16 => Property::AuthenticationData(r.binary("Authentication Data")?),
        0x17 => Property::RequestProblemInformation(flag(r, id, at)?),
        0x18 => Property::WillDelayInterval(r.u32("Will Delay Interval")?),
        0x19 => Property::RequestResponseInformation(flag(r, id, at)?),
        0x1A => Property::ResponseInformation(r.string("Response Information", &[])?),
        0x1C => Property::ServerReference(r.string("Server Reference", &[])?),
        0x1F => Property::ReasonString(r.string("Reason String", &[])?),
        0x21 => Property::ReceiveMaximum(non_zero_u16(r, id, at, &[])?),
        0x22 => Property::TopicAliasMaximum(r.u16("Topic Alias Maximum")?),
        0x23 => Property::TopicAlias(non_zero_u16(r, id, at, &[Statement::v5("MQTT-3.3.2-8")])?),
        0x24 => match r.u8("Maximum QoS")? {
            0 => Property::MaximumQos(QoS::AtMostOnce),
            1 => Property::MaximumQos(QoS::AtLeastOnce),
            v => {
                return Err(DecodeError::protocol(
                    at,
                    format!("Maximum QoS must be 0 or 1, not {v}"),
                ))
            }
        },
        0x25 => Property::RetainAvailable(flag(r, id, at)?),
        0x27 => match r.u32("Maximum Packet Size")? {
            0 => {
                return Err(DecodeError::protocol(
                    at,
                    "Maximum Packet Size must not be 0",
                ))
            }
            v => Property::MaximumPacketSize(v),
        },
        0x28 => Property::WildcardSubscriptionAvailable(flag(r, id, at)?),
        0x29 => Property::SubscriptionIdentifierAvailable(flag(r, id, at)?),
        0x2A => Property::SharedSubscriptionAvailable(flag(r, id, at)?),
        _ => {
            return Err(DecodeError::malformed(
                at,
                format!("unknown property identifier 0x{id:02X}"),
            ))
        }
    })
}
