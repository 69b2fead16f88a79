//! Configuring and opening a test client: CONNECT fields, credentials, the listener.

use std::collections::VecDeque;
use std::sync::Arc;

use bytes::Bytes;
use touchstone_codec::properties::{ConnectProperties, WillProperties};
use touchstone_codec::{Connect, Decoder, Packet, QoS, Str, Will};

use super::Client;
use crate::harness::context::CaseShared;
use crate::harness::verdict::CaseError;
use crate::net::reader::PacketReader;

/// A client being configured: `t.client("a").clean_start(false).keep_alive(2).connect()`.
#[derive(Clone)]
pub struct ClientBuilder {
    pub(super) shared: Arc<CaseShared>,
    pub(super) name: String,
    pub(super) connect: Connect,
    pub(super) credentials: bool,
    pub(super) auth_listener: bool,
}

impl std::fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("name", &self.name)
            .field("connect", &self.connect)
            .finish()
    }
}

impl ClientBuilder {
    pub(crate) fn new(shared: Arc<CaseShared>, name: &str) -> Self {
        let client_id = shared.client_id(name);
        ClientBuilder {
            shared,
            name: name.to_string(),
            connect: Connect {
                clean_start: true,
                keep_alive: 60,
                client_id: client_id.into(),
                ..Connect::default()
            },
            credentials: true,
            auth_listener: false,
        }
    }

    /// Uses `id` as the Client Identifier instead of the generated one.
    pub fn client_id(mut self, id: impl Into<Str>) -> Self {
        self.connect.client_id = id.into();
        self
    }

    /// Clean Session (3.1.1) / Clean Start (5.0); the default is true.
    pub fn clean_start(mut self, clean: bool) -> Self {
        self.connect.clean_start = clean;
        self
    }

    /// A session that outlives the connection: Clean Session / Clean Start 0 and, in 5.0, a
    /// Session Expiry Interval of 300 s. The run removes it after the case.
    pub fn persistent_session(mut self) -> Self {
        self.connect.clean_start = false;
        if self.shared.protocol.is_v5() {
            self.connect.properties.session_expiry_interval = Some(300);
        }
        self
    }

    /// Keep Alive in seconds; the default is 60.
    pub fn keep_alive(mut self, seconds: u16) -> Self {
        self.connect.keep_alive = seconds;
        self
    }

    /// A Will Message (QoS 0, not retained unless changed with [`ClientBuilder::will_qos`] and
    /// [`ClientBuilder::will_retain`]).
    pub fn will(mut self, topic: &str, payload: impl AsRef<[u8]>) -> Self {
        self.connect.will = Some(Will {
            topic: topic.into(),
            payload: Bytes::copy_from_slice(payload.as_ref()),
            ..Will::default()
        });
        self
    }

    /// The Will QoS (after [`ClientBuilder::will`]).
    pub fn will_qos(mut self, qos: QoS) -> Self {
        if let Some(w) = &mut self.connect.will {
            w.qos = qos;
        }
        self
    }

    /// Will Retain 1 (after [`ClientBuilder::will`]).
    pub fn will_retain(mut self) -> Self {
        if let Some(w) = &mut self.connect.will {
            w.retain = true;
        }
        self
    }

    /// Sets 5.0 Will Properties (after [`ClientBuilder::will`]).
    pub fn will_properties(mut self, f: impl FnOnce(&mut WillProperties)) -> Self {
        if let Some(w) = &mut self.connect.will {
            f(&mut w.properties);
        }
        self
    }

    /// Sets 5.0 CONNECT properties.
    pub fn properties(mut self, f: impl FnOnce(&mut ConnectProperties)) -> Self {
        f(&mut self.connect.properties);
        self
    }

    /// Uses this User Name instead of the run's.
    pub fn username(mut self, name: &str) -> Self {
        self.connect.username = Some(name.into());
        self.credentials = false;
        self
    }

    /// Uses this Password instead of the run's (with the run's User Name unless set).
    pub fn password(mut self, password: impl AsRef<[u8]>) -> Self {
        if self.credentials {
            self.connect.username = self
                .shared
                .run
                .credentials
                .username
                .as_deref()
                .map(Str::from);
        }
        self.connect.password = Some(Bytes::copy_from_slice(password.as_ref()));
        self.credentials = false;
        self
    }

    /// Sends no User Name or Password, whatever the run has.
    pub fn no_credentials(mut self) -> Self {
        self.connect.username = None;
        self.connect.password = None;
        self.credentials = false;
        self
    }

    /// Connects to the run's authentication listener instead of the target (the case must
    /// require [`crate::harness::capability::Capability::Authentication`]).
    pub fn auth_listener(mut self) -> Self {
        self.auth_listener = true;
        self
    }

    /// The CONNECT this builder sends.
    pub fn connect_packet(&self) -> Connect {
        let mut c = self.connect.clone();
        if self.credentials {
            let creds = &self.shared.run.credentials;
            c.username = creds.username.as_deref().map(Str::from);
            c.password = creds.password.clone();
        }
        c
    }

    /// Opens the network connection only (nothing is sent).
    pub async fn open(self) -> Result<Client, CaseError> {
        let run = &self.shared.run;
        let connector = if self.auth_listener {
            match &run.auth_listener {
                Some(a) => &a.connector,
                None => {
                    return Err(CaseError::Skip(
                        "the run has no authentication listener (--auth-target)".into(),
                    ))
                }
            }
        } else {
            &run.connector
        };
        let label = self.shared.connection_label(&self.name);
        let transcript = &self.shared.transcript;
        let transport = match connector.connect(run.timing.connect).await {
            Ok(t) => t,
            Err(e) => {
                transcript.event(&label, format!("cannot connect: {e}"));
                return Err(CaseError::Error(e.0));
            }
        };
        transcript.event(&label, format!("connected to {}", connector.target()));
        let protocol = self.shared.protocol;
        Ok(Client {
            shared: self.shared.clone(),
            builder: self,
            label,
            protocol,
            reader: PacketReader::new(Decoder::new(protocol)),
            transport,
            inbox: VecDeque::new(),
            closed: None,
            broken: None,
            server_disconnected: false,
            next_packet_id: 0,
            connack: None,
            skip_invalid_except: None,
        })
    }

    /// Opens the connection and sends CONNECT, without waiting for CONNACK.
    pub async fn send_connect(self) -> Result<Client, CaseError> {
        let packet = self.connect_packet();
        let keeps_session = !packet.clean_start
            && (!self.shared.protocol.is_v5()
                || packet.properties.session_expiry_interval.unwrap_or(0) > 0);
        if keeps_session {
            self.shared
                .session_kept(packet.client_id.as_str(), self.auth_listener);
        }
        if let Some(w) = &packet.will {
            if w.retain {
                self.shared.retained_set(w.topic.as_str(), true);
            }
        }
        let mut client = self.open().await?;
        client.send(Packet::Connect(Box::new(packet))).await?;
        Ok(client)
    }

    /// Connects: sends CONNECT and expects CONNACK with code 0 (3.1.1 MQTT-3.2.0-1 and
    /// MQTT-3.1.4-4; 5.0 MQTT-3.2.0-1 and MQTT-3.1.4-5: CONNACK is the first packet).
    pub async fn connect(self) -> Result<Client, CaseError> {
        let mut client = self.send_connect().await?;
        client.expect_connack_first().await?;
        Ok(client)
    }
}
