//! The decoder's fast path returns exactly what the general decoder returns, and leaves the
//! buffer in the same state, for any input of any version (the first byte picks the version).

#![no_main]

mod common;

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use touchstone_codec::Decoder;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, input)) = data.split_first() else { return };
    let decoder = Decoder::new(common::protocol(selector));
    let mut fast = BytesMut::from(input);
    let mut general = BytesMut::from(input);
    loop {
        let a = decoder.decode(&mut fast);
        let b = decoder.decode_general(&mut general);
        assert_eq!(a, b, "decode and decode_general differ");
        assert_eq!(fast, general, "buffers differ");
        if !matches!(a, Ok(Some(_))) {
            break;
        }
    }
});
