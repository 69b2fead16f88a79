//! The case model: a case's metadata and body.

use touchstone_codec::{Protocol, Statement};

use crate::harness::capability::Capability;
use crate::harness::test::Test;
use crate::harness::verdict::{BoxFuture, Verdict};

/// A case body: `|t| Box::pin(my_case(t))` for `async fn my_case(t: &mut Test) -> Verdict`.
pub type Body = for<'a> fn(&'a mut Test) -> BoxFuture<'a, Verdict>;

/// A conformance case: metadata and an async body that scripts the exchange.
///
/// ```ignore
/// pub(crate) const CLEAR: Case = Case {
///     id: "retain.clear-with-empty-payload",
///     title: "An empty retained PUBLISH clears the topic's retained message",
///     protocols: BOTH,
///     statements: &[v311("MQTT-3.3.1-10"), v5("MQTT-3.3.1-6")],
///     requires: &[Capability::Retain],
///     body: |t| Box::pin(clear(t)),
/// };
/// ```
#[derive(Clone, Copy)]
pub struct Case {
    /// Stable id, `area.what-is-checked` (lower case, dashes).
    pub id: &'static str,
    /// One line saying what is checked.
    pub title: &'static str,
    /// The protocol versions the case runs for.
    pub protocols: &'static [Protocol],
    /// The normative statements checked, each with its version; a case run for one version
    /// checks the statements of that version.
    pub statements: &'static [Statement],
    /// What the target must support for the case to be meaningful (otherwise: skip).
    pub requires: &'static [Capability],
    /// The script.
    pub body: Body,
}

impl std::fmt::Debug for Case {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Case")
            .field("id", &self.id)
            .field("protocols", &self.protocols)
            .field("statements", &self.statements)
            .field("requires", &self.requires)
            .finish()
    }
}

impl Case {
    /// The area: the id up to the first dot.
    pub fn area(&self) -> &'static str {
        self.id.split('.').next().unwrap_or(self.id)
    }

    /// The statements this case checks for `protocol`.
    pub fn statements_for(&self, protocol: Protocol) -> Vec<Statement> {
        self.statements
            .iter()
            .filter(|s| s.version == protocol.spec())
            .copied()
            .collect()
    }

    /// True if the case runs for `protocol`.
    pub fn runs_for(&self, protocol: Protocol) -> bool {
        self.protocols.contains(&protocol)
    }
}
