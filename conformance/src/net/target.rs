//! Target URLs: `mqtt://host:port`, `mqtts://`, `ws://host:port/path`, `wss://`.

use std::fmt;

/// How to reach the broker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scheme {
    /// MQTT over TCP (default port 1883).
    Mqtt,
    /// MQTT over TLS (default port 8883).
    Mqtts,
    /// MQTT over WebSocket (default port 80).
    Ws,
    /// MQTT over WebSocket over TLS (default port 443).
    Wss,
}

impl Scheme {
    /// The URL scheme, e.g. `mqtts`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Scheme::Mqtt => "mqtt",
            Scheme::Mqtts => "mqtts",
            Scheme::Ws => "ws",
            Scheme::Wss => "wss",
        }
    }

    /// The port used when the URL names none.
    pub const fn default_port(self) -> u16 {
        match self {
            Scheme::Mqtt => 1883,
            Scheme::Mqtts => 8883,
            Scheme::Ws => 80,
            Scheme::Wss => 443,
        }
    }

    /// True for the schemes that run over TLS.
    pub const fn is_tls(self) -> bool {
        matches!(self, Scheme::Mqtts | Scheme::Wss)
    }

    /// True for the WebSocket schemes.
    pub const fn is_websocket(self) -> bool {
        matches!(self, Scheme::Ws | Scheme::Wss)
    }
}

/// A parsed target URL. Credentials are never part of it (they come from flags or the
/// environment), so it can be printed in reports.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Target {
    /// The scheme.
    pub scheme: Scheme,
    /// Host name or IP address (IPv6 without brackets).
    pub host: String,
    /// TCP port.
    pub port: u16,
    /// WebSocket path (`/mqtt` when none is given); empty for `mqtt` and `mqtts`.
    pub path: String,
}

/// Why a target URL was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    /// No `scheme://`.
    #[error("target `{0}` has no scheme: write mqtt://HOST:PORT, mqtts://, ws://HOST:PORT/PATH or wss://")]
    NoScheme(String),
    /// A scheme other than the four supported.
    #[error("target scheme `{0}` is not supported: use mqtt, mqtts, ws or wss")]
    UnknownScheme(String),
    /// Empty host.
    #[error("target `{0}` has no host")]
    NoHost(String),
    /// A port that is not a number from 1 to 65535.
    #[error("target port `{0}` is not a number from 1 to 65535")]
    BadPort(String),
    /// `user:password@` in the URL.
    #[error("target `{0}` holds credentials: pass them with --username/--password or TOUCHSTONE_USERNAME/TOUCHSTONE_PASSWORD instead")]
    Credentials(String),
    /// A path on an `mqtt://` or `mqtts://` target.
    #[error("target `{0}` has a path, which only ws:// and wss:// targets may have")]
    PathNotAllowed(String),
    /// A query or fragment.
    #[error("target `{0}` has a query or fragment, which is not supported")]
    Query(String),
    /// An IPv6 literal without its closing bracket.
    #[error("target `{0}` has an unterminated IPv6 address (missing `]`)")]
    BadIpv6(String),
}

