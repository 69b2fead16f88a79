//! The server over real loopback sockets: TCP, TLS (with a CA made by rcgen) and WebSocket,
//! publish and subscribe at each QoS for 3.1.1 and 5.0; shutdown; malformed input.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::BytesMut;
use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;
use touchstone_broker::server::{RunningServer, Server, ServerConfig};
use touchstone_codec::{
    Connect, Decoder, Packet, PacketId, Protocol, PubAck, PubComp, PubRec, PubRel, Publish, QoS,
    ReasonCode, Subscribe, Subscription,
};

trait Duplex: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Duplex for T {}

type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<TcpStream>>;

enum Io {
    Stream(Box<dyn Duplex>),
    Ws(Box<Ws>),
}

/// A minimal MQTT client on the strict codec.
struct Client {
    io: Io,
    protocol: Protocol,
    buf: BytesMut,
}

const WAIT: Duration = Duration::from_secs(5);

impl Client {
    async fn send(&mut self, p: &Packet) {
        let bytes = p.to_bytes(self.protocol).unwrap();
        match &mut self.io {
            Io::Stream(s) => s.write_all(&bytes).await.unwrap(),
            Io::Ws(ws) => ws.send(Message::Binary(bytes.freeze())).await.unwrap(),
        }
    }

    /// The next packet, or `None` if the connection closed.
    async fn try_recv(&mut self) -> Option<Packet> {
        tokio::time::timeout(WAIT, async {
            loop {
                if let Some(p) = Decoder::new(self.protocol).decode(&mut self.buf).unwrap() {
                    return Some(p);
                }
                match &mut self.io {
                    Io::Stream(s) => {
                        if s.read_buf(&mut self.buf).await.unwrap_or(0) == 0 {
                            return None;
                        }
                    }
                    Io::Ws(ws) => match ws.next().await {
                        Some(Ok(Message::Binary(b))) => self.buf.extend_from_slice(&b),
                        Some(Ok(Message::Close(_))) | Some(Err(_)) | None => return None,
                        Some(Ok(_)) => {}
                    },
                }
            }
        })
        .await
        .expect("timed out waiting for a packet")
    }

    async fn recv(&mut self) -> Packet {
        self.try_recv().await.expect("connection closed")
    }

    async fn connect(mut self, id: &str) -> Client {
        let c = Connect {
            client_id: id.into(),
            clean_start: true,
            keep_alive: 30,
            ..Connect::default()
        };
        self.send(&Packet::Connect(Box::new(c))).await;
        match self.recv().await {
            Packet::ConnAck(a) => assert_eq!(a.reason_code, ReasonCode::SUCCESS),
            other => panic!("{other:?}"),
        }
        self
    }
}

fn pid(n: u16) -> PacketId {
    PacketId::new(n).unwrap()
}

async fn tcp(addr: SocketAddr, protocol: Protocol) -> Client {
    let s = TcpStream::connect(addr).await.unwrap();
    Client {
        io: Io::Stream(Box::new(s)),
        protocol,
        buf: BytesMut::new(),
    }
}

async fn ws(addr: SocketAddr, protocol: Protocol) -> Client {
    let mut req = format!("ws://{addr}/mqtt").into_client_request().unwrap();
    req.headers_mut()
        .insert("Sec-WebSocket-Protocol", "mqtt".parse().unwrap());
    let (ws, resp) = tokio_tungstenite::connect_async(req).await.unwrap();
    assert_eq!(
        resp.headers().get("sec-websocket-protocol").unwrap(),
        "mqtt"
    );
    Client {
        io: Io::Ws(Box::new(ws)),
        protocol,
        buf: BytesMut::new(),
    }
}

