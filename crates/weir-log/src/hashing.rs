//! Kinesis hash-key space: MD5 of the partition key onto 128-bit shard ranges.

use md5::{Digest, Md5};

/// MD5 of the UTF-8 partition key, read as a big-endian 128-bit integer.
pub fn partition_hash(partition_key: &str) -> u128 {
    let digest = Md5::digest(partition_key.as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest);
    u128::from_be_bytes(bytes)
}

/// The hash-key ranges of `n` evenly split shards: shard i starts at floor(2^128 / n) * i,
/// ends one before the next start, and the last ends at 2^128 - 1.
pub fn even_ranges(n: u32) -> Vec<(u128, u128)> {
    if n <= 1 {
        return vec![(0, u128::MAX)];
    }
    let n = n as u128;
    // floor(2^128 / n) computed without overflow: (2^128 - 1) / n, corrected when n divides 2^128.
    let mut step = u128::MAX / n;
    if (u128::MAX % n) == n - 1 {
        step += 1;
    }
    (0..n)
        .map(|i| {
            let start = step * i;
            let end = if i == n - 1 {
                u128::MAX
            } else {
                step * (i + 1) - 1
            };
            (start, end)
        })
        .collect()
}

/// Parses a decimal hash key; `None` when it is not a decimal in [0, 2^128 - 1].
pub fn parse_hash_key(s: &str) -> Option<u128> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse::<u128>().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn md5_is_big_endian() {
        // MD5("a") = 0cc175b9c0f1b6a831c399e269772661
        assert_eq!(partition_hash("a"), 0x0cc175b9c0f1b6a831c399e269772661u128);
    }

    #[test]
    fn ranges_cover_the_space() {
        for n in [1u32, 2, 3, 4, 7, 100] {
            let r = even_ranges(n);
            assert_eq!(r.len(), n as usize);
            assert_eq!(r[0].0, 0);
            assert_eq!(r[r.len() - 1].1, u128::MAX);
            for w in r.windows(2) {
                assert_eq!(w[0].1 + 1, w[1].0);
            }
        }
        // two shards: the split is at 2^127
        assert_eq!(even_ranges(2)[1].0, 1u128 << 127);
        // three shards: floor(2^128/3)
        assert_eq!(
            even_ranges(3)[1].0.to_string(),
            "113427455640312821154458202477256070485"
        );
    }

    #[test]
    fn hash_key_parsing() {
        assert_eq!(parse_hash_key("0"), Some(0));
        assert_eq!(
            parse_hash_key("340282366920938463463374607431768211455"),
            Some(u128::MAX)
        );
        assert_eq!(
            parse_hash_key("340282366920938463463374607431768211456"),
            None
        );
        assert_eq!(parse_hash_key("-1"), None);
        assert_eq!(parse_hash_key("1a"), None);
        assert_eq!(parse_hash_key(""), None);
    }
}
