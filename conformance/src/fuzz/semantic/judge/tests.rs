//! Tests of the parent module.

use super::*;
use touchstone_codec::Protocol;

#[test]
fn added_user_properties_are_allowed_mqtt_3_3_2_17_mqtt_3_3_2_18() {
    let v = |x: &[&str]| x.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let want = v(&["user k=1", "user a=2", "content-type t"]);
    assert!(added_user_properties_only(
        &want,
        &v(&[
            "user s=0",
            "user k=1",
            "user a=2",
            "user s=1",
            "content-type t"
        ])
    ));
    // Reordered, missing, altered, or another property changed: not allowed.
    for got in [
        v(&["user a=2", "user k=1", "content-type t"]),
        v(&["user k=1", "content-type t"]),
        v(&["user k=1", "user a=3", "content-type t"]),
        v(&["user k=1", "user a=2", "user s=1"]),
    ] {
        assert!(!added_user_properties_only(&want, &got), "{got:?}");
    }
}

fn publish(client: u8, topic: u8, qos: u8) -> Op {
    Op::Publish {
        client,
        topic,
        qos,
        retain: false,
        properties: false,
    }
}

fn subscribe(client: u8, filter: u8, qos: u8) -> Op {
    Op::Subscribe {
        client,
        filter,
        qos,
        no_local: false,
        retain_as_published: false,
        retain_handling: 0,
        id: None,
    }
}

fn delivery(tag: usize, topic: &str, qos: u8, dup: bool, step: usize) -> Delivery {
    Delivery {
        tag,
        topic: topic.into(),
        qos,
        retain: false,
        dup,
        step,
        properties: vec![],
        subscription_ids: vec![],
    }
}

/// c1 connected and subscribed (`filters`, QoS 2) at step 1; c0 publishes from step 2 on.
struct Case {
    ops: Vec<Op>,
    snapshots: Vec<Snapshot>,
}

fn case(filters: &[u8], publishes: Vec<Op>) -> Case {
    let mut ops = vec![Op::Connect {
        client: 1,
        clean: true,
        keep_session: false,
        will: None,
    }];
    ops.extend(filters.iter().map(|f| subscribe(1, *f, 2)));
    ops.extend(publishes);
    let subs: BTreeMap<u8, Sub> = filters
        .iter()
        .map(|f| {
            (
                *f,
                Sub {
                    qos: 2,
                    no_local: false,
                },
            )
        })
        .collect();
    let snap: Snapshot = vec![BTreeMap::new(), subs, BTreeMap::new()];
    Case {
        snapshots: vec![snap; ops.len()],
        ops,
    }
}

fn verdict(c: &Case, model: Vec<Delivery>, target: Vec<Delivery>) -> Option<Divergence> {
    let empty = BTreeSet::new();
    let (o, d, u) = (BTreeSet::new(), BTreeSet::new(), BTreeSet::new());
    let facts = Facts {
        v5: false,
        ops: &c.ops,
        snapshots: &c.snapshots,
        optional: &empty,
        offline_qos0: &o,
        downgraded: &d,
        unsubscribed: &u,
        uncertain_retained: &BTreeMap::new(),
    };
    let clients = |ds: Vec<Delivery>| {
        let mut v: Vec<Client> = (0..3).map(|_| Client::new(Protocol::V3_1_1)).collect();
        v[1].deliveries = ds;
        v
    };
    judge(&facts, &clients(model), &clients(target)).0
}

fn cites(d: &Option<Divergence>) -> Vec<String> {
    d.iter()
        .flat_map(|d| d.statements.iter().map(|s| s.to_string()))
        .collect()
}

