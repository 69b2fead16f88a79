//! The mutation proxy: a TCP proxy in front of a broker that frames each direction with the
//! codec's [`Framer`] and lets one [`Mutant`] change the packets it targets. [`Flow`] is the
//! sans-IO part (packets in, what to send out); [`Proxy`] the tokio shell around it.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use tokio::time::Instant;
use touchstone_codec::{peek_protocol, Decoder, Framer, Protocol};

use super::edit::edit;
use super::mutant::{Mutant, Operator, Way, DELAY, HOLD};

/// A DISCONNECT (normal disconnection) as either version writes it.
const DISCONNECT: &[u8] = &[0xE0, 0x00];
/// A PINGRESP.
const PINGRESP: &[u8] = &[0xD0, 0x00];

/// What the proxy does next on one direction of one connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Write these bytes.
    Send(Bytes),
    /// Write these bytes [`DELAY`] after they arrived (what follows waits behind them).
    Delay(Bytes),
    /// Keep these bytes back until the next packet has been sent, or [`HOLD`] has passed
    /// (then [`Flow::release`] gives them).
    Hold(Bytes),
}

/// One direction of one connection: the packets that pass, and how the mutant changes them.
#[derive(Debug)]
pub struct Flow {
    mutant: Option<Mutant>,
    way: Way,
    seen: bool,
    held: Option<Bytes>,
    applied: Arc<AtomicUsize>,
}

impl Flow {
    /// A direction `way`; `applied` counts the packets the mutant changed.
    pub fn new(mutant: Option<Mutant>, way: Way, applied: Arc<AtomicUsize>) -> Flow {
        Flow {
            mutant,
            way,
            seen: false,
            held: None,
            applied,
        }
    }

    /// The packet held back for a swap, once [`HOLD`] has passed without a next packet (or
    /// the connection ends).
    pub fn release(&mut self) -> Option<Bytes> {
        self.held.take()
    }

    /// What to do with the whole packet `raw`: a packet held back for a swap goes right
    /// after the next one.
    pub fn packet(&mut self, protocol: Protocol, raw: Bytes) -> Vec<Action> {
        let mut actions = self.mutate(protocol, raw);
        if let Some(h) = self.held.take() {
            match actions.first() {
                // Two of the type in a row: the second goes first, then the first.
                Some(Action::Hold(second)) => {
                    actions = vec![Action::Send(second.clone()), Action::Send(h)];
                }
                _ => actions.push(Action::Send(h)),
            }
        } else if let Some(Action::Hold(b)) = actions.first() {
            self.held = Some(b.clone());
        }
        actions
    }

    fn mutate(&mut self, protocol: Protocol, raw: Bytes) -> Vec<Action> {
        let Some(m) = self.mutant.filter(|m| m.targets(raw[0], self.way)) else {
            return vec![Action::Send(raw)];
        };
        let first = !self.seen;
        self.seen = true;
        let actions = match m.operator {
            Operator::Drop => vec![],
            Operator::DropFirst if first => vec![],
            Operator::DropFirst => return vec![Action::Send(raw)],
            Operator::Duplicate => vec![Action::Send(raw.clone()), Action::Send(raw)],
            Operator::Delay => vec![Action::Delay(raw)],
            Operator::Reorder => vec![Action::Hold(raw)],
            Operator::InjectDisconnect => {
                vec![
                    Action::Send(Bytes::from_static(DISCONNECT)),
                    Action::Send(raw),
                ]
            }
            Operator::InjectPingResp => {
                vec![
                    Action::Send(raw),
                    Action::Send(Bytes::from_static(PINGRESP)),
                ]
            }
            op => match edit(op, protocol, &raw) {
                Some(out) => vec![Action::Send(out.into())],
                None => return vec![Action::Send(raw)],
            },
        };
        self.applied.fetch_add(1, Ordering::Relaxed);
        actions
    }
}

