//! MQTT over WebSocket (section 6): binary frames only, packets independent of frame
//! boundaries, the `mqtt` subprotocol. The cases speak WebSocket themselves (frame by frame)
//! to the run's WebSocket listener (`--ws-target`, or a ws:// target).

use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio::time::{timeout_at, Instant};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;
use touchstone_codec::{Decoder, Framer, Subscribe, Subscription};
use crate::net::target::Target;
use crate::harness::transcript::Direction;
use crate::cases::prelude::*;

pub(crate) const CASES: &[Case] = &[
    SUBPROTOCOL,
    FRAMES,
    TEXT_FRAME,
];

type Ws = WebSocketStream<TcpStream>;

/// A raw WebSocket connection of a case, logged in its transcript.
struct WsClient<'t> {
    t: &'t Test,
    label: String,
    ws: Ws,
    framer: Framer,
    subprotocol: Option<String>,
}

impl<'t> WsClient<'t> {
    /// Opens a WebSocket connection offering the `mqtt` subprotocol.
    async fn open(t: &'t Test, label: &str) -> Result<WsClient<'t>, CaseError> {
        let Some(url) = t.capabilities().websocket.clone() else {
            return Err(skip("needs a WebSocket listener: --ws-target"));
        };
        let target = Target::parse(&url).map_err(|e| CaseError::Error(e.to_string()))?;
        if target.scheme.is_tls() {
            return Err(skip("the WebSocket cases speak ws:// only, not wss://"));
        }
        let within = Instant::now() + t.timeout();
        let tcp = timeout_at(within, TcpStream::connect(target.authority()))
            .await
            .map_err(|_| CaseError::Error(format!("cannot connect to {target}: timeout")))?
            .map_err(|e| CaseError::Error(format!("cannot connect to {target}: {e}")))?;
        let mut request = format!("ws://{}{}", target.authority(), target.path)
            .into_client_request()
            .map_err(|e| CaseError::Error(e.to_string()))?;
        request
            .headers_mut()
            .insert("Sec-WebSocket-Protocol", HeaderValue::from_static("mqtt"));
        let (ws, response) = timeout_at(within, tokio_tungstenite::client_async(request, tcp))
            .await
            .map_err(|_| CaseError::Error("WebSocket handshake: timeout".into()))?
            .map_err(|e| {
                let text = format!("WebSocket handshake with {target}: {e}");
                if text.to_ascii_lowercase().contains("subprotocol") {
                    // The server did not select `mqtt`.
                    CaseError::fail("the subprotocol mqtt selected in the handshake", text)
                        .because(&cite(t, "MQTT-6.0.0-4", "MQTT-6.0.0-4"))
                } else {
                    CaseError::Error(text)
                }
            })?;
        let subprotocol = response
            .headers()
            .get("Sec-WebSocket-Protocol")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        t.shared.transcript.event(
            label,
            format!(
                "WebSocket connection to {target}, subprotocol {}",
                subprotocol.as_deref().unwrap_or("(none)")
            ),
        );
        Ok(WsClient {
            t,
            label: label.to_string(),
            ws,
            framer: Framer::new(Decoder::new(t.protocol())),
            subprotocol,
        })
    }

    /// Sends `parts` as binary frames, one frame each.
    async fn send_frames(&mut self, parts: &[&[u8]]) -> Verdict {
        for part in parts {
            let bytes = Bytes::copy_from_slice(part);
            self.t.shared.transcript.push(
                &self.label,
                Direction::Send,
                bytes.clone(),
                None,
                Some(format!(
                    "one binary WebSocket frame of {} bytes",
                    part.len()
                )),
            );
            self.ws
                .send(Message::Binary(bytes))
                .await
                .map_err(|e| CaseError::fail("an open WebSocket connection", e.to_string()))?;
        }
        Ok(())
    }

    /// Sends a text frame.
    async fn send_text(&mut self, text: &str) -> Verdict {
        self.t.shared.transcript.event(
            &self.label,
            format!("sends a text WebSocket frame {text:?}"),
        );
        self.ws
            .send(Message::Text(text.into()))
            .await
            .map_err(|e| CaseError::fail("an open WebSocket connection", e.to_string()))
    }

    /// The next MQTT packet (whatever the frames), or `None` when the connection closes.
    async fn next_packet(&mut self) -> Result<Option<Packet>, CaseError> {
        let deadline = Instant::now() + self.t.timeout();
        loop {
            match self.framer.next_frame() {
                Ok(Some(f)) => {
                    self.t.shared.transcript.push(
                        &self.label,
                        Direction::Recv,
                        f.raw,
                        Some(f.packet.clone()),
                        None,
                    );
                    return Ok(Some(f.packet));
                }
                Ok(None) => {}
                Err(e) => {
                    return Err(CaseError::fail(
                        "a valid MQTT packet",
                        format!("bytes the strict codec rejects: {}", e.error),
                    ))
                }
            }
            match timeout_at(deadline, self.ws.next()).await {
                Err(_) => {
                    return Err(CaseError::fail(
                        "an MQTT packet or the close",
                        format!("nothing within {:.1} s", self.t.timeout().as_secs_f64()),
                    ))
                }
                Ok(Some(Ok(Message::Binary(b)))) => self.framer.push(&b),
                Ok(Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_)))) => {}
                Ok(Some(Ok(Message::Text(_)))) => {
                    return Err(CaseError::fail(
                        "binary WebSocket frames",
                        "a text frame from the server",
                    )
                    .because(&[cite(self.t, "MQTT-6.0.0-1", "MQTT-6.0.0-1")[0]]))
                }
                Ok(Some(Ok(Message::Close(_)))) | Ok(None) | Ok(Some(Err(_))) => {
                    self.t
                        .shared
                        .transcript
                        .event(&self.label, "the WebSocket connection closed");
                    return Ok(None);
                }
            }
        }
    }

    /// The next packet, which must be the one `what` describes.
    async fn expect(
        &mut self,
        what: &str,
        is: impl Fn(&Packet) -> bool,
    ) -> Result<Packet, CaseError> {
        match self.next_packet().await? {
            Some(p) if is(&p) => Ok(p),
            Some(p) => Err(CaseError::fail(what, summary::packet(&p))),
            None => Err(CaseError::fail(what, "the connection closed")),
        }
    }
}

