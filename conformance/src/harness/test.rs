//! The [`Test`] handle a case body scripts with: clients, topics, timers, observations.

use std::sync::Arc;
use std::time::Duration;

use touchstone_codec::Protocol;

use crate::harness::capability::Capabilities;
use crate::harness::client::ClientBuilder;
use crate::harness::context::CaseShared;
use crate::harness::verdict::Shortfall;

/// The handle a case body scripts with.
pub struct Test {
    pub(crate) shared: Arc<CaseShared>,
    pub(crate) caps: Arc<Capabilities>,
}

impl Test {
    pub(crate) fn new(shared: Arc<CaseShared>, caps: Arc<Capabilities>) -> Self {
        Test { shared, caps }
    }

    /// A client named `name` (its client id is unique to this run and case; the same name gives
    /// the same client id, for reconnecting). Configure it, then `.connect().await?`.
    pub fn client(&self, name: &str) -> ClientBuilder {
        ClientBuilder::new(self.shared.clone(), name)
    }

    /// The protocol version this run of the case uses.
    pub fn protocol(&self) -> Protocol {
        self.shared.protocol
    }

    /// True when running for MQTT 5.0.
    pub fn is_v5(&self) -> bool {
        self.shared.protocol.is_v5()
    }

    /// A topic unique to this run and case: the prefix, then `/<suffix>`.
    pub fn topic(&self, suffix: &str) -> String {
        format!("{}/{suffix}", self.shared.prefix())
    }

    /// A ShareName for this case's shared subscriptions, unique to the case and the run (a
    /// broker that keys groups by ShareName alone would otherwise mix concurrent cases).
    pub fn share_name(&self) -> String {
        self.shared.client_id("share-group")
    }

    /// The prefix of every topic of this case (no trailing `/`).
    pub fn prefix(&self) -> String {
        self.shared.prefix()
    }

    /// Records which of the behaviours the specification allows the target showed (reported
    /// with the outcome).
    pub fn observe(&self, text: impl Into<String>) {
        self.shared.observe(text.into());
    }

    /// Records a SHOULD the target did not follow (`should` names where the text says it, for
    /// the version running): the case still passes its MUSTs, and its outcome is
    /// `should_fail`, shown apart and failing the run only with `--strict`.
    pub fn short_of(
        &self,
        should: impl Into<String>,
        expected: impl Into<String>,
        got: impl Into<String>,
    ) {
        self.shared.short_of(Shortfall {
            should: should.into(),
            expected: expected.into(),
            got: got.into(),
        });
    }

    /// How long "nothing arrives" is watched for.
    pub fn quiet(&self) -> Duration {
        self.shared.run.timing.quiet
    }

    /// How long an expected packet is waited for by default.
    pub fn timeout(&self) -> Duration {
        self.shared.run.timing.expect
    }

    /// Extra time allowed on timers the specification sets (from the profile).
    pub fn slack(&self) -> Duration {
        self.shared.run.timing.timer_slack
    }

    /// What the target supports.
    pub fn capabilities(&self) -> &Capabilities {
        &self.caps
    }

    /// Waits for `d`.
    pub async fn sleep(&self, d: Duration) {
        tokio::time::sleep(d).await;
    }
}
