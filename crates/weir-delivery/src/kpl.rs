//! De-aggregation of Kinesis Producer Library records: `F3 89 9A C2`, a protobuf
//! `AggregatedRecord`, then the MD5 of that protobuf. Anything else is a plain record.

use bytes::Bytes;
use md5::{Digest, Md5};

const MAGIC: [u8; 4] = [0xF3, 0x89, 0x9A, 0xC2];

/// A user record: where its data lies in the aggregate, and its partition key.
type Part = (std::ops::Range<usize>, Option<String>);

/// Whether `data` starts as an aggregate does (only those need [`deaggregate`]).
pub fn may_be_aggregate(data: &[u8]) -> bool {
    data.len() >= MAGIC.len() + 16 && data[..4] == MAGIC
}

/// The user records inside `data` with their own partition keys (or `data` itself, with no
/// key of its own, when it is not a valid aggregate).
pub fn deaggregate(data: Bytes) -> Vec<(Bytes, Option<String>)> {
    match parse(&data) {
        Some(records) => records
            .into_iter()
            .map(|(r, key)| (data.slice(r), key))
            .collect(),
        None => vec![(data, None)],
    }
}

/// Byte ranges of the user records' data and their partition keys, if `data` is a valid
/// aggregate.
fn parse(data: &[u8]) -> Option<Vec<Part>> {
    if !may_be_aggregate(data) {
        return None;
    }
    let body = &data[4..data.len() - 16];
    if Md5::digest(body)[..] != data[data.len() - 16..] {
        return None;
    }
    let mut keys: Vec<String> = Vec::new();
    let mut out = Vec::new();
    let mut fields = Fields { buf: body, at: 0 };
    while let Some((field, value)) = fields.next_field()? {
        match (field, value) {
            // The partition key table (field 1) comes before the records.
            (1, Value::Bytes(r)) => keys.push(String::from_utf8_lossy(&body[r]).into_owned()),
            // A Record: field 1 indexes the key table, field 3 is the data.
            (3, Value::Bytes(range)) => {
                let record = &body[range.clone()];
                let mut inner = Fields { buf: record, at: 0 };
                let (mut key, mut data) = (None, None);
                while let Some((f, v)) = inner.next_field()? {
                    match (f, v) {
                        (1, Value::Int(i)) => key = usize::try_from(i).ok(),
                        (3, Value::Bytes(r)) => {
                            let base = 4 + range.start;
                            data = Some(base + r.start..base + r.end);
                        }
                        _ => {}
                    }
                }
                if let Some(d) = data {
                    out.push((d, key.and_then(|k| keys.get(k).cloned())));
                }
            }
            _ => {}
        }
    }
    Some(out)
}

enum Value {
    Int(u64),
    Bytes(std::ops::Range<usize>),
}

struct Fields<'a> {
    buf: &'a [u8],
    at: usize,
}

impl Fields<'_> {
    fn varint(&mut self) -> Option<u64> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = *self.buf.get(self.at)?;
            self.at += 1;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Some(v);
            }
        }
        None
    }

    /// The next (field number, value); `Some(None)` at the end, `None` when malformed.
    fn next_field(&mut self) -> Option<Option<(u64, Value)>> {
        if self.at >= self.buf.len() {
            return Some(None);
        }
        let key = self.varint()?;
        let value = match key & 7 {
            0 => Value::Int(self.varint()?),
            1 => {
                self.at = self.at.checked_add(8).filter(|e| *e <= self.buf.len())?;
                Value::Int(0)
            }
            2 => {
                let len = usize::try_from(self.varint()?).ok()?;
                let end = self.at.checked_add(len).filter(|e| *e <= self.buf.len())?;
                let r = self.at..end;
                self.at = end;
                Value::Bytes(r)
            }
            5 => {
                self.at = self.at.checked_add(4).filter(|e| *e <= self.buf.len())?;
                Value::Int(0)
            }
            _ => return None,
        };
        Some(Some((key >> 3, value)))
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    fn ld(field: u8, bytes: &[u8]) -> Vec<u8> {
        let mut v = vec![(field << 3) | 2];
        let mut n = bytes.len();
        loop {
            let b = (n & 0x7f) as u8;
            n >>= 7;
            if n == 0 {
                v.push(b);
                break;
            }
            v.push(b | 0x80);
        }
        v.extend_from_slice(bytes);
        v
    }

    /// An aggregate as the KPL writes it.
    pub fn aggregate(records: &[&[u8]]) -> Vec<u8> {
        let mut body = ld(1, b"pk");
        for r in records {
            let mut rec = vec![0x08, 0x00]; // partition_key_index = 0
            rec.extend(ld(3, r));
            rec.extend(ld(4, &ld(1, b"tag")));
            body.extend(ld(3, &rec));
        }
        let mut out = MAGIC.to_vec();
        out.extend_from_slice(&body);
        out.extend_from_slice(&Md5::digest(&body));
        out
    }

    #[test]
    fn aggregates_split_and_others_pass_through() {
        let big = vec![b'z'; 300];
        let agg = aggregate(&[b"one", b"", &big]);
        let got = deaggregate(Bytes::from(agg.clone()));
        let pk = Some("pk".to_string());
        assert_eq!(
            got,
            vec![
                (Bytes::from("one"), pk.clone()),
                (Bytes::new(), pk.clone()),
                (Bytes::from(big), pk)
            ]
        );
        let mut bad = agg;
        let n = bad.len();
        bad[n - 1] ^= 1;
        assert_eq!(
            deaggregate(Bytes::from(bad.clone())).len(),
            1,
            "bad MD5: one plain record"
        );
        assert_eq!(
            deaggregate(Bytes::from("plain")),
            vec![(Bytes::from("plain"), None)]
        );
    }
}
