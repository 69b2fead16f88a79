//! Stopping a run early: Ctrl-C, or a target that stopped answering. Cases not finished by then
//! are reported as not run.

use std::sync::{Arc, Mutex};

use tokio::sync::Notify;

/// Why a run stopped early.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StopReason {
    /// Interrupted (Ctrl-C, SIGTERM).
    Interrupted,
    /// The target stopped answering; why.
    TargetGone(String),
}

/// A handle that stops a run; clones share it.
#[derive(Debug, Clone, Default)]
pub struct Stop {
    inner: Arc<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    reason: Mutex<Option<StopReason>>,
    notify: Notify,
}

impl Stop {
    /// A handle that has not stopped.
    pub fn new() -> Self {
        Stop::default()
    }

    /// Stops the run (the first reason is kept).
    pub fn stop(&self, reason: StopReason) {
        let mut r = self.inner.reason.lock().unwrap_or_else(|e| e.into_inner());
        if r.is_none() {
            *r = Some(reason);
        }
        drop(r);
        self.inner.notify.notify_waiters();
    }

    /// Why the run stopped, if it did.
    pub fn reason(&self) -> Option<StopReason> {
        self.inner
            .reason
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Resolves once the run is stopped.
    pub async fn stopped(&self) {
        loop {
            let notified = self.inner.notify.notified();
            if self.reason().is_some() {
                return;
            }
            notified.await;
        }
    }
}
