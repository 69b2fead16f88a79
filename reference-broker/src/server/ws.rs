//! The WebSocket listener's connection driver: subprotocol `mqtt`, MQTT in binary frames
//! (5.0 and 3.1.1 section 6).

use std::sync::Arc;

use bytes::BytesMut;
use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::http::{HeaderValue, StatusCode};
use tokio_tungstenite::tungstenite::Message;

use super::shared::{Out, Shared};

/// Completes the WebSocket handshake and serves the connection.
pub(crate) async fn serve<S>(shared: Arc<Shared>, stream: S, peer: Option<std::net::SocketAddr>)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let ws = match tokio_tungstenite::accept_hdr_async(stream, select_subprotocol).await {
        Ok(ws) => ws,
        Err(e) => {
            tracing::debug!(?peer, "WebSocket handshake failed: {e}");
            return;
        }
    };
    let (mut sink, mut source) = ws.split();
    let (id, mut rx, flow) = shared.open(peer);
    let high_water = shared.high_water;
    let writer_flow = flow.clone();
    let writer = tokio::spawn(async move {
        'outer: while let Some(first) = rx.recv().await {
            // One binary frame per batch: packets need not align with frames
            // (5.0 [MQTT-6.0.0-2]).
            let mut frame = BytesMut::new();
            let mut next = Some(first);
            let mut close = false;
            while let Some(out) = next {
                match out {
                    Out::Bytes(b) => frame.extend_from_slice(&b),
                    Out::Close => {
                        close = true;
                        break;
                    }
                }
                if frame.len() >= 64 * 1024 {
                    break;
                }
                next = rx.try_recv().ok();
            }
            let n = frame.len();
            if n > 0 {
                if sink.send(Message::Binary(frame.freeze())).await.is_err() {
                    break 'outer;
                }
                writer_flow.written(n, high_water);
            }
            if close {
                let _ = sink.close().await;
                break;
            }
        }
        writer_flow.stop.notify_one();
    });
    loop {
        let msg = tokio::select! {
            m = source.next() => m,
            () = flow.stop.notified() => break,
        };
        match msg {
            Some(Ok(Message::Binary(data))) => {
                let backlogged = shared.received(id, &data);
                if !backlogged.is_empty() {
                    shared.wait_for(backlogged).await;
                }
            }
            Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => {}
            // 5.0 [MQTT-6.0.0-1]: any other frame type closes the connection.
            Some(Ok(Message::Text(_) | Message::Close(_))) | Some(Err(_)) | None => break,
        }
    }
    shared.closed(id);
    let _ = writer.await;
}

/// 5.0 [MQTT-6.0.0-4] (3.1.1 [MQTT-6.0.0-4]): selects and returns the `mqtt` subprotocol; a
/// client that does not offer it is refused. (The signature is tungstenite's.)
#[allow(clippy::result_large_err)]
fn select_subprotocol(req: &Request, mut resp: Response) -> Result<Response, ErrorResponse> {
    let offered = req
        .headers()
        .get_all("sec-websocket-protocol")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|p| p.trim().eq_ignore_ascii_case("mqtt"));
    if !offered {
        let mut err = ErrorResponse::new(Some("the `mqtt` subprotocol is required".into()));
        *err.status_mut() = StatusCode::BAD_REQUEST;
        return Err(err);
    }
    resp.headers_mut()
        .insert("sec-websocket-protocol", HeaderValue::from_static("mqtt"));
    Ok(resp)
}
