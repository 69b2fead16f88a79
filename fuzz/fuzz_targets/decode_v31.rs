//! Decodes the input as a stream of MQTT 3.1 packets with the streaming decoder: must never
//! panic, never copy what it can slice, and never allocate out of proportion to the input.

#![no_main]

use libfuzzer_sys::fuzz_target;
use touchstone_codec::Protocol;

mod common;

fuzz_target!(|data: &[u8]| {
    common::decode_stream(Protocol::V3_1, data);
});
