//! The mutation score: the catalogue run through each mutant in front of the reference broker.
//!
//! For each version: a baseline run through an unchanging proxy tells which cases pass and
//! which packet types each exchanges, in which direction (from their transcripts), and what
//! the broker offers (its capabilities, then stated in the profile so that a mutant cannot
//! talk a case out of running). Each mutant then runs only the cases that exchange its packet
//! type its way, fastest first, in growing batches, and stops at the first case it fails: it
//! is killed. One that no case fails survives, unless `mutation/equivalent.toml` argues it
//! equivalent.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use touchstone_codec::{PacketType, Protocol};

use super::equivalent::Equivalents;
use super::mutant::{self, id_matches, Mutant, Way};
use super::proxy::Proxy;
use crate::cases;
use crate::fuzz::rng::Rng;
use crate::harness::capability::CapabilityOverrides;
use crate::harness::case::Case;
use crate::harness::context::{Credentials, Timing};
use crate::harness::transcript::Direction;
use crate::net::target::Target;
use crate::net::tls::TlsOptions;
use crate::net::transport::Connector;
use crate::run::embedded::{self, Embedded};
use crate::run::outcome::{CaseResult, Outcome};
use crate::run::profile::Profile;
use crate::run::runner::{self, Quiet, RunConfig, RunReport, Stop};

/// What to run.
#[derive(Debug, Clone)]
pub struct Options {
    /// The versions.
    pub protocols: Vec<Protocol>,
    /// Only the mutants matching one of these (`operator:PACKET:way`, parts may be `*`).
    pub patterns: Vec<String>,
    /// At most this many mutants per version, drawn with `seed`.
    pub sample: Option<usize>,
    /// The seed of the sample.
    pub seed: u64,
    /// Cases run at once.
    pub jobs: usize,
    /// The argued equivalents.
    pub equivalents: Equivalents,
    /// Do not run the mutants argued equivalent (faster; their entries are not re-checked).
    pub skip_equivalent: bool,
}

/// The timing of mutation runs: the reference broker on loopback answers within
/// milliseconds; the catalogue's own timers (keep alive, expiry) keep their slack.
pub fn timing() -> Timing {
    Timing {
        timer_slack: Duration::from_secs(3),
        quiet: Duration::from_millis(600),
        expect: Duration::from_secs(3),
        connect: Duration::from_secs(3),
    }
}

/// What became of a mutant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fate {
    /// A case failed.
    Killed {
        /// The case id.
        case: String,
        /// Its outcome.
        outcome: Outcome,
        /// What it said.
        detail: String,
    },
    /// The target was unavailable through it (the run's preflight failed).
    KilledAtPreflight {
        /// What the preflight said.
        detail: String,
    },
    /// Every case it could meet passed.
    Survived,
    /// Argued equivalent (in `mutation/equivalent.toml`).
    Equivalent {
        /// The argument.
        argument: String,
    },
    /// No case exchanges its packet type its way.
    Unexercised,
    /// Its cases ran, but none of their packets had what it changes (a QoS 0 PUBLISH has
    /// no Packet Identifier): the wire was the same as without it.
    NotApplied,
}

impl Fate {
    /// A short name: killed, survived, equivalent, unexercised, not-applied.
    pub fn name(&self) -> &'static str {
        match self {
            Fate::Killed { .. } | Fate::KilledAtPreflight { .. } => "killed",
            Fate::Survived => "survived",
            Fate::Equivalent { .. } => "equivalent",
            Fate::Unexercised => "unexercised",
            Fate::NotApplied => "not-applied",
        }
    }
}

/// One mutant's result.
#[derive(Debug, Clone)]
pub struct MutantResult {
    /// The mutant.
    pub mutant: Mutant,
    /// What became of it.
    pub fate: Fate,
    /// How many case runs it took.
    pub cases_run: usize,
    /// How many packets it changed.
    pub applied: usize,
    /// How long it took.
    pub duration: Duration,
    /// An equivalence argument given for a mutant that was killed after all (the entry is
    /// out of date).
    pub stale_equivalence: bool,
}

/// The results of one version.
#[derive(Debug, Clone)]
pub struct VersionScore {
    /// The version.
    pub protocol: Protocol,
    /// Mutants in the catalogue of this version.
    pub catalogue: usize,
    /// The mutants run, in catalogue order.
    pub results: Vec<MutantResult>,
    /// Cases that did not pass through the unchanging proxy (left out of every mutant).
    pub baseline_trouble: Vec<String>,
    /// Cases usable (passed through the unchanging proxy).
    pub baseline_cases: usize,
    /// How long the baseline took.
    pub baseline_duration: Duration,
}

