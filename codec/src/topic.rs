//! Topic names and topic filters (3.1.1 section 4.7, 5.0 sections 4.7 and 4.8.2): validation and
//! matching, as pure functions.

use std::fmt;

/// Why a topic name or filter is invalid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TopicError {
    /// Zero length (3.1.1 and 5.0 [MQTT-4.7.3-1]).
    Empty,
    /// Longer than 65,535 bytes ([MQTT-4.7.3-3]).
    TooLong,
    /// Contains U+0000 ([MQTT-4.7.3-2]).
    Nul,
    /// A wildcard in a topic name (3.1.1 [MQTT-4.7.1-1], 5.0 [MQTT-4.7.0-1]).
    WildcardInName,
    /// `#` not alone in its level or not last (3.1.1 [MQTT-4.7.1-2], 5.0 [MQTT-4.7.1-1]).
    MisplacedMultiLevel,
    /// `+` not filling its whole level (3.1.1 [MQTT-4.7.1-3], 5.0 [MQTT-4.7.1-2]).
    MisplacedSingleLevel,
    /// `$share/` with an empty ShareName (5.0 [MQTT-4.8.2-1]).
    EmptyShareName,
    /// A ShareName holding `+` or `#`, or a `$share/{name}` with no `/filter` after it
    /// (5.0 [MQTT-4.8.2-2]).
    InvalidShareName,
}

impl fmt::Display for TopicError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TopicError::Empty => "topic is empty",
            TopicError::TooLong => "topic is longer than 65535 bytes",
            TopicError::Nul => "topic contains U+0000",
            TopicError::WildcardInName => "topic name contains a wildcard character ('+' or '#')",
            TopicError::MisplacedMultiLevel => {
                "'#' must be alone in the last level of a topic filter"
            }
            TopicError::MisplacedSingleLevel => "'+' must fill a whole level of a topic filter",
            TopicError::EmptyShareName => "shared subscription has an empty ShareName",
            TopicError::InvalidShareName => {
                "shared subscription must be $share/{ShareName}/{filter} with no '+' or '#' in the ShareName"
            }
        })
    }
}

impl std::error::Error for TopicError {}

/// Checks a topic name (as in PUBLISH, the Will Topic and Response Topic): non-empty, at most
/// 65,535 bytes, no U+0000, no wildcards.
pub fn validate_topic_name(name: &str) -> Result<(), TopicError> {
    let b = name.as_bytes();
    if b.is_empty() {
        return Err(TopicError::Empty);
    }
    if b.len() > 65_535 {
        return Err(TopicError::TooLong);
    }
    // The common case in one word-at-a-time pass; the loop below names the first fault.
    let s = crate::scan::scan(b);
    if s.plain && !s.wildcard {
        return Ok(());
    }
    for &c in b {
        match c {
            b'+' | b'#' => return Err(TopicError::WildcardInName),
            0 => return Err(TopicError::Nul),
            _ => {}
        }
    }
    Ok(())
}

/// Checks the bytes of a topic name that are already known to be free of U+0000: no wildcards,
/// non-empty. This is the decoder's hot path.
#[inline]
pub(crate) fn name_has_wildcard(b: &[u8]) -> bool {
    b.iter()
        .fold(false, |acc, &c| acc | (c == b'+') | (c == b'#'))
}

/// Checks a topic filter. With `shared` true (5.0), a filter starting with `$share/` must be a
/// valid shared subscription `$share/{ShareName}/{filter}`; with `shared` false (3.1.1) it is an
/// ordinary filter.
pub fn validate_topic_filter(filter: &str, shared: bool) -> Result<(), TopicError> {
    let b = filter.as_bytes();
    if b.is_empty() {
        return Err(TopicError::Empty);
    }
    if b.len() > 65_535 {
        return Err(TopicError::TooLong);
    }
    if b.contains(&0) {
        return Err(TopicError::Nul);
    }
    let inner = if shared {
        match split_shared(filter)? {
            Some((_, inner)) => inner,
            None => filter,
        }
    } else {
        filter
    };
    validate_filter_levels(inner)
}

fn validate_filter_levels(filter: &str) -> Result<(), TopicError> {
    let b = filter.as_bytes();
    if b.is_empty() {
        return Err(TopicError::Empty);
    }
    // One pass over adjacent pairs; only a failure needs the precise walk below to name it.
    if !crate::scan::misplaced_wildcard(b) {
        return Ok(());
    }
    for (i, &c) in b.iter().enumerate() {
        if c == b'+' || c == b'#' {
            let alone = (i == 0 || b[i - 1] == b'/') && b.get(i + 1).is_none_or(|&n| n == b'/');
            if c == b'#' && (!alone || i + 1 != b.len()) {
                return Err(TopicError::MisplacedMultiLevel);
            }
            if c == b'+' && !alone {
                return Err(TopicError::MisplacedSingleLevel);
            }
        }
    }
    Ok(())
}

/// [`validate_topic_filter`] for a filter already known to be free of U+0000 (the decoder's
/// string checks ran first).
#[inline]
pub(crate) fn validate_decoded_filter(filter: &str, shared: bool) -> Result<(), TopicError> {
    if shared && filter.as_bytes().starts_with(b"$share/") {
        return validate_topic_filter(filter, true);
    }
    validate_filter_levels(filter)
}