/// Publishes at QoS 0, 1 and 2 and checks a subscriber gets each with the full handshake.
async fn pub_sub_each_qos(mut sub: Client, mut publ: Client) {
    let p = sub.protocol;
    sub.send(&Packet::Subscribe(Subscribe {
        packet_id: pid(1),
        properties: Default::default(),
        filters: vec![Subscription::new("t/#", QoS::ExactlyOnce)],
    }))
    .await;
    match sub.recv().await {
        Packet::SubAck(a) => assert_eq!(a.reason_codes, [ReasonCode::GRANTED_QOS_2]),
        other => panic!("{other:?}"),
    }
    for (i, qos) in [QoS::AtMostOnce, QoS::AtLeastOnce, QoS::ExactlyOnce]
        .into_iter()
        .enumerate()
    {
        let mut m = Publish::new(format!("t/{i}").as_str(), format!("payload {i} over {p}"));
        m.qos = qos;
        if qos != QoS::AtMostOnce {
            m.packet_id = Some(pid(10 + i as u16));
        }
        publ.send(&Packet::Publish(m.clone())).await;
        match qos {
            QoS::AtMostOnce => {}
            QoS::AtLeastOnce => assert_eq!(publ.recv().await, Packet::PubAck(PubAck::new(pid(11)))),
            QoS::ExactlyOnce => {
                assert_eq!(publ.recv().await, Packet::PubRec(PubRec::new(pid(12))));
                publ.send(&Packet::PubRel(PubRel::new(pid(12)))).await;
                assert_eq!(publ.recv().await, Packet::PubComp(PubComp::new(pid(12))));
            }
        }
        let Packet::Publish(got) = sub.recv().await else {
            panic!("expected PUBLISH")
        };
        assert_eq!(
            (got.topic.as_str(), &got.payload, got.qos),
            (m.topic.as_str(), &m.payload, qos)
        );
        match qos {
            QoS::AtMostOnce => {}
            QoS::AtLeastOnce => {
                sub.send(&Packet::PubAck(PubAck::new(got.packet_id.unwrap())))
                    .await
            }
            QoS::ExactlyOnce => {
                let id = got.packet_id.unwrap();
                sub.send(&Packet::PubRec(PubRec::new(id))).await;
                assert_eq!(sub.recv().await, Packet::PubRel(PubRel::new(id)));
                sub.send(&Packet::PubComp(PubComp::new(id))).await;
            }
        }
    }
    publ.send(&Packet::PingReq).await;
    assert_eq!(publ.recv().await, Packet::PingResp);
}

