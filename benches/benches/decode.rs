//! Decode throughput of Touchstone's codec and the peer codecs on the same byte streams, in the
//! same run.
//!
//! `cargo bench -p touchstone-benches --bench decode [-- <filter>] [-- --quick]`
//!
//! Groups: `decode/mixed-3.1.1`, `decode/mixed-5.0`, `decode/publish-64KiB-3.1.1`,
//! `decode/publish-64KiB-5.0`; one function per codec that supports the group's version.
//! Each iteration decodes the whole stream, either from a fresh buffer built in untimed setup
//! (owned packets split off a `BytesMut`: `touchstone` and every peer), or in place from the
//! stream as a slice (borrowed packets: `touchstone-ref` with `Decoder::decode_ref`, and
//! `mqttrs-slice` with `mqttrs::decode_slice` on each frame, mqttrs's best harness).
//! After criterion's own report, a summary table gives MB/s (10^6 bytes) and packets/s per codec
//! from criterion's mean estimates, and each codec's throughput relative to the fastest peer on
//! owned buffers and to the fastest peer in any harness; then it compares like with like:
//! `touchstone` with the fastest peer on owned buffers, `touchstone-ref` with the fastest peer
//! overall (slice harnesses included). Each of those ratios is then measured again paired:
//! Touchstone and that peer alternate in short timed blocks (a few milliseconds each, inputs
//! prepared untimed), and the median of the per-pair ratios is given with its interquartile
//! range. On a shared machine whose speed drifts during the minutes criterion takes, the paired
//! ratio is the one that holds still.

use std::cell::RefCell;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use criterion::measurement::WallTime;
use criterion::{BatchSize, BenchmarkGroup, Criterion, Throughput};
use touchstone_benches::peers::{mqttbytes_v4, mqttbytes_v5, mqttrs, ntex_v3, ntex_v5};
use touchstone_benches::streams::{self, Stream, Version};
use touchstone_benches::touchstone;

/// The functions that decode borrowed packets in place from a slice (no buffer to split).
const IN_PLACE: [&str; 2] = [touchstone::REF_NAME, mqttrs::SLICE_NAME];

/// True for Touchstone's own functions (the rest are peers).
fn is_touchstone(function: &str) -> bool {
    function == touchstone::NAME || function == touchstone::REF_NAME
}

/// A benchmark that ran in this process.
struct Ran<'a> {
    group: String,
    function: &'static str,
    bytes: usize,
    packets: usize,
    /// Times `n` decodes of the stream, each from a fresh input prepared untimed.
    timer: Timer<'a>,
}

/// See [`Ran::timer`].
type Timer<'a> = Box<dyn Fn(usize) -> Duration + 'a>;

fn main() {
    let start = SystemTime::now();
    let out_dir = criterion_output_dir();
    let mut c = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .output_directory(&out_dir)
        .configure_from_args();
    let cases = [
        (Version::V3_1_1, streams::mixed_v311()),
        (Version::V5, streams::mixed_v5()),
        (Version::V3_1_1, streams::large_publish_v311()),
        (Version::V5, streams::large_publish_v5()),
    ];
    let ran = RefCell::new(Vec::new());
    for (version, stream) in &cases {
        let group = format!("decode/{}", stream.name);
        let mut g = c.benchmark_group(&group);
        g.throughput(Throughput::Bytes(stream.len() as u64));
        let bytes = &stream.bytes[..];
        let mut b = Bench {
            g: &mut g,
            group: &group,
            stream,
            ran: &ran,
        };
        match version {
            Version::V3_1_1 => {
                b.run(
                    mqttbytes_v4::NAME,
                    move || mqttbytes_v4::buffer(bytes),
                    mqttbytes_v4::decode_buf,
                );
                b.run(
                    ntex_v3::NAME,
                    move || ntex_v3::buffer(bytes),
                    ntex_v3::decode_buf,
                );
                b.run(
                    mqttrs::NAME,
                    move || mqttrs::buffer(bytes),
                    mqttrs::decode_buf,
                );
                b.run(
                    mqttrs::SLICE_NAME,
                    move || bytes,
                    move |s| mqttrs::decode_slice(s),
                );
            }
            Version::V5 => {
                b.run(
                    mqttbytes_v5::NAME,
                    move || mqttbytes_v5::buffer(bytes),
                    mqttbytes_v5::decode_buf,
                );
                b.run(
                    ntex_v5::NAME,
                    move || ntex_v5::buffer(bytes),
                    ntex_v5::decode_buf,
                );
            }
        }
        let protocol = match version {
            Version::V3_1_1 => touchstone_codec::Protocol::V3_1_1,
            Version::V5 => touchstone_codec::Protocol::V5,
        };
        b.run(
            touchstone::NAME,
            move || touchstone_benches::peers::bytes_buffer(bytes), // a bytes::BytesMut
            move |buf| touchstone::decode_buf(protocol, buf),
        );
        b.run(
            touchstone::REF_NAME,
            move || bytes,
            move |s| touchstone::decode_slice(protocol, s),
        );
        g.finish();
    }

    c.final_summary();
    summary(&out_dir, &ran.into_inner(), start);
}

