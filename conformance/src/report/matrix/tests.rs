//! Tests of the parent module.

use std::path::Path;

use super::*;

fn report(broker: Option<(&str, &str)>, cases: &[(&str, &str, &str)]) -> String {
    let cases: Vec<serde_json::Value> = cases
        .iter()
        .map(|(id, p, o)| {
            serde_json::json!({
                "id": id, "title": format!("title of {id}"), "protocol": p, "outcome": o,
                "statements": [{"version": if *p == "5" { "5.0" } else { "3.1.1" }, "id": "MQTT-3.3.1-6"}],
            })
        })
        .collect();
    let mut v = serde_json::json!({
        "touchstone": "0.1.0", "target": "mqtt://127.0.0.1:1883",
        "started_unix_ms": 1_700_000_000_000u64,
        "profile": {"name": "Profile name", "deviations": []},
        "cases": cases,
    });
    if let Some((n, ver)) = broker {
        v["broker"] = serde_json::json!({"name": n, "version": ver});
    }
    v.to_string()
}

fn parse(text: &str, path: &str) -> Report {
    Report::parse(text, path).unwrap()
}

#[test]
fn reports_of_one_broker_are_merged() {
    let a = parse(
        &report(Some(("B", "1.0")), &[("x.one", "3.1.1", "pass")]),
        "b.json",
    );
    let b = parse(
        &report(
            Some(("B", "1.0")),
            &[("x.one", "5", "fail"), ("y.two", "5", "skip")],
        ),
        "b-5.json",
    );
    let c = parse(
        &report(Some(("C", "2")), &[("x.one", "3.1.1", "error")]),
        "c.json",
    );
    let m = Matrix::build(vec![a, b, c]).unwrap();
    assert_eq!(m.brokers.len(), 2);
    assert_eq!(m.brokers[0].name, "B");
    assert_eq!(m.brokers[0].versions, vec!["1.0"]);
    assert_eq!(m.brokers[0].sources, vec!["b.json", "b-5.json"]);
    assert_eq!(m.brokers[0].protocols(), vec!["3.1.1", "5"]);
    let rows: Vec<(String, String)> = m
        .rows
        .iter()
        .map(|r| (r.id.clone(), r.protocol.clone()))
        .collect();
    assert_eq!(
        rows,
        vec![
            ("x.one".into(), "3.1.1".into()),
            ("x.one".into(), "5".into()),
            ("y.two".into(), "5".into())
        ]
    );
    assert_eq!(m.areas(), vec!["x", "y"]);
    assert_eq!(m.brokers[1].mark(&m.rows[1]), Mark::NotRun);
    assert_eq!(m.brokers[0].mark(&m.rows[1]), Mark::Ran(Outcome::Fail));
}

#[test]
fn rates_leave_out_skips_and_cases_not_run() {
    let r = parse(
        &report(
            Some(("B", "1")),
            &[
                ("a.1", "3.1.1", "pass"),
                ("a.2", "3.1.1", "unexpected_pass"),
                ("a.3", "3.1.1", "fail"),
                ("a.4", "3.1.1", "expected_fail"),
                ("b.1", "3.1.1", "skip"),
                ("b.2", "3.1.1", "error"),
            ],
        ),
        "b.json",
    );
    let other = parse(&report(Some(("C", "1")), &[("c.1", "5", "pass")]), "c.json");
    let m = Matrix::build(vec![r, other]).unwrap();
    let b = &m.brokers[0];
    let t = m.tally(b, m.rows.iter());
    assert_eq!(t.passed(), 2);
    assert_eq!(t.judged(), 5);
    assert_eq!(t.ran(), 6);
    assert_eq!(t.count(Mark::NotRun), 1);
    assert_eq!(t.rate_text(), "2/5 (40.0%)");
    let a = m.tally(b, m.rows_of("a"));
    assert_eq!(a.rate_text(), "2/4 (50.0%)");
    let only_skip = m.tally(b, m.rows_of("c"));
    assert_eq!(only_skip.rate(), None);
    assert_eq!(only_skip.rate_text(), "–");
    // Statement coverage: MQTT-3.3.1-6 is not broker-wire or is: either way the counts
    // are consistent, and a failing run makes it "not passed".
    let cov = b.coverage();
    assert_eq!(cov.len(), 1);
    assert_eq!(cov[0].version, SpecVersion::V3_1_1);
    assert!(cov[0].checked <= 1);
    assert_eq!(cov[0].passed, 0, "{cov:?}");
}

