//! The broker's configuration: every limit and optional feature, each switchable so that a
//! conformance runner's capability-skip paths can be exercised. Deserializable from TOML (the
//! `[broker]` table of the server's configuration file).

use std::path::PathBuf;

use serde::Deserialize;
use touchstone_codec::QoS;

pub use crate::auth::AclRule;
use crate::auth::Passwords;
use crate::faults::Faults;

/// Limits and optional features of the broker core. `Config::default()` is a complete, strict
/// MQTT 3.1.1 and 5.0 broker with every optional feature on.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Retained messages are supported (5.0 CONNACK Retain Available).
    pub retain_available: bool,
    /// Wildcard subscriptions are supported (5.0 CONNACK Wildcard Subscription Available).
    pub wildcard_subscriptions: bool,
    /// Shared subscriptions are supported (5.0 only; CONNACK Shared Subscription Available).
    pub shared_subscriptions: bool,
    /// Subscription identifiers are supported (5.0 CONNACK Subscription Identifiers Available).
    pub subscription_identifiers: bool,
    /// The highest QoS the broker accepts from publishers and grants to subscribers (5.0 CONNACK
    /// Maximum QoS when below 2).
    pub maximum_qos: QoS,
    /// Topic aliases a 5.0 client may use towards the broker (CONNACK Topic Alias Maximum; 0
    /// disables inbound aliases).
    pub topic_alias_maximum: u16,
    /// QoS 1 and 2 PUBLISHes a 5.0 client may have unacknowledged towards the broker (CONNACK
    /// Receive Maximum; at least 1).
    pub receive_maximum: u16,
    /// Largest packet the broker accepts, fixed header included (CONNACK Maximum Packet Size).
    /// It also bounds each connection's input buffer. Default 16 MiB; `None` (in code) or
    /// 268435460 (in a file) for the protocol's limit.
    pub maximum_packet_size: Option<u32>,
    /// Largest number of connections at once; further CONNECTs get "Server busy" (5.0 0x89) or
    /// "Server unavailable" (3.1.1 0x03). `None` for no limit.
    pub max_connections: Option<usize>,
    /// A keep-alive the broker imposes on 5.0 clients instead of their own (CONNACK Server Keep
    /// Alive); 3.1.1 clients keep their own, which is the only one they know of.
    pub server_keep_alive: Option<u16>,
    /// Longest client identifier accepted (in bytes); longer ones are refused with "Client
    /// Identifier not valid" (5.0 0x85, 3.1.1 0x02). `None`: any length.
    pub max_client_id_length: Option<u16>,
    /// Clients without a user name (and without enhanced authentication) may connect.
    pub allow_anonymous: bool,
    /// The password file to load (see [`Passwords`]); read by the server shell, never by the
    /// core, into [`Config::passwords`].
    pub password_file: Option<PathBuf>,
    /// The loaded user names and passwords; `None` means any user name and password are
    /// accepted.
    #[serde(skip)]
    pub passwords: Option<Passwords>,
    /// Topic access rules; empty means every client may publish and subscribe to everything.
    pub acl: Vec<AclRule>,
    /// Upper bound of the Session Expiry Interval in seconds (0xFFFFFFFF: sessions may never
    /// expire). 3.1.1 persistent sessions get this value too.
    pub max_session_expiry: u32,
    /// Largest number of messages waiting in one session (offline, or beyond the client's
    /// Receive Maximum); newer messages are dropped once it is reached.
    pub max_queued_messages: usize,
    /// Queue QoS 0 messages for offline persistent sessions too (the specification allows it).
    pub queue_qos0_offline: bool,
    /// Seconds a new connection may take to send its CONNECT (and finish enhanced
    /// authentication) before it is closed.
    pub connect_timeout: u32,
    /// Largest number of retained messages kept; further new retained topics are not stored.
    pub max_retained_messages: usize,
    /// Test-only switches that make the broker break chosen rules on purpose; all off by
    /// default.
    pub faults: Faults,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            retain_available: true,
            wildcard_subscriptions: true,
            shared_subscriptions: true,
            subscription_identifiers: true,
            maximum_qos: QoS::ExactlyOnce,
            topic_alias_maximum: 16,
            receive_maximum: 256,
            maximum_packet_size: Some(16 << 20),
            max_connections: None,
            server_keep_alive: None,
            max_client_id_length: None,
            allow_anonymous: true,
            password_file: None,
            passwords: None,
            acl: Vec::new(),
            max_session_expiry: u32::MAX,
            max_queued_messages: 10_000,
            queue_qos0_offline: false,
            connect_timeout: 30,
            max_retained_messages: 100_000,
            faults: Faults::default(),
        }
    }
}

