//! `aws-chunked` request bodies (the SDKs' streaming uploads): chunks of
//! `<hex size>[;chunk-signature=<sig>]\r\n<data>\r\n`, a zero-size chunk, then trailing headers
//! (such as `x-amz-checksum-crc32:<base64>`) and an empty line.

use std::collections::BTreeMap;

/// The decoded payload and the trailing headers (lower-case names).
pub struct Decoded {
    pub data: Vec<u8>,
    pub trailers: BTreeMap<String, String>,
}

/// Decodes an aws-chunked body; `None` when it is malformed.
pub fn decode(body: &[u8]) -> Option<Decoded> {
    let mut data = Vec::with_capacity(body.len());
    let mut at = 0;
    loop {
        let line_end = find_crlf(body, at)?;
        let line = std::str::from_utf8(&body[at..line_end]).ok()?;
        let size = usize::from_str_radix(line.split(';').next()?.trim(), 16).ok()?;
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
    Some(Decoded { data, trailers })
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
        assert!(super::decode(b"5\r\nhel").is_none());
        assert!(super::decode(b"zz\r\n").is_none());
    }
}
