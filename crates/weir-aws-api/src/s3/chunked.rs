//! `aws-chunked` request bodies (the SDKs' streaming uploads): chunks of
//! `<hex size>[;chunk-signature=<sig>]\r\n<data>\r\n`, a zero-size chunk, then trailing headers
//! (such as `x-amz-checksum-crc32:<base64>`) and an empty line.

use std::collections::BTreeMap;

use crate::auth::Chain;

/// The decoded payload and the trailing headers (lower-case names).
pub struct Decoded {
    pub data: Vec<u8>,
    pub trailers: BTreeMap<String, String>,
    /// Each chunk's `chunk-signature` (if sent) and its range in `data`; the last is the
    /// zero-size chunk.
    pub chunks: Vec<(Option<String>, std::ops::Range<usize>)>,
}

impl Decoded {
    /// Checks every chunk signature, and the trailer signature when `trailer` is set, against
    /// the chain started by the request's own signature.
    pub fn verify(&self, chain: &Chain, trailer: bool) -> bool {
        let mut previous = chain.seed.clone();
        for (sig, range) in &self.chunks {
            let Some(sig) = sig else { return false };
            let Some(chunk) = self.data.get(range.clone()) else {
                return false;
            };
            let ours = weir_sigv4::chunk_signature(
                &chain.key,
                &chain.amz_date,
                &chain.scope,
                &previous,
                chunk,
            );
            if !weir_sigv4::constant_time_eq(ours.as_bytes(), sig.as_bytes()) {
                return false;
            }
            previous = ours;
        }
        if !trailer {
            return true;
        }
        let Some(sig) = self.trailers.get("x-amz-trailer-signature") else {
            return false;
        };
        let lines: String = self
            .trailers
            .iter()
            .filter(|(k, _)| *k != "x-amz-trailer-signature")
            .map(|(k, v)| format!("{k}:{v}\n"))
            .collect();
        let ours = weir_sigv4::trailer_signature(
            &chain.key,
            &chain.amz_date,
            &chain.scope,
            &previous,
            &lines,
        );
        weir_sigv4::constant_time_eq(ours.as_bytes(), sig.as_bytes())
    }
}

/// Decodes an aws-chunked body; `None` when it is malformed.
pub fn decode(body: &[u8]) -> Option<Decoded> {
    let mut data = Vec::with_capacity(body.len());
    let mut chunks = Vec::new();
    let mut at = 0;
    loop {
        let line_end = find_crlf(body, at)?;
        let line = std::str::from_utf8(&body[at..line_end]).ok()?;
        let mut fields = line.split(';');
        let size = usize::from_str_radix(fields.next()?.trim(), 16).ok()?;
        let signature = fields
            .find_map(|f| f.trim().strip_prefix("chunk-signature="))
            .map(str::to_string);
        chunks.push((signature, data.len()..data.len() + size));
        at = line_end + 2;
        if size == 0 {
            break;
        }
        data.extend_from_slice(body.get(at..at.checked_add(size)?)?);
        at += size;
        if body.get(at..at + 2)? != b"\r\n" {
            return None;
        }
        at += 2;
    }
    let mut trailers = BTreeMap::new();
    while at < body.len() {
        let end = find_crlf(body, at).unwrap_or(body.len());
        let line = std::str::from_utf8(&body[at..end]).ok()?;
        at = end + 2;
        if line.is_empty() {
            continue;
        }
        let (name, value) = line.split_once(':')?;
        trailers.insert(name.trim().to_ascii_lowercase(), value.trim().to_string());
    }
    Some(Decoded {
        data,
        trailers,
        chunks,
    })
}

fn find_crlf(b: &[u8], from: usize) -> Option<usize> {
    b.get(from..)?
        .windows(2)
        .position(|w| w == b"\r\n")
        .map(|p| from + p)
}

#[cfg(test)]
mod tests {
    #[test]
    fn signed_and_unsigned_chunks_with_trailer() {
        let body = b"5;chunk-signature=abc\r\nhello\r\n6\r\n world\r\n0\r\nx-amz-checksum-crc32:DUoRhQ==\r\n\r\n";
        let d = super::decode(body).expect("decodes");
        assert_eq!(d.data, b"hello world");
        assert_eq!(
            d.trailers.get("x-amz-checksum-crc32").map(String::as_str),
            Some("DUoRhQ==")
        );
        assert_eq!(d.chunks.len(), 3);
        assert_eq!(d.chunks[0], (Some("abc".to_string()), 0..5));
        assert!(super::decode(b"5\r\nhel").is_none());
        assert!(super::decode(b"zz\r\n").is_none());
    }

    /// The documented STREAMING-AWS4-HMAC-SHA256-PAYLOAD example: 66,560 bytes of 'a' sent as
    /// chunks of 65,536 and 1,024 bytes and a final empty chunk.
    #[test]
    fn documented_streaming_signatures_verify() {
        let sigs = [
            "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648",
            "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497",
            "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9",
        ];
        let mut body = Vec::new();
        for (size, sig) in [65536usize, 1024, 0].into_iter().zip(sigs) {
            body.extend_from_slice(format!("{size:x};chunk-signature={sig}\r\n").as_bytes());
            body.extend(std::iter::repeat_n(b'a', size));
            body.extend_from_slice(b"\r\n");
        }
        let chain = super::Chain {
            key: weir_sigv4::signing_key(
                "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
                "20130524",
                "us-east-1",
                "s3",
            ),
            amz_date: "20130524T000000Z".into(),
            scope: "20130524/us-east-1/s3/aws4_request".into(),
            seed: "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9".into(),
        };
        let d = super::decode(&body).expect("decodes");
        assert_eq!(d.data.len(), 66560);
        assert!(d.verify(&chain, false));
        body[100] = b'b';
        assert!(!super::decode(&body).expect("decodes").verify(&chain, false));
    }
}
