//! What a target supports: discovered from its 5.0 CONNACK properties, probed for 3.1.1, and
//! overridden by the profile. A case that needs what the target lacks is skipped with a reason.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use touchstone_codec::Protocol;

/// Something a case may need from the target.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Capability {
    /// QoS 1 delivery.
    Qos1,
    /// QoS 2 delivery.
    Qos2,
    /// Retained messages.
    Retain,
    /// Wildcard subscriptions.
    Wildcards,
    /// Shared subscriptions (5.0).
    SharedSubscriptions,
    /// Subscription identifiers (5.0).
    SubscriptionIdentifiers,
    /// Topic aliases from client to server (5.0: Topic Alias Maximum > 0).
    TopicAliases,
    /// A listener that checks user name and password (`--auth-target`). (`auth` in reports of
    /// Touchstone 0.1 before it was renamed.)
    #[serde(alias = "auth")]
    Authentication,
    /// Enhanced authentication (5.0 section 4.12) with SCRAM-SHA-256 on the authentication
    /// listener, for the run's user (profile `auth_method = "SCRAM-SHA-256"`).
    EnhancedAuth,
    /// A WebSocket listener of the same broker (`--ws-target`, or a ws:// target).
    #[serde(rename = "websocket")]
    WebSocket,
}

impl Capability {
    /// Every capability.
    pub const ALL: [Capability; 10] = [
        Capability::Qos1,
        Capability::Qos2,
        Capability::Retain,
        Capability::Wildcards,
        Capability::SharedSubscriptions,
        Capability::SubscriptionIdentifiers,
        Capability::TopicAliases,
        Capability::Authentication,
        Capability::EnhancedAuth,
        Capability::WebSocket,
    ];

    /// The snake-case name, as in profiles and JSON.
    pub const fn name(self) -> &'static str {
        match self {
            Capability::Qos1 => "qos1",
            Capability::Qos2 => "qos2",
            Capability::Retain => "retain",
            Capability::Wildcards => "wildcards",
            Capability::SharedSubscriptions => "shared_subscriptions",
            Capability::SubscriptionIdentifiers => "subscription_identifiers",
            Capability::TopicAliases => "topic_aliases",
            Capability::Authentication => "authentication",
            Capability::EnhancedAuth => "enhanced_auth",
            Capability::WebSocket => "websocket",
        }
    }
}

impl std::fmt::Display for Capability {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// What the target supports for one protocol version, and where each fact came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Capabilities {
    /// The highest QoS the server delivers.
    pub max_qos: u8,
    /// Retained messages.
    pub retain: bool,
    /// Wildcard subscriptions.
    pub wildcards: bool,
    /// Shared subscriptions.
    pub shared_subscriptions: bool,
    /// Subscription identifiers.
    pub subscription_identifiers: bool,
    /// The server's Topic Alias Maximum (0: none).
    pub topic_alias_maximum: u16,
    /// The server's Receive Maximum.
    pub receive_maximum: u16,
    /// The server's Maximum Packet Size, if it set one.
    pub maximum_packet_size: Option<u32>,
    /// The server's Server Keep Alive, if it set one.
    pub server_keep_alive: Option<u16>,
    /// An authentication listener with credentials is available.
    pub authentication: bool,
    /// The enhanced authentication method the authentication listener accepts for the run's
    /// user (profile `auth_method`).
    pub auth_method: Option<String>,
    /// A WebSocket URL of the same broker (`--ws-target`, or the target itself).
    pub websocket: Option<String>,
    /// For each field, where its value came from (`CONNACK`, `probe`, `profile`, `default`).
    pub sources: BTreeMap<String, String>,
}

impl Capabilities {
    /// What the specification says holds when the server says nothing.
    pub fn defaults(protocol: Protocol) -> Capabilities {
        let v5 = protocol.is_v5();
        let mut sources = BTreeMap::new();
        for field in [
            "max_qos",
            "retain",
            "wildcards",
            "shared_subscriptions",
            "subscription_identifiers",
            "topic_alias_maximum",
            "receive_maximum",
            "authentication",
        ] {
            sources.insert(field.to_string(), "default".to_string());
        }
        Capabilities {
            max_qos: 2,
            retain: true,
            wildcards: true,
            shared_subscriptions: v5,
            subscription_identifiers: v5,
            topic_alias_maximum: 0,
            receive_maximum: 65_535,
            maximum_packet_size: None,
            server_keep_alive: None,
            authentication: false,
            auth_method: None,
            websocket: None,
            sources,
        }
    }

    fn source(&self, field: &str) -> &str {
        self.sources
            .get(field)
            .map(String::as_str)
            .unwrap_or("default")
    }

