//! The plan of a run: what happens to each selected case for each version, decided before any
//! case runs, from the filters, the preflight (versions the target does not speak), the
//! capabilities discovered and the profile (capability overrides, known deviations, findings
//! that take the target down, timer slack). The runner executes the plan; `touchstone run
//! --plan` prints it.

use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use touchstone_codec::{Protocol, Statement};

use crate::cases;
use crate::harness::capability::Capabilities;
use crate::harness::case::Case;
use crate::run::profile::{Deviation, Profile};

/// What the run does with one case for one version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "action", content = "reason", rename_all = "snake_case")]
pub enum Action {
    /// Run it.
    Run,
    /// Skip it, for this reason (a capability the target lacks, a version it does not speak,
    /// a finding that would take it down).
    Skip(String),
    /// It cannot run: the target's capabilities for this version are unknown (why).
    Error(String),
}

/// One case for one version, planned.
#[derive(Debug, Clone)]
pub struct Planned {
    /// Position of the case in the catalogue (for client ids).
    pub index: usize,
    /// The case.
    pub case: Case,
    /// The version.
    pub protocol: Protocol,
    /// What happens to it.
    pub action: Action,
    /// What the target offers for this version, the profile's overrides applied (`None` when
    /// not discovered).
    pub capabilities: Option<Arc<Capabilities>>,
    /// The profile's known deviation: a failure that matches it is an expected failure.
    pub deviation: Option<Deviation>,
    /// How long the case may take.
    pub deadline: Duration,
    /// For a case that waits on one of the server's timers, the slack allowed on it.
    pub timer_slack: Option<Duration>,
}

/// Everything the plan is made from.
#[derive(Debug, Clone, Copy)]
pub struct Inputs<'a> {
    /// The selected case runs: (catalogue index, case, version).
    pub selected: &'a [(usize, &'a Case, Protocol)],
    /// Versions the target does not speak, and how it said so.
    pub not_spoken: &'a [(Protocol, String)],
    /// The capabilities of each version, discovered and overridden by the profile, or why
    /// they are unknown.
    pub capabilities: &'a [(Protocol, Result<Capabilities, String>)],
    /// The profile.
    pub profile: &'a Profile,
    /// Each case's deadline.
    pub deadline: Duration,
    /// The slack on the server's timers.
    pub timer_slack: Duration,
}

/// Plans every selected case run. No I/O: the same inputs give the same plan.
pub fn plan(inputs: Inputs<'_>) -> Vec<Planned> {
    // Each version's capabilities once, shared by its cases.
    let per_version: Vec<(Protocol, Result<Arc<Capabilities>, String>)> = inputs
        .capabilities
        .iter()
        .map(|(p, c)| (*p, c.clone().map(Arc::new)))
        .collect();
    inputs
        .selected
        .iter()
        .map(|&(index, case, protocol)| {
            let caps = per_version
                .iter()
                .find(|(p, _)| *p == protocol)
                .map_or_else(|| Err("capabilities were not discovered".into()), |(_, c)| c.clone());
            let not_spoken = inputs.not_spoken.iter().find(|(p, _)| *p == protocol);
            let action = match (not_spoken, inputs.profile.crashing_finding(case.id, protocol)) {
                (Some((_, why)), _) => {
                    Action::Skip(format!("the target does not speak MQTT {protocol}: {why}"))
                }
                (None, Some(f)) => Action::Skip(format!(
                    "not run: the profile says this case triggers a finding that takes the target down ({}; {})",
                    f.summary, f.reproducer
                )),
                (None, None) => match &caps {
                    Err(e) => Action::Error(e.clone()),
                    Ok(c) => match case.requires.iter().find_map(|r| c.missing(*r)) {
                        Some(reason) => Action::Skip(reason),
                        None => Action::Run,
                    },
                },
            };
            Planned {
                index,
                case: *case,
                protocol,
                action,
                capabilities: caps.ok(),
                deviation: inputs.profile.deviation(case.id, protocol).cloned(),
                deadline: inputs.deadline,
                timer_slack: cases::is_timed(case.id).then_some(inputs.timer_slack),
            }
        })
        .collect()
}

