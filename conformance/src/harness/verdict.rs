//! What a case body returns: a pass, a failure citing statements, a skip with its reason or
//! an error, and the helpers cases state them with.

use std::future::Future;
use std::pin::Pin;

use serde::Serialize;
use touchstone_codec::{Protocol, Statement};

use crate::net::transport::TransportError;

/// A boxed, sendable future (what a case body returns).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What a case body returns: `Ok(())` is a pass.
pub type Verdict = Result<(), CaseError>;

/// Both 3.1.1 and 5.0.
pub const BOTH: &[Protocol] = &[Protocol::V3_1_1, Protocol::V5];
/// 3.1.1 only.
pub const V311: &[Protocol] = &[Protocol::V3_1_1];
/// 5.0 only.
pub const V5: &[Protocol] = &[Protocol::V5];

/// A 3.1.1 normative statement.
pub const fn v311(id: &'static str) -> Statement {
    Statement::v311(id)
}

/// A 5.0 normative statement.
pub const fn v5(id: &'static str) -> Statement {
    Statement::v5(id)
}

/// A failed expectation: what the specification requires and what came instead.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Failure {
    /// What was expected, e.g. `PUBLISH "t/x" q1 retain`.
    pub expected: String,
    /// What came, e.g. `PUBLISH "t/x" q1` or `nothing within 5.0 s`.
    pub got: String,
    /// The statements this particular expectation checks (in addition to the case's), such
    /// as those a decode error of the server's bytes cites.
    pub statements: Vec<Statement>,
}

/// A SHOULD the target did not follow: the case's MUSTs held, and this falls short of a
/// recommendation only. It makes the outcome `should_fail`, which fails a run only with
/// `--strict`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Shortfall {
    /// Where the text says it, with the version: `5.0 section 4.13.1`, or a statement whose
    /// text holds the SHOULD.
    pub should: String,
    /// What the SHOULD asks for.
    pub expected: String,
    /// What came instead.
    pub got: String,
}

/// Why a case body stopped before the end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaseError {
    /// The target broke a rule.
    Fail(Box<Failure>),
    /// The case does not apply to this target (the reason says why).
    Skip(String),
    /// The harness or the target had trouble that says nothing about conformance (could not
    /// connect, a bug in the case).
    Error(String),
}

impl CaseError {
    /// A failure.
    pub fn fail(expected: impl Into<String>, got: impl Into<String>) -> CaseError {
        CaseError::Fail(Box::new(Failure {
            expected: expected.into(),
            got: got.into(),
            statements: Vec::new(),
        }))
    }

    /// The same error, a failure citing `statements` too.
    #[must_use]
    pub fn because(mut self, statements: &[Statement]) -> CaseError {
        if let CaseError::Fail(f) = &mut self {
            for s in statements {
                if !f.statements.contains(s) {
                    f.statements.push(*s);
                }
            }
        }
        self
    }
}

impl From<TransportError> for CaseError {
    fn from(e: TransportError) -> Self {
        CaseError::Error(e.0)
    }
}

/// Fails with `expected` / `got` unless `condition` holds.
pub fn check(
    condition: bool,
    expected: impl Into<String>,
    got: impl FnOnce() -> String,
) -> Verdict {
    if condition {
        Ok(())
    } else {
        Err(CaseError::fail(expected, got()))
    }
}

/// Skips the case with `reason`.
pub fn skip(reason: impl Into<String>) -> CaseError {
    CaseError::Skip(reason.into())
}
