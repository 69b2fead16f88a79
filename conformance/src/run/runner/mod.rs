//! The runner: selects cases, checks the target can be tested ([`crate::run::preflight`]),
//! discovers capabilities, runs cases concurrently each under a deadline ([`case`]), cleans up
//! after them, applies the profile's deviations, and stops early when told to ([`Stop`]).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

mod case;
pub mod repeat;
mod stop;

use tokio::sync::Semaphore;
use tokio::time::Instant;
use touchstone_codec::Protocol;

use crate::cases;
use crate::harness::capability::Capabilities;
use crate::harness::case::Case;
use crate::harness::context::{AuthListener, Credentials, RunContext, Timing};
use crate::net::transport::Connector;
use crate::run::discovery;
use crate::run::outcome::{CaseResult, Outcome};
use crate::run::plan::{self, Planned};
use crate::run::preflight;
use crate::run::profile::Profile;
use case::{run_case, CaseRun};
pub use stop::{Stop, StopReason};

/// Everything a run needs.
#[derive(Debug, Clone)]
pub struct RunConfig {
    /// How to reach the target.
    pub connector: Connector,
    /// A listener that requires the credentials, for authentication cases.
    pub auth_connector: Option<Connector>,
    /// Credentials sent in CONNECT.
    pub credentials: Credentials,
    /// The versions to run (3.1.1 and/or 5).
    pub protocols: Vec<Protocol>,
    /// The versions were named by the user (not `all`): one the target does not speak makes
    /// the target unavailable instead of skipping its cases.
    pub explicit_protocols: bool,
    /// Case filters (see [`matches`]); empty: every case.
    pub filters: Vec<String>,
    /// Filters are exact case ids.
    pub exact: bool,
    /// The target's profile.
    pub profile: Profile,
    /// How many cases run at once.
    pub jobs: usize,
    /// Timers.
    pub timing: Timing,
    /// The most one case may take.
    pub case_deadline: Duration,
    /// `--strict`: a SHOULD not followed fails the run.
    pub strict: bool,
}

/// The record of a run.
#[derive(Debug, Clone)]
pub struct RunReport {
    /// The run id (in client ids and topics).
    pub run_id: String,
    /// The target URL (without credentials).
    pub target: String,
    /// When the run started.
    pub started: SystemTime,
    /// How long it took.
    pub duration: Duration,
    /// The versions run.
    pub protocols: Vec<Protocol>,
    /// The capabilities of each version, or why they could not be discovered.
    pub capabilities: Vec<(Protocol, Result<Capabilities, String>)>,
    /// The profile used.
    pub profile: Profile,
    /// Timers used.
    pub timing: Timing,
    /// One result per case and version, in catalogue order, 3.1.1 first.
    pub results: Vec<CaseResult>,
    /// Which broker was tested, as the command line says (see [`RunReport::broker`]).
    pub broker: Option<BrokerIdentity>,
    /// Why the target could not be tested (the preflight failed, or it stopped answering
    /// during the run): the run ended early.
    pub unavailable: Option<String>,
    /// Versions whose cases were skipped because the target does not speak them, and why.
    pub not_spoken: Vec<(Protocol, String)>,
    /// The run was interrupted (Ctrl-C): cases not finished are reported as not run.
    pub interrupted: bool,
    /// How many times the catalogue ran (`--repeat`).
    pub repeat: u32,
    /// What the preflight found about the set-up (printed in the header).
    pub notes: Vec<String>,
    /// `--strict`: a SHOULD not followed (`should_fail`) fails the run.
    pub strict: bool,
}

/// How a run ended; each has its exit status.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    serde::Serialize,
    serde::Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    /// Exit 0: no failure, error, unexpected pass or flaky verdict (known deviations allowed).
    Conformant,
    /// Exit 1: the run found non-conformance (or a verdict that changed between repeats).
    NonConformant,
    /// Exit 3: the target could not be tested (unreachable, refused, not MQTT, died).
    TargetUnavailable,
    /// Exit 130: interrupted; the cases that finished are reported.
    Interrupted,
}

