//! `touchstone decode` and `touchstone encode`, run as a process.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use serde_json::{json, Value};

/// Runs `touchstone args...`, with `stdin` on standard input if given.
fn touchstone(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_touchstone"));
    cmd.args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn touchstone");
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(input)
            .expect("write stdin");
    }
    let out = child.wait_with_output().expect("wait for touchstone");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stderr.contains("panicked"),
        "touchstone panicked: {stderr}"
    );
    out
}

fn code(out: &Output) -> i32 {
    out.status.code().expect("exit code")
}

fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).expect("UTF-8 stdout")
}

fn stderr(out: &Output) -> String {
    String::from_utf8(out.stderr.clone()).expect("UTF-8 stderr")
}

/// The JSON objects printed, one per line.
fn lines(out: &Output) -> Vec<Value> {
    stdout(out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

/// 3.1.1 CONNECT: clean session, keep alive 60, client id "c1", user name "u", password "pw".
const CONNECT_311: &str = "1015 0004 4d515454 04 c2 003c 0002 6331 0001 75 0002 7077";
/// PINGREQ.
const PINGREQ: &str = "c000";
/// PUBREL with fixed-header flags 0000 instead of 0010.
const BAD_PUBREL: &str = "6002 0001";

#[test]
fn decodes_a_311_connect() {
    let out = touchstone(&["decode", "--protocol", "3.1.1", CONNECT_311], None);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let packets = lines(&out);
    assert_eq!(packets.len(), 1);
    assert_eq!(
        packets[0],
        json!({
            "type": "CONNECT",
            "clean_start": true,
            "keep_alive": 60,
            "client_id": "c1",
            "username": "u",
            "password": "7077",
        })
    );
}

#[test]
fn concatenated_packets_give_one_line_each() {
    let hex = format!("{CONNECT_311}{PINGREQ}");
    let out = touchstone(&["decode", "-p", "3.1.1", &hex], None);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let packets = lines(&out);
    assert_eq!(packets.len(), 2);
    assert_eq!(packets[0]["type"], "CONNECT");
    assert_eq!(packets[1], json!({"type": "PINGREQ"}));
}

#[test]
fn whitespace_and_prefix_are_ignored() {
    let out = touchstone(&["decode", "-p", "5", "0xc0\n 00\t\r\nd0 00\n"], None);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(
        lines(&out),
        vec![json!({"type": "PINGREQ"}), json!({"type": "PINGRESP"})]
    );
}

#[test]
fn several_arguments_are_concatenated() {
    let out = touchstone(&["decode", "-p", "5", "c0", "00", "0xd000"], None);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(lines(&out).len(), 2);
}

#[test]
fn reads_standard_input() {
    let input = format!("{CONNECT_311}\n{PINGREQ}\n");
    for args in [
        &["decode", "-p", "3.1.1"][..],
        &["decode", "-p", "3.1.1", "-"][..],
    ] {
        let out = touchstone(args, Some(input.as_bytes()));
        assert_eq!(code(&out), 0, "{}", stderr(&out));
        let packets = lines(&out);
        assert_eq!(packets.len(), 2);
        assert_eq!(packets[0]["client_id"], "c1");
    }
}

#[test]
fn reads_raw_bytes_with_binary() {
    let out = touchstone(
        &["decode", "-p", "5", "--binary"],
        Some(&[0xC0, 0x00, 0xD0, 0x00]),
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(lines(&out).len(), 2);
}

#[test]
fn empty_input_is_no_packets() {
    let out = touchstone(&["decode", "-p", "5"], Some(b" \n\n"));
    assert_eq!(code(&out), 0);
    assert_eq!(stdout(&out), "");
}

#[test]
fn malformed_packet_after_a_valid_one_311() {
    let hex = format!("{CONNECT_311} {BAD_PUBREL}");
    let out = touchstone(&["decode", "-p", "3.1.1", &hex], None);
    assert_eq!(code(&out), 1);
    let printed = lines(&out);
    assert_eq!(printed.len(), 2);
    assert_eq!(printed[0]["type"], "CONNECT");
    let error = &printed[1]["error"];
    assert_eq!(error["kind"], "malformed");
    assert_eq!(error["reason_code"], 129);
    // The CONNECT takes 23 bytes: the PUBREL's first byte is byte 23 of the input.
    assert_eq!(error["offset"], 23);
    assert_eq!(error["packet_offset"], 23);
    let ids: Vec<(&str, &str)> = error["statements"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["version"].as_str().unwrap(), s["id"].as_str().unwrap()))
        .collect();
    assert!(ids.contains(&("3.1.1", "MQTT-2.2.2-1")), "{ids:?}");
    assert!(ids.contains(&("3.1.1", "MQTT-2.2.2-2")), "{ids:?}");
    assert!(ids.iter().all(|(v, _)| *v == "3.1.1"), "{ids:?}");
    assert!(error["message"].as_str().unwrap().contains("PUBREL"));
}

#[test]
fn malformed_packet_cites_50_statements_for_v5() {
    let hex = format!("{PINGREQ}{BAD_PUBREL}");
    let out = touchstone(&["decode", "-p", "5", &hex], None);
    assert_eq!(code(&out), 1);
    let printed = lines(&out);
    let error = &printed.last().unwrap()["error"];
    assert_eq!(error["kind"], "malformed");
    assert_eq!(error["offset"], 2);
    assert!(error["statements"]
        .as_array()
        .unwrap()
        .contains(&json!({"version": "5.0", "id": "MQTT-2.1.3-1"})));
}

#[test]
fn incomplete_input() {
    // A PINGREQ, then a PUBLISH declaring 5 bytes of which 1 arrived.
    let out = touchstone(&["decode", "-p", "5", "c000 3005 00"], None);
    assert_eq!(code(&out), 1);
    let printed = lines(&out);
    assert_eq!(printed.len(), 2);
    let error = &printed[1]["error"];
    assert_eq!(error["kind"], "incomplete");
    assert_eq!(error["reason_code"], Value::Null);
    assert_eq!(error["offset"], 5);
    assert_eq!(error["packet_offset"], 2);

    // Cut inside the fixed header.
    let out = touchstone(&["decode", "-p", "5", "c000 30"], None);
    assert_eq!(code(&out), 1);
    assert_eq!(lines(&out)[1]["error"]["kind"], "incomplete");
}

#[test]
fn packet_too_large() {
    let out = touchstone(
        &[
            "decode",
            "-p",
            "5",
            "--max-packet-size",
            "4",
            "300300016100",
        ],
        None,
    );
    assert_eq!(code(&out), 1);
    let error = &lines(&out)[0]["error"];
    assert_eq!(error["kind"], "packet_too_large");
    assert_eq!(error["reason_code"], 149);
}

#[test]
fn bad_hex_is_a_usage_error() {
    let out = touchstone(&["decode", "-p", "5", "zz"], None);
    assert_eq!(code(&out), 2);
    assert_eq!(stdout(&out), "");
    let err = stderr(&out);
    assert!(err.contains("'z'"), "{err}");
    assert!(err.contains("position 1"), "{err}");

    let out = touchstone(&["decode", "-p", "5"], Some(b"c000\nd0 0x\n"));
    assert_eq!(code(&out), 2);
    let err = stderr(&out);
    assert!(err.contains("'x' at line 2, column 5"), "{err}");

    let out = touchstone(&["decode", "-p", "5", "c00"], None);
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains("odd number"), "{}", stderr(&out));
}

#[test]
fn unknown_protocol_is_a_usage_error() {
    let out = touchstone(&["decode", "--protocol", "6", "c000"], None);
    assert_eq!(code(&out), 2);
    let err = stderr(&out);
    assert!(err.contains("unknown MQTT protocol version"), "{err}");

    let out = touchstone(&["decode", "c000"], None);
    assert_eq!(code(&out), 2, "--protocol is required");
}

/// Encodes `packets` (JSON) for `protocol`, decodes the hex, and checks the packets come back.
fn round_trip(protocol: &str, packets: &[Value]) {
    let input: Vec<String> = packets.iter().map(Value::to_string).collect();
    let out = touchstone(
        &["encode", "-p", protocol],
        Some(input.join("\n").as_bytes()),
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let hex = stdout(&out);
    assert!(hex.ends_with('\n'));
    assert!(hex
        .trim_end()
        .chars()
        .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));

    let out = touchstone(&["decode", "-p", protocol, hex.trim_end()], None);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let decoded = lines(&out);
    assert_eq!(decoded.len(), packets.len());
    for (sent, got) in packets.iter().zip(&decoded) {
        // Every field given comes back with its value (defaults are printed too).
        assert_subset(sent, got);
    }

    // And the decoded JSON encodes to the same bytes.
    let out2 = touchstone(&["encode", "-p", protocol], Some(stdout(&out).as_bytes()));
    assert_eq!(code(&out2), 0, "{}", stderr(&out2));
    assert_eq!(stdout(&out2), hex);
}

/// Checks that every field of `sent` is in `got` with the same value, recursively (`got` may
/// have more fields: the defaults).
fn assert_subset(sent: &Value, got: &Value) {
    match (sent, got) {
        (Value::Object(s), Value::Object(g)) => {
            for (k, v) in s {
                let g = g.get(k).unwrap_or_else(|| panic!("no field {k} in {got}"));
                assert_subset(v, g);
            }
        }
        (Value::Array(s), Value::Array(g)) => {
            assert_eq!(s.len(), g.len(), "{sent} vs {got}");
            for (s, g) in s.iter().zip(g) {
                assert_subset(s, g);
            }
        }
        _ => assert_eq!(sent, got),
    }
}

#[test]
fn round_trip_311() {
    round_trip(
        "3.1.1",
        &[
            json!({"type": "CONNECT", "clean_start": true, "keep_alive": 30, "client_id": "c",
                   "will": {"topic": "w/t", "payload": "00ff", "qos": 1, "retain": true},
                   "username": "u", "password": "7077"}),
            json!({"type": "CONNACK", "session_present": false, "reason_code": 0}),
            json!({"type": "PUBLISH", "qos": 1, "retain": true, "topic": "a/b", "packet_id": 7,
                   "payload": "68656c6c6f"}),
            json!({"type": "PUBACK", "packet_id": 7}),
            json!({"type": "SUBSCRIBE", "packet_id": 2,
                   "filters": [{"filter": "a/+", "qos": 2}, {"filter": "#", "qos": 0}]}),
            json!({"type": "SUBACK", "packet_id": 2, "reason_codes": [2, 128]}),
            json!({"type": "UNSUBSCRIBE", "packet_id": 3, "filters": ["a/+"]}),
            json!({"type": "PINGREQ"}),
            json!({"type": "DISCONNECT"}),
        ],
    );
}

#[test]
fn round_trip_5() {
    round_trip(
        "5",
        &[
            json!({"type": "CONNECT", "clean_start": false, "keep_alive": 10, "client_id": "v5",
                   "properties": {"session_expiry_interval": 3600,
                                  "user_properties": [["a", "1"], ["a", "2"]]}}),
            json!({"type": "PUBLISH", "qos": 2, "topic": "t", "packet_id": 9,
                   "properties": {"message_expiry_interval": 120, "content_type": "text/plain",
                                  "correlation_data": "0102",
                                  "user_properties": [["k", "v"]]},
                   "payload": "6869"}),
            json!({"type": "PUBREC", "packet_id": 9, "reason_code": 16}),
            json!({"type": "SUBSCRIBE", "packet_id": 4,
                   "properties": {"subscription_identifier": 5},
                   "filters": [{"filter": "s/#", "qos": 1, "no_local": true,
                                "retain_handling": 2}]}),
            json!({"type": "DISCONNECT", "reason_code": 4}),
            json!({"type": "AUTH"}),
        ],
    );
}

#[test]
fn encode_accepts_arrays_and_arguments() {
    let out = touchstone(
        &[
            "encode",
            "-p",
            "3.1.1",
            r#"[{"type":"PINGREQ"},{"type":"PINGRESP"}]"#,
        ],
        None,
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(stdout(&out), "c000d000\n");

    let out = touchstone(
        &[
            "encode",
            "-p",
            "3.1.1",
            r#"{"type":"PINGREQ"}"#,
            r#"{"type":"PINGRESP"}"#,
        ],
        None,
    );
    assert_eq!(stdout(&out), "c000d000\n");

    let out = touchstone(
        &["encode", "-p", "5", "--binary", r#"{"type":"PINGREQ"}"#],
        None,
    );
    assert_eq!(out.stdout, vec![0xC0, 0x00]);
}

#[test]
fn encode_refuses_an_invalid_packet() {
    let publish = r#"{"type":"PUBLISH","topic":"a/+","payload":"00"}"#;
    let out = touchstone(
        &["encode", "-p", "5", r#"{"type":"PINGREQ"}"#, publish],
        None,
    );
    assert_eq!(code(&out), 1);
    assert_eq!(stdout(&out), "");
    let err = stderr(&out);
    assert!(err.contains("object 1"), "{err}");
    assert!(err.contains("wildcard"), "{err}");
    assert!(err.contains("5.0 MQTT-3.3.2-2"), "{err}");

    // --unchecked writes it anyway, and the decoder then refuses it.
    let out = touchstone(&["encode", "-p", "5", "--unchecked", publish], None);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let hex = stdout(&out);
    assert_eq!(hex, "30070003612f2b0000\n");
    let out = touchstone(&["decode", "-p", "5", hex.trim_end()], None);
    assert_eq!(code(&out), 1);
    assert_eq!(lines(&out)[0]["error"]["kind"], "malformed");
}

#[test]
fn encode_refuses_v5_fields_in_311() {
    let out = touchstone(
        &[
            "encode",
            "-p",
            "3.1.1",
            r#"{"type":"PUBLISH","topic":"t","properties":{"message_expiry_interval":1}}"#,
        ],
        None,
    );
    assert_eq!(code(&out), 1);
    assert!(stderr(&out).contains("3.1.1"), "{}", stderr(&out));
}

#[test]
fn encode_refuses_bad_json_and_non_packets() {
    let out = touchstone(&["encode", "-p", "5", r#"{"type":"#], None);
    assert_eq!(code(&out), 1);
    assert!(stderr(&out).contains("invalid JSON"), "{}", stderr(&out));

    let out = touchstone(&["encode", "-p", "5", r#"{"type":"NOPE"}"#], None);
    assert_eq!(code(&out), 1);
    assert!(stderr(&out).contains("NOPE"), "{}", stderr(&out));

    let out = touchstone(
        &["encode", "-p", "5", r#"{"type":"PINGREQ","extra":1}"#],
        None,
    );
    assert_eq!(code(&out), 1);
    assert!(stderr(&out).contains("extra"), "{}", stderr(&out));

    // What `decode` prints for an invalid packet is not a packet.
    let decoded = touchstone(&["decode", "-p", "5", "c000 6002 0001"], None);
    let out = touchstone(&["encode", "-p", "5"], Some(&decoded.stdout));
    assert_eq!(code(&out), 1);
    let err = stderr(&out);
    assert!(err.contains("object 1"), "{err}");
    assert!(err.contains("error report"), "{err}");

    let out = touchstone(
        &["encode", "--protocol", "7", r#"{"type":"PINGREQ"}"#],
        None,
    );
    assert_eq!(code(&out), 2);
}

#[test]
fn arbitrary_input_never_panics() {
    // A small deterministic sample of byte strings; `touchstone` checks for "panicked".
    let mut x: u32 = 0x2545_F491;
    for i in 0..40 {
        let len = (i * 3) % 23;
        let mut hex = String::new();
        for _ in 0..len {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            hex.push_str(&format!("{:02x}", x as u8));
        }
        for protocol in ["3.1", "3.1.1", "5"] {
            let out = touchstone(&["decode", "-p", protocol, &hex], None);
            assert!(matches!(code(&out), 0 | 1), "{hex}: {}", stderr(&out));
        }
    }
}
