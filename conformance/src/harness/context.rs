//! The context behind a case's [`Test`](crate::harness::test::Test) handle: what the whole run
//! shares (target, credentials, timing) and what one case shares among its clients (transcript,
//! observations, client ids).

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use bytes::Bytes;
use touchstone_codec::Protocol;

use crate::harness::redact::Redactor;
use crate::harness::transcript::Transcript;
use crate::harness::verdict::Shortfall;
use crate::net::transport::Connector;

/// User name and password sent in CONNECT (the password never shows in `Debug`).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Credentials {
    /// User Name.
    pub username: Option<String>,
    /// Password.
    pub password: Option<Bytes>,
}

impl Credentials {
    /// A redactor that knows the password.
    pub fn redactor(&self) -> Redactor {
        Redactor::new(self.password.iter().map(|p| p.to_vec()))
    }
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field(
                "password",
                &self
                    .password
                    .as_ref()
                    .map(|p| format!("<{} bytes>", p.len())),
            )
            .finish()
    }
}

/// The timer slack when neither the profile nor `--timer-slack` sets one.
pub const DEFAULT_TIMER_SLACK: Duration = Duration::from_secs(10);

/// The timers of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timing {
    /// Extra time allowed on top of every timer the specification sets (keep alive, will
    /// delay, session expiry) before a server that has not acted on it fails. The
    /// specification fixes when a timer runs out, not how promptly a server notices
    /// (Mosquitto 2.0 closes a silent Keep Alive 1 connection 1 to 7 s late): the default,
    /// [`DEFAULT_TIMER_SLACK`], is generous so that a verdict never depends on a broker's
    /// timer granularity or the machine's load; how late the server was is reported.
    pub timer_slack: Duration,
    /// How long "nothing arrives" is watched for.
    pub quiet: Duration,
    /// How long an expected packet is waited for.
    pub expect: Duration,
    /// How long opening a connection may take.
    pub connect: Duration,
}

impl Default for Timing {
    fn default() -> Self {
        Timing {
            timer_slack: DEFAULT_TIMER_SLACK,
            quiet: Duration::from_millis(800),
            expect: Duration::from_secs(5),
            connect: Duration::from_secs(5),
        }
    }
}

/// A second listener that requires authentication (with the run's credentials).
#[derive(Debug, Clone)]
pub struct AuthListener {
    /// How to reach it.
    pub connector: Connector,
}

/// What every case of a run shares.
#[derive(Debug)]
pub struct RunContext {
    /// How to reach the target.
    pub connector: Connector,
    /// A listener that requires the credentials below, if the run has one.
    pub auth_listener: Option<AuthListener>,
    /// Credentials for CONNECT (from flags or the environment).
    pub credentials: Credentials,
    /// This run's id: client ids and topics carry it.
    pub run_id: String,
    /// Timers.
    pub timing: Timing,
    /// Masks secrets in transcripts (the password above among them).
    pub redactor: Arc<Redactor>,
}

impl RunContext {
    /// A run id: six base-36 characters from the clock and the process id.
    pub fn new_run_id() -> String {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let mut x = (nanos as u64) ^ (u64::from(std::process::id()) << 32);
        // splitmix64 finaliser: spread the bits.
        x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        x ^= x >> 31;
        base36(x, 6)
    }
}

/// `n` base-36 digits of `x` (lower case), most significant first.
pub(crate) fn base36(mut x: u64, n: usize) -> String {
    const DIGITS: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut out = vec![b'0'; n];
    for slot in out.iter_mut().rev() {
        *slot = DIGITS[(x % 36) as usize];
        x /= 36;
    }
    String::from_utf8(out).unwrap_or_default()
}

