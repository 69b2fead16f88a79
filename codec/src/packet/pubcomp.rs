//! PUBCOMP completes a QoS 2 exchange (3.1.1 section 3.7, 5.0 section 3.7).

use crate::reason::valid;

super::ack::ack_packet!(
    /// PUBCOMP completes a QoS 2 exchange (3.1.1 section 3.7, 5.0 section 3.7).
    PubComp, "PUBCOMP", 0, valid::PUBREL, "MQTT-3.7.2-1"
);