/// Adds benchmark functions to one group.
struct Bench<'a, 'g, 's> {
    g: &'a mut BenchmarkGroup<'g, WallTime>,
    group: &'a str,
    stream: &'s Stream,
    ran: &'a RefCell<Vec<Ran<'s>>>,
}

impl<'s> Bench<'_, '_, 's> {
    /// Benchmarks `decode(&mut setup())`. Neither `setup` (copying the stream into the codec's
    /// buffer type) nor dropping the emptied buffer afterwards is timed. Before the first
    /// measurement, checks that `decode` finds every packet.
    fn run<B: 's>(
        &mut self,
        function: &'static str,
        setup: impl Fn() -> B + Clone + 's,
        decode: impl Fn(&mut B) -> usize + Clone + 's,
    ) {
        // A fresh ~1 MiB buffer per iteration: keep fewer of them alive per batch.
        let batch = if self.stream.len() > 256 * 1024 {
            BatchSize::LargeInput
        } else {
            BatchSize::SmallInput
        };
        let mut checked = false;
        self.g.bench_function(function, |b| {
            if !checked {
                let n = decode(&mut setup());
                assert_eq!(n, self.stream.packets, "{function} on {}", self.stream.name);
                let (setup, decode) = (setup.clone(), decode.clone());
                self.ran.borrow_mut().push(Ran {
                    group: self.group.to_owned(),
                    function,
                    bytes: self.stream.len(),
                    packets: self.stream.packets,
                    timer: Box::new(move |n| {
                        let mut inputs: Vec<B> = (0..n).map(|_| setup()).collect();
                        let start = Instant::now();
                        for input in &mut inputs {
                            black_box(decode(input));
                        }
                        let took = start.elapsed();
                        drop(inputs);
                        took
                    }),
                });
                checked = true;
            }
            // Return the buffer so criterion drops it after the clock stops.
            b.iter_batched(
                &setup,
                |mut buf| {
                    let n = decode(&mut buf);
                    (black_box(n), buf)
                },
                batch,
            );
        });
    }
}

/// Where criterion writes its results, found the way criterion finds it: `$CRITERION_HOME`,
/// else `$CARGO_TARGET_DIR/criterion`, else the target directory from `cargo metadata`, else
/// `target/criterion`. It is also handed to criterion, so the two always agree.
fn criterion_output_dir() -> PathBuf {
    if let Some(home) = std::env::var_os("CRITERION_HOME") {
        return PathBuf::from(home);
    }
    if let Some(target) = std::env::var_os("CARGO_TARGET_DIR") {
        return PathBuf::from(target).join("criterion");
    }
    let from_metadata = std::env::var_os("CARGO").and_then(|cargo| {
        let out = std::process::Command::new(cargo)
            .args(["metadata", "--format-version", "1", "--no-deps"])
            .output()
            .ok()?;
        let meta: serde_json::Value = serde_json::from_slice(&out.stdout).ok()?;
        Some(PathBuf::from(meta.get("target_directory")?.as_str()?))
    });
    from_metadata
        .unwrap_or_else(|| PathBuf::from("target"))
        .join("criterion")
}

/// Criterion's directory name for a group or function id.
fn filename_safe(id: &str) -> String {
    let mut s = id.replace(['?', '"', '/', '\\', '*', '<', '>', ':', '|', '^'], "_");
    let mut end = s.len().min(64);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s.truncate(end);
    s
}

/// Mean time per iteration in nanoseconds, from criterion's `new/estimates.json`, if it was
/// written by this run.
fn mean_ns(out_dir: &Path, r: &Ran<'_>, start: SystemTime) -> Option<f64> {
    let path = out_dir
        .join(filename_safe(&r.group))
        .join(filename_safe(r.function))
        .join("new")
        .join("estimates.json");
    let modified = std::fs::metadata(&path).ok()?.modified().ok()?;
    if modified < start {
        return None; // stale: e.g. `--test` mode runs each benchmark once without analysis
    }
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).ok()?).ok()?;
    json.get("mean")?.get("point_estimate")?.as_f64()
}

