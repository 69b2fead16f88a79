//! The case catalogue: one folder per chapter of the specification, one file per area in it
//! (see `README.md` beside this file for how to write a case). Adding an area is one word in
//! the `areas!` list below; adding a case is local to its area file (the case, and its name in
//! that file's `CASES`).

pub mod prelude;

use crate::harness::case::Case;

/// Declares the area modules of a chapter folder and the list of their case tables.
macro_rules! areas {
    ($($chapter:ident { $($area:ident),* $(,)? })*) => {
        $(mod $chapter { $(pub(super) mod $area;)* })*
        const AREAS: &[&[Case]] = &[$($($chapter::$area::CASES),*),*];
    };
}

// One folder per chapter of the specification (the same chapters in 3.1.1 and 5.0), one file
// per area in it, named as the first part of its cases' ids.
areas!(
    // Chapters 1 and 2: data representation and the packet format.
    data { utf8, malformed }
    // Chapter 3: the control packets, and what each field asks of the server.
    packets {
        connect,
        will,
        keepalive,
        limits,
        aliases,
        properties,
        retain,
        retain_handling,
        expiry,
        subscribe,
        unsubscribe,
        disconnect,
        reason_strings,
        reason_codes,
    }
    // Chapter 4: operational behaviour.
    operation {
        session,
        qos,
        retry,
        ordering,
        topics,
        shared,
        flow_control,
        auth,
        property_rules,
    }
    // Chapter 6: WebSocket as a network transport.
    transport { websocket }
);

/// Case ids that changed when the areas were regrouped by chapter, old id first. A profile,
/// `--filter` or an older report may still name a case by its old id; it means the new one.
pub const RENAMED: &[(&str, &str)] = &[
    (
        "conn-session.first-packet-not-connect-closes",
        "connect.first-packet-not-connect-closes",
    ),
    (
        "conn-session.wrong-protocol-name",
        "connect.wrong-protocol-name",
    ),
    (
        "conn-session.reserved-connect-flag-refused",
        "connect.reserved-flag-refused",
    ),
    (
        "conn-session.client-id-23-alphanumerics-accepted",
        "connect.client-id-23-alphanumerics-accepted",
    ),
    ("conn-session.empty-client-id", "connect.empty-client-id"),
    (
        "conn-session.empty-client-id-clean-session-0-refused",
        "connect.empty-client-id-clean-session-0-refused",
    ),
    (
        "conn-session.takeover-closes-old-connection",
        "session.takeover-closes-old-connection",
    ),
    (
        "conn-session.session-expires-after-interval",
        "session.expires-after-interval",
    ),
    (
        "conn-session.retained-survives-session-end",
        "retain.survives-session-end",
    ),
    ("conn-session.bom-in-topic-kept", "utf8.bom-in-topic-kept"),
    (
        "conn-session.ill-formed-utf8-topic-closes",
        "utf8.ill-formed-topic-closes",
    ),
    (
        "conn-session.nul-in-topic-closes",
        "utf8.nul-in-topic-closes",
    ),
    (
        "conn-session.will-retain-published-retained",
        "will.retain-published-retained",
    ),
    (
        "conn-session.no-will-flag-no-will",
        "will.no-will-flag-no-will",
    ),
    (
        "conn-session.will-delay-cancelled-by-reconnect",
        "will.delay-cancelled-by-reconnect",
    ),
    (
        "conn-session.will-user-properties-in-order",
        "will.user-properties-in-order",
    ),
    (
        "flows.pubrel-unknown-id-answered",
        "qos.pubrel-unknown-id-answered",
    ),
    (
        "flows.qos1-redelivered-with-dup-after-reconnect",
        "retry.qos1-redelivered-with-dup-after-reconnect",
    ),
    (
        "flows.qos2-publish-then-pubrel-redelivered",
        "retry.qos2-publish-then-pubrel-redelivered",
    ),
    (
        "flows.incoming-dup-not-forwarded",
        "qos.incoming-dup-not-forwarded",
    ),
    ("flows.qos3-publish-closes", "qos.qos3-publish-closes"),
    ("flows.qos1-order-kept", "ordering.qos1-order-kept"),
    (
        "flows.server-packet-ids-unique-in-flight",
        "qos.server-packet-ids-unique-in-flight",
    ),
    (
        "flows.same-id-after-puback-is-new-message",
        "qos.same-id-after-puback-is-new-message",
    ),
    (
        "flows.qos2-duplicate-before-pubrel-delivered-once",
        "qos.qos2-duplicate-before-pubrel-delivered-once",
    ),
    (
        "flows.failed-puback-not-redelivered",
        "retry.failed-puback-not-redelivered",
    ),
    (
        "flows.overlapping-subscriptions-highest-qos",
        "subscribe.overlapping-subscriptions-highest-qos",
    ),
    (
        "flows.qos2-in-flight-not-expired",
        "retry.qos2-in-flight-not-expired",
    ),
    (
        "flows.qos2-handshake-completed-after-expiry",
        "retry.qos2-handshake-completed-after-expiry",
    ),
    (
        "subscribe.unsubscribe-reserved-flags",
        "unsubscribe.reserved-flags",
    ),
    (
        "subscribe.unsubscribe-multiple-filters",
        "unsubscribe.multiple-filters",
    ),
    (
        "subscribe.unsubscribe-completes-started-delivery",
        "unsubscribe.completes-started-delivery",
    ),
];

