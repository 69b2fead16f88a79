//! What case files import: `use crate::cases::prelude::*;`.

// A prelude offers more than each file uses.
#![allow(unused_imports)]

pub use std::time::Duration;

pub use bytes::Bytes;
pub use touchstone_codec::raw::Frame;
pub use touchstone_codec::{
    decode_slice, Packet, PacketId, Protocol, Publish, QoS, ReasonCode, RetainHandling,
};

pub use crate::harness::capability::Capability::{self, *};
pub use crate::harness::case::Case;
pub use crate::harness::expect::{
    any_publish, connack, disconnect, pingresp, puback, pubcomp, publish, publish_under, pubrec,
    pubrel, suback, unsuback, Pattern,
};
pub use crate::harness::steps::*;
pub use crate::harness::summary;
pub use crate::harness::test::Test;
pub use crate::harness::verdict::{check, skip, v311, v5, CaseError, Verdict, BOTH, V311, V5};

/// QoS 0.
pub const Q0: QoS = QoS::AtMostOnce;
/// QoS 1.
pub const Q1: QoS = QoS::AtLeastOnce;
/// QoS 2.
pub const Q2: QoS = QoS::ExactlyOnce;
