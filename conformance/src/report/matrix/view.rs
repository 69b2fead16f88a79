//! The matrix as the renderers see it: every number, mark, rate and text worked out once from
//! the [`Matrix`], so that the Markdown and the HTML show the same thing. The HTML page is a
//! template over this model (`matrix.html.j2`); the Markdown walks it.

use serde::Serialize;

use super::{detail_lines, statements_text, utc_date, BrokerColumn, Mark, Matrix, RenderOptions};
use crate::run::outcome::Outcome;

/// One kind of cell: an outcome, or "not run".
#[derive(Debug, Clone, Serialize)]
pub struct MarkView {
    /// CSS key (`pass`, `expected_fail`, `not_run`, ...).
    pub key: &'static str,
    /// Word shown in the HTML (`pass`, `xfail`, ...).
    pub label: &'static str,
    /// Symbol shown in the Markdown.
    pub symbol: &'static str,
    /// What it means, in a sentence.
    pub meaning: &'static str,
}

impl From<Mark> for MarkView {
    fn from(m: Mark) -> Self {
        MarkView {
            key: m.key(),
            label: m.label(),
            symbol: m.symbol(),
            meaning: m.meaning(),
        }
    }
}

/// A pass rate.
#[derive(Debug, Clone, Serialize)]
pub struct RateView {
    /// `12/14 (85.7%)`, or `–` when nothing gave a verdict.
    pub text: String,
    /// The rate in percent.
    pub percent: Option<f64>,
    /// Hue of the cell's background, from red (0) to green (120).
    pub hue: Option<u32>,
    /// Width of the bar in pixels (half the percentage).
    pub bar: Option<u32>,
}

/// A version's statements for one broker.
#[derive(Debug, Clone, Serialize)]
pub struct CoverageView {
    /// `3.1.1` or `5.0`.
    pub version: &'static str,
    /// Broker-wire statements of the index.
    pub total: usize,
    /// Checked by a case that ran.
    pub checked: usize,
    /// Of those, passed by every run citing them.
    pub passed: usize,
    /// The statements not passed: (id, the cases that did not pass, joined).
    pub not_passed: Vec<(String, String)>,
}

/// One broker column.
#[derive(Debug, Clone, Serialize)]
pub struct BrokerView {
    /// Its name.
    pub name: String,
    /// Name and versions.
    pub display: String,
    /// Its versions joined by ` / `, or `?`.
    pub versions: String,
    /// Whether any version is known.
    pub has_versions: bool,
    /// The targets its reports ran against.
    pub targets: Vec<String>,
    /// The days of its runs.
    pub dates: String,
    /// How many findings (crashes, hangs) its profile lists.
    pub findings: usize,
    /// Case runs that ran.
    pub ran: usize,
    /// Count per counted mark (in [`MatrixView::counted`]'s order).
    pub counts: Vec<usize>,
    /// Its pass rate.
    pub rate: RateView,
    /// Statements per version; `None` where it ran no case of that version.
    pub coverage: Vec<Option<CoverageView>>,
    /// The report files.
    pub sources: Vec<String>,
    /// Touchstone versions that wrote them, joined.
    pub touchstone: String,
}

/// One cell of the case table.
#[derive(Debug, Clone, Serialize)]
pub struct CellView {
    /// What it shows.
    pub mark: MarkView,
    /// Whether the case ran for this broker and version.
    pub ran: bool,
    /// The hover text.
    pub title: String,
    /// The detail shown on click (`None` for a plain pass).
    pub detail: Option<String>,
}

/// One case run row.
#[derive(Debug, Clone, Serialize)]
pub struct RowView {
    /// Case id.
    pub id: String,
    /// `3.1.1` or `5`.
    pub protocol: String,
    /// Case title.
    pub title: String,
    /// Lower-case text the page's filter searches.
    pub search: String,
    /// Whether some broker did not pass it (fail, error, expected or unexpected outcome).
    pub not_passed: bool,
    /// One cell per broker.
    pub cells: Vec<CellView>,
}

/// One area of the catalogue.
#[derive(Debug, Clone, Serialize)]
pub struct AreaView {
    /// Its name.
    pub name: String,
    /// Case runs in it.
    pub runs: usize,
    /// Distinct cases in it.
    pub cases: usize,
    /// Pass rate per broker.
    pub rates: Vec<RateView>,
    /// Its rows.
    pub rows: Vec<RowView>,
}