/// The current id of case `id` (itself, unless it is an old id in [`RENAMED`]).
pub fn current_id(id: &str) -> &str {
    RENAMED
        .iter()
        .find(|(old, _)| *old == id)
        .map_or(id, |(_, new)| new)
}

/// The cases that wait on one of the server's timers (Keep Alive, Session Expiry, Will Delay):
/// their deadlines include the timer slack, `list` marks them, and their failures say so.
pub const TIMED: &[&str] = &[
    "keepalive.silent-client-disconnected",
    "keepalive.pingreq-answered-and-keeps-alive",
    "will.published-on-keep-alive-expiry",
    "session.expires-after-interval",
    "will.delay-cancelled-by-reconnect",
];

/// True if case `id` waits on a server timer (see [`TIMED`]).
pub fn is_timed(id: &str) -> bool {
    TIMED.contains(&id)
}

/// Every case, area by area, in file order.
pub fn catalogue() -> Vec<Case> {
    AREAS.iter().flat_map(|area| area.iter().copied()).collect()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::spec;

    #[test]
    fn renamed_ids_name_cases_that_exist_and_no_longer_exist_themselves() {
        let ids: BTreeSet<&str> = catalogue().iter().map(|c| c.id).collect();
        for (old, new) in RENAMED {
            assert!(ids.contains(new), "{old} -> {new}: no such case");
            assert!(!ids.contains(old), "{old} is still a case id");
            assert_eq!(current_id(old), *new);
        }
        assert_eq!(
            current_id("retain.store-and-deliver"),
            "retain.store-and-deliver"
        );
    }

    #[test]
    fn every_area_file_holds_the_cases_of_its_area() {
        // An area is the first part of its cases' ids, and each area is one table.
        for area in AREAS {
            let first = area[0].area();
            assert!(area.iter().all(|c| c.area() == first), "{first}");
        }
    }

    #[test]
    fn timed_cases_exist() {
        let ids: Vec<&str> = catalogue().iter().map(|c| c.id).collect();
        for id in TIMED {
            assert!(ids.contains(id), "{id}");
        }
    }

    #[test]
    fn ids_are_unique_and_well_formed() {
        let mut seen = BTreeSet::new();
        for c in catalogue() {
            assert!(seen.insert(c.id), "duplicate case id {}", c.id);
            let (area, rest) = c.id.split_once('.').expect("id is area.name");
            assert!(!area.is_empty() && !rest.is_empty(), "{}", c.id);
            assert!(
                c.id.chars()
                    .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ".-".contains(ch)),
                "{}: ids are lower case, digits, dots and dashes",
                c.id
            );
            assert!(!c.title.is_empty() && !c.protocols.is_empty(), "{}", c.id);
        }
    }

    #[test]
    fn every_statement_is_in_the_index_and_each_version_cites_some() {
        for c in catalogue() {
            for s in c.statements {
                let found = spec::find(s.version, s.id)
                    .unwrap_or_else(|| panic!("{}: {s} is not in spec/", c.id));
                assert_ne!(found.testable_by, "untestable", "{}: {s}", c.id);
            }
            for p in c.protocols {
                assert!(
                    !c.statements_for(*p).is_empty(),
                    "{} runs for {p} but cites no {} statement",
                    c.id,
                    p.spec()
                );
            }
        }
    }
}
