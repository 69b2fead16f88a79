//! 5.0 enhanced authentication (section 4.12) and the AUTH packet (section 3.15).
//!
//! The cases that need a working method use SCRAM-SHA-256 (RFC 7677) with the run's user on
//! the authentication listener; they need the profile to say the target does it
//! (`auth_method = "SCRAM-SHA-256"`), as the embedded reference broker does.

use touchstone_sasl::scram::ScramClient;
use touchstone_codec::Auth;
use crate::harness::client::Client;
use crate::cases::prelude::*;

pub(crate) const CASES: &[Case] = &[
    UNSUPPORTED_METHOD,
    NO_METHOD_NO_AUTH,
    AUTH_WITHOUT_METHOD,
    SCRAM_EXCHANGE,
    SCRAM_WRONG_PASSWORD,
    AUTH_RESERVED_FLAGS,
    REAUTH_FAILURE,
    NO_PROBLEM_INFO_IN_AUTH,
];

const SCRAM: &str = "SCRAM-SHA-256";

/// A CONNECT naming an Authentication Method the server does not support is refused.
const UNSUPPORTED_METHOD: Case = Case {
    id: "auth.unsupported-method-refused",
    title: "CONNECT with an unsupported Authentication Method: CONNACK 0x8C or 0x87 (or none) and the connection closed",
    protocols: V5,
    statements: &[v5("MQTT-4.12.0-1")],
    requires: &[],
    body: |t| Box::pin(unsupported_method(t)),
};

async fn unsupported_method(t: &mut Test) -> Verdict {
    let mut c = t
        .client("c")
        .properties(|p| p.authentication_method = Some("touchstone-no-such-method".into()))
        .send_connect()
        .await?;
    let cite = [v5("MQTT-4.12.0-1")];
    match c.next_packet(t.timeout()).await? {
        None => {
            t.observe("no CONNACK: the server closed the connection");
            Ok(())
        }
        // 5.0 MQTT-4.12.0-1: the server MAY send CONNACK 0x8C or 0x87, and MUST close;
        // MQTT-3.2.2-8 lets it use any refusing code of the table (recorded).
        Some(Packet::ConnAck(a)) if a.reason_code.0 >= 0x80 => {
            let named = [ReasonCode(0x8C), ReasonCode(0x87)].contains(&a.reason_code);
            t.observe(format!(
                "CONNACK {}{}",
                summary::reason(a.reason_code),
                if named { "" } else { " (allowed: the text names 0x8C or 0x87)" }
            ));
            c.expect_closed().because(&cite).await?;
            Ok(())
        }
        Some(other) => Err(CaseError::fail(
            "a refusing CONNACK (0x8C Bad authentication method or 0x87 Not authorized, or another code of 0x80 or more), or the close",
            summary::packet(&other),
        )
        .because(&cite)),
    }
}

/// Without an Authentication Method in CONNECT the server sends no AUTH and no method.
const NO_METHOD_NO_AUTH: Case = Case {
    id: "auth.no-method-no-auth",
    title: "CONNECT without Authentication Method: no Authentication Method in CONNACK and no AUTH",
    protocols: V5,
    statements: &[v5("MQTT-4.12.0-6")],
    requires: &[],
    body: |t| Box::pin(no_method_no_auth(t)),
};

async fn no_method_no_auth(t: &mut Test) -> Verdict {
    let mut c = t.client("c").connect().await?;
    let method = c
        .connack()
        .and_then(|a| a.properties.authentication_method.clone());
    check(
        method.is_none(),
        "CONNACK without Authentication Method",
        || format!("Authentication Method {method:?}"),
    )
    .map_err(|e| e.because(&[v5("MQTT-4.12.0-6")]))?;
    c.ping().await?;
    c.expect_nothing(t.quiet())
        .await
        .map_err(|e| e.because(&[v5("MQTT-4.12.0-6")]))?;
    c.disconnect().await
}

/// AUTH from a client that gave no Authentication Method is a Protocol Error.
const AUTH_WITHOUT_METHOD: Case = Case {
    id: "auth.auth-without-method-closes",
    title: "AUTH after a CONNECT without Authentication Method closes the connection",
    protocols: V5,
    statements: &[v5("MQTT-4.12.0-7"), v5("MQTT-4.13.1-1")],
    requires: &[],
    body: |t| Box::pin(auth_without_method(t)),
};

