//! CONNECT (3.1.1 section 3.1, 5.0 section 3.1; the 3.1 form with protocol name `MQIsdp`).

use bytes::{BufMut, Bytes, BytesMut};

use super::{check_bin, check_str, no_v3_properties, topic_encode_error, topic_error, Codec};
use crate::error::{DecodeError, EncodeError, ErrorKind};
use crate::properties::{ConnectProperties, Props, WillProperties};
use crate::protocol::Protocol;
use crate::qos::QoS;
use crate::reader::{Reader, Source, Span};
use crate::reason::ReasonCode;
use crate::stmts;
use crate::str::Str;
use crate::topic::validate_topic_name;
use crate::writer::{bin_len, put_bin};

/// CONNECT: the first packet a client sends.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub struct Connect {
    /// Clean Start (5.0), Clean Session (3.1, 3.1.1).
    #[cfg_attr(feature = "serde", serde(default))]
    pub clean_start: bool,
    /// Keep Alive, seconds.
    #[cfg_attr(feature = "serde", serde(default))]
    pub keep_alive: u16,
    /// Client Identifier (may be empty).
    #[cfg_attr(feature = "serde", serde(default))]
    pub client_id: Str,
    /// The Will, if the Will Flag is set.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub will: Option<Will>,
    /// User Name.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub username: Option<Str>,
    /// Password.
    #[cfg_attr(
        feature = "serde",
        serde(
            default,
            skip_serializing_if = "Option::is_none",
            with = "crate::hex::serde_bytes::opt"
        )
    )]
    pub password: Option<Bytes>,
    /// 5.0 properties.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "crate::properties::Props::is_empty")
    )]
    pub properties: crate::properties::Props<crate::properties::ConnectProperties>,
}

/// The Will Message of a CONNECT.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub struct Will {
    /// Will Topic.
    pub topic: Str,
    /// Will Message (3.1.1), Will Payload (5.0).
    #[cfg_attr(feature = "serde", serde(with = "crate::hex::serde_bytes"))]
    pub payload: Bytes,
    /// Will QoS.
    #[cfg_attr(feature = "serde", serde(default))]
    pub qos: QoS,
    /// Will Retain.
    #[cfg_attr(feature = "serde", serde(default))]
    pub retain: bool,
    /// 5.0 Will Properties.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "crate::properties::Props::is_empty")
    )]
    pub properties: crate::properties::Props<crate::properties::WillProperties>,
}

/// Adds `statements` to errors that do not cite anything yet (a field cut short).
fn or_cite(statements: &'static [crate::Statement]) -> impl FnOnce(DecodeError) -> DecodeError {
    move |e| {
        if e.statements.is_empty() {
            e.cite(statements)
        } else {
            e
        }
    }
}

/// The checked fields of a CONNECT, from which both its owned and borrowed forms are built.
pub(crate) struct ConnectFields {
    clean_start: bool,
    keep_alive: u16,
    client_id: Span,
    will: Option<WillFields>,
    username: Option<Span>,
    password: Option<Span>,
    properties: Props<ConnectProperties>,
}

/// The checked fields of a Will.
struct WillFields {
    topic: Span,
    payload: Span,
    qos: QoS,
    retain: bool,
    properties: Props<WillProperties>,
}