/// A planned case run as `touchstone run --plan --format json` prints it.
#[derive(Debug, Clone, Serialize)]
pub struct PlannedJson {
    /// The case id.
    pub id: &'static str,
    /// The version (`3.1.1` or `5`).
    pub protocol: &'static str,
    /// What happens to it, and why when it does not run.
    #[serde(flatten)]
    pub action: Action,
    /// The statements it checks for this version.
    pub statements: Vec<Statement>,
    /// The deviation the profile expects, as its statement.
    pub expected_failure: Option<String>,
    /// The deadline, in seconds.
    pub deadline_s: f64,
    /// The slack on the server's timers, in seconds, for a case that waits on one.
    pub timer_slack_s: Option<f64>,
}

impl From<&Planned> for PlannedJson {
    fn from(p: &Planned) -> Self {
        PlannedJson {
            id: p.case.id,
            protocol: p.protocol.as_str(),
            action: p.action.clone(),
            statements: p.case.statements_for(p.protocol),
            expected_failure: p.deviation.as_ref().map(|d| d.statement.to_string()),
            deadline_s: p.deadline.as_secs_f64(),
            timer_slack_s: p.timer_slack.map(|d| d.as_secs_f64()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case(id: &'static str) -> Case {
        *cases::catalogue().iter().find(|c| c.id == id).unwrap()
    }

    #[test]
    fn each_case_gets_its_action_from_preflight_capabilities_and_profile() {
        let shared = case("shared.granted-qos-honoured");
        let retain = case("retain.store-and-deliver");
        let timed = case("keepalive.silent-client-disconnected");
        let selected = [
            (0, &shared, Protocol::V5),
            (1, &retain, Protocol::V5),
            (2, &retain, Protocol::V3_1_1),
            (3, &timed, Protocol::V5),
        ];
        let mut v5 = Capabilities::defaults(Protocol::V5);
        v5.shared_subscriptions = false;
        let profile = Profile::parse(
            "[[deviation]]\ncase = \"retain.store-and-deliver\"\nprotocol = \"5\"\nstatement = \"5.0 MQTT-3.3.1-5\"\nreason = \"r\"\nevidence = \"e\"",
            &cases::catalogue(),
        )
        .unwrap();
        let plan = plan(Inputs {
            selected: &selected,
            not_spoken: &[(Protocol::V3_1_1, "CONNACK 0x01".into())],
            capabilities: &[(Protocol::V5, Ok(v5))],
            profile: &profile,
            deadline: Duration::from_secs(60),
            timer_slack: Duration::from_secs(2),
        });
        assert!(
            matches!(&plan[0].action, Action::Skip(r) if r.contains("shared")),
            "{:?}",
            plan[0].action
        );
        assert_eq!(plan[1].action, Action::Run);
        assert!(
            plan[1].deviation.is_some(),
            "expected failure from the profile"
        );
        assert!(
            matches!(&plan[2].action, Action::Skip(r) if r.contains("does not speak MQTT 3.1.1"))
        );
        assert!(plan[2].deviation.is_none());
        assert_eq!(plan[3].timer_slack, Some(Duration::from_secs(2)));
        assert_eq!(plan[1].timer_slack, None);
    }

    #[test]
    fn unknown_capabilities_are_an_error_not_a_skip() {
        let retain = case("retain.store-and-deliver");
        let plan = plan(Inputs {
            selected: &[(0, &retain, Protocol::V5)],
            not_spoken: &[],
            capabilities: &[(Protocol::V5, Err("no CONNACK".into()))],
            profile: &Profile::default(),
            deadline: Duration::from_secs(60),
            timer_slack: Duration::ZERO,
        });
        assert_eq!(plan[0].action, Action::Error("no CONNACK".into()));
    }
}
