//! The core under a mutex, and what the connection tasks share: the writers of each
//! connection, the clock, the timer task's deadline and the slow-consumer accounting.
//!
//! Every event is handled and its actions handed to the writers' channels while the lock is
//! held, so that the bytes for one connection reach its writer in the order the core produced
//! them.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use bytes::Bytes;
use tokio::sync::{mpsc, Notify};

use crate::core::{Action, Broker, ConnectionId, Event, Millis, Stats};
use crate::fxhash::FxHashMap;

/// What a connection's writer task is told.
#[derive(Debug)]
pub(crate) enum Out {
    Bytes(Bytes),
    /// Flush, close the connection, stop.
    Close,
}

/// Outbound accounting of one connection, shared with its writer task.
#[derive(Debug, Default)]
pub(crate) struct Flow {
    /// Bytes handed to the writer and not yet written.
    pub pending: AtomicUsize,
    /// Notified when `pending` falls below the high-water mark.
    pub drained: Notify,
    /// Notified when the connection must stop (its reader exits).
    pub stop: Notify,
}

struct Writer {
    tx: mpsc::UnboundedSender<Out>,
    flow: Arc<Flow>,
}

struct CoreState {
    broker: Broker,
    writers: FxHashMap<ConnectionId, Writer>,
    /// The deadline the timer task sleeps until.
    timer_at: Millis,
}

/// State shared by the listener, connection and timer tasks.
pub(crate) struct Shared {
    core: Mutex<CoreState>,
    epoch: Instant,
    next_conn: AtomicU64,
    pub timer_wake: Notify,
    pub max_outbound: usize,
    pub high_water: usize,
    pub slow_timeout: Duration,
}

/// Flows of other connections that went over the high-water mark.
pub(crate) type Backlogged = Vec<Arc<Flow>>;

impl Shared {
    pub fn new(
        broker: Broker,
        max_outbound: usize,
        high_water: usize,
        slow_timeout: Duration,
    ) -> Shared {
        Shared {
            core: Mutex::new(CoreState {
                broker,
                writers: FxHashMap::default(),
                timer_at: Millis::MAX,
            }),
            epoch: Instant::now(),
            next_conn: AtomicU64::new(1),
            timer_wake: Notify::new(),
            max_outbound,
            high_water,
            slow_timeout,
        }
    }

    /// Milliseconds since the server started.
    pub fn now(&self) -> Millis {
        self.epoch.elapsed().as_millis() as Millis
    }

    fn lock(&self) -> MutexGuard<'_, CoreState> {
        // A panic while holding the lock would be a bug in the core; keep serving the rest.
        self.core.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Registers a new connection; returns its id, the writer's channel and its flow.
    pub fn open(
        &self,
        peer: Option<std::net::SocketAddr>,
    ) -> (ConnectionId, mpsc::UnboundedReceiver<Out>, Arc<Flow>) {
        let id = ConnectionId(self.next_conn.fetch_add(1, Ordering::Relaxed));
        let (tx, rx) = mpsc::unbounded_channel();
        let flow = Arc::new(Flow::default());
        let mut st = self.lock();
        st.writers.insert(
            id,
            Writer {
                tx,
                flow: flow.clone(),
            },
        );
        self.handle_locked(&mut st, Event::Opened { conn: id, peer }, None);
        (id, rx, flow)
    }

    /// Feeds bytes from connection `id`; returns the flows that went over the high-water mark.
    pub fn received(&self, id: ConnectionId, data: &[u8]) -> Backlogged {
        let mut backlogged = Vec::new();
        let mut st = self.lock();
        self.handle_locked(
            &mut st,
            Event::Received { conn: id, data },
            Some((id, &mut backlogged)),
        );
        backlogged
    }

    /// The connection ended on the network side.
    pub fn closed(&self, id: ConnectionId) {
        let mut st = self.lock();
        st.writers.remove(&id);
        self.handle_locked(&mut st, Event::Closed { conn: id }, None);
    }

    /// Fires due timers; returns the next deadline.
    pub fn tick(&self) -> Millis {
        let mut st = self.lock();
        self.handle_locked(&mut st, Event::Tick, None);
        st.timer_at = st.broker.next_deadline().unwrap_or(Millis::MAX);
        st.timer_at
    }

