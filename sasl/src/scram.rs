//! SCRAM-SHA-256 (RFC 5802, RFC 7677) as an MQTT 5.0 enhanced authentication method: the
//! server side a broker uses, the client side for tests and tools, and the keys a password
//! file may hold instead of the password.
//!
//! In MQTT the SCRAM messages travel as Authentication Data: client-first in CONNECT,
//! server-first in AUTH 0x18, client-final in AUTH 0x18, server-final in CONNACK (or, for
//! re-authentication, in AUTH 0x00). No channel binding (`n,,` or `y,,`).

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

/// The Authentication Method name.
pub const METHOD: &str = "SCRAM-SHA-256";

/// The SCRAM-SHA-256 keys of one user (RFC 5802 section 3).
#[derive(Clone, PartialEq, Eq)]
pub struct ScramKeys {
    /// PBKDF2 iteration count.
    pub iterations: u32,
    /// Salt.
    pub salt: Vec<u8>,
    /// `H(HMAC(SaltedPassword, "Client Key"))`.
    pub stored_key: [u8; 32],
    /// `HMAC(SaltedPassword, "Server Key")`.
    pub server_key: [u8; 32],
}

impl std::fmt::Debug for ScramKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScramKeys")
            .field("iterations", &self.iterations)
            .finish_non_exhaustive()
    }
}

/// The iteration count RFC 7677 recommends as a minimum, for keys derived without a stored
/// count.
pub const DEFAULT_ITERATIONS: u32 = 4096;

impl ScramKeys {
    /// Derives the keys of `password` with `salt` and `iterations`.
    pub fn derive(password: &[u8], salt: &[u8], iterations: u32) -> ScramKeys {
        let mut salted = [0u8; 32];
        pbkdf2::pbkdf2_hmac::<Sha256>(password, salt, iterations.max(1), &mut salted);
        let client_key = hmac(&salted, b"Client Key");
        let stored_key: [u8; 32] = Sha256::digest(client_key).into();
        let server_key = hmac(&salted, b"Server Key");
        ScramKeys {
            iterations,
            salt: salt.to_vec(),
            stored_key,
            server_key,
        }
    }

    /// True if `password` derives these keys.
    pub fn verify(&self, password: &[u8]) -> bool {
        let keys = ScramKeys::derive(password, &self.salt, self.iterations);
        constant_time_eq(&keys.stored_key, &self.stored_key)
    }
}

/// HMAC-SHA-256.
pub fn hmac(key: &[u8], data: &[u8]) -> [u8; 32] {
    // A key of any length is valid for HMAC.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key) else {
        return [0; 32];
    };
    mac.update(data);
    mac.finalize().into_bytes().into()
}

/// Compares in time that depends on the lengths only.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Why a SCRAM exchange failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScramError {
    /// A message does not follow RFC 5802's grammar.
    #[error("malformed SCRAM message: {0}")]
    Malformed(&'static str),
    /// Unknown user or wrong proof.
    #[error("authentication failed")]
    Failed,
}

/// A server waiting for the client-final message.
#[derive(Debug, Clone)]
pub struct ScramServer {
    user: String,
    keys: ScramKeys,
    nonce: String,
    client_first_bare: String,
    server_first: String,
    gs2_header: String,
}

/// Splits `a=value` attributes.
fn attr(part: Option<&str>, name: char) -> Result<&str, ScramError> {
    let p = part.ok_or(ScramError::Malformed("missing attribute"))?;
    let mut chars = p.chars();
    if chars.next() != Some(name) || chars.next() != Some('=') {
        return Err(ScramError::Malformed("unexpected attribute"));
    }
    Ok(&p[2..])
}

/// Decodes a saslname (`=2C` is `,`, `=3D` is `=`).
fn saslname(s: &str) -> Result<String, ScramError> {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('=') {
        out.push_str(&rest[..i]);
        let code = rest.get(i + 1..i + 3);
        match code {
            Some("2C") => out.push(','),
            Some("3D") => out.push('='),
            _ => return Err(ScramError::Malformed("bad escape in user name")),
        }
        rest = &rest[i + 3..];
    }
    out.push_str(rest);
    Ok(out)
}

