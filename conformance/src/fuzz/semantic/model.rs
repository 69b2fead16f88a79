//! The model: the sans-IO reference broker core, fed the same operations as the target, with
//! the time injected (the run's elapsed milliseconds).

use touchstone_broker::core::{Action, Broker, ConnectionId, Event, Millis};
use touchstone_broker::Config;
use touchstone_codec::Protocol;

use super::client::{Client, Names};
use super::scenario::{Op, CLIENTS};

/// The reference core and one scripted client per slot.
pub struct Model {
    broker: Broker,
    next_conn: u64,
    conns: [Option<ConnectionId>; CLIENTS as usize],
    /// The slots' clients.
    pub clients: Vec<Client>,
    now: Millis,
}

/// The model's configuration: the reference broker's defaults (every feature, generous
/// limits), no Topic Aliases towards the clients.
fn config() -> Config {
    Config {
        topic_alias_maximum: 0,
        ..Config::default()
    }
}

impl Model {
    /// A fresh core.
    pub fn new(protocol: Protocol) -> Model {
        Model {
            broker: Broker::new(config()),
            next_conn: 1,
            conns: [None; CLIENTS as usize],
            clients: (0..CLIENTS).map(|_| Client::new(protocol)).collect(),
            now: 0,
        }
    }

    /// Moves the clock to `now` (milliseconds since the scenario began) and fires due timers.
    pub fn advance(&mut self, now: Millis) {
        self.now = self.now.max(now);
        self.broker.handle(self.now, Event::Tick);
    }

    /// True if the slot has a connection open.
    pub fn is_open(&self, slot: u8) -> bool {
        self.conns[usize::from(slot)].is_some()
    }

    /// Applies operation `op` (number `tag`, during `step`) and runs the core until it is quiet.
    pub fn apply(&mut self, op: &Op, tag: usize, step: usize, names: &Names) {
        let slot = usize::from(op.client());
        let bytes = self.clients[slot].encode(op, tag, names);
        match op {
            Op::Connect { .. } => {
                let id = ConnectionId(self.next_conn);
                self.next_conn += 1;
                self.broker.handle(
                    self.now,
                    Event::Opened {
                        conn: id,
                        peer: None,
                    },
                );
                self.conns[slot] = Some(id);
                self.clients[slot].reset_connection();
                self.feed(slot, &bytes);
            }
            Op::Drop { .. } => self.close(slot as u8),
            Op::Disconnect { .. } => {
                self.feed(slot, &bytes);
                self.pump(step, names);
                self.close(slot as u8);
            }
            _ => self.feed(slot, &bytes),
        }
        self.pump(step, names);
    }

    /// Closes the slot's connection as the client (the peer went away).
    pub fn close(&mut self, slot: u8) {
        if let Some(id) = self.conns[usize::from(slot)].take() {
            self.broker.handle(self.now, Event::Closed { conn: id });
        }
        self.clients[usize::from(slot)].connected = false;
    }

    fn feed(&mut self, slot: usize, bytes: &[u8]) {
        if let Some(id) = self.conns[slot] {
            if !bytes.is_empty() {
                self.broker.handle(
                    self.now,
                    Event::Received {
                        conn: id,
                        data: bytes,
                    },
                );
            }
        }
    }

    /// Delivers the core's output to the clients and their acknowledgements back, until
    /// nothing more happens (bounded).
    pub fn pump(&mut self, step: usize, names: &Names) {
        for _ in 0..10_000 {
            let actions: Vec<Action> = self.broker.drain_actions().collect();
            if actions.is_empty() {
                return;
            }
            for a in actions {
                match a {
                    Action::Send { conn, bytes } => {
                        let Some(slot) = self.conns.iter().position(|c| *c == Some(conn)) else {
                            continue; // a connection taken over: nobody reads it
                        };
                        let answer = self.clients[slot].receive(&bytes, step, names);
                        if !answer.is_empty() {
                            self.broker.handle(
                                self.now,
                                Event::Received {
                                    conn,
                                    data: &answer,
                                },
                            );
                        }
                    }
                    Action::Close { conn, .. } => {
                        if let Some(slot) = self.conns.iter().position(|c| *c == Some(conn)) {
                            self.conns[slot] = None;
                            self.clients[slot].connected = false;
                        }
                    }
                }
            }
        }
    }
}