async fn auth_without_method(t: &mut Test) -> Verdict {
    let mut c = t.client("c").connect().await?;
    c.ping().await?;
    let mut auth = Auth {
        reason_code: ReasonCode::RE_AUTHENTICATE,
        ..Auth::default()
    };
    auth.properties.authentication_method = Some(SCRAM.into());
    auth.properties.authentication_data = Some(Bytes::from_static(b"n,,n=x,r=abc"));
    c.send(Packet::Auth(auth)).await?;
    c.expect_closed()
        .because(&[v5("MQTT-4.12.0-7"), v5("MQTT-4.13.1-1")])
        .await?;
    Ok(())
}

/// The run's user name and password (the capability guarantees both).
fn credentials(t: &Test) -> Result<(String, String), CaseError> {
    let creds = &t.shared.run.credentials;
    let user = creds.username.clone().unwrap_or_default();
    let password = creds
        .password
        .as_ref()
        .map(|p| String::from_utf8_lossy(p).into_owned())
        .unwrap_or_default();
    if user.is_empty() {
        return Err(skip("the run has no user name for SCRAM"));
    }
    Ok((user, password))
}

/// Checks an AUTH from the server: a defined Authenticate Reason Code and the method of the
/// CONNECT.
fn check_auth(a: &Auth, want: ReasonCode) -> Verdict {
    check(
        [ReasonCode(0x00), ReasonCode(0x18), ReasonCode(0x19)].contains(&a.reason_code),
        "an AUTH Reason Code 0x00, 0x18 or 0x19",
        || summary::reason(a.reason_code),
    )
    .map_err(|e| e.because(&[v5("MQTT-3.15.2-1")]))?;
    check(
        a.reason_code == want,
        format!("AUTH {}", summary::reason(want)),
        || summary::reason(a.reason_code),
    )
    .map_err(|e| e.because(&[v5("MQTT-4.12.0-2")]))?;
    let method = a
        .properties
        .authentication_method
        .as_ref()
        .map(|m| m.as_str());
    check(
        method == Some(SCRAM),
        format!("AUTH with Authentication Method {SCRAM}"),
        || format!("Authentication Method {method:?}"),
    )
    .map_err(|e| e.because(&[v5("MQTT-4.12.0-5")]))
}

/// The next packet, which must be an AUTH.
async fn expect_auth(t: &Test, c: &mut Client) -> Result<Auth, CaseError> {
    match c.next_packet(t.timeout()).await? {
        Some(Packet::Auth(a)) => Ok(a),
        Some(other) => Err(CaseError::fail("AUTH", summary::packet(&other))),
        None => Err(CaseError::fail("AUTH", "the connection closed")),
    }
}

/// An AUTH with the SCRAM method, `reason` and `data`.
fn auth(reason: ReasonCode, data: Vec<u8>) -> Auth {
    let mut a = Auth {
        reason_code: reason,
        ..Auth::default()
    };
    a.properties.authentication_method = Some(SCRAM.into());
    a.properties.authentication_data = Some(Bytes::from(data));
    a
}

/// Sends CONNECT with SCRAM's client-first message on the authentication listener and reads
/// the server-first AUTH; returns the client, the SCRAM state and that AUTH.
async fn scram_start(
    t: &Test,
    name: &str,
    password: Option<&str>,
) -> Result<(Client, ScramClient, Auth), CaseError> {
    scram_start_with(t, name, password, true).await
}

/// [`scram_start`], with Request Problem Information 0 unless `problem_information`.
async fn scram_start_with(
    t: &Test,
    name: &str,
    password: Option<&str>,
    problem_information: bool,
) -> Result<(Client, ScramClient, Auth), CaseError> {
    let (user, good) = credentials(t)?;
    let mut scram = ScramClient::new(&user, password.unwrap_or(&good), "tsnonce0123456789");
    let first = Bytes::from(scram.client_first());
    let mut c = t
        .client(name)
        .auth_listener()
        .no_credentials()
        .properties(|p| {
            if !problem_information {
                p.request_problem_information = Some(false);
            }
            p.authentication_method = Some(SCRAM.into());
            p.authentication_data = Some(first);
        })
        .send_connect()
        .await?;
    let server_first = expect_auth(t, &mut c).await?;
    check_auth(&server_first, ReasonCode::CONTINUE_AUTHENTICATION)?;
    let _ = &mut scram;
    Ok((c, scram, server_first))
}

