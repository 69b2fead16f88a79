//! `touchstone encode`: packets as JSON in, the hex (or bytes) of the stream out.

use std::fmt;

use bytes::BytesMut;
use serde::Deserialize;
use serde_json::Value;
use touchstone_codec::{hex, EncodeError, Packet, Protocol};

use super::input::{read_sources, Source};
use super::{fail, output_error, EncodeArgs, Io, Status};

/// One JSON object of the input, before it is read as a packet.
#[derive(Debug, Clone, PartialEq)]
pub struct InputObject {
    /// Its index among all the objects of the input, counting from 0.
    pub index: usize,
    /// Where it is, for people: `line 2, column 1 of standard input`, or `element 1 of the
    /// array at line 1, column 1 of the argument`.
    pub place: String,
    /// The JSON value.
    pub value: Value,
}

/// Why an object of the input is not a packet that can be encoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectError {
    /// The object's index, counting from 0.
    pub index: usize,
    /// Where it is.
    pub place: String,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ObjectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "object {} ({}): {}",
            self.index, self.place, self.message
        )
    }
}

/// Splits `source` into its JSON objects: a sequence of values separated by whitespace (or
/// nothing), each an object or an array of objects. Indexes start at `first_index`. Fails on
/// invalid JSON, with a message for people.
pub fn read_objects(source: &Source, first_index: usize) -> Result<Vec<InputObject>, String> {
    let text = source.text.as_str();
    let mut stream = serde_json::Deserializer::from_str(text).into_iter::<Value>();
    let mut out = Vec::new();
    loop {
        let end_of_previous = stream.byte_offset();
        let start = text.get(end_of_previous..).map_or(end_of_previous, |rest| {
            end_of_previous + (rest.len() - rest.trim_start().len())
        });
        let place = source.describe_byte_offset(start);
        match stream.next() {
            None => return Ok(out),
            Some(Err(e)) => {
                return Err(format!(
                    "invalid JSON in {} (after {} object{}): {e}",
                    source.origin,
                    out.len(),
                    if out.len() == 1 { "" } else { "s" }
                ))
            }
            Some(Ok(Value::Array(items))) => {
                for (i, value) in items.into_iter().enumerate() {
                    out.push(InputObject {
                        index: first_index + out.len(),
                        place: format!("element {i} of the array at {place}"),
                        value,
                    });
                }
            }
            Some(Ok(value)) => out.push(InputObject {
                index: first_index + out.len(),
                place,
                value,
            }),
        }
    }
}

/// Reads an input object as a packet.
pub fn to_packet(object: &InputObject) -> Result<Packet, ObjectError> {
    let error = |message: String| ObjectError {
        index: object.index,
        place: object.place.clone(),
        message,
    };
    let map = match &object.value {
        Value::Object(map) => map,
        other => {
            return Err(error(format!(
                "expected a packet object with a \"type\" field, found {}",
                json_kind(other)
            )))
        }
    };
    if map.contains_key("error") && !map.contains_key("type") {
        let what = map
            .get("error")
            .and_then(|e| e.get("message"))
            .and_then(Value::as_str)
            .map(|m| format!(" ({m})"))
            .unwrap_or_default();
        return Err(error(format!(
            "this is an error report from `touchstone decode`{what}, not a packet: remove it"
        )));
    }
    let packet = Packet::deserialize(&object.value)
        .map_err(|e| error(format!("not a valid packet: {e}")))?;
    // serde ignores extra fields of the unit variants (PINGREQ, PINGRESP) of an internally
    // tagged enum: refuse them here, as the other packets refuse unknown fields.
    if matches!(packet, Packet::PingReq | Packet::PingResp) {
        if let Some(extra) = map.keys().find(|k| *k != "type") {
            return Err(error(format!(
                "not a valid packet: unknown field `{extra}`, {} has no fields",
                packet.packet_type()
            )));
        }
    }
    Ok(packet)
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array (arrays of packets may not be nested)",
        Value::Object(_) => "an object",
    }
}

/// Describes an encode error: its message and the statements the packet would violate.
pub fn describe_encode_error(packet: &Packet, protocol: Protocol, e: &EncodeError) -> String {
    let mut s = format!(
        "{} cannot be encoded for MQTT {protocol}: {}",
        packet.packet_type(),
        e.message
    );
    if !e.statements.is_empty() {
        let ids: Vec<String> = e.statements.iter().map(ToString::to_string).collect();
        s.push_str(&format!(" (violates {})", ids.join(", ")));
    }
    s
}

