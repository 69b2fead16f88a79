//! The target: one connection per client slot over the run's transport, read concurrently.

use std::time::Duration;

use futures_util::future::select_all;
use futures_util::FutureExt;
use tokio::time::Instant;

use super::client::{Client, Names};
use super::scenario::{Op, CLIENTS};
use crate::net::transport::{Connector, Received, Transport};

/// The target's side of a scenario.
pub struct Live {
    connector: Connector,
    conns: Vec<Option<Transport>>,
    /// Connections taken over, left for the server to close.
    old: Vec<Transport>,
    /// The slots' clients.
    pub clients: Vec<Client>,
    /// What happened, line by line (connection events).
    pub notes: Vec<String>,
}

impl Live {
    /// No connection yet.
    pub fn new(connector: Connector, protocol: touchstone_codec::Protocol) -> Live {
        Live {
            connector,
            conns: (0..CLIENTS).map(|_| None).collect(),
            old: Vec::new(),
            clients: (0..CLIENTS).map(|_| Client::new(protocol)).collect(),
            notes: Vec::new(),
        }
    }

    /// True if the slot has a connection open.
    pub fn is_open(&self, slot: u8) -> bool {
        self.conns[usize::from(slot)]
            .as_ref()
            .is_some_and(|t| !t.is_closed())
    }

    /// Sends operation `op` (number `tag`). An error is the transport's (the target is gone).
    pub async fn apply(
        &mut self,
        op: &Op,
        tag: usize,
        names: &Names,
        within: Duration,
    ) -> Result<(), String> {
        let slot = usize::from(op.client());
        if matches!(op, Op::Connect { .. }) {
            // Before encoding, which makes the client await the CONNACK: reset after it, the
            // client awaited nothing, and a CONNACK slower than the quiet time (a loaded
            // machine) made the scenario unusable ("closed without a CONNACK").
            self.clients[slot].reset_connection();
        }
        let bytes = self.clients[slot].encode(op, tag, names);
        match op {
            Op::Connect { .. } => {
                if let Some(t) = self.conns[slot].take() {
                    self.old.push(t);
                }
                let t = self
                    .connector
                    .connect(within)
                    .await
                    .map_err(|e| format!("cannot connect client c{slot}: {e}"))?;
                self.conns[slot] = Some(t);
                self.send(slot, &bytes).await;
            }
            Op::Drop { .. } => self.leave(slot, tag, names, within).await,
            Op::Disconnect { .. } => {
                self.send(slot, &bytes).await;
                self.leave(slot, tag, names, within).await;
            }
            _ => self.send(slot, &bytes).await,
        }
        Ok(())
    }

    /// Writes bytes on the slot's connection (errors noted).
    pub async fn send_raw(&mut self, slot: usize, bytes: &[u8]) {
        self.send(slot, bytes).await;
    }

    async fn send(&mut self, slot: usize, bytes: &[u8]) {
        if let Some(t) = self.conns[slot].as_mut() {
            if let Err(e) = t.send(bytes).await {
                self.notes.push(format!("c{slot}: {e}"));
            }
        }
    }

    /// Closes the slot's connection and waits (up to `within`) for the server to close its
    /// side: then it has acted on the DISCONNECT or the loss of the connection (deleted or
    /// published the Will) before the next operation, as the model did. Without the wait, a
    /// CONNECT of the same client could reach the server first and make a take-over of it, and
    /// the verdict would follow the machine's load. What arrives meanwhile is received.
    async fn leave(&mut self, slot: usize, step: usize, names: &Names, within: Duration) {
        if let Some(mut t) = self.conns[slot].take() {
            let (got, closed) = t.close_and_wait(Instant::now() + within).await;
            for d in got {
                // Nothing can be answered on a closed side.
                let _ = self.clients[slot].receive(&d, step, names);
            }
            if !closed {
                self.notes.push(format!(
                    "c{slot}: the target kept its side of the connection open {:.1} s after the client closed",
                    within.as_secs_f64()
                ));
            }
        }
        self.clients[slot].connection_closed();
    }

    /// Closes the slot's connection as a client that goes away.
    pub async fn close(&mut self, slot: usize) {
        if let Some(mut t) = self.conns[slot].take() {
            t.close().await;
        }
        self.clients[slot].connection_closed();
    }

    /// Reads every connection until `done` holds (then for `quiet` more without traffic) or
    /// until `until`, answering what needs an answer.
    pub async fn pump(
        &mut self,
        step: usize,
        names: &Names,
        until: Instant,
        quiet: Duration,
        done: &(dyn Fn(&[Client]) -> bool + Sync),
    ) {
        let mut last = Instant::now();
        loop {
            let satisfied = done(&self.clients)
                && self
                    .clients
                    .iter()
                    .enumerate()
                    .all(|(i, c)| c.idle() || self.conns[i].is_none());
            let deadline = if satisfied {
                until.min(last + quiet)
            } else {
                until
            };
            if Instant::now() >= deadline {
                return;
            }
            let open: Vec<usize> = (0..self.conns.len())
                .filter(|&i| self.conns[i].as_ref().is_some_and(|t| !t.is_closed()))
                .collect();
            if open.is_empty() {
                return;
            }
            let (slot, got) = {
                let mut futs = Vec::new();
                let mut slots = Vec::new();
                for (i, t) in self.conns.iter_mut().enumerate() {
                    if let Some(t) = t.as_mut().filter(|t| !t.is_closed()) {
                        slots.push(i);
                        futs.push(t.recv(deadline).boxed());
                    }
                }
                let (got, k, _) = select_all(futs).await;
                (slots[k], got)
            };
            match got {
                Received::Data(d) => {
                    last = Instant::now();
                    let answer = self.clients[slot].receive(&d, step, names);
                    if !answer.is_empty() {
                        self.send(slot, &answer).await;
                    }
                }
                Received::Closed(kind) => {
                    self.notes.push(format!("c{slot}: connection {kind}"));
                    self.conns[slot] = None;
                    self.clients[slot].connection_closed();
                }
                Received::Timeout => {}
            }
        }
    }

    /// Closes every connection.
    pub async fn close_all(&mut self) {
        for i in 0..self.conns.len() {
            self.close(i).await;
        }
        for mut t in self.old.drain(..) {
            t.close().await;
        }
    }
}