/// Reads and checks a CONNECT.
pub(crate) fn parse<S: Source>(r: &mut Reader<'_, S>) -> Result<ConnectFields, DecodeError> {
    {
        let p = r.protocol;
        let name_at = r.pos();
        let (start, end) = r.field("Protocol Name")?;
        let name_ok = r.bytes(start, end) == p.name().as_bytes();
        let level_at = r.pos();
        let level = r.u8("Protocol Level")?;
        if !name_ok {
            return Err(DecodeError::new(
                ErrorKind::UnsupportedProtocol,
                name_at,
                format!(
                    "protocol name {:?} is not {:?} (MQTT {p})",
                    String::from_utf8_lossy(r.bytes(start, end)),
                    p.name()
                ),
            )
            .cite(stmts!(p, v311: ["MQTT-3.1.2-1"], v5: ["MQTT-3.1.2-1"])));
        }
        if level != p.level() {
            return Err(DecodeError::new(
                ErrorKind::UnsupportedProtocol,
                level_at,
                format!("protocol level {level} is not {} (MQTT {p})", p.level()),
            )
            .cite(stmts!(p, v311: ["MQTT-3.1.2-2"], v5: ["MQTT-3.1.2-2"])));
        }

        let flags_at = r.pos();
        let flags = r.u8("Connect Flags")?;
        if flags & 0x01 != 0 {
            return Err(
                DecodeError::malformed(flags_at, "reserved Connect Flags bit 0 is set")
                    .cite(stmts!(p, v311: ["MQTT-3.1.2-3"], v5: ["MQTT-3.1.2-3"])),
            );
        }
        let clean_start = flags & 0x02 != 0;
        let will_flag = flags & 0x04 != 0;
        let will_qos = (flags >> 3) & 0x03;
        let will_retain = flags & 0x20 != 0;
        let password_flag = flags & 0x40 != 0;
        let username_flag = flags & 0x80 != 0;
        if !will_flag && will_qos != 0 {
            return Err(DecodeError::malformed(
                flags_at,
                format!("Will QoS is {will_qos} but the Will Flag is 0"),
            )
            .cite(stmts!(p, v311: ["MQTT-3.1.2-11", "MQTT-3.1.2-13"], v5: ["MQTT-3.1.2-11"])));
        }
        if !will_flag && will_retain {
            return Err(DecodeError::malformed(
                flags_at,
                "Will Retain is 1 but the Will Flag is 0",
            )
            .cite(stmts!(p, v311: ["MQTT-3.1.2-11", "MQTT-3.1.2-15"], v5: ["MQTT-3.1.2-13"])));
        }
        let Some(will_qos) = QoS::from_u8(will_qos) else {
            return Err(DecodeError::malformed(flags_at, "Will QoS is 3")
                .cite(stmts!(p, v311: ["MQTT-3.1.2-14"], v5: ["MQTT-3.1.2-12"])));
        };
        if !p.is_v5() && password_flag && !username_flag {
            return Err(DecodeError::malformed(
                flags_at,
                "Password Flag is 1 but the User Name Flag is 0",
            )
            .cite(stmts!(p, v311: ["MQTT-3.1.2-22"], v5: [])));
        }
        let keep_alive = r.u16("Keep Alive")?;
        let properties = if p.is_v5() {
            ConnectProperties::decode_props(r, "CONNECT")?
        } else {
            Props::none()
        };

        let id_at = r.pos();
        let client_id = r
            .string_span(
                "Client Identifier",
                stmts!(p, v311: ["MQTT-3.1.3-4"], v5: ["MQTT-3.1.3-4"]),
            )
            .map_err(or_cite(
                stmts!(p, v311: ["MQTT-3.1.3-3"], v5: ["MQTT-3.1.3-3"]),
            ))?;
        if !p.is_v5() && client_id.0 == client_id.1 && !clean_start {
            // 3.1.1: the server answers CONNACK 0x02 (Identifier rejected), which 0x85 maps to.
            return Err(DecodeError::protocol(
                id_at,
                "empty Client Identifier requires Clean Session 1",
            )
            .reason(ReasonCode::CLIENT_IDENTIFIER_NOT_VALID)
            .cite(stmts!(p, v311: ["MQTT-3.1.3-7", "MQTT-3.1.3-8"], v5: [])));
        }

        let will = if will_flag {
            let missing = stmts!(p, v311: ["MQTT-3.1.2-9"], v5: ["MQTT-3.1.2-9"]);
            let properties = if p.is_v5() {
                if r.is_empty() {
                    return Err(DecodeError::malformed(
                        r.pos(),
                        "Will Flag is 1 but the payload ends before the Will Properties",
                    )
                    .cite(missing));
                }
                WillProperties::decode_props(r, "Will Properties")?
            } else {
                Props::none()
            };
            let topic_at = r.pos();
            let topic = r
                .topic_span(
                    "Will Topic",
                    stmts!(p, v311: ["MQTT-3.1.3-10"], v5: ["MQTT-3.1.3-11"]),
                )
                .map_err(or_cite(missing))?;
            validate_topic_name(r.str(topic))
                .map_err(|e| topic_error(e, topic_at + 2, p, "Will Topic"))?;
            let payload = r.field("Will Message").map_err(or_cite(missing))?;
            Some(WillFields {
                topic,
                payload,
                qos: will_qos,
                retain: will_retain,
                properties,
            })
        } else {
            None
        };

        let username = if username_flag {
            Some(
                r.string_span(
                    "User Name",
                    stmts!(p, v311: ["MQTT-3.1.3-11"], v5: ["MQTT-3.1.3-12"]),
                )
                .map_err(or_cite(
                    stmts!(p, v311: ["MQTT-3.1.2-19"], v5: ["MQTT-3.1.2-17"]),
                ))?,
            )
        } else {
            None
        };
        let password = if password_flag {
            Some(r.field("Password").map_err(or_cite(
                stmts!(p, v311: ["MQTT-3.1.2-21"], v5: ["MQTT-3.1.2-19"]),
            ))?)
        } else {
            None
        };
        if !r.is_empty() {
            let statements = if !username_flag {
                stmts!(p, v311: ["MQTT-3.1.2-18", "MQTT-3.1.3-1"], v5: ["MQTT-3.1.2-16", "MQTT-3.1.3-1"])
            } else if !password_flag {
                stmts!(p, v311: ["MQTT-3.1.2-20", "MQTT-3.1.3-1"], v5: ["MQTT-3.1.2-18", "MQTT-3.1.3-1"])
            } else {
                stmts!(p, v311: ["MQTT-3.1.3-1"], v5: ["MQTT-3.1.3-1"])
            };
            return Err(r.finish("CONNECT").unwrap_err().cite(statements));
        }
        Ok(ConnectFields {
            clean_start,
            keep_alive,
            client_id,
            will,
            username,
            password,
            properties,
        })
    }
}