    /// Disconnects every client.
    pub fn shutdown(&self) {
        let mut st = self.lock();
        let now = self.now();
        st.broker.shutdown(now);
        self.dispatch(&mut st, None);
    }

    pub fn set_faults(&self, faults: crate::Faults) {
        self.lock().broker.set_faults(faults);
    }

    pub fn stats(&self) -> Stats {
        self.lock().broker.stats()
    }

    /// Closes a connection whose outbound data is not being read.
    pub fn kill(&self, flow: &Arc<Flow>) {
        let mut st = self.lock();
        let id = st
            .writers
            .iter()
            .find(|(_, w)| Arc::ptr_eq(&w.flow, flow))
            .map(|(id, _)| *id);
        if let Some(id) = id {
            tracing::warn!(conn = id.0, "closing a slow consumer");
            if let Some(w) = st.writers.remove(&id) {
                w.flow.stop.notify_one();
            }
            self.handle_locked(&mut st, Event::Closed { conn: id }, None);
        }
    }

    fn handle_locked(
        &self,
        st: &mut CoreState,
        event: Event<'_>,
        backlog: Option<(ConnectionId, &mut Backlogged)>,
    ) {
        let now = self.now();
        st.broker.handle(now, event);
        self.dispatch(st, backlog);
    }

    /// Hands the core's actions to the writers (under the lock, keeping their order).
    fn dispatch(&self, st: &mut CoreState, mut backlog: Option<(ConnectionId, &mut Backlogged)>) {
        let mut overflowed = Vec::new();
        loop {
            while let Some(action) = st.broker.poll_action() {
                match action {
                    Action::Send { conn, bytes } => {
                        let Some(w) = st.writers.get(&conn) else {
                            continue;
                        };
                        let len = bytes.len();
                        let pending = w.flow.pending.fetch_add(len, Ordering::AcqRel) + len;
                        if w.tx.send(Out::Bytes(bytes)).is_err() {
                            continue;
                        }
                        if pending > self.max_outbound {
                            overflowed.push(conn);
                        } else if pending > self.high_water {
                            if let Some((me, list)) = backlog.as_mut() {
                                if *me != conn && !list.iter().any(|f| Arc::ptr_eq(f, &w.flow)) {
                                    list.push(w.flow.clone());
                                }
                            }
                        }
                    }
                    Action::Close { conn, reason } => {
                        tracing::debug!(conn = conn.0, "close: {reason}");
                        if let Some(w) = st.writers.remove(&conn) {
                            let _ = w.tx.send(Out::Close);
                        }
                    }
                }
            }
            if overflowed.is_empty() {
                break;
            }
            for conn in overflowed.drain(..) {
                tracing::warn!(conn = conn.0, "outbound buffer limit reached: closing");
                if let Some(w) = st.writers.remove(&conn) {
                    w.flow.stop.notify_one();
                }
                let now = self.now();
                st.broker.handle(now, Event::Closed { conn });
            }
        }
        let next = st.broker.next_deadline().unwrap_or(Millis::MAX);
        if next < st.timer_at {
            st.timer_at = next;
            self.timer_wake.notify_one();
        }
    }

    /// Waits until each backlogged flow drains below the high-water mark; closes those that do
    /// not within the slow-consumer timeout.
    pub async fn wait_for(&self, backlogged: Backlogged) {
        for flow in backlogged {
            let deadline = tokio::time::Instant::now() + self.slow_timeout;
            loop {
                let drained = flow.drained.notified();
                if flow.pending.load(Ordering::Acquire) <= self.high_water {
                    break;
                }
                if tokio::time::timeout_at(deadline, drained).await.is_err() {
                    self.kill(&flow);
                    break;
                }
            }
        }
    }

    /// Milliseconds until `at`, for the timer task.
    pub fn until(&self, at: Millis) -> Duration {
        Duration::from_millis(at.saturating_sub(self.now()))
    }
}

impl Flow {
    /// Records `n` bytes written.
    pub fn written(&self, n: usize, high_water: usize) {
        let before = self.pending.fetch_sub(n, Ordering::AcqRel);
        if before > high_water && before - n <= high_water {
            self.drained.notify_waiters();
        }
    }
}
