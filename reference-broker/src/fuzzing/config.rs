//! The broker configuration scenarios run with.

use crate::config::Config;

/// The configuration scenarios run with: small limits, so that they are reached.
pub fn fuzz_config() -> Config {
    Config {
        receive_maximum: 3,
        topic_alias_maximum: 2,
        maximum_packet_size: Some(2048),
        max_session_expiry: 120,
        max_queued_messages: 4,
        max_retained_messages: 4,
        connect_timeout: 5,
        ..Config::default()
    }
}

/// [`fuzz_config`] with the faults named in `TOUCHSTONE_FUZZ_FAULTS` (comma-separated
/// [`Faults`](crate::Faults) field names, e.g. `deliver_at_publish_qos,ignore_no_local`) switched
/// on, to show that the fuzz target finds a broken broker. An unknown name is an error.
pub fn config_from_env() -> Result<Config, crate::ConfigError> {
    let mut config = fuzz_config();
    if let Ok(names) = std::env::var("TOUCHSTONE_FUZZ_FAULTS") {
        let text: String = names
            .split(',')
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map(|n| format!("{n} = true\n"))
            .collect();
        config.faults = toml::from_str(&text)?;
    }
    Ok(config)
}
