//! The password file: one user a line, as `user:password` (plain text) or
//! `user:$scram-sha-256$ITERATIONS$SALT$STORED_KEY$SERVER_KEY` (the SCRAM-SHA-256 keys of
//! RFC 5802 section 3, base64), so that the file need not hold the password itself. Empty lines
//! and lines starting with `#` are ignored. A user name cannot contain `:`; a plain password
//! is everything after the first `:`.

use std::collections::HashMap;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use sha2::{Digest, Sha256};
use touchstone_sasl::scram::{constant_time_eq, ScramKeys, DEFAULT_ITERATIONS};

#[derive(Clone, PartialEq, Eq)]
enum Credential {
    Plain(Vec<u8>),
    Scram(ScramKeys),
}

/// User names and their passwords, from a password file.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Passwords {
    users: HashMap<String, Credential>,
}

impl std::fmt::Debug for Passwords {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut users: Vec<&String> = self.users.keys().collect();
        users.sort();
        f.debug_struct("Passwords").field("users", &users).finish()
    }
}

/// A line of the password file that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct PasswordError {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

impl Passwords {
    /// Parses the text of a password file.
    pub fn parse(text: &str) -> Result<Passwords, PasswordError> {
        let mut users = HashMap::new();
        for (i, raw) in text.lines().enumerate() {
            let line = raw.trim_end_matches('\r');
            if line.trim().is_empty() || line.trim_start().starts_with('#') {
                continue;
            }
            let err = |message: &str| PasswordError {
                line: i + 1,
                message: message.to_string(),
            };
            let Some((user, secret)) = line.split_once(':') else {
                return Err(err("expected `user:password`"));
            };
            if user.is_empty() {
                return Err(err("empty user name"));
            }
            let credential = if let Some(rest) = secret.strip_prefix("$scram-sha-256$") {
                Credential::Scram(parse_scram(rest).ok_or_else(|| {
                    err("expected `$scram-sha-256$ITERATIONS$SALT$STORED_KEY$SERVER_KEY`")
                })?)
            } else {
                Credential::Plain(secret.as_bytes().to_vec())
            };
            if users.insert(user.to_string(), credential).is_some() {
                return Err(err("user listed twice"));
            }
        }
        Ok(Passwords { users })
    }

    /// A password file line for `user` holding only the SCRAM keys of `password`.
    pub fn hash_line(user: &str, password: &str, salt: &[u8], iterations: u32) -> String {
        let k = ScramKeys::derive(password.as_bytes(), salt, iterations);
        format!(
            "{user}:$scram-sha-256${}${}${}${}",
            k.iterations,
            B64.encode(&k.salt),
            B64.encode(k.stored_key),
            B64.encode(k.server_key)
        )
    }

    /// Adds or replaces a user with a plain-text password.
    pub fn insert(&mut self, user: &str, password: &str) {
        self.users.insert(
            user.to_string(),
            Credential::Plain(password.as_bytes().to_vec()),
        );
    }

    /// True if `user` is listed with `password`.
    pub fn check(&self, user: &str, password: &[u8]) -> bool {
        match self.users.get(user) {
            Some(Credential::Plain(p)) => constant_time_eq(p, password),
            Some(Credential::Scram(k)) => k.verify(password),
            None => false,
        }
    }

    /// The SCRAM keys of `user`: stored ones, or derived from a plain-text password with a
    /// salt made from the user name.
    pub fn scram_keys(&self, user: &str) -> Option<ScramKeys> {
        match self.users.get(user)? {
            Credential::Scram(k) => Some(k.clone()),
            Credential::Plain(p) => {
                let salt = Sha256::digest([b"touchstone-scram-salt:", user.as_bytes()].concat());
                Some(ScramKeys::derive(p, &salt[..16], DEFAULT_ITERATIONS))
            }
        }
    }

    /// Number of users.
    pub fn len(&self) -> usize {
        self.users.len()
    }

    /// True if there are no users.
    pub fn is_empty(&self) -> bool {
        self.users.is_empty()
    }
}

fn parse_scram(rest: &str) -> Option<ScramKeys> {
    let mut parts = rest.split('$');
    let iterations: u32 = parts.next()?.parse().ok()?;
    let salt = B64.decode(parts.next()?).ok()?;
    let stored_key: [u8; 32] = B64.decode(parts.next()?).ok()?.try_into().ok()?;
    let server_key: [u8; 32] = B64.decode(parts.next()?).ok()?.try_into().ok()?;
    if parts.next().is_some() || iterations == 0 {
        return None;
    }
    Some(ScramKeys {
        iterations,
        salt,
        stored_key,
        server_key,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_and_hashed_entries() {
        let hashed = Passwords::hash_line("bob", "hunter2", b"salty", 16);
        let p = Passwords::parse(&format!("# users\n\nalice:se:cret\r\n{hashed}\n")).unwrap();
        assert_eq!(p.len(), 2);
        assert!(p.check("alice", b"se:cret"));
        assert!(!p.check("alice", b"se"));
        assert!(p.check("bob", b"hunter2"));
        assert!(!p.check("bob", b"hunter3"));
        assert!(!p.check("carol", b""));
    }

    #[test]
    fn bad_lines_are_errors_with_line_numbers() {
        assert_eq!(Passwords::parse("a:b\nnocolon").unwrap_err().line, 2);
        assert!(Passwords::parse(":x").is_err());
        assert!(Passwords::parse("a:b\na:c").is_err());
        assert!(Passwords::parse("a:$scram-sha-256$x$y").is_err());
    }
}
