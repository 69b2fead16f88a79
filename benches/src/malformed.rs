//! A catalogue of malformed MQTT 3.1.1 packets, each breaking exactly one rule.
//!
//! Every entry is a single, complete packet: the Remaining Length matches the bytes that follow
//! (except where the Remaining Length itself is the broken rule), and every other field is
//! well-formed. Each entry also has a `valid` twin: the closest valid packet, differing only where
//! the rule is broken. The unit tests check that every peer decoder accepts every twin, so a
//! rejection of the malformed packet is due to the broken rule and nothing else.
//!
//! Statement ids are from `spec/mqtt-3.1.1-statements.tsv` (a test checks that each exists);
//! rules that the 3.1.1 specification states without a numbered statement name their section
//! instead.
//!
//! CONNECT packets below share the variable header `00 04 4D 51 54 54 04 <flags> 00 3C`
//! ("MQTT", level 4, connect flags, keep alive 60) and the client id "c" (`00 01 63`).

/// One malformed packet.
#[derive(Debug, Clone, Copy)]
pub struct Malformed {
    /// Short, unique name.
    pub name: &'static str,
    /// The packet, as space-separated hex bytes.
    pub hex: &'static str,
    /// The closest valid packet, as space-separated hex bytes.
    pub valid: &'static str,
    /// The rule the packet breaks.
    pub rule: &'static str,
    /// The 3.1.1 normative statement ids it violates (empty when the rule has no id).
    pub statements: &'static [&'static str],
}

impl Malformed {
    /// The malformed packet's bytes.
    pub fn bytes(&self) -> Vec<u8> {
        from_hex(self.hex)
    }

    /// The valid twin's bytes.
    pub fn valid_bytes(&self) -> Vec<u8> {
        from_hex(self.valid)
    }

    /// The statement ids joined with ", ", or the empty string.
    pub fn statement_list(&self) -> String {
        self.statements.join(", ")
    }
}

/// Parses space-separated hex bytes; panics on bad input (the catalogue is static).
pub fn from_hex(hex: &str) -> Vec<u8> {
    hex.split_whitespace()
        .map(|b| u8::from_str_radix(b, 16).unwrap_or_else(|_| panic!("bad hex byte {b:?}")))
        .collect()
}

macro_rules! m {
    ($name:literal, $hex:literal, $valid:literal, $rule:literal, [$($id:literal),*]) => {
        Malformed { name: $name, hex: $hex, valid: $valid, rule: $rule, statements: &[$($id),*] }
    };
}

