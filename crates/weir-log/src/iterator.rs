//! Shard iterator tokens: opaque to clients, self-checking, valid for five minutes.

use base64::Engine as _;

/// How long an iterator may be used after it was issued.
pub const ITERATOR_LIFETIME_MS: i64 = 300_000;
const SALT: u32 = 0x5745_4952; // "WEIR"
/// AWS's iterators decode to these 8 bytes and then a multiple of 16 bytes (152 in all here).
const HEADER: [u8; 8] = [0, 0, 0, 0, 0, 0, 0, 1];
const FIELDS: usize = 8 + 4 + 8 + 8 + 8;
/// The shortest iterator (AWS's are 152 bytes and more, growing with the stream name).
const MIN_LEN: usize = 152;

/// What an iterator points at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IteratorToken {
    /// The stream's name, for AWS's messages once the stream is gone.
    pub stream_name: String,
    pub stream_uid: u64,
    pub shard_index: u32,
    pub offset: u64,
    pub issued_ms: i64,
    /// Records that arrived before this are skipped (AT_TIMESTAMP in the future).
    pub min_arrival_ms: i64,
}

/// The filler after the fields and their checksum, derived from the checksum so that any
/// change to an iterator is noticed.
fn filler(crc: u32, out: &mut Vec<u8>) {
    let len = MIN_LEN.max(8 + out.len().saturating_sub(8).div_ceil(16) * 16);
    let mut x = u64::from(crc) | 1 << 40;
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.push((x >> 24) as u8);
    }
}

impl IteratorToken {
    /// The iterator string: base64 of AWS's 8-byte header, the fields, their checksum, filler.
    pub fn encode(&self) -> String {
        let name = &self.stream_name.as_bytes()[..self.stream_name.len().min(255)];
        let mut b = Vec::with_capacity(MIN_LEN + name.len());
        b.extend_from_slice(&HEADER);
        b.extend_from_slice(&self.stream_uid.to_be_bytes());
        b.extend_from_slice(&self.shard_index.to_be_bytes());
        b.extend_from_slice(&self.offset.to_be_bytes());
        b.extend_from_slice(&self.issued_ms.to_be_bytes());
        b.extend_from_slice(&self.min_arrival_ms.to_be_bytes());
        b.push(name.len() as u8);
        b.extend_from_slice(name);
        let crc = crc32c::crc32c_append(SALT, &b);
        b.extend_from_slice(&crc.to_be_bytes());
        filler(crc, &mut b);
        base64::engine::general_purpose::STANDARD.encode(b)
    }

    /// `None` when the string is not an iterator Weir issued.
    pub fn decode(s: &str) -> Option<IteratorToken> {
        let b = base64::engine::general_purpose::STANDARD.decode(s).ok()?;
        if b.len() < MIN_LEN || b[..8] != HEADER {
            return None;
        }
        let name_len = usize::from(b[8 + FIELDS]);
        let end = 8 + FIELDS + 1 + name_len;
        if b.len() < end + 4 {
            return None;
        }
        let crc = u32::from_be_bytes(b[end..end + 4].try_into().ok()?);
        if crc32c::crc32c_append(SALT, &b[..end]) != crc {
            return None;
        }
        let mut expected = b[..end + 4].to_vec();
        filler(crc, &mut expected);
        if expected != b {
            return None;
        }
        let u64_at = |i: usize| b[i..i + 8].try_into().ok().map(u64::from_be_bytes);
        let i64_at = |i: usize| b[i..i + 8].try_into().ok().map(i64::from_be_bytes);
        Some(IteratorToken {
            stream_name: String::from_utf8(b[8 + FIELDS + 1..end].to_vec()).ok()?,
            stream_uid: u64_at(8)?,
            shard_index: u32::from_be_bytes(b[16..20].try_into().ok()?),
            offset: u64_at(20)?,
            issued_ms: i64_at(28)?,
            min_arrival_ms: i64_at(36)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arbitrary_bytes_are_refused_not_a_panic() {
        let mut x = 0x2545_f491_4f6c_dd1du64;
        for len in 0..400usize {
            let bytes: Vec<u8> = (0..len)
                .map(|i| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    // Mostly AWS's header first, so the decoder gets past its first check.
                    if i < 8 {
                        HEADER[i]
                    } else {
                        x as u8
                    }
                })
                .collect();
            let s = base64::engine::general_purpose::STANDARD.encode(bytes);
            assert_eq!(IteratorToken::decode(&s), None);
        }
    }

    #[test]
    fn round_trip_and_tamper() {
        let t = IteratorToken {
            stream_name: "s".into(),
            stream_uid: 42,
            shard_index: 3,
            offset: 99,
            issued_ms: 1_700_000_000_000,
            min_arrival_ms: i64::MIN,
        };
        let s = t.encode();
        assert_eq!(IteratorToken::decode(&s), Some(t.clone()));
        let long = IteratorToken {
            stream_name: "n".repeat(128),
            ..t
        }
        .encode();
        let n = base64::engine::general_purpose::STANDARD
            .decode(&long)
            .expect("b64")
            .len();
        assert!(
            n > 152 && (n - 152).is_multiple_of(16) && long.len() <= 512,
            "{n}"
        );
        let mut bytes = base64::engine::general_purpose::STANDARD
            .decode(&s)
            .expect("b64");
        assert_eq!(bytes.len(), 152);
        assert_eq!(bytes[..8], [0, 0, 0, 0, 0, 0, 0, 1]);
        assert_eq!(s.len(), 204);
        bytes[12] ^= 1;
        let tampered = base64::engine::general_purpose::STANDARD.encode(bytes);
        assert_eq!(IteratorToken::decode(&tampered), None);
        assert_eq!(IteratorToken::decode("not an iterator"), None);
        let mut tail = base64::engine::general_purpose::STANDARD
            .decode(&s)
            .expect("b64");
        tail[150] ^= 1;
        let tampered = base64::engine::general_purpose::STANDARD.encode(tail);
        assert_eq!(IteratorToken::decode(&tampered), None);
    }
}