impl RunStatus {
    /// The process exit status.
    pub const fn exit_code(self) -> u8 {
        match self {
            RunStatus::Conformant => 0,
            RunStatus::NonConformant => 1,
            RunStatus::TargetUnavailable => 3,
            RunStatus::Interrupted => 130,
        }
    }

    /// The snake-case name.
    pub const fn as_str(self) -> &'static str {
        match self {
            RunStatus::Conformant => "conformant",
            RunStatus::NonConformant => "non_conformant",
            RunStatus::TargetUnavailable => "target_unavailable",
            RunStatus::Interrupted => "interrupted",
        }
    }
}

/// The broker a run tested: its name and version, as reports and the matrix show them.
#[derive(
    Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
pub struct BrokerIdentity {
    /// Display name, e.g. `Eclipse Mosquitto`.
    pub name: String,
    /// Its version, when known.
    pub version: Option<String>,
}

impl RunReport {
    /// How many results have each outcome.
    pub fn counts(&self) -> BTreeMap<Outcome, usize> {
        let mut m = BTreeMap::new();
        for r in &self.results {
            *m.entry(r.outcome).or_insert(0) += 1;
        }
        m
    }

    /// The broker tested: as given to the run, else the profile's name, else the target URL.
    pub fn broker(&self) -> BrokerIdentity {
        self.broker.clone().unwrap_or_else(|| BrokerIdentity {
            name: self
                .profile
                .name
                .clone()
                .unwrap_or_else(|| self.target.clone()),
            version: None,
        })
    }

    /// True if nothing failed, errored, passed unexpectedly or changed verdict, and the
    /// run was neither cut short nor interrupted.
    pub fn ok(&self) -> bool {
        self.status() == RunStatus::Conformant
    }

    /// How the run ended (its exit status).
    pub fn status(&self) -> RunStatus {
        if self.interrupted {
            RunStatus::Interrupted
        } else if self.unavailable.is_some() {
            RunStatus::TargetUnavailable
        } else if self
            .results
            .iter()
            .any(|r| r.outcome.fails_run(self.strict))
        {
            RunStatus::NonConformant
        } else {
            RunStatus::Conformant
        }
    }
}

/// Told about progress (the live view).
pub trait Progress: Send + Sync {
    /// The run is about to start `total` case runs.
    fn start(&self, _total: usize) {}
    /// A case run finished.
    fn finished(&self, _result: &CaseResult) {}
    /// The run is over.
    fn done(&self) {}
}

/// Progress that shows nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct Quiet;
impl Progress for Quiet {}

/// True if case `id` is selected by `pattern`: with `exact`, equal to it; otherwise a glob
/// (`*`, `?`) over the whole id when it has wildcards, else a substring of the id.
pub fn matches(pattern: &str, id: &str, exact: bool) -> bool {
    // A case renamed when the areas were regrouped answers to its old id too.
    matches_id(pattern, id, exact)
        || cases::RENAMED
            .iter()
            .any(|(old, new)| *new == id && matches_id(pattern, old, exact))
}

fn matches_id(pattern: &str, id: &str, exact: bool) -> bool {
    if exact {
        return pattern == id;
    }
    if pattern.contains(['*', '?']) {
        glob(pattern.as_bytes(), id.as_bytes())
    } else {
        id.contains(pattern)
    }
}

fn glob(p: &[u8], s: &[u8]) -> bool {
    match (p.first(), s.first()) {
        (None, None) => true,
        (Some(b'*'), _) => glob(&p[1..], s) || (!s.is_empty() && glob(p, &s[1..])),
        (Some(b'?'), Some(_)) => glob(&p[1..], &s[1..]),
        (Some(a), Some(b)) if a == b => glob(&p[1..], &s[1..]),
        _ => false,
    }
}

/// The case runs a configuration selects: (catalogue index, case, version), 3.1.1 first.
pub fn select<'a>(
    catalogue: &'a [Case],
    protocols: &[Protocol],
    filters: &[String],
    exact: bool,
) -> Vec<(usize, &'a Case, Protocol)> {
    let mut out = Vec::new();
    for &p in protocols {
        for (i, case) in catalogue.iter().enumerate() {
            let picked = filters.is_empty() || filters.iter().any(|f| matches(f, case.id, exact));
            if picked && case.runs_for(p) {
                out.push((i, case, p));
            }
        }
    }
    out
}