/// An invalid configuration.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A value out of range.
    #[error("invalid configuration: {0}")]
    Invalid(String),
    /// The configuration file could not be parsed.
    #[error("configuration file: {0}")]
    Toml(#[from] toml::de::Error),
    /// A file named by the configuration could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        source: std::io::Error,
    },
    /// The password file is invalid.
    #[error("password file: {0}")]
    Passwords(#[from] crate::auth::PasswordError),
}

impl Config {
    /// Parses the TOML form of the broker's settings (the keys of this struct).
    pub fn from_toml(text: &str) -> Result<Config, ConfigError> {
        let config: Config = toml::from_str(text)?;
        config.validate()?;
        Ok(config)
    }

    /// Checks ranges the types cannot express.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.receive_maximum == 0 {
            return Err(ConfigError::Invalid(
                "receive_maximum must be at least 1".into(),
            ));
        }
        if let Some(n) = self.maximum_packet_size {
            if n < 64 {
                return Err(ConfigError::Invalid(
                    "maximum_packet_size must be at least 64 bytes".into(),
                ));
            }
        }
        if self.max_queued_messages == 0 {
            return Err(ConfigError::Invalid(
                "max_queued_messages must be at least 1".into(),
            ));
        }
        for rule in &self.acl {
            for f in rule.publish.iter().chain(&rule.subscribe) {
                touchstone_codec::topic::validate_topic_filter(f, false).map_err(|e| {
                    ConfigError::Invalid(format!("ACL filter {f:?} for user {:?}: {e}", rule.user))
                })?;
            }
        }
        Ok(())
    }

    /// Loads [`Config::password_file`] into [`Config::passwords`], if a file is named.
    pub fn load_password_file(&mut self) -> Result<(), ConfigError> {
        if let Some(path) = &self.password_file {
            let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Io {
                path: path.clone(),
                source,
            })?;
            self.passwords = Some(Passwords::parse(&text)?);
        }
        Ok(())
    }

    /// The largest packet accepted, as a `usize` for the decoder.
    pub(crate) fn max_packet(&self) -> usize {
        if self.faults.ignore_own_limits {
            return touchstone_codec::MAX_PACKET_SIZE; // Fault: breaks 5.0 [MQTT-3.2.2-15].
        }
        self.maximum_packet_size
            .map_or(touchstone_codec::MAX_PACKET_SIZE, |n| n as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_toml_with_every_kind_of_value() {
        let c = Config::from_toml(
            r#"
            retain_available = false
            maximum_qos = 1
            maximum_packet_size = 1024
            server_keep_alive = 10
            [[acl]]
            user = "alice"
            publish = ["a/#"]
            subscribe = ["a/+"]
            [faults]
            no_pingresp = true
            "#,
        )
        .unwrap();
        assert!(!c.retain_available);
        assert_eq!(c.maximum_qos, QoS::AtLeastOnce);
        assert_eq!(c.maximum_packet_size, Some(1024));
        assert_eq!(c.acl[0].publish, vec!["a/#".to_string()]);
        assert!(c.faults.no_pingresp);
        assert!(c.shared_subscriptions);
    }

    #[test]
    fn rejects_unknown_keys_and_bad_values() {
        assert!(Config::from_toml("retain = true").is_err());
        assert!(Config::from_toml("receive_maximum = 0").is_err());
        assert!(Config::from_toml("maximum_qos = 3").is_err());
        assert!(Config::from_toml("[[acl]]\nuser = \"a\"\npublish = [\"a/#/b\"]").is_err());
    }
}
