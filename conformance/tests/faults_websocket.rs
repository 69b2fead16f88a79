//! The `websocket` cases can fail: through a small WebSocket-to-TCP bridge in front of the
//! in-process reference broker that breaks one rule of section 6 (no `mqtt` subprotocol, text
//! frames ignored, one packet per frame assumed), each fails citing the statement it checks;
//! through a correct bridge, and on the broker's own WebSocket listener, each passes.

// tungstenite's handshake callback fixes its large error type.
#![allow(clippy::result_large_err)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{assert_fails, show};
use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message;
use touchstone_broker::server::{RunningServer, Server, ServerConfig};
use touchstone_codec::{decode_slice, Protocol};
use touchstone_conformance::cases;
use touchstone_conformance::harness::context::{Credentials, Timing};
use touchstone_conformance::net::target::Target;
use touchstone_conformance::net::tls::TlsOptions;
use touchstone_conformance::net::transport::Connector;
use touchstone_conformance::run::outcome::{CaseResult, Outcome};
use touchstone_conformance::run::profile::Profile;
use touchstone_conformance::run::runner::{self, Quiet, RunConfig};

const V3: Protocol = Protocol::V3_1_1;
const V5: Protocol = Protocol::V5;
const SUBPROTOCOL: &str = "websocket.subprotocol-mqtt";
const FRAMES: &str = "websocket.packets-independent-of-frames";
const TEXT: &str = "websocket.text-frame-closes";
const ALL: &[&str] = &[SUBPROTOCOL, FRAMES, TEXT];

/// How the bridge misbehaves.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Correct,
    NoSubprotocol,
    IgnoreText,
    OnePacketPerFrame,
}

struct Bridge {
    port: u16,
    task: JoinHandle<()>,
}

impl Drop for Bridge {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn bridge(upstream: u16, mode: Mode) -> Bridge {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind bridge");
    let port = listener.local_addr().expect("address").port();
    let task = tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            tokio::spawn(async move {
                let callback = move |_: &Request, mut response: Response| {
                    if mode != Mode::NoSubprotocol {
                        response
                            .headers_mut()
                            .insert("Sec-WebSocket-Protocol", HeaderValue::from_static("mqtt"));
                    }
                    Ok(response)
                };
                let Ok(ws) = tokio_tungstenite::accept_hdr_async(tcp, callback).await else {
                    return;
                };
                let Ok(broker) = TcpStream::connect(("127.0.0.1", upstream)).await else {
                    return;
                };
                let (mut br, mut bw) = broker.into_split();
                let (mut wsw, mut wsr) = ws.split();
                let up = async move {
                    let mut protocol = Protocol::V3_1_1;
                    while let Some(Ok(m)) = wsr.next().await {
                        match m {
                            Message::Binary(b) => {
                                let b = b.to_vec();
                                if b.len() > 8 && b[0] == 0x10 {
                                    protocol = if b.contains(&5)
                                        && b.windows(6).any(|w| w == b"\x00\x04MQTT")
                                        && b[8] == 5
                                    {
                                        Protocol::V5
                                    } else {
                                        Protocol::V3_1_1
                                    };
                                }
                                let forward = if mode == Mode::OnePacketPerFrame {
                                    match decode_slice(protocol, &b) {
                                        Ok((_, n)) => b[..n].to_vec(),
                                        Err(_) => continue,
                                    }
                                } else {
                                    b
                                };
                                if bw.write_all(&forward).await.is_err() {
                                    break;
                                }
                            }
                            Message::Text(_) if mode == Mode::IgnoreText => {}
                            Message::Text(_) | Message::Close(_) => break,
                            _ => {}
                        }
                    }
                    let _ = bw.shutdown().await;
                };
                let down = async move {
                    let mut buf = vec![0u8; 8192];
                    loop {
                        match br.read(&mut buf).await {
                            Ok(0) | Err(_) => break,
                            Ok(n) => {
                                let data = buf[..n].to_vec();
                                if wsw.send(Message::Binary(data.into())).await.is_err() {
                                    break;
                                }
                            }
                        }
                    }
                    let _ = wsw.close().await;
                };
                tokio::select! {
                    _ = up => {}
                    _ = down => {}
                }
            });
        }
    });
    Bridge { port, task }
}