impl ScramServer {
    /// Reads the client-first message and answers with the server-first message. `keys_of`
    /// gives the keys of a user name (`None`: unknown user); `nonce` is the server's part of
    /// the nonce (printable, no `,`).
    pub fn start(
        client_first: &[u8],
        keys_of: impl FnOnce(&str) -> Option<ScramKeys>,
        nonce: &str,
    ) -> Result<(ScramServer, Vec<u8>), ScramError> {
        let text = std::str::from_utf8(client_first)
            .map_err(|_| ScramError::Malformed("client-first is not UTF-8"))?;
        let gs2_len = if text.starts_with("n,,") || text.starts_with("y,,") {
            3
        } else {
            return Err(ScramError::Malformed(
                "expected gs2 header `n,,` (no channel binding, no authzid)",
            ));
        };
        let gs2_header = text[..gs2_len].to_string();
        let bare = &text[gs2_len..];
        let mut parts = bare.split(',');
        let user = saslname(attr(parts.next(), 'n')?)?;
        let client_nonce = attr(parts.next(), 'r')?;
        if client_nonce.is_empty() {
            return Err(ScramError::Malformed("empty client nonce"));
        }
        let keys = keys_of(&user).ok_or(ScramError::Failed)?;
        let full_nonce = format!("{client_nonce}{nonce}");
        let server_first = format!(
            "r={full_nonce},s={},i={}",
            B64.encode(&keys.salt),
            keys.iterations
        );
        let reply = server_first.clone().into_bytes();
        Ok((
            ScramServer {
                user,
                keys,
                nonce: full_nonce,
                client_first_bare: bare.to_string(),
                server_first,
                gs2_header,
            },
            reply,
        ))
    }

    /// Checks the client-final message; on success, the user name and the server-final
    /// message.
    pub fn finish(self, client_final: &[u8]) -> Result<(String, Vec<u8>), ScramError> {
        let text = std::str::from_utf8(client_final)
            .map_err(|_| ScramError::Malformed("client-final is not UTF-8"))?;
        let (without_proof, proof) = text
            .rsplit_once(",p=")
            .ok_or(ScramError::Malformed("no proof"))?;
        let mut parts = without_proof.split(',');
        let binding = attr(parts.next(), 'c')?;
        if B64.decode(binding).ok().as_deref() != Some(self.gs2_header.as_bytes()) {
            return Err(ScramError::Malformed("channel binding does not match"));
        }
        if attr(parts.next(), 'r')? != self.nonce {
            return Err(ScramError::Failed);
        }
        let proof = B64
            .decode(proof)
            .map_err(|_| ScramError::Malformed("proof is not base64"))?;
        let auth_message = format!(
            "{},{},{}",
            self.client_first_bare, self.server_first, without_proof
        );
        let signature = hmac(&self.keys.stored_key, auth_message.as_bytes());
        if proof.len() != 32 {
            return Err(ScramError::Failed);
        }
        let client_key: Vec<u8> = proof.iter().zip(signature).map(|(a, b)| a ^ b).collect();
        let stored: [u8; 32] = Sha256::digest(&client_key).into();
        if !constant_time_eq(&stored, &self.keys.stored_key) {
            return Err(ScramError::Failed);
        }
        let server_signature = hmac(&self.keys.server_key, auth_message.as_bytes());
        Ok((
            self.user,
            format!("v={}", B64.encode(server_signature)).into_bytes(),
        ))
    }
}

/// The client side of SCRAM-SHA-256, for tests and tools.
#[derive(Debug, Clone)]
pub struct ScramClient {
    user: String,
    password: String,
    nonce: String,
    server_signature: Option<[u8; 32]>,
}

impl ScramClient {
    /// A client for `user` with its own nonce part.
    pub fn new(user: &str, password: &str, nonce: &str) -> ScramClient {
        ScramClient {
            user: user.to_string(),
            password: password.to_string(),
            nonce: nonce.to_string(),
            server_signature: None,
        }
    }

    fn bare(&self) -> String {
        let name = self.user.replace('=', "=3D").replace(',', "=2C");
        format!("n={name},r={}", self.nonce)
    }

    /// The client-first message (CONNECT Authentication Data).
    pub fn client_first(&self) -> Vec<u8> {
        format!("n,,{}", self.bare()).into_bytes()
    }

