//! Interoperability with an independent client implementation: rumqttc, for 3.1.1 (`rumqttc`)
//! and 5.0 (`rumqttc::v5`): publish/subscribe at each QoS, retained messages, the Will and 5.0
//! properties.

use std::time::Duration;

use bytes::Bytes;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use touchstone_broker::server::{RunningServer, Server, ServerConfig};

const WAIT: Duration = Duration::from_secs(5);

async fn start() -> (RunningServer, u16) {
    let server = Server::start(ServerConfig::default()).await.unwrap();
    let port = server.tcp_addr().unwrap().port();
    (server, port)
}

/// Waits for the first item `f` accepts, skipping others.
async fn expect<T: std::fmt::Debug, R>(
    rx: &mut mpsc::UnboundedReceiver<T>,
    mut f: impl FnMut(&T) -> Option<R>,
) -> R {
    tokio::time::timeout(WAIT, async {
        loop {
            let item = rx.recv().await.expect("event loop ended");
            if let Some(r) = f(&item) {
                return r;
            }
        }
    })
    .await
    .expect("timed out")
}

mod v311 {
    use super::*;
    use rumqttc::{AsyncClient, Event, LastWill, MqttOptions, Packet, QoS};

    async fn client(
        port: u16,
        id: &str,
        will: Option<LastWill>,
    ) -> (AsyncClient, mpsc::UnboundedReceiver<Packet>, JoinHandle<()>) {
        let mut opts = MqttOptions::new(id, "127.0.0.1", port);
        opts.set_keep_alive(Duration::from_secs(5));
        if let Some(w) = will {
            opts.set_last_will(w);
        }
        let (client, mut el) = AsyncClient::new(opts, 32);
        let (tx, mut rx) = mpsc::unbounded_channel();
        let task = tokio::spawn(async move {
            while let Ok(ev) = el.poll().await {
                if let Event::Incoming(p) = ev {
                    if tx.send(p).is_err() {
                        break;
                    }
                }
            }
        });
        expect(&mut rx, |p| matches!(p, Packet::ConnAck(_)).then_some(())).await;
        (client, rx, task)
    }

    async fn subscribed(
        c: &AsyncClient,
        rx: &mut mpsc::UnboundedReceiver<Packet>,
        filter: &str,
        qos: QoS,
    ) {
        c.subscribe(filter, qos).await.unwrap();
        expect(rx, |p| matches!(p, Packet::SubAck(_)).then_some(())).await;
    }

