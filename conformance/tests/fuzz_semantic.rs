//! `touchstone fuzz --semantic` can fail and does not fail a correct broker: against the
//! in-process reference broker its scenarios find no divergence; with one fault switched on it
//! finds the fault and cites the statement the fault breaks; the saved reproducer replays as
//! reproducing (exit 1) against the faulty broker and not (exit 0) against the correct one.

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use common::port;
use touchstone_broker::server::{RunningServer, Server, ServerConfig};
use touchstone_broker::Faults;
use touchstone_codec::Protocol;
use touchstone_conformance::fuzz::semantic::{self, SemanticConfig, SemanticSummary, Settings};
use touchstone_conformance::net::target::Target;
use touchstone_conformance::net::tls::TlsOptions;
use touchstone_conformance::net::transport::Connector;

async fn broker(faults: Faults) -> RunningServer {
    let mut config = ServerConfig::default();
    config.broker.faults = faults;
    Server::start(config)
        .await
        .expect("start the reference broker")
}

fn config(
    port: u16,
    seed: u64,
    protocols: &[Protocol],
    scenarios: u64,
    findings: &Path,
    parallel: usize,
) -> SemanticConfig {
    let target = Target::parse(&format!("mqtt://127.0.0.1:{port}")).expect("target");
    SemanticConfig {
        settings: Settings {
            connector: Connector::new(target, &TlsOptions::default()).expect("connector"),
            deadline: Duration::from_secs(2),
            quiet: Duration::from_millis(40),
            username: None,
            password: None,
            limits: Default::default(),
        },
        protocols: protocols.to_vec(),
        seed,
        duration: Duration::from_secs(90),
        max_scenarios: Some(scenarios),
        parallel,
        findings_dir: findings.to_path_buf(),
        shrink: (24, Duration::from_secs(8)),
        target_label: format!("reference broker :{port}"),
        known: vec![],
    }
}

