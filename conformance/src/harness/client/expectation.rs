//! Expectations: a packet matching a pattern, or the close of the connection, within a time.
//! Both are builders that run when awaited: `c.expect(p).within(d).because(&[..]).await?`.

use std::future::IntoFuture;
use std::time::Duration;

use bytes::Bytes;
use tokio::time::Instant;
use touchstone_codec::{Packet, ReasonCode, Statement};

use super::{Client, Event};
use crate::harness::expect::Pattern;
use crate::harness::summary;
use crate::harness::verdict::{BoxFuture, CaseError};
use crate::net::transport::CloseKind;

/// An expectation of a packet: see [`Client::expect`].
pub struct Expectation<'c, P> {
    client: &'c mut Client,
    pattern: P,
    within: Option<Duration>,
    because: Vec<Statement>,
}

impl<'c, P: Pattern> Expectation<'c, P> {
    pub(super) fn new(client: &'c mut Client, pattern: P) -> Self {
        Expectation {
            client,
            pattern,
            within: None,
            because: Vec::new(),
        }
    }

    /// Waits at most `d` (instead of the run's default).
    pub fn within(mut self, d: Duration) -> Self {
        self.within = Some(d);
        self
    }

    /// A failure of this expectation cites `statements` (besides the case's).
    pub fn because(mut self, statements: &[Statement]) -> Self {
        self.because.extend_from_slice(statements);
        self
    }

    async fn run(self) -> Result<P::Output, CaseError> {
        let Expectation {
            client,
            pattern,
            within,
            because,
        } = self;
        let within = within.unwrap_or(client.shared.run.timing.expect);
        let deadline = Instant::now() + within;
        loop {
            if let Some(i) = client.inbox.iter().position(|p| pattern.concerns(p)) {
                let Some(packet) = client.inbox.remove(i) else {
                    continue;
                };
                return match pattern.check(&packet) {
                    Ok(()) => pattern.output(packet).ok_or_else(|| {
                        CaseError::Error(format!(
                            "pattern {} matched but gave no output",
                            pattern.describe()
                        ))
                    }),
                    Err(why) => Err(client
                        .fail(
                            pattern.describe(),
                            format!("{} ({why})", summary::packet(&packet)),
                        )
                        .because(&because)),
                };
            }
            match client.next_event(deadline).await? {
                Event::Packet(p) => client.inbox.push_back(p),
                Event::Closed(kind) => {
                    let got = with_pending(client, format!("the connection was {kind}"));
                    return Err(client.fail(pattern.describe(), got).because(&because));
                }
                Event::Timeout => {
                    let got = with_pending(
                        client,
                        format!("nothing within {:.1} s", within.as_secs_f64()),
                    );
                    return Err(client.fail(pattern.describe(), got).because(&because));
                }
            }
        }
    }
}

fn with_pending(client: &Client, got: String) -> String {
    let pending = client.pending();
    if pending.is_empty() {
        got
    } else {
        format!("{got}; received meanwhile: {pending}")
    }
}

impl<'c, P: Pattern + 'c> IntoFuture for Expectation<'c, P> {
    type Output = Result<P::Output, CaseError>;
    type IntoFuture = BoxFuture<'c, Self::Output>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.run())
    }
}

/// How the server closed a connection: see [`Client::expect_closed`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Closed {
    /// Time from the start of the expectation to the close.
    pub after: Duration,
    /// The reason code of the server's DISCONNECT before the close (5.0), if it sent one.
    pub disconnect: Option<ReasonCode>,
    /// How the transport ended.
    pub kind: CloseKind,
}

/// Raw bytes read until the close: see [`Client::read_until_closed`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawRead {
    /// Everything received.
    pub bytes: Bytes,
    /// How the connection ended; `None` if it was still open at the deadline.
    pub closed: Option<CloseKind>,
}