/// State one case run shares between its clients: transcript, observations, and what to clean
/// up afterwards.
#[derive(Debug)]
pub(crate) struct CaseShared {
    pub(crate) run: Arc<RunContext>,
    pub(crate) protocol: Protocol,
    pub(crate) case_id: &'static str,
    pub(crate) case_index: usize,
    pub(crate) transcript: Transcript,
    pub(crate) observations: Mutex<Vec<String>>,
    /// SHOULDs the target fell short of.
    pub(crate) shortfalls: Mutex<Vec<Shortfall>>,
    /// Topics that may hold a retained message set by the case.
    pub(crate) retained: Mutex<BTreeSet<String>>,
    /// Client ids (and whether on the authentication listener) that may have a stored session.
    pub(crate) sessions: Mutex<BTreeSet<(String, bool)>>,
    /// Client names in order of first use, and how many connections each opened.
    pub(crate) names: Mutex<Vec<(String, u32)>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl CaseShared {
    pub(crate) fn new(
        run: Arc<RunContext>,
        protocol: Protocol,
        case_id: &'static str,
        case_index: usize,
    ) -> Self {
        CaseShared {
            protocol,
            case_id,
            case_index,
            transcript: Transcript::with_redactor(run.redactor.clone()),
            observations: Mutex::new(Vec::new()),
            shortfalls: Mutex::new(Vec::new()),
            retained: Mutex::new(BTreeSet::new()),
            sessions: Mutex::new(BTreeSet::new()),
            names: Mutex::new(Vec::new()),
            run,
        }
    }

    /// A copy for the cleanup after the case: same run, version and client-id space (so its
    /// clients get ids the case did not use), a fresh transcript.
    pub(crate) fn for_cleanup(&self) -> CaseShared {
        let cleanup = CaseShared::new(
            self.run.clone(),
            self.protocol,
            self.case_id,
            self.case_index,
        );
        *lock(&cleanup.names) = lock(&self.names).clone();
        cleanup
    }

    /// The client id for `name`: the same name gives the same id within a case; ids are at most
    /// 23 alphanumeric characters, which every server must accept (3.1.1 and 5.0
    /// MQTT-3.1.3-5).
    pub(crate) fn client_id(&self, name: &str) -> String {
        let mut names = lock(&self.names);
        let index = match names.iter().position(|(n, _)| n == name) {
            Some(i) => i,
            None => {
                names.push((name.to_string(), 0));
                names.len() - 1
            }
        };
        format!(
            "ts{}{}{}{}",
            self.run.run_id,
            base36(self.case_index as u64, 3),
            if self.protocol.is_v5() { '5' } else { '3' },
            base36(index as u64, 2)
        )
    }

    /// The transcript label of a new connection of `name`: `name`, then `name#2`, ...
    pub(crate) fn connection_label(&self, name: &str) -> String {
        let mut names = lock(&self.names);
        let entry = match names.iter_mut().position(|(n, _)| n == name) {
            Some(i) => &mut names[i],
            None => {
                names.push((name.to_string(), 0));
                let last = names.len() - 1;
                &mut names[last]
            }
        };
        entry.1 += 1;
        if entry.1 == 1 {
            name.to_string()
        } else {
            format!("{name}#{}", entry.1)
        }
    }

    pub(crate) fn observe(&self, text: String) {
        lock(&self.observations).push(text);
    }

    pub(crate) fn observations(&self) -> Vec<String> {
        lock(&self.observations).clone()
    }

    pub(crate) fn short_of(&self, s: Shortfall) {
        lock(&self.shortfalls).push(s);
    }

    pub(crate) fn shortfalls(&self) -> Vec<Shortfall> {
        lock(&self.shortfalls).clone()
    }

    pub(crate) fn retained_set(&self, topic: &str, set: bool) {
        let mut r = lock(&self.retained);
        if set {
            r.insert(topic.to_string());
        } else {
            r.remove(topic);
        }
    }

    pub(crate) fn take_retained(&self) -> Vec<String> {
        std::mem::take(&mut *lock(&self.retained))
            .into_iter()
            .collect()
    }

    pub(crate) fn session_kept(&self, client_id: &str, auth: bool) {
        lock(&self.sessions).insert((client_id.to_string(), auth));
    }

    pub(crate) fn take_sessions(&self) -> Vec<(String, bool)> {
        std::mem::take(&mut *lock(&self.sessions))
            .into_iter()
            .collect()
    }

    /// The topic prefix of this case: `touchstone/<run>/<v311|v5>/<case-id>`, with the `.` of
    /// the case id written `_`. No `.` at all: some brokers map topic levels to subjects
    /// separated by `.` and refuse topics containing one (NATS server 2.9), which would fail
    /// every case instead of those that are about such topics.
    pub(crate) fn prefix(&self) -> String {
        format!(
            "touchstone/{}/{}/{}",
            self.run.run_id,
            if self.protocol.is_v5() { "v5" } else { "v311" },
            self.case_id.replace('.', "_")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base36_digits() {
        assert_eq!(base36(0, 3), "000");
        assert_eq!(base36(35, 2), "0z");
        assert_eq!(base36(36, 2), "10");
        assert_eq!(RunContext::new_run_id().len(), 6);
    }
}
