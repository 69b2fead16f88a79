//! PUBLISH from the test client: `a.publish(&topic).qos(Q1).retain().payload("v").acked()`.

use bytes::Bytes;
use touchstone_codec::properties::PublishProperties;
use touchstone_codec::{Packet, PacketId, PubRel, Publish, QoS, ReasonCode};

use super::Client;
use crate::harness::expect::{puback, pubcomp, pubrec};
use crate::harness::verdict::{v311, v5, CaseError};

/// A PUBLISH being built: see [`Client::publish`].
pub struct PublishBuilder<'c> {
    client: &'c mut Client,
    publish: Publish,
    packet_id: Option<PacketId>,
}

impl<'c> PublishBuilder<'c> {
    pub(super) fn new(client: &'c mut Client, topic: &str) -> Self {
        PublishBuilder {
            client,
            publish: Publish::new(topic, Bytes::new()),
            packet_id: None,
        }
    }

    /// The QoS (0 by default).
    pub fn qos(mut self, qos: QoS) -> Self {
        self.publish.qos = qos;
        self
    }

    /// RETAIN 1.
    pub fn retain(mut self) -> Self {
        self.publish.retain = true;
        self
    }

    /// DUP 1.
    pub fn dup(mut self) -> Self {
        self.publish.dup = true;
        self
    }

    /// The payload (empty by default).
    pub fn payload(mut self, payload: impl AsRef<[u8]>) -> Self {
        self.publish.payload = Bytes::copy_from_slice(payload.as_ref());
        self
    }

    /// Uses `id` instead of the client's next Packet Identifier.
    pub fn packet_id(mut self, id: PacketId) -> Self {
        self.packet_id = Some(id);
        self
    }

    /// Sets 5.0 PUBLISH properties.
    pub fn properties(mut self, f: impl FnOnce(&mut PublishProperties)) -> Self {
        f(&mut self.publish.properties);
        self
    }

    /// Appends a 5.0 User Property.
    pub fn user_property(mut self, name: &str, value: &str) -> Self {
        self.publish.properties.user_properties.push(name, value);
        self
    }

    /// Sends the PUBLISH; returns its Packet Identifier (none at QoS 0).
    pub async fn send(self) -> Result<Option<PacketId>, CaseError> {
        let PublishBuilder {
            client,
            mut publish,
            packet_id,
        } = self;
        if publish.qos != QoS::AtMostOnce {
            publish.packet_id = Some(packet_id.unwrap_or_else(|| client.next_packet_id()));
        }
        if publish.retain {
            client
                .shared
                .retained_set(publish.topic.as_str(), !publish.payload.is_empty());
        }
        let id = publish.packet_id;
        client.send(Packet::Publish(publish)).await?;
        Ok(id)
    }

    /// Sends the PUBLISH and completes its flow: nothing more at QoS 0, PUBACK at QoS 1, PUBREC
    /// then PUBREL and PUBCOMP at QoS 2, each with a reason code below 0x80 and the PUBLISH's
    /// packet id. Returns the reason code of the PUBACK or PUBREC (5.0 may say 0x10 No matching
    /// subscribers).
    pub async fn acked(self) -> Result<ReasonCode, CaseError> {
        let qos = self.publish.qos;
        let client_v5 = self.client.protocol.is_v5();
        let ids_echoed = if client_v5 {
            [v5("MQTT-2.2.1-5"), v5("MQTT-3.3.4-1")]
        } else {
            [v311("MQTT-2.3.1-6"), v311("MQTT-3.3.4-1")]
        };
        // `send` consumes a builder: give it a reborrow, keeping the client for the flow.
        let PublishBuilder {
            client,
            publish,
            packet_id,
        } = self;
        let id = PublishBuilder {
            client: &mut *client,
            publish,
            packet_id,
        }
        .send()
        .await?;
        let Some(id) = id else {
            return Ok(ReasonCode::SUCCESS);
        };
        match qos {
            QoS::AtMostOnce => Ok(ReasonCode::SUCCESS),
            QoS::AtLeastOnce => {
                let ack = client
                    .expect(puback(id).success())
                    .because(&ids_echoed)
                    .await?;
                Ok(ack.reason_code)
            }
            QoS::ExactlyOnce => {
                let rec = client
                    .expect(pubrec(id).success())
                    .because(&ids_echoed)
                    .await?;
                client.send(Packet::PubRel(PubRel::new(id))).await?;
                let completes = if client_v5 {
                    [v5("MQTT-4.3.3-11"), v5("MQTT-2.2.1-5")]
                } else {
                    [v311("MQTT-4.3.3-2"), v311("MQTT-2.3.1-6")]
                };
                client
                    .expect(pubcomp(id).success())
                    .because(&completes)
                    .await?;
                Ok(rec.reason_code)
            }
        }
    }
}
