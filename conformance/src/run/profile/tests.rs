//! Tests of the parent module.

use super::*;
use crate::cases;

fn parse(text: &str) -> Result<Profile, String> {
    Profile::parse(text, &cases::catalogue()).map_err(|e| e.0)
}

#[test]
fn a_full_profile() {
    let p = parse(
        r#"
name = "x"
timer_slack = 2.5
[capabilities]
max_qos = 1
[v5.capabilities]
topic_alias_maximum = 10
[[deviation]]
case = "retain.clear-with-empty-payload"
protocol = "5"
statement = "5.0 MQTT-3.3.1-6"
reason = "keeps the retained message"
evidence = "PUBLISH retain=1 payload=\"v\" after the clear"
"#,
    )
    .unwrap();
    assert_eq!(p.timer_slack, Some(Duration::from_millis(2500)));
    assert!(!p.deviations[0].intermittent);
    let racy = parse("[[deviation]]\ncase = \"retain.clear-with-empty-payload\"\nprotocol = \"5\"\nstatement = \"5.0 MQTT-3.3.1-6\"\nreason = \"r\"\nevidence = \"e\"\nintermittent = true").unwrap();
    assert!(racy.deviations[0].intermittent);
    assert_eq!(p.capabilities.max_qos, Some(1));
    assert_eq!(p.capabilities_v5.topic_alias_maximum, Some(10));
    assert!(p
        .deviation("retain.clear-with-empty-payload", Protocol::V5)
        .is_some());
    assert!(p
        .deviation("retain.clear-with-empty-payload", Protocol::V3_1_1)
        .is_none());
}

const KNOCK_BASE: &str = r#"
[[deviation]]
case = "retain.clear-with-empty-payload"
protocol = "5"
statement = "5.0 MQTT-3.3.1-6"
reason = "keeps the retained message"
evidence = "PUBLISH retain=1"
[[finding]]
summary = "stray byte"
statement = "5.0 MQTT-3.14.4-1"
reproducer = "findings/x.md"
protocol = "5"
"#;

#[test]
fn knock_ons_take_the_statement_of_their_cause() {
    let text = KNOCK_BASE.to_string()
        + r#"
[[knock-on]]
case = "qos.server-packet-ids-unique-in-flight"
protocol = "5"
cause = "retain.clear-with-empty-payload"
failure = "at AtLeastOnce"
reason = "r"
evidence = "e"
[[knock-on]]
case = "aliases.client-alias-above-maximum"
protocol = "5"
cause = "findings/x.md"
failure = "packet type 0 is reserved"
reason = "r"
evidence = "e"
intermittent = true
"#;
    let p = parse(&text).unwrap();
    let k = p
        .deviation("qos.server-packet-ids-unique-in-flight", Protocol::V5)
        .unwrap();
    assert_eq!(k.statement.to_string(), "5.0 MQTT-3.3.1-6");
    assert_eq!(k.cause.as_deref(), Some("retain.clear-with-empty-payload"));
    assert!(k
        .reason
        .starts_with("knock-on of retain.clear-with-empty-payload: "));
    let f = |got: &str| crate::harness::verdict::Failure {
        expected: "\"n0\" at AtLeastOnce".into(),
        got: got.into(),
        statements: Vec::new(),
    };
    assert!(k.expects(Some(&f("PUBLISH q2"))));
    let other = crate::harness::verdict::Failure {
        expected: "something else".into(),
        got: "nothing".into(),
        statements: Vec::new(),
    };
    assert!(
        !k.expects(Some(&other)),
        "a knock-on expects only its failure"
    );
    let k = p
        .deviation("aliases.client-alias-above-maximum", Protocol::V5)
        .unwrap();
    assert_eq!(k.statement.to_string(), "5.0 MQTT-3.14.4-1");
    assert!(k.intermittent);
    assert!(
        !p.deviation("qos.server-packet-ids-unique-in-flight", Protocol::V5)
            .unwrap()
            .intermittent
    );
}

