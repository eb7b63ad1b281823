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
//! arrival time); nothing new is stored. Within a shard they increase with the offset. Across
//! shards nothing is promised (a child created in the same second as its parent may number
//! below it), as with AWS.

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
    let mut n = Bits::default();
    n.put(u64::from(VERSION), 0, 4);
    n.put(u64::from(shard_index), 4, 32);
    n.put(secs(time_ms.max(created_ms)), 36, 36);
    n.put(position & 0x7fff_ffff_ffff_ffff, 80, 64);
    n.put(u64::from(shard_index & 0xf), 144, 4);
    n.put(secs(created_ms), 148, 36);
    n.put(2, 184, 4);
    n.to_decimal()
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
    let n = Bits::from_decimal(s)?;
    if n.0[2] == 0 {
        // Below 2^128: AWS's first layout (numbers below 2^124 read as if 2^124 were added):
        // a creation time, and the shard in the low 16 bits.
        let v = u128::from(n.0[0]) | u128::from(n.0[1]) << 64;
        let v = if v < 1 << 124 { v + (1 << 124) } else { v };
        if (v >> 88) as u64 & 0xf_ffff_ffff >= MAX_CREATE_SECS {
            return None;
        }
        return Some(Parsed {
            shard_index: (v & 0xffff) as i64,
            position: 0,
        });
    }
    // The current layout: 47 hex digits, the first and the last (the version) 2.
    if n.get(184, 8) != 2 || n.get(0, 4) != u64::from(VERSION) {
        return None;
    }
    if n.get(148, 36) >= MAX_CREATE_SECS {
        return None;
    }
    let position = n.get(80, 64);
    if position >> 63 != 0 {
        return None;
    }
    let shard = n.get(4, 32);
    // A first digit above 7 makes the shard index negative: AWS reads a 32-bit Java int.
    let shard_index = i64::from(shard as u32 as i32);
    Some(Parsed {
        shard_index,
        position,
    })
}

/// A number of up to 192 bits, little-endian 64-bit limbs.
#[derive(Default, Clone, Copy, PartialEq, Eq, Debug)]
struct Bits([u64; 3]);

impl Bits {
    /// Sets `width` bits at `shift` to `value` (which must fit).
    fn put(&mut self, value: u64, shift: u32, width: u32) {
        let v = u128::from(value) & ((1u128 << width) - 1);
        let (limb, off) = ((shift / 64) as usize, shift % 64);
        let wide = v << off;
        self.0[limb] |= wide as u64;
        if limb + 1 < 3 {
            self.0[limb + 1] |= (wide >> 64) as u64;
        }
    }

    /// `width` (≤ 64) bits at `shift`.
    fn get(&self, shift: u32, width: u32) -> u64 {
        let (limb, off) = ((shift / 64) as usize, shift % 64);
        let lo = u128::from(self.0[limb]);
        let hi = self.0.get(limb + 1).map_or(0, |&h| u128::from(h));
        let v = (lo | hi << 64) >> off;
        (v & ((1u128 << width) - 1)) as u64
    }

    fn to_decimal(self) -> String {
        // Base-10^9 digits by repeated division of 32-bit limbs (64-bit arithmetic by a
        // constant, which compiles to multiplications), least significant first.
        const BILLION: u64 = 1_000_000_000;
        let mut limbs = [0u32; 6];
        for (i, l) in self.0.iter().enumerate() {
            limbs[2 * i] = *l as u32;
            limbs[2 * i + 1] = (*l >> 32) as u32;
        }
        let mut top = limbs.len();
        let mut parts = [0u32; 7];
        let mut count = 0;
        while top > 0 {
            let mut rem = 0u64;
            for limb in limbs[..top].iter_mut().rev() {
                let cur = rem << 32 | u64::from(*limb);
                *limb = (cur / BILLION) as u32;
                rem = cur % BILLION;
            }
            parts[count] = rem as u32;
            count += 1;
            while top > 0 && limbs[top - 1] == 0 {
                top -= 1;
            }
        }
        // Digits written from the end: nine per part, the leading zeros then dropped.
        let mut buf = [b'0'; 63];
        let mut end = buf.len();
        for p in &parts[..count] {
            let mut p = *p;
            for _ in 0..9 {
                end -= 1;
                buf[end] = b'0' + (p % 10) as u8;
                p /= 10;
            }
        }
        let digits = &buf[end..];
        let first = digits
            .iter()
            .position(|&d| d != b'0')
            .unwrap_or(digits.len().saturating_sub(1));
        digits[first..].iter().map(|&d| char::from(d)).collect()
    }

    /// `None` for anything but decimal digits, or a value of 192 bits or more.
    fn from_decimal(s: &str) -> Option<Bits> {
        if s.is_empty() || s.len() > 60 || !s.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let mut n = [0u64; 3];
        for b in s.bytes() {
            let mut carry = u128::from(b - b'0');
            for limb in n.iter_mut() {
                let v = u128::from(*limb) * 10 + carry;
                *limb = v as u64;
                carry = v >> 64;
            }
            if carry != 0 {
                return None;
            }
        }
        Some(Bits(n))
    }
}

/// `shardId-000000000005`, and AWS's spelling of a negative index (`shardId--02147483648`).
pub fn shard_name(index: i64) -> String {
    if index < 0 {
        format!("shardId--{:011}", index.unsigned_abs())
    } else {
        format!("shardId-{index:012}")
    }
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
        let hex = to_hex(&a);
        assert_eq!(hex.len(), 47);
        assert!(hex.starts_with(&format!("2{:09x}3{:016x}00", created / 1000, 9)));
        assert!(hex.ends_with(&format!("{:09x}000000032", (created + 5_000) / 1000)));
        assert_eq!(from_hex(&hex), a);
        assert_eq!(
            Bits::from_decimal("0").map(Bits::to_decimal).as_deref(),
            Some("0")
        );
    }

    #[test]
    fn any_fields_round_trip_and_any_text_is_safe() {
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for _ in 0..20_000 {
            let created = (next() % 4_000_000_000_000) as i64;
            let shard = next() as u32 & 0x7fff_ffff;
            let position = next() & 0x7fff_ffff_ffff_ffff;
            let time = created + (next() % 1_000_000_000) as i64;
            let s = format(created, shard, position, time);
            assert_eq!(s.len(), 56, "{s}");
            assert_eq!(
                parse(&s),
                Some(Parsed {
                    shard_index: i64::from(shard),
                    position
                })
            );
            // Digits of any length and value: read or refused, never a panic.
            let len = 1 + (next() % 70) as usize;
            let digits: String = (0..len)
                .map(|_| char::from(b'0' + (next() % 10) as u8))
                .collect();
            let _ = parse(&digits);
        }
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
        let mut n = Bits::default();
        for (i, c) in h.chars().rev().enumerate() {
            n.put(u64::from(c.to_digit(16).expect("hex")), 4 * i as u32, 4);
        }
        n.to_decimal()
    }

    fn to_hex(d: &str) -> String {
        let n = Bits::from_decimal(d).expect("decimal");
        format!("{:x}{:016x}{:016x}", n.0[2], n.0[1], n.0[0])
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
        let minus_one = parse(&from_hex(&format!("2{}ffffffff2", "0".repeat(37)))).expect("valid");
        assert_eq!(shard_name(minus_one.shard_index), "shardId--00000000001");
    }
}
