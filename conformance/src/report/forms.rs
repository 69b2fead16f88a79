//! JSON forms printed and read by the tools, besides packets (which serialize with their own
//! serde derive: an object with a `"type"` field and every field of the packet).

use serde::{Deserialize, Serialize};
use touchstone_codec::{SpecVersion, Statement};

use crate::net::stream::StreamError;

/// The last line `touchstone decode` prints when the input does not end with a valid packet:
/// `{"error": {...}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorLine {
    /// What went wrong.
    pub error: ErrorJson,
}

/// A decode error as JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorJson {
    /// `malformed`, `protocol_error`, `packet_too_large`, `unsupported_protocol` or
    /// `incomplete` (see [`touchstone_codec::ErrorKind::as_str`]).
    pub kind: String,
    /// The 5.0 reason code a receiver answers with (129 Malformed Packet, 130 Protocol Error,
    /// ...); `null` for `incomplete`.
    pub reason_code: Option<u8>,
    /// The normative statements broken, each with its specification version.
    pub statements: Vec<StatementJson>,
    /// Offset of the offending byte from the start of the whole input. For `incomplete`, the
    /// length of the input: where more bytes were expected.
    pub offset: usize,
    /// Offset of the first byte of the failing packet from the start of the whole input.
    pub packet_offset: usize,
    /// What was wrong, for people.
    pub message: String,
}

/// A normative statement as JSON: `{"version": "5.0", "id": "MQTT-2.1.3-1"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct StatementJson {
    /// `3.1.1` or `5.0`.
    #[schemars(with = "SpecVersionSchema")]
    pub version: SpecVersion,
    /// The statement id, e.g. `MQTT-2.1.3-1`.
    pub id: String,
}

/// The schema of a [`SpecVersion`]: the version of the specification a statement id belongs to.
#[derive(schemars::JsonSchema)]
#[allow(dead_code)]
enum SpecVersionSchema {
    /// MQTT 3.1.1.
    #[serde(rename = "3.1.1")]
    V3_1_1,
    /// MQTT 5.0.
    #[serde(rename = "5.0")]
    V5,
}

impl From<&Statement> for StatementJson {
    fn from(s: &Statement) -> Self {
        StatementJson {
            version: s.version,
            id: s.id.to_string(),
        }
    }
}

impl From<&StreamError> for ErrorLine {
    fn from(e: &StreamError) -> Self {
        let d = &e.error;
        ErrorLine {
            error: ErrorJson {
                kind: d.kind.as_str().to_string(),
                reason_code: d.reason_code.map(|r| r.0),
                statements: d.statements.iter().map(StatementJson::from).collect(),
                offset: d.offset,
                packet_offset: e.packet_offset,
                message: d.message.to_string(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use touchstone_codec::{DecodeError, Statement};

    #[test]
    fn error_line_shape() {
        let e = StreamError {
            packet_offset: 2,
            error: DecodeError::malformed(2, "bad").cite(&[Statement::v5("MQTT-2.1.3-1")]),
        };
        let json = serde_json::to_string(&ErrorLine::from(&e)).unwrap();
        assert_eq!(
            json,
            r#"{"error":{"kind":"malformed","reason_code":129,"statements":[{"version":"5.0","id":"MQTT-2.1.3-1"}],"offset":2,"packet_offset":2,"message":"bad"}}"#
        );
        let back: ErrorLine = serde_json::from_str(&json).unwrap();
        assert_eq!(back, ErrorLine::from(&e));
    }
}
