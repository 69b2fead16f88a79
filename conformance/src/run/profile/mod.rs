//! Broker profiles (TOML): what the target supports, timer slack for coarse timers, and its
//! known deviations from the specification (expected failures).
//!
//! ```toml
//! name = "Example broker 1.0"
//! timer_slack = 2.0            # seconds added to keep-alive and other spec timers
//!
//! [capabilities]               # both versions
//! max_qos = 2
//! [v5.capabilities]            # 5.0 only (also [v311.capabilities])
//! topic_alias_maximum = 10
//!
//! [[deviation]]
//! case = "connect.unsupported-protocol-level"
//! protocol = "3.1.1"
//! statement = "3.1.1 MQTT-3.1.2-2"
//! reason = "answers an unknown protocol level with return code 0x02"
//! evidence = "CONNACK 20 02 00 02"
//! reference = "https://example.invalid/issue/1"
//! intermittent = false         # true: a race, seen in some runs only, so a pass stays a pass
//!
//! [[knock-on]]                 # a case that fails only because of a deviation or finding above
//! case = "qos.server-packet-ids-unique-in-flight"
//! protocol = "all"
//! cause = "qos.delivery-at-lower-of-published-and-granted"   # a deviation's case, or
//!                              # a finding's reproducer path
//! failure = "at AtLeastOnce"   # text the failure must contain (else it stays a failure)
//! reason = "the QoS 1 message arrives at QoS 2, as in the deviation; the packet ids are right"
//! evidence = "PUBLISH q2 id=1 payload=\"n0\""
//! intermittent = false         # true: the cause depends on timing, so a pass stays a pass
//!
//! [[finding]]                  # a bug of the broker that crashes or hangs it
//! summary = "crashes on a SUBSCRIBE with 70000 topic filters"
//! statement = "5.0 MQTT-3.8.3-2"   # optional
//! reproducer = "profiles/findings/example-subscribe-crash.txt"
//! protocol = "5"               # 3.1.1, 5 or all
//! skip_cases = ["subscribe.many-filters"]   # optional: cases that trigger it, not run
//! ```

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use touchstone_codec::{Protocol, Statement};

use crate::cases;
use crate::harness::capability::CapabilityOverrides;
use crate::harness::case::Case;
use crate::spec;

/// A profile as written in the file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProfileFile {
    name: Option<String>,
    timer_slack: Option<f64>,
    quiet_period: Option<f64>,
    expect_timeout: Option<f64>,
    capabilities: Option<CapabilityOverrides>,
    v311: Option<VersionSection>,
    v5: Option<VersionSection>,
    #[serde(default)]
    deviation: Vec<DeviationFile>,
    #[serde(default)]
    finding: Vec<FindingFile>,
    #[serde(default, rename = "knock-on")]
    knock_on: Vec<KnockOnFile>,
}