    fn publish(p: &Packet) -> Option<rumqttc::Publish> {
        match p {
            Packet::Publish(p) => Some(p.clone()),
            _ => None,
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn publish_subscribe_each_qos() {
        let (server, port) = start().await;
        let (sub, mut srx, _t1) = client(port, "rs-sub", None).await;
        subscribed(&sub, &mut srx, "i/#", QoS::ExactlyOnce).await;
        let (publ, _prx, _t2) = client(port, "rs-pub", None).await;
        for (i, qos) in [QoS::AtMostOnce, QoS::AtLeastOnce, QoS::ExactlyOnce]
            .into_iter()
            .enumerate()
        {
            publ.publish(format!("i/{i}"), qos, false, format!("m{i}"))
                .await
                .unwrap();
            let got = expect(&mut srx, publish).await;
            assert_eq!(
                (got.topic.as_str(), &got.payload[..], got.qos),
                (format!("i/{i}").as_str(), format!("m{i}").as_bytes(), qos)
            );
        }
        server.shutdown().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn retained_and_will() {
        let (server, port) = start().await;
        let (publ, _prx, _t) = client(port, "rs-retain", None).await;
        publ.publish("ret/a", QoS::AtLeastOnce, true, "kept")
            .await
            .unwrap();
        let (watch, mut wrx, _t2) = client(port, "rs-watch", None).await;
        subscribed(&watch, &mut wrx, "will/#", QoS::AtLeastOnce).await;
        // Retained: wait until the store has it, then a new subscriber gets it with RETAIN 1.
        tokio::time::timeout(WAIT, async {
            while server.stats().retained == 0 {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
        .await
        .unwrap();
        let (late, mut lrx, _t3) = client(port, "rs-late", None).await;
        late.subscribe("ret/+", QoS::AtLeastOnce).await.unwrap();
        let got = expect(&mut lrx, publish).await;
        assert!(got.retain);
        assert_eq!(&got.payload[..], b"kept");
        // The Will, when the client's connection drops.
        let will = LastWill::new("will/rs", "bye", QoS::AtLeastOnce, false);
        let (_dying, _drx, task) = client(port, "rs-dying", Some(will)).await;
        task.abort();
        let got = expect(&mut wrx, publish).await;
        assert_eq!(
            (got.topic.as_str(), &got.payload[..]),
            ("will/rs", &b"bye"[..])
        );
        server.shutdown().await;
    }
}

mod v5 {
    use super::*;
    use rumqttc::v5::mqttbytes::v5::{
        LastWill, LastWillProperties, Packet, Publish, PublishProperties,
    };
    use rumqttc::v5::mqttbytes::QoS;
    use rumqttc::v5::{AsyncClient, Event, MqttOptions};

    async fn client(
        port: u16,
        id: &str,
        will: Option<LastWill>,
    ) -> (AsyncClient, mpsc::UnboundedReceiver<Packet>, JoinHandle<()>) {
        let mut opts = MqttOptions::new(id, "127.0.0.1", port);
        opts.set_keep_alive(Duration::from_secs(5));
        if let Some(w) = will {
            opts.set_last_will(w);
        }
        let (client, mut el) = AsyncClient::new(opts, 32);
        let (tx, mut rx) = mpsc::unbounded_channel();
        let task = tokio::spawn(async move {
            while let Ok(ev) = el.poll().await {
                if let Event::Incoming(p) = ev {
                    if tx.send(p).is_err() {
                        break;
                    }
                }
            }
        });
        expect(&mut rx, |p| matches!(p, Packet::ConnAck(_)).then_some(())).await;
        (client, rx, task)
    }

    async fn subscribed(
        c: &AsyncClient,
        rx: &mut mpsc::UnboundedReceiver<Packet>,
        filter: &str,
        qos: QoS,
    ) {
        c.subscribe(filter, qos).await.unwrap();
        expect(rx, |p| matches!(p, Packet::SubAck(_)).then_some(())).await;
    }

    fn publish(p: &Packet) -> Option<Publish> {
        match p {
            Packet::Publish(p) => Some(p.clone()),
            _ => None,
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn publish_subscribe_each_qos_with_properties() {
        let (server, port) = start().await;
        let (sub, mut srx, _t1) = client(port, "rs5-sub", None).await;
        subscribed(&sub, &mut srx, "p/#", QoS::ExactlyOnce).await;
        let (publ, _prx, _t2) = client(port, "rs5-pub", None).await;
        for (i, qos) in [QoS::AtMostOnce, QoS::AtLeastOnce, QoS::ExactlyOnce]
            .into_iter()
            .enumerate()
        {
            let props = PublishProperties {
                payload_format_indicator: Some(1),
                message_expiry_interval: Some(3600),
                response_topic: Some("reply/here".into()),
                correlation_data: Some(Bytes::from_static(b"\x00\x01")),
                user_properties: vec![
                    ("z".into(), "1".into()),
                    ("a".into(), "2".into()),
                    ("z".into(), "3".into()),
                ],
                content_type: Some("text/plain".into()),
                ..Default::default()
            };
            publ.publish_with_properties(
                format!("p/{i}"),
                qos,
                false,
                format!("m{i}"),
                props.clone(),
            )
            .await
            .unwrap();
            let got = expect(&mut srx, publish).await;
            assert_eq!(
                (&got.topic[..], &got.payload[..], got.qos),
                (format!("p/{i}").as_bytes(), format!("m{i}").as_bytes(), qos)
            );
            let gp = got.properties.expect("properties forwarded");
            assert_eq!(gp.user_properties, props.user_properties);
            assert_eq!(gp.response_topic, props.response_topic);
            assert_eq!(gp.correlation_data, props.correlation_data);
            assert_eq!(gp.content_type, props.content_type);
            assert_eq!(gp.payload_format_indicator, Some(1));
            assert!(gp
                .message_expiry_interval
                .is_some_and(|e| (3590..=3600).contains(&e)));
        }
        server.shutdown().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn retained_and_will_with_properties() {
        let (server, port) = start().await;
        let (publ, _prx, _t) = client(port, "rs5-retain", None).await;
        publ.publish("ret5/a", QoS::AtLeastOnce, true, "kept")
            .await
            .unwrap();
        let (watch, mut wrx, _t2) = client(port, "rs5-watch", None).await;
        subscribed(&watch, &mut wrx, "will5/#", QoS::AtLeastOnce).await;
        tokio::time::timeout(WAIT, async {
            while server.stats().retained == 0 {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
        .await
        .unwrap();
        let (late, mut lrx, _t3) = client(port, "rs5-late", None).await;
        late.subscribe("ret5/+", QoS::AtLeastOnce).await.unwrap();
        let got = expect(&mut lrx, publish).await;
        assert!(got.retain);
        assert_eq!(&got.payload[..], b"kept");

        let will_props = LastWillProperties {
            delay_interval: None,
            payload_format_indicator: None,
            message_expiry_interval: None,
            content_type: Some("text/plain".into()),
            response_topic: None,
            correlation_data: None,
            user_properties: vec![("why".into(), "test".into())],
        };
        let will = LastWill::new("will5/rs", "bye", QoS::AtLeastOnce, false, Some(will_props));
        let (_dying, _drx, task) = client(port, "rs5-dying", Some(will)).await;
        task.abort();
        let got = expect(&mut wrx, publish).await;
        assert_eq!(
            (&got.topic[..], &got.payload[..]),
            (&b"will5/rs"[..], &b"bye"[..])
        );
        let p = got.properties.unwrap();
        assert_eq!(
            p.user_properties,
            vec![("why".to_string(), "test".to_string())]
        );
        assert_eq!(p.content_type.as_deref(), Some("text/plain"));
        server.shutdown().await;
    }
}
