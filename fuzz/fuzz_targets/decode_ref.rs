//! The borrowed decoder (`Decoder::decode_ref`) is exactly as strict as the owned one, for any
//! input of any version (the first byte picks the version): packet after packet, the same error,
//! or a borrowed packet whose owned copy equals the owned decode and that took as many bytes.

#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;
use touchstone_codec::Decoder;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, input)) = data.split_first() else { return };
    let decoder = Decoder::new(common::protocol(selector));
    if let Err(e) = decoder.compare_decode_ref(input) {
        panic!("decode_ref disagrees with decode: {e}");
    }
});
