//! Topic names and filters from a small alphabet (`a`, `b`, `$`, `/`, `+`, `#`, NUL, `$share/`):
//!
//! * `topic::validate_topic_name`, `validate_topic_filter` (with and without shared
//!   subscriptions) and `split_shared` agree with a naive validator written from the
//!   specification (`touchstone_broker::fuzzing::naive_filter`, `naive_topic_name`);
//! * `topic::topic_matches` agrees with a naive level-by-level matcher (`naive_matches`: `+`,
//!   `#`, and the `$` rule [MQTT-4.7.2-1]) for every valid filter and name;
//! * the broker's subscription tree, fed the same filters (as 5.0 shared or plain subscriptions
//!   of distinct sessions through the broker core), delivers a PUBLISH on the name exactly to
//!   the sessions whose filter matches, and one member of each matching share group.
//!
//! Input: a byte selecting how many filters (1–4), then the filter and name strings separated by
//! 0xFF, each byte mapped into the alphabet.

#![no_main]

use libfuzzer_sys::fuzz_target;
use touchstone_broker::fuzzing::{naive_filter, naive_matches, naive_topic_name};
use touchstone_codec::topic::{
    split_shared, topic_matches, validate_topic_filter, validate_topic_name,
};

mod common;

fn alphabet(b: u8) -> &'static str {
    [
        "a", "b", "/", "+", "#", "$", "\0", "$share/", "/", "a", "/", "$SYS", "g", "+", "#", "ab",
    ][usize::from(b % 16)]
}

fuzz_target!(|data: &[u8]| {
    let Some((&n, rest)) = data.split_first() else {
        return;
    };
    let n = usize::from(n % 4) + 1;
    let strings: Vec<String> = rest
        .split(|&b| b == 0xFF)
        .map(|s| s.iter().map(|&b| alphabet(b)).collect())
        .collect();
    if strings.len() < 2 {
        return;
    }
    let name = &strings[strings.len() - 1];
    let filters = &strings[..(strings.len() - 1).min(n)];

    assert_eq!(
        validate_topic_name(name).is_ok(),
        naive_topic_name(name),
        "validate_topic_name({name:?})"
    );
    for f in filters {
        for shared in [false, true] {
            let naive = naive_filter(f, shared);
            let codec = validate_topic_filter(f, shared);
            assert_eq!(
                codec.is_ok(),
                naive.is_some(),
                "validate_topic_filter({f:?}, {shared}) = {codec:?}"
            );
            if shared {
                if let Some((share, inner)) = naive {
                    let split = split_shared(f).expect("valid");
                    assert_eq!(split.map(|(s, _)| s), share, "split_shared({f:?})");
                    assert_eq!(
                        split.map_or(f.as_str(), |(_, i)| i),
                        inner,
                        "split_shared({f:?})"
                    );
                }
            }
        }
        if naive_filter(f, false).is_some() && naive_topic_name(name) {
            assert_eq!(
                topic_matches(f, name),
                naive_matches(f, name),
                "topic_matches({f:?}, {name:?})"
            );
        }
    }
    common::broker_routes_like_the_model(filters, name);
});
