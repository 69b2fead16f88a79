//! PUBACK acknowledges a QoS 1 PUBLISH (3.1.1 section 3.4, 5.0 section 3.4).

use crate::reason::valid;

super::ack::ack_packet!(
    /// PUBACK acknowledges a QoS 1 PUBLISH (3.1.1 section 3.4, 5.0 section 3.4).
    PubAck, "PUBACK", 0, valid::PUBACK, "MQTT-3.4.2-1"
);
