//! The connection driver for byte streams (TCP and TLS): a reader loop feeding the core and a
//! writer task draining the connection's channel, batching writes.

use std::sync::Arc;

use bytes::BytesMut;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufWriter};
use tokio::sync::mpsc;

use super::shared::{Flow, Out, Shared};

/// The largest read; reads start at 4 KiB and double while they fill the buffer, so idle
/// connections stay small.
const READ_CHUNK: usize = 64 * 1024;
const FIRST_READ: usize = 4 * 1024;
/// Write buffer: small writes are coalesced, larger ones go straight to the socket.
const WRITE_BUFFER: usize = 16 * 1024;

/// Serves one connection until either side closes it.
pub(crate) async fn serve<S>(shared: Arc<Shared>, stream: S, peer: Option<std::net::SocketAddr>)
where
    S: AsyncRead + AsyncWrite + Send + 'static,
{
    let (id, rx, flow) = shared.open(peer);
    let (mut reader, writer) = tokio::io::split(stream);
    let writer_task = tokio::spawn(write_loop(writer, rx, flow.clone(), shared.high_water));
    let mut chunk = FIRST_READ;
    let mut buf = BytesMut::new();
    loop {
        buf.clear();
        buf.reserve(chunk);
        let read = tokio::select! {
            r = reader.read_buf(&mut buf) => r,
            () = flow.stop.notified() => break,
        };
        match read {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if n >= chunk {
                    chunk = (chunk * 2).min(READ_CHUNK);
                }
                let backlogged = shared.received(id, &buf);
                if !backlogged.is_empty() {
                    shared.wait_for(backlogged).await;
                }
            }
        }
    }
    // Tells the core if it does not know yet (a no-op after the core closed it); dropping the
    // writer's channel ends the writer after it has written what is queued.
    shared.closed(id);
    let _ = writer_task.await;
}

async fn write_loop<W>(
    writer: W,
    mut rx: mpsc::UnboundedReceiver<Out>,
    flow: Arc<Flow>,
    high_water: usize,
) where
    W: AsyncWrite + Unpin,
{
    let mut w = BufWriter::with_capacity(WRITE_BUFFER, writer);
    'outer: while let Some(first) = rx.recv().await {
        let mut next = Some(first);
        // Write everything already queued, then flush once.
        while let Some(out) = next {
            match out {
                Out::Bytes(b) => {
                    if w.write_all(&b).await.is_err() {
                        break 'outer;
                    }
                    flow.written(b.len(), high_water);
                }
                Out::Close => {
                    let _ = w.flush().await;
                    let _ = w.shutdown().await;
                    break 'outer;
                }
            }
            next = rx.try_recv().ok();
        }
        if w.flush().await.is_err() {
            break;
        }
    }
    // Wake the reader: the connection is over.
    flow.stop.notify_one();
}
