//! Scenarios: valid multi-client operations drawn from a seed, and the names they use.

use serde::{Deserialize, Serialize};

use crate::fuzz::rng::Rng;

/// Client slots a scenario uses.
pub const CLIENTS: u8 = 3;

/// Topic names (under the run's root `ts/<nonce>/`). `s/...` topics are matched only by the
/// shared subscription, so that which member gets a message is the only freedom there.
pub const TOPICS: &[&str] = &["a", "a/b", "a/b/c", "b", "a/c", "s/1", "s/2"];

/// Topic filters (under the run's root). The last one is shared (5.0 only; `$share/...`).
pub const FILTERS: &[&str] = &[
    "a", "a/b", "a/+", "a/#", "+/b", "+", "a/+/c", "b", "+/+/c", "SHARED",
];

/// The shared filter's place in [`FILTERS`].
pub const SHARED: u8 = (FILTERS.len() - 1) as u8;

/// One operation of one client. Every operation is valid MQTT; what varies is which.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "kebab-case")]
pub enum Op {
    /// Open a connection and send CONNECT (a take-over when the client is connected).
    Connect {
        /// Client slot.
        client: u8,
        /// Clean Session (3.1.1) / Clean Start (5.0).
        clean: bool,
        /// 5.0 Session Expiry Interval: 0 (ends with the connection) or 300 s. 3.1.1: the
        /// session persists when `clean` is false.
        keep_session: bool,
        /// A Will (topic index, QoS, RETAIN), published if the connection ends abnormally.
        will: Option<(u8, u8, bool)>,
    },
    /// SUBSCRIBE to one filter.
    Subscribe {
        /// Client slot.
        client: u8,
        /// Index in [`FILTERS`].
        filter: u8,
        /// Requested QoS.
        qos: u8,
        /// 5.0 No Local.
        no_local: bool,
        /// 5.0 Retain As Published.
        retain_as_published: bool,
        /// 5.0 Retain Handling (0-2).
        retain_handling: u8,
        /// 5.0 Subscription Identifier.
        id: Option<u32>,
    },
    /// UNSUBSCRIBE from one filter.
    Unsubscribe {
        /// Client slot.
        client: u8,
        /// Index in [`FILTERS`].
        filter: u8,
    },
    /// PUBLISH one message (its payload is a tag naming this operation).
    Publish {
        /// Client slot.
        client: u8,
        /// Index in [`TOPICS`].
        topic: u8,
        /// QoS.
        qos: u8,
        /// RETAIN.
        retain: bool,
        /// 5.0: with User Properties, Content Type, Response Topic, Correlation Data and
        /// Payload Format Indicator (to be forwarded unchanged).
        properties: bool,
    },
    /// DISCONNECT (normal), then close.
    Disconnect {
        /// Client slot.
        client: u8,
    },
    /// Close the connection without DISCONNECT (the Will is published).
    Drop {
        /// Client slot.
        client: u8,
    },
}

impl Op {
    /// The client slot.
    pub fn client(&self) -> u8 {
        match *self {
            Op::Connect { client, .. }
            | Op::Subscribe { client, .. }
            | Op::Unsubscribe { client, .. }
            | Op::Publish { client, .. }
            | Op::Disconnect { client }
            | Op::Drop { client } => client,
        }
    }

    /// One line, for transcripts.
    pub fn describe(&self, v5: bool) -> String {
        match self {
            Op::Connect {
                client,
                clean,
                keep_session,
                will,
            } => format!(
                "c{client} CONNECT clean={} {}{}",
                // 3.1.1: a session that is not kept is a Clean Session.
                u8::from(*clean || (!v5 && !*keep_session)),
                if v5 {
                    format!("expiry={}", if *keep_session { 300 } else { 0 })
                } else {
                    String::new()
                },
                will.map(|(t, q, r)| format!(
                    " will={} qos{q}{}",
                    TOPICS[usize::from(t)],
                    if r { " retain" } else { "" }
                ))
                .unwrap_or_default()
            ),
            Op::Subscribe {
                client,
                filter,
                qos,
                no_local,
                retain_as_published,
                retain_handling,
                id,
            } => {
                let mut s = format!("c{client} SUBSCRIBE {} qos{qos}", filter_name(*filter));
                if v5 {
                    s += &format!(
                        " nl={} rap={} rh={retain_handling}{}",
                        u8::from(*no_local),
                        u8::from(*retain_as_published),
                        id.map(|i| format!(" id={i}")).unwrap_or_default()
                    );
                }
                s
            }
            Op::Unsubscribe { client, filter } => {
                format!("c{client} UNSUBSCRIBE {}", filter_name(*filter))
            }
            Op::Publish {
                client,
                topic,
                qos,
                retain,
                properties,
            } => format!(
                "c{client} PUBLISH {} qos{qos}{}{}",
                TOPICS[usize::from(*topic)],
                if *retain { " retain" } else { "" },
                if *properties && v5 {
                    " +properties"
                } else {
                    ""
                }
            ),
            Op::Disconnect { client } => format!("c{client} DISCONNECT"),
            Op::Drop { client } => format!("c{client} closes without DISCONNECT"),
        }
    }
}

