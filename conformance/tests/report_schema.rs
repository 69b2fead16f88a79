//! The JSON report has one schema: the serde types of `report::schema`, written and read by the
//! same code, and `conformance/report.schema.json` generated from them. The checked-in file is
//! current, real reports validate against it, a report read back is the report written, and
//! older reports still read.
//! (`TOUCHSTONE_UPDATE_SCHEMA=1` rewrites the file.)

use std::path::Path;
use std::process::Command;

use serde_json::Value;
use touchstone_conformance::report::schema::{json_schema, JsonReport};

fn schema_path() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("report.schema.json")
}

#[test]
fn the_checked_in_schema_is_current() {
    let generated = json_schema();
    if std::env::var_os("TOUCHSTONE_UPDATE_SCHEMA").is_some() {
        std::fs::write(schema_path(), &generated).unwrap();
    }
    let file = std::fs::read_to_string(schema_path()).unwrap_or_default();
    assert!(
        file == generated,
        "conformance/report.schema.json is out of date with report::schema: run \
         TOUCHSTONE_UPDATE_SCHEMA=1 cargo test -p touchstone-conformance --test report_schema"
    );
}

fn validator() -> jsonschema::Validator {
    let schema: Value = serde_json::from_str(&json_schema()).unwrap();
    jsonschema::validator_for(&schema).expect("a valid JSON Schema")
}

fn check(name: &str, report: &Value) {
    let v = validator();
    let errors: Vec<String> = v
        .iter_errors(report)
        .take(5)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{name}: {errors:#?}");
}

#[test]
fn a_real_report_validates_and_reads_back_as_written() {
    let out = Command::new(env!("CARGO_BIN_EXE_touchstone"))
        .args([
            "run",
            "--filter",
            "connect.*",
            "--filter",
            "auth.*",
            "--format",
            "json",
        ])
        .env_remove("TOUCHSTONE_USERNAME")
        .env_remove("TOUCHSTONE_PASSWORD")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let value: Value = serde_json::from_slice(&out.stdout).unwrap();
    check("touchstone run --format json", &value);
    // Typed both ways: what is read is what was written.
    let typed: JsonReport = serde_json::from_value(value.clone()).unwrap();
    assert_eq!(serde_json::to_value(&typed).unwrap(), value);
    assert_eq!(typed.status.map(|s| s.exit_code()), Some(0));
    assert!(typed.cases.iter().any(|c| !c.transcript.is_empty()));
}

#[test]
fn older_reports_still_read() {
    // Reports written before this schema (no format, status; `auth` for `authentication`) are
    // read by the same types; the schema describes what this version writes.
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/matrix");
    let mut n = 0;
    for e in std::fs::read_dir(&dir).unwrap().flatten() {
        let p = e.path();
        if p.extension().is_some_and(|x| x == "json") {
            let text = std::fs::read_to_string(&p).unwrap();
            let r: JsonReport =
                serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            assert!(!r.cases.is_empty());
            n += 1;
        }
    }
    assert!(n > 0, "no fixture in {}", dir.display());
}

#[test]
fn a_broken_report_does_not_validate() {
    let mut bad: Value = serde_json::json!({"target": "mqtt://h", "cases": [{"id": "x", "protocol": "5", "outcome": "maybe"}]});
    assert!(!validator().is_valid(&bad));
    bad["cases"][0]["outcome"] = "pass".into();
    assert!(validator().is_valid(&bad));
}