/// A CONNECT borrowed from the bytes it was decoded from (see [`crate::Decoder::decode_ref`]).
///
/// Kept small (the size of a [`crate::PacketRef`] is that of its largest variant): it holds the
/// checked packet and where its payload starts, and reads its string and binary fields on
/// access.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectRef<'a> {
    packet: &'a [u8],
    /// Offset of the Client Identifier's length.
    payload: u32,
    /// Offset of the Will Topic's length (after the Will Properties); 0 without a Will.
    will: u32,
    keep_alive: u16,
    /// The Connect Flags (checked).
    flags: u8,
    properties: Props<ConnectProperties>,
    will_properties: Props<WillProperties>,
}

/// The Will of a [`ConnectRef`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WillRef<'a> {
    /// Will Topic.
    pub topic: &'a str,
    /// Will Message (3.1.1), Will Payload (5.0).
    pub payload: &'a [u8],
    /// Will QoS.
    pub qos: QoS,
    /// Will Retain.
    pub retain: bool,
    /// 5.0 Will Properties (decoded into their owned form: they allocate when present).
    pub properties: &'a Props<WillProperties>,
}

impl<'a> ConnectRef<'a> {
    /// The view of the checked fields `f` of the CONNECT in `packet`.
    #[inline]
    pub(crate) fn new(packet: &'a [u8], f: ConnectFields) -> Self {
        let flags = u8::from(f.clean_start) << 1
            | f.will
                .as_ref()
                .map_or(0, |w| 0x04 | w.qos.as_u8() << 3 | u8::from(w.retain) << 5)
            | u8::from(f.password.is_some()) << 6
            | u8::from(f.username.is_some()) << 7;
        let (will, will_properties) = match f.will {
            Some(w) => (w.topic.0 - 2, w.properties),
            None => (0, Props::none()),
        };
        ConnectRef {
            packet,
            payload: (f.client_id.0 - 2) as u32,
            will: will as u32,
            keep_alive: f.keep_alive,
            flags,
            properties: f.properties,
            will_properties,
        }
    }

    /// The string or binary field whose length is at `at`, and the offset after it.
    #[inline]
    fn field(&self, at: usize) -> (&'a [u8], usize) {
        match crate::reader::next_field(self.packet, at, 0) {
            Some(((start, end), _, next)) => {
                (self.packet.get(start..end).unwrap_or_default(), next)
            }
            None => (&[], at),
        }
    }

    /// Clean Start (5.0), Clean Session (3.1, 3.1.1).
    pub fn clean_start(&self) -> bool {
        self.flags & 0x02 != 0
    }

    /// Keep Alive, seconds.
    pub fn keep_alive(&self) -> u16 {
        self.keep_alive
    }

    /// Client Identifier (may be empty).
    pub fn client_id(&self) -> &'a str {
        crate::str::checked(self.field(self.payload as usize).0)
    }

    /// The Will, if the Will Flag is set.
    pub fn will(&self) -> Option<WillRef<'_>> {
        if self.flags & 0x04 == 0 {
            return None;
        }
        let (topic, next) = self.field(self.will as usize);
        Some(WillRef {
            topic: crate::str::checked(topic),
            payload: self.field(next).0,
            qos: QoS::from_u8((self.flags >> 3) & 0x03).unwrap_or_default(),
            retain: self.flags & 0x20 != 0,
            properties: &self.will_properties,
        })
    }

    /// The offset after the Will, or after the Client Identifier without one.
    fn after_will(&self) -> usize {
        if self.flags & 0x04 == 0 {
            self.field(self.payload as usize).1
        } else {
            let (_, payload) = self.field(self.will as usize);
            self.field(payload).1
        }
    }

    /// User Name.
    pub fn username(&self) -> Option<&'a str> {
        (self.flags & 0x80 != 0).then(|| crate::str::checked(self.field(self.after_will()).0))
    }

    /// Password.
    pub fn password(&self) -> Option<&'a [u8]> {
        if self.flags & 0x40 == 0 {
            return None;
        }
        let mut at = self.after_will();
        if self.flags & 0x80 != 0 {
            at = self.field(at).1;
        }
        Some(self.field(at).0)
    }

    /// 5.0 properties (decoded into their owned form: they allocate when present).
    pub fn properties(&self) -> &Props<ConnectProperties> {
        &self.properties
    }

    /// An owned copy.
    pub fn to_owned(&self) -> Connect {
        Connect {
            clean_start: self.clean_start(),
            keep_alive: self.keep_alive,
            client_id: Str::from(self.client_id()),
            will: self.will().map(|w| Will {
                topic: Str::from(w.topic),
                payload: Bytes::copy_from_slice(w.payload),
                qos: w.qos,
                retain: w.retain,
                properties: w.properties.clone(),
            }),
            username: self.username().map(Str::from),
            password: self.password().map(Bytes::copy_from_slice),
            properties: self.properties.clone(),
        }
    }
}

