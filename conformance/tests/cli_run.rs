//! `touchstone run`, `list` and `coverage` as a process; the whole catalogue against Mosquitto
//! with its profile (skipped without the `mosquitto` binary unless
//! `TOUCHSTONE_REQUIRE_MOSQUITTO` is set).

mod common;

use std::process::{Command, Output, Stdio};

use common::mosquitto;
use serde_json::Value;

fn touchstone(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_touchstone"));
    cmd.args(args)
        .env_remove("TOUCHSTONE_USERNAME")
        .env_remove("TOUCHSTONE_PASSWORD")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run touchstone");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stderr.contains("panicked"),
        "touchstone panicked: {stderr}"
    );
    out
}

fn code(out: &Output) -> i32 {
    out.status.code().expect("exit code")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn run_without_a_target_tests_the_embedded_reference_broker() {
    let out = touchstone(&["run", "--format", "json"], &[]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}{}", text(&out.stdout), text(&out.stderr)));
    let cases = report["cases"].as_array().expect("cases");
    assert!(cases.len() > 20, "{} cases", cases.len());
    let bad: Vec<_> = cases
        .iter()
        .filter(|c| !matches!(c["outcome"].as_str(), Some("pass" | "skip")))
        .map(|c| format!("{} {} {}", c["id"], c["protocol"], c["outcome"]))
        .collect();
    assert!(
        bad.is_empty(),
        "the reference broker must pass every case: {bad:?}"
    );
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
}

#[test]
fn bad_run_flags_are_usage_errors() {
    for (args, want) in [
        (vec!["run", "--target", "localhost:1883"], "has no scheme"),
        (
            vec!["run", "--target", "mqtt://h", "--protocol", "7"],
            "--protocol",
        ),
        (
            vec!["run", "--target", "mqtt://h", "--filter", "no-such-case"],
            "no case matches",
        ),
        (
            vec![
                "run",
                "--target",
                "mqtt://h",
                "--profile",
                "/nonexistent.toml",
            ],
            "cannot read",
        ),
        (
            vec!["run", "--target", "mqtt://h", "--cert", "c.pem"],
            "need an mqtts://",
        ),
        (
            vec!["run", "--target", "mqtts://h", "--cert", "c.pem"],
            "--cert and --key go together",
        ),
    ] {
        let out = touchstone(&args, &[]);
        assert_eq!(code(&out), 2, "{args:?}");
        assert!(
            text(&out.stderr).contains(want),
            "{args:?}: {}",
            text(&out.stderr)
        );
    }
}

#[test]
fn unreachable_target_is_unavailable_not_an_error_per_case() {
    // A port nothing listens on: no case runs, quickly, and the run says why (exit 3).
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let target = format!("mqtt://127.0.0.1:{port}");
    let out = touchstone(
        &[
            "run", "--target", &target, "--filter", "qos.qos0", "--format", "json",
        ],
        &[],
    );
    assert_eq!(code(&out), 3);
    let report: Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    assert_eq!(report["status"], "target_unavailable");
    assert!(report["unavailable"]
        .as_str()
        .unwrap()
        .contains("cannot connect"));
    for c in report["cases"].as_array().unwrap() {
        assert_eq!(c["outcome"], "not_run", "{c}");
    }
}

#[test]
fn the_plan_says_what_each_case_would_do_without_running_any() {
    // The embedded broker offers everything but a finding-free profile: every case runs.
    let out = touchstone(
        &["run", "--plan", "--filter", "retain.store", "-p", "5"],
        &[],
    );
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("run   retain.store-and-deliver  5"),
        "{stdout}"
    );
    assert!(stdout.contains("1 case runs: 1 to run"), "{stdout}");
    // A profile without retained messages: the plan skips, with the reason; JSON says the same.
    let profile = std::env::temp_dir().join(format!("ts-plan-{}.toml", std::process::id()));
    std::fs::write(&profile, "[capabilities]\nretain = false\n").unwrap();
    let out = touchstone(
        &[
            "run",
            "--plan",
            "--filter",
            "retain.store",
            "-p",
            "5",
            "--format",
            "json",
            "--profile",
            profile.to_str().unwrap(),
        ],
        &[],
    );
    let _ = std::fs::remove_file(&profile);
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    let plan: Value = serde_json::from_slice(&out.stdout).expect("JSON plan");
    let case = &plan["cases"][0];
    assert_eq!(case["id"], "retain.store-and-deliver");
    assert_eq!(case["action"], "skip");
    assert!(
        case["reason"].as_str().unwrap().contains("retain"),
        "{case}"
    );
    // A report format the plan does not come in: a usage error, before anything connects.
    let out = touchstone(&["run", "--plan", "--format", "junit"], &[]);
    assert_eq!(code(&out), 2);
    assert!(
        text(&out.stderr).contains("--plan prints the plan as text"),
        "{}",
        text(&out.stderr)
    );
    // No target to plan against: exit 3, nothing on standard output.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let out = touchstone(
        &[
            "run",
            "--plan",
            "--target",
            &format!("mqtt://127.0.0.1:{port}"),
        ],
        &[],
    );
    assert_eq!(code(&out), 3);
    assert!(out.stdout.is_empty());
    assert!(
        text(&out.stderr).contains("no plan"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn a_hanging_target_is_unavailable_not_a_hung_run() {
    // Accepts connections and never answers.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for s in listener.incoming().flatten() {
            held.push(s);
        }
    });
    let target = format!("mqtt://127.0.0.1:{port}");
    let started = std::time::Instant::now();
    let out = touchstone(
        &[
            "run", "--target", &target, "--filter", "retain", "--format", "json",
        ],
        &[],
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(30));
    assert_eq!(code(&out), 3);
    let report: Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    for c in report["cases"].as_array().unwrap() {
        assert_eq!(c["outcome"], "not_run", "{c}");
    }
}