impl Target {
    /// Parses a target URL.
    ///
    /// ```
    /// use touchstone_conformance::net::target::{Scheme, Target};
    /// let t = Target::parse("ws://localhost:8080/mqtt").unwrap();
    /// assert_eq!((t.scheme, t.host.as_str(), t.port, t.path.as_str()), (Scheme::Ws, "localhost", 8080, "/mqtt"));
    /// assert_eq!(Target::parse("mqtts://broker").unwrap().port, 8883);
    /// assert!(Target::parse("http://broker").is_err());
    /// ```
    pub fn parse(url: &str) -> Result<Target, TargetError> {
        let url = url.trim();
        let Some((scheme, rest)) = url.split_once("://") else {
            return Err(TargetError::NoScheme(url.to_string()));
        };
        let scheme = match scheme.to_ascii_lowercase().as_str() {
            "mqtt" | "tcp" => Scheme::Mqtt,
            "mqtts" | "ssl" | "tls" => Scheme::Mqtts,
            "ws" => Scheme::Ws,
            "wss" => Scheme::Wss,
            other => return Err(TargetError::UnknownScheme(other.to_string())),
        };
        if rest.contains(['?', '#']) {
            return Err(TargetError::Query(url.to_string()));
        }
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, ""),
        };
        if authority.contains('@') {
            return Err(TargetError::Credentials(url.to_string()));
        }
        let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
            let Some(end) = v6.find(']') else {
                return Err(TargetError::BadIpv6(url.to_string()));
            };
            let host = &v6[..end];
            let after = &v6[end + 1..];
            let port = match after.strip_prefix(':') {
                Some(p) => Some(p),
                None if after.is_empty() => None,
                None => return Err(TargetError::BadPort(after.to_string())),
            };
            (host, port)
        } else {
            match authority.rsplit_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (authority, None),
            }
        };
        if host.is_empty() {
            return Err(TargetError::NoHost(url.to_string()));
        }
        let port = match port {
            None => scheme.default_port(),
            Some(p) => match p.parse::<u16>() {
                Ok(n) if n > 0 => n,
                _ => return Err(TargetError::BadPort(p.to_string())),
            },
        };
        let path = if scheme.is_websocket() {
            if path.is_empty() || path == "/" {
                "/mqtt".to_string()
            } else {
                path.to_string()
            }
        } else if path.is_empty() || path == "/" {
            String::new()
        } else {
            return Err(TargetError::PathNotAllowed(url.to_string()));
        };
        Ok(Target {
            scheme,
            host: host.to_string(),
            port,
            path,
        })
    }

    /// `host:port` for connecting (IPv6 in brackets).
    pub fn authority(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}://{}{}",
            self.scheme.as_str(),
            self.authority(),
            self.path
        )
    }
}

impl std::str::FromStr for Target {
    type Err = TargetError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Target::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_ports() {
        for (url, port) in [
            ("mqtt://h", 1883),
            ("mqtts://h", 8883),
            ("ws://h", 80),
            ("wss://h", 443),
        ] {
            assert_eq!(Target::parse(url).unwrap().port, port, "{url}");
        }
    }

    #[test]
    fn paths_and_hosts() {
        let t = Target::parse("wss://example.org/ws/mqtt").unwrap();
        assert_eq!(t.path, "/ws/mqtt");
        assert_eq!(t.to_string(), "wss://example.org:443/ws/mqtt");
        assert_eq!(Target::parse("ws://h:9001").unwrap().path, "/mqtt");
        let t = Target::parse("mqtt://[::1]:1884").unwrap();
        assert_eq!((t.host.as_str(), t.port), ("::1", 1884));
        assert_eq!(t.authority(), "[::1]:1884");
        assert_eq!(Target::parse("MQTT://h:1/").unwrap().path, "");
    }

    #[test]
    fn clear_errors() {
        assert!(matches!(
            Target::parse("localhost:1883"),
            Err(TargetError::NoScheme(_))
        ));
        assert!(matches!(
            Target::parse("http://h"),
            Err(TargetError::UnknownScheme(_))
        ));
        assert!(matches!(
            Target::parse("mqtt://:1883"),
            Err(TargetError::NoHost(_))
        ));
        assert!(matches!(
            Target::parse("mqtt://h:0"),
            Err(TargetError::BadPort(_))
        ));
        assert!(matches!(
            Target::parse("mqtt://h:99999"),
            Err(TargetError::BadPort(_))
        ));
        assert!(matches!(
            Target::parse("mqtt://u:p@h"),
            Err(TargetError::Credentials(_))
        ));
        assert!(matches!(
            Target::parse("mqtt://h/x"),
            Err(TargetError::PathNotAllowed(_))
        ));
        assert!(matches!(
            Target::parse("mqtt://[::1"),
            Err(TargetError::BadIpv6(_))
        ));
        assert!(matches!(
            Target::parse("ws://h/p?x=1"),
            Err(TargetError::Query(_))
        ));
    }
}
