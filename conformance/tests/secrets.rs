//! Secrets never leave the process: a run, a fuzz campaign and a replay against a broker that
//! requires a password, in every output format; no output holds the password in plain text,
//! in hex (either case, with or without spaces) or in base64, although the transcripts show the CONNECTs that carry it
//! (masked in place) and a replay with the same password still reproduces its finding.

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use common::port;
use touchstone_broker::auth::Passwords;
use touchstone_broker::server::{Server, ServerConfig};
use touchstone_broker::Config;
use touchstone_broker::Faults;

const USER: &str = "alice";
const PASSWORD: &str = "Op3n-S3same!";

fn base64(b: &[u8]) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in b.chunks(3) {
        let n = chunk.iter().fold(0u32, |n, &x| n << 8 | u32::from(x)) << (8 * (3 - chunk.len()));
        for i in 0..=chunk.len() {
            out.push(A[(n >> (18 - 6 * i) & 63) as usize] as char);
        }
    }
    out
}

/// The forms a leaked password could take.
fn forms() -> Vec<String> {
    let hex: String = PASSWORD.bytes().map(|b| format!("{b:02x}")).collect();
    let spaced: Vec<String> = PASSWORD.bytes().map(|b| format!("{b:02x}")).collect();
    vec![
        PASSWORD.to_string(),
        hex.clone(),
        hex.to_uppercase(),
        spaced.join(" "),
        base64(PASSWORD.as_bytes()),
    ]
}

async fn touchstone(args: &[&str]) -> Output {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_touchstone"))
        .args(args)
        .env_remove("TOUCHSTONE_USERNAME")
        .env_remove("TOUCHSTONE_PASSWORD")
        .output()
        .await
        .expect("run touchstone");
    assert!(
        !String::from_utf8_lossy(&out.stderr).contains("panicked"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).expect("read dir").flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(files(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_output_holds_the_password() {
    let dir = std::env::temp_dir().join(format!("touchstone-secrets-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let mut passwords = Passwords::default();
    passwords.insert(USER, PASSWORD);
    // A broker that needs the password and breaks two rules, so that failures (with their
    // transcripts) and fuzz findings appear.
    let broker = Server::start(ServerConfig::with_broker(Config {
        allow_anonymous: false,
        passwords: Some(passwords),
        faults: Faults {
            no_pingresp: true,
            wrong_session_present: true,
            ..Faults::default()
        },
        ..Config::default()
    }))
    .await
    .expect("start the reference broker");
    let url = format!("mqtt://127.0.0.1:{}", port(&broker));
    let d = |name: &str| dir.join(name).display().to_string();
    let base = [
        "run",
        "--target",
        &url,
        "--auth-target",
        &url,
        "--username",
        USER,
        "--password",
        PASSWORD,
        "--filter",
        "connect.*",
        "--filter",
        "session.*",
        "--filter",
        "keepalive.*",
        "--filter",
        "auth.*",
    ];
    let mut outputs: Vec<(String, Vec<u8>)> = Vec::new();
    for (format, file) in [
        ("pretty", None),
        ("json", Some("reports/run.json")),
        ("junit", Some("reports/run.xml")),
        ("markdown", Some("reports/run.md")),
    ] {
        let mut args: Vec<&str> = base.to_vec();
        let path;
        args.extend(["--format", format]);
        if let Some(f) = file {
            path = d(f);
            args.extend(["--output", &path]);
        }
        let out = touchstone(&args).await;
        assert_eq!(out.status.code(), Some(1), "{format}: the faults must fail");
        outputs.push((format!("run {format} stdout"), out.stdout));
        outputs.push((format!("run {format} stderr"), out.stderr));
    }
    let json = d("reports/run.json");
    let (md, html) = (d("reports/matrix.md"), d("reports/matrix.html"));
    let out = touchstone(&["matrix", &json, "--markdown", &md, "--html", &html]).await;
    assert_eq!(out.status.code(), Some(0), "{out:?}");

    // Fuzz with the credentials: findings (no PINGRESP) are saved with the password masked.
    let findings = d("findings");
    let out = touchstone(&[
        "fuzz",
        "--target",
        &url,
        "--username",
        USER,
        "--password",
        PASSWORD,
        "--protocol",
        "3.1.1",
        "--seed",
        "7",
        "--duration",
        "4s",
        "--findings",
        &findings,
    ])
    .await;
    outputs.push(("fuzz stdout".into(), out.stdout));
    outputs.push(("fuzz stderr".into(), out.stderr));
    let saved = files(Path::new(&findings));
    assert!(
        !saved.is_empty(),
        "the fuzz run must find the missing PINGRESP"
    );
    let first = saved[0].display().to_string();
    let replay = |with_password: bool| {
        let mut args = vec!["replay", first.as_str(), "--target", url.as_str()];
        if with_password {
            args.extend(["--username", USER, "--password", PASSWORD]);
        }
        args
    };
    let out = touchstone(&replay(true)).await;
    assert_eq!(
        out.status.code(),
        Some(1),
        "the masked password is restored on replay: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    outputs.push(("replay stdout".into(), out.stdout));
    outputs.push(("replay stderr".into(), out.stderr));

    for f in files(&dir) {
        outputs.push((f.display().to_string(), std::fs::read(&f).unwrap()));
    }
    let mut masked_connects = 0;
    for (name, bytes) in &outputs {
        let text = String::from_utf8_lossy(bytes);
        for form in forms() {
            assert!(
                !text.contains(&form),
                "{name} holds the password as {form:?}"
            );
        }
        masked_connects += text.matches("2a2a2a2a2a2a2a2a2a2a2a2a").count();
    }
    // The transcripts do show the CONNECTs, with the password masked in place.
    assert!(masked_connects > 10, "{masked_connects} masked passwords");
    broker.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}
