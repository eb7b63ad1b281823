//! Request decoders (AWS JSON 1.1 and CBOR) on arbitrary bytes: refuse or accept, never panic,
//! and whatever they accept must encode again.
#![no_main]

use libfuzzer_sys::fuzz_target;
use weir_aws_api::input::Input;
use weir_aws_api::value::{decode, encode, Protocol};
use weir_log::iterator::IteratorToken;

fuzz_target!(|data: &[u8]| {
    for protocol in [Protocol::Json, Protocol::Cbor] {
        if let Ok(doc) = decode(protocol, data) {
            let bytes = encode(protocol, &doc);
            assert!(
                decode(protocol, &bytes).is_ok(),
                "re-encoded document must decode"
            );
            // The model's checks take any decoded document.
            let mut checked = doc.clone();
            let _ = weir_aws_api::model::kinesis().check_request(
                "PutRecords",
                &mut checked,
                protocol,
                &weir_aws_api::kinesis::OVERLAY,
            );
            let _ = Input::new(doc, protocol);
        }
    }
    // Sequence numbers and shard iterators from clients: refused or read, never a panic.
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = weir_log::seqno::parse(text);
        let _ = IteratorToken::decode(text);
    }
});
