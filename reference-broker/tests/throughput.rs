//! A rough throughput probe (ignored by default; the comparison with Mosquitto belongs to the
//! benches): one publisher to 1 and to 100 subscribers, QoS 0 and QoS 1, over loopback TCP.
//!
//! `cargo test --release -p touchstone-broker --test throughput -- --ignored --nocapture`

use std::time::{Duration, Instant};

use bytes::BytesMut;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use touchstone_broker::server::{Server, ServerConfig};
use touchstone_codec::{
    Connect, Decoder, Packet, PacketId, Protocol, PubAck, Publish, QoS, Subscribe, Subscription,
};

const P: Protocol = Protocol::V3_1_1;

async fn connect(addr: std::net::SocketAddr, id: &str) -> (TcpStream, BytesMut) {
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.set_nodelay(true).unwrap();
    let c = Connect {
        client_id: id.into(),
        clean_start: true,
        ..Connect::default()
    };
    s.write_all(&Packet::Connect(Box::new(c)).to_bytes(P).unwrap())
        .await
        .unwrap();
    let mut buf = BytesMut::new();
    loop {
        if let Some(Packet::ConnAck(_)) = Decoder::new(P).decode(&mut buf).unwrap() {
            return (s, buf);
        }
        s.read_buf(&mut buf).await.unwrap();
    }
}

async fn subscriber(
    addr: std::net::SocketAddr,
    id: String,
    qos: QoS,
    n: u64,
    ready: tokio::sync::mpsc::Sender<()>,
) {
    let (mut s, mut buf) = connect(addr, &id).await;
    let sub = Subscribe {
        packet_id: PacketId::new(1).unwrap(),
        properties: Default::default(),
        filters: vec![Subscription::new("bench/t", qos)],
    };
    s.write_all(&Packet::Subscribe(sub).to_bytes(P).unwrap())
        .await
        .unwrap();
    let mut count = 0;
    let mut acks = BytesMut::new();
    let dec = Decoder::new(P);
    while count < n {
        while let Some(p) = dec.decode(&mut buf).unwrap() {
            match p {
                Packet::SubAck(_) => ready.send(()).await.unwrap(),
                Packet::Publish(p) => {
                    count += 1;
                    if let Some(id) = p.packet_id {
                        Packet::PubAck(PubAck::new(id))
                            .encode(P, &mut acks)
                            .unwrap();
                    }
                }
                _ => {}
            }
        }
        if !acks.is_empty() {
            s.write_all(&acks).await.unwrap();
            acks.clear();
        }
        if count < n && s.read_buf(&mut buf).await.unwrap() == 0 {
            panic!("closed after {count}");
        }
    }
}

async fn run(subs: usize, qos: QoS, n: u64) {
    let mut config = ServerConfig::default();
    config.broker.receive_maximum = u16::MAX;
    let server = Server::start(config).await.unwrap();
    // TOUCHSTONE_THROUGHPUT_TARGET=127.0.0.1:1883 measures another broker instead.
    let addr = match std::env::var("TOUCHSTONE_THROUGHPUT_TARGET") {
        Ok(a) => a.parse().unwrap(),
        Err(_) => server.tcp_addr().unwrap(),
    };
    let (tx, mut rx) = tokio::sync::mpsc::channel(subs);
    let mut tasks = Vec::new();
    for i in 0..subs {
        tasks.push(tokio::spawn(subscriber(
            addr,
            format!("s{i}"),
            qos,
            n,
            tx.clone(),
        )));
    }
    for _ in 0..subs {
        rx.recv().await.unwrap();
    }
    let (mut s, mut buf) = connect(addr, "publisher").await;
    let started = Instant::now();
    let payload = bytes::Bytes::from_static(&[b'x'; 32]);
    let mut out = BytesMut::new();
    let mut sent = 0u64;
    let mut acked = 0u64;
    let window = 20u64;
    let dec = Decoder::new(P);
    while sent < n || (qos != QoS::AtMostOnce && acked < n) {
        while sent < n && (qos == QoS::AtMostOnce || sent - acked < window) && out.len() < 16 * 1024
        {
            let mut m = Publish::new("bench/t", payload.clone());
            m.qos = qos;
            if qos != QoS::AtMostOnce {
                m.packet_id = PacketId::new((sent % 60000 + 1) as u16);
            }
            Packet::Publish(m).encode(P, &mut out).unwrap();
            sent += 1;
        }
        if !out.is_empty() {
            s.write_all(&out).await.unwrap();
            out.clear();
        }
        if qos != QoS::AtMostOnce && (sent == n || sent - acked >= window) {
            s.read_buf(&mut buf).await.unwrap();
            while let Some(p) = dec.decode(&mut buf).unwrap() {
                if let Packet::PubAck(_) = p {
                    acked += 1;
                }
            }
        }
    }
    for t in tasks {
        tokio::time::timeout(Duration::from_secs(120), t)
            .await
            .unwrap()
            .unwrap();
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "QoS {} 1 -> {subs}: {n} messages in {secs:.2} s: {:.0} msg/s published, {:.0} msg/s delivered",
        qos.as_u8(),
        n as f64 / secs,
        (n * subs as u64) as f64 / secs
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a throughput probe: run with --release --ignored --nocapture"]
async fn throughput() {
    run(1, QoS::AtMostOnce, 500_000).await;
    run(1, QoS::AtLeastOnce, 200_000).await;
    run(100, QoS::AtMostOnce, 10_000).await;
    run(100, QoS::AtLeastOnce, 5_000).await;
}
