//! Request decoders (AWS JSON 1.1 and CBOR) on arbitrary bytes: refuse or accept, never panic,
//! and whatever they accept must encode again.
#![no_main]

use libfuzzer_sys::fuzz_target;
use weir_aws_api::input::Input;
use weir_aws_api::value::{decode, encode, Protocol};

fuzz_target!(|data: &[u8]| {
    for protocol in [Protocol::Json, Protocol::Cbor] {
        if let Ok(doc) = decode(protocol, data) {
            let bytes = encode(protocol, &doc);
            assert!(decode(protocol, &bytes).is_ok(), "re-encoded document must decode");
            let _ = Input::new(doc, protocol);
        }
    }
});