#[test]
fn mqtt_4_6_0_6_messages_of_one_publisher_and_topic_out_of_order_diverge() {
    // Filter 1 is `a/b`, topic 1 is `a/b`: steps 2 and 3 publish at QoS 1.
    let c = case(&[1], vec![publish(0, 1, 1), publish(0, 1, 1)]);
    let model = vec![
        delivery(2, "a/b", 1, false, 2),
        delivery(3, "a/b", 1, false, 3),
    ];
    let swapped = vec![
        delivery(3, "a/b", 1, false, 3),
        delivery(2, "a/b", 1, false, 3),
    ];
    assert_eq!(
        cites(&verdict(&c, model.clone(), swapped)),
        ["3.1.1 MQTT-4.6.0-6"]
    );
    assert_eq!(verdict(&c, model.clone(), model), None);
}

#[test]
fn mqtt_4_3_3_1_a_qos_2_message_delivered_twice_as_new_diverges_but_a_dup_resend_does_not() {
    let c = case(&[1], vec![publish(0, 1, 2)]);
    let model = vec![delivery(2, "a/b", 2, false, 2)];
    let twice = vec![
        delivery(2, "a/b", 2, false, 2),
        delivery(2, "a/b", 2, false, 2),
    ];
    assert_eq!(
        cites(&verdict(&c, model.clone(), twice)),
        ["3.1.1 MQTT-4.3.3-1"]
    );
    let resent = vec![
        delivery(2, "a/b", 2, false, 2),
        delivery(2, "a/b", 2, true, 3),
    ];
    assert_eq!(verdict(&c, model, resent), None);
}

#[test]
fn overlapping_subscriptions_may_each_get_a_copy_at_the_highest_qos() {
    // Filters `a/b` and `a/#` both match `a/b`: two copies are allowed, not three.
    let c = case(&[1, 3], vec![publish(0, 1, 2)]);
    let model = vec![delivery(3, "a/b", 2, false, 3)];
    let two = vec![
        delivery(3, "a/b", 2, false, 3),
        delivery(3, "a/b", 2, false, 3),
    ];
    assert_eq!(verdict(&c, model.clone(), two.clone()), None);
    let mut three = two;
    three.push(delivery(3, "a/b", 2, false, 3));
    assert_eq!(
        cites(&verdict(&c, model.clone(), three)),
        ["3.1.1 MQTT-4.3.3-1"]
    );
    // MQTT-3.3.5-1: the highest QoS among the copies is the highest granted.
    let low = vec![
        delivery(3, "a/b", 1, false, 3),
        delivery(3, "a/b", 1, false, 3),
    ];
    assert_eq!(
        cites(&verdict(&c, model, low)),
        ["3.1.1 MQTT-3.8.4-6", "3.1.1 MQTT-3.3.5-1"]
    );
}

#[test]
fn mqtt_3_3_1_2_and_qos_0_freedoms() {
    let c = case(&[1], vec![publish(0, 1, 0)]);
    let model = vec![delivery(2, "a/b", 0, false, 2)];
    // At most once: a lost QoS 0 message is allowed.
    assert_eq!(verdict(&c, model.clone(), vec![]), None);
    // DUP is never 1 at QoS 0.
    let dup = vec![delivery(2, "a/b", 0, true, 2)];
    assert_eq!(cites(&verdict(&c, model, dup)), ["3.1.1 MQTT-3.3.1-2"]);
}

#[test]
fn mqtt_4_5_0_1_a_missing_qos_1_message_and_mqtt_3_3_2_3_a_stray_one_diverge() {
    let c = case(&[1], vec![publish(0, 1, 1), publish(0, 3, 1)]);
    let model = vec![delivery(2, "a/b", 1, false, 2)];
    assert_eq!(
        cites(&verdict(&c, model.clone(), vec![])),
        ["3.1.1 MQTT-4.5.0-1", "3.1.1 MQTT-3.1.2-5"]
    );
    // Topic 3 (`b`) matches no subscription of c1.
    let stray = vec![
        delivery(2, "a/b", 1, false, 2),
        delivery(3, "b", 1, false, 3),
    ];
    assert_eq!(cites(&verdict(&c, model, stray)), ["3.1.1 MQTT-3.3.2-3"]);
}

