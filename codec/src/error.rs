//! Decode and encode errors: values that say which rule was broken, where, and how to answer.

use std::borrow::Cow;
use std::fmt;

use crate::protocol::Statement;
use crate::reason::ReasonCode;

/// What kind of rule a packet broke.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum ErrorKind {
    /// The bytes do not form a packet of the specification (5.0: Malformed Packet, 0x81).
    Malformed,
    /// The packet is well-formed but breaks a protocol rule (5.0: Protocol Error, 0x82).
    ProtocolError,
    /// The packet is larger than the configured maximum (5.0: Packet Too Large, 0x95).
    PacketTooLarge,
    /// A CONNECT for a protocol name or level other than the one decoded (5.0: 0x84; 3.1.1:
    /// CONNACK return code 0x01).
    UnsupportedProtocol,
    /// The input ended inside a packet. Streaming decode returns `Ok(None)` instead.
    Incomplete,
}

impl ErrorKind {
    /// Snake-case name, as in JSON output.
    pub const fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Malformed => "malformed",
            ErrorKind::ProtocolError => "protocol_error",
            ErrorKind::PacketTooLarge => "packet_too_large",
            ErrorKind::UnsupportedProtocol => "unsupported_protocol",
            ErrorKind::Incomplete => "incomplete",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ErrorKind::Malformed => "malformed packet",
            ErrorKind::ProtocolError => "protocol error",
            ErrorKind::PacketTooLarge => "packet too large",
            ErrorKind::UnsupportedProtocol => "unsupported protocol",
            ErrorKind::Incomplete => "incomplete packet",
        })
    }
}

/// A packet that could not be decoded, and why. The details ([`DecodeErrorInfo`]) are boxed so
/// that results stay small on the decoder's hot path; read them through `Deref`
/// (`error.kind`, `error.statements`, ...).
#[derive(Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct DecodeError(Box<DecodeErrorInfo>);

/// The details of a [`DecodeError`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind} at byte {offset}: {message}{}", cite(.statements))]
pub struct DecodeErrorInfo {
    /// The kind of rule broken.
    pub kind: ErrorKind,
    /// The 5.0 reason code a receiver should answer with (in CONNACK or DISCONNECT); `None` for
    /// [`ErrorKind::Incomplete`]. A 3.1.1 server maps it to a CONNACK return code or a close.
    pub reason_code: Option<ReasonCode>,
    /// The normative statements the packet violates, each with its specification version.
    pub statements: Vec<Statement>,
    /// Offset of the offending byte, counted from the first byte of the packet.
    pub offset: usize,
    /// What was wrong, for people.
    pub message: Cow<'static, str>,
}

impl std::ops::Deref for DecodeError {
    type Target = DecodeErrorInfo;
    fn deref(&self) -> &DecodeErrorInfo {
        &self.0
    }
}

impl std::ops::DerefMut for DecodeError {
    fn deref_mut(&mut self) -> &mut DecodeErrorInfo {
        &mut self.0
    }
}

impl fmt::Debug for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl From<DecodeErrorInfo> for DecodeError {
    fn from(info: DecodeErrorInfo) -> Self {
        DecodeError(Box::new(info))
    }
}

fn cite(statements: &[Statement]) -> String {
    if statements.is_empty() {
        return String::new();
    }
    let ids: Vec<String> = statements.iter().map(|s| format!("{s}")).collect();
    format!(" [{}]", ids.join(", "))
}

impl DecodeError {
    /// A new error of `kind` at `offset`, answered with the kind's usual reason code.
    #[cold]
    pub fn new(kind: ErrorKind, offset: usize, message: impl Into<Cow<'static, str>>) -> Self {
        let reason_code = match kind {
            ErrorKind::Malformed => Some(ReasonCode::MALFORMED_PACKET),
            ErrorKind::ProtocolError => Some(ReasonCode::PROTOCOL_ERROR),
            ErrorKind::PacketTooLarge => Some(ReasonCode::PACKET_TOO_LARGE),
            ErrorKind::UnsupportedProtocol => Some(ReasonCode::UNSUPPORTED_PROTOCOL_VERSION),
            ErrorKind::Incomplete => None,
        };
        DecodeError(Box::new(DecodeErrorInfo {
            kind,
            reason_code,
            statements: Vec::new(),
            offset,
            message: message.into(),
        }))
    }

    /// A Malformed Packet error.
    #[cold]
    pub fn malformed(offset: usize, message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorKind::Malformed, offset, message)
    }

    /// A Protocol Error.
    #[cold]
    pub fn protocol(offset: usize, message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorKind::ProtocolError, offset, message)
    }

    /// The same error also citing `statements`.
    #[must_use]
    pub fn cite(mut self, statements: &[Statement]) -> Self {
        self.statements.extend_from_slice(statements);
        self
    }

    /// The same error answered with `reason_code`.
    #[must_use]
    pub fn reason(mut self, reason_code: ReasonCode) -> Self {
        self.reason_code = Some(reason_code);
        self
    }

    /// The same error with its offset moved by `base` (to count from the start of a stream).
    #[must_use]
    pub fn shifted(mut self, base: usize) -> Self {
        self.offset += base;
        self
    }

    /// True if the statement `id` of any version is cited.
    pub fn cites(&self, id: &str) -> bool {
        self.statements.iter().any(|s| s.id == id)
    }
}

/// A packet that cannot be encoded for the requested protocol version.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot encode: {message}{}", cite(.statements))]
pub struct EncodeError {
    /// The normative statements the packet would violate.
    pub statements: Vec<Statement>,
    /// What was wrong.
    pub message: Cow<'static, str>,
}

impl EncodeError {
    /// A new encode error.
    #[cold]
    pub fn new(message: impl Into<Cow<'static, str>>) -> Self {
        EncodeError {
            statements: Vec::new(),
            message: message.into(),
        }
    }

    /// The same error also citing `statements`.
    #[must_use]
    pub fn cite(mut self, statements: &[Statement]) -> Self {
        self.statements.extend_from_slice(statements);
        self
    }
}

/// Picks the statements of the version being decoded:
/// `stmts!(p, v311: ["MQTT-2.2.2-1"], v5: ["MQTT-2.1.3-1"])`.
#[macro_export]
#[doc(hidden)]
macro_rules! stmts {
    ($p:expr, v311: [$($a:literal),* $(,)?], v5: [$($b:literal),* $(,)?] $(,)?) => {
        if $p.is_v5() {
            &[$($crate::Statement { version: $crate::SpecVersion::V5_0, id: $b }),*] as &'static [$crate::Statement]
        } else {
            &[$($crate::Statement { version: $crate::SpecVersion::V3_1_1, id: $a }),*] as &'static [$crate::Statement]
        }
    };
}
