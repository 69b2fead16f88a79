//! Topic access rules: which topics a client may publish to and which filters it may
//! subscribe to.

use serde::Deserialize;
use touchstone_codec::topic::{split_shared, topic_matches};

/// One topic access rule: what the clients it applies to may publish and subscribe to.
///
/// A client is allowed an action if any rule that applies to it allows it. In the filters,
/// `%u` stands for the client's user name and `%c` for its client identifier.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AclRule {
    /// The user name the rule applies to; `*` for every client, `""` for clients without a
    /// user name.
    pub user: String,
    /// Topic filters the client may publish to (a topic is allowed if a filter matches it).
    pub publish: Vec<String>,
    /// Topic filters the client may subscribe to (a filter is allowed if one of these covers
    /// every topic it could match).
    pub subscribe: Vec<String>,
}

/// The compiled access rules of a broker.
#[derive(Debug, Clone, Default)]
pub struct Acl {
    rules: Vec<AclRule>,
}

impl Acl {
    /// Rules as configured; no rules allow everything.
    pub fn new(rules: Vec<AclRule>) -> Acl {
        Acl { rules }
    }

    /// True if there are no rules (everything is allowed).
    pub fn is_open(&self) -> bool {
        self.rules.is_empty()
    }

    fn applying<'a>(&'a self, user: Option<&'a str>) -> impl Iterator<Item = &'a AclRule> + 'a {
        self.rules.iter().filter(move |r| match user {
            _ if r.user == "*" => true,
            Some(u) => r.user == u,
            None => r.user.is_empty(),
        })
    }

    /// True if the client may publish to `topic`.
    pub fn can_publish(&self, user: Option<&str>, client_id: &str, topic: &str) -> bool {
        self.is_open()
            || self.applying(user).any(|r| {
                r.publish.iter().any(|f| {
                    substitute(f, user, client_id).is_some_and(|f| topic_matches(&f, topic))
                })
            })
    }

    /// True if the client may subscribe to `filter` (for a shared subscription, its inner
    /// filter).
    pub fn can_subscribe(&self, user: Option<&str>, client_id: &str, filter: &str) -> bool {
        if self.is_open() {
            return true;
        }
        let inner = match split_shared(filter) {
            Ok(Some((_, inner))) => inner,
            _ => filter,
        };
        self.applying(user).any(|r| {
            r.subscribe
                .iter()
                .any(|f| substitute(f, user, client_id).is_some_and(|f| filter_covers(&f, inner)))
        })
    }
}

/// Replaces `%u` and `%c` in a rule's filter; `None` if the rule cannot apply (no user name,
/// or a value that would add levels or wildcards).
fn substitute(filter: &str, user: Option<&str>, client_id: &str) -> Option<String> {
    let unsafe_value = |v: &str| v.contains(['/', '+', '#']);
    let mut out = filter.to_string();
    if out.contains("%u") {
        let u = user?;
        if unsafe_value(u) {
            return None;
        }
        out = out.replace("%u", u);
    }
    if out.contains("%c") {
        if unsafe_value(client_id) {
            return None;
        }
        out = out.replace("%c", client_id);
    }
    Some(out)
}

/// True if every topic that `filter` matches is also matched by `pattern` (both are topic
/// filters), honouring the `$` rule (3.1.1 and 5.0 [MQTT-4.7.2-1]).
pub fn filter_covers(pattern: &str, filter: &str) -> bool {
    if filter.starts_with('$') && (pattern.starts_with('+') || pattern.starts_with('#')) {
        return false;
    }
    let mut p = pattern.split('/');
    let mut f = filter.split('/');
    loop {
        match (p.next(), f.next()) {
            (Some("#"), _) => return true,
            (Some("+"), Some(fl)) if fl != "#" => {}
            (Some(pl), Some(fl)) if pl == fl && pl != "+" => {}
            (None, None) => return true,
            _ => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(user: &str, publish: &[&str], subscribe: &[&str]) -> AclRule {
        AclRule {
            user: user.into(),
            publish: publish.iter().map(|s| s.to_string()).collect(),
            subscribe: subscribe.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn covering() {
        assert!(filter_covers("a/#", "a"));
        assert!(filter_covers("a/#", "a/+/c"));
        assert!(filter_covers("a/+", "a/+"));
        assert!(filter_covers("a/+", "a/b"));
        assert!(!filter_covers("a/+", "a/#"));
        assert!(!filter_covers("a/b", "a/+"));
        assert!(!filter_covers("#", "$SYS/#"));
        assert!(filter_covers("#", "x/#"));
        assert!(!filter_covers("a/+", "a/b/c"));
    }

    #[test]
    fn rules_per_user_with_substitution() {
        let acl = Acl::new(vec![
            rule("alice", &["a/#"], &["a/+"]),
            rule("*", &["clients/%c/#"], &["users/%u/#"]),
            rule("", &["anon"], &[]),
        ]);
        assert!(acl.can_publish(Some("alice"), "c1", "a/x/y"));
        assert!(!acl.can_publish(Some("bob"), "c1", "a/x"));
        assert!(acl.can_publish(Some("bob"), "c1", "clients/c1/x"));
        assert!(!acl.can_publish(Some("bob"), "c+", "clients/c+/x"));
        assert!(acl.can_publish(None, "c1", "anon"));
        assert!(!acl.can_publish(Some("bob"), "c1", "anon"));
        assert!(acl.can_subscribe(Some("alice"), "c", "a/b"));
        assert!(acl.can_subscribe(Some("alice"), "c", "$share/g/a/b"));
        assert!(!acl.can_subscribe(Some("alice"), "c", "a/#"));
        assert!(acl.can_subscribe(Some("bob"), "c", "users/bob/#"));
        assert!(!acl.can_subscribe(None, "c", "users/bob/#"));
        assert!(Acl::default().can_subscribe(None, "c", "#"));
    }
}