    /// `None` if the target has `c`; otherwise why not, for the skip message.
    pub fn missing(&self, c: Capability) -> Option<String> {
        let (has, field) = match c {
            Capability::Qos1 => (self.max_qos >= 1, "max_qos"),
            Capability::Qos2 => (self.max_qos >= 2, "max_qos"),
            Capability::Retain => (self.retain, "retain"),
            Capability::Wildcards => (self.wildcards, "wildcards"),
            Capability::SharedSubscriptions => (self.shared_subscriptions, "shared_subscriptions"),
            Capability::SubscriptionIdentifiers => {
                (self.subscription_identifiers, "subscription_identifiers")
            }
            Capability::TopicAliases => (self.topic_alias_maximum > 0, "topic_alias_maximum"),
            Capability::Authentication => return (!self.authentication).then(|| {
                "needs an authentication listener: --auth-target URL with --username and --password"
                    .to_string()
            }),
            Capability::EnhancedAuth => {
                let scram =
                    self.authentication && self.auth_method.as_deref() == Some("SCRAM-SHA-256");
                return (!scram).then(|| {
                    "needs SCRAM-SHA-256 enhanced authentication for the run's user on the authentication listener (profile: auth_method = \"SCRAM-SHA-256\")"
                        .to_string()
                });
            }
            Capability::WebSocket => {
                return self.websocket.is_none().then(|| {
                    "needs a WebSocket listener: --ws-target ws://HOST:PORT/PATH".to_string()
                })
            }
        };
        if has {
            return None;
        }
        let detail = match c {
            Capability::Qos1 | Capability::Qos2 => format!("maximum QoS {}", self.max_qos),
            Capability::TopicAliases => "Topic Alias Maximum 0".to_string(),
            _ => "not available".to_string(),
        };
        Some(format!(
            "the target does not support {c}: {detail} (from {})",
            self.source(field)
        ))
    }

    /// Applies the profile's statements about the target.
    pub fn apply(&mut self, o: &CapabilityOverrides) {
        let mut set = |field: &str| {
            self.sources
                .insert(field.to_string(), "profile".to_string());
        };
        if o.max_qos.is_some() {
            set("max_qos");
        }
        if o.retain.is_some() {
            set("retain");
        }
        if o.wildcards.is_some() {
            set("wildcards");
        }
        if o.shared_subscriptions.is_some() {
            set("shared_subscriptions");
        }
        if o.subscription_identifiers.is_some() {
            set("subscription_identifiers");
        }
        if o.topic_alias_maximum.is_some() {
            set("topic_alias_maximum");
        }
        if o.receive_maximum.is_some() {
            set("receive_maximum");
        }
        if let Some(v) = o.max_qos {
            self.max_qos = v;
        }
        if let Some(v) = o.retain {
            self.retain = v;
        }
        if let Some(v) = o.wildcards {
            self.wildcards = v;
        }
        if let Some(v) = o.shared_subscriptions {
            self.shared_subscriptions = v;
        }
        if let Some(v) = o.subscription_identifiers {
            self.subscription_identifiers = v;
        }
        if let Some(v) = o.topic_alias_maximum {
            self.topic_alias_maximum = v;
        }
        if let Some(v) = o.receive_maximum {
            self.receive_maximum = v;
        }
        if let Some(v) = &o.auth_method {
            self.auth_method = Some(v.clone());
        }
        if let Some(v) = &o.websocket {
            self.websocket = Some(v.clone());
        }
    }
}

/// Capabilities a profile states (each optional: unset ones keep the discovered value).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CapabilityOverrides {
    /// Highest QoS delivered (0, 1 or 2).
    pub max_qos: Option<u8>,
    /// Retained messages.
    pub retain: Option<bool>,
    /// Wildcard subscriptions.
    pub wildcards: Option<bool>,
    /// Shared subscriptions.
    pub shared_subscriptions: Option<bool>,
    /// Subscription identifiers.
    pub subscription_identifiers: Option<bool>,
    /// Topic Alias Maximum.
    pub topic_alias_maximum: Option<u16>,
    /// Receive Maximum.
    pub receive_maximum: Option<u16>,
    /// The enhanced authentication method the authentication listener accepts for the run's
    /// user (only `SCRAM-SHA-256` has cases).
    pub auth_method: Option<String>,
    /// A WebSocket URL of the same broker (set by `--ws-target`).
    pub websocket: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_capabilities_explain_themselves() {
        let mut c = Capabilities::defaults(Protocol::V5);
        assert_eq!(c.missing(Capability::Qos2), None);
        c.apply(&CapabilityOverrides {
            max_qos: Some(1),
            ..Default::default()
        });
        assert_eq!(
            c.missing(Capability::Qos2).unwrap(),
            "the target does not support qos2: maximum QoS 1 (from profile)"
        );
        assert!(c.missing(Capability::TopicAliases).is_some());
        assert!(c
            .missing(Capability::Authentication)
            .unwrap()
            .contains("--auth-target"));
        let v3 = Capabilities::defaults(Protocol::V3_1_1);
        assert!(v3.missing(Capability::SharedSubscriptions).is_some());
    }
}