fn encode(t: &Test, p: Packet) -> Result<Vec<u8>, CaseError> {
    let mut out = bytes::BytesMut::new();
    p.encode(t.protocol(), &mut out)
        .map_err(|e| CaseError::Error(e.to_string()))?;
    Ok(out.to_vec())
}

fn connect_bytes(t: &Test, name: &str) -> Result<Vec<u8>, CaseError> {
    let connect = t.client(name).connect_packet();
    encode(t, Packet::Connect(Box::new(connect)))
}

fn is_accepting_connack(p: &Packet) -> bool {
    matches!(p, Packet::ConnAck(a) if a.reason_code.0 == 0)
}

/// The server selects the `mqtt` subprotocol.
const SUBPROTOCOL: Case = Case {
    id: "websocket.subprotocol-mqtt",
    title: "The WebSocket handshake returns the subprotocol mqtt",
    protocols: BOTH,
    statements: &[v311("MQTT-6.0.0-4"), v5("MQTT-6.0.0-4")],
    requires: &[WebSocket],
    body: |t| Box::pin(subprotocol(t)),
};

async fn subprotocol(t: &mut Test) -> Verdict {
    let mut c = WsClient::open(t, "c").await?;
    let chosen = c.subprotocol.clone();
    check(
        chosen.as_deref() == Some("mqtt"),
        "Sec-WebSocket-Protocol: mqtt in the handshake response",
        || format!("{chosen:?}"),
    )
    .map_err(|e| e.because(&cite(t, "MQTT-6.0.0-4", "MQTT-6.0.0-4")))?;
    let connect = connect_bytes(t, "c")?;
    c.send_frames(&[&connect]).await?;
    c.expect("CONNACK 0x00", is_accepting_connack).await?;
    Ok(())
}

/// Packets do not have to follow frame boundaries.
const FRAMES: Case = Case {
    id: "websocket.packets-independent-of-frames",
    title: "A CONNECT split over three frames, and SUBSCRIBE, PUBLISH and PINGREQ in one frame, all work",
    protocols: BOTH,
    statements: &[v311("MQTT-6.0.0-2"), v5("MQTT-6.0.0-2")],
    requires: &[WebSocket, Qos1],
    body: |t| Box::pin(frames(t)),
};

