//! The preflight: before any case, one connection and one CONNECT per selected version (and to
//! the authentication listener with the credentials), each classified so that what is wrong
//! with the set-up is never reported as non-conformance: a target that cannot be reached,
//! refuses the credentials or is not an MQTT port makes the run end with one paragraph and exit
//! status 3; a version the target does not speak is skipped with one reason.

use std::time::Duration;

use bytes::BytesMut;
use tokio::time::Instant;
use touchstone_codec::{decode_slice, Connect, Packet, Protocol, ReasonCode, Str};

use crate::harness::context::Credentials;
use crate::harness::summary;
use crate::net::transport::{Connector, Received};

/// What one CONNECT of the preflight showed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Probe {
    /// CONNACK with success.
    Accepted,
    /// Refused as a version the server does not speak (3.1.1 CONNACK 0x01, 5.0 0x84), or closed
    /// without a CONNACK: which of the two is said.
    NotSpoken(String),
    /// The connection closed with no CONNACK: a version not spoken if another version works,
    /// the target unusable if none does.
    ClosedSilently(String),
    /// The target cannot be tested: the paragraph to print.
    Unavailable(String),
}

/// The preflight of a whole run.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Preflight {
    /// Versions the target does not speak, with why (their cases are skipped).
    pub not_spoken: Vec<(Protocol, String)>,
    /// Why the target cannot be tested at all, if it cannot.
    pub unavailable: Option<String>,
    /// The target refuses a CONNECT without credentials and one with a wrong password, and
    /// accepts the run's: it can serve as the authentication listener.
    pub target_requires_credentials: bool,
    /// What else the preflight found about the set-up.
    pub notes: Vec<String>,
}

/// How the preflight connects.
#[derive(Debug, Clone)]
pub struct Setup<'a> {
    /// The target.
    pub connector: &'a Connector,
    /// The authentication listener, if one was given.
    pub auth: Option<&'a Connector>,
    /// The run's credentials.
    pub credentials: &'a Credentials,
    /// How long connecting and the CONNACK may take.
    pub within: Duration,
    /// The client id prefix (unique to the run).
    pub client_id: String,
}

