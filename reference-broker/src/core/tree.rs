//! The subscription index: a trie of topic levels with `+` and `#` branches, holding ordinary
//! subscriptions and shared-subscription groups.

use crate::fxhash::PeerKeyMap;

use touchstone_codec::{Str, SubscriptionOptions};

use super::SessionId;

/// One subscription as the index holds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Entry {
    pub sid: SessionId,
    pub opts: SubscriptionOptions,
    pub sub_id: Option<u32>,
}

/// A shared subscription group (`$share/{name}/{filter}`): messages go to one member in turn.
#[derive(Debug, Default)]
struct Group {
    name: Str,
    members: Vec<Entry>,
    next: usize,
}

#[derive(Debug, Default)]
struct Subscribers {
    direct: Vec<Entry>,
    groups: Vec<Group>,
}

impl Subscribers {
    fn is_empty(&self) -> bool {
        self.direct.is_empty() && self.groups.is_empty()
    }

    /// Adds or replaces `entry.sid`'s entry; true if it was new.
    fn upsert(&mut self, share: Option<&str>, entry: Entry) -> bool {
        let list = match share {
            None => &mut self.direct,
            Some(name) => {
                let i = match self.groups.iter().position(|g| g.name == name) {
                    Some(i) => i,
                    None => {
                        self.groups.push(Group {
                            name: name.into(),
                            ..Group::default()
                        });
                        self.groups.len() - 1
                    }
                };
                &mut self.groups[i].members
            }
        };
        match list.iter_mut().find(|e| e.sid == entry.sid) {
            Some(e) => {
                *e = entry;
                false
            }
            None => {
                list.push(entry);
                true
            }
        }
    }

    /// Removes `sid`'s entry; true if there was one.
    fn remove(&mut self, share: Option<&str>, sid: SessionId) -> bool {
        match share {
            None => {
                let before = self.direct.len();
                self.direct.retain(|e| e.sid != sid);
                self.direct.len() != before
            }
            Some(name) => {
                let Some(i) = self.groups.iter().position(|g| g.name == name) else {
                    return false;
                };
                let g = &mut self.groups[i];
                let before = g.members.len();
                g.members.retain(|e| e.sid != sid);
                let removed = g.members.len() != before;
                if g.members.is_empty() {
                    self.groups.remove(i);
                } else if g.next >= g.members.len() {
                    g.next = 0;
                }
                removed
            }
        }
    }

    fn collect(&mut self, online: &impl Fn(SessionId) -> bool, out: &mut Vec<Hit>) {
        out.extend(self.direct.iter().map(|e| Hit {
            entry: *e,
            shared: false,
        }));
        for g in &mut self.groups {
            let n = g.members.len();
            if n == 0 {
                continue;
            }
            // Round robin, preferring a member whose session is connected.
            let start = g.next % n;
            let pick = (0..n)
                .map(|k| (start + k) % n)
                .find(|&i| online(g.members[i].sid))
                .unwrap_or(start);
            g.next = (pick + 1) % n;
            out.push(Hit {
                entry: g.members[pick],
                shared: true,
            });
        }
    }
}

#[derive(Debug, Default)]
struct Node {
    children: PeerKeyMap<Box<str>, Node>,
    plus: Option<Box<Node>>,
    /// Subscriptions whose filter ends here.
    exact: Subscribers,
    /// Subscriptions whose filter is this node's path followed by `/#` (or `#` at the root).
    multi: Subscribers,
}

impl Node {
    fn is_empty(&self) -> bool {
        self.children.is_empty()
            && self.plus.is_none()
            && self.exact.is_empty()
            && self.multi.is_empty()
    }
}

/// A subscription that matched a topic.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Hit {
    pub entry: Entry,
    /// From a shared subscription (delivered as a copy of its own).
    pub shared: bool,
}

/// The index of every session's subscriptions.
#[derive(Debug, Default)]
pub(crate) struct SubscriptionTree {
    root: Node,
    count: usize,
}

impl SubscriptionTree {
    /// Adds or replaces the subscription of `entry.sid` to `filter` (without any `$share/`
    /// prefix; `share` names the group).
    pub fn insert(&mut self, filter: &str, share: Option<&str>, entry: Entry) {
        let mut node = &mut self.root;
        let mut levels = filter.split('/').peekable();
        while let Some(level) = levels.next() {
            if level == "#" && levels.peek().is_none() {
                if node.multi.upsert(share, entry) {
                    self.count += 1;
                }
                return;
            }
            node = if level == "+" {
                node.plus.get_or_insert_with(Box::default)
            } else {
                node.children.entry(level.into()).or_default()
            };
        }
        // Re-subscribing replaces the entry: counted once (found by the `broker_core` fuzz
        // target: `stats().subscriptions` grew with each re-subscription).
        if node.exact.upsert(share, entry) {
            self.count += 1;
        }
    }

    /// Removes the subscription of `sid` to `filter`, pruning empty branches.
    pub fn remove(&mut self, filter: &str, share: Option<&str>, sid: SessionId) {
        let levels: Vec<&str> = filter.split('/').collect();
        let mut removed = false;
        remove_at(&mut self.root, &levels, share, sid, &mut removed);
        if removed {
            self.count -= 1;
        }
    }

    /// Collects the subscriptions matching `topic` into `out`; a shared group contributes one
    /// member, chosen in turn among those `online`. With `dollar_rule` false the `$` rule is
    /// broken on purpose (a fault).
    pub fn matches(
        &mut self,
        topic: &str,
        dollar_rule: bool,
        online: &impl Fn(SessionId) -> bool,
        out: &mut Vec<Hit>,
    ) {
        // [MQTT-4.7.2-1] (3.1.1 and 5.0): a filter starting with a wildcard does not match a
        // topic name starting with `$`.
        let wild_root = !(dollar_rule && topic.starts_with('$'));
        let root = &mut self.root;
        if wild_root {
            root.multi.collect(online, out);
        }
        let (level, rest) = split_level(topic);
        if let Some(child) = root.children.get_mut(level) {
            walk(child, rest, online, out);
        }
        if wild_root {
            if let Some(plus) = &mut root.plus {
                walk(plus, rest, online, out);
            }
        }
    }

