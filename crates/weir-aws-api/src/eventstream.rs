//! AWS event-stream messages (`application/vnd.amazon.eventstream`), as SubscribeToShard sends
//! them: prelude (total length, headers length, CRC32 of those 8 bytes), headers, payload, and a
//! CRC32 of everything before it. Header values here are all strings (type 7).

use bytes::Bytes;

/// Encodes one message.
pub fn message(headers: &[(&str, &str)], payload: &[u8]) -> Bytes {
    let mut h = Vec::with_capacity(128);
    for (name, value) in headers {
        h.push(name.len() as u8);
        h.extend_from_slice(name.as_bytes());
        h.push(7);
        h.extend_from_slice(&(value.len() as u16).to_be_bytes());
        h.extend_from_slice(value.as_bytes());
    }
    let total = 12 + h.len() + payload.len() + 4;
    let mut out = Vec::with_capacity(total);
    out.extend_from_slice(&(total as u32).to_be_bytes());
    out.extend_from_slice(&(h.len() as u32).to_be_bytes());
    let prelude_crc = crc32fast::hash(&out);
    out.extend_from_slice(&prelude_crc.to_be_bytes());
    out.extend_from_slice(&h);
    out.extend_from_slice(payload);
    let crc = crc32fast::hash(&out);
    out.extend_from_slice(&crc.to_be_bytes());
    Bytes::from(out)
}

/// An event of type `event_type` with a document payload of `content_type`.
pub fn event(event_type: &str, content_type: &str, payload: &[u8]) -> Bytes {
    message(
        &[
            (":message-type", "event"),
            (":event-type", event_type),
            (":content-type", content_type),
        ],
        payload,
    )
}

/// A modelled exception sent inside the stream.
pub fn exception(code: &str, content_type: &str, payload: &[u8]) -> Bytes {
    message(
        &[
            (":message-type", "exception"),
            (":exception-type", code),
            (":content-type", content_type),
        ],
        payload,
    )
}

/// One decoded message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub headers: Vec<(String, String)>,
    pub payload: Vec<u8>,
    /// Bytes of the buffer the message took.
    pub used: usize,
}

impl Message {
    /// The value of header `name`, if present.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Decodes one message from the front of `buf` (for tests and tools); `None` when incomplete or
/// corrupt.
pub fn decode(buf: &[u8]) -> Option<Message> {
    let total = u32::from_be_bytes(buf.get(0..4)?.try_into().ok()?) as usize;
    let hlen = u32::from_be_bytes(buf.get(4..8)?.try_into().ok()?) as usize;
    let msg = buf.get(..total)?;
    if total < 16 + hlen
        || crc32fast::hash(&msg[..8]) != u32::from_be_bytes(msg[8..12].try_into().ok()?)
    {
        return None;
    }
    if crc32fast::hash(&msg[..total - 4]) != u32::from_be_bytes(msg[total - 4..].try_into().ok()?) {
        return None;
    }
    let mut headers = Vec::new();
    let mut h = &msg[12..12 + hlen];
    while !h.is_empty() {
        let n = *h.first()? as usize;
        let name = std::str::from_utf8(h.get(1..1 + n)?).ok()?.to_string();
        if *h.get(1 + n)? != 7 {
            return None;
        }
        let vlen = u16::from_be_bytes(h.get(2 + n..4 + n)?.try_into().ok()?) as usize;
        let value = std::str::from_utf8(h.get(4 + n..4 + n + vlen)?)
            .ok()?
            .to_string();
        headers.push((name, value));
        h = &h[4 + n + vlen..];
    }
    Some(Message {
        headers,
        payload: msg[12 + hlen..total - 4].to_vec(),
        used: total,
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn round_trip() {
        let m = super::event("initial-response", "application/x-amz-json-1.1", b"{}");
        let msg = super::decode(&m).expect("decodes");
        assert_eq!(msg.used, m.len());
        assert_eq!(msg.payload, b"{}");
        assert_eq!(msg.header(":event-type"), Some("initial-response"));
        let mut bad = m.to_vec();
        bad[14] ^= 1;
        assert!(super::decode(&bad).is_none());
    }
}
