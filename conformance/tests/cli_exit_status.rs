//! Infrastructure is not conformance: `touchstone run` against targets that cannot be tested
//! (nothing listening, refused credentials, a silent port, an HTTP port, a target that dies
//! mid-run) ends with one paragraph and exit status 3; a 3.1.1-only target is tested for 3.1.1
//! with its 5.0 cases skipped for one reason; Ctrl-C ends with a partial report and exit 130;
//! a report that cannot be written fails before the run.

mod common;

use std::process::Output;
use std::time::Duration;

use common::port;
use common::proxy::{self, alter, Dir};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use touchstone_broker::auth::Passwords;
use touchstone_broker::server::{Server, ServerConfig};
use touchstone_broker::Config;
use touchstone_codec::Protocol;

fn command(args: &[&str]) -> tokio::process::Command {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_touchstone"));
    cmd.args(args)
        .env_remove("TOUCHSTONE_USERNAME")
        .env_remove("TOUCHSTONE_PASSWORD")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    cmd
}

async fn touchstone(args: &[&str]) -> Output {
    let out = command(args).output().await.expect("run touchstone");
    assert!(
        !String::from_utf8_lossy(&out.stderr).contains("panicked"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn tmp(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("touchstone-exit-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

/// A reference broker that requires user `alice` with password `right-password`.
async fn alice_broker() -> touchstone_broker::server::RunningServer {
    let mut passwords = Passwords::default();
    passwords.insert("alice", "right-password");
    Server::start(ServerConfig::with_broker(Config {
        allow_anonymous: false,
        passwords: Some(passwords),
        ..Config::default()
    }))
    .await
    .unwrap()
}

/// An unusable target: exit 3, the cause in a short output, the cause in the JSON report too.
async fn unavailable(url: &str, extra: &[&str], cause: &str) {
    let mut args = vec!["run", "--target", url];
    args.extend_from_slice(extra);
    let out = touchstone(&args).await;
    let stdout = text(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(3),
        "{url}: {stdout}{}",
        text(&out.stderr)
    );
    assert!(stdout.contains(cause), "{url}: {stdout}");
    assert!(
        stdout.lines().count() < 12,
        "one paragraph, not a line per case: {stdout}"
    );
    assert!(!stdout.contains("ERROR"), "{stdout}");
    args.extend(["--format", "json"]);
    let out = touchstone(&args).await;
    let report: Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    assert_eq!(report["status"], "target_unavailable");
    assert!(report["unavailable"].as_str().unwrap().contains(cause));
    assert!(
        text(&out.stderr).contains("TARGET UNAVAILABLE"),
        "the log says it"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unusable_targets_are_exit_3_with_the_cause() {
    // Nothing listening.
    let free = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let dead = free.local_addr().unwrap().port();
    drop(free);
    unavailable(
        &format!("mqtt://127.0.0.1:{dead}"),
        &[],
        "Nothing listens there",
    )
    .await;

    // A port that accepts and never answers; one that answers HTTP.
    let silent = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let silent_port = silent.local_addr().unwrap().port();
    let http = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let http_port = http.local_addr().unwrap().port();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((c, _)) = silent.accept().await {
            held.push(c);
        }
    });
    tokio::spawn(async move {
        while let Ok((mut c, _)) = http.accept().await {
            tokio::spawn(async move {
                let mut b = [0u8; 64];
                let _ = c.read(&mut b).await;
                let _ = c
                    .write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
                    .await;
            });
        }
    });
    unavailable(
        &format!("mqtt://127.0.0.1:{silent_port}"),
        &["--protocol", "5"],
        "sent nothing within",
    )
    .await;
    unavailable(&format!("mqtt://127.0.0.1:{http_port}"), &[], "HTTP port").await;

    // Credentials refused, and none given to a broker that needs them.
    let broker = alice_broker().await;
    let url = format!("mqtt://127.0.0.1:{}", port(&broker));
    unavailable(
        &url,
        &["--username", "alice", "--password", "wrong-password"],
        "refused the credentials",
    )
    .await;
    unavailable(&url, &[], "needs credentials").await;
    // With the right ones, the target is also the authentication listener.
    let out = touchstone(&[
        "run",
        "--target",
        &url,
        "--username",
        "alice",
        "--password",
        "right-password",
        "--filter",
        "connect.bad-password-refused",
    ])
    .await;
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("it is the authentication listener too"),
        "{stdout}"
    );
    assert!(
        !stdout.contains("skip "),
        "the authentication case ran: {stdout}"
    );
    broker.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_3_1_1_only_target_is_tested_for_3_1_1_and_its_5_0_cases_skipped_once() {
    let broker = Server::start(ServerConfig::default()).await.unwrap();
    // Every 5.0 CONNECT reaches the broker as protocol level 6, which it answers as a 3.1.1
    // server answers a 5.0 CONNECT: CONNACK 0x01 in the 3.1.1 format, then the close.
    let proxy = proxy::start(
        port(&broker),
        alter(|dir, protocol, p| {
            let mut p = p.to_vec();
            if dir == Dir::ToBroker && protocol == Protocol::V5 && p[0] == 0x10 {
                if let Some(level) = p.iter().position(|&b| b == 5) {
                    p[level] = 6;
                }
            }
            vec![p]
        }),
    )
    .await;
    let url = format!("mqtt://127.0.0.1:{}", proxy.port);
    let out = touchstone(&["run", "--target", &url, "--filter", "connect.*"]).await;
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("MQTT 5: not spoken by the target (answered an MQTT 5 CONNECT with the 3.1.1 CONNACK 0x01"),
        "{stdout}"
    );
    assert!(!stdout.contains("malformed"), "{stdout}");
    assert!(!stdout.contains("ERROR"), "{stdout}");
    // Asked for by name, a version the target lacks is a set-up error, with the way out.
    let out = touchstone(&["run", "--target", &url, "--protocol", "5"]).await;
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(3), "{stdout}");
    assert!(stdout.contains("does not speak MQTT 5"), "{stdout}");
    broker.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_target_that_dies_mid_run_stops_the_run_with_a_partial_report() {
    let broker = Server::start(ServerConfig::default()).await.unwrap();
    let url = format!("mqtt://127.0.0.1:{}", port(&broker));
    let dir = tmp("dies");
    let report = dir.join("r.json");
    let child = command(&[
        "run",
        "--target",
        &url,
        "--jobs",
        "2",
        "--output",
        report.to_str().unwrap(),
        "--format",
        "json",
    ])
    .spawn()
    .unwrap();
    tokio::time::sleep(Duration::from_secs(2)).await;
    broker.shutdown().await;
    let out = tokio::time::timeout(Duration::from_secs(90), child.wait_with_output())
        .await
        .expect("the run ends early")
        .unwrap();
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(3), "{stdout}");
    assert!(stdout.contains("stopped answering"), "{stdout}");
    let r: Value = serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert_eq!(r["status"], "target_unavailable");
    let outcomes: Vec<&str> = r["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["outcome"].as_str().unwrap())
        .collect();
    assert!(
        outcomes.contains(&"pass"),
        "cases before the death are kept"
    );
    assert!(outcomes.contains(&"not_run"), "cases after it are not run");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupted_run_writes_a_partial_report_and_exits_130() {
    let dir = tmp("interrupt");
    let report = dir.join("nested/r.xml");
    let child = command(&[
        "run",
        "--jobs",
        "2",
        "--format",
        "junit",
        "--output",
        report.to_str().unwrap(),
    ])
    .spawn()
    .unwrap();
    let pid = child.id().unwrap().to_string();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let kill = std::process::Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .unwrap();
    assert!(kill.success());
    let out = tokio::time::timeout(Duration::from_secs(60), child.wait_with_output())
        .await
        .expect("the run stops")
        .unwrap();
    assert_eq!(out.status.code(), Some(130), "{}", text(&out.stderr));
    let xml = std::fs::read_to_string(&report).expect("a partial JUnit report");
    assert!(xml.contains("type=\"not_run\""), "{xml}");
    assert!(
        xml.contains("name=\"status\" value=\"interrupted\""),
        "{xml}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unwritable_report_fails_before_the_run() {
    let dir = tmp("unwritable");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("a-file");
    std::fs::write(&file, "").unwrap();
    // A folder cannot be made under a file.
    let under = file.join("r.json");
    let started = std::time::Instant::now();
    let out = touchstone(&["run", "--output", under.to_str().unwrap()]).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("--output"),
        "{}",
        text(&out.stderr)
    );
    assert!(started.elapsed() < Duration::from_secs(5), "no case ran");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn junit_is_what_ci_dashboards_read() {
    // A broker that closes on a PUBREL for an unknown packet id (5.0 MQTT-4.3.3-11), a profile
    // that knows it, and one stale entry for a case that passes.
    let broker = Server::start(ServerConfig::default()).await.unwrap();
    broker.set_faults(touchstone_broker::Faults {
        close_on_unknown_pubrel: true,
        ..touchstone_broker::Faults::default()
    });
    let dir = tmp("junit");
    std::fs::create_dir_all(&dir).unwrap();
    let profile = dir.join("p.toml");
    std::fs::write(
        &profile,
        r#"
name = "Faulty broker"
[[deviation]]
case = "qos.pubrel-unknown-id-answered"
protocol = "5"
statement = "5.0 MQTT-4.3.3-11"
reason = "closes the connection on a PUBREL for an unknown packet id"
evidence = "PUBREL id 4242, then the connection closed"

[[deviation]]
case = "qos.qos0-round-trip"
protocol = "3.1.1"
statement = "3.1.1 MQTT-4.3.1-1"
reason = "stale: the broker was fixed"
evidence = "none"
"#,
    )
    .unwrap();
    let xml = dir.join("out/junit.xml");
    let url = format!("mqtt://127.0.0.1:{}", port(&broker));
    let out = touchstone(&[
        "run",
        "--target",
        &url,
        "--profile",
        profile.to_str().unwrap(),
        "--filter",
        "qos.pubrel-unknown-id-answered",
        "--filter",
        "qos.qos0-round-trip",
        "--filter",
        "auth.scram-exchange",
        "--junit",
        xml.to_str().unwrap(),
    ])
    .await;
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    let x = std::fs::read_to_string(&xml).unwrap();
    let port = port(&broker).to_string();
    for name in x
        .split("<testsuite name=\"")
        .skip(1)
        .chain(x.split("classname=\"").skip(1))
    {
        let name = &name[..name.find('"').unwrap()];
        assert!(
            !name.contains(&port),
            "no port in suite or class names: {name}"
        );
    }
    assert!(
        x.contains("<testsuite name=\"Faulty broker MQTT 5.0\""),
        "{x}"
    );
    assert!(x.contains("classname=\"mqtt5.qos\""), "{x}");
    // The known deviation: skipped as xfail, with the deviation and its evidence.
    assert!(
        x.contains("<skipped message=\"known deviation from 5.0 MQTT-4.3.3-11: closes the connection on a PUBREL for an unknown packet id\" type=\"xfail\">"),
        "{x}"
    );
    assert!(
        x.contains("PUBREL id 4242, then the connection closed"),
        "{x}"
    );
    assert!(
        x.contains("name=\"outcome\" value=\"expected_fail\""),
        "{x}"
    );
    // The stale entry: a failure.
    assert!(x.contains("type=\"unexpected_pass\""), "{x}");
    // The case without an authentication listener: skipped, and counted as such.
    assert!(x.contains("skipped=\""), "{x}");
    assert!(
        !x.contains("skipped=\"0\"") || x.matches("skipped=\"").count() > 1,
        "{x}"
    );
    // Suites carry their time and start.
    let suites: Vec<&str> = x.split("<testsuite ").skip(1).collect();
    assert_eq!(suites.len(), 2, "{x}");
    for s in suites {
        let head = &s[..s.find('>').unwrap()];
        assert!(
            head.contains(" time=\"") && head.contains(" timestamp=\""),
            "{head}"
        );
        assert!(head.contains("disabled=\"0\""), "{head}");
    }
    broker.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn off_a_terminal_each_case_is_a_line_as_it_finishes() {
    let out = touchstone(&["run", "--filter", "connect.second-connect-closes"]).await;
    assert_eq!(out.status.code(), Some(0));
    let err = text(&out.stderr);
    assert!(err.contains("touchstone: 2 case runs"), "{err}");
    assert!(err.contains("[1/2] pass"), "{err}");
    assert!(err.contains("[2/2] pass"), "{err}");
    // With a machine format on standard output, the verdict still reaches the log.
    let out = touchstone(&[
        "run",
        "--filter",
        "connect.second-connect-closes",
        "--format",
        "json",
        "--quiet",
    ])
    .await;
    let err = text(&out.stderr);
    assert!(!err.contains("[1/2]"), "--quiet: {err}");
    assert!(err.contains("2 runs: 2 pass"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_target_that_takes_any_password_is_not_an_authentication_listener() {
    // As ejabberd's anonymous login: a CONNECT needs a user name and password, but any password
    // will do (the proxy puts the right one into every CONNECT that has one).
    let broker = alice_broker().await;
    let proxy = proxy::start(
        port(&broker),
        alter(|dir, protocol, p| {
            if dir == Dir::ToBroker && p[0] == 0x10 {
                if let Ok((touchstone_codec::Packet::Connect(mut c), _)) =
                    touchstone_codec::decode_slice(protocol, p)
                {
                    if c.password.is_some() {
                        c.password = Some(bytes::Bytes::from_static(b"right-password"));
                        let mut buf = bytes::BytesMut::new();
                        touchstone_codec::Packet::Connect(c).encode_unchecked(protocol, &mut buf);
                        return vec![buf.to_vec()];
                    }
                }
            }
            vec![p.to_vec()]
        }),
    )
    .await;
    let url = format!("mqtt://127.0.0.1:{}", proxy.port);
    let out = touchstone(&[
        "run",
        "--target",
        &url,
        "--username",
        "alice",
        "--password",
        "anything",
        "--filter",
        "connect.bad-password-refused",
    ])
    .await;
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("accepts a wrong password"), "{stdout}");
    assert!(
        stdout.contains("needs an authentication listener"),
        "the case skips: {stdout}"
    );
    broker.shutdown().await;
}