/// Completes the SCRAM exchange begun by [`scram_start`]: CONNACK 0x00 with the method.
async fn scram_connect(t: &Test, name: &str) -> Result<Client, CaseError> {
    let (mut c, mut scram, server_first) = scram_start(t, name, None).await?;
    let data = server_first
        .properties
        .authentication_data
        .clone()
        .unwrap_or_default();
    let last = scram
        .client_final(&data)
        .map_err(|e| CaseError::fail("a SCRAM server-first message", e.to_string()))?;
    c.send(Packet::Auth(auth(
        ReasonCode::CONTINUE_AUTHENTICATION,
        last,
    )))
    .await?;
    let ack = c.expect(connack()).because(&[v5("MQTT-4.12.0-5")]).await?;
    check(ack.reason_code.0 == 0, "CONNACK 0x00", || {
        summary::reason(ack.reason_code)
    })?;
    let method = ack
        .properties
        .authentication_method
        .as_ref()
        .map(|m| m.as_str());
    check(
        method == Some(SCRAM),
        format!("CONNACK with Authentication Method {SCRAM}"),
        || format!("Authentication Method {method:?}"),
    )
    .map_err(|e| e.because(&[v5("MQTT-4.12.0-5")]))?;
    Ok(c)
}

/// A full SCRAM-SHA-256 exchange, then a re-authentication.
const SCRAM_EXCHANGE: Case = Case {
    id: "auth.scram-exchange",
    title: "SCRAM-SHA-256: AUTH 0x18 with the method, CONNACK 0x00 with the method; re-authentication ends with AUTH 0x00",
    protocols: V5,
    statements: &[
        v5("MQTT-4.12.0-2"),
        v5("MQTT-4.12.0-5"),
        v5("MQTT-3.15.2-1"),
    ],
    requires: &[EnhancedAuth],
    body: |t| Box::pin(scram_exchange(t)),
};

async fn scram_exchange(t: &mut Test) -> Verdict {
    let mut c = scram_connect(t, "c").await?;
    c.ping().await?;
    // Re-authentication (5.0 section 4.12.1).
    let (user, password) = credentials(t)?;
    let mut scram = ScramClient::new(&user, &password, "tsnonce9876543210");
    c.send(Packet::Auth(auth(
        ReasonCode::RE_AUTHENTICATE,
        scram.client_first(),
    )))
    .await?;
    let server_first = expect_auth(t, &mut c).await?;
    check_auth(&server_first, ReasonCode::CONTINUE_AUTHENTICATION)?;
    let data = server_first
        .properties
        .authentication_data
        .clone()
        .unwrap_or_default();
    let last = scram
        .client_final(&data)
        .map_err(|e| CaseError::fail("a SCRAM server-first message", e.to_string()))?;
    c.send(Packet::Auth(auth(
        ReasonCode::CONTINUE_AUTHENTICATION,
        last,
    )))
    .await?;
    let done = expect_auth(t, &mut c).await?;
    check_auth(&done, ReasonCode::SUCCESS)?;
    c.ping().await?;
    c.disconnect().await
}

/// SCRAM with a wrong password is refused.
const SCRAM_WRONG_PASSWORD: Case = Case {
    id: "auth.scram-wrong-password-refused",
    title: "SCRAM-SHA-256 with a wrong password: CONNACK 0x80 or above (or none) and the connection closed",
    protocols: V5,
    statements: &[v5("MQTT-4.12.0-4")],
    requires: &[EnhancedAuth],
    body: |t| Box::pin(scram_wrong_password(t)),
};

async fn scram_wrong_password(t: &mut Test) -> Verdict {
    let (mut c, mut scram, server_first) =
        scram_start(t, "c", Some("not-the-password-xyz")).await?;
    let data = server_first
        .properties
        .authentication_data
        .clone()
        .unwrap_or_default();
    let last = scram
        .client_final(&data)
        .map_err(|e| CaseError::fail("a SCRAM server-first message", e.to_string()))?;
    c.send(Packet::Auth(auth(
        ReasonCode::CONTINUE_AUTHENTICATION,
        last,
    )))
    .await?;
    let cite = [v5("MQTT-4.12.0-4")];
    match c.next_packet(t.timeout()).await? {
        None => {
            t.observe("no CONNACK: the server closed the connection");
            Ok(())
        }
        Some(Packet::ConnAck(a)) if a.reason_code.0 >= 0x80 => {
            t.observe(format!("CONNACK {}", summary::reason(a.reason_code)));
            c.expect_closed().because(&cite).await?;
            Ok(())
        }
        Some(other) => Err(CaseError::fail(
            "CONNACK with a reason code of 0x80 or more, or the close",
            summary::packet(&other),
        )
        .because(&cite)),
    }
}

/// AUTH with reserved flags set is malformed.
const AUTH_RESERVED_FLAGS: Case = Case {
    id: "auth.reserved-flags-malformed",
    title: "AUTH with fixed-header flags 0001 during SCRAM closes the connection",
    protocols: V5,
    statements: &[v5("MQTT-3.15.1-1")],
    requires: &[EnhancedAuth],
    body: |t| Box::pin(auth_reserved_flags(t)),
};

