//! CPU time from Linux's `/proc`: per thread (`schedstat`, nanoseconds, user and system time
//! together) and for the whole machine (`/proc/stat`). Elsewhere every reading is `None`.

use std::fs;

/// CPU nanoseconds used so far by the threads of process `pid` whose name starts with `prefix`
/// (all of them if `prefix` is empty).
pub fn threads_ns(pid: &str, prefix: &str) -> Option<u64> {
    let mut total = 0;
    let mut any = false;
    for task in fs::read_dir(format!("/proc/{pid}/task")).ok()?.flatten() {
        let path = task.path();
        if !prefix.is_empty() {
            let comm = fs::read_to_string(path.join("comm")).unwrap_or_default();
            if !comm.starts_with(prefix) {
                continue;
            }
        }
        if let Some(ns) = fs::read_to_string(path.join("schedstat"))
            .ok()
            .and_then(|s| s.split_whitespace().next()?.parse::<u64>().ok())
        {
            total += ns;
            any = true;
        }
    }
    any.then_some(total)
}

/// CPU nanoseconds used so far by the calling thread.
pub fn this_thread_ns() -> Option<u64> {
    fs::read_to_string("/proc/thread-self/schedstat")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// Busy CPU nanoseconds of the whole machine so far (all cores; idle and iowait excluded), from
/// `/proc/stat`'s clock ticks (`USER_HZ`, 100 on Linux), so 10 ms resolution.
pub fn machine_busy_ns() -> Option<u64> {
    let stat = fs::read_to_string("/proc/stat").ok()?;
    let cpu = stat.lines().next()?.strip_prefix("cpu ")?;
    let fields: Vec<u64> = cpu
        .split_whitespace()
        .filter_map(|f| f.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal (guest time is already in user).
    let busy: u64 = fields.iter().take(8).sum::<u64>() - fields.get(3)? - fields.get(4)?;
    Some(busy * 10_000_000)
}

/// The 1, 5 and 15-minute load averages.
pub fn loadavg() -> String {
    fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|| "?".into())
}