#[test]
fn a_shared_qos_2_message_reaches_one_member_only() {
    let mut c = case(&[SHARED], vec![publish(0, 5, 2)]);
    c.ops.insert(
        0,
        Op::Connect {
            client: 2,
            clean: true,
            keep_session: false,
            will: None,
        },
    );
    for s in &mut c.snapshots {
        s[2] = s[1].clone();
    }
    c.snapshots.push(c.snapshots[0].clone());
    let tag = c.ops.len() - 1;
    let one = delivery(tag, "s/1", 2, false, tag);
    let empty = BTreeSet::new();
    let (o, d, u) = (BTreeSet::new(), BTreeSet::new(), BTreeSet::new());
    let facts = Facts {
        v5: true,
        ops: &c.ops,
        snapshots: &c.snapshots,
        optional: &empty,
        offline_qos0: &o,
        downgraded: &d,
        unsubscribed: &u,
        uncertain_retained: &BTreeMap::new(),
    };
    let mut model: Vec<Client> = (0..3).map(|_| Client::new(Protocol::V5)).collect();
    model[1].deliveries = vec![one.clone()];
    // Another member than the model's is the server's choice.
    let mut other: Vec<Client> = (0..3).map(|_| Client::new(Protocol::V5)).collect();
    other[2].deliveries = vec![one.clone()];
    assert_eq!(judge(&facts, &model, &other).0, None);
    let mut both: Vec<Client> = (0..3).map(|_| Client::new(Protocol::V5)).collect();
    both[1].deliveries = vec![one.clone()];
    both[2].deliveries = vec![one];
    assert_eq!(
        cites(&judge(&facts, &model, &both).0),
        ["5.0 MQTT-4.3.3-2", "5.0 MQTT-4.8.2-3"]
    );
}

/// 3.1.1 [MQTT-3.3.1-6]: after a take-over whose retained Will the server may or may not
/// publish, the retained message of its topic may be the old one or the Will; an old one
/// sent for a new subscription is no divergence then, and is one otherwise.
#[test]
fn mqtt_3_3_1_6_retained_message_uncertain_after_a_take_over_will() {
    let connect = |client, will| Op::Connect {
        client,
        clean: true,
        keep_session: false,
        will,
    };
    let ops = vec![
        connect(0, None),
        Op::Publish {
            client: 0,
            topic: 0,
            qos: 2,
            retain: true,
            properties: false,
        },
        connect(2, Some((0, 1, true))),
        connect(2, None),
        connect(1, None),
        subscribe(1, 0, 2),
    ];
    let mut snap: Snapshot = vec![BTreeMap::new(); 3];
    let mut snapshots = vec![snap.clone(); 5];
    snap[1].insert(
        0,
        Sub {
            qos: 2,
            no_local: false,
        },
    );
    snapshots.push(snap);
    let retained = |tag, qos| Delivery {
        retain: true,
        ..delivery(tag, "a", qos, false, 5)
    };
    let mut model: Vec<Client> = (0..3).map(|_| Client::new(Protocol::V3_1_1)).collect();
    model[1].deliveries = vec![retained(2, 1)];
    let mut target: Vec<Client> = (0..3).map(|_| Client::new(Protocol::V3_1_1)).collect();
    target[1].deliveries = vec![retained(1, 2)];
    let optional = BTreeSet::from([2]);
    let (o, d, u) = (BTreeSet::new(), BTreeSet::new(), BTreeSet::new());
    let uncertain = BTreeMap::from([("a", 3)]);
    let mut facts = Facts {
        v5: false,
        ops: &ops,
        snapshots: &snapshots,
        optional: &optional,
        offline_qos0: &o,
        downgraded: &d,
        unsubscribed: &u,
        uncertain_retained: &uncertain,
    };
    assert_eq!(judge(&facts, &model, &target).0, None);
    let certain = BTreeMap::new();
    facts.uncertain_retained = &certain;
    let d = judge(&facts, &model, &target).0;
    assert!(
        cites(&d).contains(&"3.1.1 MQTT-3.3.1-6".to_string()),
        "{d:?}"
    );
}