/// An expectation that the server closes the connection.
///
/// A 5.0 server may send DISCONNECT with a reason code of 0x80 or more first; that counts, and
/// the observation says which was seen. Packets that are not DISCONNECT are ignored before it;
/// after a DISCONNECT nothing else may come (5.0 MQTT-3.14.4-1).
pub struct CloseExpectation<'c> {
    client: &'c mut Client,
    within: Option<Duration>,
    because: Vec<Statement>,
}

impl<'c> CloseExpectation<'c> {
    pub(super) fn new(client: &'c mut Client) -> Self {
        CloseExpectation {
            client,
            within: None,
            because: Vec::new(),
        }
    }

    /// Waits at most `d` (instead of the run's default).
    pub fn within(mut self, d: Duration) -> Self {
        self.within = Some(d);
        self
    }

    /// A failure of this expectation cites `statements` (besides the case's).
    pub fn because(mut self, statements: &[Statement]) -> Self {
        self.because.extend_from_slice(statements);
        self
    }

    async fn run(self) -> Result<Closed, CaseError> {
        let CloseExpectation {
            client,
            within,
            because,
        } = self;
        let within = within.unwrap_or(client.shared.run.timing.expect);
        let start = Instant::now();
        let deadline = start + within;
        let mut disconnect: Option<ReasonCode> = None;
        let earlier: Vec<Packet> = client.inbox.drain(..).collect();
        let mut queue = earlier.into_iter();
        loop {
            let event = match queue.next() {
                Some(p) => Event::Packet(p),
                None => client.next_event(deadline).await?,
            };
            match event {
                Event::Packet(Packet::Disconnect(d)) => {
                    if client.protocol.is_v5() && !d.reason_code.is_success() {
                        disconnect = Some(d.reason_code);
                    } else if client.protocol.is_v5() {
                        return Err(client
                            .fail(
                                "the connection closed, or DISCONNECT with a reason code of 0x80 or more and then the close",
                                summary::packet(&Packet::Disconnect(d)),
                            )
                            .because(&because));
                    } else {
                        client.shared.observe(format!(
                            "{}: the 3.1.1 server sent DISCONNECT (a client-only packet in 3.1.1) before closing",
                            client.label
                        ));
                        disconnect = Some(d.reason_code);
                    }
                }
                Event::Packet(p) => {
                    if disconnect.is_some() && client.protocol.is_v5() {
                        return Err(client
                            .fail("nothing after the server's DISCONNECT", summary::packet(&p))
                            .because(&[Statement::v5("MQTT-3.14.4-1")]));
                    }
                    client.inbox.push_back(p);
                }
                Event::Closed(kind) => {
                    let after = start.elapsed();
                    let how = match disconnect {
                        Some(code) => format!("DISCONNECT {}, then", summary::reason(code)),
                        None => "no DISCONNECT;".to_string(),
                    };
                    client.shared.observe(format!(
                        "{}: {how} {kind} after {:.2} s",
                        client.label,
                        after.as_secs_f64()
                    ));
                    return Ok(Closed {
                        after,
                        disconnect,
                        kind,
                    });
                }
                Event::Timeout => {
                    let got = match disconnect {
                        Some(code) => format!(
                            "DISCONNECT {} but the connection was still open after {:.1} s",
                            summary::reason(code),
                            within.as_secs_f64()
                        ),
                        None => format!(
                            "the connection was still open after {:.1} s",
                            within.as_secs_f64()
                        ),
                    };
                    let mut because = because;
                    if disconnect.is_some() {
                        because.push(Statement::v5("MQTT-3.14.4-2"));
                    }
                    return Err(client
                        .fail(
                            format_args!(
                                "the server to close the connection within {:.1} s",
                                within.as_secs_f64()
                            ),
                            with_pending(client, got),
                        )
                        .because(&because));
                }
            }
        }
    }
}

impl<'c> IntoFuture for CloseExpectation<'c> {
    type Output = Result<Closed, CaseError>;
    type IntoFuture = BoxFuture<'c, Self::Output>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.run())
    }
}
