//! A small MQTT-aware TCP proxy that can alter packets in flight, to show that cases fail
//! against a broker that breaks their rule.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;

use bytes::{Buf, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use touchstone_codec::{peek_protocol, read_varint, Protocol, Varint};

/// Which way a packet goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dir {
    /// Client to broker.
    ToBroker,
    /// Broker to client.
    ToClient,
}

/// Decides what becomes of each packet: the packets to forward instead (none: dropped).
pub type Alter = Arc<dyn Fn(Dir, Protocol, &[u8]) -> Vec<Vec<u8>> + Send + Sync>;

/// Forwards every packet unchanged.
pub fn unchanged() -> Alter {
    Arc::new(|_, _, p| vec![p.to_vec()])
}

/// A running proxy.
pub struct Proxy {
    /// Its loopback port.
    pub port: u16,
    task: JoinHandle<()>,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Starts a proxy to `127.0.0.1:upstream`.
pub async fn start(upstream: u16, alter: Alter) -> Proxy {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
    let port = listener.local_addr().expect("proxy address").port();
    let task = tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let alter = alter.clone();
            tokio::spawn(async move {
                let Ok(broker) = TcpStream::connect(("127.0.0.1", upstream)).await else {
                    return;
                };
                let _ = client.set_nodelay(true);
                let _ = broker.set_nodelay(true);
                // 0: not known yet; else the protocol level of the client's CONNECT.
                let level = Arc::new(AtomicU8::new(0));
                let (cr, cw) = client.into_split();
                let (br, bw) = broker.into_split();
                let up = tokio::spawn(pump(cr, bw, Dir::ToBroker, alter.clone(), level.clone()));
                let down = tokio::spawn(pump(br, cw, Dir::ToClient, alter, level));
                let _ = tokio::join!(up, down);
            });
        }
    });
    Proxy { port, task }
}

fn protocol_of(level: u8) -> Protocol {
    match level {
        5 => Protocol::V5,
        3 => Protocol::V3_1,
        _ => Protocol::V3_1_1,
    }
}

/// The length of the whole packet at the front of `buf`, if its fixed header is complete.
fn frame_len(buf: &[u8]) -> Option<Result<usize, ()>> {
    if buf.is_empty() {
        return None;
    }
    match read_varint(&buf[1..]) {
        Varint::Value(len, n) | Varint::NotMinimal(len, n) => Some(Ok(1 + n + len as usize)),
        Varint::Incomplete => None,
        Varint::TooLong => Some(Err(())),
    }
}

async fn pump(
    mut from: OwnedReadHalf,
    mut to: OwnedWriteHalf,
    dir: Dir,
    alter: Alter,
    level: Arc<AtomicU8>,
) {
    let mut buf = BytesMut::with_capacity(8192);
    loop {
        match from.read_buf(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
        loop {
            let len = match frame_len(&buf) {
                None => break,
                Some(Ok(len)) if buf.len() >= len => len,
                Some(Ok(_)) => break,
                Some(Err(())) => {
                    // Not MQTT framing: pass everything through as it is.
                    let rest = buf.split();
                    if to.write_all(&rest).await.is_err() {
                        return;
                    }
                    continue;
                }
            };
            let packet = buf[..len].to_vec();
            buf.advance(len);
            if dir == Dir::ToBroker && level.load(Ordering::SeqCst) == 0 {
                if let Ok(Some(p)) = peek_protocol(&packet) {
                    level.store(p.level(), Ordering::SeqCst);
                }
            }
            let protocol = protocol_of(level.load(Ordering::SeqCst));
            for out in alter(dir, protocol, &packet) {
                if to.write_all(&out).await.is_err() {
                    return;
                }
            }
        }
    }
    let _ = to.shutdown().await;
}

/// An alteration from a closure.
pub fn alter(f: impl Fn(Dir, Protocol, &[u8]) -> Vec<Vec<u8>> + Send + Sync + 'static) -> Alter {
    Arc::new(f)
}

/// Decodes one packet, lets `f` change it (returning true if it did), and re-encodes it without
/// checks; bytes that do not decode, or that `f` leaves alone, pass unchanged.
pub fn rewrite(
    p: Protocol,
    bytes: &[u8],
    f: impl FnOnce(&mut touchstone_codec::Packet) -> bool,
) -> Vec<Vec<u8>> {
    match touchstone_codec::decode_slice(p, bytes) {
        Ok((mut packet, _)) => {
            if !f(&mut packet) {
                return vec![bytes.to_vec()];
            }
            let mut out = BytesMut::new();
            packet.encode_unchecked(p, &mut out);
            vec![out.to_vec()]
        }
        Err(_) => vec![bytes.to_vec()],
    }
}
