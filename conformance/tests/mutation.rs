//! The mutation score end to end: mutants of the reference broker killed by the catalogue,
//! an argued one counted equivalent, and the strengthened cases killing what used to survive.

use touchstone_codec::Protocol;
use touchstone_conformance::mutate::equivalent::Equivalents;
use touchstone_conformance::mutate::score::{self, Fate, Options};
use touchstone_conformance::run::runner::{Quiet, Stop};

fn options(protocol: Protocol, patterns: &[&str], equivalents: &str) -> Options {
    Options {
        protocols: vec![protocol],
        patterns: patterns.iter().map(|s| s.to_string()).collect(),
        sample: None,
        seed: 1,
        jobs: 8,
        equivalents: Equivalents::parse(equivalents).expect("equivalents"),
        skip_equivalent: false,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mutants_are_killed_and_argued_ones_count_as_equivalent() {
    let o = options(
        Protocol::V3_1_1,
        &[
            "drop:PUBACK:to-client",
            "delay:PINGRESP:to-client",
            // Used to survive: the broker never got the subscriber's PUBACK and re-sent the
            // message on the next reconnect, which no case looked at.
            "drop:PUBACK:to-server",
            "drop:PUBCOMP:to-server",
            // Used to survive: a SUBACK granting less, or refusing, while the broker delivered
            // as before (qos.granted-qos-binds-deliveries kills both).
            "qos-down:SUBACK:to-client",
            "reason-flip:SUBACK:to-client",
            // Used to survive: a 3.1.1 server going on after a DISCONNECT it may not send.
            "inject-disconnect:PINGRESP:to-client",
            // Used to survive: the CONNECT overtaken by the SUBSCRIBE pipelined behind it
            // (connect.packets-before-connack-processed kills it).
            "reorder:CONNECT:to-server",
            // Used to be killed, wrongly: 250 ms per delivery made the topic matrix report
            // deliveries missing (a verdict that depended on timing).
            "delay:PUBLISH:to-client",
        ],
        "[[equivalent]]\nmutant = \"delay:*:*\"\nargument = \"no latency is fixed by either version\"\n",
    );
    let scores = score::run(&o, &Quiet, &Stop::new())
        .await
        .expect("mutation run");
    assert_eq!(scores.len(), 1);
    let s = &scores[0];
    assert!(s.baseline_trouble.is_empty(), "{:?}", s.baseline_trouble);
    let fate = |id: &str| {
        s.results
            .iter()
            .find(|r| r.mutant.id() == id)
            .map(|r| r.fate.clone())
            .unwrap_or_else(|| panic!("{id} not run"))
    };
    for id in [
        "drop:PUBACK:to-client",
        "drop:PUBACK:to-server",
        "drop:PUBCOMP:to-server",
        "qos-down:SUBACK:to-client",
        "reason-flip:SUBACK:to-client",
        "inject-disconnect:PINGRESP:to-client",
        "reorder:CONNECT:to-server",
    ] {
        assert!(
            matches!(fate(id), Fate::Killed { .. }),
            "{id}: {:?}",
            fate(id)
        );
    }
    for id in ["delay:PINGRESP:to-client", "delay:PUBLISH:to-client"] {
        assert!(
            matches!(fate(id), Fate::Equivalent { .. }),
            "{id}: {:?}",
            fate(id)
        );
    }
    assert_eq!(s.score(), Some(100.0));
}

fn touchstone(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_touchstone"))
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run touchstone")
}

#[test]
fn the_command_lists_mutants_and_refuses_bad_arguments_clearly() {
    let out = touchstone(&["mutate", "--list", "--protocol", "5", "--mutant", "drop"]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("MQTT 5: 22 mutants"), "{text}");
    assert!(text.contains("drop:PUBACK:to-client"));
    for (args, says) in [
        (&["mutate", "--mutant", "explode"][..], "matches no mutant"),
        (&["mutate", "--protocol", "4.0"][..], "--protocol"),
        (&["mutate", "--sample", "0"][..], "--sample 0"),
        (&["mutate", "--min-score", "150"][..], "percentage"),
        (
            &["mutate", "--equivalent", "/nonexistent/eq.toml"][..],
            "/nonexistent/eq.toml",
        ),
    ] {
        let out = touchstone(args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(says), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mutants_that_survived_in_5_0_are_killed() {
    let ids = [
        // A CONNACK announcing no Receive Maximum while 256 is enforced: the flow-control
        // case now fills what was announced first.
        "prop-remove:CONNACK:to-client",
        "prop-alter:CONNACK:to-client",
        // A User Property on the server's PUBREL or AUTH despite Request Problem Information 0.
        "prop-add-user:PUBREL:to-client",
        "prop-add-user:AUTH:to-client",
        // AUTH from the client: no case met it before the baseline stated SCRAM.
        "flip-flag-0:AUTH:to-server",
    ];
    let o = options(Protocol::V5, &ids, "");
    let scores = score::run(&o, &Quiet, &Stop::new())
        .await
        .expect("mutation run");
    let s = &scores[0];
    assert!(s.baseline_trouble.is_empty(), "{:?}", s.baseline_trouble);
    for r in &s.results {
        assert!(
            matches!(r.fate, Fate::Killed { .. }),
            "{}: {:?}",
            r.mutant.id(),
            r.fate
        );
    }
    assert_eq!(s.results.len(), ids.len());
}
