//! PUBREL is the answer to PUBREC (3.1.1 section 3.6, 5.0 section 3.6); its fixed-header flags are 0010 ([MQTT-3.6.1-1]).

use crate::reason::valid;

super::ack::ack_packet!(
    /// PUBREL is the answer to PUBREC (3.1.1 section 3.6, 5.0 section 3.6); its fixed-header flags are 0010 ([MQTT-3.6.1-1]).
    PubRel, "PUBREL", 0b0010, valid::PUBREL, "MQTT-3.6.2-1"
);