#[test]
fn bad_knock_ons_say_why() {
    let k = |case: &str, protocol: &str, cause: &str, failure: &str| {
        format!(
            "{KNOCK_BASE}[[knock-on]]\ncase = \"{case}\"\nprotocol = \"{protocol}\"\ncause = \"{cause}\"\nfailure = \"{failure}\"\nreason = \"r\"\nevidence = \"e\""
        )
    };
    for (text, want) in [
        (k("flows.nope", "5", "findings/x.md", "f"), "no such case"),
        (
            k("aliases.client-alias-above-maximum", "5", "qos.nope", "f"),
            "neither a [[deviation]]",
        ),
        (
            k(
                "aliases.client-alias-above-maximum",
                "5",
                "findings/x.md",
                " ",
            ),
            "`failure` is empty",
        ),
        (
            k(
                "qos.server-packet-ids-unique-in-flight",
                "3.1.1",
                "findings/x.md",
                "f",
            ),
            "names an MQTT 3.1.1 statement",
        ),
        (
            k("retain.clear-with-empty-payload", "5", "findings/x.md", "f"),
            "already has a deviation",
        ),
        (
            k(
                "aliases.client-alias-above-maximum",
                "6",
                "findings/x.md",
                "f",
            ),
            "protocol `6`",
        ),
    ] {
        let e = parse(&text).unwrap_err();
        assert!(e.contains(want), "{want:?} not in {e:?}");
    }
}

#[test]
fn bad_profiles_say_why() {
    let cases = [
        ("timer_slack = -1", "timer_slack = -1"),
        ("nonsense = 1", "unknown field `nonsense`"),
        ("[capabilities]\nmax_qos = 3", "max_qos = 3"),
        ("timer_slack = ", "invalid TOML"),
        (
            "[[deviation]]\ncase = \"retain.nope\"\nprotocol = \"5\"\nstatement = \"5.0 MQTT-3.3.1-6\"\nreason = \"r\"\nevidence = \"e\"",
            "no such case; cases of that area: retain.",
        ),
        (
            "[[deviation]]\ncase = \"retain.clear-with-empty-payload\"\nprotocol = \"5\"\nstatement = \"3.1.1 MQTT-3.3.1-10\"\nreason = \"r\"\nevidence = \"e\"",
            "is not a statement of MQTT 5",
        ),
        (
            "[[deviation]]\ncase = \"retain.clear-with-empty-payload\"\nprotocol = \"5\"\nstatement = \"5.0 MQTT-3.1.2-2\"\nreason = \"r\"\nevidence = \"e\"",
            "the case does not check 5.0 MQTT-3.1.2-2",
        ),
        (
            "[[deviation]]\ncase = \"retain.clear-with-empty-payload\"\nprotocol = \"6\"\nstatement = \"5.0 MQTT-3.3.1-6\"\nreason = \"r\"\nevidence = \"e\"",
            "protocol `6`",
        ),
        (
            "[[deviation]]\ncase = \"retain.clear-with-empty-payload\"\nprotocol = \"5\"\nstatement = \"5.0 MQTT-3.3.1-6\"\nreason = \" \"\nevidence = \"e\"",
            "`reason` is empty",
        ),
        (
            "[[deviation]]\ncase = \"retain.clear-with-empty-payload\"\nprotocol = \"5\"\nstatement = \"5.0 MQTT-3.3.1-6\"\nreason = \"r\"",
            "missing field `evidence`",
        ),
    ];
    for (text, want) in cases {
        let e = parse(text).unwrap_err();
        assert!(e.contains(want), "{text:?}: {e}");
    }
}

