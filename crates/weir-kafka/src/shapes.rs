//! A walk over a request's bytes by its shape before anything decodes it. kafka-protocol sizes
//! each array from the count the client sent before reading a single element, so a count of two
//! billion in a 40-byte request asks the allocator for gigabytes (and a failed allocation aborts
//! the process). The walk reads every field the request's version carries — from `shapes.json`,
//! derived from Apache Kafka's message definitions by `scripts/kafka-shapes.py` — and refuses a
//! request whose array counts, lengths or tagged fields run past its end.

use std::collections::HashMap;
use std::sync::LazyLock;

use serde::Deserialize;

#[derive(Debug, Deserialize)]
struct Message {
    flexible: Option<[i16; 2]>,
    f: Vec<Field>,
}

#[derive(Debug, Deserialize)]
struct Field {
    /// `int32`, `string`, ... ; `[]` an array of `e`; `{}` a struct of `f`.
    t: String,
    #[serde(default)]
    v: Option<[i16; 2]>,
    #[serde(default)]
    tv: Option<[i16; 2]>,
    #[serde(default)]
    tag: Option<u32>,
    #[serde(default)]
    e: Option<Box<Field>>,
    #[serde(default)]
    f: Vec<Field>,
}

static SHAPES: LazyLock<HashMap<i16, Message>> = LazyLock::new(|| {
    let raw: HashMap<String, Message> =
        serde_json::from_str(include_str!("shapes.json")).unwrap_or_default();
    raw.into_iter()
        .filter_map(|(k, m)| Some((k.parse().ok()?, m)))
        .collect()
});

fn within(range: Option<[i16; 2]>, version: i16) -> bool {
    range.is_some_and(|[lo, hi]| (lo..=hi).contains(&version))
}

struct Walk<'a> {
    buf: &'a [u8],
    version: i16,
    flexible: bool,
}

type Res<T = ()> = Result<T, String>;

impl<'a> Walk<'a> {
    fn take(&mut self, n: usize) -> Res<&'a [u8]> {
        if n > self.buf.len() {
            return Err(format!("{n} bytes wanted, {} left", self.buf.len()));
        }
        let (head, rest) = self.buf.split_at(n);
        self.buf = rest;
        Ok(head)
    }

    fn int(&mut self, n: usize) -> Res<i64> {
        Ok(self
            .take(n)?
            .iter()
            .fold(0i64, |acc, b| (acc << 8) | i64::from(*b)))
    }

    fn uvarint(&mut self) -> Res<u64> {
        let mut value = 0u64;
        for shift in (0..35).step_by(7) {
            let b = self.take(1)?[0];
            value |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err("a varint longer than 5 bytes".into())
    }

    /// A length or count: `None` for null.
    fn length(&mut self, width: usize) -> Res<Option<usize>> {
        if self.flexible {
            return Ok(self.uvarint()?.checked_sub(1).map(|n| n as usize));
        }
        let n = self.int(width)?;
        // Sign-extend the big-endian value.
        let n = (n << (64 - 8 * width)) >> (64 - 8 * width);
        match n {
            -1 => Ok(None),
            n if n < 0 => Err(format!("a length of {n}")),
            n => Ok(Some(n as usize)),
        }
    }

    fn fields(&mut self, fields: &[Field]) -> Res {
        for f in fields {
            if within(f.v, self.version) && !within(f.tv, self.version) {
                self.value(f)?;
            }
        }
        if self.flexible {
            self.tagged(fields)?;
        }
        Ok(())
    }

    fn tagged(&mut self, fields: &[Field]) -> Res {
        let count = self.uvarint()?;
        if count > self.buf.len() as u64 {
            return Err(format!("{count} tagged fields in {} bytes", self.buf.len()));
        }
        for _ in 0..count {
            let tag = self.uvarint()?;
            let size = self.uvarint()? as usize;
            let body = self.take(size)?;
            let known = fields
                .iter()
                .find(|f| f.tag.map(u64::from) == Some(tag) && within(f.tv, self.version));
            if let Some(f) = known {
                let mut inner = Walk {
                    buf: body,
                    version: self.version,
                    flexible: self.flexible,
                };
                inner.value(f)?;
            }
        }
        Ok(())
    }

    fn value(&mut self, f: &Field) -> Res {
        match f.t.as_str() {
            "bool" | "int8" => self.take(1).map(drop),
            "int16" | "uint16" => self.take(2).map(drop),
            "int32" | "uint32" | "float32" => self.take(4).map(drop),
            "int64" | "float64" => self.take(8).map(drop),
            "uuid" => self.take(16).map(drop),
            "string" => match self.length(2)? {
                Some(n) => self.take(n).map(drop),
                None => Ok(()),
            },
            "bytes" | "records" => match self.length(4)? {
                Some(n) => self.take(n).map(drop),
                None => Ok(()),
            },
            "{}" => self.fields(&f.f),
            "[]" => {
                let Some(count) = self.length(4)? else {
                    return Ok(());
                };
                // Every element takes at least a byte: a larger count is a lie.
                if count > self.buf.len() {
                    return Err(format!(
                        "an array of {count} items in {} bytes",
                        self.buf.len()
                    ));
                }
                let element = f.e.as_deref().ok_or("an array without its element type")?;
                for _ in 0..count {
                    self.value(element)?;
                }
                Ok(())
            }
            other => Err(format!("a field of type {other}")),
        }
    }
}