/// True if the operation's indices are in range (for files read back).
pub fn valid(op: &Op) -> bool {
    match *op {
        Op::Connect {
            will: Some((t, q, _)),
            ..
        } => usize::from(t) < TOPICS.len() && q <= 2,
        Op::Subscribe {
            filter,
            qos,
            retain_handling,
            ..
        } => usize::from(filter) < FILTERS.len() && qos <= 2 && retain_handling <= 2,
        Op::Unsubscribe { filter, .. } => usize::from(filter) < FILTERS.len(),
        Op::Publish { topic, qos, .. } => usize::from(topic) < TOPICS.len() && qos <= 2,
        _ => true,
    }
}

/// A filter's name as written in transcripts.
pub fn filter_name(f: u8) -> &'static str {
    if f == SHARED {
        "$share/g/s/#"
    } else {
        FILTERS[usize::from(f)]
    }
}

/// Draws scenario `index` of `seed`: 6 to 30 operations, each valid where it stands (a client
/// connects before it acts).
pub fn generate(seed: u64, index: u64, v5: bool) -> Vec<Op> {
    let mut rng = Rng::for_burst(seed ^ 0x5e_4a_17_1c, index);
    let n = 6 + rng.below(25);
    let mut connected = [false; CLIENTS as usize];
    let mut ops = Vec::with_capacity(n + 2);
    while ops.len() < n {
        let c = rng.below(usize::from(CLIENTS)) as u8;
        let op = if !connected[usize::from(c)] || rng.chance(1, 14) {
            connected[usize::from(c)] = true;
            Op::Connect {
                client: c,
                clean: rng.chance(1, 3),
                keep_session: rng.chance(2, 3),
                will: rng.chance(1, 3).then(|| {
                    (
                        rng.below(TOPICS.len()) as u8,
                        rng.below(3) as u8,
                        rng.chance(1, 4),
                    )
                }),
            }
        } else {
            match rng.below(20) {
                0..=5 => {
                    let filter = if v5 && rng.chance(1, 6) {
                        SHARED
                    } else {
                        rng.below(FILTERS.len() - 1) as u8
                    };
                    Op::Subscribe {
                        client: c,
                        filter,
                        qos: rng.below(3) as u8,
                        no_local: v5 && filter != SHARED && rng.chance(1, 4),
                        retain_as_published: v5 && rng.chance(1, 3),
                        retain_handling: if v5 { rng.below(3) as u8 } else { 0 },
                        id: (v5 && rng.chance(1, 3)).then(|| 1 + rng.below(9) as u32),
                    }
                }
                6 | 7 => Op::Unsubscribe {
                    client: c,
                    filter: if v5 && rng.chance(1, 6) {
                        SHARED
                    } else {
                        rng.below(FILTERS.len() - 1) as u8
                    },
                },
                8..=16 => Op::Publish {
                    client: c,
                    topic: rng.below(TOPICS.len()) as u8,
                    qos: rng.below(3) as u8,
                    retain: rng.chance(1, 4),
                    properties: v5 && rng.chance(1, 3),
                },
                17 | 18 => {
                    connected[usize::from(c)] = false;
                    Op::Disconnect { client: c }
                }
                _ => {
                    connected[usize::from(c)] = false;
                    Op::Drop { client: c }
                }
            }
        };
        ops.push(op);
    }
    ops
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_seed_gives_the_same_scenario_and_clients_connect_before_acting() {
        for i in 0..200 {
            let ops = generate(7, i, i % 2 == 0);
            assert_eq!(ops, generate(7, i, i % 2 == 0));
            let mut connected = [false; CLIENTS as usize];
            for op in &ops {
                let c = usize::from(op.client());
                match op {
                    Op::Connect { .. } => connected[c] = true,
                    Op::Disconnect { .. } | Op::Drop { .. } => {
                        assert!(connected[c]);
                        connected[c] = false
                    }
                    _ => assert!(connected[c], "{op:?} before CONNECT"),
                }
            }
            if i % 2 == 1 {
                assert!(ops
                    .iter()
                    .all(|o| !matches!(o, Op::Subscribe { filter: SHARED, .. })));
            }
        }
    }
}