/// A run ready to execute: the context its cases share, the report's header, and the plan.
struct Prepared<'c> {
    run: Arc<RunContext>,
    report: RunReport,
    selected: Vec<(usize, &'c Case, Protocol)>,
    plan: Vec<Planned>,
    clock: Instant,
}

/// Everything before the first case: the selection, the preflight, the discovery of each
/// version's capabilities with the profile's overrides, and the plan. `Err` is the report of a
/// run that cannot go on (the target is unavailable, or the run was interrupted), every
/// selected case not run.
async fn prepare<'c>(
    config: &RunConfig,
    selected: Vec<(usize, &'c Case, Protocol)>,
    stop: &Stop,
) -> Result<Prepared<'c>, RunReport> {
    let started = SystemTime::now();
    let clock = Instant::now();
    let run_id = RunContext::new_run_id();
    let with_cases: Vec<Protocol> = config
        .protocols
        .iter()
        .copied()
        .filter(|p| selected.iter().any(|(_, _, q)| q == p))
        .collect();
    let setup = preflight::Setup {
        connector: &config.connector,
        auth: config.auth_connector.as_ref(),
        credentials: &config.credentials,
        within: config.timing.connect,
        client_id: format!("ts{run_id}"),
    };
    let pre = tokio::select! {
        pre = preflight::run(&setup, &with_cases, config.explicit_protocols) => pre,
        () = stop.stopped() => preflight::Preflight::default(),
    };
    // A target that refuses anonymous clients is itself the authentication listener.
    let auth_connector = config.auth_connector.clone().or_else(|| {
        pre.target_requires_credentials
            .then(|| config.connector.clone())
    });
    let run = Arc::new(RunContext {
        connector: config.connector.clone(),
        auth_listener: auth_connector.map(|connector| AuthListener { connector }),
        credentials: config.credentials.clone(),
        run_id,
        timing: config.timing,
        redactor: Arc::new(config.credentials.redactor()),
    });
    let mut report = RunReport {
        run_id: run.run_id.clone(),
        target: config.connector.target().to_string(),
        started,
        duration: Duration::ZERO,
        protocols: config.protocols.clone(),
        capabilities: Vec::new(),
        profile: config.profile.clone(),
        timing: config.timing,
        results: Vec::new(),
        broker: None,
        unavailable: pre.unavailable.clone(),
        not_spoken: pre.not_spoken.clone(),
        interrupted: false,
        repeat: 1,
        notes: pre.notes.clone(),
        strict: config.strict,
    };
    if pre.unavailable.is_some() || stop.reason().is_some() {
        let why = match &pre.unavailable {
            Some(_) => "not run: the target could not be tested (see the run's header)",
            None => "not run: the run was interrupted",
        };
        report.results = selected
            .iter()
            .map(|(_, case, p)| CaseResult::without_run(case, *p, Outcome::NotRun, why.into()))
            .collect();
        report.interrupted = stop.reason() == Some(StopReason::Interrupted);
        report.duration = clock.elapsed();
        return Err(report);
    }
    if pre.target_requires_credentials {
        report.notes.push(
            "the target refuses clients without the credentials: it is the authentication listener too"
                .into(),
        );
    }

    // Capabilities of each version that has cases to run and that the target speaks.
    let mut discovery = Vec::new();
    for &p in &with_cases {
        if !pre.not_spoken.iter().any(|(q, _)| *q == p) {
            discovery.push((p, tokio::spawn(discovery::discover(run.clone(), p))));
        }
    }
    for (p, handle) in discovery {
        let result = match handle.await {
            Ok(Ok(mut caps)) => {
                for o in config.profile.overrides(p) {
                    caps.apply(o);
                }
                Ok(caps)
            }
            Ok(Err(e)) => Err(e.to_string()),
            Err(e) => Err(format!("capability discovery crashed: {e}")),
        };
        report.capabilities.push((p, result));
    }

    let plan = plan::plan(plan::Inputs {
        selected: &selected,
        not_spoken: &pre.not_spoken,
        capabilities: &report.capabilities,
        profile: &config.profile,
        deadline: config.case_deadline,
        timer_slack: config.timing.timer_slack,
    });
    Ok(Prepared {
        run,
        report,
        selected,
        plan,
        clock,
    })
}

