//! Executing a burst against a live broker, under deadlines, with the oracles watching.

use std::time::Duration;

use tokio::time::Instant;
use touchstone_codec::raw::Frame;
use touchstone_codec::{Decoder, Packet, Protocol, Statement};

use super::gen::Burst;
use super::judge::{judge_sent, Expect, SentView, Watch};
use super::Oracle;
use crate::harness::redact::Redactor;
use crate::net::reader::{PacketReader, Read};
use crate::net::transport::{CloseKind, Connector, Received, Transport};

/// How bursts are executed.
#[derive(Debug, Clone)]
pub struct ExecConfig {
    /// The target.
    pub connector: Connector,
    /// How long the server has to react (answer a PINGREQ, or close after a violation).
    pub deadline: Duration,
    /// User name and password for the liveness client.
    pub username: Option<String>,
    /// Password.
    pub password: Option<Vec<u8>>,
    /// Topic and client-id prefix (unique to the seed).
    pub prefix: String,
}

impl ExecConfig {
    /// Masks the secrets of what is recorded (the password among them).
    pub fn redactor(&self) -> Redactor {
        Redactor::new(self.password.clone())
    }
}

/// A rule broken during one execution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    /// The oracle.
    pub oracle: Oracle,
    /// The statements broken (with their versions).
    pub statements: Vec<Statement>,
    /// What happened.
    pub message: String,
    /// The client (connection) it happened on; `None` for liveness.
    pub client: Option<usize>,
}

/// What one execution gave.
#[derive(Debug, Clone, Default)]
pub struct Execution {
    /// Rules broken.
    pub hits: Vec<Hit>,
    /// Packets (writes) sent.
    pub writes: usize,
    /// Bytes sent.
    pub bytes: usize,
    /// What happened, line by line.
    pub transcript: Vec<String>,
    /// Behaviour no statement forbids but worth knowing (lenient cases).
    pub observations: Vec<String>,
}