async fn broker() -> RunningServer {
    let mut config = ServerConfig::default();
    config.listen.ws = Some(std::net::SocketAddr::from(([127, 0, 0, 1], 0)));
    Server::start(config)
        .await
        .expect("start the reference broker")
}

fn tcp_port(s: &RunningServer) -> u16 {
    s.tcp_addr().expect("tcp listener").port()
}

async fn run(tcp: u16, ws_url: &str, ids: &[&str]) -> Vec<CaseResult> {
    let connector = Connector::new(
        Target::parse(&format!("mqtt://127.0.0.1:{tcp}")).expect("target"),
        &TlsOptions::default(),
    )
    .expect("connector");
    let mut profile = Profile::default();
    profile.capabilities.websocket = Some(ws_url.to_string());
    let config = RunConfig {
        connector,
        auth_connector: None,
        credentials: Credentials::default(),
        protocols: vec![V3, V5],
        explicit_protocols: false,
        filters: ids.iter().map(|s| s.to_string()).collect(),
        exact: true,
        profile,
        jobs: 8,
        timing: Timing {
            timer_slack: Duration::ZERO,
            quiet: Duration::from_millis(500),
            expect: Duration::from_secs(2),
            connect: Duration::from_secs(3),
        },
        case_deadline: Duration::from_secs(30),
        strict: false,
    };
    let catalogue = cases::catalogue();
    let report = runner::run(config, &catalogue, Arc::new(Quiet), runner::Stop::new()).await;
    assert!(!report.results.is_empty(), "no case ran for {ids:?}");
    report.results
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_faults_the_websocket_cases_pass() {
    let b = broker().await;
    let ws = format!("ws://{}/mqtt", b.ws_addr().expect("ws listener"));
    let results = run(tcp_port(&b), &ws, ALL).await;
    assert_eq!(results.len(), 2 * ALL.len());
    for r in &results {
        assert_eq!(r.outcome, Outcome::Pass, "{}", show(r));
    }
    let good = bridge(tcp_port(&b), Mode::Correct).await;
    let url = format!("ws://127.0.0.1:{}/mqtt", good.port);
    for r in &run(tcp_port(&b), &url, ALL).await {
        assert_eq!(
            r.outcome,
            Outcome::Pass,
            "through a correct bridge: {}",
            show(r)
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_without_the_mqtt_subprotocol_fails() {
    let b = broker().await;
    let bad = bridge(tcp_port(&b), Mode::NoSubprotocol).await;
    let url = format!("ws://127.0.0.1:{}/mqtt", bad.port);
    let results = run(tcp_port(&b), &url, &[SUBPROTOCOL]).await;
    assert_fails(&results, SUBPROTOCOL, V3, "MQTT-6.0.0-4");
    assert_fails(&results, SUBPROTOCOL, V5, "MQTT-6.0.0-4");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_ignoring_text_frames_fails() {
    let b = broker().await;
    let bad = bridge(tcp_port(&b), Mode::IgnoreText).await;
    let url = format!("ws://127.0.0.1:{}/mqtt", bad.port);
    let results = run(tcp_port(&b), &url, &[TEXT]).await;
    assert_fails(&results, TEXT, V3, "MQTT-6.0.0-1");
    assert_fails(&results, TEXT, V5, "MQTT-6.0.0-1");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_assuming_one_packet_per_frame_fails() {
    let b = broker().await;
    let bad = bridge(tcp_port(&b), Mode::OnePacketPerFrame).await;
    let url = format!("ws://127.0.0.1:{}/mqtt", bad.port);
    let results = run(tcp_port(&b), &url, &[FRAMES]).await;
    assert_fails(&results, FRAMES, V3, "MQTT-6.0.0-2");
    assert_fails(&results, FRAMES, V5, "MQTT-6.0.0-2");
}