impl VersionScore {
    /// How many mutants had this fate name.
    pub fn count(&self, name: &str) -> usize {
        self.results
            .iter()
            .filter(|r| r.fate.name() == name)
            .count()
    }

    /// Killed mutants that a case failed with a verdict (fail or should-fail), not only an
    /// error or an unavailable target.
    pub fn killed_by_verdict(&self) -> usize {
        self.results
            .iter()
            .filter(|r| {
                matches!(
                    r.fate,
                    Fate::Killed {
                        outcome: Outcome::Fail | Outcome::ShouldFail,
                        ..
                    }
                )
            })
            .count()
    }

    /// Killed over killed plus survived, in percent (`None` with neither).
    pub fn score(&self) -> Option<f64> {
        let killed = self.count("killed");
        let judged = killed + self.count("survived");
        (judged > 0).then(|| 100.0 * killed as f64 / judged as f64)
    }
}

/// Told about progress.
pub trait MutationProgress: Send + Sync {
    /// The baseline of a version is done.
    fn baseline(&self, _protocol: Protocol, _usable: usize, _trouble: usize, _took: Duration) {}
    /// A mutant is done (`done` of `total` for this version).
    fn mutant(&self, _protocol: Protocol, _done: usize, _total: usize, _result: &MutantResult) {}
}

/// Shows nothing.
impl MutationProgress for Quiet {}

/// Something stopped the run before any mutant.
#[derive(Debug, thiserror::Error)]
pub enum MutateError {
    /// The reference broker did not start.
    #[error(transparent)]
    Embedded(#[from] embedded::EmbeddedError),
    /// A proxy could not listen.
    #[error("cannot start the mutation proxy: {0}")]
    Proxy(std::io::Error),
    /// The embedded broker has no TCP listener.
    #[error("the embedded reference broker has no TCP listener")]
    NoListener,
}

/// A case that passed through the unchanging proxy.
struct BaselineCase {
    id: String,
    /// The packet types it exchanged, each way.
    exchanged: BTreeSet<(PacketType, Way)>,
    duration: Duration,
    outcome: Outcome,
}

/// The cases of a baseline that can judge mutants, fastest first.
struct Baseline {
    cases: Vec<BaselineCase>,
    profile: Profile,
}

/// Runs the mutants of each version of `options` against a fresh embedded reference broker.
pub async fn run(
    options: &Options,
    progress: &dyn MutationProgress,
    stop: &Stop,
) -> Result<Vec<VersionScore>, MutateError> {
    let broker = Embedded::start().await?;
    let result = run_against(&broker, options, progress, stop).await;
    broker.shutdown().await;
    result
}

async fn run_against(
    broker: &Embedded,
    options: &Options,
    progress: &dyn MutationProgress,
    stop: &Stop,
) -> Result<Vec<VersionScore>, MutateError> {
    let (Some(open), Some(auth)) = broker.tcp_addrs() else {
        return Err(MutateError::NoListener);
    };
    let catalogue = cases::catalogue();
    let mut scores = Vec::new();
    for &protocol in &options.protocols {
        if stop.reason().is_some() {
            break;
        }
        let started = Instant::now();
        let proxies = Proxies::start(open, auth, None).await?;
        // As `touchstone run` tests the embedded broker: its authentication listener does
        // SCRAM-SHA-256, which the CONNACK cannot announce.
        let mut profile = Profile::default();
        profile.capabilities.auth_method = Some(embedded::SCRAM_METHOD.to_string());
        let report = run_cases(
            &proxies,
            protocol,
            &catalogue,
            &[],
            profile,
            options.jobs,
            stop,
        )
        .await;
        let baseline = baseline(&report, protocol);
        drop(proxies);
        let trouble: Vec<String> = report
            .results
            .iter()
            .filter(|r| {
                !matches!(
                    r.outcome,
                    Outcome::Pass | Outcome::ShouldFail | Outcome::Skip
                )
            })
            .map(|r| format!("{}: {}", r.id, r.outcome.as_str()))
            .collect();
        progress.baseline(
            protocol,
            baseline.cases.len(),
            trouble.len(),
            started.elapsed(),
        );
        let all = mutant::catalogue(protocol);
        let total_catalogue = all.len();
        let chosen = choose(all, options, protocol);
        let mut results = Vec::new();
        for (i, mutant) in chosen.iter().enumerate() {
            if stop.reason().is_some() {
                break;
            }
            let r = run_mutant(
                *mutant, protocol, open, auth, &baseline, &catalogue, options, stop,
            )
            .await?;
            progress.mutant(protocol, i + 1, chosen.len(), &r);
            results.push(r);
        }
        scores.push(VersionScore {
            protocol,
            catalogue: total_catalogue,
            results,
            baseline_trouble: trouble,
            baseline_cases: baseline.cases.len(),
            baseline_duration: report.duration,
        });
    }
    Ok(scores)
}

/// The mutants of a version to run: those matching the patterns, then a sample.
fn choose(all: Vec<Mutant>, options: &Options, protocol: Protocol) -> Vec<Mutant> {
    let mut chosen: Vec<Mutant> = all
        .into_iter()
        .filter(|m| {
            options.patterns.is_empty() || options.patterns.iter().any(|p| id_matches(p, &m.id()))
        })
        .collect();
    if let Some(n) = options.sample {
        if n < chosen.len() {
            let mut rng = Rng::for_burst(options.seed, u64::from(protocol.level()));
            // A partial Fisher-Yates shuffle, then back to catalogue order.
            for i in 0..n {
                let j = i + rng.below(chosen.len() - i);
                chosen.swap(i, j);
            }
            chosen.truncate(n);
            chosen.sort();
        }
    }
    chosen
}

/// The proxies in front of the anonymous broker and the authentication broker.
struct Proxies {
    open: Proxy,
    auth: Proxy,
}

impl Proxies {
    async fn start(
        open: SocketAddr,
        auth: SocketAddr,
        mutant: Option<Mutant>,
    ) -> Result<Proxies, MutateError> {
        Ok(Proxies {
            open: Proxy::start(open, mutant)
                .await
                .map_err(MutateError::Proxy)?,
            auth: Proxy::start(auth, mutant)
                .await
                .map_err(MutateError::Proxy)?,
        })
    }