impl Codec for Connect {
    fn decode<S: Source>(_first: u8, mut r: Reader<'_, S>) -> Result<Self, DecodeError> {
        let f = parse(&mut r)?;
        let client_id = Str::from_checked(r.small(f.client_id.0, f.client_id.1));
        let will = f.will.map(|w| Will {
            topic: Str::from_checked(r.small(w.topic.0, w.topic.1)),
            payload: r.share(w.payload.0, w.payload.1),
            qos: w.qos,
            retain: w.retain,
            properties: w.properties,
        });
        let username = f
            .username
            .map(|(start, end)| Str::from_checked(r.small(start, end)));
        Ok(Connect {
            clean_start: f.clean_start,
            keep_alive: f.keep_alive,
            client_id,
            will,
            username,
            // The Password ends the packet: it takes the packet's bytes rather than a new share.
            password: f.password.map(|(start, _)| r.rest_from(start)),
            properties: f.properties,
        })
    }

    fn body_len(&self, p: Protocol) -> usize {
        let mut n = bin_len(p.name().as_bytes()) + 1 + 1 + 2 + bin_len(self.client_id.as_bytes());
        if p.is_v5() {
            n += self.properties.encoded_len();
        }
        if let Some(w) = &self.will {
            n += bin_len(w.topic.as_bytes()) + bin_len(&w.payload);
            if p.is_v5() {
                n += w.properties.encoded_len();
            }
        }
        if let Some(u) = &self.username {
            n += bin_len(u.as_bytes());
        }
        if let Some(pw) = &self.password {
            n += bin_len(pw);
        }
        n
    }

    fn write_body(&self, p: Protocol, buf: &mut BytesMut) {
        put_bin(buf, p.name().as_bytes());
        buf.put_u8(p.level());
        let mut flags = 0u8;
        if self.clean_start {
            flags |= 0x02;
        }
        if let Some(w) = &self.will {
            flags |= 0x04 | w.qos.as_u8() << 3;
            if w.retain {
                flags |= 0x20;
            }
        }
        if self.password.is_some() {
            flags |= 0x40;
        }
        if self.username.is_some() {
            flags |= 0x80;
        }
        buf.put_u8(flags);
        buf.put_u16(self.keep_alive);
        if p.is_v5() {
            self.properties.write(buf);
        }
        put_bin(buf, self.client_id.as_bytes());
        if let Some(w) = &self.will {
            if p.is_v5() {
                w.properties.write(buf);
            }
            put_bin(buf, w.topic.as_bytes());
            put_bin(buf, &w.payload);
        }
        if let Some(u) = &self.username {
            put_bin(buf, u.as_bytes());
        }
        if let Some(pw) = &self.password {
            put_bin(buf, pw);
        }
    }

    fn check(&self, p: Protocol) -> Result<(), EncodeError> {
        check_str(&self.client_id, p, "Client Identifier")?;
        if !p.is_v5() && self.client_id.is_empty() && !self.clean_start {
            return Err(
                EncodeError::new("empty Client Identifier requires Clean Session 1")
                    .cite(stmts!(p, v311: ["MQTT-3.1.3-7"], v5: [])),
            );
        }
        no_v3_properties(self.properties.is_empty(), p, "CONNECT")?;
        self.properties.check()?;
        if let Some(w) = &self.will {
            check_str(&w.topic, p, "Will Topic")?;
            validate_topic_name(&w.topic).map_err(|e| topic_encode_error(e, p, "Will Topic"))?;
            check_bin(&w.payload, "Will Message")?;
            no_v3_properties(w.properties.is_empty(), p, "the Will")?;
            w.properties.check()?;
        }
        if let Some(u) = &self.username {
            check_str(u, p, "User Name")?;
        }
        if let Some(pw) = &self.password {
            check_bin(pw, "Password")?;
            if !p.is_v5() && self.username.is_none() {
                return Err(
                    EncodeError::new("a Password requires a User Name in MQTT 3.1.1")
                        .cite(stmts!(p, v311: ["MQTT-3.1.2-22"], v5: [])),
                );
            }
        }
        Ok(())
    }
}
