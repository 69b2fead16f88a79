//! Steps several cases share, written once: statements picked for the version running, the
//! packet id of a redelivery, a granted QoS that may be less than asked, Keep Alive and timer
//! limits with the profile's slack, the run's login on a hand-built CONNECT, and the Reason Code
//! of a DISCONNECT before an error close recorded as an observation or a SHOULD not followed.

use std::time::Duration;

use touchstone_codec::raw::Frame;
use touchstone_codec::{PacketId, Publish, QoS, ReasonCode};

use crate::harness::client::Client;
use crate::harness::summary;
use crate::harness::test::Test;
use crate::harness::verdict::{skip, v311, v5, CaseError, Verdict};

/// `statement_v311` when running 3.1.1, `statement_v5` when running 5.0: for expectations whose
/// statement has a different id in each version.
pub fn cite(
    t: &Test,
    v311_id: &'static str,
    v5_id: &'static str,
) -> [touchstone_codec::Statement; 1] {
    if t.is_v5() {
        [v5(v5_id)]
    } else {
        [v311(v311_id)]
    }
}

/// Several statements per version, picked for the version running.
pub fn cite_all(
    t: &Test,
    v311_ids: &[&'static str],
    v5_ids: &[&'static str],
) -> Vec<touchstone_codec::Statement> {
    if t.is_v5() {
        v5_ids.iter().map(|id| v5(id)).collect()
    } else {
        v311_ids.iter().map(|id| v311(id)).collect()
    }
}

/// Skips unless `granted` reaches `wanted` (a server may grant less than requested).
pub fn need_granted(granted: &[QoS], wanted: QoS) -> Verdict {
    match granted.first() {
        Some(g) if *g >= wanted => Ok(()),
        Some(g) => Err(skip(format!(
            "the server granted QoS {} for a QoS {} subscription (allowed), so QoS {} delivery cannot be checked",
            g.as_u8(),
            wanted.as_u8(),
            wanted.as_u8()
        ))),
        None => Err(CaseError::Error("SUBACK without codes".into())),
    }
}

/// The Keep Alive the server enforces for `client`: 5.0 Server Keep Alive if the CONNACK set
/// one (5.0 MQTT-3.2.2-22: otherwise the client's own), else `requested`.
pub fn effective_keep_alive(client: &Client, requested: u16) -> u16 {
    client
        .connack()
        .and_then(|a| a.properties.server_keep_alive)
        .unwrap_or(requested)
}

/// How long a server may take to close a silent connection with Keep Alive `seconds`: one and a
/// half times it (3.1.1 MQTT-3.1.2-24, 5.0 MQTT-3.1.2-22), plus the profile's timer slack and
/// half a second for the network.
pub fn keep_alive_limit(t: &Test, seconds: u16) -> Duration {
    Duration::from_secs_f64(1.5 * f64::from(seconds)) + t.slack() + Duration::from_millis(500)
}

/// A failure of a case that waits on one of the server's timers, with how long the timer is and
/// how much slack was allowed, and the flag that changes it.
pub fn timer_failure(t: &Test, e: CaseError, timer: String) -> CaseError {
    match e {
        CaseError::Fail(mut f) => {
            f.got = format!(
                "{}; {timer}, and the timer slack allows {:.1} s more (--timer-slack, or timer_slack in a profile)",
                f.got,
                t.slack().as_secs_f64()
            );
            CaseError::Fail(f)
        }
        other => other,
    }
}

/// The Connect Flags for the run's user name and password (`login`, from the client
/// builder's `connect_packet()`): a hand-built CONNECT carries them too, so that a broker that needs
/// them refuses it for what the case put in it, not for missing credentials.
pub fn login_flags(login: &touchstone_codec::Connect) -> u8 {
    (if login.username.is_some() { 0x80 } else { 0 })
        | (if login.password.is_some() { 0x40 } else { 0 })
}

/// Appends the run's user name and password (see [`login_flags`]) to a CONNECT payload.
pub fn with_login(mut frame: Frame, login: &touchstone_codec::Connect) -> Frame {
    if let Some(u) = &login.username {
        frame = frame.string(u.as_str());
    }
    if let Some(p) = &login.password {
        frame = frame.string(p);
    }
    frame
}

/// Where 5.0 makes the DISCONNECT before an error close a SHOULD: section 4.13.1.
pub const ERROR_CLOSE_SHOULD: &str = "5.0 section 4.13.1";

/// The Reason Code of a server's DISCONNECT before it closes the connection over an error,
/// 5.0 section 4.13.1: the close is what [MQTT-4.13.1-1] makes a MUST; "in the case of an
/// error in any other packet [than CONNECT] it SHOULD send a DISCONNECT packet containing the
/// Reason Code before closing". A DISCONNECT with the code the text names (`expected`; any
/// one of them where the text allows several) is recorded as an observation; closing without
/// DISCONNECT, or a DISCONNECT with another code, falls short of that SHOULD only (outcome
/// `should_fail`), never a failure. `should` names where the text says it; `who` names the
/// client in the record.
pub fn note_disconnect_code(
    t: &Test,
    who: &str,
    got: Option<ReasonCode>,
    expected: &[ReasonCode],
    should: &str,
) {
    let names = expected
        .iter()
        .map(|&c| summary::reason(c))
        .collect::<Vec<_>>()
        .join(" or ");
    let wanted = format!("{who}: DISCONNECT {names} before the close");
    match got {
        None => t.short_of(
            should,
            wanted,
            format!("{who}: the close without DISCONNECT"),
        ),
        Some(code) if expected.contains(&code) => t.observe(format!(
            "{who}: DISCONNECT {} before the close",
            summary::reason(code)
        )),
        Some(code) => t.short_of(
            should,
            wanted,
            format!(
                "{who}: DISCONNECT {} before the close",
                summary::reason(code)
            ),
        ),
    }
}

/// The packet id of a PUBLISH the server sent at QoS 1 or 2.
pub fn pid(m: &Publish) -> Result<PacketId, CaseError> {
    m.packet_id
        .ok_or_else(|| CaseError::fail("a packet id on a QoS > 0 PUBLISH", "none"))
}

/// A PUBLISH with this packet id (for redeliveries).
pub fn same_id(id: PacketId) -> impl Fn(&Publish) -> Result<(), String> + Send + Sync + 'static {
    move |p: &Publish| match p.packet_id {
        Some(got) if got == id => Ok(()),
        Some(got) => Err(format!("packet id {got}, not {id}")),
        None => Err("no packet id".into()),
    }
}
