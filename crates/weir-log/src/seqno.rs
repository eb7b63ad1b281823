//! Sequence numbers in AWS's shape (docs/adr/0005): 56-digit decimal strings whose hexadecimal
//! form (47 digits) is
//!
//! ```text
//! 2 · shard creation (9 hex, epoch seconds) · shard index (low nibble) · sequence index (16 hex)
//!   · 00 · record time (9 hex, epoch seconds) · shard index (8 hex) · 2 (version)
//! ```
//!
//! The sequence index is Weir's position: position `p` is the point just after `p` records of
//! the shard (record offset `o` has position `o + 1`; a shard's StartingSequenceNumber has
//! position 0, below every record). So "after position p" always means "from offset p". The
//! numbers are derived from the catalog (shard creation time) and the record frames (offset,
//! arrival time); nothing new is stored. Within a shard they increase with the offset; a child
//! shard, created later, numbers above its parents.

/// Where a parsed sequence number points.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Parsed {
    /// The shard index it encodes (AWS's old layouts can encode negative ones).
    pub shard_index: i64,
    pub position: u64,
}

/// AWS's (and Weir's) layout version.
const VERSION: u8 = 2;
/// Shard creation times from here on cannot be real (AWS refuses them).
const MAX_CREATE_SECS: u64 = 16_025_175_000;

/// The sequence number of the record at `offset` of a shard created at `created_ms`.
pub fn of_record(created_ms: i64, shard_index: u32, offset: u64, arrival_ms: i64) -> String {
    format(created_ms, shard_index, offset + 1, arrival_ms)
}

/// Formats position `position` of shard `shard_index`, stamped with `time_ms`.
pub fn format(created_ms: i64, shard_index: u32, position: u64, time_ms: i64) -> String {
    let secs = |ms: i64| (ms.max(0) / 1000) as u64 & 0xf_ffff_ffff;
    let hex = format!(
        "2{:09x}{:x}{:016x}00{:09x}{:08x}{VERSION:x}",
        secs(created_ms),
        shard_index & 0xf,
        position & 0x7fff_ffff_ffff_ffff,
        secs(time_ms.max(created_ms)),
        shard_index,
    );
    hex_to_decimal(&hex)
}

/// Reads a sequence number as AWS does: `None` when AWS would call it invalid. Weir's
/// earlier 33-digit numbers (`4` · shard · position) are still read, so positions stored by
/// earlier versions keep working.
pub fn parse(s: &str) -> Option<Parsed> {
    if s.len() == 33 && s.starts_with('4') && s.bytes().all(|b| b.is_ascii_digit()) {
        let shard = s[1..13].parse::<i64>().ok()?;
        let position = s[13..].parse::<u64>().ok()?;
        return Some(Parsed {
            shard_index: shard,
            position,
        });
    }
    let hex = decimal_to_hex(s)?;
    if hex.len() <= 32 {
        // Below 2^128: AWS's first layout (numbers below 2^124 read as if 2^124 were added):
        // a creation time, and the shard in the low 16 bits.
        let n = u128::from_str_radix(&hex, 16).ok()?;
        let n = if hex.len() <= 31 {
            n + (1u128 << 124)
        } else {
            n
        };
        if (n >> 88) as u64 & 0xf_ffff_ffff >= MAX_CREATE_SECS {
            return None;
        }
        return Some(Parsed {
            shard_index: (n & 0xffff) as i64,
            position: 0,
        });
    }
    if hex.len() != 47 || !hex.starts_with('2') || !hex.ends_with('2') {
        return None;
    }
    // Strictly between 2^185 and 1.5 · 2^185: the second digit must keep it below 3 · 2^184.
    let after = &hex[1..];
    if after.bytes().all(|b| b == b'0') {
        return None;
    }
    let create_secs = u64::from_str_radix(&hex[1..10], 16).ok()?;
    if create_secs >= MAX_CREATE_SECS {
        return None;
    }
    let seq_index = &hex[11..27];
    if u8::from_str_radix(&seq_index[..1], 16).ok()? > 7 {
        return None;
    }
    let position = u64::from_str_radix(seq_index, 16).ok()?;
    let shard_hex = &hex[38..46];
    let shard = u32::from_str_radix(shard_hex, 16).ok()?;
    // A first digit above 7 makes the shard index negative, as AWS reads it.
    let shard_index = if shard >= 0x8000_0000 {
        -i64::from(shard)
    } else {
        i64::from(shard)
    };
    Some(Parsed {
        shard_index,
        position,
    })
}

