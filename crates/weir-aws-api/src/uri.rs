//! Percent-encoding as AWS uses it: one decoder and one encoder for SigV4 and S3.

/// Decoding (`%XX`, and query strings' `+`) lives beside the encoder in weir-sigv4, which the
/// Kafka door's IAM check shares.
pub use weir_sigv4::{parse_query, percent_decode};

/// RFC 3986 encoding: unreserved characters stay, `/` stays unless `encode_slash`, everything
/// else becomes `%XX`.
pub use weir_sigv4::uri_encode as encode;

#[cfg(test)]
mod tests {
    #[test]
    fn round_trips() {
        assert_eq!(super::percent_decode("a%20b+c%2"), "a b+c%2");
        // A character after `%` that is not ASCII is kept, never split.
        assert_eq!(super::percent_decode("%aé%e9"), "%aé\u{fffd}");
        assert_eq!(
            super::parse_query("x=1+2&y=%2B&z"),
            [
                ("x".into(), "1 2".into()),
                ("y".into(), "+".into()),
                ("z".into(), String::new())
            ]
        );
        assert_eq!(super::encode("a b/c~", true), "a%20b%2Fc~");
        assert_eq!(super::encode("a b/c~", false), "a%20b/c~");
    }
}
