//! The runner: selects cases, discovers capabilities, runs cases concurrently each under a
//! deadline, cleans up after them, and applies the profile's deviations.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tokio::sync::Semaphore;
use tokio::time::Instant;
use touchstone_codec::{Protocol, QoS};

use crate::capabilities::{self, Capabilities};
use crate::case::{Case, CaseError};
use crate::context::{AuthListener, CaseShared, Credentials, RunContext, Test, Timing};
use crate::outcome::{CaseResult, Outcome};
use crate::profile::Profile;
use crate::transport::Connector;

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
}

/// The broker a run tested: its name and version, as reports and the matrix show them.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
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

    /// True if nothing failed, errored, or passed unexpectedly.
    pub fn ok(&self) -> bool {
        !self.results.iter().any(|r| r.outcome.is_bad())
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

/// Runs the selected cases of `catalogue`.
pub async fn run(config: RunConfig, catalogue: &[Case], progress: Arc<dyn Progress>) -> RunReport {
    let started = SystemTime::now();
    let clock = Instant::now();
    let run = Arc::new(RunContext {
        connector: config.connector.clone(),
        auth_listener: config
            .auth_connector
            .clone()
            .map(|connector| AuthListener { connector }),
        credentials: config.credentials.clone(),
        run_id: RunContext::new_run_id(),
        timing: config.timing,
        redactor: Arc::new(config.credentials.redactor()),
    });
    let selected = select(catalogue, &config.protocols, &config.filters, config.exact);
    progress.start(selected.len());

    // Capabilities of each version that has cases to run.
    let mut capabilities = Vec::new();
    let mut discovery = Vec::new();
    for &p in &config.protocols {
        if selected.iter().any(|(_, _, q)| *q == p) {
            discovery.push((p, tokio::spawn(capabilities::discover(run.clone(), p))));
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
            Ok(Err(e)) => Err(e),
            Err(e) => Err(format!("capability discovery crashed: {e}")),
        };
        capabilities.push((p, result));
    }

    let semaphore = Arc::new(Semaphore::new(config.jobs.max(1)));
    let mut handles = Vec::with_capacity(selected.len());
    for (order, (index, case, protocol)) in selected.iter().enumerate() {
        let caps = capabilities
            .iter()
            .find(|(p, _)| p == protocol)
            .map(|(_, c)| c.clone())
            .unwrap_or_else(|| Err("capabilities were not discovered".into()));
        let case = **case;
        let protocol = *protocol;
        let index = *index;
        let run = run.clone();
        let semaphore = semaphore.clone();
        let deviation = config.profile.deviation(case.id, protocol).cloned();
        let crashes = config
            .profile
            .crashing_finding(case.id, protocol)
            .map(|f| {
                format!(
                    "not run: the profile says this case triggers a finding that takes the target down ({}; {})",
                    f.summary, f.reproducer
                )
            });
        let deadline = config.case_deadline;
        let progress = progress.clone();
        handles.push(tokio::spawn(async move {
            let _permit = semaphore.acquire_owned().await;
            let caps = match crashes {
                Some(why) => Caps::NotRun(why),
                None => Caps::Discovered(caps),
            };
            let result = run_case(run, case, index, protocol, caps, deadline, deviation).await;
            progress.finished(&result);
            (order, result)
        }));
    }
    let mut results: Vec<(usize, CaseResult)> = Vec::with_capacity(handles.len());
    for (order, h) in handles.into_iter().enumerate() {
        match h.await {
            Ok(r) => results.push(r),
            Err(e) => {
                // The wrapper task itself died: report the case as an error.
                let (index, case, protocol) = selected[order];
                let _ = index;
                results.push((
                    order,
                    CaseResult {
                        id: case.id,
                        title: case.title,
                        protocol,
                        outcome: Outcome::Error,
                        statements: case.statements_for(protocol),
                        requires: case.requires.to_vec(),
                        duration: Duration::ZERO,
                        failure: None,
                        message: Some(format!("the runner lost this case: {e}")),
                        observations: Vec::new(),
                        deviation: None,
                        transcript: Vec::new(),
                    },
                ));
            }
        }
    }
    results.sort_by_key(|(order, _)| *order);
    progress.done();
    RunReport {
        run_id: run.run_id.clone(),
        target: config.connector.target().to_string(),
        started,
        duration: clock.elapsed(),
        protocols: config.protocols.clone(),
        capabilities,
        profile: config.profile,
        timing: config.timing,
        results: results.into_iter().map(|(_, r)| r).collect(),
        broker: None,
    }
}

/// What a case runs with: the target's capabilities (or why they are unknown), or the reason
/// the profile gives not to run it.
enum Caps {
    Discovered(Result<Capabilities, String>),
    NotRun(String),
}

async fn run_case(
    run: Arc<RunContext>,
    case: Case,
    index: usize,
    protocol: Protocol,
    caps: Caps,
    deadline: Duration,
    deviation: Option<crate::profile::Deviation>,
) -> CaseResult {
    let started = Instant::now();
    let shared = Arc::new(CaseShared::new(run, protocol, case.id, index));
    let verdict: Result<(), CaseError> = match caps {
        Caps::NotRun(why) => Err(CaseError::Skip(why)),
        Caps::Discovered(Err(e)) => Err(CaseError::Error(e)),
        Caps::Discovered(Ok(caps)) => match case.requires.iter().find_map(|c| caps.missing(*c)) {
            Some(reason) => Err(CaseError::Skip(reason)),
            None => {
                let task_shared = shared.clone();
                let caps = Arc::new(caps);
                let body = case.body;
                let task = tokio::spawn(async move {
                    let mut t = Test::new(task_shared, caps);
                    tokio::time::timeout(deadline, body(&mut t)).await
                });
                match task.await {
                    Ok(Ok(v)) => v,
                    Ok(Err(_)) => {
                        shared.transcript.event(
                            "runner",
                            format!("deadline of {:.0} s reached", deadline.as_secs_f64()),
                        );
                        Err(CaseError::Error(format!(
                            "the case did not finish within its deadline of {:.0} s (the target hangs, or a timer is longer than the deadline)",
                            deadline.as_secs_f64()
                        )))
                    }
                    Err(e) if e.is_panic() => Err(CaseError::Error(format!(
                        "the case panicked (a bug in the case): {e}"
                    ))),
                    Err(e) => Err(CaseError::Error(format!("the case was cancelled: {e}"))),
                }
            }
        },
    };
    // A target that died or hung says nothing about conformance, whatever the case concluded
    // (a dying target closes connections, which a case expecting a close would take for a
    // pass): check it still answers.
    let verdict = match verdict {
        Ok(()) | Err(CaseError::Fail(_)) => match target_alive(&shared).await {
            Ok(()) => verdict,
            Err(why) => {
                let found = match verdict {
                    Err(CaseError::Fail(f)) => {
                        format!("expected {}, got {}", f.expected, f.got)
                    }
                    _ => "a pass".to_string(),
                };
                Err(CaseError::Error(format!(
                    "the target stopped answering during the case ({why}); the case had found {found}"
                )))
            }
        },
        other => other,
    };
    let cleanup_problem = cleanup(&shared).await;
    let mut observations = shared.observations();
    if let Some(p) = cleanup_problem {
        observations.push(format!("cleanup: {p}"));
    }
    let (mut outcome, failure, mut message) = match verdict {
        Ok(()) => (Outcome::Pass, None, None),
        Err(CaseError::Fail(f)) => (Outcome::Fail, Some(*f), None),
        Err(CaseError::Skip(s)) => (Outcome::Skip, None, Some(s)),
        Err(CaseError::Error(e)) => (Outcome::Error, None, Some(e)),
    };
    if let Some(d) = &deviation {
        match outcome {
            Outcome::Fail if d.expects(failure.as_ref()) => outcome = Outcome::ExpectedFail,
            Outcome::Fail => {
                message = Some(format!(
                    "the profile attributes failures of this case to {} when they contain `{}`; this one does not",
                    d.cause.as_deref().unwrap_or("a deviation"),
                    d.failure_contains.as_deref().unwrap_or_default()
                ))
            }
            Outcome::Pass if d.intermittent => observations.push(match &d.cause {
                Some(cause) => format!(
                    "the knock-on of {cause} the profile expects did not happen in this run"
                ),
                None => format!(
                    "the intermittent deviation from {} the profile expects did not show in this run",
                    d.statement
                ),
            }),
            Outcome::Pass => {
                outcome = Outcome::UnexpectedPass;
                message = Some(format!(
                    "the profile lists a deviation from {} for this case, but it passed: remove the deviation from the profile if the broker is fixed",
                    d.statement
                ));
            }
            _ => {}
        }
    }
    CaseResult {
        id: case.id,
        title: case.title,
        protocol,
        outcome,
        statements: case.statements_for(protocol),
        requires: case.requires.to_vec(),
        duration: started.elapsed(),
        failure,
        message,
        observations,
        deviation,
        transcript: shared.transcript.entries(),
    }
}

/// Checks that the target still accepts a connection and answers CONNECT with a CONNACK (of
/// any code) within a few seconds.
async fn target_alive(shared: &Arc<CaseShared>) -> Result<(), String> {
    let helper = Arc::new(shared.for_cleanup());
    let t = Test::new(helper, Arc::new(Capabilities::defaults(shared.protocol)));
    let probe = async {
        let mut c = t.client("liveness-probe").send_connect().await?;
        c.expect(crate::expect::connack())
            .within(Duration::from_secs(3))
            .await?;
        c.disconnect().await
    };
    match tokio::time::timeout(Duration::from_secs(6), probe).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(CaseError::Fail(f))) => Err(format!("a new connection got {}", f.got)),
        Ok(Err(CaseError::Skip(e) | CaseError::Error(e))) => Err(e),
        Err(_) => Err("a new connection got no CONNACK within 6 s".into()),
    }
}