/// A finding: a crash or hang a profile lists.
#[derive(Debug, Clone, Serialize)]
pub struct FindingView {
    /// The broker.
    pub broker: String,
    /// The version.
    pub protocol: String,
    /// What happens.
    pub summary: String,
    /// The statement it breaks, `5.0 MQTT-...`.
    pub statement: Option<String>,
    /// The reproducer's path.
    pub reproducer: String,
}

/// A known deviation a profile lists, with what the run showed.
#[derive(Debug, Clone, Serialize)]
pub struct DeviationView {
    /// The broker.
    pub broker: String,
    /// The case.
    pub case: String,
    /// The version.
    pub protocol: String,
    /// The statement's version.
    pub statement_version: String,
    /// The statement's id.
    pub statement_id: String,
    /// What the run gave.
    pub mark: MarkView,
    /// What the broker does.
    pub reason: String,
    /// A reference (upstream issue), if any.
    pub reference: Option<String>,
    /// The bytes seen.
    pub evidence: String,
}

/// A run that failed, erred or unexpectedly passed.
#[derive(Debug, Clone, Serialize)]
pub struct ProblemView {
    /// Its outcome.
    pub mark: MarkView,
    /// The broker.
    pub broker: String,
    /// The case.
    pub case: String,
    /// The version.
    pub protocol: String,
    /// For a failure: what was expected.
    pub expected: Option<String>,
    /// For a failure: what came.
    pub got: Option<String>,
    /// For a failure: the statements, as text.
    pub statements: Option<String>,
    /// The message of an error or unexpected pass.
    pub message: Option<String>,
}

/// The whole matrix, ready to show.
#[derive(Debug, Clone, Serialize)]
pub struct MatrixView {
    /// The title.
    pub title: String,
    /// When it was generated.
    pub generated: String,
    /// The first and last run days.
    pub run_dates: Option<(String, String)>,
    /// Every mark, for the legend.
    pub legend: Vec<MarkView>,
    /// The marks counted per broker.
    pub counted: Vec<MarkView>,
    /// The brokers.
    pub brokers: Vec<BrokerView>,
    /// Case runs in all.
    pub runs: usize,
    /// The areas, with their rows.
    pub areas: Vec<AreaView>,
    /// The findings.
    pub findings: Vec<FindingView>,
    /// The known deviations.
    pub deviations: Vec<DeviationView>,
    /// Failures, errors and unexpected passes.
    pub problems: Vec<ProblemView>,
}

fn rate(t: &super::Tally) -> RateView {
    let percent = t.rate();
    RateView {
        text: t.rate_text(),
        percent,
        hue: percent.map(|r| (r / 100.0 * 120.0).clamp(0.0, 120.0).round() as u32),
        bar: percent.map(|r| (r / 2.0).round() as u32),
    }
}

fn broker(m: &Matrix, b: &BrokerColumn) -> BrokerView {
    let t = m.tally(b, m.rows.iter());
    let mut dates: Vec<String> = b.started_unix_ms.iter().map(|ms| utc_date(*ms)).collect();
    dates.dedup();
    let cov = b.coverage();
    BrokerView {
        name: b.name.clone(),
        display: b.display(),
        versions: if b.versions.is_empty() {
            "?".to_string()
        } else {
            b.versions.join(" / ")
        },
        has_versions: !b.versions.is_empty(),
        targets: b.targets.clone(),
        dates: dates.join(", "),
        findings: b.findings.len(),
        ran: t.ran(),
        counts: Mark::counted().map(|mk| t.count(mk)).collect(),
        rate: rate(&t),
        coverage: ["3.1.1", "5.0"]
            .into_iter()
            .map(|v| {
                cov.iter()
                    .find(|c| c.version.as_str() == v)
                    .map(|c| CoverageView {
                        version: v,
                        total: c.total,
                        checked: c.checked,
                        passed: c.passed,
                        not_passed: c
                            .not_passed
                            .iter()
                            .map(|(id, cases)| (id.clone(), cases.join(", ")))
                            .collect(),
                    })
            })
            .collect(),
        sources: b.sources.clone(),
        touchstone: b.touchstone.join(", "),
    }
}

fn cell(b: &BrokerColumn, r: &super::Row) -> CellView {
    let mark = b.mark(r);
    match b.result(r) {
        None => CellView {
            mark: mark.into(),
            ran: false,
            title: format!("{}: not run for MQTT {}", b.name, r.protocol),
            detail: None,
        },
        Some(c) => {
            let lines = detail_lines(c);
            CellView {
                mark: mark.into(),
                ran: true,
                title: format!("{}: {}", b.name, lines.join("\n")),
                detail: (c.outcome != Outcome::Pass || !c.observations.is_empty())
                    .then(|| lines.join("\n")),
            }
        }
    }
}

