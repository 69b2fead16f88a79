//! The case catalogue: one file per area (see `README.md` beside this file for how to write a
//! case). Adding an area is one word in the `areas!` list below; adding a case is local to its
//! area file (the case, and its name in that file's `CASES`).

mod prelude;

use crate::harness::case::Case;

/// Declares the area modules and the list of their case tables.
macro_rules! areas {
    ($($area:ident),* $(,)?) => {
        $(mod $area;)*
        const AREAS: &[&[Case]] = &[$($area::CASES),*];
    };
}

areas!(
    connect,
    session,
    qos,
    topics,
    retain,
    will,
    keepalive,
    unsubscribe,
    malformed,
    properties,
    property_rules,
    auth,
    reason_strings,
    websocket,
    flows,
    retain_handling,
    limits,
    aliases,
    flow_control,
    expiry,
    subscribe,
    shared,
    conn_session,
    disconnect,
);

/// The cases that wait on one of the server's timers (Keep Alive, Session Expiry, Will Delay):
/// their deadlines include the timer slack, `list` marks them, and their failures say so.
pub const TIMED: &[&str] = &[
    "keepalive.silent-client-disconnected",
    "keepalive.pingreq-answered-and-keeps-alive",
    "will.published-on-keep-alive-expiry",
    "conn-session.session-expires-after-interval",
    "conn-session.will-delay-cancelled-by-reconnect",
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
