//! PUBREC is the first reply to a QoS 2 PUBLISH (3.1.1 section 3.5, 5.0 section 3.5).

use crate::reason::valid;

super::ack::ack_packet!(
    /// PUBREC is the first reply to a QoS 2 PUBLISH (3.1.1 section 3.5, 5.0 section 3.5).
    PubRec, "PUBREC", 0, valid::PUBACK, "MQTT-3.5.2-1"
);
