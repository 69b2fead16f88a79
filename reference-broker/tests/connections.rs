//! 10,000 concurrent connections held by one server (ignored by default). The clients run in a
//! child process (this test binary again) so that neither process needs more than 10,000 file
//! descriptors; the server's resident memory per connection is reported.
//!
//! `cargo test --release -p touchstone-broker --test connections -- --ignored --nocapture`

use std::time::{Duration, Instant};

use bytes::BytesMut;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use touchstone_broker::server::{Server, ServerConfig};
use touchstone_codec::{
    Connect, Decoder, Packet, PacketId, Protocol, QoS, Subscribe, Subscription,
};

const N: usize = 10_000;
const CHILD: &str = "TOUCHSTONE_CONNECTIONS_CLIENT";

fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

async fn hold_clients(addr: std::net::SocketAddr) {
    let mut conns = Vec::with_capacity(N);
    for i in 0..N {
        let mut s = TcpStream::connect(addr).await.unwrap();
        let c = Connect {
            client_id: format!("c{i}").as_str().into(),
            clean_start: true,
            ..Connect::default()
        };
        let mut bytes = Packet::Connect(Box::new(c))
            .to_bytes(Protocol::V3_1_1)
            .unwrap();
        // A subscription each, as a real client would have.
        let sub = Subscribe {
            packet_id: PacketId::new(1).unwrap(),
            properties: Default::default(),
            filters: vec![Subscription::new(
                format!("devices/{i}/cmd").as_str(),
                QoS::AtLeastOnce,
            )],
        };
        Packet::Subscribe(sub)
            .encode(Protocol::V3_1_1, &mut bytes)
            .unwrap();
        s.write_all(&bytes).await.unwrap();
        conns.push(s);
    }
    for s in &mut conns {
        let mut buf = BytesMut::new();
        let mut got = 0;
        while got < 2 {
            s.read_buf(&mut buf).await.unwrap();
            while Decoder::new(Protocol::V3_1_1)
                .decode(&mut buf)
                .unwrap()
                .is_some()
            {
                got += 1;
            }
        }
    }
    println!("child: {N} clients connected and subscribed");
    // Hold until the parent kills this process (bounded in any case).
    tokio::time::sleep(Duration::from_secs(120)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "opens 10,000 connections: run with --release --ignored --nocapture"]
async fn hold_10000_connections() {
    if let Ok(addr) = std::env::var(CHILD) {
        hold_clients(addr.parse().unwrap()).await;
        return;
    }
    let mut config = ServerConfig::default();
    config.broker.connect_timeout = 120;
    let server = Server::start(config).await.unwrap();
    let addr = server.tcp_addr().unwrap();
    let before = rss_kib();
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--ignored",
            "--exact",
            "hold_10000_connections",
            "--nocapture",
        ])
        .env(CHILD, addr.to_string())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while server.stats().subscriptions < N {
        assert!(
            started.elapsed() < Duration::from_secs(90),
            "only {:?}",
            server.stats()
        );
        assert!(
            child.try_wait().unwrap().is_none(),
            "client process ended early"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let took = started.elapsed();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let after = rss_kib();
    let stats = server.stats();
    let _ = child.kill();
    let _ = child.wait();
    println!(
        "{} connections held ({} sessions, {} subscriptions) after {took:.1?}; server RSS {} KiB -> {} KiB: {:.1} KiB per connection",
        stats.connected,
        stats.sessions,
        stats.subscriptions,
        before,
        after,
        (after.saturating_sub(before)) as f64 / N as f64
    );
    assert_eq!(stats.connected, N);
    server.shutdown().await;
}