fn summary(out_dir: &Path, ran: &[Ran<'_>], start: SystemTime) {
    let rows: Vec<(&Ran<'_>, f64)> = ran
        .iter()
        .filter_map(|r| Some((r, mean_ns(out_dir, r, start)?)))
        .collect();
    if rows.is_empty() {
        return;
    }
    println!("\n## Decode throughput (criterion mean per iteration)\n");
    println!(
        "| stream | codec | harness | time / stream | MB/s | packets/s | vs fastest peer, owned buffers | vs fastest peer, any harness |"
    );
    println!("|---|---|---|---:|---:|---:|---:|---:|");
    let mut groups: Vec<&str> = Vec::new();
    for (r, _) in &rows {
        if !groups.contains(&r.group.as_str()) {
            groups.push(&r.group);
        }
    }
    let mut ratios = Vec::new();
    for group in groups {
        let in_group: Vec<&(&Ran<'_>, f64)> =
            rows.iter().filter(|(r, _)| r.group == group).collect();
        let fastest = |in_place: bool| {
            in_group
                .iter()
                .filter(|(r, _)| !is_touchstone(r.function))
                .filter(|(r, _)| in_place || !IN_PLACE.contains(&r.function))
                .min_by(|a, b| a.1.total_cmp(&b.1))
        };
        let (owned_peer, any_peer) = (fastest(false), fastest(true));
        // Throughput ratio = inverse time ratio.
        let ratio = |peer: Option<&&(&Ran<'_>, f64)>, ns: f64| {
            peer.map_or("".to_owned(), |(_, best)| format!("{:.2}x", best / ns))
        };
        for (r, ns) in &in_group {
            let secs = ns * 1e-9;
            println!(
                "| {} | {} | {} | {} | {:.1} | {:.0} | {} | {} |",
                group.trim_start_matches("decode/"),
                r.function,
                harness(r.function),
                human_time(*ns),
                r.bytes as f64 / secs / 1e6,
                r.packets as f64 / secs,
                ratio(owned_peer, *ns),
                ratio(any_peer, *ns),
            );
            // Like with like: owned with owned, borrowed with the best of anything.
            let peer = match r.function {
                touchstone::NAME => owned_peer,
                touchstone::REF_NAME => any_peer,
                _ => continue,
            };
            if let Some((p, best)) = peer {
                let paired = paired_ratio(r, p, ns.min(*best), r.bytes.max(p.bytes));
                ratios.push(format!(
                    "{group}: {} ({}) / {} ({}) = {:.2}x; paired: {paired}",
                    r.function,
                    harness(r.function),
                    p.function,
                    harness(p.function),
                    best / ns
                ));
            }
        }
    }
    if ratios.is_empty() {
        println!("\n(no Touchstone entry: no ratio to the fastest peer)");
    } else {
        println!(
            "\nThroughput of Touchstone relative to the fastest peer (>1 is faster), like with \
             like: `{}` against the fastest peer on owned buffers, `{}` against the fastest \
             peer in any harness (in-place slice harnesses included); from criterion's means, \
             then paired (the two alternating in short blocks: median and interquartile range \
             of the per-pair ratios):",
            touchstone::NAME,
            touchstone::REF_NAME
        );
        for r in ratios {
            println!("- {r}");
        }
    }
}

/// How a function is driven, for the summary.
fn harness(function: &str) -> &'static str {
    if IN_PLACE.contains(&function) {
        "borrowed, in place from a slice"
    } else {
        "owned, split off a buffer"
    }
}

fn human_time(ns: f64) -> String {
    if ns >= 1e6 {
        format!("{:.2} ms", ns / 1e6)
    } else if ns >= 1e3 {
        format!("{:.2} µs", ns / 1e3)
    } else {
        format!("{ns:.0} ns")
    }
}

/// Pairs of timed blocks in [`paired_ratio`].
const PAIRS: usize = 201;

/// Touchstone's throughput relative to `peer`'s, measured paired: [`PAIRS`] times, a block of
/// Touchstone's decodes then a block of the peer's (the order alternating), each about 2 ms
/// long (from `fastest_ns`, the faster mean) and at most 64 MiB of prepared input; the median
/// of the per-pair ratios and their interquartile range.
fn paired_ratio(touchstone: &Ran<'_>, peer: &Ran<'_>, fastest_ns: f64, bytes: usize) -> String {
    let by_time = (2e6 / fastest_ns.max(1.0)) as usize;
    let by_memory = (64 << 20) / bytes.max(1);
    let n = by_time.min(by_memory).max(1);
    let mut ratios: Vec<f64> = (0..PAIRS)
        .map(|i| {
            let (t, p) = if i % 2 == 0 {
                let t = (touchstone.timer)(n);
                (t, (peer.timer)(n))
            } else {
                let p = (peer.timer)(n);
                ((touchstone.timer)(n), p)
            };
            p.as_secs_f64() / t.as_secs_f64().max(1e-12)
        })
        .collect();
    ratios.sort_by(f64::total_cmp);
    let at = |q: usize| ratios[(ratios.len() - 1) * q / 4];
    format!(
        "{:.2}x (interquartile {:.2}x – {:.2}x, {PAIRS} pairs of {n} decodes)",
        at(2),
        at(1),
        at(3)
    )
}