/// `shardId-000000000005`, and AWS's spelling of a negative index (`shardId--02147483648`).
pub fn shard_name(index: i64) -> String {
    if index < 0 {
        format!("shardId--{:011}", index.unsigned_abs())
    } else {
        format!("shardId-{index:012}")
    }
}

fn hex_to_decimal(hex: &str) -> String {
    // Little-endian base-1e9 limbs.
    let mut limbs: Vec<u64> = vec![0];
    for c in hex.chars() {
        let mut carry = u64::from(c.to_digit(16).unwrap_or(0));
        for limb in limbs.iter_mut() {
            let v = *limb * 16 + carry;
            *limb = v % 1_000_000_000;
            carry = v / 1_000_000_000;
        }
        if carry > 0 {
            limbs.push(carry);
        }
    }
    let mut out = String::new();
    for (i, limb) in limbs.iter().rev().enumerate() {
        if i == 0 {
            out.push_str(&limb.to_string());
        } else {
            out.push_str(&format!("{limb:09}"));
        }
    }
    out
}

fn decimal_to_hex(dec: &str) -> Option<String> {
    if dec.is_empty() || dec.len() > 130 || !dec.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // Little-endian base-2^32 limbs.
    let mut limbs: Vec<u64> = vec![0];
    for b in dec.bytes() {
        let mut carry = u64::from(b - b'0');
        for limb in limbs.iter_mut() {
            let v = *limb * 10 + carry;
            *limb = v & 0xffff_ffff;
            carry = v >> 32;
        }
        if carry > 0 {
            limbs.push(carry);
        }
    }
    let mut out = String::new();
    for (i, limb) in limbs.iter().rev().enumerate() {
        if i == 0 {
            out.push_str(&format!("{limb:x}"));
        } else {
            out.push_str(&format!("{limb:08x}"));
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_order() {
        let created = 1_700_000_000_000;
        let a = format(created, 3, 9, created + 5_000);
        let b = format(created, 3, 10, created + 1_000);
        assert_eq!(a.len(), 56, "{a}");
        assert!(a < b, "{a} < {b}");
        assert_eq!(
            parse(&a),
            Some(Parsed {
                shard_index: 3,
                position: 9
            })
        );
        let hex = decimal_to_hex(&a).expect("hex");
        assert_eq!(hex.len(), 47);
        assert!(hex.starts_with(&format!("2{:09x}3", created / 1000)));
        assert!(hex.ends_with("000000032"));
        assert_eq!(hex_to_decimal(&hex), a);
    }

    #[test]
    fn earlier_layout_still_reads() {
        assert_eq!(
            parse(&format!("4{:012}{:020}", 3, 9)),
            Some(Parsed {
                shard_index: 3,
                position: 9
            })
        );
    }

    fn from_hex(h: &str) -> String {
        hex_to_decimal(h)
    }

    #[test]
    fn aws_refusals() {
        // Versions 0, 3 and 4; first digits 3 and 1; an index with its top bit set; a creation
        // time past AWS's bound (all f).
        for h in [
            "20000000000000000000000000000000000000000000000",
            "20000000000000000000000000000000000000000000004",
            "20000000000000000000000000000000000000000000003",
            "30000000000000000000000000000000000000000000001",
            "1ffffffffff7fffffffffffffff000000000007fffffff2",
            "20000000000800000000000000000000000000000000002",
            "2ffffffffff7fffffffffffffff000000000007fffffff2",
        ] {
            assert_eq!(parse(&from_hex(h)), None, "{h}");
        }
        // A creation time past AWS's bound in the first layout.
        assert_eq!(parse("26227199374822427428162556223570313216"), None);
        assert_eq!(parse("5").map(|p| p.shard_index), Some(5));
        let negative = parse(&from_hex(&format!("2{}800000002", "0".repeat(37)))).expect("valid");
        assert_eq!(shard_name(negative.shard_index), "shardId--02147483648");
    }
}