/// The plan of a run without running it: the preflight and the discovery connect to the
/// target, no case does. `Err` is the report of a target that cannot be tested.
pub async fn plan_only(
    config: &RunConfig,
    catalogue: &[Case],
    stop: &Stop,
) -> Result<(RunReport, Vec<Planned>), RunReport> {
    let selected = select(catalogue, &config.protocols, &config.filters, config.exact);
    let p = prepare(config, selected, stop).await?;
    Ok((p.report, p.plan))
}

/// Runs the selected cases of `catalogue`: the preflight, the discovery of each version's
/// capabilities and the plan, then the planned cases, until they are done or `stop` is told
/// to stop.
pub async fn run(
    config: RunConfig,
    catalogue: &[Case],
    progress: Arc<dyn Progress>,
    stop: Stop,
) -> RunReport {
    let selected = select(catalogue, &config.protocols, &config.filters, config.exact);
    progress.start(selected.len());
    let Prepared {
        run,
        mut report,
        selected,
        plan,
        clock,
    } = match prepare(&config, selected, &stop).await {
        Ok(p) => p,
        Err(report) => {
            progress.done();
            return report;
        }
    };
    let semaphore = Arc::new(Semaphore::new(config.jobs.max(1)));
    let mut handles = Vec::with_capacity(plan.len());
    for planned in plan {
        let one = CaseRun {
            run: run.clone(),
            planned,
            run_started: clock,
        };
        let semaphore = semaphore.clone();
        let progress = progress.clone();
        let stop = stop.clone();
        handles.push(tokio::spawn(async move {
            let result = tokio::select! {
                biased;
                () = stop.stopped() => None,
                r = async {
                    let _permit = semaphore.acquire_owned().await;
                    if stop.reason().is_some() {
                        return None;
                    }
                    Some(run_case(one).await)
                } => r,
            };
            let (result, gone) = result?;
            if let Some(why) = gone {
                stop.stop(StopReason::TargetGone(why));
            }
            progress.finished(&result);
            Some(result)
        }));
    }
    for (order, h) in handles.into_iter().enumerate() {
        let (_, case, protocol) = selected[order];
        let result = match h.await {
            Ok(Some(r)) => r,
            Ok(None) => {
                let why = match stop.reason() {
                    Some(StopReason::TargetGone(why)) => format!("not run: the run stopped: {why}"),
                    _ => "not run: the run was interrupted".to_string(),
                };
                CaseResult::without_run(case, protocol, Outcome::NotRun, why)
            }
            // The wrapper task itself died: report the case as an error.
            Err(e) => CaseResult::without_run(
                case,
                protocol,
                Outcome::Error,
                format!("the runner lost this case: {e}"),
            ),
        };
        report.results.push(result);
    }
    progress.done();
    match stop.reason() {
        Some(StopReason::Interrupted) => report.interrupted = true,
        Some(StopReason::TargetGone(why)) => report.unavailable = Some(why),
        None => {}
    }
    report.duration = clock.elapsed();
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters() {
        assert!(matches("retain", "retain.store-and-deliver", false));
        assert!(matches("retain.*", "retain.store-and-deliver", false));
        assert!(!matches("retain.*", "qos.retain", false));
        assert!(matches("*.qos?-*", "qos.qos1-round-trip", false));
        assert!(!matches("retain.store", "retain.store-and-deliver", true));
        assert!(matches(
            "retain.store-and-deliver",
            "retain.store-and-deliver",
            true
        ));
    }

    #[test]
    fn renamed_cases_answer_to_their_old_ids() {
        let new = "connect.empty-client-id";
        assert!(matches("conn-session.empty-client-id", new, true));
        assert!(matches("conn-session.*", new, false));
        assert!(matches("conn-session", new, false));
        assert!(!matches(
            "conn-session.*",
            "connect.second-connect-closes",
            false
        ));
    }
}
