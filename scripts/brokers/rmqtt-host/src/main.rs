//! A small host for the rmqtt 0.24 broker library, for Touchstone's conformance matrix.
//!
//! `touchstone-rmqtt-host ADDR` serves MQTT 3.1.1 and 5.0 on the TCP address ADDR (for example
//! `127.0.0.1:1883`; loopback is the caller's choice), with the `rmqtt-retainer` plugin (RAM
//! storage) for retained messages and the `rmqtt-shared-subscription` plugin (default strategy)
//! for `$share/...` (without it rmqtt's CONNACK says Shared Subscription Available 0).
//! Listener settings are rmqtt's defaults (those of `rmqttd`'s shipped `rmqtt.toml`), except that
//! a few limits are raised so that they are not what the conformance cases measure. It runs until
//! SIGINT or SIGTERM.

use std::net::SocketAddr;

use rmqtt::context::ServerContext;
use rmqtt::net::Builder;
use rmqtt::server::MqttServer;

fn usage() -> ! {
    eprintln!("usage: touchstone-rmqtt-host ADDR   (for example 127.0.0.1:1883)");
    std::process::exit(2)
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let addr: SocketAddr = match (args.next(), args.next()) {
        (Some(a), None) if a != "-h" && a != "--help" => match a.parse() {
            Ok(addr) => addr,
            Err(e) => {
                eprintln!("bad address {a:?}: {e}");
                usage()
            }
        },
        _ => usage(),
    };
    if let Err(e) = run(addr).await {
        eprintln!("rmqtt host failed: {e}");
        std::process::exit(1);
    }
}

async fn run(addr: SocketAddr) -> rmqtt::Result<()> {
    let scx = ServerContext::new().build().await;
    // default_startup = true: the plugin is initialised and started now; immutable = false.
    rmqtt_retainer::register(&scx, true, false).await?;
    rmqtt_shared_subscription::register(&scx, true, false).await?;

    let listener = Builder::new()
        .name("external/tcp")
        .laddr(addr)
        .max_packet_size(16 * 1024 * 1024)
        .max_topic_aliases(32)
        .bind()?
        .tcp()?;
    let server = MqttServer::new(scx).listener(listener).build();

    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        r = server.run() => r?,
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
    Ok(())
}