async fn auth_reserved_flags(t: &mut Test) -> Verdict {
    let (mut c, mut scram, server_first) = scram_start(t, "c", None).await?;
    let data = server_first
        .properties
        .authentication_data
        .clone()
        .unwrap_or_default();
    let last = scram
        .client_final(&data)
        .map_err(|e| CaseError::fail("a SCRAM server-first message", e.to_string()))?;
    // The right client-final message, in an AUTH whose flags are 0001.
    let mut bytes = bytes::BytesMut::new();
    Packet::Auth(auth(ReasonCode::CONTINUE_AUTHENTICATION, last))
        .encode(Protocol::V5, &mut bytes)
        .map_err(|e| CaseError::Error(e.to_string()))?;
    bytes[0] |= 0x01;
    c.send_raw(bytes.freeze()).await?;
    let closed = c.expect_closed().because(&[v5("MQTT-3.15.1-1")]).await?;
    let _ = closed;
    Ok(())
}

/// A failed re-authentication ends the connection.
const REAUTH_FAILURE: Case = Case {
    id: "auth.reauth-failure-closes",
    title: "Re-authentication with a wrong password: DISCONNECT and the connection closed",
    protocols: V5,
    statements: &[v5("MQTT-4.12.1-2")],
    requires: &[EnhancedAuth],
    body: |t| Box::pin(reauth_failure(t)),
};

async fn reauth_failure(t: &mut Test) -> Verdict {
    let mut c = scram_connect(t, "c").await?;
    let (user, _) = credentials(t)?;
    let mut scram = ScramClient::new(&user, "not-the-password-xyz", "tsnonce5555555555");
    c.send(Packet::Auth(auth(
        ReasonCode::RE_AUTHENTICATE,
        scram.client_first(),
    )))
    .await?;
    let server_first = expect_auth(t, &mut c).await?;
    check_auth(&server_first, ReasonCode::CONTINUE_AUTHENTICATION)?;
    let data = server_first
        .properties
        .authentication_data
        .clone()
        .unwrap_or_default();
    let last = scram
        .client_final(&data)
        .map_err(|e| CaseError::fail("a SCRAM server-first message", e.to_string()))?;
    c.send(Packet::Auth(auth(
        ReasonCode::CONTINUE_AUTHENTICATION,
        last,
    )))
    .await?;
    let closed = c.expect_closed().because(&[v5("MQTT-4.12.1-2")]).await?;
    // 5.0 MQTT-4.12.1-2: the side that notices a failed re-authentication SHOULD send
    // DISCONNECT with an appropriate Reason Code and MUST close.
    match closed.disconnect {
        None => t.short_of(
            "5.0 MQTT-4.12.1-2",
            "c: DISCONNECT with a Reason Code of 0x80 or more before the close",
            "c: the close without DISCONNECT",
        ),
        Some(code) => t.observe(format!(
            "c: DISCONNECT {} before the close",
            summary::reason(code)
        )),
    }
    Ok(())
}

/// With Request Problem Information 0, the server's AUTH carries no Reason String and no User
/// Property: only PUBLISH, CONNACK and DISCONNECT may (found by the mutation score: a User
/// Property added to the server's AUTH went unnoticed).
///
/// ```text
/// c -> CONNECT Request Problem Information 0, Authentication Method SCRAM-SHA-256, client-first
/// c <- AUTH 0x18 (no Reason String, no User Property)
/// ```
const NO_PROBLEM_INFO_IN_AUTH: Case = Case {
    id: "auth.no-problem-information-in-auth",
    title: "With Request Problem Information 0 the server's AUTH has no Reason String or User Property",
    protocols: V5,
    statements: &[v5("MQTT-3.1.2-29")],
    requires: &[EnhancedAuth],
    body: |t| Box::pin(no_problem_info_in_auth(t)),
};

async fn no_problem_info_in_auth(t: &mut Test) -> Verdict {
    let (_c, _scram, server_first) = scram_start_with(t, "c", None, false).await?;
    let props = &server_first.properties;
    check(
        props.reason_string.is_none() && props.user_properties.is_empty(),
        "AUTH without Reason String or User Property (Request Problem Information 0)",
        || {
            format!(
                "AUTH with Reason String {:?} and {} User Properties",
                props.reason_string.as_ref().map(|s| s.as_str()),
                props.user_properties.len()
            )
        },
    )
    .map_err(|e| e.because(&[v5("MQTT-3.1.2-29")]))
}
