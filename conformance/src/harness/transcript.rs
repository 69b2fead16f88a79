//! The transcript of a case: every packet each way, with the time, the client, the bytes and
//! the decoded form; and the connection events (open, close). Secrets are masked here, as
//! entries are recorded ([`crate::harness::redact`]), so no report or log can show them.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use touchstone_codec::Packet;

use crate::harness::redact::{Masked, Redactor};
use crate::harness::summary;

/// Which way an entry went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// From the test client to the broker.
    Send,
    /// From the broker to the test client.
    Recv,
    /// A connection event (opened, closed by either side, timed out).
    Event,
}

impl Direction {
    /// An arrow for the text view.
    pub fn arrow(self) -> &'static str {
        match self {
            Direction::Send => "->",
            Direction::Recv => "<-",
            Direction::Event => "--",
        }
    }
}

/// One line of a transcript.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Time since the case started.
    pub at: Duration,
    /// The client's name in the case, e.g. `sub` (with `#2` for its second connection).
    pub client: String,
    /// Which way.
    pub direction: Direction,
    /// The bytes on the wire (empty for events).
    pub bytes: Bytes,
    /// The decoded packet, when the bytes are one valid packet.
    pub packet: Option<Packet>,
    /// Anything else: why the bytes do not decode, what the event was.
    pub note: Option<String>,
    /// The secrets masked in `bytes` (and in `packet`).
    pub masked: Vec<Masked>,
}

impl Entry {
    /// The decoded form as one line: the packet summary, or the note.
    pub fn describe(&self) -> String {
        let mut s = match (&self.packet, &self.note) {
            (Some(p), None) => summary::packet(p),
            (Some(p), Some(n)) => format!("{} ({n})", summary::packet(p)),
            (None, Some(n)) => n.clone(),
            (None, None) => String::from("(raw bytes)"),
        };
        if !self.masked.is_empty() {
            let what: Vec<String> = self
                .masked
                .iter()
                .map(|m| format!("{} ({} bytes)", m.what, m.len))
                .collect();
            s += &format!(" [masked: {}]", what.join(", "));
        }
        s
    }
}

/// The most bytes of one transcript entry a JSON report carries.
pub const JSON_MAX_BYTES: usize = 16 * 1024;

/// A shared, append-only transcript. Clients of one case share it, so the order is the order
/// in which the harness saw things happen.
#[derive(Debug, Clone)]
pub struct Transcript {
    started: Instant,
    entries: Arc<Mutex<Vec<Entry>>>,
    redactor: Arc<Redactor>,
}

impl Transcript {
    /// An empty transcript whose clock starts now; it masks the fields that are secrets.
    pub fn new() -> Self {
        Transcript::with_redactor(Arc::new(Redactor::default()))
    }

    /// An empty transcript that masks secret fields and the secrets `redactor` knows.
    pub fn with_redactor(redactor: Arc<Redactor>) -> Self {
        Transcript {
            started: Instant::now(),
            entries: Arc::new(Mutex::new(Vec::new())),
            redactor,
        }
    }

    /// When the clock started.
    pub fn started(&self) -> Instant {
        self.started
    }

    fn lock(&self) -> MutexGuard<'_, Vec<Entry>> {
        // A poisoned lock only means a panic elsewhere; the entries are still valid.
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Appends an entry stamped with the current time, with its secrets masked.
    pub fn push(
        &self,
        client: &str,
        direction: Direction,
        bytes: Bytes,
        mut packet: Option<Packet>,
        note: Option<String>,
    ) {
        let (bytes, masked) = match self.redactor.bytes(&bytes) {
            Some((b, spans)) => (b, spans),
            None => (bytes, Vec::new()),
        };
        if let Some(p) = &mut packet {
            self.redactor.packet(p);
        }
        let entry = Entry {
            at: self.started.elapsed(),
            client: client.to_string(),
            direction,
            bytes,
            packet,
            note: note.map(|n| self.redactor.text(&n)),
            masked,
        };
        self.lock().push(entry);
    }

    /// Appends a connection event.
    pub fn event(&self, client: &str, note: impl Into<String>) {
        self.push(
            client,
            Direction::Event,
            Bytes::new(),
            None,
            Some(note.into()),
        );
    }

    /// A copy of the entries so far.
    pub fn entries(&self) -> Vec<Entry> {
        self.lock().clone()
    }
}

impl Default for Transcript {
    fn default() -> Self {
        Transcript::new()
    }
}

/// The transcript as text, one entry per line (hex under each packet).
pub fn render(entries: &[Entry], indent: &str) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    for e in entries {
        let _ = writeln!(
            out,
            "{indent}{:>8.3}s {:<10} {} {}",
            e.at.as_secs_f64(),
            e.client,
            e.direction.arrow(),
            e.describe()
        );
        if !e.bytes.is_empty() {
            let _ = writeln!(out, "{indent}{:>21}   {}", "", summary::hex(&e.bytes, 64));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn render_and_json() {
        let t = Transcript::new();
        t.push(
            "a",
            Direction::Send,
            Bytes::from_static(&[0xC0, 0x00]),
            Some(Packet::PingReq),
            None,
        );
        t.event("a", "closed by the server");
        let entries = t.entries();
        let text = render(&entries, "  ");
        assert!(text.contains("a          -> PINGREQ"), "{text}");
        assert!(text.contains("c0 00"), "{text}");
        assert!(text.contains("-- closed by the server"), "{text}");
        let json = crate::report::json::entry(&entries[0]);
        assert_eq!(json.hex, "c000");
        assert_eq!(json.dir, Direction::Send);
        assert_eq!(json.packet.unwrap()["type"], "PINGREQ");
    }
}