    /// The client-final message answering `server_first`.
    pub fn client_final(&mut self, server_first: &[u8]) -> Result<Vec<u8>, ScramError> {
        let text = std::str::from_utf8(server_first)
            .map_err(|_| ScramError::Malformed("server-first is not UTF-8"))?;
        let mut parts = text.split(',');
        let nonce = attr(parts.next(), 'r')?;
        let salt = B64
            .decode(attr(parts.next(), 's')?)
            .map_err(|_| ScramError::Malformed("salt is not base64"))?;
        let iterations: u32 = attr(parts.next(), 'i')?
            .parse()
            .map_err(|_| ScramError::Malformed("bad iteration count"))?;
        if !nonce.starts_with(&self.nonce) {
            return Err(ScramError::Failed);
        }
        let keys = ScramKeys::derive(self.password.as_bytes(), &salt, iterations);
        let without_proof = format!("c={},r={nonce}", B64.encode("n,,"));
        let auth_message = format!("{},{text},{without_proof}", self.bare());
        let mut salted = [0u8; 32];
        pbkdf2::pbkdf2_hmac::<Sha256>(self.password.as_bytes(), &salt, iterations, &mut salted);
        let client_key = hmac(&salted, b"Client Key");
        let signature = hmac(&keys.stored_key, auth_message.as_bytes());
        let proof: Vec<u8> = client_key
            .iter()
            .zip(signature)
            .map(|(a, b)| a ^ b)
            .collect();
        self.server_signature = Some(hmac(&keys.server_key, auth_message.as_bytes()));
        Ok(format!("{without_proof},p={}", B64.encode(proof)).into_bytes())
    }

    /// True if `server_final` proves the server knows the keys.
    pub fn verify_server(&self, server_final: &[u8]) -> bool {
        let expected = self
            .server_signature
            .map(|s| format!("v={}", B64.encode(s)).into_bytes());
        expected.as_deref() == Some(server_final)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(
        user: &str,
        password: &str,
        salt: &[u8],
        iterations: u32,
    ) -> impl Fn(&str) -> Option<ScramKeys> {
        let user = user.to_string();
        let keys = ScramKeys::derive(password.as_bytes(), salt, iterations);
        move |u| (u == user).then(|| keys.clone())
    }

    #[test]
    fn full_exchange_with_an_escaped_user_name() {
        let mut client = ScramClient::new("u,s=er", "pencil", "cnonce");
        let (server, first) = ScramServer::start(
            &client.client_first(),
            keys("u,s=er", "pencil", b"salt", 64),
            "snonce",
        )
        .unwrap();
        let last = client.client_final(&first).unwrap();
        let (user, server_final) = server.finish(&last).unwrap();
        assert_eq!(user, "u,s=er");
        assert!(client.verify_server(&server_final));
    }

    #[test]
    fn wrong_password_unknown_user_and_garbage_fail() {
        let mut client = ScramClient::new("u", "wrong", "c");
        let (server, first) =
            ScramServer::start(&client.client_first(), keys("u", "pw", b"s", 16), "s").unwrap();
        let last = client.client_final(&first).unwrap();
        assert_eq!(server.finish(&last).unwrap_err(), ScramError::Failed);
        assert!(ScramServer::start(b"p=x,,n=u,r=c", keys("u", "pw", b"s", 16), "s").is_err());
        assert_eq!(
            ScramServer::start(b"n,,n=nobody,r=c", keys("u", "pw", b"s", 16), "s").unwrap_err(),
            ScramError::Failed
        );
        assert!(ScramServer::start(b"\xff", keys("u", "pw", b"s", 16), "s").is_err());
        let (server, _) =
            ScramServer::start(b"n,,n=u,r=c", keys("u", "pw", b"s", 16), "s").unwrap();
        assert!(server.finish(b"garbage").is_err());
    }

    #[test]
    fn keys_verify_their_password_only() {
        let k = ScramKeys::derive(b"pencil", b"salt", 32);
        assert!(k.verify(b"pencil"));
        assert!(!k.verify(b"pencil2"));
        assert!(!format!("{k:?}").contains("stored"));
    }
}