#[test]
fn findings() {
    let p = parse(
        "[[finding]]\nsummary = \" hangs \"\nstatement = \"5.0 MQTT-3.3.1-6\"\nreproducer = \"profiles/findings/x.txt\"\nprotocol = \"5.0\"\n[[finding]]\nsummary = \"crashes\"\nreproducer = \"y.txt\"\nprotocol = \"all\"",
    )
    .unwrap();
    assert_eq!(p.findings.len(), 2);
    assert!(p
        .crashing_finding("retain.clear-with-empty-payload", Protocol::V5)
        .is_none());
    let p2 = parse(
        "[[finding]]\nsummary = \"s\"\nreproducer = \"r\"\nprotocol = \"5\"\nskip_cases = [\"retain.clear-with-empty-payload\"]",
    )
    .unwrap();
    assert!(p2
        .crashing_finding("retain.clear-with-empty-payload", Protocol::V5)
        .is_some());
    assert!(p2
        .crashing_finding("retain.clear-with-empty-payload", Protocol::V3_1_1)
        .is_none());
    assert!(parse("[[finding]]\nsummary = \"s\"\nreproducer = \"r\"\nprotocol = \"5\"\nskip_cases = [\"retain.nope\"]")
        .unwrap_err()
        .contains("no such case `retain.nope`"));
    assert_eq!(p.findings[0].summary, "hangs");
    assert_eq!(p.findings[0].protocol, "5");
    assert_eq!(
        p.findings[0].statement.map(|s| s.to_string()),
        Some("5.0 MQTT-3.3.1-6".to_string())
    );
    assert_eq!(p.findings[1].statement, None);
    for (text, want) in [
        ("[[finding]]\nsummary = \"s\"\nreproducer = \"r\"\nprotocol = \"6\"", "protocol `6`"),
        ("[[finding]]\nsummary = \"s\"\nreproducer = \"r\"\nprotocol = \"3.1.1\"\nstatement = \"5.0 MQTT-3.3.1-6\"", "not a statement of MQTT 3.1.1"),
        ("[[finding]]\nsummary = \"\"\nreproducer = \"r\"\nprotocol = \"5\"", "`summary` is empty"),
        ("[[finding]]\nsummary = \"s\"\nreproducer = \"../r\"\nprotocol = \"5\"", "inside the repository"),
        ("[[finding]]\nsummary = \"s\"\nprotocol = \"5\"", "missing field `reproducer`"),
    ] {
        let e = parse(text).unwrap_err();
        assert!(e.contains(want), "{text:?}: {e}");
    }
    // Loaded from a file, the reproducer must exist (relative to the repository root).
    let dir = std::env::temp_dir().join(format!("touchstone-finding-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("profiles/findings")).unwrap();
    let profile = dir.join("profiles/b.toml");
    std::fs::write(
        &profile,
        "[[finding]]\nsummary = \"s\"\nreproducer = \"profiles/findings/t.txt\"\nprotocol = \"5\"\n",
    )
    .unwrap();
    let e = Profile::load(&profile, &[]).unwrap_err();
    assert!(e.to_string().contains("is not a file"), "{e}");
    std::fs::write(dir.join("profiles/findings/t.txt"), "transcript").unwrap();
    assert_eq!(Profile::load(&profile, &[]).unwrap().findings.len(), 1);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn missing_file() {
    let e = Profile::load(Path::new("/nonexistent/p.toml"), &[]).unwrap_err();
    assert!(e
        .to_string()
        .starts_with("profile `/nonexistent/p.toml`: cannot read"));
}

#[test]
fn a_renamed_case_answers_to_its_old_id() {
    // `conn-session.empty-client-id` became `connect.empty-client-id` when the areas were
    // regrouped by chapter: an older profile naming it keeps working.
    let p = parse(
        "[[deviation]]\ncase = \"conn-session.empty-client-id\"\nprotocol = \"5\"\nstatement = \"5.0 MQTT-3.1.3-6\"\nreason = \"r\"\nevidence = \"e\"",
    )
    .unwrap();
    assert!(p
        .deviation("connect.empty-client-id", Protocol::V5)
        .is_some());
    assert_eq!(p.deviations[0].case, "connect.empty-client-id");
}
