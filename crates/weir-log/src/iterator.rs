//! Shard iterator tokens: opaque to clients, self-checking, valid for five minutes.

use base64::Engine as _;

/// How long an iterator may be used after it was issued.
pub const ITERATOR_LIFETIME_MS: i64 = 300_000;
const VERSION: u8 = 1;
const SALT: u32 = 0x5745_4952; // "WEIR"
const LEN: usize = 1 + 8 + 4 + 8 + 8 + 8 + 4;

/// What an iterator points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IteratorToken {
    pub stream_uid: u64,
    pub shard_index: u32,
    pub offset: u64,
    pub issued_ms: i64,
    /// Records that arrived before this are skipped (AT_TIMESTAMP in the future).
    pub min_arrival_ms: i64,
}

impl IteratorToken {
    pub fn encode(&self) -> String {
        let mut b = Vec::with_capacity(LEN);
        b.push(VERSION);
        b.extend_from_slice(&self.stream_uid.to_be_bytes());
        b.extend_from_slice(&self.shard_index.to_be_bytes());
        b.extend_from_slice(&self.offset.to_be_bytes());
        b.extend_from_slice(&self.issued_ms.to_be_bytes());
        b.extend_from_slice(&self.min_arrival_ms.to_be_bytes());
        let crc = crc32c::crc32c_append(SALT, &b);
        b.extend_from_slice(&crc.to_be_bytes());
        base64::engine::general_purpose::STANDARD.encode(b)
    }

    /// `None` when the string is not an iterator Weir issued.
    pub fn decode(s: &str) -> Option<IteratorToken> {
        let b = base64::engine::general_purpose::STANDARD.decode(s).ok()?;
        if b.len() != LEN || b[0] != VERSION {
            return None;
        }
        let crc = u32::from_be_bytes(b[LEN - 4..].try_into().ok()?);
        if crc32c::crc32c_append(SALT, &b[..LEN - 4]) != crc {
            return None;
        }
        let u64_at = |i: usize| b[i..i + 8].try_into().ok().map(u64::from_be_bytes);
        let i64_at = |i: usize| b[i..i + 8].try_into().ok().map(i64::from_be_bytes);
        Some(IteratorToken {
            stream_uid: u64_at(1)?,
            shard_index: u32::from_be_bytes(b[9..13].try_into().ok()?),
            offset: u64_at(13)?,
            issued_ms: i64_at(21)?,
            min_arrival_ms: i64_at(29)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_tamper() {
        let t = IteratorToken {
            stream_uid: 42,
            shard_index: 3,
            offset: 99,
            issued_ms: 1_700_000_000_000,
            min_arrival_ms: i64::MIN,
        };
        let s = t.encode();
        assert_eq!(IteratorToken::decode(&s), Some(t));
        let mut bytes = base64::engine::general_purpose::STANDARD
            .decode(&s)
            .expect("b64");
        bytes[12] ^= 1;
        let tampered = base64::engine::general_purpose::STANDARD.encode(bytes);
        assert_eq!(IteratorToken::decode(&tampered), None);
        assert_eq!(IteratorToken::decode("not an iterator"), None);
    }
}