/// Runs the preflight for `protocols` (the versions with selected cases); `explicit` is true
/// when the user named the versions (a version not spoken is then a set-up error).
pub async fn run(setup: &Setup<'_>, protocols: &[Protocol], explicit: bool) -> Preflight {
    let mut out = Preflight::default();
    let mut probes = Vec::new();
    for &p in protocols {
        let probe = connect(setup, setup.connector, p, setup.credentials).await;
        if let Probe::Unavailable(why) = probe {
            out.unavailable = Some(why);
            return out;
        }
        probes.push((p, probe));
    }
    let any_accepted = probes.iter().any(|(_, p)| *p == Probe::Accepted);
    for (p, probe) in &probes {
        match probe {
            Probe::Accepted => {}
            Probe::NotSpoken(why) => out.not_spoken.push((*p, why.clone())),
            Probe::ClosedSilently(why) if any_accepted => out.not_spoken.push((*p, why.clone())),
            Probe::ClosedSilently(why) => {
                out.unavailable = Some(format!(
                    "{why}. The target closed the connection after a CONNECT for every version \
                     tried ({}), without a CONNACK: a broker does that when it refuses the \
                     client before answering (wrong or missing credentials, an ACL, a client \
                     certificate it requires) or when the port is not MQTT. Check the target \
                     URL and --username / --password.",
                    protocols
                        .iter()
                        .map(|p| p.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
                return out;
            }
            Probe::Unavailable(_) => unreachable!("returned above"),
        }
    }
    if explicit && !out.not_spoken.is_empty() {
        let (p, why) = &out.not_spoken[0];
        let other = probes
            .iter()
            .find(|(_, probe)| *probe == Probe::Accepted)
            .map(|(q, _)| *q);
        out.unavailable = Some(format!(
            "--protocol {p} was asked for, but the target does not speak MQTT {p}: it {why}{}",
            match other {
                Some(q) => format!(" (it does speak MQTT {q}: run with --protocol {q})"),
                None => " (run with --protocol all to find the versions it speaks)".into(),
            }
        ));
        return out;
    }
    if out.not_spoken.len() == protocols.len() {
        out.unavailable = Some(format!(
            "the target speaks none of the versions asked for: {}",
            out.not_spoken
                .iter()
                .map(|(p, why)| format!("MQTT {p}: it {why}"))
                .collect::<Vec<_>>()
                .join("; ")
        ));
        return out;
    }
    let spoken = probes
        .iter()
        .find(|(_, probe)| *probe == Probe::Accepted)
        .map(|(p, _)| *p);
    if let (Some(auth), Some(p)) = (setup.auth, spoken) {
        match connect(setup, auth, p, setup.credentials).await {
            Probe::Accepted => {}
            Probe::NotSpoken(why) | Probe::ClosedSilently(why) | Probe::Unavailable(why) => {
                out.unavailable = Some(format!(
                    "the authentication listener (--auth-target): {why}"
                ));
                return out;
            }
        }
    } else if let Some(p) = spoken.filter(|_| setup.credentials.username.is_some()) {
        // Does the target itself need the credentials? Then it is the authentication listener.
        let anonymous = Credentials::default();
        // Anonymous clients turned away (refused, or closed before an answer), and a wrong
        // password refused too: the target checks passwords, so it can serve as the
        // authentication listener. (A broker that wants some user name but takes any password,
        // as ejabberd's anonymous login does, is no authentication listener.)
        let refuses_anonymous = matches!(
            connect(setup, setup.connector, p, &anonymous).await,
            Probe::Unavailable(_) | Probe::ClosedSilently(_)
        );
        if refuses_anonymous {
            let mut wrong = setup.credentials.clone();
            let mut password = wrong.password.map(|b| b.to_vec()).unwrap_or_default();
            password.extend_from_slice(b"-not-the-password");
            wrong.password = Some(password.into());
            match connect(setup, setup.connector, p, &wrong).await {
                Probe::Accepted => out.notes.push(
                    "the target refuses clients without credentials but accepts a wrong password: it is not used as the authentication listener (give --auth-target for one)"
                        .into(),
                ),
                _ => out.target_requires_credentials = true,
            }
        }
    }
    out
}

/// One connection and CONNECT, classified.
async fn connect(
    setup: &Setup<'_>,
    connector: &Connector,
    protocol: Protocol,
    credentials: &Credentials,
) -> Probe {
    let target = connector.target();
    let mut t = match connector.connect(setup.within).await {
        Ok(t) => t,
        Err(e) => {
            return Probe::Unavailable(unreachable_hint(&e.to_string(), target.scheme.is_tls()))
        }
    };
    let connect = Connect {
        clean_start: true,
        keep_alive: 30,
        client_id: Str::from(format!("{}pf{}", setup.client_id, protocol.level())),
        will: None,
        username: credentials.username.as_deref().map(Str::from),
        password: credentials.password.clone(),
        properties: Default::default(),
    };
    let mut buf = BytesMut::new();
    // Checked encoding only fails for values the run never gives (a 5.0-only field in 3.1.1):
    // a password without a user name in 3.1.1 was refused as a usage error.
    if let Err(e) = Packet::Connect(Box::new(connect)).encode(protocol, &mut buf) {
        return Probe::Unavailable(format!("cannot encode the preflight CONNECT: {e}"));
    }
    if let Err(e) = t.send(&buf).await {
        return Probe::Unavailable(format!("{target}: {e}"));
    }
    let deadline = Instant::now() + setup.within;
    let mut got = BytesMut::new();
    let verdict = loop {
        match t.recv(deadline).await {
            Received::Data(d) => {
                got.extend_from_slice(&d);
                if let Some(v) = classify(protocol, &got, credentials, &target.to_string()) {
                    break v;
                }
            }
            Received::Closed(kind) if got.is_empty() => {
                break Probe::ClosedSilently(format!(
                    "{target} closed the connection after an MQTT {protocol} CONNECT without a CONNACK ({kind})"
                ))
            }
            Received::Closed(_) => {
                break Probe::Unavailable(format!(
                    "{target} answered an MQTT {protocol} CONNECT with {} and closed the connection: that is not a CONNACK. Is this an MQTT port?",
                    summary::hex(&got, 32)
                ))
            }
            Received::Timeout if got.is_empty() => {
                break Probe::Unavailable(format!(
                    "{target} accepted the connection but sent nothing within {:.1} s of an MQTT {protocol} CONNECT. Is this an MQTT port?{}",
                    setup.within.as_secs_f64(),
                    if target.scheme.is_tls() { "" } else { " (a TLS port needs mqtts://)" }
                ))
            }
            Received::Timeout => {
                break Probe::Unavailable(format!(
                    "{target} answered an MQTT {protocol} CONNECT with {}, which is not a whole CONNACK. Is this an MQTT port?",
                    summary::hex(&got, 32)
                ))
            }
        }
    };
    if verdict == Probe::Accepted {
        let _ = t.send(&[0xE0, 0x00]).await;
    }
    t.close().await;
    verdict
}

/// What the bytes received after CONNECT say, once they say enough.
fn classify(
    protocol: Protocol,
    got: &[u8],
    credentials: &Credentials,
    target: &str,
) -> Option<Probe> {
    if got.starts_with(b"HTTP/") {
        return Some(Probe::Unavailable(format!(
            "{target} answered with HTTP ({:?}): this is an HTTP port, not MQTT (for MQTT over WebSocket, use ws://HOST:PORT/PATH)",
            String::from_utf8_lossy(&got[..got.len().min(40)]).lines().next().unwrap_or("")
        )));
    }
    if got.len() >= 2 && got[0] == 0x15 && got[1] == 0x03 {
        return Some(Probe::Unavailable(format!(
            "{target} answered with a TLS alert: this looks like a TLS port; use mqtts:// (with --ca-file or --insecure for a private CA)"
        )));
    }
    // A CONNACK of either version's layout: 20 02 flags code (3.1.1), 20 LEN flags code props.
    if got[0] != 0x20 {
        return Some(Probe::Unavailable(format!(
            "{target} answered an MQTT {protocol} CONNECT with {}, which is not a CONNACK. Is this an MQTT port?",
            summary::hex(got, 32)
        )));
    }
    // The Remaining Length (a CONNACK with properties may need two bytes or more).
    let (rest, header) = match touchstone_codec::read_varint(&got[1..]) {
        touchstone_codec::Varint::Value(n, l) => (n as usize, 1 + l),
        touchstone_codec::Varint::Incomplete => return None,
        _ => {
            return Some(Probe::Unavailable(format!(
                "{target} answered an MQTT {protocol} CONNECT with {}: not a valid CONNACK",
                summary::hex(got, 32)
            )))
        }
    };
    if got.len() < header + 2 {
        return None;
    }
    let code = ReasonCode(got[header + 1]);
    // A version the server does not speak: the 3.1.1 CONNACK 0x01 (3.1.1 MQTT-3.1.2-2; what
    // a 3.1.1 server sends to a 5.0 CONNECT), or the 5.0 reason 0x84 (5.0 MQTT-3.1.2-2).
    if code.0 == 0x01 && rest == 2 {
        return Some(Probe::NotSpoken(format!(
            "answered an MQTT {protocol} CONNECT with the 3.1.1 CONNACK 0x01 (unacceptable protocol version)"
        )));
    }
    if code.0 == 0x84 {
        return Some(Probe::NotSpoken(format!(
            "answered an MQTT {protocol} CONNECT with CONNACK 0x84 Unsupported Protocol Version"
        )));
    }
    let len = header + rest;
    if got.len() < len {
        return None;
    }
    let packet = match decode_slice(protocol, &got[..len]) {
        Ok((Packet::ConnAck(a), _)) => a,
        Ok(_) => unreachable!("the first byte is CONNACK's"),
        Err(e) => {
            return Some(Probe::Unavailable(format!(
                "{target} answered an MQTT {protocol} CONNECT with {}, not a valid CONNACK: {e}",
                summary::hex(&got[..len], 32)
            )))
        }
    };
    // 5.0 codes below 0x80 are successes; 3.1.1 return codes 1 to 5 are all refusals.
    let accepted = if protocol.is_v5() {
        packet.reason_code.is_success()
    } else {
        packet.reason_code.0 == 0
    };
    if accepted {
        return Some(Probe::Accepted);
    }
    let named = summary::connack_code(packet.reason_code);
    let auth_code = matches!(packet.reason_code.0, 0x04 | 0x05 | 0x86 | 0x87 | 0x8C);
    Some(Probe::Unavailable(if auth_code {
        match &credentials.username {
            Some(u) => format!(
                "{target} refused the credentials (user {u:?}) with CONNACK {named}: check --username and --password (or TOUCHSTONE_USERNAME and TOUCHSTONE_PASSWORD)"
            ),
            None => format!(
                "{target} refused an anonymous client with CONNACK {named}: it needs credentials; give --username and --password (or TOUCHSTONE_USERNAME and TOUCHSTONE_PASSWORD)"
            ),
        }
    } else {
        format!("{target} refused the preflight CONNECT with CONNACK {named}")
    }))
}

/// The paragraph for a connection that could not be opened, with the likely cause.
fn unreachable_hint(error: &str, tls: bool) -> String {
    let hint = if error.contains("Connection refused") {
        "Nothing listens there: is the broker running, and on this host and port?"
    } else if error.contains("UnknownIssuer") {
        "The server's certificate is not signed by a CA Touchstone trusts: give its CA with \
         --ca-file CA.pem (or --insecure for a test broker)."
    } else if error.contains("NotValidForName") || error.contains("CertNotValidForName") {
        "The server's certificate is not for this host name: use the name it was issued for \
         in the target URL (or --insecure for a test broker)."
    } else if error.contains("Expired") {
        "The server's certificate has expired."
    } else if tls && (error.contains("corrupt message") || error.contains("InvalidContentType")) {
        "The port does not speak TLS: use mqtt:// (or ws://) for a plain listener."
    } else if error.contains("within") {
        "The connection was not accepted in time: a firewall dropping packets, or the wrong host?"
    } else if error.contains("WebSocket") {
        "The WebSocket handshake failed: check the path (often /mqtt) and that the port serves \
         MQTT over WebSocket."
    } else if error.contains("lookup")
        || error.contains("resolve")
        || error.contains("Name or service")
    {
        "The host name does not resolve."
    } else {
        "Check the target URL."
    };
    format!("{error}. {hint}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn creds(user: Option<&str>) -> Credentials {
        Credentials {
            username: user.map(String::from),
            password: user.map(|_| Bytes::from_static(b"pw")),
        }
    }

    fn probe(p: Protocol, hex: &str, user: Option<&str>) -> Option<Probe> {
        classify(
            p,
            &touchstone_codec::hex::decode(hex).unwrap(),
            &creds(user),
            "mqtt://h:1",
        )
    }

    #[test]
    fn a_3_1_1_connack_0x01_to_a_5_0_connect_is_a_version_not_spoken() {
        // What a 3.1.1-only server must answer (3.1.1 MQTT-3.1.2-2): not malformed.
        assert!(matches!(
            probe(Protocol::V5, "20020001", None),
            Some(Probe::NotSpoken(_))
        ));
        assert!(matches!(
            probe(Protocol::V3_1_1, "2003008400", None),
            Some(Probe::NotSpoken(_))
        ));
        assert_eq!(
            probe(Protocol::V5, "2003000000", None),
            Some(Probe::Accepted)
        );
        assert_eq!(
            probe(Protocol::V3_1_1, "20020000", None),
            Some(Probe::Accepted)
        );
    }

    #[test]
    fn refusals_name_the_likely_cause() {
        let Some(Probe::Unavailable(m)) = probe(Protocol::V3_1_1, "20020005", Some("alice")) else {
            panic!()
        };
        assert!(
            m.contains("refused the credentials") && m.contains("--password"),
            "{m}"
        );
        let Some(Probe::Unavailable(m)) = probe(Protocol::V3_1_1, "20020004", None) else {
            panic!("a 3.1.1 refusal is not an acceptance")
        };
        assert!(m.contains("0x04"), "{m}");
        let Some(Probe::Unavailable(m)) = probe(Protocol::V5, "2003008700", None) else {
            panic!()
        };
        assert!(m.contains("needs credentials"), "{m}");
        let Some(Probe::Unavailable(m)) = probe(Protocol::V5, "485454502f312e31", None) else {
            panic!()
        };
        assert!(m.contains("HTTP port"), "{m}");
        let Some(Probe::Unavailable(m)) = probe(Protocol::V5, "1503030002", None) else {
            panic!()
        };
        assert!(m.contains("mqtts://"), "{m}");
        // A partial CONNACK waits for more; a long one is read whole.
        assert_eq!(probe(Protocol::V5, "2003", None), None);
        let long = format!("20 8401 0000 80 01 1f 007d {}", "61".repeat(125)).replace(' ', "");
        assert_eq!(probe(Protocol::V5, &long[..20], None), None);
        assert_eq!(probe(Protocol::V5, &long, None), Some(Probe::Accepted));
    }

    #[test]
    fn unreachable_targets_get_a_hint() {
        let m = unreachable_hint(
            "cannot connect to mqtt://127.0.0.1:1: Connection refused (os error 111)",
            false,
        );
        assert!(m.contains("Nothing listens there"), "{m}");
        let m = unreachable_hint(
            "TLS handshake with mqtts://h:8883: invalid peer certificate: UnknownIssuer",
            true,
        );
        assert!(m.contains("--ca-file"), "{m}");
    }
}