#[test]
fn list_with_a_filter_that_selects_nothing_exits_2_as_run_does() {
    let out = touchstone(&["list", "--filter", "no-such-case"], &[]);
    assert_eq!(code(&out), 2);
    assert!(String::from_utf8_lossy(&out.stdout).contains("0 cases"));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no case matches --filter"));
    let out = touchstone(&["list", "--filter", "connect"], &[]);
    assert_eq!(code(&out), 0);
}

#[test]
fn list_json_has_the_documented_shape() {
    let out = touchstone(&["list", "--format", "json"], &[]);
    assert_eq!(code(&out), 0);
    let cases: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let cases = cases.as_array().expect("array");
    assert!(cases.len() >= 15);
    for c in cases {
        assert!(c["id"].as_str().is_some_and(|s| s.contains('.')), "{c}");
        assert!(c["title"].is_string(), "{c}");
        assert!(
            c["protocols"].as_array().is_some_and(|p| !p.is_empty()),
            "{c}"
        );
        assert!(c["requires"].is_array(), "{c}");
        for s in c["statements"].as_array().unwrap() {
            assert!(
                matches!(s["version"].as_str(), Some("3.1.1" | "5.0")),
                "{c}"
            );
            assert!(s["id"].as_str().unwrap().starts_with("MQTT-"), "{c}");
        }
    }
}

#[test]
fn coverage_reports_both_versions() {
    let out = touchstone(&["coverage"], &[]);
    assert_eq!(code(&out), 0);
    let t = text(&out.stdout);
    assert!(
        t.contains("MQTT 3.1.1:") && t.contains("of 92 broker-wire"),
        "{t}"
    );
    assert!(
        t.contains("MQTT 5.0:") && t.contains("of 193 broker-wire"),
        "{t}"
    );
    let out = touchstone(&["coverage", "--format", "json"], &[]);
    let v: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(v.as_array().unwrap().len(), 2);
    assert!(v[0]["unchecked"].is_array());
}

