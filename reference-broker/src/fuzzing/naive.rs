//! Naive topic matching and validation, the slow and obvious references the `topic_match`
//! target holds the codec and the subscription tree to.

/// Naive topic matching, level by level (3.1.1 and 5.0 section 4.7): `+` one level, `#` the
/// parent and any levels below (last only), and a wildcard first level never matches a topic
/// starting with `$` ([MQTT-4.7.2-1]). `filter` is a plain filter (no `$share/` prefix).
pub fn naive_matches(filter: &str, topic: &str) -> bool {
    let f: Vec<&str> = filter.split('/').collect();
    let t: Vec<&str> = topic.split('/').collect();
    if topic.starts_with('$') && (f[0] == "+" || f[0] == "#") {
        return false;
    }
    let mut i = 0;
    loop {
        match (f.get(i), t.get(i)) {
            (Some(&"#"), _) if i + 1 == f.len() => return true,
            (Some(&"+"), Some(_)) => {}
            (Some(a), Some(b)) if a == b => {}
            (None, None) => return true,
            _ => return false,
        }
        i += 1;
    }
}

/// Naive topic filter validity (3.1.1 and 5.0 section 4.7.1, 4.7.3; with `shared`, 5.0 section
/// 4.8.2): non-empty, at most 65,535 bytes, no U+0000; `#` only as a whole last level, `+` only
/// as a whole level; `$share/{name}/{filter}` with a non-empty name without wildcards and a
/// valid non-empty filter. Returns the plain filter and the share name.
pub fn naive_filter(filter: &str, shared: bool) -> Option<(Option<&str>, &str)> {
    if filter.is_empty() || filter.len() > 65_535 || filter.contains('\0') {
        return None;
    }
    let mut share = None;
    let mut inner = filter;
    if shared {
        if let Some(rest) = filter.strip_prefix("$share/") {
            let (name, f) = rest.split_once('/')?;
            if name.is_empty() || name.contains('+') || name.contains('#') || f.is_empty() {
                return None;
            }
            share = Some(name);
            inner = f;
        }
    }
    let levels: Vec<&str> = inner.split('/').collect();
    for (i, l) in levels.iter().enumerate() {
        if l.contains('#') && (*l != "#" || i + 1 != levels.len()) {
            return None;
        }
        if l.contains('+') && *l != "+" {
            return None;
        }
    }
    Some((share, inner))
}

/// Naive topic name validity: non-empty, at most 65,535 bytes, no U+0000, no wildcards.
pub fn naive_topic_name(name: &str) -> bool {
    !name.is_empty() && name.len() <= 65_535 && !name.contains(['\0', '+', '#'])
}
