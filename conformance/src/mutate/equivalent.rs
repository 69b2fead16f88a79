//! The equivalent mutants: those argued to change nothing the specification fixes, read from
//! `mutation/equivalent.toml`, each with its argument.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use touchstone_codec::Protocol;

use super::mutant::id_matches;

/// One argued entry.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Equivalent {
    /// The mutants it covers: an id or a pattern (`delay:*:to-client`).
    pub mutant: String,
    /// The version it holds for (`3.1.1` or `5.0`); none: both.
    #[serde(default)]
    pub protocol: Option<String>,
    /// Why no conforming broker can be told apart from this mutant by what the
    /// specification fixes.
    pub argument: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    equivalent: Vec<Equivalent>,
}

/// The argued equivalents.
#[derive(Debug, Clone, Default)]
pub struct Equivalents {
    /// Where they were read from.
    pub path: Option<PathBuf>,
    /// The entries, in file order.
    pub entries: Vec<Equivalent>,
}

/// A file of equivalents that cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {message}")]
pub struct EquivalentsError {
    /// The file.
    pub path: String,
    /// What is wrong.
    pub message: String,
}

impl Equivalents {
    /// Reads `path`.
    pub fn load(path: &Path) -> Result<Equivalents, EquivalentsError> {
        let err = |message: String| EquivalentsError {
            path: path.display().to_string(),
            message,
        };
        let text = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
        let mut e = Equivalents::parse(&text).map_err(err)?;
        e.path = Some(path.to_path_buf());
        Ok(e)
    }

    /// Parses the text of a file.
    pub fn parse(text: &str) -> Result<Equivalents, String> {
        let file: File = toml::from_str(text).map_err(|e| e.to_string())?;
        for (i, e) in file.equivalent.iter().enumerate() {
            let n = i + 1;
            if e.mutant.split(':').count() > 3 || e.mutant.is_empty() {
                return Err(format!(
                    "entry {n}: mutant {:?} is not `operator:PACKET:way` (parts may be `*`)",
                    e.mutant
                ));
            }
            if let Some(p) = &e.protocol {
                if p.parse::<Protocol>().is_err() {
                    return Err(format!("entry {n}: protocol {p:?} is not 3.1.1 or 5.0"));
                }
            }
            if e.argument.trim().len() < 20 {
                return Err(format!(
                    "entry {n} ({}): give the argument: why no conforming broker can be told apart from it",
                    e.mutant
                ));
            }
        }
        Ok(Equivalents {
            path: None,
            entries: file.equivalent,
        })
    }

    /// The entry that argues mutant `id` equivalent in `protocol`, if any.
    pub fn find(&self, id: &str, protocol: Protocol) -> Option<&Equivalent> {
        self.entries.iter().find(|e| {
            id_matches(&e.mutant, id)
                && e.protocol
                    .as_deref()
                    .is_none_or(|p| p.parse::<Protocol>().ok() == Some(protocol))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_need_an_argument_and_a_known_version() {
        let ok = Equivalents::parse(
            "[[equivalent]]\nmutant = \"delay:*:to-client\"\nprotocol = \"5.0\"\nargument = \"no latency is fixed by the text\"\n",
        )
        .unwrap();
        assert!(ok.find("delay:PUBACK:to-client", Protocol::V5).is_some());
        assert!(ok
            .find("delay:PUBACK:to-client", Protocol::V3_1_1)
            .is_none());
        assert!(ok.find("drop:PUBACK:to-client", Protocol::V5).is_none());
        let short = Equivalents::parse("[[equivalent]]\nmutant = \"drop\"\nargument = \"x\"\n");
        assert!(short.unwrap_err().contains("give the argument"));
        let bad = Equivalents::parse(
            "[[equivalent]]\nmutant = \"drop\"\nprotocol = \"4.0\"\nargument = \"long enough argument here\"\n",
        );
        assert!(bad.unwrap_err().contains("not 3.1.1 or 5.0"));
        assert!(Equivalents::parse("[[equivalent]]\nmutant = \"drop\"\nwhy = 1\n").is_err());
    }
}
