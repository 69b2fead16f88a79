//! The server's configuration: listeners, I/O limits and the broker's [`Config`], from a TOML
//! file or built in code.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::config::{Config, ConfigError};

/// Where to listen.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Listen {
    /// Plain TCP (`mqtt://`), e.g. `127.0.0.1:1883`; port 0 picks a free port.
    pub tcp: Option<SocketAddr>,
    /// TLS (`mqtts://`); needs `tls_cert` and `tls_key`.
    pub tls: Option<SocketAddr>,
    /// PEM file with the server certificate chain, leaf first.
    pub tls_cert: Option<PathBuf>,
    /// PEM file with the server's private key (PKCS#8, PKCS#1 or SEC1).
    pub tls_key: Option<PathBuf>,
    /// WebSocket (`ws://`, subprotocol `mqtt`, any path).
    pub ws: Option<SocketAddr>,
}

/// Everything [`super::Server::start`] needs.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    /// Bytes that may wait to be written to one connection before the connection is closed as a
    /// slow consumer.
    pub max_outbound_buffer: usize,
    /// Above this many waiting bytes for a subscriber, the connection whose PUBLISH filled it
    /// waits (up to `slow_consumer_timeout` seconds) before reading more: TCP backpressure
    /// instead of unbounded memory.
    pub outbound_high_water: usize,
    /// Seconds a publisher waits for a slow subscriber before that subscriber is disconnected.
    pub slow_consumer_timeout: u64,
    /// Listeners.
    pub listen: Listen,
    /// The broker's limits, features and faults.
    pub broker: Config,
}

impl Default for ServerConfig {
    /// TCP on a free loopback port, default broker configuration.
    fn default() -> Self {
        ServerConfig {
            max_outbound_buffer: 16 << 20,
            outbound_high_water: 1 << 20,
            slow_consumer_timeout: 10,
            listen: Listen {
                tcp: Some(SocketAddr::from(([127, 0, 0, 1], 0))),
                ..Listen::default()
            },
            broker: Config::default(),
        }
    }
}

impl ServerConfig {
    /// A configuration with only the given broker settings and TCP on a free loopback port.
    pub fn with_broker(broker: Config) -> ServerConfig {
        ServerConfig {
            broker,
            ..ServerConfig::default()
        }
    }

    /// Parses a configuration file's text. Relative paths (certificates, password file) are
    /// resolved against `base_dir`.
    pub fn from_toml(text: &str, base_dir: &Path) -> Result<ServerConfig, ConfigError> {
        let mut c: ServerConfig = toml::from_str(text)?;
        let resolve = |p: &mut Option<PathBuf>| {
            if let Some(path) = p {
                if path.is_relative() {
                    *path = base_dir.join(&*path);
                }
            }
        };
        resolve(&mut c.listen.tls_cert);
        resolve(&mut c.listen.tls_key);
        resolve(&mut c.broker.password_file);
        c.broker.validate()?;
        Ok(c)
    }

    /// Reads and parses a configuration file.
    pub fn from_file(path: &Path) -> Result<ServerConfig, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        ServerConfig::from_toml(&text, base)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_format() {
        let c = ServerConfig::from_toml(
            r#"
            max_outbound_buffer = 1000000
            [listen]
            tcp = "127.0.0.1:1883"
            tls = "127.0.0.1:8883"
            tls_cert = "certs/server.pem"
            tls_key = "/etc/key.pem"
            ws = "[::1]:8080"
            [broker]
            maximum_qos = 1
            password_file = "passwd"
            [broker.faults]
            no_pingresp = true
            "#,
            Path::new("/srv/ts"),
        )
        .unwrap();
        assert_eq!(c.listen.tcp.unwrap().port(), 1883);
        assert_eq!(
            c.listen.tls_cert.unwrap(),
            Path::new("/srv/ts/certs/server.pem")
        );
        assert_eq!(c.listen.tls_key.unwrap(), Path::new("/etc/key.pem"));
        assert_eq!(c.broker.password_file.unwrap(), Path::new("/srv/ts/passwd"));
        assert!(c.broker.faults.no_pingresp);
        assert_eq!(c.max_outbound_buffer, 1_000_000);
        assert!(ServerConfig::from_toml("[listen]\nudp = \"x\"", Path::new(".")).is_err());
    }
}
