//! `--repeat`: the runs of one catalogue merged into one report, where a case whose verdict
//! changed from run to run is `flaky`.

use crate::run::outcome::{CaseResult, Outcome};
use crate::run::runner::RunReport;

/// Merges the reports of repeated runs (in the order they ran) into one; `asked` is how many
/// runs were asked for (fewer ran when one was interrupted or lost the target).
pub fn merge(mut runs: Vec<RunReport>, asked: u32) -> RunReport {
    if runs.len() <= 1 && asked <= 1 {
        return runs.pop().expect("at least one run");
    }
    let mut last = runs.pop().expect("at least one run");
    let mut all = runs;
    let duration = all.iter().map(|r| r.duration).sum::<std::time::Duration>() + last.duration;
    let started = all.first().map(|r| r.started).unwrap_or(last.started);
    all.push(last.clone());
    // Runs cut short leave cases not run: they are not verdicts.
    let complete: Vec<&RunReport> = all
        .iter()
        .filter(|r| !r.interrupted && r.unavailable.is_none())
        .collect();
    let mut merged: Vec<CaseResult> = Vec::with_capacity(last.results.len());
    for (i, r) in last.results.iter().enumerate() {
        let same = |x: &RunReport| {
            x.results
                .get(i)
                .filter(|y| y.id == r.id && y.protocol == r.protocol)
                .cloned()
        };
        let each: Vec<CaseResult> = complete.iter().filter_map(|x| same(x)).collect();
        let verdicts: Vec<Outcome> = each.iter().map(|c| c.outcome).collect();
        let mut result = if verdicts.windows(2).all(|w| w[0] == w[1]) {
            each.first().cloned().unwrap_or_else(|| r.clone())
        } else if verdicts.iter().all(|o| o.is_pass()) {
            // Every MUST held in every run; a SHOULD was followed in some runs only: the runs
            // that did not follow it show what happened, and the verdict is not flaky.
            let mut shown = each
                .iter()
                .find(|c| c.outcome == Outcome::ShouldFail)
                .cloned()
                .unwrap_or_else(|| r.clone());
            shown.observations.push(format!(
                "the SHOULD was followed in {} of the {} runs",
                verdicts.iter().filter(|o| **o == Outcome::Pass).count(),
                verdicts.len()
            ));
            shown
        } else {
            // The first run that did not pass shows what happened.
            let mut shown = each
                .iter()
                .find(|c| c.outcome != Outcome::Pass)
                .cloned()
                .unwrap_or_else(|| r.clone());
            shown.outcome = Outcome::Flaky;
            shown.message = Some(format!(
                "the verdict changed between the {} runs ({}): a race in the broker, or a case that depends on timing; shown: the first {}{}",
                verdicts.len(),
                verdicts
                    .iter()
                    .map(|o| o.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                each.iter()
                    .find(|c| c.outcome != Outcome::Pass)
                    .map(|c| c.outcome.as_str())
                    .unwrap_or("run"),
                shown
                    .message
                    .as_ref()
                    .map(|m| format!(" ({m})"))
                    .unwrap_or_default()
            ));
            shown
        };
        result.verdicts = verdicts;
        merged.push(result);
    }
    // How the whole ended is how the last run ended (an interruption, a lost target).
    last = all.pop().expect("pushed above");
    last.results = merged;
    last.duration = duration;
    last.started = started;
    last.repeat = asked;
    last
}
