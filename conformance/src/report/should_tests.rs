//! The `should_fail` outcome in every report, and `--strict`.

use std::time::{Duration, SystemTime};

use touchstone_codec::Protocol;

use super::{json, junit, markdown, pretty, Rerun};
use crate::harness::context::Timing;
use crate::harness::verdict::Shortfall;
use crate::run::outcome::{CaseResult, Outcome};
use crate::run::profile::Profile;
use crate::run::runner::{RunReport, RunStatus};

/// A report of one 5.0 case run that held its MUSTs and fell short of a SHOULD.
fn report(strict: bool) -> RunReport {
    let result = CaseResult {
        id: "limits.server-maximum-packet-size-enforced",
        title: "t",
        protocol: Protocol::V5,
        outcome: Outcome::ShouldFail,
        verdicts: vec![],
        started: Duration::ZERO,
        statements: vec![],
        requires: vec![],
        duration: Duration::from_millis(5),
        failure: None,
        message: None,
        observations: vec![],
        shortfalls: vec![Shortfall {
            should: "5.0 section 4.13.1".into(),
            expected: "c: DISCONNECT 0x95 Packet too large before the close".into(),
            got: "c: DISCONNECT 0x80 Unspecified error before the close".into(),
        }],
        deviation: None,
        transcript: vec![],
    };
    RunReport {
        run_id: "r".into(),
        target: "mqtt://127.0.0.1:1883".into(),
        started: SystemTime::UNIX_EPOCH,
        duration: Duration::ZERO,
        protocols: vec![Protocol::V5],
        capabilities: vec![],
        profile: Profile::default(),
        timing: Timing::default(),
        results: vec![result],
        broker: None,
        unavailable: None,
        not_spoken: vec![],
        interrupted: false,
        repeat: 1,
        notes: vec![],
        strict,
    }
}

fn rerun() -> Rerun {
    Rerun {
        base: "touchstone run --target mqtt://127.0.0.1:1883".into(),
        needs: None,
    }
}

#[test]
fn a_should_not_followed_fails_the_run_only_with_strict() {
    assert_eq!(report(false).status(), RunStatus::Conformant);
    assert_eq!(report(true).status(), RunStatus::NonConformant);
    assert!(!Outcome::ShouldFail.is_bad());
    assert!(Outcome::ShouldFail.fails_run(true));
    assert!(Outcome::ShouldFail.is_pass());
}

#[test]
fn the_terminal_shows_it_apart_from_the_failures() {
    let view = pretty::View {
        verbose: false,
        quiet: false,
        color: false,
    };
    let text = pretty::render(&report(false), &rerun(), view);
    assert!(text.contains("SHOULD not followed (1;"), "{text}");
    assert!(text.contains("expected c: DISCONNECT 0x95"), "{text}");
    assert!(!text.contains("Did not pass"), "{text}");
    assert!(text.contains("1 should-fail"), "{text}");
    assert!(text.contains("OK (1 SHOULD not followed"), "{text}");
    let text = pretty::render(&report(true), &rerun(), view);
    assert!(text.contains("Did not pass (1)"), "{text}");
    assert!(text.contains("NOT OK"), "{text}");
}

#[test]
fn json_records_the_outcome_the_shortfall_and_strict() {
    let v: serde_json::Value =
        serde_json::from_str(&json::render(&report(true), &rerun())).expect("JSON");
    assert_eq!(v["strict"], true);
    assert_eq!(v["summary"]["should_fail"], 1);
    assert_eq!(v["summary"]["ok"], false);
    let case = &v["cases"][0];
    assert_eq!(case["outcome"], "should_fail");
    assert_eq!(case["shortfalls"][0]["should"], "5.0 section 4.13.1");
}

#[test]
fn junit_passes_it_with_the_shortfall_as_output_or_fails_it_with_strict() {
    let xml = junit::render(&report(false), &rerun()).expect("XML");
    assert!(!xml.contains("<failure"), "{xml}");
    assert!(
        xml.contains("SHOULD not followed (5.0 section 4.13.1)"),
        "{xml}"
    );
    assert!(
        xml.contains(r#"name="outcome" value="should_fail""#),
        "{xml}"
    );
    let xml = junit::render(&report(true), &rerun()).expect("XML");
    assert!(
        xml.contains(r#"<failure message="SHOULD not followed"#),
        "{xml}"
    );
    assert!(xml.contains(r#"type="should_fail""#), "{xml}");
}

#[test]
fn markdown_lists_the_shortfall() {
    let md = markdown::render(&report(false), &rerun());
    assert!(
        md.contains("- SHOULD not followed (5.0 section 4.13.1)"),
        "{md}"
    );
}
