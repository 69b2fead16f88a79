//! SUBSCRIBE and UNSUBSCRIBE from the test client:
//! `b.subscribe(&filter, Q1).granted().await?`, `b.unsubscribe(&filter).acked().await?`.

use touchstone_codec::properties::SubscribeProperties;
use touchstone_codec::{
    Packet, PacketId, QoS, ReasonCode, RetainHandling, SubAck, Subscribe, Subscription, Unsubscribe,
};

use super::Client;
use crate::harness::expect::{suback, unsuback};
use crate::harness::summary;
use crate::harness::verdict::{v311, v5, CaseError};

/// A SUBSCRIBE being built: see [`Client::subscribe`].
pub struct SubscribeBuilder<'c> {
    client: &'c mut Client,
    filters: Vec<Subscription>,
    properties: SubscribeProperties,
}

impl<'c> SubscribeBuilder<'c> {
    pub(super) fn new(client: &'c mut Client, filter: &str, qos: QoS) -> Self {
        SubscribeBuilder {
            client,
            filters: vec![Subscription::new(filter, qos)],
            properties: SubscribeProperties::default(),
        }
    }

    /// Adds another filter to the same SUBSCRIBE.
    pub fn also(mut self, filter: &str, qos: QoS) -> Self {
        self.filters.push(Subscription::new(filter, qos));
        self
    }

    fn last(&mut self) -> Option<&mut Subscription> {
        self.filters.last_mut()
    }

    /// No Local 1 on the last filter (5.0).
    pub fn no_local(mut self) -> Self {
        if let Some(s) = self.last() {
            s.options.no_local = true;
        }
        self
    }

    /// Retain As Published 1 on the last filter (5.0).
    pub fn retain_as_published(mut self) -> Self {
        if let Some(s) = self.last() {
            s.options.retain_as_published = true;
        }
        self
    }

    /// Retain Handling of the last filter (5.0).
    pub fn retain_handling(mut self, handling: RetainHandling) -> Self {
        if let Some(s) = self.last() {
            s.options.retain_handling = handling;
        }
        self
    }

    /// A Subscription Identifier (5.0).
    pub fn id(mut self, id: u32) -> Self {
        self.properties.subscription_identifier = Some(id);
        self
    }

    /// Appends a 5.0 User Property.
    pub fn user_property(mut self, name: &str, value: &str) -> Self {
        self.properties.user_properties.push(name, value);
        self
    }

    /// Sends the SUBSCRIBE; returns its Packet Identifier.
    pub async fn send(self) -> Result<(PacketId, usize), CaseError> {
        let SubscribeBuilder {
            client,
            filters,
            properties,
        } = self;
        let packet_id = client.next_packet_id();
        let n = filters.len();
        client
            .send(Packet::Subscribe(Subscribe {
                packet_id,
                properties: properties.into(),
                filters,
            }))
            .await?;
        Ok((packet_id, n))
    }

    /// Sends the SUBSCRIBE and expects its SUBACK: same packet id, one code per filter
    /// (3.1.1 MQTT-3.8.4-1, -2, -5, MQTT-3.9.3-1; 5.0 MQTT-3.8.4-1, -2, -6, MQTT-3.9.3-1).
    pub async fn suback(self) -> Result<SubAck, CaseError> {
        let v5_ = self.client.protocol.is_v5();
        let requested: Vec<QoS> = self.filters.iter().map(|s| s.options.qos).collect();
        let SubscribeBuilder {
            client,
            filters,
            properties,
        } = self;
        let (id, n) = SubscribeBuilder {
            client: &mut *client,
            filters,
            properties,
        }
        .send()
        .await?;
        let cite = if v5_ {
            [
                v5("MQTT-3.8.4-1"),
                v5("MQTT-3.8.4-2"),
                v5("MQTT-3.8.4-6"),
                v5("MQTT-2.2.1-6"),
            ]
        } else {
            [
                v311("MQTT-3.8.4-1"),
                v311("MQTT-3.8.4-2"),
                v311("MQTT-3.8.4-5"),
                v311("MQTT-2.3.1-7"),
            ]
        };
        let ack = client.expect(suback(id).codes(n)).because(&cite).await?;
        // A granted QoS is never above the one requested.
        for (code, req) in ack.reason_codes.iter().zip(&requested) {
            if code.is_success() && code.0 > req.as_u8() {
                let cite = if v5_ {
                    v5("MQTT-3.8.4-7")
                } else {
                    v311("MQTT-3.8.4-5")
                };
                return Err(client
                    .fail(
                        format_args!("SUBACK granting at most QoS {}", req.as_u8()),
                        summary::packet(&Packet::SubAck(ack.clone())),
                    )
                    .because(&[cite]));
            }
        }
        Ok(ack)
    }

