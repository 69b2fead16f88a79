//! The load generator: lean MQTT 3.1.1 clients written with the Touchstone codec over tokio TCP
//! (`TCP_NODELAY`), the same for every broker.
//!
//! One run: the subscribers connect and subscribe (each waits for its SUBACK), then one
//! publisher sends `messages` PUBLISHes of a 64-byte payload whose first 8 bytes are a sequence
//! number. At QoS 1 the publisher keeps at most [`WINDOW`] messages unacknowledged and the
//! subscribers acknowledge every delivery. Subscribers check each delivery (QoS, payload size,
//! order) and stop at the last sequence number, at the run's deadline, or when nothing has
//! arrived for [`IDLE`] after the publisher finished.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::{timeout_at, Instant};
use touchstone_codec::{
    Connect, Decoder, Disconnect, Packet, PacketId, PubAck, Publish, QoS, Subscribe, Subscription,
};

const P: touchstone_codec::Protocol = touchstone_codec::Protocol::V3_1_1;
/// Payload size of every message.
pub const PAYLOAD: usize = 64;
/// Unacknowledged QoS 1 PUBLISHes the publisher allows itself.
pub const WINDOW: usize = 100;
/// A subscriber gives up after this long without a delivery once the publisher has finished.
const IDLE: Duration = Duration::from_secs(3);
/// The publisher writes at most about this many bytes per write.
const WRITE_BATCH: usize = 32 * 1024;
/// Connecting and subscribing every client must take less than this.
const SETUP_TIMEOUT: Duration = Duration::from_secs(15);

/// What one run does.
#[derive(Debug, Clone, Copy)]
pub struct Load {
    /// QoS of the PUBLISHes and of the subscriptions.
    pub qos: QoS,
    /// Subscribers of the one topic.
    pub subscribers: usize,
    /// Messages published.
    pub messages: u64,
}

/// What one run measured.
#[derive(Debug, Default)]
pub struct Measured {
    /// Deliveries counted across all subscribers (duplicates excluded).
    pub delivered: u64,
    /// `messages * subscribers`.
    pub expected: u64,
    /// From the first byte published to the last delivery.
    pub elapsed: Duration,
    /// Messages that never arrived (gaps in the sequence numbers plus missing tails).
    pub lost: u64,
    /// Deliveries whose sequence number was not greater than the previous one.
    pub out_of_order: u64,
    /// Protocol surprises and I/O errors, one line each (deduplicated by the caller).
    pub errors: Vec<String>,
}

impl Measured {
    /// Every subscriber got every message exactly once, in order, with no error.
    pub fn complete(&self) -> bool {
        self.delivered == self.expected
            && self.lost == 0
            && self.out_of_order == 0
            && self.errors.is_empty()
    }

