//! `touchstone matrix`: the Markdown of the fixture reports (insta snapshot), the command's
//! errors and files, and the HTML page rendered by headless Chromium (skipped without
//! Chromium unless `TOUCHSTONE_REQUIRE_CHROMIUM` is set).
//!
//! Fixtures (tests/fixtures/matrix/): the reference broker (everything passes, both versions);
//! "Alpha MQTT" as two reports merged into one column (a 3.1.1 run and a 5.0 run on separate
//! listeners) with a skip, an error, a fail, an expected fail with its deviation, and a finding;
//! "Beta Broker", an older report without "broker" (named by its profile), 3.1.1 only, with an
//! unexpected pass.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use touchstone_conformance::report::matrix::{html, markdown, Matrix, RenderOptions};

const FIXTURES: [&str; 4] = [
    "tests/fixtures/matrix/reference.json",
    "tests/fixtures/matrix/alpha.json",
    "tests/fixtures/matrix/alpha-5.json",
    "tests/fixtures/matrix/beta.json",
];

fn fixtures() -> Matrix {
    let paths: Vec<PathBuf> = FIXTURES.iter().map(PathBuf::from).collect();
    Matrix::load(&paths).expect("the fixtures load")
}

fn opts() -> RenderOptions {
    RenderOptions {
        title: "Touchstone conformance matrix (fixtures)".into(),
        generated: "2026-01-01 00:00 UTC".into(),
    }
}

fn touchstone(args: &[&str]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_touchstone"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run touchstone");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stderr.contains("panicked"),
        "touchstone panicked: {stderr}"
    );
    out
}

