//! What the model tracks of each session and connection.

use std::collections::BTreeMap;

// The model's maps hold the run's own keys (tags, packet ids, client ids of four clients): the
// fast Fx hash, not SipHash (which cost a fifth of every execution).
use crate::fxhash::{FxHashMap as HashMap, FxHashSet as HashSet};

use bytes::BytesMut;
use touchstone_codec::{Connect, Framer, Protocol, Publish, QoS};

/// Parses a tagged payload `t:{n}`.
pub(super) fn tag_of(payload: &[u8]) -> Option<u64> {
    let digits = payload.strip_prefix(b"t:")?;
    if digits.is_empty() || digits.len() > 12 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(digits).ok()?.parse().ok()
}

#[derive(Debug, Clone, Copy)]
pub(super) struct SubModel {
    pub(super) qos: QoS,
    pub(super) no_local: bool,
    pub(super) shared: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum FlowState {
    Published,
    Released,
}

#[derive(Debug, Clone, Copy)]
pub(super) struct Flow {
    pub(super) qos: QoS,
    pub(super) tag: Option<u64>,
    pub(super) state: FlowState,
}

/// What a session may receive of one tracked message.
#[derive(Debug, Clone, Copy)]
pub(super) struct Expect {
    /// QoS from the matching plain subscriptions (`None`: only shared ones matched).
    pub(super) qos: Option<QoS>,
    /// A shared subscription matched too.
    pub(super) shared: bool,
    /// It must arrive (accepted QoS 1/2 with a plain subscription, not exempt).
    pub(super) obligation: bool,
    /// Arrived.
    pub(super) delivered: bool,
    /// The session's drop count when the obligation began.
    pub(super) dropped_at: u64,
    /// Exempt from the exactly-once check (published with RETAIN).
    pub(super) retained: bool,
    /// QoS 2 flows it has had.
    pub(super) qos2_flows: u32,
}

#[derive(Debug, Default)]
pub(super) struct SessionModel {
    pub(super) subs: BTreeMap<String, SubModel>,
    pub(super) expect: HashMap<u64, Expect>,
    pub(super) flows: BTreeMap<u16, Flow>,
    pub(super) incoming_qos2: HashSet<u16>,
    /// The model lost track: no checks until the session starts afresh.
    pub(super) uncertain: bool,
    /// A client of the session declared a Maximum Packet Size: deliveries may be dropped.
    pub(super) lossy: bool,
    pub(super) protocol: Option<Protocol>,
}

#[derive(Debug)]
pub(super) struct ConnModel {
    /// Input mirror (its decoder is set once the CONNECT shows the version).
    pub(super) mirror: Framer,
    pub(super) protocol: Option<Protocol>,
    /// The input stopped being decodable: the broker closes; the mirror stops.
    pub(super) input_dead: bool,
    /// Output reassembly.
    pub(super) out: BytesMut,
    pub(super) out_protocol: Option<Protocol>,
    /// The CONNECT sent (the first packet).
    pub(super) connect: Option<Box<Connect>>,
    /// Bound to this session once CONNACK 0x00 arrived.
    pub(super) client: Option<String>,
    pub(super) got_connack: bool,
    pub(super) got_disconnect: bool,
    /// 5.0 client limits from the CONNECT.
    pub(super) receive_max: Option<u16>,
    pub(super) max_packet: Option<u32>,
    pub(super) in_aliases: HashMap<u16, String>,
    /// Packet ids the broker has in flight here, for plausible acknowledgements.
    pub(super) last_publish: Option<Publish>,
}