#[test]
fn statement_coverage_counts_broker_wire_statements_of_runs() {
    let wire: Vec<&str> = spec::statements()
        .iter()
        .filter(|s| s.version == SpecVersion::V5_0 && s.is_broker_wire())
        .map(|s| s.id)
        .take(3)
        .collect();
    let case = |id: &str, outcome: &str, st: &[&str]| {
        serde_json::json!({"id": id, "protocol": "5", "outcome": outcome,
            "statements": st.iter().map(|s| serde_json::json!({"version": "5.0", "id": s})).collect::<Vec<_>>()})
    };
    let v = serde_json::json!({"target": "t", "cases": [
        case("a.1", "pass", &[wire[0], wire[1]]),
        case("a.2", "fail", &[wire[1]]),
        case("a.3", "skip", &[wire[2]]),
        // 3.1.1 ids in a 5.0 run and unknown ids are not counted
        case("a.4", "pass", &["MQTT-0.0.0-0"]),
    ]});
    let m = Matrix::build(vec![parse(&v.to_string(), "r.json")]).unwrap();
    let cov = m.brokers[0].coverage();
    assert_eq!(cov.len(), 1);
    assert_eq!(cov[0].checked, 2);
    assert_eq!(cov[0].passed, 1);
    assert_eq!(
        cov[0].not_passed,
        vec![(wire[1].to_string(), vec!["a.2 (fail)".to_string()])]
    );
    assert_eq!(cov[0].total, 193);
    // Old reports (no "broker") are named by the target.
    assert_eq!(m.brokers[0].name, "t");
}

#[test]
fn old_reports_name_the_broker_by_the_profile() {
    let r = parse(&report(None, &[("a.1", "5", "pass")]), "old.json");
    assert_eq!(r.broker.name, "Profile name");
    assert_eq!(r.broker.version, None);
}

#[test]
fn bad_reports_are_explained() {
    let e = Report::load(Path::new("/nonexistent/r.json")).unwrap_err();
    assert!(
        e.to_string().starts_with("cannot read /nonexistent/r.json"),
        "{e}"
    );
    let e = Report::parse("{not json", "x.json").unwrap_err();
    assert!(matches!(e, MatrixError::NotJson { .. }));
    assert!(e.to_string().starts_with("x.json is not JSON: "), "{e}");
    for (text, want) in [
        ("[1, 2]", "the top level is not an object"),
        ("{\"cases\": 3}", "no \"cases\" list"),
        ("{\"cases\": []}", "missing field `target`"),
        (
            "{\"target\": \"t\", \"cases\": [{\"id\": \"a.b\", \"protocol\": \"5\"}]}",
            "case #1 (`a.b`): missing field `outcome`",
        ),
        (
            "{\"target\": \"t\", \"cases\": [{\"id\": \"a.b\", \"protocol\": \"5\", \"outcome\": \"great\"}]}",
            "unknown variant `great`",
        ),
        (
            "{\"target\": \"t\", \"cases\": [{\"id\": \"a.b\", \"protocol\": \"4\", \"outcome\": \"pass\"}]}",
            "protocol `4` is not 3.1.1 or 5",
        ),
        ("{\"target\": 7, \"cases\": []}", "invalid type"),
    ] {
        let e = Report::parse(text, "x.json").unwrap_err();
        assert!(matches!(e, MatrixError::NotReport { .. }), "{text}: {e}");
        assert!(e.to_string().contains(want), "{text}: {e}");
        assert!(e.to_string().contains("is not a Touchstone JSON report"), "{e}");
    }
}

#[test]
fn the_same_case_twice_for_a_broker_is_an_error() {
    let a = parse(
        &report(Some(("B", "1")), &[("x.one", "5", "pass")]),
        "a.json",
    );
    let b = parse(
        &report(Some(("B", "1")), &[("x.one", "5", "fail")]),
        "b.json",
    );
    let e = Matrix::build(vec![a, b]).unwrap_err();
    assert_eq!(
        e.to_string(),
        "B: case `x.one` for MQTT 5 is in both a.json and b.json; give one report per broker and version"
    );
    assert!(matches!(Matrix::build(vec![]), Err(MatrixError::Empty)));
}

#[test]
fn dates() {
    assert_eq!(utc_date(0), "1970-01-01 00:00 UTC");
    assert_eq!(utc_date(1_700_000_000_000), "2023-11-14 22:13 UTC");
    assert_eq!(utc_date(951_782_400_000), "2000-02-29 00:00 UTC");
}