/// Checks a whole request (header included) of API `key` at `version` against its shape. A
/// request the shapes do not describe passes (the caller serves only described ones).
pub fn check(key: i16, version: i16, request: &[u8]) -> Result<(), String> {
    let Some(message) = SHAPES.get(&key) else {
        return Ok(());
    };
    let flexible = within(message.flexible, version);
    // Header: key, version, correlation id, client id (never a compact string), then the
    // header's tagged fields in a flexible request.
    let mut walk = Walk {
        buf: request,
        version,
        flexible: false,
    };
    walk.take(8)?;
    if let Some(n) = walk.length(2)? {
        walk.take(n)?;
    }
    walk.flexible = flexible;
    if flexible {
        walk.tagged(&[])?;
    }
    walk.fields(&message.f)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(key: i16, version: i16, flexible: bool) -> Vec<u8> {
        let mut b = Vec::new();
        b.extend(key.to_be_bytes());
        b.extend(version.to_be_bytes());
        b.extend(7i32.to_be_bytes());
        b.extend(3i16.to_be_bytes());
        b.extend(b"cli");
        if flexible {
            b.push(0);
        }
        b
    }

    #[test]
    fn every_served_request_has_a_shape() {
        for (key, _, _) in crate::versions::SUPPORTED {
            assert!(SHAPES.contains_key(&(key as i16)), "{key:?}");
        }
    }

    #[test]
    fn a_metadata_request_walks() {
        // v1: topics array of one string.
        let mut b = header(3, 1, false);
        b.extend(1i32.to_be_bytes());
        b.extend(2i16.to_be_bytes());
        b.extend(b"t1");
        assert_eq!(check(3, 1, &b), Ok(()));
        // v9 (flexible): compact array of {name, tags}, then three bools, then tags.
        let mut b = header(3, 9, true);
        b.extend([2, 3, b't', b'1', 0, 1, 0, 1, 0]);
        assert_eq!(check(3, 9, &b), Ok(()));
    }

    #[test]
    fn a_lying_count_is_refused_before_anything_is_sized_by_it() {
        let mut b = header(3, 1, false);
        b.extend(i32::MAX.to_be_bytes());
        b.extend(2i16.to_be_bytes());
        b.extend(b"t1");
        assert!(check(3, 1, &b).unwrap_err().contains("2147483647 items"));
        // Compact arrays too (Produce v9's topic data).
        let mut b = header(0, 9, true);
        b.extend([0, 0xff, 0xff]); // null transactional id, acks -1
        b.extend(30000i32.to_be_bytes());
        b.extend([0xff, 0xff, 0xff, 0xff, 0x0f]);
        assert!(check(0, 9, &b).is_err());
        // A truncated request.
        let b = header(3, 1, false);
        assert!(check(3, 1, &b).is_err());
    }
}
