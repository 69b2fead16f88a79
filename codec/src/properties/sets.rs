//! The property set of each packet, generated from one table per packet: the struct, its decoder
//! (which rejects properties not allowed in that packet and duplicates), its encoder and checks.

use bytes::{Bytes, BytesMut};

use super::props::{PropertySet, Props};
use super::{
    duplicate, not_allowed, read_properties, wire, PayloadFormat, Property, UserProperties,
};
use crate::error::{DecodeError, EncodeError};
use crate::qos::QoS;
use crate::reader::{Reader, Source};
use crate::str::Str;
use crate::varint::{varint_len, write_varint};

macro_rules! property_set {
    (
        $(#[$meta:meta])*
        $name:ident {
            $( $(#[$fmeta:meta])* $field:ident : $ty:ty [$wire:ident] = $variant:ident ($id:literal), )*
        }
        $( many { $( $(#[$mmeta:meta])* $mfield:ident : $mty:ty [$mwire:ident] = $mvariant:ident ($mid:literal), )* } )?
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Default, PartialEq, Eq)]
        #[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
        #[cfg_attr(feature = "serde", serde(default, deny_unknown_fields))]
        pub struct $name {
            $(
                $(#[$fmeta])*
                #[cfg_attr(feature = "serde", serde(skip_serializing_if = "Option::is_none"))]
                pub $field: Option<$ty>,
            )*
            $($(
                $(#[$mmeta])*
                #[cfg_attr(feature = "serde", serde(skip_serializing_if = "Vec::is_empty"))]
                pub $mfield: Vec<$mty>,
            )*)?
            /// User Properties (0x26), in order; names may repeat.
            #[cfg_attr(feature = "serde", serde(skip_serializing_if = "UserProperties::is_empty"))]
            pub user_properties: UserProperties,
        }

        impl PropertySet for $name {
            fn empty() -> &'static Self {
                static EMPTY: $name = $name {
                    $( $field: None, )*
                    $($( $mfield: Vec::new(), )*)?
                    user_properties: UserProperties::new(),
                };
                &EMPTY
            }

            fn is_empty(&self) -> bool {
                $( self.$field.is_none() && )*
                $($( self.$mfield.is_empty() && )*)?
                self.user_properties.is_empty()
            }
        }

        impl $name {
            /// True if no property is set.
            pub fn is_empty(&self) -> bool {
                <Self as PropertySet>::is_empty(self)
            }

            /// Reads a Property Length and the properties of `packet`, boxed unless there are
            /// none (a Property Length of 0 allocates nothing).
            #[inline]
            pub(crate) fn decode_props<S: Source>(r: &mut Reader<'_, S>, packet: &'static str) -> Result<Props<Self>, DecodeError> {
                if r.peek() == Some(0) {
                    r.u8("Property Length")?;
                    return Ok(Props::none());
                }
                let mut set: Box<Self> = Box::default();
                set.decode_into(r, packet)?;
                Ok(Props::from_box(set))
            }

            /// Reads a Property Length and the properties of `packet` into `self` (empty).
            #[inline]
            pub(crate) fn decode_into<S: Source>(&mut self, r: &mut Reader<'_, S>, packet: &'static str) -> Result<(), DecodeError> {
                let out = self;
                #[allow(unreachable_code)]
                let user = read_properties(r, packet, |prop, at| {
                    match prop {
                        $(
                            Property::$variant(v) => {
                                if out.$field.is_some() {
                                    return Err(duplicate(at, $id, packet));
                                }
                                out.$field = Some(v);
                            }
                        )*
                        $($( Property::$mvariant(v) => out.$mfield.push(v), )*)?
                        #[allow(unreachable_patterns)]
                        other => return Err(not_allowed(at, other.id(), packet)),
                    }
                    Ok(())
                })?;
                out.user_properties = user;
                Ok(())
            }

            /// Length of the properties, without the Property Length itself.
            pub(crate) fn body_len(&self) -> usize {
                #[allow(unused_mut)]
                let mut n = self.user_properties.raw().len();
                $( if let Some(v) = &self.$field { n += wire::$wire::len(v); } )*
                $($( for v in &self.$mfield { n += wire::$mwire::len(v); } )*)?
                n
            }

            /// Length of the Property Length and the properties.
            pub(crate) fn encoded_len(&self) -> usize {
                let n = self.body_len();
                varint_len(n as u32) + n
            }

            /// Writes the Property Length and the properties.
            pub(crate) fn write(&self, buf: &mut BytesMut) {
                write_varint(buf, self.body_len() as u32);
                $( if let Some(v) = &self.$field { wire::$wire::put(v, $id, buf); } )*
                $($( for v in &self.$mfield { wire::$mwire::put(v, $mid, buf); } )*)?
                buf.extend_from_slice(self.user_properties.raw());
            }

            /// Checks every value as the decoder would.
            pub(crate) fn check(&self) -> Result<(), EncodeError> {
                $( if let Some(v) = &self.$field { wire::$wire::check(v, $id)?; } )*
                $($( for v in &self.$mfield { wire::$mwire::check(v, $mid)?; } )*)?
                check_user_properties(&self.user_properties)
            }
        }
    };
}

fn check_user_properties(p: &UserProperties) -> Result<(), EncodeError> {
    if !p.lengths_ok() {
        return Err(EncodeError::new(
            "a User Property name or value is longer than 65535 bytes",
        ));
    }
    if p.iter().any(|(k, v)| k.contains('\0') || v.contains('\0')) {
        return Err(EncodeError::new("a User Property contains U+0000")
            .cite(&[crate::Statement::v5("MQTT-1.5.7-1")]));
    }
    Ok(())
}

property_set! {
    /// Properties of CONNECT (5.0 section 3.1.2.11).
    ConnectProperties {
        /// Session Expiry Interval (0x11), seconds.
        session_expiry_interval: u32 [four] = SessionExpiryInterval(0x11),
        /// Receive Maximum (0x21), not 0.
        receive_maximum: u16 [two] = ReceiveMaximum(0x21),
        /// Maximum Packet Size (0x27), not 0.
        maximum_packet_size: u32 [four] = MaximumPacketSize(0x27),
        /// Topic Alias Maximum (0x22).
        topic_alias_maximum: u16 [two] = TopicAliasMaximum(0x22),
        /// Request Response Information (0x19).
        request_response_information: bool [flag] = RequestResponseInformation(0x19),
        /// Request Problem Information (0x17).
        request_problem_information: bool [flag] = RequestProblemInformation(0x17),
        /// Authentication Method (0x15).
        authentication_method: Str [utf8] = AuthenticationMethod(0x15),
        /// Authentication Data (0x16).
        #[cfg_attr(feature = "serde", serde(with = "crate::hex::serde_bytes::opt"))]
        authentication_data: Bytes [bin] = AuthenticationData(0x16),
    }
}

property_set! {
    /// Will Properties of CONNECT (5.0 section 3.1.3.2).
    WillProperties {
        /// Will Delay Interval (0x18), seconds.
        will_delay_interval: u32 [four] = WillDelayInterval(0x18),
        /// Payload Format Indicator (0x01).
        payload_format_indicator: PayloadFormat [format] = PayloadFormatIndicator(0x01),
        /// Message Expiry Interval (0x02), seconds.
        message_expiry_interval: u32 [four] = MessageExpiryInterval(0x02),
        /// Content Type (0x03).
        content_type: Str [utf8] = ContentType(0x03),
        /// Response Topic (0x08).
        response_topic: Str [utf8] = ResponseTopic(0x08),
        /// Correlation Data (0x09).
        #[cfg_attr(feature = "serde", serde(with = "crate::hex::serde_bytes::opt"))]
        correlation_data: Bytes [bin] = CorrelationData(0x09),
    }
}

property_set! {
    /// Properties of CONNACK (5.0 section 3.2.2.3).
    ConnAckProperties {
        /// Session Expiry Interval (0x11), seconds.
        session_expiry_interval: u32 [four] = SessionExpiryInterval(0x11),
        /// Receive Maximum (0x21), not 0.
        receive_maximum: u16 [two] = ReceiveMaximum(0x21),
        /// Maximum QoS (0x24): 0 or 1.
        maximum_qos: QoS [qos] = MaximumQos(0x24),
        /// Retain Available (0x25).
        retain_available: bool [flag] = RetainAvailable(0x25),
        /// Maximum Packet Size (0x27), not 0.
        maximum_packet_size: u32 [four] = MaximumPacketSize(0x27),
        /// Assigned Client Identifier (0x12).
        assigned_client_identifier: Str [utf8] = AssignedClientIdentifier(0x12),
        /// Topic Alias Maximum (0x22).
        topic_alias_maximum: u16 [two] = TopicAliasMaximum(0x22),
        /// Reason String (0x1F).
        reason_string: Str [utf8] = ReasonString(0x1F),
        /// Wildcard Subscription Available (0x28).
        wildcard_subscription_available: bool [flag] = WildcardSubscriptionAvailable(0x28),
        /// Subscription Identifiers Available (0x29).
        subscription_identifiers_available: bool [flag] = SubscriptionIdentifierAvailable(0x29),
        /// Shared Subscription Available (0x2A).
        shared_subscription_available: bool [flag] = SharedSubscriptionAvailable(0x2A),
        /// Server Keep Alive (0x13), seconds.
        server_keep_alive: u16 [two] = ServerKeepAlive(0x13),
        /// Response Information (0x1A).
        response_information: Str [utf8] = ResponseInformation(0x1A),
        /// Server Reference (0x1C).
        server_reference: Str [utf8] = ServerReference(0x1C),
        /// Authentication Method (0x15).
        authentication_method: Str [utf8] = AuthenticationMethod(0x15),
        /// Authentication Data (0x16).
        #[cfg_attr(feature = "serde", serde(with = "crate::hex::serde_bytes::opt"))]
        authentication_data: Bytes [bin] = AuthenticationData(0x16),
    }
}

property_set! {
    /// Properties of PUBLISH (5.0 section 3.3.2.3).
    PublishProperties {
        /// Payload Format Indicator (0x01).
        payload_format_indicator: PayloadFormat [format] = PayloadFormatIndicator(0x01),
        /// Message Expiry Interval (0x02), seconds.
        message_expiry_interval: u32 [four] = MessageExpiryInterval(0x02),
        /// Topic Alias (0x23), not 0 (5.0 [MQTT-3.3.2-8]).
        topic_alias: u16 [two] = TopicAlias(0x23),
        /// Response Topic (0x08).
        response_topic: Str [utf8] = ResponseTopic(0x08),
        /// Correlation Data (0x09).
        #[cfg_attr(feature = "serde", serde(with = "crate::hex::serde_bytes::opt"))]
        correlation_data: Bytes [bin] = CorrelationData(0x09),
        /// Content Type (0x03).
        content_type: Str [utf8] = ContentType(0x03),
    }
    many {
        /// Subscription Identifiers (0x0B), one per matching subscription (server to client).
        subscription_identifiers: u32 [var] = SubscriptionIdentifier(0x0B),
    }
}

property_set! {
    /// Properties of PUBACK, PUBREC, PUBREL, PUBCOMP, SUBACK and UNSUBACK.
    AckProperties {
        /// Reason String (0x1F).
        reason_string: Str [utf8] = ReasonString(0x1F),
    }
}

property_set! {
    /// Properties of SUBSCRIBE (5.0 section 3.8.2.1).
    SubscribeProperties {
        /// Subscription Identifier (0x0B): 1 to 268,435,455.
        subscription_identifier: u32 [var] = SubscriptionIdentifier(0x0B),
    }
}

property_set! {
    /// Properties of UNSUBSCRIBE (5.0 section 3.10.2.1): User Properties only.
    UnsubscribeProperties {}
}

property_set! {
    /// Properties of DISCONNECT (5.0 section 3.14.2.2).
    DisconnectProperties {
        /// Session Expiry Interval (0x11), seconds.
        session_expiry_interval: u32 [four] = SessionExpiryInterval(0x11),
        /// Reason String (0x1F).
        reason_string: Str [utf8] = ReasonString(0x1F),
        /// Server Reference (0x1C).
        server_reference: Str [utf8] = ServerReference(0x1C),
    }
}

property_set! {
    /// Properties of AUTH (5.0 section 3.15.2.2).
    AuthProperties {
        /// Authentication Method (0x15).
        authentication_method: Str [utf8] = AuthenticationMethod(0x15),
        /// Authentication Data (0x16).
        #[cfg_attr(feature = "serde", serde(with = "crate::hex::serde_bytes::opt"))]
        authentication_data: Bytes [bin] = AuthenticationData(0x16),
        /// Reason String (0x1F).
        reason_string: Str [utf8] = ReasonString(0x1F),
    }
}