async fn frames(t: &mut Test) -> Verdict {
    let statements = cite(t, "MQTT-6.0.0-2", "MQTT-6.0.0-2");
    let mut c = WsClient::open(t, "c").await?;
    let connect = connect_bytes(t, "c")?;
    // CONNECT in three frames: the fixed header's first byte, then a few bytes, then the rest.
    c.send_frames(&[&connect[..1], &connect[1..5], &connect[5..]])
        .await?;
    c.expect(
        "CONNACK 0x00 for a CONNECT split over three frames",
        is_accepting_connack,
    )
    .await
    .map_err(|e| e.because(&statements))?;
    // SUBSCRIBE, PUBLISH (QoS 1, to the same topic) and PINGREQ in one frame.
    let topic = t.topic("ws");
    let sub_id = PacketId::new(5).unwrap_or(PacketId::MIN);
    let subscribe = Subscribe {
        packet_id: sub_id,
        properties: Default::default(),
        filters: vec![Subscription::new(topic.as_str(), Q1)],
    };
    let mut message = Publish::new(topic.as_str(), Bytes::from_static(b"one frame"));
    message.qos = Q1;
    message.packet_id = PacketId::new(6);
    let mut frame = encode(t, Packet::Subscribe(subscribe))?;
    frame.extend(encode(t, Packet::Publish(message))?);
    frame.extend(encode(t, Packet::PingReq)?);
    c.send_frames(&[&frame]).await?;
    let mut seen = (false, false, false, false);
    while !(seen.0 && seen.1 && seen.2 && seen.3) {
        let p = c.next_packet().await.map_err(|e| e.because(&statements))?;
        match p {
            Some(Packet::SubAck(a)) if a.packet_id == sub_id => seen.0 = true,
            Some(Packet::PubAck(a)) if a.packet_id.get() == 6 => seen.1 = true,
            Some(Packet::PingResp) => seen.2 = true,
            Some(Packet::Publish(m)) if m.topic.as_str() == topic => {
                seen.3 = true;
                if let (Some(id), true) = (m.packet_id, m.qos == Q1) {
                    let ack = encode(t, Packet::PubAck(touchstone_codec::PubAck::new(id)))?;
                    c.send_frames(&[&ack]).await?;
                }
            }
            Some(_) => {}
            None => {
                return Err(CaseError::fail(
                    "SUBACK, PUBACK, PINGRESP and the message for three packets sent in one frame",
                    "the connection closed",
                )
                .because(&statements))
            }
        }
    }
    Ok(())
}

/// A text frame makes the server close the connection.
const TEXT_FRAME: Case = Case {
    id: "websocket.text-frame-closes",
    title: "A text WebSocket frame makes the server close the connection",
    protocols: BOTH,
    statements: &[v311("MQTT-6.0.0-1"), v5("MQTT-6.0.0-1")],
    requires: &[WebSocket],
    body: |t| Box::pin(text_frame(t)),
};

async fn text_frame(t: &mut Test) -> Verdict {
    let statements = cite(t, "MQTT-6.0.0-1", "MQTT-6.0.0-1");
    let mut c = WsClient::open(t, "c").await?;
    let connect = connect_bytes(t, "c")?;
    c.send_frames(&[&connect]).await?;
    c.expect("CONNACK 0x00", is_accepting_connack).await?;
    // Control: a PINGREQ in a binary frame is answered.
    c.send_frames(&[&[0xC0, 0x00]]).await?;
    c.expect("PINGRESP", |p| matches!(p, Packet::PingResp))
        .await?;
    // The same PINGREQ bytes in a text frame.
    c.send_text("\u{40}\u{00}").await?;
    loop {
        match c.next_packet().await {
            Ok(None) => return Ok(()),
            Ok(Some(Packet::Disconnect(_))) => {}
            Ok(Some(p)) => {
                return Err(CaseError::fail(
                    "the connection closed after a text frame",
                    summary::packet(&p),
                )
                .because(&statements))
            }
            Err(CaseError::Fail(mut f)) => {
                f.expected = "the connection closed after a text frame".into();
                return Err(CaseError::Fail(f).because(&statements));
            }
            Err(e) => return Err(e),
        }
    }
}