async fn start(config: ServerConfig) -> RunningServer {
    Server::start(config).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tcp_publish_subscribe_each_qos() {
    let server = start(ServerConfig::default()).await;
    let addr = server.tcp_addr().unwrap();
    for p in [Protocol::V3_1_1, Protocol::V5] {
        let sub = tcp(addr, p).await.connect(&format!("sub-{p}")).await;
        let publ = tcp(addr, p).await.connect(&format!("pub-{p}")).await;
        pub_sub_each_qos(sub, publ).await;
    }
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_publish_subscribe_each_qos() {
    let mut config = ServerConfig::default();
    config.listen.ws = Some(SocketAddr::from(([127, 0, 0, 1], 0)));
    let server = start(config).await;
    let addr = server.ws_addr().unwrap();
    for p in [Protocol::V3_1_1, Protocol::V5] {
        let sub = ws(addr, p).await.connect(&format!("sub-{p}")).await;
        let publ = ws(addr, p).await.connect(&format!("pub-{p}")).await;
        pub_sub_each_qos(sub, publ).await;
    }
    // 5.0 [MQTT-6.0.0-4]: a client that does not offer `mqtt` is refused.
    let req = format!("ws://{addr}/mqtt").into_client_request().unwrap();
    assert!(tokio_tungstenite::connect_async(req).await.is_err());
    server.shutdown().await;
}

/// A CA and a server certificate for `localhost` and 127.0.0.1, written as PEM files.
fn make_certs(dir: &std::path::Path) -> String {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(DnType::CommonName, "Touchstone test CA");
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca, ca_key);
    let key = KeyPair::generate().unwrap();
    let params =
        CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()]).unwrap();
    let cert = params.signed_by(&key, &issuer).unwrap();
    std::fs::write(dir.join("server.pem"), cert.pem()).unwrap();
    std::fs::write(dir.join("server.key"), key.serialize_pem()).unwrap();
    ca_cert.pem()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_publish_subscribe_each_qos() {
    use tokio_rustls::rustls::pki_types::pem::PemObject;
    use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName};
    use tokio_rustls::rustls::{self, ClientConfig, RootCertStore};

    let dir = std::env::temp_dir().join(format!("touchstone-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ca_pem = make_certs(&dir);
    // Configured through the TOML file format, relative paths included.
    let toml =
        "[listen]\ntls = \"127.0.0.1:0\"\ntls_cert = \"server.pem\"\ntls_key = \"server.key\"\n";
    let config = ServerConfig::from_toml(toml, &dir).unwrap();
    let server = start(config).await;
    assert!(server.tcp_addr().is_none());
    let addr = server.tls_addr().unwrap();

    let mut roots = RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_slice(ca_pem.as_bytes()).unwrap())
        .unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let client_config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(client_config));
    let tls = |p: Protocol| {
        let connector = connector.clone();
        async move {
            let s = TcpStream::connect(addr).await.unwrap();
            let name = ServerName::try_from("localhost").unwrap();
            let s = connector.connect(name, s).await.unwrap();
            Client {
                io: Io::Stream(Box::new(s)),
                protocol: p,
                buf: BytesMut::new(),
            }
        }
    };
    for p in [Protocol::V3_1_1, Protocol::V5] {
        let sub = tls(p).await.connect(&format!("sub-{p}")).await;
        let publ = tls(p).await.connect(&format!("pub-{p}")).await;
        pub_sub_each_qos(sub, publ).await;
    }
    server.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_input_closes_only_that_connection_and_shutdown_disconnects() {
    let server = start(ServerConfig::default()).await;
    let addr = server.tcp_addr().unwrap();
    let mut good = tcp(addr, Protocol::V5).await.connect("good").await;
    let mut bad = tcp(addr, Protocol::V5).await.connect("bad").await;
    // PUBLISH with QoS 3: DISCONNECT 0x81 and close.
    if let Io::Stream(s) = &mut bad.io {
        s.write_all(&[0x36, 0x05, 0x00, 0x01, b'x', 0x00, 0x01])
            .await
            .unwrap();
    }
    match bad.recv().await {
        Packet::Disconnect(d) => assert_eq!(d.reason_code, ReasonCode::MALFORMED_PACKET),
        other => panic!("{other:?}"),
    }
    assert_eq!(bad.try_recv().await, None);
    good.send(&Packet::PingReq).await;
    assert_eq!(good.recv().await, Packet::PingResp);
    assert_eq!(server.stats().connected, 1);
    server.shutdown().await;
    // 5.0: DISCONNECT 0x8B Server shutting down, then close.
    match good.recv().await {
        Packet::Disconnect(d) => assert_eq!(d.reason_code, ReasonCode::SERVER_SHUTTING_DOWN),
        other => panic!("{other:?}"),
    }
    assert_eq!(good.try_recv().await, None);
    assert!(TcpStream::connect(addr).await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keep_alive_is_enforced_on_the_real_clock() {
    let server = start(ServerConfig::default()).await;
    let mut c = tcp(server.tcp_addr().unwrap(), Protocol::V5).await;
    let connect = Connect {
        client_id: "ka".into(),
        clean_start: true,
        keep_alive: 1,
        ..Connect::default()
    };
    c.send(&Packet::Connect(Box::new(connect))).await;
    assert!(matches!(c.recv().await, Packet::ConnAck(_)));
    let started = std::time::Instant::now();
    match c.recv().await {
        Packet::Disconnect(d) => assert_eq!(d.reason_code, ReasonCode::KEEP_ALIVE_TIMEOUT),
        other => panic!("{other:?}"),
    }
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(1400) && waited < Duration::from_millis(3000),
        "{waited:?}"
    );
    server.shutdown().await;
}
