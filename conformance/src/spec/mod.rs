//! The index of normative statements (`spec/*.tsv`), embedded in the binary.

use std::sync::OnceLock;

use touchstone_codec::{SpecVersion, Statement};

const V311_TSV: &str = include_str!("../../../spec/mqtt-3.1.1-statements.tsv");
const V5_TSV: &str = include_str!("../../../spec/mqtt-5.0-statements.tsv");

/// One normative statement of the index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpecStatement {
    /// The specification.
    pub version: SpecVersion,
    /// The id, e.g. `MQTT-3.3.1-10`.
    pub id: &'static str,
    /// The section, e.g. `3.3.1`.
    pub section: &'static str,
    /// The packet or topic it is about.
    pub topic: &'static str,
    /// A paraphrase.
    pub summary: &'static str,
    /// Who must obey it (`server`, `client`, `both`, `codec`).
    pub role: &'static str,
    /// How it can be tested: `codec`, `broker-wire`, `client`, `untestable`.
    pub testable_by: &'static str,
}

impl SpecStatement {
    /// The statement as a [`Statement`].
    pub fn statement(&self) -> Statement {
        Statement {
            version: self.version,
            id: self.id,
        }
    }

    /// True if a conformance case against a broker can check it.
    pub fn is_broker_wire(&self) -> bool {
        self.testable_by == "broker-wire"
    }

    /// The chapter and section, e.g. `3.3` for `3.3.1`.
    pub fn chapter(&self) -> &'static str {
        let mut dots = self.section.match_indices('.');
        match dots.nth(1) {
            Some((i, _)) => &self.section[..i],
            None => self.section,
        }
    }
}

fn parse(version: SpecVersion, tsv: &'static str, out: &mut Vec<SpecStatement>) {
    for line in tsv.lines().skip(1) {
        let mut cols = line.split('\t');
        let (Some(id), Some(section), Some(topic), Some(summary), Some(role), Some(testable_by)) = (
            cols.next(),
            cols.next(),
            cols.next(),
            cols.next(),
            cols.next(),
            cols.next(),
        ) else {
            continue;
        };
        out.push(SpecStatement {
            version,
            id: id.trim(),
            section: section.trim(),
            topic: topic.trim(),
            summary: summary.trim(),
            role: role.trim(),
            testable_by: testable_by.trim(),
        });
    }
}

/// Every statement of both specifications, 3.1.1 first, in index order.
pub fn statements() -> &'static [SpecStatement] {
    static ALL: OnceLock<Vec<SpecStatement>> = OnceLock::new();
    ALL.get_or_init(|| {
        let mut v = Vec::new();
        parse(SpecVersion::V3_1_1, V311_TSV, &mut v);
        parse(SpecVersion::V5_0, V5_TSV, &mut v);
        v
    })
}

/// The statement `id` of `version`, if the index has it.
pub fn find(version: SpecVersion, id: &str) -> Option<&'static SpecStatement> {
    statements()
        .iter()
        .find(|s| s.version == version && s.id == id)
}

/// Text that does not name a statement of the index.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StatementError {
    /// Not a version and an id.
    #[error("statement `{0}` should be a version and an id, e.g. `5.0 MQTT-3.3.1-6` or `3.1.1 MQTT-3.3.1-10`")]
    Form(String),
    /// A version that is not 3.1.1 or 5.0.
    #[error("statement `{text}`: unknown specification version `{version}` (3.1.1 or 5.0)")]
    Version {
        /// The text.
        text: String,
        /// Its version part.
        version: String,
    },
    /// No such statement in that version.
    #[error("statement `{text}`: {version} has no statement {id} in the index (spec/mqtt-{}-statements.tsv)", version.as_str())]
    Unknown {
        /// The text.
        text: String,
        /// The version.
        version: SpecVersion,
        /// The id.
        id: String,
    },
}

/// Parses `5.0 MQTT-3.3.1-6`, `3.1.1 MQTT-3.3.1-10` (also `5 ...`, `v5 ...`, `v311 ...`) into
/// a statement of the index.
pub fn parse_statement(text: &str) -> Result<&'static SpecStatement, StatementError> {
    let mut parts = text.split_whitespace();
    let (Some(version), Some(id), None) = (parts.next(), parts.next(), parts.next()) else {
        return Err(StatementError::Form(text.to_string()));
    };
    let version = match version.trim_start_matches('v') {
        "3.1.1" | "311" => SpecVersion::V3_1_1,
        "5" | "5.0" | "50" => SpecVersion::V5_0,
        other => {
            return Err(StatementError::Version {
                text: text.to_string(),
                version: other.to_string(),
            })
        }
    };
    find(version, id).ok_or_else(|| StatementError::Unknown {
        text: text.to_string(),
        version,
        id: id.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_is_embedded() {
        let broker_wire = |v| {
            statements()
                .iter()
                .filter(|s| s.version == v && s.is_broker_wire())
                .count()
        };
        assert_eq!(broker_wire(SpecVersion::V3_1_1), 92);
        assert_eq!(broker_wire(SpecVersion::V5_0), 193);
        let s = find(SpecVersion::V5_0, "MQTT-3.3.1-6").unwrap();
        assert_eq!(s.chapter(), "3.3");
    }

    #[test]
    fn statement_text() {
        assert_eq!(
            parse_statement("5.0 MQTT-3.3.1-6").unwrap().id,
            "MQTT-3.3.1-6"
        );
        assert_eq!(
            parse_statement("3.1.1 MQTT-3.3.1-10").unwrap().version,
            SpecVersion::V3_1_1
        );
        assert!(parse_statement("MQTT-3.3.1-6").is_err());
        assert!(parse_statement("6 MQTT-3.3.1-6").is_err());
        assert!(parse_statement("5.0 MQTT-9.9.9-9").is_err());
    }
}
