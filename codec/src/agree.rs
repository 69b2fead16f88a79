//! The check that [`Decoder::decode_ref`] agrees with [`Decoder::decode`], for the tests and the
//! fuzz target `decode_ref`.

use bytes::BytesMut;

use crate::decoder::Decoder;
use crate::packet::{Packet, PacketRef};
use crate::properties::{PublishProperties, PublishPropertiesRef};

impl Decoder {
    /// Decodes `bytes` packet by packet with both [`Decoder::decode`] and
    /// [`Decoder::decode_ref`] until either stops (`Ok(None)` or an error), and returns how many
    /// packets both decoded, or how they first differ: a different result, a borrowed packet
    /// whose owned copy differs (or, for a PUBLISH, whose property accessors read other values
    /// than the owned set holds), a different number of bytes taken, or a packet the general
    /// decoder ([`Decoder::decode_slice`], which takes no fast path) reads otherwise.
    #[doc(hidden)]
    pub fn compare_decode_ref(&self, bytes: &[u8]) -> Result<usize, String> {
        let mut buf = BytesMut::from(bytes);
        let mut at = 0;
        let mut n = 0;
        loop {
            let before = buf.len();
            let owned = self.decode(&mut buf);
            let rest = bytes.get(at..).unwrap_or_default();
            let borrowed = self.decode_ref(rest);
            match (owned, borrowed) {
                (Ok(None), Ok(None)) => return Ok(n),
                (Err(a), Err(b)) if a == b => return Ok(n),
                (Ok(Some(p)), Ok(Some((r, len)))) => {
                    if r.to_owned() != p {
                        return Err(format!("packet {n}: decode {p:?}, decode_ref {r:?}"));
                    }
                    // Both may have taken the fast path: the general decoder must agree too.
                    match self.decode_slice(rest) {
                        Ok((g, glen)) if g == p && glen == len => {}
                        other => {
                            return Err(format!(
                                "packet {n}: decode {p:?} ({len} bytes), the general decoder (decode_slice) {other:?}"
                            ))
                        }
                    }
                    if let (PacketRef::Publish(r), Packet::Publish(p)) = (&r, &p) {
                        accessors_agree(&r.properties, &p.properties)
                            .map_err(|e| format!("packet {n}: {e}"))?;
                    }
                    if before - buf.len() != len {
                        return Err(format!(
                            "packet {n}: decode took {} bytes, decode_ref {len}",
                            before - buf.len()
                        ));
                    }
                    at += len;
                    n += 1;
                }
                (a, b) => return Err(format!("packet {n}: decode {a:?}, decode_ref {b:?}")),
            }
        }
    }
}

/// Checks that every accessor of `view` reads what the owned set holds.
fn accessors_agree(
    view: &PublishPropertiesRef<'_>,
    owned: &PublishProperties,
) -> Result<(), String> {
    let differ = |what: &str, a: &dyn std::fmt::Debug, b: &dyn std::fmt::Debug| {
        Err(format!("PUBLISH {what}: accessor {a:?}, owned {b:?}"))
    };
    if view.payload_format_indicator() != owned.payload_format_indicator {
        return differ(
            "Payload Format Indicator",
            &view.payload_format_indicator(),
            &owned.payload_format_indicator,
        );
    }
    if view.message_expiry_interval() != owned.message_expiry_interval {
        return differ(
            "Message Expiry Interval",
            &view.message_expiry_interval(),
            &owned.message_expiry_interval,
        );
    }
    if view.topic_alias() != owned.topic_alias {
        return differ("Topic Alias", &view.topic_alias(), &owned.topic_alias);
    }
    if view.response_topic() != owned.response_topic.as_ref().map(|s| s.as_str()) {
        return differ(
            "Response Topic",
            &view.response_topic(),
            &owned.response_topic,
        );
    }
    if view.correlation_data() != owned.correlation_data.as_deref() {
        return differ(
            "Correlation Data",
            &view.correlation_data(),
            &owned.correlation_data,
        );
    }
    if view.content_type() != owned.content_type.as_ref().map(|s| s.as_str()) {
        return differ("Content Type", &view.content_type(), &owned.content_type);
    }
    let ids: Vec<u32> = view.subscription_identifiers().collect();
    if ids != owned.subscription_identifiers {
        return differ(
            "Subscription Identifiers",
            &ids,
            &owned.subscription_identifiers,
        );
    }
    let users: Vec<(&str, &str)> = view.user_properties().collect();
    let owned_users: Vec<(&str, &str)> = owned.user_properties.iter().collect();
    if users != owned_users {
        return differ("User Properties", &users, &owned_users);
    }
    Ok(())
}