fn dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("touchstone-semantic-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

async fn fuzz(
    port: u16,
    seed: u64,
    protocols: &[Protocol],
    scenarios: u64,
    findings: &Path,
    parallel: usize,
) -> SemanticSummary {
    let cfg = config(port, seed, protocols, scenarios, findings, parallel);
    semantic::run(&cfg, &|_, _| {}).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_correct_reference_broker_shows_no_divergence() {
    let b = broker(Faults::default()).await;
    let d = dir("correct");
    // 640 scenarios, 64 at a time: also shows that scenarios run side by side cannot see
    // each other.
    let s = fuzz(port(&b), 77, &[Protocol::V3_1_1, Protocol::V5], 640, &d, 64).await;
    assert_eq!(s.scenarios, 640);
    assert_eq!(s.unusable, 0, "{:?}", s.unusable_reason);
    assert!(s.ops > 640 * 8, "{} operations", s.ops);
    assert!(s.findings.is_empty(), "{:#?}", s.findings);
    b.shutdown().await;
}

/// Each fault of the reference broker that changes what clients receive is found, citing the
/// statement it breaks for that version.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_routing_fault_is_found_with_its_statement() {
    let v311 = &[Protocol::V3_1_1][..];
    let v5 = &[Protocol::V5][..];
    let cases: Vec<(&str, Faults, &[Protocol], &str)> = vec![
        (
            "no-local",
            Faults {
                ignore_no_local: true,
                ..Faults::default()
            },
            v5,
            "5.0 MQTT-3.8.3-3",
        ),
        (
            "retain-flag",
            Faults {
                forward_retain_flag: true,
                ..Faults::default()
            },
            v311,
            "3.1.1 MQTT-3.3.1-9",
        ),
        (
            "publish-qos",
            Faults {
                deliver_at_publish_qos: true,
                ..Faults::default()
            },
            v311,
            "3.1.1 MQTT-3.8.4-6",
        ),
        (
            "retain-store",
            Faults {
                no_retain_store: true,
                ..Faults::default()
            },
            v311,
            "3.1.1 MQTT-3.3.1-6",
        ),
        (
            "user-properties",
            Faults {
                drop_user_properties: true,
                ..Faults::default()
            },
            v5,
            "5.0 MQTT-3.3.2-17",
        ),
        (
            "user-property-order",
            Faults {
                reorder_user_properties: true,
                ..Faults::default()
            },
            v5,
            "5.0 MQTT-3.3.2-18",
        ),
        (
            "subscription-ids",
            Faults {
                drop_subscription_identifiers: true,
                ..Faults::default()
            },
            v5,
            "5.0 MQTT-3.3.4-3",
        ),
        (
            "session-present",
            Faults {
                wrong_session_present: true,
                ..Faults::default()
            },
            v311,
            "3.1.1 MQTT-3.2.2-",
        ),
        (
            "no-will",
            Faults {
                no_will_on_abrupt_close: true,
                ..Faults::default()
            },
            v311,
            "3.1.1 MQTT-3.1.2-8",
        ),
        (
            "will-after-disconnect",
            Faults {
                will_after_disconnect: true,
                ..Faults::default()
            },
            v311,
            "3.1.1 MQTT-3.1.2-10",
        ),
        (
            "retained-unflagged",
            Faults {
                retained_without_retain_flag: true,
                ..Faults::default()
            },
            v311,
            "3.1.1 MQTT-3.3.1-8",
        ),
    ];
    // All at once (each against its own broker), each until the first divergence.
    let runs = cases
        .into_iter()
        .map(|(name, faults, protocols, want)| async move {
            let b = broker(faults).await;
            let settings = config(port(&b), 5, protocols, 40, &dir(name), 1).settings;
            let mut seen = Vec::new();
            for n in 0..40 {
                let p = protocols[0];
                let ops = semantic::scenario::generate(5, n, p.is_v5());
                let ex = semantic::execute(&settings, p, &ops).await;
                if let Some(d) = ex.divergence {
                    let cites: Vec<String> = d.statements.iter().map(|x| x.to_string()).collect();
                    if cites.iter().any(|c| c.starts_with(want)) {
                        b.shutdown().await;
                        return Ok(());
                    }
                    seen.push(cites);
                }
            }
            b.shutdown().await;
            Err(format!(
                "{name}: no divergence citing {want} in 40 scenarios; saw {seen:?}"
            ))
        });
    let results = futures_util::future::join_all(runs).await;
    let failed: Vec<String> = results.into_iter().filter_map(Result::err).collect();
    assert!(failed.is_empty(), "{failed:#?}");
}

async fn replay(file: &Path, port: u16) -> (i32, String) {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_touchstone"));
    cmd.arg("replay")
        .arg(file)
        .args(["--target", &format!("mqtt://127.0.0.1:{port}")]);
    let out = tokio::time::timeout(Duration::from_secs(60), cmd.output())
        .await
        .expect("replay finishes")
        .expect("run touchstone replay");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(!String::from_utf8_lossy(&out.stderr).contains("panicked"));
    (out.status.code().expect("exit code"), stdout)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_saved_divergence_replays_against_the_faulty_broker_only() {
    let faulty = broker(Faults {
        ignore_no_local: true,
        ..Faults::default()
    })
    .await;
    let d = dir("replay");
    let s = fuzz(port(&faulty), 5, &[Protocol::V5], 12, &d, 4).await;
    let found = s.findings.first().expect("a divergence");
    let file = found.file.clone().expect("saved");
    assert!(found.ops.0 <= found.ops.1, "{found:?}");
    let text = std::fs::read_to_string(&file).expect("read the file");
    assert!(text.contains("touchstone-semantic-finding/1"), "{text}");
    let (code, out) = replay(&file, port(&faulty)).await;
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("REPRODUCES"), "{out}");
    faulty.shutdown().await;
    let correct = broker(Faults::default()).await;
    let (code, out) = replay(&file, port(&correct)).await;
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("does not reproduce"), "{out}");
    correct.shutdown().await;
    let _ = std::fs::remove_dir_all(&d);
}