/// Encodes the packets in order into one buffer: checked, or as they are if `unchecked`. On
/// failure, the errors of every packet that cannot be encoded, with its index.
pub fn encode_all(
    packets: &[Packet],
    protocol: Protocol,
    unchecked: bool,
) -> Result<BytesMut, Vec<(usize, EncodeError)>> {
    let mut buf = BytesMut::new();
    let mut errors = Vec::new();
    for (i, p) in packets.iter().enumerate() {
        if unchecked {
            p.encode_unchecked(protocol, &mut buf);
        } else if let Err(e) = p.encode(protocol, &mut buf) {
            errors.push((i, e));
        }
    }
    if errors.is_empty() {
        Ok(buf)
    } else {
        Err(errors)
    }
}

/// Runs `touchstone encode`.
pub fn run(args: &EncodeArgs, io: &mut Io<'_>) -> Status {
    let protocol = args.protocol.protocol;
    let sources = match read_sources(&args.json, io, "JSON packets", "") {
        Ok(s) => s,
        Err(e) => return fail(io, format_args!("{e}")),
    };

    let mut objects = Vec::new();
    for source in &sources {
        match read_objects(source, objects.len()) {
            Ok(o) => objects.extend(o),
            Err(message) => return invalid(io, &[message]),
        }
    }

    let mut packets = Vec::with_capacity(objects.len());
    let mut errors = Vec::new();
    for object in &objects {
        match to_packet(object) {
            Ok(p) => packets.push(p),
            Err(e) => errors.push(e.to_string()),
        }
    }
    if !errors.is_empty() {
        return invalid(io, &errors);
    }

    let buf = match encode_all(&packets, protocol, args.unchecked) {
        Ok(buf) => buf,
        Err(failures) => {
            let errors: Vec<String> = failures
                .iter()
                .map(|(i, e)| {
                    ObjectError {
                        index: objects[*i].index,
                        place: objects[*i].place.clone(),
                        message: describe_encode_error(&packets[*i], protocol, e),
                    }
                    .to_string()
                })
                .collect();
            return invalid(io, &errors);
        }
    };

    let written = if args.binary {
        io.stdout.write_all(&buf)
    } else {
        writeln!(io.stdout, "{}", hex::encode(&buf))
    };
    match written {
        Ok(()) => Status::Success,
        Err(e) => output_error(io, &e, Status::Success),
    }
}

/// Prints each message as an error and returns [`Status::Invalid`].
fn invalid(io: &mut Io<'_>, messages: &[String]) -> Status {
    for m in messages {
        let _ = writeln!(io.stderr, "error: {m}");
    }
    Status::Invalid
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::input::Origin;

    fn source(text: &str) -> Source {
        Source {
            origin: Origin::Stdin,
            text: text.to_string(),
        }
    }

    #[test]
    fn objects_arrays_and_sequences() {
        let s = source(
            "{\"type\":\"PINGREQ\"}\n[{\"type\":\"PINGRESP\"}, {\"type\":\"PINGREQ\"}]{\"a\":1}",
        );
        let objects = read_objects(&s, 0).unwrap();
        assert_eq!(objects.len(), 4);
        assert_eq!(objects[0].place, "line 1, column 1 of standard input");
        assert_eq!(
            objects[2].place,
            "element 1 of the array at line 2, column 1 of standard input"
        );
        assert_eq!(objects[3].index, 3);
        assert!(to_packet(&objects[1]).is_ok());
        let e = to_packet(&objects[3]).unwrap_err();
        assert!(e.message.contains("not a valid packet"), "{e}");
    }

    #[test]
    fn invalid_json_says_where() {
        let e = read_objects(&source("{\"type\":\"PINGREQ\"}\n{\"type\":"), 0).unwrap_err();
        assert!(e.contains("after 1 object"), "{e}");
        assert!(e.contains("line 2"), "{e}");
    }

    #[test]
    fn error_reports_are_not_packets() {
        let s = source(r#"{"error":{"kind":"malformed","message":"bad flags"}}"#);
        let objects = read_objects(&s, 0).unwrap();
        let e = to_packet(&objects[0]).unwrap_err();
        assert!(e.message.contains("error report"), "{e}");
        assert!(e.message.contains("bad flags"), "{e}");
    }

    #[test]
    fn not_objects() {
        let objects = read_objects(&source("3 [[]]"), 0).unwrap();
        assert!(to_packet(&objects[0])
            .unwrap_err()
            .message
            .contains("a number"));
        assert!(to_packet(&objects[1])
            .unwrap_err()
            .message
            .contains("nested"));
    }
}
