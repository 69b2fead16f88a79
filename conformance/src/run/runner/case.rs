//! One case run: the body under its deadline, the check that the target still answers, the
//! cleanup, and the profile's deviation applied to the verdict.

use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;
use touchstone_codec::QoS;

use crate::harness::capability::Capabilities;
use crate::harness::context::{CaseShared, RunContext};
use crate::harness::test::Test;
use crate::harness::verdict::CaseError;
use crate::run::outcome::{CaseResult, Outcome};
use crate::run::plan::{Action, Planned};

/// Everything one case run needs.
pub(super) struct CaseRun {
    pub(super) run: Arc<RunContext>,
    pub(super) planned: Planned,
    /// When the run started (for the case's start offset).
    pub(super) run_started: Instant,
}

/// Runs one case. `Err` carries why the target is gone (it stopped answering during the case):
/// the run stops there.
pub(super) async fn run_case(c: CaseRun) -> (CaseResult, Option<String>) {
    let CaseRun {
        run,
        planned,
        run_started,
    } = c;
    let Planned {
        index,
        case,
        protocol,
        action,
        capabilities,
        deviation,
        deadline,
        ..
    } = planned;
    let started = Instant::now();
    let shared = Arc::new(CaseShared::new(run, protocol, case.id, index));
    let verdict: Result<(), CaseError> = match (action, capabilities) {
        (Action::Skip(why), _) => Err(CaseError::Skip(why)),
        (Action::Error(e), _) => Err(CaseError::Error(e)),
        (Action::Run, None) => Err(CaseError::Error(
            "the plan runs the case without capabilities (a bug in the runner)".into(),
        )),
        (Action::Run, Some(caps)) => {
            let task_shared = shared.clone();
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
    };
    // A target that died or hung says nothing about conformance, whatever the case concluded
    // (a dying target closes connections, which a case expecting a close would take for a
    // pass): check it still answers.
    // The same holds for an error: it may be the target dying. A target that does not answer
    // twice, a second apart, is gone: the run stops.
    let mut gone = None;
    let verdict = match verdict {
        Err(CaseError::Skip(_)) => verdict,
        _ => match target_alive_twice(&shared).await {
            Ok(()) => verdict,
            Err(why) => {
                let found = match &verdict {
                    Err(CaseError::Fail(f)) => {
                        format!("expected {}, got {}", f.expected, f.got)
                    }
                    Err(CaseError::Error(e) | CaseError::Skip(e)) => format!("an error ({e})"),
                    Ok(()) => "a pass".to_string(),
                };
                gone = Some(format!(
                    "the target stopped answering during {} [MQTT {protocol}] ({why})",
                    case.id
                ));
                Err(CaseError::Error(format!(
                    "the target stopped answering during the case ({why}); the case had found {found}"
                )))
            }
        },
    };
    let cleanup_problem = if gone.is_none() {
        cleanup(&shared).await
    } else {
        None
    };
    let mut observations = shared.observations();
    if let Some(p) = cleanup_problem {
        observations.push(format!("cleanup: {p}"));
    }
    let shortfalls = shared.shortfalls();
    let (mut outcome, failure, mut message) = match verdict {
        Ok(()) if shortfalls.is_empty() => (Outcome::Pass, None, None),
        Ok(()) => (Outcome::ShouldFail, None, None),
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
            Outcome::Pass | Outcome::ShouldFail if d.intermittent => observations.push(match &d.cause {
                Some(cause) => format!(
                    "the knock-on of {cause} the profile expects did not happen in this run"
                ),
                None => format!(
                    "the intermittent deviation from {} the profile expects did not show in this run",
                    d.statement
                ),
            }),
            Outcome::Pass | Outcome::ShouldFail => {
                outcome = Outcome::UnexpectedPass;
                message = Some(format!(
                    "the profile lists a deviation from {} for this case, but it passed: remove the deviation from the profile if the broker is fixed",
                    d.statement
                ));
            }
            _ => {}
        }
    }
    let result = CaseResult {
        id: case.id,
        title: case.title,
        protocol,
        outcome,
        verdicts: Vec::new(),
        started: started.duration_since(run_started),
        statements: case.statements_for(protocol),
        requires: case.requires.to_vec(),
        duration: started.elapsed(),
        failure,
        message,
        observations,
        shortfalls,
        deviation,
        transcript: shared.transcript.entries(),
    };
    (result, gone)
}

/// [`target_alive`], tried again a second later if it fails (a broker busy for a moment is
/// not a dead one).
async fn target_alive_twice(shared: &Arc<CaseShared>) -> Result<(), String> {
    if target_alive(shared).await.is_ok() {
        return Ok(());
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    target_alive(shared).await
}

/// Checks that the target still accepts a connection and answers CONNECT with a CONNACK (of
/// any code) within a few seconds.
async fn target_alive(shared: &Arc<CaseShared>) -> Result<(), String> {
    let helper = Arc::new(shared.for_cleanup());
    let t = Test::new(helper, Arc::new(Capabilities::defaults(shared.protocol)));
    let probe = async {
        let mut c = t.client("liveness-probe").send_connect().await?;
        c.expect(crate::harness::expect::connack())
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