/// The whole catalogue, both versions, against Mosquitto with profiles/mosquitto.toml: green,
/// and the JSON report is the full record.
#[test]
fn the_catalogue_is_green_on_mosquitto_with_its_profile() {
    let Some(m) = mosquitto::start("cli-run") else {
        return;
    };
    let dir = std::env::temp_dir().join(format!("touchstone-cli-run-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let json_path = dir.join("report.json");
    let profile = concat!(env!("CARGO_MANIFEST_DIR"), "/../profiles/mosquitto.toml");
    let target = format!("mqtt://127.0.0.1:{}", m.port);
    let auth = format!("mqtt://127.0.0.1:{}", m.auth_port);
    let out = touchstone(
        &[
            "run",
            "--target",
            &target,
            "--auth-target",
            &auth,
            "--profile",
            profile,
            "--format",
            "json",
            "--output",
            json_path.to_str().unwrap(),
        ],
        &[
            ("TOUCHSTONE_USERNAME", mosquitto::USER),
            ("TOUCHSTONE_PASSWORD", mosquitto::PASSWORD),
        ],
    );
    let pretty = text(&out.stdout);
    assert_eq!(code(&out), 0, "{pretty}\n{}", text(&out.stderr));
    assert!(pretty.contains("— OK"), "{pretty}");
    let report: Value =
        serde_json::from_slice(&std::fs::read(&json_path).unwrap()).expect("JSON report");
    let cases = report["cases"].as_array().unwrap();
    let catalogue = touchstone_conformance::cases::catalogue();
    let runs: usize = catalogue.iter().map(|c| c.protocols.len()).sum();
    assert_eq!(cases.len(), runs);
    let mut received = 0;
    for c in cases {
        // A skip says why (e.g. Mosquitto has no SCRAM, and its WebSocket listener is not
        // used: it binds to all interfaces, see scripts/brokers/mosquitto.sh).
        let skipped =
            c["outcome"] == "skip" && c["message"].as_str().is_some_and(|m| !m.is_empty());
        // A SHOULD not followed (Mosquitto closes without the DISCONNECT of 5.0 section
        // 4.13.1) is shown apart and names what it fell short of.
        let short = c["outcome"] == "should_fail"
            && c["shortfalls"].as_array().is_some_and(|s| !s.is_empty());
        assert!(
            matches!(c["outcome"].as_str(), Some("pass" | "expected_fail")) || skipped || short,
            "{c}"
        );
        assert!(matches!(c["protocol"].as_str(), Some("3.1.1" | "5")));
        if c["outcome"] == "skip" {
            continue;
        }
        let transcript = c["transcript"].as_array().unwrap();
        assert!(!transcript.is_empty(), "{}", c["id"]);
        // Some cases legitimately receive nothing (the broker must close without answering),
        // so received packets are required of the record as a whole, not of every case.
        received += transcript
            .iter()
            .filter(|e| e["dir"] == "recv" && !e["hex"].as_str().unwrap().is_empty())
            .count();
        // Decoded packets, or a note saying why raw bytes are not one.
        assert!(
            transcript
                .iter()
                .all(|e| e["packet"].is_object() || e["note"].is_string()),
            "{}",
            c["id"]
        );
        assert!(c["rerun"].as_str().unwrap().contains("--exact"));
    }
    assert!(received > 0, "no case received anything from Mosquitto");
    assert_eq!(report["summary"]["ok"], true);
    assert_eq!(report["capabilities"]["5"]["max_qos"], 2);

    // JUnit and Markdown of a small run.
    for (format, marker) in [("junit", "<testsuites"), ("markdown", "| Case |")] {
        let out = touchstone(
            &[
                "run", "--target", &target, "--filter", "qos.qos0", "--format", format,
            ],
            &[],
        );
        assert_eq!(code(&out), 0, "{format}: {}", text(&out.stderr));
        assert!(
            text(&out.stdout).contains(marker),
            "{format}: {}",
            text(&out.stdout)
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