impl ProfileFile {
    /// Case ids renamed since the profile was written (`cases::RENAMED`) name the case's
    /// current id, so that older profiles keep working.
    fn use_current_ids(&mut self) {
        let current = |id: &mut String| *id = cases::current_id(id).to_string();
        self.deviation.iter_mut().for_each(|d| current(&mut d.case));
        for k in &mut self.knock_on {
            current(&mut k.case);
            current(&mut k.cause);
        }
        for f in &mut self.finding {
            f.skip_cases.iter_mut().for_each(current);
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct KnockOnFile {
    case: String,
    protocol: String,
    cause: String,
    failure: String,
    reason: String,
    evidence: String,
    #[serde(default)]
    intermittent: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct FindingFile {
    summary: String,
    statement: Option<String>,
    reproducer: String,
    protocol: String,
    #[serde(default)]
    skip_cases: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct VersionSection {
    capabilities: Option<CapabilityOverrides>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct DeviationFile {
    case: String,
    protocol: String,
    statement: String,
    reason: String,
    evidence: String,
    reference: Option<String>,
    #[serde(default)]
    intermittent: bool,
}

/// A known, documented deviation of the target: the case is expected to fail for `protocol`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Deviation {
    /// The case id.
    pub case: String,
    /// The protocol version it applies to.
    #[serde(serialize_with = "ser_protocol")]
    pub protocol: Protocol,
    /// The statement the target breaks.
    pub statement: Statement,
    /// Why this is a deviation (what the target does instead).
    pub reason: String,
    /// What the target sent.
    pub evidence: String,
    /// Where it is documented (issue, changelog, mailing list).
    pub reference: Option<String>,
    /// For a knock-on: the deviation (its case id) or finding (its reproducer) that makes this
    /// case fail, though the case does not check the statement broken.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
    /// For a knock-on: text the failure must contain to be the expected one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure_contains: Option<String>,
    /// For a deviation or knock-on that depends on timing (a race in the broker): a pass is a
    /// pass, not an unexpected one.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub intermittent: bool,
}

impl Deviation {
    /// Whether `failure` is the one this deviation expects: any failure for a deviation of the
    /// case's own statement; for a knock-on, one whose text contains the knock-on's `failure`.
    pub fn expects(&self, failure: Option<&crate::harness::verdict::Failure>) -> bool {
        match (&self.failure_contains, failure) {
            (None, _) => true,
            (Some(text), Some(f)) => {
                f.expected.contains(text.as_str()) || f.got.contains(text.as_str())
            }
            (Some(_), None) => false,
        }
    }
}

/// A bug of the target found while testing it that crashes or hangs it (not a deviation a
/// case measures): recorded in the report and shown in the matrix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// What happens, in one line.
    pub summary: String,
    /// The statement it breaks, if one does.
    pub statement: Option<Statement>,
    /// Path (relative to the repository root) of a transcript that reproduces it.
    pub reproducer: String,
    /// `3.1.1`, `5` or `all`.
    pub protocol: String,
    /// Cases not run (for `protocol`) because they trigger it and would take the target down
    /// for the rest of the run.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub skip_cases: Vec<String>,
}

fn ser_protocol<S: serde::Serializer>(p: &Protocol, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(p.as_str())
}

/// A loaded and checked profile.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Profile {
    /// Where it was read from.
    pub path: Option<PathBuf>,
    /// The broker it describes.
    pub name: Option<String>,
    /// Extra time on spec timers.
    pub timer_slack: Option<Duration>,
    /// How long "nothing arrives" is watched for.
    pub quiet_period: Option<Duration>,
    /// How long an expected packet is waited for.
    pub expect_timeout: Option<Duration>,
    /// Capabilities stated for both versions.
    pub capabilities: CapabilityOverrides,
    /// Capabilities stated for 3.1.1.
    pub capabilities_v311: CapabilityOverrides,
    /// Capabilities stated for 5.0.
    pub capabilities_v5: CapabilityOverrides,
    /// Known deviations.
    pub deviations: Vec<Deviation>,
    /// Bugs found that crash or hang the target.
    pub findings: Vec<Finding>,
}

/// A profile that cannot be used, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("profile `{path}`: {message}")]
pub struct ProfileError {
    /// The file.
    pub path: PathBuf,
    /// What is wrong.
    pub message: String,
}

/// A profile's text that cannot be used: what is wrong, naming the entry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidProfile(pub String);

fn seconds(what: &str, v: Option<f64>, max: f64) -> Result<Option<Duration>, String> {
    match v {
        None => Ok(None),
        Some(s) if s.is_finite() && (0.0..=max).contains(&s) => {
            Ok(Some(Duration::from_secs_f64(s)))
        }
        Some(s) => Err(format!(
            "{what} = {s} is not a number of seconds from 0 to {max}"
        )),
    }
}

fn check_caps(where_: &str, c: &CapabilityOverrides) -> Result<(), String> {
    if let Some(q) = c.max_qos {
        if q > 2 {
            return Err(format!("{where_}: max_qos = {q} is not 0, 1 or 2"));
        }
    }
    if c.receive_maximum == Some(0) {
        return Err(format!("{where_}: receive_maximum must not be 0"));
    }
    Ok(())
}

/// The case `id` of the catalogue and the versions `protocol` (`3.1.1`, `5` or `all`) names for
/// it, each one the case runs for; `at` says which entry of the profile is wrong.
fn case_and_protocols<'c>(
    at: &str,
    id: &str,
    protocol: &str,
    catalogue: &'c [Case],
) -> Result<(&'c Case, Vec<Protocol>), String> {
    let Some(case) = catalogue.iter().find(|c| c.id == id) else {
        let area = id.split('.').next().unwrap_or("");
        let near: Vec<&str> = catalogue
            .iter()
            .map(|c| c.id)
            .filter(|c| !area.is_empty() && c.starts_with(area))
            .collect();
        let hint = if near.is_empty() {
            "run `touchstone list` for the case ids".to_string()
        } else {
            format!("cases of that area: {}", near.join(", "))
        };
        return Err(format!("{at}: no such case; {hint}"));
    };
    let protocols: Vec<Protocol> = match protocol.trim() {
        "all" => case.protocols.to_vec(),
        other => match other.parse::<Protocol>() {
            Ok(p @ (Protocol::V3_1_1 | Protocol::V5)) => vec![p],
            _ => {
                return Err(format!(
                    "{at}: protocol `{protocol}` is not 3.1.1, 5 or all"
                ))
            }
        },
    };
    if let Some(p) = protocols.iter().find(|p| !case.runs_for(**p)) {
        return Err(format!("{at}: the case does not run for MQTT {p}"));
    }
    Ok((case, protocols))
}

impl Profile {
    /// Reads and checks the profile at `path` against the case catalogue.
    pub fn load(path: &Path, catalogue: &[Case]) -> Result<Profile, ProfileError> {
        let err = |message: String| ProfileError {
            path: path.to_path_buf(),
            message,
        };
        let text = std::fs::read_to_string(path).map_err(|e| err(format!("cannot read: {e}")))?;
        let mut p = Profile::parse_text(&text, catalogue).map_err(err)?;
        // Reproducers are paths from the repository root: the profile's directory's parent
        // (profiles/NAME.toml), or the working directory.
        let root = path
            .parent()
            .and_then(Path::parent)
            .map(Path::to_path_buf)
            .unwrap_or_default();
        for (i, f) in p.findings.iter().enumerate() {
            let r = Path::new(&f.reproducer);
            if !root.join(r).is_file() && !r.is_file() {
                return Err(err(format!(
                    "[[finding]] #{}: reproducer `{}` is not a file (paths are relative to the repository root, {})",
                    i + 1,
                    f.reproducer,
                    if root.as_os_str().is_empty() { ".".to_string() } else { root.display().to_string() }
                )));
            }
        }
        p.path = Some(path.to_path_buf());
        Ok(p)
    }

    /// Parses and checks a profile's text.
    pub fn parse(text: &str, catalogue: &[Case]) -> Result<Profile, InvalidProfile> {
        Profile::parse_text(text, catalogue).map_err(InvalidProfile)
    }

    fn parse_text(text: &str, catalogue: &[Case]) -> Result<Profile, String> {
        let mut file: ProfileFile =
            toml::from_str(text).map_err(|e| format!("invalid TOML: {e}"))?;
        file.use_current_ids();
        let capabilities = file.capabilities.unwrap_or_default();
        let capabilities_v311 = file.v311.and_then(|v| v.capabilities).unwrap_or_default();
        let capabilities_v5 = file.v5.and_then(|v| v.capabilities).unwrap_or_default();
        check_caps("[capabilities]", &capabilities)?;
        check_caps("[v311.capabilities]", &capabilities_v311)?;
        check_caps("[v5.capabilities]", &capabilities_v5)?;
        let mut deviations = Vec::new();
        for (i, d) in file.deviation.iter().enumerate() {
            let at = format!("[[deviation]] #{} (case `{}`)", i + 1, d.case);
            let (case, protocols) = case_and_protocols(&at, &d.case, &d.protocol, catalogue)?;
            let statement = spec::parse_statement(&d.statement)
                .map_err(|e| format!("{at}: {e}"))?
                .statement();
            for p in &protocols {
                if statement.version != p.spec() {
                    return Err(format!(
                        "{at}: statement {statement} is not a statement of MQTT {p} (cite the {} statement)",
                        p.spec()
                    ));
                }
            }
            if !case.statements.contains(&statement) {
                let listed: Vec<String> = case.statements.iter().map(|s| s.to_string()).collect();
                return Err(format!(
                    "{at}: the case does not check {statement}; it checks {}",
                    listed.join(", ")
                ));
            }
            for (field, value) in [("reason", &d.reason), ("evidence", &d.evidence)] {
                if value.trim().is_empty() {
                    return Err(format!(
                        "{at}: `{field}` is empty; say what the broker does and what it sent"
                    ));
                }
            }
            for p in protocols {
                if deviations
                    .iter()
                    .any(|x: &Deviation| x.case == d.case && x.protocol == p)
                {
                    return Err(format!("{at}: listed twice for MQTT {p}"));
                }
                deviations.push(Deviation {
                    case: d.case.clone(),
                    protocol: p,
                    statement,
                    reason: d.reason.trim().to_string(),
                    evidence: d.evidence.trim().to_string(),
                    reference: d.reference.clone(),
                    cause: None,
                    failure_contains: None,
                    intermittent: d.intermittent,
                });
            }
        }
        let mut findings = Vec::new();
        for (i, f) in file.finding.iter().enumerate() {
            let at = format!("[[finding]] #{}", i + 1);
            let protocol = match f.protocol.trim() {
                "all" => "all",
                other => match other.parse::<Protocol>() {
                    Ok(Protocol::V3_1_1) => "3.1.1",
                    Ok(Protocol::V5) => "5",
                    _ => {
                        return Err(format!(
                            "{at}: protocol `{}` is not 3.1.1, 5 or all",
                            f.protocol
                        ))
                    }
                },
            };
            let statement = match &f.statement {
                Some(text) => {
                    let s = spec::parse_statement(text)
                        .map_err(|e| format!("{at}: {e}"))?
                        .statement();
                    let fits = match protocol {
                        "3.1.1" => s.version == Protocol::V3_1_1.spec(),
                        "5" => s.version == Protocol::V5.spec(),
                        _ => true,
                    };
                    if !fits {
                        return Err(format!(
                            "{at}: statement {s} is not a statement of MQTT {protocol}"
                        ));
                    }
                    Some(s)
                }
                None => None,
            };
            for (field, value) in [("summary", &f.summary), ("reproducer", &f.reproducer)] {
                if value.trim().is_empty() {
                    return Err(format!(
                        "{at}: `{field}` is empty; say what happens and give the transcript that shows it"
                    ));
                }
            }
            let reproducer = f.reproducer.trim();
            if Path::new(reproducer).is_absolute() || reproducer.split('/').any(|c| c == "..") {
                return Err(format!(
                    "{at}: reproducer `{reproducer}` must be a path inside the repository, relative to its root"
                ));
            }
            for case in &f.skip_cases {
                if !catalogue.iter().any(|c| c.id == case) {
                    return Err(format!(
                        "{at}: skip_cases: no such case `{case}`; run `touchstone list` for the case ids"
                    ));
                }
            }
            findings.push(Finding {
                summary: f.summary.trim().to_string(),
                statement,
                reproducer: reproducer.to_string(),
                protocol: protocol.to_string(),
                skip_cases: f.skip_cases.clone(),
            });
        }
        for (i, k) in file.knock_on.iter().enumerate() {
            let at = format!("[[knock-on]] #{} (case `{}`)", i + 1, k.case);
            let (_, protocols) = case_and_protocols(&at, &k.case, &k.protocol, catalogue)?;
            for (field, value) in [
                ("cause", &k.cause),
                ("failure", &k.failure),
                ("reason", &k.reason),
                ("evidence", &k.evidence),
            ] {
                if value.trim().is_empty() {
                    return Err(format!(
                        "{at}: `{field}` is empty; name the cause, the failure text it produces, why, and what the broker sent"
                    ));
                }
            }
            let cause = k.cause.trim();
            for p in protocols {
                // The cause: a deviation of another case for the same version, or a finding
                // of this version that names the statement it breaks.
                let statement = if let Some(d) = deviations
                    .iter()
                    .find(|d: &&Deviation| d.case == cause && d.protocol == p && d.cause.is_none())
                {
                    d.statement
                } else if findings.iter().any(|f: &Finding| f.reproducer == cause) {
                    // Several findings may share a reproducer: the one that names a statement
                    // of this version.
                    match findings.iter().find_map(|f| {
                        f.statement.filter(|s| {
                            f.reproducer == cause
                                && (f.protocol == "all" || f.protocol == p.as_str())
                                && s.version == p.spec()
                        })
                    }) {
                        Some(s) => s,
                        None => {
                            return Err(format!(
                                "{at}: no finding with reproducer `{cause}` names an MQTT {p} statement; a knock-on needs the statement its cause breaks"
                            ))
                        }
                    }
                } else {
                    return Err(format!(
                        "{at}: cause `{cause}` is neither a [[deviation]] case of this profile for MQTT {p} nor the reproducer of one of its [[finding]]s"
                    ));
                };
                if deviations
                    .iter()
                    .any(|x| x.case == k.case && x.protocol == p)
                {
                    return Err(format!(
                        "{at}: the case already has a deviation for MQTT {p}"
                    ));
                }
                deviations.push(Deviation {
                    case: k.case.clone(),
                    protocol: p,
                    statement,
                    reason: format!("knock-on of {cause}: {}", k.reason.trim()),
                    evidence: k.evidence.trim().to_string(),
                    reference: None,
                    cause: Some(cause.to_string()),
                    failure_contains: Some(k.failure.trim().to_string()),
                    intermittent: k.intermittent,
                });
            }
        }
        Ok(Profile {
            findings,
            path: None,
            name: file.name,
            timer_slack: seconds("timer_slack", file.timer_slack, 60.0)?,
            quiet_period: seconds("quiet_period", file.quiet_period, 30.0)?,
            expect_timeout: seconds("expect_timeout", file.expect_timeout, 60.0)?,
            capabilities,
            capabilities_v311,
            capabilities_v5,
            deviations,
        })
    }

    /// The deviation recorded for `case` and `protocol`, if any.
    pub fn deviation(&self, case: &str, protocol: Protocol) -> Option<&Deviation> {
        self.deviations
            .iter()
            .find(|d| d.case == case && d.protocol == protocol)
    }

    /// The finding that `case` triggers for `protocol`, if the profile says not to run it.
    pub fn crashing_finding(&self, case: &str, protocol: Protocol) -> Option<&Finding> {
        self.findings.iter().find(|f| {
            (f.protocol == "all" || f.protocol == protocol.as_str())
                && f.skip_cases.iter().any(|c| c == case)
        })
    }

    /// The capability statements for `protocol` (both-version ones first, then the version's).
    pub fn overrides(&self, protocol: Protocol) -> [&CapabilityOverrides; 2] {
        [
            &self.capabilities,
            if protocol.is_v5() {
                &self.capabilities_v5
            } else {
                &self.capabilities_v311
            },
        ]
    }
}

#[cfg(test)]
mod tests;