/// Splits a 5.0 shared subscription `$share/{ShareName}/{filter}` into its ShareName and filter.
/// `Ok(None)` if `filter` is not a shared subscription; an error if it starts with `$share/` but
/// is not a valid one (5.0 [MQTT-4.8.2-1], [MQTT-4.8.2-2]).
pub fn split_shared(filter: &str) -> Result<Option<(&str, &str)>, TopicError> {
    let Some(rest) = filter.strip_prefix("$share/") else {
        return Ok(None);
    };
    let Some((name, inner)) = rest.split_once('/') else {
        // `$share/name` with nothing after it.
        return Err(if rest.is_empty() {
            TopicError::EmptyShareName
        } else {
            TopicError::InvalidShareName
        });
    };
    if name.is_empty() {
        return Err(TopicError::EmptyShareName);
    }
    if name.contains(['+', '#']) {
        return Err(TopicError::InvalidShareName);
    }
    if inner.is_empty() {
        return Err(TopicError::InvalidShareName);
    }
    validate_filter_levels(inner)?;
    Ok(Some((name, inner)))
}

/// True if `filter` contains a wildcard (after any `$share/{name}/` prefix has been removed by
/// the caller).
pub fn has_wildcards(filter: &str) -> bool {
    filter.contains(['+', '#'])
}

/// True if the topic `name` matches `filter` (a plain filter, not `$share/...`): `+` matches one
/// level, `#` the parent level and any number of child levels, and a name starting with `$` is
/// not matched by a filter whose first level is a wildcard (3.1.1 and 5.0 [MQTT-4.7.2-1]).
pub fn topic_matches(filter: &str, name: &str) -> bool {
    if name.starts_with('$') && (filter.starts_with('+') || filter.starts_with('#')) {
        return false;
    }
    let mut f = filter.split('/');
    let mut n = name.split('/');
    loop {
        match (f.next(), n.next()) {
            (Some("#"), _) => return true,
            (Some("+"), Some(_)) => {}
            (Some(fl), Some(nl)) if fl == nl => {}
            (None, None) => return true,
            _ => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topic_names() {
        assert_eq!(validate_topic_name("a/b"), Ok(()));
        assert_eq!(validate_topic_name("/"), Ok(()));
        assert_eq!(validate_topic_name(""), Err(TopicError::Empty));
        assert_eq!(validate_topic_name("a/+"), Err(TopicError::WildcardInName));
        assert_eq!(validate_topic_name("a/#"), Err(TopicError::WildcardInName));
        assert_eq!(validate_topic_name("a\0"), Err(TopicError::Nul));
    }

    #[test]
    fn multi_level_wildcard_mqtt_4_7_1_2() {
        for ok in ["#", "a/#", "/#", "+/#"] {
            assert_eq!(validate_topic_filter(ok, false), Ok(()), "{ok}");
        }
        for bad in ["a#", "a/#/b", "#/", "a/b#", "##"] {
            assert_eq!(
                validate_topic_filter(bad, false),
                Err(TopicError::MisplacedMultiLevel),
                "{bad}"
            );
        }
    }

    #[test]
    fn single_level_wildcard_mqtt_4_7_1_3() {
        for ok in ["+", "+/+", "/+", "a/+/b", "+/"] {
            assert_eq!(validate_topic_filter(ok, false), Ok(()), "{ok}");
        }
        for bad in ["a+", "+a", "a/b+/c", "++"] {
            assert_eq!(
                validate_topic_filter(bad, false),
                Err(TopicError::MisplacedSingleLevel),
                "{bad}"
            );
        }
    }

    #[test]
    fn shared_subscriptions_mqtt_4_8_2_1_and_2() {
        assert_eq!(split_shared("$share/g/a/+"), Ok(Some(("g", "a/+"))));
        assert_eq!(split_shared("$share/g/#"), Ok(Some(("g", "#"))));
        assert_eq!(split_shared("$shared/g/a"), Ok(None));
        assert_eq!(split_shared("$share//a"), Err(TopicError::EmptyShareName));
        assert_eq!(split_shared("$share/"), Err(TopicError::EmptyShareName));
        assert_eq!(split_shared("$share/g"), Err(TopicError::InvalidShareName));
        assert_eq!(split_shared("$share/g/"), Err(TopicError::InvalidShareName));
        assert_eq!(
            split_shared("$share/g+/a"),
            Err(TopicError::InvalidShareName)
        );
        assert_eq!(
            split_shared("$share/#/a"),
            Err(TopicError::InvalidShareName)
        );
        assert_eq!(
            split_shared("$share/g/a#"),
            Err(TopicError::MisplacedMultiLevel)
        );
        // In 3.1.1 `$share/...` is an ordinary filter.
        assert_eq!(validate_topic_filter("$share//a", false), Ok(()));
        assert_eq!(
            validate_topic_filter("$share//a", true),
            Err(TopicError::EmptyShareName)
        );
    }

    #[test]
    fn matching() {
        let cases = [
            ("a/b", "a/b", true),
            ("a/+", "a/b", true),
            ("a/+", "a/b/c", false),
            ("a/#", "a", true),
            ("a/#", "a/b/c", true),
            ("#", "a/b", true),
            ("+/+", "/b", true),
            ("+", "/b", false),
            ("/+", "/b", true),
            ("a/+/c", "a//c", true),
            ("a/b", "a/b/", false),
            ("a/b/", "a/b/", true),
            ("+", "", true),
            ("#", "$SYS/x", false),
            ("+/x", "$SYS/x", false),
            ("$SYS/#", "$SYS/x", true),
            ("$SYS/+", "$SYS/x", true),
            ("sport/tennis/#", "sport/tennis", true),
            ("sport/+", "sport", false),
            ("sport/+", "sport/", true),
        ];
        for (filter, name, expected) in cases {
            assert_eq!(topic_matches(filter, name), expected, "{filter} vs {name}");
        }
    }
}
