//! Sequence numbers: decimal strings, strictly increasing within a shard, unique in the stream.
//!
//! Layout (33 digits): `4` · shard index (12 digits) · position (20 digits). Position `p` is the
//! point just after `p` records of the shard: record offset `o` has position `o + 1`, and a
//! shard's StartingSequenceNumber has position 0, below every record. So "after position p"
//! always means "from offset p" (ContinuationSequenceNumber, AFTER_SEQUENCE_NUMBER), and the
//! shard index inside the number lets GetShardIterator reject a number from another shard.

/// The sequence number of the record at `offset`.
pub fn of_record(shard_index: u32, offset: u64) -> String {
    format(shard_index, offset + 1)
}

/// Formats position `position` of shard `shard_index`.
pub fn format(shard_index: u32, position: u64) -> String {
    let mut digits = [b'0'; 33];
    digits[0] = b'4';
    let mut put = |mut n: u64, end: usize, width: usize| {
        for i in 0..width {
            digits[end - i] = b'0' + (n % 10) as u8;
            n /= 10;
        }
    };
    put(u64::from(shard_index), 12, 12);
    put(position, 32, 20);
    digits.iter().map(|&b| char::from(b)).collect()
}

/// Splits a sequence number into (shard index, position); `None` when Weir never issued it.
pub fn parse(s: &str) -> Option<(u32, u64)> {
    if s.len() != 33 || !s.starts_with('4') || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let shard = s[1..13].parse::<u64>().ok()?;
    let offset = s[13..].parse::<u64>().ok()?;
    Some((u32::try_from(shard).ok()?, offset))
}

#[cfg(test)]
mod tests {
    #[test]
    fn round_trip_and_order() {
        let a = super::format(3, 9);
        let b = super::format(3, 10);
        assert!(a < b);
        assert_eq!(super::parse(&a), Some((3, 9)));
        assert_eq!(a, format!("4{:012}{:020}", 3, 9));
        assert_eq!(
            super::format(u32::MAX, u64::MAX),
            format!("4{:012}{:020}", u32::MAX, u64::MAX)
        );
        assert_eq!(super::parse("123"), None);
    }
}
