//! The sans-IO broker core driven by arbitrary scenarios of up to 4 clients (CONNECT 3.1.1/5.0
//! with Clean Start, Session Expiry, Will, limits; SUBSCRIBE/UNSUBSCRIBE over a small filter
//! alphabet with wildcards, `$` topics and `$share`; PUBLISH QoS 0/1/2 with RETAIN, DUP and Topic
//! Aliases; acknowledgements with plausible and wrong packet ids; PINGREQ, DISCONNECT, AUTH; raw
//! bytes in arbitrary chunks; closing; the clock moving past keep-alive and expiry).
//!
//! The runner and its reference model are `touchstone_broker::fuzzing` (unit-tested there,
//! including one test per broker fault it must catch). After every step it checks: no panic;
//! every byte sent decodes with the strict codec for the connection's version and is a packet a
//! server may send, in a legal order and within the client's Maximum Packet Size; acknowledgement
//! ids and SUBACK grants; every accepted QoS 1/2 message reaches every session with a matching
//! subscription at min(published, granted) QoS unless the broker's documented limits allowed a
//! drop; no delivery without a matching subscription; QoS 2 at most once per session; DUP, packet
//! id reuse, the client's Receive Maximum and redelivery on reconnect; Session Present; stats
//! and per-session queues within the configured limits. See the module documentation for the
//! exact statements.
//!
//! `TOUCHSTONE_FUZZ_FAULTS=deliver_at_publish_qos,...` switches reference-broker faults on, to
//! see the target find a broken broker (README, "Fuzzing").

#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use touchstone_broker::fuzzing::{config_from_env, run, Step};
use touchstone_broker::Config;

fn config() -> &'static Config {
    static CONFIG: OnceLock<Config> = OnceLock::new();
    CONFIG.get_or_init(|| {
        config_from_env().unwrap_or_else(|e| {
            eprintln!("TOUCHSTONE_FUZZ_FAULTS: {e}");
            std::process::exit(2)
        })
    })
}

fuzz_target!(|steps: Vec<Step>| {
    if steps.len() > 64 {
        return;
    }
    if let Err(v) = run(config().clone(), &steps) {
        panic!("{v}\nsteps: {steps:#?}");
    }
});