    /// Number of subscriptions held.
    pub fn len(&self) -> usize {
        self.count
    }
}

/// The first level of `topic` and what follows its `/` (`None` at the last level).
#[inline]
fn split_level(topic: &str) -> (&str, Option<&str>) {
    match topic.split_once('/') {
        Some((level, rest)) => (level, Some(rest)),
        None => (topic, None),
    }
}

/// Matches the levels `rest` below `node` (`None`: the topic ended at `node`).
fn walk(
    node: &mut Node,
    rest: Option<&str>,
    online: &impl Fn(SessionId) -> bool,
    out: &mut Vec<Hit>,
) {
    // `a/#` matches `a` itself and everything below it.
    node.multi.collect(online, out);
    let Some(rest) = rest else {
        node.exact.collect(online, out);
        return;
    };
    let (level, rest) = split_level(rest);
    if let Some(child) = node.children.get_mut(level) {
        walk(child, rest, online, out);
    }
    if let Some(plus) = &mut node.plus {
        walk(plus, rest, online, out);
    }
}

/// Removes `sid`'s subscription at `levels` below `node` (setting `removed` if there was one);
/// true if `node` is then empty.
fn remove_at(
    node: &mut Node,
    levels: &[&str],
    share: Option<&str>,
    sid: SessionId,
    removed: &mut bool,
) -> bool {
    match levels {
        [] => *removed = node.exact.remove(share, sid),
        ["#"] => *removed = node.multi.remove(share, sid),
        [level, rest @ ..] => {
            if *level == "+" {
                if let Some(plus) = &mut node.plus {
                    if remove_at(plus, rest, share, sid, removed) {
                        node.plus = None;
                    }
                }
            } else if let Some(child) = node.children.get_mut(*level) {
                if remove_at(child, rest, share, sid, removed) {
                    node.children.remove(*level);
                }
            }
        }
    }
    node.is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(sid: u64) -> Entry {
        Entry {
            sid: SessionId(sid),
            opts: SubscriptionOptions::default(),
            sub_id: None,
        }
    }

    fn sids(tree: &mut SubscriptionTree, topic: &str) -> Vec<u64> {
        let mut out = Vec::new();
        tree.matches(topic, true, &|_| true, &mut out);
        let mut v: Vec<u64> = out.iter().map(|h| h.entry.sid.0).collect();
        v.sort();
        v
    }

    #[test]
    fn matching_agrees_with_the_codec_reference() {
        let filters = [
            "#",
            "+",
            "a",
            "a/#",
            "a/+",
            "a/b",
            "+/b",
            "a/+/c",
            "/+",
            "+/+",
            "$SYS/#",
            "$SYS/+",
            "a//c",
            "a/b/",
            "sport/tennis/#",
        ];
        let topics = [
            "a",
            "a/b",
            "a/b/c",
            "/b",
            "a//c",
            "a/b/",
            "$SYS/x",
            "$SYS",
            "sport/tennis",
            "b",
            "/",
            "a/",
        ];
        let mut tree = SubscriptionTree::default();
        for (i, f) in filters.iter().enumerate() {
            tree.insert(f, None, entry(i as u64));
        }
        for t in topics {
            let expected: Vec<u64> = filters
                .iter()
                .enumerate()
                .filter(|(_, f)| touchstone_codec::topic::topic_matches(f, t))
                .map(|(i, _)| i as u64)
                .collect();
            assert_eq!(sids(&mut tree, t), expected, "topic {t}");
        }
        for (i, f) in filters.iter().enumerate() {
            tree.remove(f, None, SessionId(i as u64));
        }
        assert!(tree.root.is_empty());
        assert_eq!(tree.len(), 0);
    }

    #[test]
    fn len_counts_a_resubscription_once() {
        let mut tree = SubscriptionTree::default();
        for share in [None, Some("g")] {
            for filter in ["a", "a/#"] {
                tree.insert(filter, share, entry(1));
                tree.insert(filter, share, entry(1));
            }
        }
        assert_eq!(tree.len(), 4);
        tree.remove("a", None, SessionId(2)); // not subscribed: nothing to remove
        tree.remove("b", None, SessionId(1));
        assert_eq!(tree.len(), 4);
        for share in [None, Some("g")] {
            for filter in ["a", "a/#"] {
                tree.remove(filter, share, SessionId(1));
            }
        }
        assert_eq!(tree.len(), 0);
        assert!(tree.root.is_empty());
    }

    #[test]
    fn shared_groups_take_turns_and_prefer_online_members() {
        let mut tree = SubscriptionTree::default();
        for s in 1..=3 {
            tree.insert("a/+", Some("g"), entry(s));
        }
        let mut picked = Vec::new();
        for _ in 0..6 {
            let mut out = Vec::new();
            tree.matches("a/x", true, &|_| true, &mut out);
            assert_eq!(out.len(), 1);
            picked.push(out[0].entry.sid.0);
        }
        assert_eq!(picked, [1, 2, 3, 1, 2, 3]);
        let mut out = Vec::new();
        tree.matches("a/x", true, &|s| s.0 == 3, &mut out);
        tree.matches("a/x", true, &|s| s.0 == 3, &mut out);
        assert_eq!(
            out.iter().map(|h| h.entry.sid.0).collect::<Vec<_>>(),
            [3, 3]
        );
    }
}