/// Runs `burst`, then (if `liveness`) checks that a fresh client can still do a QoS 1 round
/// trip.
pub async fn execute(cfg: &ExecConfig, burst: &Burst, id: u64, liveness: bool) -> Execution {
    let redactor = cfg.redactor();
    let mut ex = Execution::default();
    let mut conns: Vec<Option<Transport>> = Vec::new();
    let mut sent: Vec<Vec<u8>> = vec![Vec::new(); burst.clients];
    let mut early: Vec<Vec<u8>> = vec![Vec::new(); burst.clients];
    let used: Vec<bool> = (0..burst.clients)
        .map(|c| burst.steps.iter().any(|s| s.client == c))
        .collect();
    for (c, used) in used.iter().enumerate() {
        if !used {
            conns.push(None);
            continue;
        }
        match cfg
            .connector
            .connect(cfg.deadline.max(Duration::from_secs(3)))
            .await
        {
            Ok(t) => {
                ex.transcript.push(format!("client {c}: connected"));
                conns.push(Some(t));
            }
            Err(e) => {
                ex.transcript.push(format!("client {c}: {e}"));
                ex.hits.push(Hit {
                    oracle: Oracle::Liveness,
                    statements: vec![],
                    message: format!("could not open a connection to the target: {e}"),
                    client: Some(c),
                });
                close_all(&mut conns).await;
                return ex;
            }
        }
    }
    for step in &burst.steps {
        let Some(t) = conns[step.client].as_mut() else {
            continue;
        };
        // Read what is already there without waiting, so that a close is seen before writing
        // into a dead connection (whose reset would lose what the server sent).
        drain(t, &mut early[step.client]).await;
        if t.is_closed() {
            ex.transcript.push(format!(
                "client {}: (closed; not sent: {})",
                step.client, step.note
            ));
            continue;
        }
        ex.transcript.push(format!(
            "client {} -> {}  {}",
            step.client,
            step.note,
            touchstone_codec::hex::encode(&masked(&redactor, &step.bytes))
        ));
        ex.writes += 1;
        ex.bytes += step.bytes.len();
        sent[step.client].extend_from_slice(&step.bytes);
        if let Err(e) = t.send(&step.bytes).await {
            ex.transcript.push(format!("client {}: {e}", step.client));
        }
    }
    // Probe and judge each connection.
    let mut views: Vec<Option<SentView>> = Vec::new();
    for (c, t) in conns.iter_mut().enumerate() {
        let Some(t) = t.as_mut() else {
            views.push(None);
            continue;
        };
        let mut view = judge_sent(&sent[c]);
        let probe = !matches!(view.expect, Expect::Nothing(_)) && !t.is_closed();
        if probe {
            ex.transcript
                .push(format!("client {c} -> PINGREQ (probe)  c000"));
            if t.send(&[0xC0, 0x00]).await.is_ok() {
                ex.writes += 1;
                ex.bytes += 2;
                if let Expect::Responsive { pingreqs, .. } = &mut view.expect {
                    *pingreqs += 1;
                }
            }
        }
        views.push(Some(view));
    }
    for (c, t) in conns.iter_mut().enumerate() {
        let (Some(t), Some(view)) = (t.as_mut(), views[c].as_ref()) else {
            continue;
        };
        match &view.expect {
            Expect::Responsive { .. } => ex.transcript.push(format!(
                "client {c}: valid traffic: expect a PINGRESP to every PINGREQ (or a close)"
            )),
            Expect::Close(v) => ex.transcript.push(format!(
                "client {c}: violation at packet {} ({}): expect the server to close [{}]",
                v.packet,
                v.what,
                cite(&v.statements)
            )),
            Expect::Lenient(v) => ex.transcript.push(format!(
                "client {c}: the codec rejects packet {} ({}) but no statement fixes the server's reaction: nothing owed [{}]",
                v.packet,
                v.what,
                cite(&v.statements)
            )),
            Expect::Nothing(why) => ex
                .transcript
                .push(format!("client {c}: nothing owed: {why}")),
        }
        let hits = watch(
            cfg,
            t,
            view,
            &early[c],
            c,
            &mut ex.transcript,
            &mut ex.observations,
        )
        .await;
        ex.hits.extend(hits);
    }
    close_all(&mut conns).await;
    if liveness {
        match live(cfg, burst.protocol, id).await {
            Ok(()) => ex.transcript.push("liveness: QoS 1 round trip done".into()),
            Err(e) => {
                ex.transcript.push(format!("liveness: {e}"));
                ex.hits.push(Hit {
                    oracle: Oracle::Liveness,
                    statements: vec![],
                    message: format!(
                        "after the burst, a fresh client could not complete a QoS 1 round trip within {:.1} s: {e}",
                        live_deadline(cfg).as_secs_f64()
                    ),
                    client: None,
                });
            }
        }
    }
    ex
}

