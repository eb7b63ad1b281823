//! Percent-encoding as AWS uses it: one decoder and one encoder for SigV4 and S3.

/// Decodes `%XX` escapes; everything else (including `+`) stays as it is.
pub fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 3 <= b.len() {
            if let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Query parameters, decoded (`+` is a space in query strings), in the order given.
pub fn parse_query(q: &str) -> Vec<(String, String)> {
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (
                percent_decode(&k.replace('+', " ")),
                percent_decode(&v.replace('+', " ")),
            )
        })
        .collect()
}

/// RFC 3986 encoding: unreserved characters stay, `/` stays unless `encode_slash`, everything
/// else becomes `%XX`.
pub use weir_sigv4::uri_encode as encode;

#[cfg(test)]
mod tests {
    #[test]
    fn round_trips() {
        assert_eq!(super::percent_decode("a%20b+c%2"), "a b+c%2");
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
