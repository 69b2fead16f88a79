//! Progress while a run goes, on standard error: on a terminal a bar (with the cases that did
//! not pass printed above it); elsewhere (CI logs) one line per finished case as it finishes,
//! and a heartbeat when nothing has finished for a while, so that a log is never silent.

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::outcome_label;
use crate::run::outcome::{CaseResult, Outcome};
use crate::run::runner::Progress;

/// How long a log may stay silent before a heartbeat line.
const HEARTBEAT: Duration = Duration::from_secs(15);

/// Live progress: a bar on a terminal, lines elsewhere.
pub enum Live {
    /// A progress bar (standard error is a terminal).
    Bar(ProgressBar),
    /// A line per case (standard error is a pipe or a file).
    Lines(Arc<Lines>),
}

/// The line-per-case view.
pub struct Lines {
    total: AtomicUsize,
    done: AtomicUsize,
    last: Mutex<Instant>,
    started: Instant,
    over: AtomicBool,
}

impl Lines {
    fn say(&self, line: &str) {
        let mut err = std::io::stderr().lock();
        let _ = writeln!(err, "{line}");
        *self.last.lock().unwrap_or_else(|e| e.into_inner()) = Instant::now();
    }
}

impl Live {
    /// The view that suits standard error.
    pub fn new() -> Self {
        if std::io::stderr().is_terminal() {
            let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
            if let Ok(style) = ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {bar:32} {pos}/{len} {wide_msg}",
            ) {
                bar.set_style(style);
            }
            bar.enable_steady_tick(Duration::from_millis(120));
            Live::Bar(bar)
        } else {
            let lines = Arc::new(Lines {
                total: AtomicUsize::new(0),
                done: AtomicUsize::new(0),
                last: Mutex::new(Instant::now()),
                started: Instant::now(),
                over: AtomicBool::new(false),
            });
            let beat = lines.clone();
            std::thread::spawn(move || {
                while !beat.over.load(Ordering::Relaxed) {
                    std::thread::sleep(Duration::from_millis(500));
                    let quiet = beat.last.lock().map(|l| l.elapsed()).unwrap_or_default();
                    if quiet >= HEARTBEAT && !beat.over.load(Ordering::Relaxed) {
                        beat.say(&format!(
                            "... still running: {} of {} case runs done after {:.0} s",
                            beat.done.load(Ordering::Relaxed),
                            beat.total.load(Ordering::Relaxed),
                            beat.started.elapsed().as_secs_f64()
                        ));
                    }
                }
            });
            Live::Lines(lines)
        }
    }
}

impl Default for Live {
    fn default() -> Self {
        Live::new()
    }
}

impl Progress for Live {
    fn start(&self, total: usize) {
        match self {
            Live::Bar(bar) => bar.set_length(total as u64),
            Live::Lines(l) => {
                l.total.store(total, Ordering::Relaxed);
                l.say(&format!("touchstone: {total} case runs"));
            }
        }
    }

    fn finished(&self, r: &CaseResult) {
        match self {
            Live::Bar(bar) => {
                bar.inc(1);
                bar.set_message(format!("{} [MQTT {}]", r.id, r.protocol));
                if r.outcome.is_bad() || r.outcome == Outcome::ExpectedFail {
                    bar.println(format!(
                        "{:<15} {:<6} {}",
                        outcome_label(r.outcome),
                        r.protocol.as_str(),
                        r.id
                    ));
                }
            }
            Live::Lines(l) => {
                let done = l.done.fetch_add(1, Ordering::Relaxed) + 1;
                let total = l.total.load(Ordering::Relaxed);
                let width = total.to_string().len();
                l.say(&format!(
                    "[{done:>width$}/{total}] {:<15} {:<6} {} ({:.2} s)",
                    outcome_label(r.outcome),
                    r.protocol.as_str(),
                    r.id,
                    r.duration.as_secs_f64()
                ));
            }
        }
    }

    fn done(&self) {
        match self {
            Live::Bar(bar) => bar.finish_and_clear(),
            Live::Lines(l) => l.over.store(true, Ordering::Relaxed),
        }
    }
}