fn cite(s: &[Statement]) -> String {
    s.iter()
        .map(|s| s.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

async fn close_all(conns: &mut [Option<Transport>]) {
    for t in conns.iter_mut().flatten() {
        if !t.is_closed() {
            t.close().await;
        }
    }
}

/// Reads whatever is already buffered, without waiting (a deadline already passed still polls
/// the read once).
async fn drain(t: &mut Transport, into: &mut Vec<u8>) {
    loop {
        match t.recv(Instant::now()).await {
            Received::Data(d) => into.extend_from_slice(&d),
            Received::Closed(_) | Received::Timeout => return,
        }
    }
}

async fn watch(
    cfg: &ExecConfig,
    t: &mut Transport,
    view: &SentView,
    early: &[u8],
    c: usize,
    transcript: &mut Vec<String>,
    observations: &mut Vec<String>,
) -> Vec<Hit> {
    let mut w = Watch::new(view);
    w.feed(early);
    let (quiet, deadline) = match view.expect {
        Expect::Nothing(_) => (true, Instant::now() + Duration::from_millis(30)),
        Expect::Lenient(_) => (true, Instant::now() + Duration::from_millis(300)),
        _ => (false, Instant::now() + cfg.deadline),
    };
    let mut closed: Option<CloseKind> = if t.is_closed() {
        Some(CloseKind::Closed)
    } else {
        None
    };
    let done = |w: &Watch| match &view.expect {
        Expect::Responsive { pingreqs, .. } => w.pingresps >= *pingreqs && w.connack.is_some(),
        Expect::Close(v) | Expect::Lenient(v) => w.pingresps > v.pingreqs_before,
        Expect::Nothing(_) => false,
    };
    while closed.is_none() && !done(&w) {
        match t.recv(deadline).await {
            Received::Data(d) => w.feed(&d),
            Received::Closed(k) => closed = Some(k),
            Received::Timeout => break,
        }
    }
    let redactor = cfg.redactor();
    for line in &w.log {
        transcript.push(redactor.text(&format!("client {c} <- {line}")));
    }
    match &closed {
        Some(k) => transcript.push(format!("client {c}: {k}")),
        None if quiet => transcript.push(format!("client {c}: (no close; none required)")),
        None => {}
    }
    let mut hits: Vec<Hit> = w
        .breaches
        .iter()
        .map(|b| Hit {
            oracle: b.oracle,
            statements: b.statements.clone(),
            message: b.message.clone(),
            client: Some(c),
        })
        .collect();
    let protocol = view.protocol;
    let secs = cfg.deadline.as_secs_f64();
    observations.extend(w.observations.iter().cloned());
    if w.broken() {
        // The server's bytes stopped decoding: its answers can no longer be counted.
        return hits;
    }
    match &view.expect {
        Expect::Responsive {
            pingreqs,
            connack_may_not_fit,
        } => {
            if let (None, None, Some(n)) = (&closed, w.connack, connack_may_not_fit) {
                // 5.0 [MQTT-3.1.2-24]: the server must not send a CONNACK larger than the
                // client allows, and nothing says what it does instead.
                let what = format!(
                    "the server sent no CONNACK and kept the connection open: the client's Maximum Packet Size {n} may be too small for its CONNACK (5.0 MQTT-3.1.2-24)"
                );
                transcript.push(format!("client {c}: observation: {what} (allowed)"));
                observations.push(what);
            } else if w.connack == Some(false) && closed.is_none() {
                // A refused connection must be closed: 3.1.1 [MQTT-3.2.2-5], 5.0 [MQTT-3.2.2-7].
                let s = if protocol.is_some_and(Protocol::is_v5) {
                    Statement::v5("MQTT-3.2.2-7")
                } else {
                    Statement::v311("MQTT-3.2.2-5")
                };
                hits.push(Hit {
                    oracle: if w.pingresps > 0 {
                        Oracle::ContinuedAfterViolation
                    } else {
                        Oracle::Hang
                    },
                    statements: vec![s],
                    message: format!(
                        "the server refused the connection in CONNACK but did not close it within {secs:.1} s"
                    ),
                    client: Some(c),
                });
            } else if closed.is_none() && w.pingresps < *pingreqs {
                let s = if protocol.is_some_and(Protocol::is_v5) {
                    Statement::v5("MQTT-3.12.4-1")
                } else {
                    Statement::v311("MQTT-3.12.4-1")
                };
                hits.push(Hit {
                    oracle: Oracle::Hang,
                    statements: vec![s],
                    message: format!(
                        "after valid packets, {} of {pingreqs} PINGREQs were answered and the connection was not closed within {secs:.1} s",
                        w.pingresps
                    ),
                    client: Some(c),
                });
            }
        }
        Expect::Close(v) => {
            if w.pingresps > v.pingreqs_before {
                hits.push(Hit {
                    oracle: Oracle::ContinuedAfterViolation,
                    statements: v.statements.clone(),
                    message: format!(
                        "after a protocol violation ({}) the server answered a later PINGREQ instead of closing the connection",
                        v.what
                    ),
                    client: Some(c),
                });
            } else if closed.is_none() {
                hits.push(Hit {
                    oracle: Oracle::Hang,
                    statements: v.statements.clone(),
                    message: format!(
                        "after a protocol violation ({}) the server neither closed the connection nor answered within {secs:.1} s",
                        v.what
                    ),
                    client: Some(c),
                });
            }
        }
        Expect::Lenient(v) => {
            let reaction = if w.pingresps > v.pingreqs_before {
                "went on"
            } else if closed.is_some() {
                "closed the connection"
            } else {
                "neither closed nor answered (allowed)"
            };
            transcript.push(format!("client {c}: observation: the server {reaction}"));
            observations.push(format!("after {}: the server {reaction}", v.what));
        }
        Expect::Nothing(_) => {}
    }
    hits
}

fn live_deadline(cfg: &ExecConfig) -> Duration {
    cfg.deadline.max(Duration::from_secs(2)) * 2
}

/// The liveness oracle: CONNECT, SUBSCRIBE QoS 1, PUBLISH QoS 1 to it, PUBACK and the
/// message back, all within the deadline.
pub async fn live(cfg: &ExecConfig, protocol: Protocol, id: u64) -> Result<(), String> {
    let deadline = Instant::now() + live_deadline(cfg);
    let mut t = cfg
        .connector
        .connect(live_deadline(cfg))
        .await
        .map_err(|e| e.to_string())?;
    let r = round_trip(cfg, &mut t, protocol, id, deadline).await;
    t.close().await;
    r
}

async fn round_trip(
    cfg: &ExecConfig,
    t: &mut Transport,
    protocol: Protocol,
    id: u64,
    deadline: Instant,
) -> Result<(), String> {
    let v5 = protocol.is_v5();
    let topic = format!("touchstone/fuzz/{}/live/{id}", cfg.prefix);
    let mut flags = 0x02;
    if cfg.username.is_some() {
        flags |= 0x80;
    }
    if cfg.password.is_some() {
        flags |= 0x40;
    }
    let mut connect = Frame::new(0x10)
        .string("MQTT")
        .u8(protocol.level())
        .u8(flags)
        .u16(30);
    if v5 {
        connect = connect.u8(0);
    }
    connect = connect.string(format!("fz{}live{id}", cfg.prefix));
    if let Some(u) = &cfg.username {
        connect = connect.string(u);
    }
    if let Some(p) = &cfg.password {
        connect = connect.string(p);
    }
    let props = |f: Frame| if v5 { f.u8(0) } else { f };
    let subscribe = props(Frame::new(0x82).u16(1)).string(&topic).u8(1);
    let publish = props(Frame::new(0x32).string(&topic).u16(2)).bytes(b"live");
    let mut r = Reader(PacketReader::new(Decoder::new(protocol)));
    send(t, &connect.to_bytes()).await?;
    match r.next(t, deadline).await? {
        Packet::ConnAck(c) if c.reason_code.as_u8() == 0 => {}
        other => {
            return Err(format!(
                "CONNACK 0 expected, got {}",
                super::judge::summary(&other)
            ))
        }
    }
    send(t, &subscribe.to_bytes()).await?;
    loop {
        match r.next(t, deadline).await? {
            Packet::SubAck(s) if s.packet_id.get() == 1 => {
                if s.reason_codes.iter().any(|c| !c.is_success()) {
                    return Err(format!(
                        "SUBSCRIBE refused: {}",
                        super::judge::summary(&Packet::SubAck(s))
                    ));
                }
                break;
            }
            Packet::Publish(_) => {}
            other => {
                return Err(format!(
                    "SUBACK expected, got {}",
                    super::judge::summary(&other)
                ))
            }
        }
    }
    send(t, &publish.to_bytes()).await?;
    let (mut puback, mut message) = (false, false);
    while !(puback && message) {
        match r.next(t, deadline).await? {
            Packet::PubAck(a) if a.packet_id.get() == 2 => puback = true,
            Packet::Publish(p) if p.topic.as_str() == topic => {
                message = true;
                if let Some(id) = p.packet_id {
                    let ack = Frame::new(0x40).u16(id.get());
                    send(t, &ack.to_bytes()).await?;
                }
            }
            Packet::Publish(_) => {}
            other => {
                return Err(format!(
                    "PUBACK and the message expected, got {}",
                    super::judge::summary(&other)
                ))
            }
        }
    }
    let _ = t.send(&[0xE0, 0x00]).await;
    Ok(())
}

async fn send(t: &mut Transport, b: &[u8]) -> Result<(), String> {
    t.send(b).await.map_err(|e| e.to_string())
}

/// The probe's reader: a packet, or why none came, in words.
struct Reader(PacketReader);

impl Reader {
    async fn next(&mut self, t: &mut Transport, deadline: Instant) -> Result<Packet, String> {
        match self.0.next(t, deadline).await {
            Read::Packet(f) => Ok(f.packet),
            Read::Invalid(e) => Err(format!("undecodable bytes from the server: {}", e.error)),
            Read::Closed(k) => Err(format!("connection {k}")),
            Read::Timeout => Err("no answer before the deadline".into()),
        }
    }
}

/// `bytes` with their secrets masked (as recorded in transcripts and replay files).
pub fn masked(redactor: &Redactor, bytes: &[u8]) -> Vec<u8> {
    match redactor.bytes(bytes) {
        Some((m, _)) => m.to_vec(),
        None => bytes.to_vec(),
    }
}