/// A running proxy; dropping it stops it and the connections through it.
pub struct Proxy {
    addr: SocketAddr,
    applied: Arc<AtomicUsize>,
    task: JoinHandle<()>,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Proxy {
    /// Starts a proxy on a free loopback port in front of `upstream`, applying `mutant`
    /// (none: every byte passes unchanged).
    pub async fn start(upstream: SocketAddr, mutant: Option<Mutant>) -> std::io::Result<Proxy> {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let applied = Arc::new(AtomicUsize::new(0));
        let count = applied.clone();
        let task = tokio::spawn(async move {
            let mut connections = tokio::task::JoinSet::new();
            while let Ok((client, _)) = listener.accept().await {
                let applied = count.clone();
                connections.spawn(connection(client, upstream, mutant, applied));
                // Reap the finished ones so that a long run keeps no dead tasks.
                while connections.try_join_next().is_some() {}
            }
        });
        Ok(Proxy {
            addr,
            applied,
            task,
        })
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// How many packets the mutant has changed so far.
    pub fn applied(&self) -> usize {
        self.applied.load(Ordering::Relaxed)
    }
}

async fn connection(
    client: TcpStream,
    upstream: SocketAddr,
    mutant: Option<Mutant>,
    applied: Arc<AtomicUsize>,
) {
    let Ok(broker) = TcpStream::connect(upstream).await else {
        return;
    };
    let _ = client.set_nodelay(true);
    let _ = broker.set_nodelay(true);
    // 0 until the client's CONNECT names the version.
    let level = Arc::new(AtomicU8::new(0));
    let (cr, cw) = client.into_split();
    let (br, bw) = broker.into_split();
    let up = Flow::new(mutant, Way::ToServer, applied.clone());
    let down = Flow::new(mutant, Way::ToClient, applied);
    tokio::join!(pump(cr, bw, up, level.clone()), pump(br, cw, down, level));
}

fn protocol_of(level: u8) -> Protocol {
    match level {
        5 => Protocol::V5,
        3 => Protocol::V3_1,
        _ => Protocol::V3_1_1,
    }
}

/// Moves one direction through `flow` until either side closes. Reading never waits on
/// writing: a writer task sends each packet when it is due, so a delayed packet is late by
/// [`DELAY`] from when it arrived (and the packets behind it wait for it, as on any stream),
/// not by [`DELAY`] more for each one before it.
async fn pump(mut from: OwnedReadHalf, to: OwnedWriteHalf, mut flow: Flow, level: Arc<AtomicU8>) {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel::<(Option<Instant>, Bytes)>();
    let writer = tokio::spawn(write_loop(to, rx));
    let mut framer: Option<Framer> = None;
    // Bytes read before the version is known (the client's CONNECT arriving in pieces).
    let mut pending = Vec::new();
    let mut passthrough = false;
    let mut held_until: Option<Instant> = None;
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = tokio::select! {
            r = from.read(&mut buf) => match r {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            },
            () = tokio::time::sleep_until(held_until.unwrap_or_else(Instant::now)), if held_until.is_some() => {
                held_until = None;
                if let Some(bytes) = flow.release() {
                    let _ = tx.send((None, bytes));
                }
                continue;
            }
        };
        if passthrough {
            let _ = tx.send((None, Bytes::copy_from_slice(&buf[..n])));
            continue;
        }
        let framer = match framer.as_mut() {
            Some(f) => {
                f.push(&buf[..n]);
                f
            }
            None => {
                pending.extend_from_slice(&buf[..n]);
                let protocol = match flow.way {
                    Way::ToServer => match peek_protocol(&pending) {
                        Ok(None) => continue,
                        Ok(Some(p)) => {
                            level.store(p.level(), Ordering::SeqCst);
                            p
                        }
                        Err(_) => Protocol::V3_1_1,
                    },
                    Way::ToClient => protocol_of(level.load(Ordering::SeqCst)),
                };
                let mut f = Framer::new(Decoder::new(protocol));
                f.push(&std::mem::take(&mut pending));
                framer.insert(f)
            }
        };
        let protocol = framer.decoder().protocol();
        let mut out = Vec::new();
        loop {
            match framer.next_frame() {
                Ok(None) => break,
                Ok(Some(f)) => out.extend(flow.packet(protocol, f.raw)),
                Err(e) if e.resumable => out.extend(flow.packet(protocol, e.raw)),
                Err(e) => {
                    // The stream has lost its framing: everything passes as it is from here.
                    out.push(Action::Send(e.raw));
                    out.push(Action::Send(framer.take_buffered()));
                    passthrough = true;
                    break;
                }
            }
        }
        let now = Instant::now();
        for action in out {
            match action {
                Action::Send(bytes) => {
                    let _ = tx.send((None, bytes));
                }
                Action::Delay(bytes) => {
                    let _ = tx.send((Some(now + DELAY), bytes));
                }
                Action::Hold(_) => held_until = Some(now + HOLD),
            }
        }
        if flow.held.is_none() {
            held_until = None;
        }
    }
    if let Some(h) = flow.release() {
        let _ = tx.send((None, h));
    }
    drop(tx);
    let _ = writer.await;
}

/// Writes each packet when it is due, then shuts the write side down.
async fn write_loop(
    mut to: OwnedWriteHalf,
    mut rx: tokio::sync::mpsc::UnboundedReceiver<(Option<Instant>, Bytes)>,
) {
    while let Some((due, bytes)) = rx.recv().await {
        if let Some(at) = due {
            tokio::time::sleep_until(at).await;
        }
        if to.write_all(&bytes).await.is_err() {
            return;
        }
    }
    let _ = to.shutdown().await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use touchstone_codec::PacketType;

    fn flow(operator: Operator) -> Flow {
        let m = Mutant {
            operator,
            packet: PacketType::Publish,
            way: Way::ToClient,
        };
        Flow::new(Some(m), Way::ToClient, Arc::new(AtomicUsize::new(0)))
    }

    fn sent(actions: &[Action]) -> Vec<u8> {
        actions
            .iter()
            .filter_map(|a| match a {
                Action::Send(b) => Some(b[2]),
                _ => None,
            })
            .collect()
    }

    /// A PUBLISH tagged `n` in its third byte (these operators look at the first only).
    fn publish(n: u8) -> Bytes {
        Bytes::from(vec![0x30, 0x02, n, 0x00])
    }

    #[test]
    fn reorder_swaps_pairs_and_releases_a_lone_one() {
        let mut f = flow(Operator::Reorder);
        let p = Protocol::V3_1_1;
        assert_eq!(sent(&f.packet(p, publish(1))), Vec::<u8>::new());
        assert_eq!(sent(&f.packet(p, publish(2))), vec![2, 1]);
        assert_eq!(sent(&f.packet(p, publish(3))), Vec::<u8>::new());
        // Another packet type goes first, then the held one.
        let other = f.packet(p, Bytes::from_static(&[0xD0, 0x00]));
        assert_eq!(other.len(), 2);
        assert_eq!(sent(&f.packet(p, publish(4))), Vec::<u8>::new());
        assert_eq!(f.release().map(|b| b[2]), Some(4));
        assert_eq!(f.release(), None);
    }

    #[test]
    fn drop_first_drops_one_per_connection() {
        let mut f = flow(Operator::DropFirst);
        let p = Protocol::V3_1_1;
        assert!(f.packet(p, publish(1)).is_empty());
        assert_eq!(sent(&f.packet(p, publish(2))), vec![2]);
        assert_eq!(f.applied.load(Ordering::Relaxed), 1);
    }
}
