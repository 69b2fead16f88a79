//! Protocol versions.

use std::fmt;
use std::str::FromStr;

/// An MQTT protocol version. Every encode and decode takes it as an explicit argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Protocol {
    /// MQTT 3.1 (protocol name `MQIsdp`, level 3). Only CONNECT differs from 3.1.1 on the wire.
    V3_1,
    /// MQTT 3.1.1 (protocol name `MQTT`, level 4).
    V3_1_1,
    /// MQTT 5.0 (protocol name `MQTT`, level 5).
    V5,
}

impl Protocol {
    /// All versions, oldest first.
    pub const ALL: [Protocol; 3] = [Protocol::V3_1, Protocol::V3_1_1, Protocol::V5];

    /// The Protocol Level byte of CONNECT.
    pub const fn level(self) -> u8 {
        match self {
            Protocol::V3_1 => 3,
            Protocol::V3_1_1 => 4,
            Protocol::V5 => 5,
        }
    }

    /// The Protocol Name string of CONNECT.
    pub const fn name(self) -> &'static str {
        match self {
            Protocol::V3_1 => "MQIsdp",
            Protocol::V3_1_1 | Protocol::V5 => "MQTT",
        }
    }

    /// True for MQTT 5.0.
    #[inline]
    pub const fn is_v5(self) -> bool {
        matches!(self, Protocol::V5)
    }

    /// The version as users write it: `3.1`, `3.1.1` or `5`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Protocol::V3_1 => "3.1",
            Protocol::V3_1_1 => "3.1.1",
            Protocol::V5 => "5",
        }
    }

    /// The specification whose normative statements govern this version (3.1 has no statement
    /// ids of its own, so it follows 3.1.1).
    pub const fn spec(self) -> SpecVersion {
        match self {
            Protocol::V3_1 | Protocol::V3_1_1 => SpecVersion::V3_1_1,
            Protocol::V5 => SpecVersion::V5_0,
        }
    }

    /// The version named by a CONNECT's protocol name and level, if any.
    pub fn from_name_and_level(name: &[u8], level: u8) -> Option<Protocol> {
        match (name, level) {
            (b"MQIsdp", 3) => Some(Protocol::V3_1),
            (b"MQTT", 4) => Some(Protocol::V3_1_1),
            (b"MQTT", 5) => Some(Protocol::V5),
            _ => None,
        }
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Error for a protocol version string that names no supported version.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown MQTT protocol version `{0}` (expected 3.1, 3.1.1 or 5)")]
pub struct UnknownProtocol(pub String);

impl FromStr for Protocol {
    type Err = UnknownProtocol;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "3.1" | "31" | "3" => Ok(Protocol::V3_1),
            "3.1.1" | "311" | "4" => Ok(Protocol::V3_1_1),
            "5" | "5.0" | "50" => Ok(Protocol::V5),
            other => Err(UnknownProtocol(other.to_string())),
        }
    }
}

/// The two specifications that number normative statements. The same id (`MQTT-3.1.2-24`) means
/// different things in each, so every citation names its version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum SpecVersion {
    /// MQTT Version 3.1.1, OASIS Standard, 29 October 2014.
    #[cfg_attr(feature = "serde", serde(rename = "3.1.1"))]
    V3_1_1,
    /// MQTT Version 5.0, OASIS Standard, 7 March 2019.
    #[cfg_attr(feature = "serde", serde(rename = "5.0"))]
    V5_0,
}

impl SpecVersion {
    /// `3.1.1` or `5.0`.
    pub const fn as_str(self) -> &'static str {
        match self {
            SpecVersion::V3_1_1 => "3.1.1",
            SpecVersion::V5_0 => "5.0",
        }
    }
}

impl fmt::Display for SpecVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A normative statement of one specification version, such as 5.0 `MQTT-3.3.2-8`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Statement {
    /// The specification the id belongs to.
    pub version: SpecVersion,
    /// The statement id, e.g. `MQTT-3.3.2-8`.
    pub id: &'static str,
}

impl Statement {
    /// A 3.1.1 statement.
    pub const fn v311(id: &'static str) -> Self {
        Statement {
            version: SpecVersion::V3_1_1,
            id,
        }
    }
    /// A 5.0 statement.
    pub const fn v5(id: &'static str) -> Self {
        Statement {
            version: SpecVersion::V5_0,
            id,
        }
    }
}

impl fmt::Display for Statement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.version, self.id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_user_spellings() {
        assert_eq!("3.1".parse::<Protocol>().unwrap(), Protocol::V3_1);
        assert_eq!("3.1.1".parse::<Protocol>().unwrap(), Protocol::V3_1_1);
        assert_eq!("5".parse::<Protocol>().unwrap(), Protocol::V5);
        assert_eq!("5.0".parse::<Protocol>().unwrap(), Protocol::V5);
        assert!("6".parse::<Protocol>().is_err());
    }

    #[test]
    fn name_and_level_identify_versions() {
        for p in Protocol::ALL {
            assert_eq!(
                Protocol::from_name_and_level(p.name().as_bytes(), p.level()),
                Some(p)
            );
        }
        assert_eq!(Protocol::from_name_and_level(b"MQTT", 3), None);
        assert_eq!(Protocol::from_name_and_level(b"MQIsdp", 4), None);
    }
}
