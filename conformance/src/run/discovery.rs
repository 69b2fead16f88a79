//! Discovery: what a target supports, asked before any case runs. In 5.0 its CONNACK
//! properties say; in 3.1.1 one SUBSCRIBE probes the maximum QoS and wildcards.

use std::sync::Arc;

use touchstone_codec::{Protocol, QoS};

use crate::harness::capability::Capabilities;
use crate::harness::context::{CaseShared, RunContext};
use crate::harness::test::Test;
use crate::harness::verdict::CaseError;

/// The target did not answer the discovery exchange as a broker must.
#[derive(Debug, Clone, thiserror::Error)]
#[error("could not discover the capabilities of the target for MQTT {protocol}: {why}")]
pub struct DiscoveryError {
    /// The version whose discovery failed.
    pub protocol: Protocol,
    /// What went wrong, in words.
    pub why: String,
}

/// Client-id index of the capability probes (`zzz` in base 36).
pub(crate) const PROBE_INDEX: usize = 36 * 36 * 36 - 1;

/// Discovers what the target supports for `protocol`: the CONNACK properties in 5.0; in
/// 3.1.1, one SUBSCRIBE asking QoS 2 on a plain filter and QoS 0 on a wildcard filter.
pub async fn discover(
    run: Arc<RunContext>,
    protocol: Protocol,
) -> Result<Capabilities, DiscoveryError> {
    let shared = Arc::new(CaseShared::new(run.clone(), protocol, "probe", PROBE_INDEX));
    let t = Test::new(shared.clone(), Arc::new(Capabilities::defaults(protocol)));
    let mut caps = Capabilities::defaults(protocol);
    caps.authentication = run.auth_listener.is_some() && run.credentials.username.is_some();
    if run.auth_listener.is_some() {
        caps.sources
            .insert("authentication".into(), "--auth-target".into());
    }
    let result = async {
        let mut c = t.client("probe").connect().await?;
        if protocol.is_v5() {
            let p = c
                .connack()
                .map(|a| a.properties.clone().into_inner())
                .unwrap_or_default();
            let mut from_connack = |field: &str, present: bool| {
                if present {
                    caps.sources.insert(field.into(), "CONNACK".into());
                }
            };
            from_connack("max_qos", p.maximum_qos.is_some());
            from_connack("retain", p.retain_available.is_some());
            from_connack("wildcards", p.wildcard_subscription_available.is_some());
            from_connack(
                "shared_subscriptions",
                p.shared_subscription_available.is_some(),
            );
            from_connack(
                "subscription_identifiers",
                p.subscription_identifiers_available.is_some(),
            );
            from_connack("topic_alias_maximum", p.topic_alias_maximum.is_some());
            from_connack("receive_maximum", p.receive_maximum.is_some());
            if let Some(q) = p.maximum_qos {
                caps.max_qos = q.as_u8();
            }
            if let Some(v) = p.retain_available {
                caps.retain = v;
            }
            if let Some(v) = p.wildcard_subscription_available {
                caps.wildcards = v;
            }
            if let Some(v) = p.shared_subscription_available {
                caps.shared_subscriptions = v;
            }
            if let Some(v) = p.subscription_identifiers_available {
                caps.subscription_identifiers = v;
            }
            if let Some(v) = p.topic_alias_maximum {
                caps.topic_alias_maximum = v;
            }
            if let Some(v) = p.receive_maximum {
                caps.receive_maximum = v;
            }
            caps.maximum_packet_size = p.maximum_packet_size;
            caps.server_keep_alive = p.server_keep_alive;
        } else {
            let plain = t.topic("q2");
            let wild = t.topic("+");
            let ack = c
                .subscribe(&plain, QoS::ExactlyOnce)
                .also(&wild, QoS::AtMostOnce)
                .suback()
                .await?;
            if let Some(code) = ack.reason_codes.first() {
                if code.is_success() {
                    caps.max_qos = code.0;
                    caps.sources.insert("max_qos".into(), "probe".into());
                }
            }
            if let Some(code) = ack.reason_codes.get(1) {
                caps.wildcards = code.is_success();
                caps.sources.insert("wildcards".into(), "probe".into());
            }
        }
        c.disconnect().await?;
        Ok::<(), CaseError>(())
    }
    .await;
    match result {
        Ok(()) => Ok(caps),
        Err(e) => {
            let why = match e {
                CaseError::Fail(f) => format!("expected {}, got {}", f.expected, f.got),
                CaseError::Skip(s) | CaseError::Error(s) => s,
            };
            Err(DiscoveryError { protocol, why })
        }
    }
}