    fn applied(&self) -> usize {
        self.open.applied() + self.auth.applied()
    }
}

fn connector(addr: SocketAddr) -> Connector {
    let target = Target::parse(&format!("mqtt://{addr}")).expect("a loopback URL parses");
    Connector::new(target, &TlsOptions::default()).expect("a plain TCP connector")
}

async fn run_cases(
    proxies: &Proxies,
    protocol: Protocol,
    catalogue: &[Case],
    ids: &[String],
    profile: Profile,
    jobs: usize,
    stop: &Stop,
) -> RunReport {
    let config = RunConfig {
        connector: connector(proxies.open.addr()),
        auth_connector: Some(connector(proxies.auth.addr())),
        credentials: Credentials {
            username: Some(embedded::USER.into()),
            password: Some(Bytes::from_static(embedded::PASSWORD.as_bytes())),
        },
        protocols: vec![protocol],
        explicit_protocols: true,
        filters: ids.to_vec(),
        exact: !ids.is_empty(),
        profile,
        jobs,
        timing: timing(),
        case_deadline: Duration::from_secs(60),
        strict: false,
    };
    runner::run(config, catalogue, Arc::new(Quiet), stop.clone()).await
}

fn baseline(report: &RunReport, protocol: Protocol) -> Baseline {
    let mut cases = Vec::new();
    for r in &report.results {
        if !matches!(r.outcome, Outcome::Pass | Outcome::ShouldFail) {
            continue;
        }
        cases.push(BaselineCase {
            id: r.id.to_string(),
            exchanged: exchanged(r),
            duration: r.duration,
            outcome: r.outcome,
        });
    }
    cases.sort_by_key(|c| c.duration);
    // What the broker offers, stated so that a mutant cannot make a case skip.
    let mut overrides = CapabilityOverrides {
        auth_method: Some(embedded::SCRAM_METHOD.to_string()),
        ..CapabilityOverrides::default()
    };
    if let Some((_, Ok(c))) = report.capabilities.iter().find(|(p, _)| *p == protocol) {
        overrides.max_qos = Some(c.max_qos);
        overrides.retain = Some(c.retain);
        overrides.wildcards = Some(c.wildcards);
        overrides.shared_subscriptions = Some(c.shared_subscriptions);
        overrides.subscription_identifiers = Some(c.subscription_identifiers);
        overrides.topic_alias_maximum = Some(c.topic_alias_maximum);
        overrides.receive_maximum = Some(c.receive_maximum);
    }
    let mut profile = Profile {
        name: Some("reference broker through a mutation proxy".into()),
        ..Profile::default()
    };
    if protocol.is_v5() {
        profile.capabilities_v5 = overrides;
    } else {
        profile.capabilities_v311 = overrides;
    }
    Baseline { cases, profile }
}

/// The packet types a case run sent and received.
fn exchanged(r: &CaseResult) -> BTreeSet<(PacketType, Way)> {
    r.transcript
        .iter()
        .filter_map(|e| {
            let way = match e.direction {
                Direction::Send => Way::ToServer,
                Direction::Recv => Way::ToClient,
                Direction::Event => return None,
            };
            let t = PacketType::from_nibble(*e.bytes.first()? >> 4)?;
            Some((t, way))
        })
        .collect()
}

#[allow(clippy::too_many_arguments)]
async fn run_mutant(
    mutant: Mutant,
    protocol: Protocol,
    open: SocketAddr,
    auth: SocketAddr,
    baseline: &Baseline,
    catalogue: &[Case],
    options: &Options,
    stop: &Stop,
) -> Result<MutantResult, MutateError> {
    let started = Instant::now();
    let candidates: Vec<&BaselineCase> = baseline
        .cases
        .iter()
        .filter(|c| c.exchanged.contains(&(mutant.packet, mutant.way)))
        .collect();
    let equivalent = options.equivalents.find(&mutant.id(), protocol);
    let mut result = MutantResult {
        mutant,
        fate: Fate::Unexercised,
        cases_run: 0,
        applied: 0,
        duration: Duration::ZERO,
        stale_equivalence: false,
    };
    if let Some(e) = equivalent.filter(|_| options.skip_equivalent) {
        result.fate = Fate::Equivalent {
            argument: e.argument.clone(),
        };
        return Ok(result);
    }
    if candidates.is_empty() {
        if let Some(e) = equivalent {
            result.fate = Fate::Equivalent {
                argument: e.argument.clone(),
            };
        }
        return Ok(result);
    }
    let proxies = Proxies::start(open, auth, Some(mutant)).await?;
    let mut next = 0;
    let mut batch = options.jobs.max(1);
    let mut fate = None;
    while next < candidates.len() && fate.is_none() && stop.reason().is_none() {
        let end = (next + batch).min(candidates.len());
        let ids: Vec<String> = candidates[next..end].iter().map(|c| c.id.clone()).collect();
        let baseline_outcome: BTreeMap<&str, Outcome> = candidates[next..end]
            .iter()
            .map(|c| (c.id.as_str(), c.outcome))
            .collect();
        let report = run_cases(
            &proxies,
            protocol,
            catalogue,
            &ids,
            baseline.profile.clone(),
            options.jobs,
            stop,
        )
        .await;
        result.cases_run += report.results.len();
        if let Some(why) = &report.unavailable {
            fate = Some(Fate::KilledAtPreflight {
                detail: why.to_string(),
            });
            break;
        }
        fate = report
            .results
            .iter()
            .find(|r| killed(r, baseline_outcome.get(r.id).copied()))
            .map(|r| Fate::Killed {
                case: r.id.to_string(),
                outcome: r.outcome,
                detail: detail(r),
            });
        next = end;
        batch *= 2;
    }
    result.applied = proxies.applied();
    drop(proxies);
    result.fate = match fate {
        Some(f) => {
            result.stale_equivalence = equivalent.is_some();
            f
        }
        None if result.applied == 0 => Fate::NotApplied,
        None => match equivalent {
            Some(e) => Fate::Equivalent {
                argument: e.argument.clone(),
            },
            None => Fate::Survived,
        },
    };
    result.duration = started.elapsed();
    Ok(result)
}

/// Did this case notice the mutant: a failure or an error, or a SHOULD not followed that
/// was followed without it?
fn killed(r: &CaseResult, before: Option<Outcome>) -> bool {
    match r.outcome {
        Outcome::Fail | Outcome::Error => true,
        Outcome::ShouldFail => before == Some(Outcome::Pass),
        _ => false,
    }
}

fn detail(r: &CaseResult) -> String {
    if let Some(f) = &r.failure {
        let cites: Vec<String> = f.statements.iter().map(|s| s.to_string()).collect();
        let mut s = format!("expected {}, got {}", f.expected, f.got);
        if !cites.is_empty() {
            s += &format!(" ({})", cites.join(", "));
        }
        return s;
    }
    if let Some(s) = r.shortfalls.first() {
        return format!("{}: expected {}, got {}", s.should, s.expected, s.got);
    }
    r.message.clone().unwrap_or_default()
}