fn temp_dir(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("touchstone-matrix-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

#[test]
fn markdown_of_the_fixtures() {
    let m = fixtures();
    assert_eq!(m.brokers.len(), 3, "Alpha's two reports make one column");
    insta::assert_snapshot!("matrix_markdown", markdown::render(&m, &opts()));
}

#[test]
fn the_command_writes_markdown_and_html() {
    let dir = temp_dir("files");
    let md = dir.join("m.md");
    let page = dir.join("m.html");
    let mut args = vec![
        "matrix",
        "--markdown",
        md.to_str().unwrap(),
        "--html",
        page.to_str().unwrap(),
        "--title",
        "My matrix",
    ];
    args.extend(FIXTURES);
    let out = touchstone(&args);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stdout.is_empty(),
        "nothing on stdout when both files are written"
    );
    let md = std::fs::read_to_string(&md).unwrap();
    assert!(md.starts_with("# My matrix\n"), "{md}");
    let page = std::fs::read_to_string(&page).unwrap();
    assert!(page.contains("<title>My matrix</title>"));
    // Self-contained: no fetch of anything.
    for bad in ["<link", "src=\"http", "src='http", "@import", "url(http"] {
        assert!(!page.contains(bad), "the page fetches something: {bad}");
    }
    // Markdown on stdout by default.
    let mut args = vec!["matrix"];
    args.extend(FIXTURES);
    let out = touchstone(&args);
    assert_eq!(out.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.starts_with("# Touchstone conformance matrix\n"),
        "{stdout}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_reports_are_usage_errors() {
    let dir = temp_dir("bad");
    let not_json = dir.join("not.json");
    std::fs::write(&not_json, "hello").unwrap();
    let wrong = dir.join("wrong.json");
    std::fs::write(&wrong, "{\"cases\": [], \"x\": 1}").unwrap();
    let coverage = dir.join("coverage.json");
    std::fs::write(&coverage, "[{\"version\": \"5.0\"}]").unwrap();
    for (args, want) in [
        (vec!["matrix"], "REPORT.json"),
        (vec!["matrix", "/nonexistent/r.json"], "cannot read /nonexistent/r.json"),
        (vec!["matrix", not_json.to_str().unwrap()], "is not JSON"),
        (
            vec!["matrix", wrong.to_str().unwrap()],
            "is not a Touchstone JSON report (touchstone run --format json): missing field `target`",
        ),
        (
            vec!["matrix", coverage.to_str().unwrap()],
            "the top level is not an object",
        ),
        (
            vec![
                "matrix",
                "tests/fixtures/matrix/alpha.json",
                "tests/fixtures/matrix/alpha.json",
            ],
            "is in both",
        ),
        (vec!["matrix", "--bogus", "x.json"], "--bogus"),
    ] {
        let out = touchstone(&args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(want), "{args:?}: {stderr}");
        assert!(out.stdout.is_empty(), "{args:?}");
    }
    // A file that cannot be written.
    let mut args = vec!["matrix", "--html", "/nonexistent/dir/m.html"];
    args.extend(FIXTURES);
    let out = touchstone(&args);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot write /nonexistent/dir/m.html"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn run_records_the_broker_and_the_matrix_reads_it() {
    let dir = temp_dir("run");
    let default = dir.join("default.json");
    let named = dir.join("named.json");
    for (path, extra) in [
        (&default, vec![]),
        (
            &named,
            vec!["--broker-name", "Mine", "--broker-version", "9.9"],
        ),
    ] {
        let mut args = vec![
            "run",
            "--protocol",
            "5",
            "--filter",
            "connect.second-connect-closes",
            "--exact",
            "--format",
            "json",
            "--output",
            path.to_str().unwrap(),
        ];
        args.extend(extra);
        let out = touchstone(&args);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let read = |p: &Path| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
    };
    assert_eq!(
        read(&default)["broker"],
        serde_json::json!({"name": "Touchstone reference broker", "version": env!("CARGO_PKG_VERSION")})
    );
    assert_eq!(
        read(&named)["broker"],
        serde_json::json!({"name": "Mine", "version": "9.9"})
    );
    assert_eq!(read(&named)["profile"]["findings"], serde_json::json!([]));
    let m = Matrix::load(&[default, named]).unwrap();
    let names: Vec<&str> = m.brokers.iter().map(|b| b.name.as_str()).collect();
    assert_eq!(names, ["Touchstone reference broker", "Mine"]);
    assert_eq!(m.rows.len(), 1);
    let _ = std::fs::remove_dir_all(&dir);
}

// ---- HTML in headless Chromium ----

fn find_chromium() -> Option<PathBuf> {
    if let Ok(p) = std::env::var("TOUCHSTONE_CHROMIUM") {
        return Some(PathBuf::from(p)).filter(|p| p.is_file());
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/bin")])
        .flat_map(|d| ["chromium", "chromium-browser"].map(|n| d.join(n)))
        .find(|p| p.is_file())
}

/// Renders `page` with headless Chromium and returns the DOM after scripts ran.
fn dump_dom(chromium: &Path, page: &Path, profile_dir: &Path) -> Result<String, String> {
    let mut child = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
        ])
        .arg(format!("--user-data-dir={}", profile_dir.display()))
        .arg("--dump-dom")
        .arg(format!("file://{}", page.display()))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", chromium.display()))?;
    let mut stdout = child.stdout.take().expect("stdout");
    let mut stderr = child.stderr.take().expect("stderr");
    let out = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stdout.read_to_string(&mut s);
        s
    });
    let err = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let deadline = Instant::now() + Duration::from_secs(90);
    let status = loop {
        if let Some(s) = child.try_wait().map_err(|e| e.to_string())? {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Err("chromium did not finish within 90 s".into());
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let dom = out.join().unwrap_or_default();
    let log = err.join().unwrap_or_default();
    if !status.success() || dom.is_empty() {
        return Err(format!("chromium failed ({status}): {log}"));
    }
    Ok(dom)
}

/// What the rendered page must show for the fixtures.
fn check_dom(dom: &str, m: &Matrix) -> Result<(), String> {
    let table_start = dom
        .find("<table id=\"matrix\">")
        .ok_or("no case table (<table id=\"matrix\">)")?;
    let table_end = dom[table_start..]
        .find("</table>")
        .map(|i| table_start + i)
        .ok_or("the case table is not closed")?;
    let table = &dom[table_start..table_end];
    for b in &m.brokers {
        let th = format!("<th class=\"broker\" data-broker=\"{}\"", b.name);
        if !table.contains(&th) {
            return Err(format!("no column header for {}", b.name));
        }
    }
    let rows = table.matches("<tr class=\"case\"").count();
    if rows != m.rows.len() {
        return Err(format!("{rows} case rows, expected {}", m.rows.len()));
    }
    for r in &m.rows {
        let row = format!("data-id=\"{}\" data-protocol=\"{}\"", r.id, r.protocol);
        if !table.contains(&row) {
            return Err(format!("no row for {} MQTT {}", r.id, r.protocol));
        }
    }
    let cells = table.matches("class=\"cell o-").count();
    if cells != m.rows.len() * m.brokers.len() {
        return Err(format!(
            "{cells} cells, expected {}",
            m.rows.len() * m.brokers.len()
        ));
    }
    for class in [
        "pass",
        "fail",
        "error",
        "expected_fail",
        "unexpected_pass",
        "skip",
        "not_run",
    ] {
        if !table.contains(&format!("class=\"cell o-{class}\"")) {
            return Err(format!("no cell of class o-{class}"));
        }
    }
    if !table.contains("<details><summary>fail</summary>") {
        return Err("the fail cell has no expandable detail".into());
    }
    // Made by the script: the filter and the count of rows shown.
    if !dom.contains("id=\"filter\"") {
        return Err("no filter input (the script did not run)".into());
    }
    let count = format!(
        "<span id=\"shown-count\">{0} of {0} rows shown</span>",
        m.rows.len()
    );
    if !dom.contains(&count) {
        return Err(format!("no row count `{count}` (the script did not run)"));
    }
    if !dom.contains("id=\"findings\"") || !dom.contains("class=\"finding-mark\"") {
        return Err("no findings section or mark".into());
    }
    Ok(())
}

#[test]
fn html_renders_in_headless_chromium() {
    let Some(chromium) = find_chromium() else {
        if std::env::var_os("TOUCHSTONE_REQUIRE_CHROMIUM").is_some() {
            panic!("chromium is required (TOUCHSTONE_REQUIRE_CHROMIUM is set) but was not found");
        }
        eprintln!("SKIPPED html_renders_in_headless_chromium: chromium is not installed (apt-get install chromium; set TOUCHSTONE_REQUIRE_CHROMIUM=1 to make this a failure)");
        return;
    };
    let m = fixtures();
    let dir = temp_dir("chromium");
    let page = dir.join("matrix.html");
    let text = html::render(&m, &opts());
    std::fs::write(&page, &text).unwrap();
    let dom = dump_dom(&chromium, &page, &dir.join("profile")).unwrap_or_else(|e| panic!("{e}"));
    if let Err(e) = check_dom(&dom, &m) {
        panic!("the rendered page is wrong: {e}\n{dom}");
    }
    // The checks can fail: without the script's work (the page as written, not rendered) and
    // without the table, they do.
    assert!(check_dom(&text, &m)
        .unwrap_err()
        .contains("the script did not run"));
    let start = dom.find("<table id=\"matrix\">").unwrap();
    let end = start + dom[start..].find("</table>").unwrap() + "</table>".len();
    let without = format!("{}{}", &dom[..start], &dom[end..]);
    assert!(check_dom(&without, &m)
        .unwrap_err()
        .contains("no case table"));
    let one_column_less = dom.replace("data-broker=\"Beta Broker\"", "data-broker=\"x\"");
    assert!(check_dom(&one_column_less, &m).is_err());
    let _ = std::fs::remove_dir_all(&dir);
}
