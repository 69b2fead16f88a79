//! Coverage: which `broker-wire` statements of the index at least one case checks, per
//! version and per chapter section.

use std::collections::BTreeSet;

use serde::Serialize;
use touchstone_codec::{SpecVersion, Statement};

use crate::harness::case::Case;
use crate::report::forms::StatementJson;
use crate::spec::{self, SpecStatement};

/// Coverage of one section (e.g. `3.3`, PUBLISH).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SectionCoverage {
    /// `3.3`.
    pub section: &'static str,
    /// What it is about, e.g. `PUBLISH`.
    pub title: String,
    /// Statements checked by at least one case.
    pub checked: usize,
    /// Broker-wire statements in the section.
    pub total: usize,
}

/// An unchecked statement, for the list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Unchecked {
    /// The id.
    pub id: &'static str,
    /// Its section.
    pub section: &'static str,
    /// Its paraphrase.
    pub summary: &'static str,
}

/// Coverage of one specification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VersionCoverage {
    /// `3.1.1` or `5.0`.
    pub version: SpecVersion,
    /// Broker-wire statements checked by at least one case.
    pub checked: usize,
    /// Broker-wire statements in the index.
    pub total: usize,
    /// Per section.
    pub sections: Vec<SectionCoverage>,
    /// The broker-wire statements no case checks yet.
    pub unchecked: Vec<Unchecked>,
    /// Statements cases cite that are not broker-wire (codec or client rules they touch).
    pub also_cited: Vec<StatementJson>,
}

impl VersionCoverage {
    /// Checked as a percentage of the total.
    pub fn percent(&self) -> f64 {
        percent(self.checked, self.total)
    }
}

/// `part` of `whole` in percent (0 when `whole` is 0).
pub fn percent(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        0.0
    } else {
        100.0 * part as f64 / whole as f64
    }
}

fn section_title(statements: &[&SpecStatement]) -> String {
    let mut titles: Vec<&str> = Vec::new();
    for s in statements {
        let t = s.topic.split(':').next().unwrap_or(s.topic).trim();
        if !titles.contains(&t) {
            titles.push(t);
        }
    }
    titles.join(", ")
}

/// Computes the coverage of `catalogue`.
pub fn compute(catalogue: &[Case]) -> Vec<VersionCoverage> {
    let cited: BTreeSet<Statement> = catalogue
        .iter()
        .flat_map(|c| c.statements.iter().copied())
        .collect();
    let mut out = Vec::new();
    for version in [SpecVersion::V3_1_1, SpecVersion::V5_0] {
        let wire: Vec<&SpecStatement> = spec::statements()
            .iter()
            .filter(|s| s.version == version && s.is_broker_wire())
            .collect();
        let is_checked = |s: &SpecStatement| cited.contains(&s.statement());
        let mut chapters: Vec<&'static str> = Vec::new();
        for s in &wire {
            if !chapters.contains(&s.chapter()) {
                chapters.push(s.chapter());
            }
        }
        let sections = chapters
            .iter()
            .map(|ch| {
                let in_ch: Vec<&SpecStatement> = wire
                    .iter()
                    .copied()
                    .filter(|s| s.chapter() == *ch)
                    .collect();
                SectionCoverage {
                    section: ch,
                    title: section_title(&in_ch),
                    checked: in_ch.iter().filter(|s| is_checked(s)).count(),
                    total: in_ch.len(),
                }
            })
            .collect();
        let unchecked = wire
            .iter()
            .filter(|s| !is_checked(s))
            .map(|s| Unchecked {
                id: s.id,
                section: s.section,
                summary: s.summary,
            })
            .collect();
        let also_cited = cited
            .iter()
            .filter(|c| c.version == version)
            .filter(|c| !wire.iter().any(|s| s.id == c.id))
            .map(StatementJson::from)
            .collect();
        out.push(VersionCoverage {
            version,
            checked: wire.iter().filter(|s| is_checked(s)).count(),
            total: wire.len(),
            sections,
            unchecked,
            also_cited,
        });
    }
    out
}

/// The coverage as text: a table per version and the unchecked statements.
pub fn render_text(coverage: &[VersionCoverage], list_unchecked: bool) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    for v in coverage {
        let _ = writeln!(
            s,
            "MQTT {}: {} of {} broker-wire statements checked ({:.1}%)",
            v.version,
            v.checked,
            v.total,
            v.percent()
        );
        for sec in &v.sections {
            let _ = writeln!(
                s,
                "  {:<6} {:>3}/{:<3} {:>5.1}%  {}",
                sec.section,
                sec.checked,
                sec.total,
                percent(sec.checked, sec.total),
                sec.title
            );
        }
        if list_unchecked && !v.unchecked.is_empty() {
            let _ = writeln!(s, "  not yet checked:");
            for u in &v.unchecked {
                let _ = writeln!(s, "    {:<15} {}", u.id, u.summary);
            }
        }
        s.push('\n');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cases;

    #[test]
    fn coverage_counts_add_up() {
        let cov = compute(&cases::catalogue());
        assert_eq!(cov.len(), 2);
        for v in &cov {
            assert!(v.checked > 0);
            assert_eq!(v.checked + v.unchecked.len(), v.total);
            assert_eq!(v.sections.iter().map(|s| s.total).sum::<usize>(), v.total);
            assert_eq!(
                v.sections.iter().map(|s| s.checked).sum::<usize>(),
                v.checked
            );
        }
        let text = render_text(&cov, true);
        assert!(text.contains("MQTT 3.1.1:"));
        assert!(text.contains("not yet checked:"));
    }
}
