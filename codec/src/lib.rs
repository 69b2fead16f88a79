//! # touchstone-codec
//!
//! The reference MQTT codec of Touchstone: every control packet of MQTT 3.1, 3.1.1 and 5.0,
//! strict, streaming and zero-copy, with no I/O.
//!
//! * One packet model ([`Packet`]) for all versions; the version ([`Protocol`]) is an explicit
//!   argument of every encode and decode.
//! * Streaming decode from a `BytesMut` ([`Decoder::decode`]) returns `Ok(None)` until a
//!   whole packet is buffered; strings and payloads are slices of the input.
//! * Borrowed decode from a slice ([`Decoder::decode_ref`]): a [`PacketRef`] whose strings and
//!   payloads borrow the input, with no allocation and no reference count for the packets a
//!   client sends (in 5.0, PUBLISH properties are checked bytes read on access; the properties
//!   of the other packets are held owned), exactly as strict as `decode` (the same
//!   checks run: each packet's checks yield its checked fields, and the owned and borrowed forms
//!   are both built from those).
//! * Every rule a codec can check is checked. A [`DecodeError`] says which rule broke: its
//!   [`ErrorKind`], the 5.0 reason code to answer with, the normative statements (with their
//!   specification version: the same id means different things in 3.1.1 and 5.0), and the
//!   byte offset.
//! * A protocol analyser's view ([`dissect()`]): every field with its byte offset, flags and
//!   reason codes named, as far as the bytes can be read, malformed packets included; it
//!   also locates a packet's secrets (Password, Authentication Data) so that they can be masked.
//! * Checked encoding ([`Packet::encode`]) mirrors the decoder; [`Packet::encode_unchecked`] and
//!   [`raw::Frame`] write invalid packets on purpose.
//!
//! ```
//! use bytes::BytesMut;
//! use touchstone_codec::{Decoder, Packet, Protocol, Publish, QoS};
//!
//! let mut publish = Publish::new("sensors/t1", "21.5");
//! publish.qos = QoS::AtLeastOnce;
//! publish.packet_id = std::num::NonZeroU16::new(7);
//! let mut buf = BytesMut::new();
//! Packet::Publish(publish.clone()).encode(Protocol::V3_1_1, &mut buf).unwrap();
//!
//! let decoder = Decoder::new(Protocol::V3_1_1);
//! assert_eq!(decoder.decode(&mut buf).unwrap(), Some(Packet::Publish(publish)));
//! assert_eq!(decoder.decode(&mut buf).unwrap(), None);
//! ```

mod agree;
mod decoder;
pub mod dissect;
mod error;
mod fast;
mod framer;
pub mod hex;
mod packet;
pub mod properties;
mod property_scan;
mod protocol;
mod qos;
pub mod raw;
mod reader;
pub mod reason;
mod scan;
mod small;
mod str;
pub mod topic;
mod varint;
mod writer;

pub use decoder::{decode_slice, peek_protocol, Decoder, FixedHeader, MAX_PACKET_SIZE};
pub use dissect::{dissect, Dissection};
pub use error::{DecodeError, DecodeErrorInfo, EncodeError, ErrorKind};
pub use framer::{FrameError, Framed, Framer};
pub use packet::{
    Auth, ConnAck, Connect, ConnectRef, Disconnect, FiltersIter, FiltersRef, Packet, PacketId,
    PacketRef, PacketType, PubAck, PubComp, PubRec, PubRel, Publish, PublishRef, RetainHandling,
    SubAck, Subscribe, SubscribeRef, Subscription, SubscriptionOptions, SubscriptionsIter,
    SubscriptionsRef, UnsubAck, Unsubscribe, UnsubscribeRef, Will, WillRef,
};
pub use properties::{PayloadFormat, PublishPropertiesRef, UserProperties};
pub use protocol::{Protocol, SpecVersion, Statement, UnknownProtocol};
pub use qos::QoS;
pub use reason::ReasonCode;
pub use str::Str;
pub use varint::{read_varint, varint_len, write_varint, Varint, VARINT_MAX};