    /// Sends the SUBSCRIBE, expects its SUBACK, and returns the granted QoS of each filter
    /// (which may be below the requested one). A refused filter skips the case: a server may
    /// refuse any subscription (SUBACK failure codes, section 3.9.3 of both versions; an ACL, a
    /// limit), and then what the case checks cannot be seen. A case whose subject is the
    /// refusal itself reads the codes with [`SubscribeBuilder::suback`].
    pub async fn granted(self) -> Result<Vec<QoS>, CaseError> {
        let label = self.client.label.clone();
        let names: Vec<String> = self.filters.iter().map(|s| s.filter.to_string()).collect();
        let ack = self.suback().await?;
        let mut granted = Vec::with_capacity(ack.reason_codes.len());
        for (i, code) in ack.reason_codes.iter().enumerate() {
            match QoS::from_u8(code.0) {
                Some(q) => granted.push(q),
                None => {
                    return Err(CaseError::Skip(format!(
                        "{label}: the server refused the subscription to {:?} ({}), which it may do; what this case checks needs it",
                        names.get(i).map_or("?", String::as_str),
                        summary::reason(*code)
                    )))
                }
            }
        }
        Ok(granted)
    }
}

/// An UNSUBSCRIBE being built: see [`Client::unsubscribe`].
pub struct UnsubscribeBuilder<'c> {
    client: &'c mut Client,
    filters: Vec<String>,
}

impl<'c> UnsubscribeBuilder<'c> {
    pub(super) fn new(client: &'c mut Client, filter: &str) -> Self {
        UnsubscribeBuilder {
            client,
            filters: vec![filter.to_string()],
        }
    }

    /// Adds another filter to the same UNSUBSCRIBE.
    pub fn also(mut self, filter: &str) -> Self {
        self.filters.push(filter.to_string());
        self
    }

    /// Sends the UNSUBSCRIBE; returns its Packet Identifier.
    pub async fn send(self) -> Result<PacketId, CaseError> {
        let packet_id = self.client.next_packet_id();
        let filters = self.filters.iter().map(|f| f.as_str().into()).collect();
        self.client
            .send(Packet::Unsubscribe(Unsubscribe {
                packet_id,
                properties: Default::default(),
                filters,
            }))
            .await?;
        Ok(packet_id)
    }

    /// Sends the UNSUBSCRIBE and expects its UNSUBACK with the same packet id (5.0: one
    /// reason code per filter, each below 0x80); returns the 5.0 reason codes (none in 3.1.1).
    pub async fn acked(self) -> Result<Vec<ReasonCode>, CaseError> {
        let n = self.filters.len();
        let UnsubscribeBuilder { client, filters } = self;
        let id = UnsubscribeBuilder {
            client: &mut *client,
            filters,
        }
        .send()
        .await?;
        let v5_ = client.protocol.is_v5();
        let (pattern, cite) = if v5_ {
            (
                unsuback(id).codes(n),
                vec![
                    v5("MQTT-3.10.4-4"),
                    v5("MQTT-3.10.4-5"),
                    v5("MQTT-3.11.3-1"),
                ],
            )
        } else {
            (
                unsuback(id),
                vec![v311("MQTT-3.10.4-4"), v311("MQTT-2.3.1-7")],
            )
        };
        let ack = client.expect(pattern).because(&cite).await?;
        if let Some(bad) = ack.reason_codes.iter().find(|c| !c.is_success()) {
            return Err(client.fail(
                "UNSUBACK with reason codes below 0x80",
                format!("reason code {}", summary::reason(*bad)),
            ));
        }
        Ok(ack.reason_codes)
    }
}