/// The catalogue.
#[rustfmt::skip]
pub const CATALOGUE: &[Malformed] = &[
    // --- Fixed header flags (Table 2.2) -------------------------------------------------------
    m!("pubrel-flags-0000", "60 02 00 01", "62 02 00 01",
       "PUBREL fixed-header flags must be 0010",
       ["MQTT-2.2.2-1", "MQTT-3.6.1-1"]),
    m!("subscribe-flags-0000", "80 06 00 01 00 01 61 00", "82 06 00 01 00 01 61 00",
       "SUBSCRIBE fixed-header flags must be 0010",
       ["MQTT-2.2.2-1", "MQTT-3.8.1-1"]),
    m!("unsubscribe-flags-0000", "A0 05 00 01 00 01 61", "A2 05 00 01 00 01 61",
       "UNSUBSCRIBE fixed-header flags must be 0010",
       ["MQTT-2.2.2-1", "MQTT-3.10.1-1"]),
    m!("pingreq-flags-0001", "C1 00", "C0 00",
       "PINGREQ fixed-header flags must be 0000",
       ["MQTT-2.2.2-1"]),
    m!("disconnect-flags-0010", "E2 00", "E0 00",
       "DISCONNECT fixed-header flags must be 0000",
       ["MQTT-2.2.2-1", "MQTT-3.14.1-1"]),
    m!("puback-flags-0001", "41 02 00 01", "40 02 00 01",
       "PUBACK fixed-header flags must be 0000",
       ["MQTT-2.2.2-1"]),
    m!("connect-flags-0001", "11 0D 00 04 4D 51 54 54 04 02 00 3C 00 01 63",
       "10 0D 00 04 4D 51 54 54 04 02 00 3C 00 01 63",
       "CONNECT fixed-header flags must be 0000",
       ["MQTT-2.2.2-1"]),
    m!("reserved-packet-type-0", "00 00", "C0 00",
       "packet type 0 is reserved (forbidden) (2.2.1, Table 2.1)",
       []),
    m!("reserved-packet-type-15", "F0 00", "E0 00",
       "packet type 15 is reserved (forbidden) in 3.1.1 (2.2.1, Table 2.1)",
       []),
    // --- PUBLISH --------------------------------------------------------------------------------
    m!("publish-qos-3", "36 08 00 03 61 2F 62 00 01 78", "32 08 00 03 61 2F 62 00 01 78",
       "PUBLISH QoS bits must not both be 1",
       ["MQTT-3.3.1-4"]),
    m!("publish-qos0-dup", "38 06 00 03 61 2F 62 78", "30 06 00 03 61 2F 62 78",
       "DUP must be 0 on a QoS 0 PUBLISH",
       ["MQTT-3.3.1-2"]),
    m!("publish-qos1-packet-id-0", "32 08 00 03 61 2F 62 00 00 78",
       "32 08 00 03 61 2F 62 00 01 78",
       "a QoS 1 PUBLISH carries a non-zero packet identifier",
       ["MQTT-2.3.1-1"]),
    m!("publish-qos1-no-packet-id", "32 05 00 03 61 2F 62", "32 07 00 03 61 2F 62 00 01",
       "a QoS 1 PUBLISH carries a packet identifier (Remaining Length ends after the topic)",
       ["MQTT-2.3.1-1"]),
    m!("publish-topic-plus", "30 06 00 03 61 2F 2B 78", "30 06 00 03 61 2F 62 78",
       "a PUBLISH topic name contains no wildcard ('a/+')",
       ["MQTT-3.3.2-2", "MQTT-4.7.1-1"]),
    m!("publish-topic-hash", "30 06 00 03 61 2F 23 78", "30 06 00 03 61 2F 62 78",
       "a PUBLISH topic name contains no wildcard ('a/#')",
       ["MQTT-3.3.2-2", "MQTT-4.7.1-1"]),
    m!("publish-topic-empty", "30 03 00 00 78", "30 04 00 01 61 78",
       "a topic name is at least one character long",
       ["MQTT-4.7.3-1"]),
    m!("publish-topic-invalid-utf8", "30 06 00 03 61 2F FF 78", "30 06 00 03 61 2F 62 78",
       "topic name must be well-formed UTF-8 (byte 0xFF)",
       ["MQTT-1.5.3-1", "MQTT-3.3.2-1"]),
    m!("publish-topic-surrogate", "30 06 00 03 ED A0 80 78", "30 06 00 03 E2 82 AC 78",
       "topic name must not encode a UTF-16 surrogate (U+D800 as ED A0 80)",
       ["MQTT-1.5.3-1"]),
    m!("publish-topic-overlong-utf8", "30 05 00 02 C0 AF 78", "30 05 00 02 61 2F 78",
       "topic name must be well-formed UTF-8 (overlong '/' as C0 AF)",
       ["MQTT-1.5.3-1"]),
    m!("publish-topic-nul", "30 06 00 03 61 00 62 78", "30 06 00 03 61 2F 62 78",
       "topic name must not contain U+0000",
       ["MQTT-1.5.3-2", "MQTT-4.7.3-2"]),
    m!("publish-topic-length-overrun", "30 06 00 0A 61 2F 62 78", "30 06 00 03 61 2F 62 78",
       "the topic's string length (10) runs past the end of the packet (1.5.3, 2.2.3)",
       []),
    // --- CONNECT --------------------------------------------------------------------------------
    m!("connect-reserved-flag", "10 0D 00 04 4D 51 54 54 04 03 00 3C 00 01 63",
       "10 0D 00 04 4D 51 54 54 04 02 00 3C 00 01 63",
       "the reserved connect flag (bit 0) must be 0",
       ["MQTT-3.1.2-3"]),
    m!("connect-will-qos-without-will", "10 0D 00 04 4D 51 54 54 04 0A 00 3C 00 01 63",
       "10 0D 00 04 4D 51 54 54 04 02 00 3C 00 01 63",
       "Will Flag 0 requires Will QoS 0 (here 1)",
       ["MQTT-3.1.2-11", "MQTT-3.1.2-13"]),
    m!("connect-will-retain-without-will", "10 0D 00 04 4D 51 54 54 04 22 00 3C 00 01 63",
       "10 0D 00 04 4D 51 54 54 04 02 00 3C 00 01 63",
       "Will Flag 0 requires Will Retain 0",
       ["MQTT-3.1.2-11", "MQTT-3.1.2-15"]),
    m!("connect-will-qos-3",
       "10 13 00 04 4D 51 54 54 04 1E 00 3C 00 01 63 00 01 77 00 01 6D",
       "10 13 00 04 4D 51 54 54 04 0E 00 3C 00 01 63 00 01 77 00 01 6D",
       "Will QoS must be 0, 1 or 2, never 3",
       ["MQTT-3.1.2-14"]),
    m!("connect-will-without-will-fields", "10 0D 00 04 4D 51 54 54 04 06 00 3C 00 01 63",
       "10 13 00 04 4D 51 54 54 04 06 00 3C 00 01 63 00 01 77 00 01 6D",
       "Will Flag 1 requires the Will Topic and Will Message in the payload",
       ["MQTT-3.1.2-9"]),
    m!("connect-password-without-username",
       "10 10 00 04 4D 51 54 54 04 42 00 3C 00 01 63 00 01 70",
       "10 13 00 04 4D 51 54 54 04 C2 00 3C 00 01 63 00 01 75 00 01 70",
       "Password Flag must be 0 when User Name Flag is 0",
       ["MQTT-3.1.2-22"]),
    m!("connect-username-flag-without-username",
       "10 0D 00 04 4D 51 54 54 04 82 00 3C 00 01 63",
       "10 10 00 04 4D 51 54 54 04 82 00 3C 00 01 63 00 01 75",
       "User Name Flag 1 requires a user name in the payload",
       ["MQTT-3.1.2-19"]),
    m!("connect-password-flag-without-password",
       "10 10 00 04 4D 51 54 54 04 C2 00 3C 00 01 63 00 01 75",
       "10 13 00 04 4D 51 54 54 04 C2 00 3C 00 01 63 00 01 75 00 01 70",
       "Password Flag 1 requires a password in the payload",
       ["MQTT-3.1.2-21"]),
    m!("connect-client-id-nul", "10 0D 00 04 4D 51 54 54 04 02 00 3C 00 01 00",
       "10 0D 00 04 4D 51 54 54 04 02 00 3C 00 01 63",
       "client id must not contain U+0000",
       ["MQTT-1.5.3-2", "MQTT-3.1.3-4"]),
    m!("connect-client-id-invalid-utf8", "10 0D 00 04 4D 51 54 54 04 02 00 3C 00 01 80",
       "10 0D 00 04 4D 51 54 54 04 02 00 3C 00 01 63",
       "client id must be well-formed UTF-8 (lone continuation byte 0x80)",
       ["MQTT-1.5.3-1", "MQTT-3.1.3-4"]),
    m!("connect-empty-client-id-clean-session-0",
       "10 0C 00 04 4D 51 54 54 04 00 00 3C 00 00",
       "10 0C 00 04 4D 51 54 54 04 02 00 3C 00 00",
       "an empty client id requires CleanSession 1 (a server answers CONNACK 0x02 and closes, \
        [MQTT-3.1.3-8], so a codec may also pass it up)",
       ["MQTT-3.1.3-7"]),
    m!("connect-username-invalid-utf8",
       "10 11 00 04 4D 51 54 54 04 82 00 3C 00 01 63 00 02 75 FF",
       "10 11 00 04 4D 51 54 54 04 82 00 3C 00 01 63 00 02 75 73",
       "user name must be well-formed UTF-8 (byte 0xFF)",
       ["MQTT-1.5.3-1", "MQTT-3.1.3-11"]),
    m!("connect-username-surrogate",
       "10 12 00 04 4D 51 54 54 04 82 00 3C 00 01 63 00 03 ED BF BF",
       "10 12 00 04 4D 51 54 54 04 82 00 3C 00 01 63 00 03 EF BF BD",
       "user name must not encode a UTF-16 surrogate (U+DFFF as ED BF BF)",
       ["MQTT-1.5.3-1", "MQTT-3.1.3-11"]),
    m!("connect-will-topic-invalid-utf8",
       "10 14 00 04 4D 51 54 54 04 06 00 3C 00 01 63 00 02 77 C3 00 01 6D",
       "10 14 00 04 4D 51 54 54 04 06 00 3C 00 01 63 00 02 77 74 00 01 6D",
       "will topic must be well-formed UTF-8 (truncated 2-byte sequence C3)",
       ["MQTT-1.5.3-1", "MQTT-3.1.3-10"]),
    m!("connect-will-topic-wildcard",
       "10 15 00 04 4D 51 54 54 04 06 00 3C 00 01 63 00 03 77 2F 23 00 01 6D",
       "10 15 00 04 4D 51 54 54 04 06 00 3C 00 01 63 00 03 77 2F 78 00 01 6D",
       "the Will Topic is the topic name the Will Message is published to: no wildcards ('w/#')",
       ["MQTT-4.7.1-1"]),
    // --- Remaining Length and fixed-size packets -----------------------------------------------
    m!("remaining-length-5-bytes", "40 82 80 80 80 00 00 01", "40 02 00 01",
       "the Remaining Length field is at most 4 bytes (2.2.3)",
       []),
    m!("remaining-length-non-minimal", "40 82 00 00 01", "40 02 00 01",
       "the Remaining Length uses the fewest bytes: 2 is encoded as 02, not 82 00 (2.2.3, \
        Table 2.4)",
       []),
    m!("puback-remaining-length-3", "40 03 00 01 00", "40 02 00 01",
       "a PUBACK's Remaining Length is 2: a trailing byte (3.4.1)",
       []),
    m!("pingreq-remaining-length-1", "C0 01 00", "C0 00",
       "a PINGREQ has no variable header or payload: Remaining Length 0 (3.12)",
       []),
    // --- CONNACK and SUBACK ---------------------------------------------------------------------
    m!("connack-reserved-ack-flags", "20 02 02 00", "20 02 01 00",
       "CONNACK acknowledge flags bits 7-1 are reserved and 0 (3.2.2.1)",
       []),
    m!("connack-return-code-6", "20 02 00 06", "20 02 00 05",
       "CONNACK return codes 6-255 are reserved (3.2.2.3)",
       []),
    m!("connack-session-present-with-error", "20 02 01 05", "20 02 00 05",
       "a non-zero CONNACK return code requires Session Present 0",
       ["MQTT-3.2.2-4"]),
    m!("suback-return-code-3", "90 03 00 01 03", "90 03 00 01 02",
       "SUBACK return codes are 0x00, 0x01, 0x02 or 0x80",
       ["MQTT-3.9.3-2"]),
    // --- SUBSCRIBE and UNSUBSCRIBE --------------------------------------------------------------
    m!("subscribe-packet-id-0", "82 06 00 00 00 01 61 00", "82 06 00 01 00 01 61 00",
       "SUBSCRIBE carries a non-zero packet identifier",
       ["MQTT-2.3.1-1"]),
    m!("unsubscribe-packet-id-0", "A2 05 00 00 00 01 61", "A2 05 00 01 00 01 61",
       "UNSUBSCRIBE carries a non-zero packet identifier",
       ["MQTT-2.3.1-1"]),
    m!("subscribe-empty", "82 02 00 01", "82 06 00 01 00 01 61 00",
       "SUBSCRIBE holds at least one topic filter / QoS pair",
       ["MQTT-3.8.3-3"]),
    m!("unsubscribe-empty", "A2 02 00 01", "A2 05 00 01 00 01 61",
       "UNSUBSCRIBE holds at least one topic filter",
       ["MQTT-3.10.3-2"]),
    m!("subscribe-qos-3", "82 06 00 01 00 01 61 03", "82 06 00 01 00 01 61 02",
       "SUBSCRIBE requested QoS must not be 3",
       ["MQTT-3.8.3-4"]),
    m!("subscribe-qos-reserved-bits", "82 06 00 01 00 01 61 04", "82 06 00 01 00 01 61 00",
       "SUBSCRIBE requested-QoS byte bits 7-2 are reserved and 0 (here 0x04)",
       ["MQTT-3.8.3-4"]),
    m!("subscribe-missing-qos-byte", "82 05 00 01 00 01 61", "82 06 00 01 00 01 61 00",
       "every SUBSCRIBE topic filter is followed by its requested-QoS byte (3.8.3)",
       []),
    m!("subscribe-truncated-filter-length", "82 03 00 01 00", "82 06 00 01 00 01 61 00",
       "the topic filter's 2-byte string length is cut off by the packet's end (1.5.3)",
       []),
    m!("subscribe-filter-hash-not-last", "82 0A 00 01 00 05 61 2F 23 2F 62 00",
       "82 0A 00 01 00 05 61 2F 2B 2F 62 00",
       "'#' must be the last character of a topic filter ('a/#/b')",
       ["MQTT-4.7.1-2"]),
    m!("subscribe-filter-hash-then-text", "82 07 00 01 00 02 23 61 00",
       "82 07 00 01 00 02 2F 23 00",
       "'#' must be the last character of a topic filter ('#a')",
       ["MQTT-4.7.1-2"]),
    m!("subscribe-filter-hash-after-text", "82 09 00 01 00 04 61 2F 62 23 00",
       "82 09 00 01 00 04 61 2F 62 63 00",
       "'#' must stand alone or right after '/' ('a/b#')",
       ["MQTT-4.7.1-2"]),
    m!("subscribe-filter-plus-partial-level", "82 07 00 01 00 02 61 2B 00",
       "82 07 00 01 00 02 61 62 00",
       "'+' must fill a whole topic level ('a+')",
       ["MQTT-4.7.1-3"]),
    m!("subscribe-filter-empty", "82 05 00 01 00 00 00", "82 06 00 01 00 01 61 00",
       "a topic filter is at least one character long",
       ["MQTT-4.7.3-1"]),
    m!("subscribe-filter-nul", "82 08 00 01 00 03 61 00 62 00",
       "82 08 00 01 00 03 61 2F 62 00",
       "a topic filter must not contain U+0000",
       ["MQTT-1.5.3-2", "MQTT-4.7.3-2"]),
    m!("subscribe-filter-invalid-utf8", "82 08 00 01 00 03 61 2F FE 00",
       "82 08 00 01 00 03 61 2F 62 00",
       "a SUBSCRIBE topic filter must be well-formed UTF-8 (byte 0xFE)",
       ["MQTT-1.5.3-1", "MQTT-3.8.3-1"]),
    m!("unsubscribe-filter-invalid-utf8", "A2 07 00 01 00 03 61 2F FE",
       "A2 07 00 01 00 03 61 2F 62",
       "an UNSUBSCRIBE topic filter must be well-formed UTF-8 (byte 0xFE)",
       ["MQTT-1.5.3-1", "MQTT-3.10.3-1"]),
    m!("unsubscribe-filter-plus-partial-level", "A2 06 00 01 00 02 61 2B",
       "A2 06 00 01 00 02 61 62",
       "'+' must fill a whole topic level, in UNSUBSCRIBE too ('a+')",
       ["MQTT-4.7.1-3"]),
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::peers::{self, judge};
    use crate::streams::{frame_len, Version};
    use std::collections::HashSet;

    #[test]
    fn at_least_33_entries_with_distinct_names_and_bytes() {
        assert!(CATALOGUE.len() >= 33, "{}", CATALOGUE.len());
        let names: HashSet<_> = CATALOGUE.iter().map(|m| m.name).collect();
        assert_eq!(names.len(), CATALOGUE.len(), "duplicate names");
        let packets: HashSet<_> = CATALOGUE.iter().map(|m| m.bytes()).collect();
        assert_eq!(packets.len(), CATALOGUE.len(), "duplicate packets");
        for m in CATALOGUE {
            assert!(!m.rule.is_empty(), "{}", m.name);
            assert_ne!(m.bytes(), m.valid_bytes(), "{}", m.name);
        }
    }

    #[test]
    fn remaining_length_matches_the_bytes() {
        for m in CATALOGUE {
            for (what, bytes) in [("valid twin", m.valid_bytes()), ("packet", m.bytes())] {
                if what == "packet" && m.name == "remaining-length-5-bytes" {
                    assert_eq!(frame_len(&bytes), None);
                    continue;
                }
                assert_eq!(frame_len(&bytes), Some(bytes.len()), "{} {what}", m.name);
            }
        }
    }

    #[test]
    fn every_peer_accepts_every_valid_twin() {
        for peer in peers::for_version(Version::V3_1_1) {
            let one = peer.decode_one.expect("3.1.1 peers decode single packets");
            for m in CATALOGUE {
                let v = judge(one, &m.valid_bytes());
                assert!(
                    v.accepted(),
                    "{} on the twin of {}: {v:?}",
                    peer.name,
                    m.name
                );
            }
        }
    }

    #[test]
    fn statement_ids_exist_in_the_spec_index() {
        // The workspace's copy of the index, else the shared one beside the repository.
        let paths = [
            concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../spec/mqtt-3.1.1-statements.tsv"
            ),
            concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../shared/spec/mqtt-3.1.1-statements.tsv"
            ),
        ];
        let Some(tsv) = paths.iter().find_map(|p| std::fs::read_to_string(p).ok()) else {
            eprintln!("skipped: no statement index at {paths:?}");
            return;
        };
        let ids: HashSet<&str> = tsv.lines().filter_map(|l| l.split('\t').next()).collect();
        for m in CATALOGUE {
            for id in m.statements {
                assert!(ids.contains(id), "{}: unknown statement {id}", m.name);
            }
        }
    }

    #[test]
    fn peers_never_abort_on_the_catalogue() {
        // Verdicts differ between peers (that is what the strictness table shows); this only
        // checks that judging each packet completes.
        for peer in peers::for_version(Version::V3_1_1) {
            let one = peer.decode_one.unwrap();
            for m in CATALOGUE {
                let _ = judge(one, &m.bytes());
            }
        }
    }

    #[test]
    fn touchstone_rejects_every_malformed_packet_and_accepts_every_twin() {
        use touchstone_codec::{decode_slice, Protocol};
        for m in CATALOGUE {
            let (packet, used) = decode_slice(Protocol::V3_1_1, &m.valid_bytes())
                .unwrap_or_else(|e| panic!("twin of {}: {e}", m.name));
            assert_eq!(
                used,
                m.valid_bytes().len(),
                "twin of {}: {packet:?}",
                m.name
            );
            match decode_slice(Protocol::V3_1_1, &m.bytes()) {
                Err(_) => {}
                Ok((packet, used)) if used < m.bytes().len() => {
                    panic!(
                        "{}: decoded {packet:?} and left trailing bytes unread",
                        m.name
                    )
                }
                Ok((packet, _)) => panic!("{}: accepted as {packet:?}", m.name),
            }
        }
    }

    #[test]
    fn touchstone_borrowed_decode_agrees_with_the_owned_decode_on_the_catalogue() {
        use touchstone_codec::{Decoder, Protocol};
        for m in CATALOGUE {
            for bytes in [m.bytes(), m.valid_bytes()] {
                for p in Protocol::ALL {
                    if let Err(e) = Decoder::new(p).compare_decode_ref(&bytes) {
                        panic!("{} ({p}): {e}", m.name);
                    }
                }
            }
        }
    }
}