    /// Deliveries per second.
    pub fn rate(&self) -> f64 {
        self.delivered as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// Runs one load against the broker at `addr`. `tag` makes client ids and the topic unique;
/// `limit` bounds the run after setup. `probe` is called just before the first PUBLISH and
/// again once every subscriber has finished; its two results are returned with the measurement.
pub async fn run<S>(
    addr: SocketAddr,
    load: Load,
    tag: &str,
    limit: Duration,
    probe: impl Fn() -> S,
) -> (Measured, S, S) {
    let topic = format!("touchstone/bench/{tag}");
    let publisher_done = Arc::new(AtomicBool::new(false));
    let setup_deadline = Instant::now() + SETUP_TIMEOUT;
    let (ready_tx, mut ready_rx) = tokio::sync::mpsc::channel(load.subscribers.max(1));
    let (go_tx, go_rx) = tokio::sync::watch::channel(None::<Instant>);
    let mut subscribers = Vec::with_capacity(load.subscribers);
    for i in 0..load.subscribers {
        subscribers.push(tokio::spawn(subscriber(
            addr,
            format!("{tag}-s{i}"),
            topic.clone(),
            load,
            ready_tx.clone(),
            go_rx.clone(),
            publisher_done.clone(),
        )));
    }
    drop(ready_tx);
    let mut m = Measured {
        expected: load.messages * load.subscribers as u64,
        ..Measured::default()
    };
    // Every subscriber has its SUBACK (or failed) before the first PUBLISH.
    let mut ready = 0;
    while ready < load.subscribers {
        match timeout_at(setup_deadline, ready_rx.recv()).await {
            Ok(Some(Ok(()))) => ready += 1,
            Ok(Some(Err(e))) => {
                m.errors.push(format!("subscriber setup: {e}"));
                ready += 1;
            }
            Ok(None) => break,
            Err(_) => {
                m.errors.push("subscriber setup timed out".into());
                break;
            }
        }
    }
    let publisher = match timeout_at(setup_deadline, connect(addr, &format!("{tag}-p"))).await {
        Ok(Ok(p)) => Some(p),
        Ok(Err(e)) => {
            m.errors.push(format!("publisher connect: {e}"));
            None
        }
        Err(_) => {
            m.errors.push("publisher connect timed out".into());
            None
        }
    };
    let before = probe();
    let start = Instant::now();
    let deadline = start + limit;
    // Subscribers bound their own waits by this deadline.
    let _ = go_tx.send(Some(deadline));
    let mut publisher_stream = None;
    if let Some((stream, buf)) = publisher {
        let (stream, err) = publish(stream, buf, &topic, load, deadline).await;
        if let Some(e) = err {
            m.errors.push(format!("publisher: {e}"));
        }
        publisher_stream = Some(stream);
    }
    publisher_done.store(true, Ordering::Release);
    let mut last = start;
    for s in subscribers {
        // Each subscriber task ends by the deadline plus one read slice on its own.
        match s.await {
            Ok(r) => {
                m.delivered += r.received;
                m.lost += r.lost;
                m.out_of_order += r.out_of_order;
                if let Some(t) = r.last {
                    last = last.max(t);
                }
                m.errors.extend(r.error);
            }
            Err(e) => m.errors.push(format!("subscriber task: {e}")),
        }
    }
    let after = probe();
    m.elapsed = last - start;
    if let Some(mut s) = publisher_stream {
        disconnect(&mut s).await;
    }
    m.errors.sort();
    m.errors.dedup();
    (m, before, after)
}

/// Connects with a clean session and no keep-alive; returns the stream and what was read past
/// the CONNACK.
async fn connect(addr: SocketAddr, client_id: &str) -> Result<(TcpStream, BytesMut), String> {
    let mut s = TcpStream::connect(addr)
        .await
        .map_err(|e| format!("connect: {e}"))?;
    s.set_nodelay(true).map_err(|e| e.to_string())?;
    let connect = Connect {
        client_id: client_id.into(),
        clean_start: true,
        keep_alive: 0,
        ..Connect::default()
    };
    let bytes = Packet::Connect(Box::new(connect))
        .to_bytes(P)
        .map_err(|e| e.to_string())?;
    s.write_all(&bytes).await.map_err(|e| e.to_string())?;
    let mut buf = BytesMut::with_capacity(4096);
    match read_packet(&mut s, &mut buf).await? {
        Packet::ConnAck(c) if c.reason_code.is_success() => Ok((s, buf)),
        Packet::ConnAck(c) => Err(format!("CONNACK {}", c.reason_code.name())),
        p => Err(format!("expected CONNACK, got {:?}", p.packet_type())),
    }
}

async fn read_packet(s: &mut TcpStream, buf: &mut BytesMut) -> Result<Packet, String> {
    let dec = Decoder::new(P);
    loop {
        if let Some(p) = dec.decode(buf).map_err(|e| e.to_string())? {
            return Ok(p);
        }
        if s.read_buf(buf).await.map_err(|e| e.to_string())? == 0 {
            return Err("connection closed".into());
        }
    }
}

/// Sends DISCONNECT and closes (giving up after a second: the result is already measured).
async fn disconnect(s: &mut TcpStream) {
    let Ok(bytes) = Packet::Disconnect(Disconnect::default()).to_bytes(P) else {
        return;
    };
    let _ = tokio::time::timeout(Duration::from_secs(1), async {
        s.write_all(&bytes).await?;
        s.shutdown().await
    })
    .await;
}

/// A PUBLISH frame encoded once by the codec; each message is a copy with the sequence number
/// (first 8 payload bytes) and the packet identifier patched in.
struct Template {
    frame: Bytes,
    /// Offset of the packet identifier (QoS 1), just before the payload.
    id_at: usize,
    /// Offset of the payload.
    seq_at: usize,
}

impl Template {
    fn new(topic: &str, qos: QoS) -> Template {
        let mut publish = Publish::new(topic, Bytes::from(vec![b'x'; PAYLOAD]));
        publish.qos = qos;
        if qos != QoS::AtMostOnce {
            publish.packet_id = PacketId::new(1);
        }
        let frame = Packet::Publish(publish)
            .to_bytes(P)
            .expect("a valid PUBLISH");
        let seq_at = frame.len() - PAYLOAD;
        let t = Template {
            id_at: seq_at - 2,
            seq_at,
            frame: frame.into(),
        };
        // The patching is right: the codec decodes what it produces.
        let mut check = BytesMut::new();
        t.put(&mut check, 0x0102_0304_0506_0708, 0xABCD);
        match Decoder::new(P).decode(&mut check) {
            Ok(Some(Packet::Publish(p))) => {
                assert_eq!(seq(&p.payload), Some(0x0102_0304_0506_0708));
                if qos != QoS::AtMostOnce {
                    assert_eq!(p.packet_id.map(|i| i.get()), Some(0xABCD));
                }
            }
            other => panic!("template does not decode: {other:?}"),
        }
        t
    }

    fn put(&self, out: &mut BytesMut, seq: u64, id: u16) {
        let at = out.len();
        out.extend_from_slice(&self.frame);
        out[at + self.seq_at..at + self.seq_at + 8].copy_from_slice(&seq.to_be_bytes());
        if self.id_at > 0 && self.frame[0] & 0x06 != 0 {
            out[at + self.id_at..at + self.id_at + 2].copy_from_slice(&id.to_be_bytes());
        }
    }
}

fn seq(payload: &[u8]) -> Option<u64> {
    Some(u64::from_be_bytes(payload.get(..8)?.try_into().ok()?))
}

/// Packet identifier of message `seq`: 1..=65535 in turn (the window is far smaller).
fn packet_id(seq: u64) -> u16 {
    (seq % 65535) as u16 + 1
}

/// Publishes every message (and at QoS 1 waits for every PUBACK); returns the stream and the
/// first error.
async fn publish(
    mut s: TcpStream,
    mut inbuf: BytesMut,
    topic: &str,
    load: Load,
    deadline: Instant,
) -> (TcpStream, Option<String>) {
    let template = Template::new(topic, load.qos);
    let qos1 = load.qos != QoS::AtMostOnce;
    let window = if qos1 { WINDOW } else { usize::MAX };
    let dec = Decoder::new(P);
    let mut out = BytesMut::with_capacity(WRITE_BATCH + template.frame.len());
    let mut unacked = vec![false; 65536];
    let mut in_flight = 0usize;
    let (mut sent, mut acked) = (0u64, 0u64);
    let n = load.messages;
    while sent < n || (qos1 && acked < n) {
        while sent < n && in_flight < window && out.len() < WRITE_BATCH {
            let id = packet_id(sent);
            template.put(&mut out, sent, id);
            if qos1 {
                unacked[usize::from(id)] = true;
                in_flight += 1;
            }
            sent += 1;
        }
        if !out.is_empty() {
            match timeout_at(deadline, s.write_all(&out)).await {
                Ok(Ok(())) => out.clear(),
                Ok(Err(e)) => return (s, Some(format!("write: {e}"))),
                Err(_) => return (s, Some(format!("deadline: {sent} sent, {acked} acked"))),
            }
        }
        if !qos1 {
            continue;
        }
        // Wait for PUBACKs when the window is full or everything is sent; otherwise take those
        // already there.
        if in_flight >= window || sent == n {
            match timeout_at(deadline, s.read_buf(&mut inbuf)).await {
                Ok(Ok(0)) => return (s, Some("closed by the broker".into())),
                Ok(Ok(_)) => {}
                Ok(Err(e)) => return (s, Some(format!("read: {e}"))),
                Err(_) => return (s, Some(format!("deadline: {sent} sent, {acked} acked"))),
            }
        } else {
            match s.try_read_buf(&mut inbuf) {
                Ok(0) => return (s, Some("closed by the broker".into())),
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(e) => return (s, Some(format!("read: {e}"))),
            }
        }
        loop {
            match dec.decode(&mut inbuf) {
                Ok(Some(Packet::PubAck(a))) => {
                    let id = usize::from(a.packet_id.get());
                    if !std::mem::take(&mut unacked[id]) {
                        return (s, Some(format!("PUBACK for unknown id {id}")));
                    }
                    in_flight -= 1;
                    acked += 1;
                }
                Ok(Some(p)) => return (s, Some(format!("unexpected {:?}", p.packet_type()))),
                Ok(None) => break,
                Err(e) => return (s, Some(format!("decode: {e}"))),
            }
        }
    }
    (s, None)
}

/// What one subscriber saw.
struct Received {
    received: u64,
    lost: u64,
    out_of_order: u64,
    last: Option<Instant>,
    error: Option<String>,
}

async fn subscriber(
    addr: SocketAddr,
    client_id: String,
    topic: String,
    load: Load,
    ready: tokio::sync::mpsc::Sender<Result<(), String>>,
    mut go: tokio::sync::watch::Receiver<Option<Instant>>,
    publisher_done: Arc<AtomicBool>,
) -> Received {
    let mut r = Received {
        received: 0,
        lost: 0,
        out_of_order: 0,
        last: None,
        error: None,
    };
    let set_up = tokio::time::timeout(SETUP_TIMEOUT, setup(addr, &client_id, &topic, load.qos));
    let (mut s, mut buf) = match set_up
        .await
        .unwrap_or_else(|_| Err("setup timed out".into()))
    {
        Ok(c) => {
            let _ = ready.send(Ok(())).await;
            c
        }
        Err(e) => {
            let _ = ready.send(Err(e.clone())).await;
            r.lost = load.messages;
            r.error = Some(e);
            return r;
        }
    };
    drop(ready);
    // The run's deadline, known once the publisher starts.
    let deadline = match go.wait_for(Option::is_some).await {
        Ok(d) => d.unwrap_or_else(Instant::now),
        Err(_) => Instant::now(),
    };
    let dec = Decoder::new(P);
    let mut acks = BytesMut::with_capacity(4096);
    let mut next = 0u64; // the sequence number expected next
    let mut last_progress = Instant::now();
    let slice = Duration::from_millis(250);
    'run: while next < load.messages {
        if buf.capacity() - buf.len() < 16 * 1024 {
            buf.reserve(64 * 1024);
        }
        let now = Instant::now();
        if now >= deadline {
            r.error = Some("deadline reached".into());
            break;
        }
        if publisher_done.load(Ordering::Acquire) && now - last_progress >= IDLE {
            r.error = Some(format!(
                "nothing received for {IDLE:?} after the last publish"
            ));
            break;
        }
        let read = timeout_at((now + slice).min(deadline), s.read_buf(&mut buf)).await;
        match read {
            Err(_) => continue,
            Ok(Ok(0)) => {
                r.error = Some("closed by the broker".into());
                break;
            }
            Ok(Err(e)) => {
                r.error = Some(format!("read: {e}"));
                break;
            }
            Ok(Ok(_)) => {}
        }
        let before = r.received;
        loop {
            match dec.decode(&mut buf) {
                Ok(Some(Packet::Publish(p))) => {
                    if p.qos != load.qos || p.payload.len() != PAYLOAD {
                        r.error = Some(format!(
                            "delivery at QoS {} with {} payload bytes",
                            p.qos.as_u8(),
                            p.payload.len()
                        ));
                        break 'run;
                    }
                    if let Some(id) = p.packet_id {
                        Packet::PubAck(PubAck::new(id))
                            .encode(P, &mut acks)
                            .expect("a valid PUBACK");
                    }
                    match seq(&p.payload) {
                        Some(q) if q >= next && q < load.messages => {
                            r.lost += q - next;
                            r.received += 1;
                            next = q + 1;
                        }
                        _ => r.out_of_order += 1,
                    }
                }
                Ok(Some(p)) => {
                    r.error = Some(format!("unexpected {:?}", p.packet_type()));
                    break 'run;
                }
                Ok(None) => break,
                Err(e) => {
                    r.error = Some(format!("decode: {e}"));
                    break 'run;
                }
            }
        }
        if !acks.is_empty() {
            match timeout_at(deadline, s.write_all(&acks)).await {
                Ok(Ok(())) => acks.clear(),
                Ok(Err(e)) => {
                    r.error = Some(format!("write: {e}"));
                    break;
                }
                Err(_) => {
                    r.error = Some("deadline reached writing PUBACKs".into());
                    break;
                }
            }
        }
        if r.received > before {
            last_progress = Instant::now();
            r.last = Some(last_progress);
        }
    }
    r.lost += load.messages - next;
    disconnect(&mut s).await;
    r
}

/// Connects and subscribes to `topic` at `qos`; returns after the SUBACK granted it.
async fn setup(
    addr: SocketAddr,
    client_id: &str,
    topic: &str,
    qos: QoS,
) -> Result<(TcpStream, BytesMut), String> {
    let (mut s, mut buf) = connect(addr, client_id).await?;
    let subscribe = Subscribe {
        packet_id: PacketId::new(1).expect("non-zero"),
        properties: Default::default(),
        filters: vec![Subscription::new(topic, qos)],
    };
    let bytes = Packet::Subscribe(subscribe)
        .to_bytes(P)
        .map_err(|e| e.to_string())?;
    s.write_all(&bytes).await.map_err(|e| e.to_string())?;
    match read_packet(&mut s, &mut buf).await? {
        Packet::SubAck(a) if a.reason_codes.first().map(|c| c.as_u8()) == Some(qos.as_u8()) => {
            Ok((s, buf))
        }
        Packet::SubAck(a) => Err(format!("SUBACK {:?}", a.reason_codes)),
        p => Err(format!("expected SUBACK, got {:?}", p.packet_type())),
    }
}