/// Clears retained messages the case set and removes sessions it kept; `Some` says what went
/// wrong (reported as an observation: it does not change the verdict).
async fn cleanup(shared: &Arc<CaseShared>) -> Option<String> {
    let retained = shared.take_retained();
    let sessions = shared.take_sessions();
    if retained.is_empty() && sessions.is_empty() {
        return None;
    }
    let helper = Arc::new(shared.for_cleanup());
    let t = Test::new(
        helper.clone(),
        Arc::new(Capabilities::defaults(shared.protocol)),
    );
    let work = async {
        if !retained.is_empty() {
            // Let Wills of connections the case dropped be published first.
            tokio::time::sleep(Duration::from_millis(150)).await;
            let mut c = t.client("cleanup").connect().await?;
            for topic in &retained {
                c.publish(topic)
                    .retain()
                    .qos(QoS::AtLeastOnce)
                    .acked()
                    .await?;
            }
            c.disconnect().await?;
        }
        for (id, auth) in &sessions {
            let mut b = t.client("session-cleanup").client_id(id.as_str());
            if *auth {
                b = b.auth_listener();
            }
            let mut c = b.clean_start(true).connect().await?;
            c.disconnect().await?;
        }
        Ok::<(), CaseError>(())
    };
    match tokio::time::timeout(Duration::from_secs(10), work).await {
        Ok(Ok(())) => None,
        Ok(Err(CaseError::Fail(f))) => Some(format!("expected {}, got {}", f.expected, f.got)),
        Ok(Err(CaseError::Skip(s) | CaseError::Error(s))) => Some(s),
        Err(_) => Some("did not finish within 10 s".into()),
    }
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
}