impl MatrixView {
    /// Works out everything the renderers show.
    pub fn new(m: &Matrix, opts: &RenderOptions) -> MatrixView {
        let areas = m
            .areas()
            .into_iter()
            .map(|area| {
                let mut ids: Vec<&str> = Vec::new();
                for r in m.rows_of(area) {
                    if !ids.contains(&r.id.as_str()) {
                        ids.push(&r.id);
                    }
                }
                AreaView {
                    name: area.to_string(),
                    runs: m.rows_of(area).count(),
                    cases: ids.len(),
                    rates: m
                        .brokers
                        .iter()
                        .map(|b| rate(&m.tally(b, m.rows_of(area))))
                        .collect(),
                    rows: m
                        .rows_of(area)
                        .map(|r| RowView {
                            id: r.id.clone(),
                            protocol: r.protocol.clone(),
                            title: r.title.clone(),
                            search: format!("{} {} {}", r.id, r.title, r.area).to_lowercase(),
                            not_passed: m.brokers.iter().any(|b| {
                                matches!(
                                    b.mark(r),
                                    Mark::Ran(
                                        Outcome::Fail
                                            | Outcome::Error
                                            | Outcome::ExpectedFail
                                            | Outcome::UnexpectedPass
                                    )
                                )
                            }),
                            cells: m.brokers.iter().map(|b| cell(b, r)).collect(),
                        })
                        .collect(),
                }
            })
            .collect();
        let findings = m
            .brokers
            .iter()
            .flat_map(|b| {
                b.findings.iter().map(|f| FindingView {
                    broker: b.name.clone(),
                    protocol: f.protocol.clone(),
                    summary: f.summary.clone(),
                    statement: f
                        .statement
                        .as_ref()
                        .map(|st| format!("{} {}", st.version, st.id)),
                    reproducer: f.reproducer.clone(),
                })
            })
            .collect();
        let deviations = m
            .brokers
            .iter()
            .flat_map(|b| {
                b.deviations.iter().map(|d| DeviationView {
                    broker: b.name.clone(),
                    case: d.case.clone(),
                    protocol: d.protocol.clone(),
                    statement_version: d.statement.version.to_string(),
                    statement_id: d.statement.id.clone(),
                    mark: b
                        .results
                        .get(&(d.case.clone(), d.protocol.clone()))
                        .map(|r| Mark::Ran(r.outcome))
                        .unwrap_or(Mark::NotRun)
                        .into(),
                    reason: d.reason.clone(),
                    reference: d.reference.clone(),
                    evidence: d.evidence.clone(),
                })
            })
            .collect();
        let problems = m
            .brokers
            .iter()
            .flat_map(|b| {
                m.rows
                    .iter()
                    .filter_map(move |r| b.result(r).map(|c| (b, c)))
                    .filter(|(_, c)| {
                        matches!(
                            c.outcome,
                            Outcome::Fail | Outcome::Error | Outcome::UnexpectedPass
                        )
                    })
                    .map(|(b, c)| {
                        let statements = c.failure.as_ref().map(|f| {
                            let mut st = c.statements.clone();
                            for x in &f.statements {
                                if !st.contains(x) {
                                    st.push(x.clone());
                                }
                            }
                            statements_text(&st)
                        });
                        ProblemView {
                            mark: Mark::Ran(c.outcome).into(),
                            broker: b.name.clone(),
                            case: c.id.clone(),
                            protocol: c.protocol.clone(),
                            expected: c.failure.as_ref().map(|f| f.expected.clone()),
                            got: c.failure.as_ref().map(|f| f.got.clone()),
                            statements: statements.filter(|s| !s.is_empty()),
                            message: c.message.clone(),
                        }
                    })
            })
            .collect();
        MatrixView {
            title: opts.title.clone(),
            generated: opts.generated.clone(),
            run_dates: m.run_dates(),
            legend: Mark::ALL.iter().map(|mk| (*mk).into()).collect(),
            counted: Mark::counted().map(MarkView::from).collect(),
            brokers: m.brokers.iter().map(|b| broker(m, b)).collect(),
            runs: m.rows.len(),
            areas,
            findings,
            deviations,
            problems,
        }
    }
}
