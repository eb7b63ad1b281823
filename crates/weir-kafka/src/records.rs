//! Kafka records ↔ Weir records. A produced record's value is the record's data; its key,
//! when UTF-8 of 1 to 256 characters, is the PartitionKey Kinesis readers see (otherwise its
//! bytes in hex, cut to 256 characters; a null key: the partition's number). What Kinesis has
//! no place for — a null or non-UTF-8 key, a null value, headers, the producer's timestamp —
//! is kept in the record's attributes (see `Attrs`), so Kafka consumers get the record back as
//! it was produced. A record written by Kinesis reads back with its PartitionKey as key, its
//! data as value and its arrival time as timestamp.

use bytes::{Buf, BufMut, Bytes, BytesMut};
use weir_log::{CompactKey, ShardEntry, ShardRecord};

use crate::batch::{self, BatchError, OutRecord, Rec};

/// The most a produced batch may hold once decompressed.
pub const MAX_INFLATED: usize = 64 * 1024 * 1024;

/// One produced batch as Weir records, with the producer's id and sequences (−1 when the
/// producer is not idempotent).
pub struct Produced {
    pub producer_id: i64,
    pub epoch: i16,
    pub first_seq: i32,
    pub last_seq: i32,
    /// The batch's size on the wire.
    pub size: usize,
    /// Some record has a null key (a compacted topic refuses the batch).
    pub null_key: bool,
    pub entries: Vec<ShardEntry>,
}

/// The batches of a produce request's partition data.
pub fn decode(data: Bytes, partition: i32) -> Result<Vec<Produced>, BatchError> {
    let batches = batch::decode_all(data, MAX_INFLATED)?;
    Ok(batches
        .into_iter()
        .map(|b| {
            let last_seq = crate::producers::add_seq(b.base_sequence, b.last_offset_delta);
            let mark = (b.producer_id >= 0).then_some(ProducerMark {
                id: b.producer_id,
                epoch: b.producer_epoch,
                first_seq: b.base_sequence,
                last_seq,
            });
            Produced {
                producer_id: b.producer_id,
                epoch: b.producer_epoch,
                first_seq: b.base_sequence,
                last_seq,
                size: b.size,
                null_key: b.records.iter().any(|r| r.key.is_none()),
                entries: b
                    .records
                    .into_iter()
                    .enumerate()
                    .map(|(i, r)| {
                        let partition_key = partition_key(r.key.as_deref(), partition);
                        let mut attrs = Attrs::of(&r, &partition_key);
                        attrs.producer = mark.filter(|_| i == 0);
                        ShardEntry {
                            partition_key,
                            data: r.value.unwrap_or_default(),
                            attrs: Some(attrs.encode()),
                        }
                    })
                    .collect(),
            }
        })
        .collect())
}

fn partition_key(key: Option<&[u8]>, partition: i32) -> String {
    match key {
        None => partition.to_string(),
        Some(k) => match std::str::from_utf8(k) {
            Ok(s) if (1..=256).contains(&s.chars().count()) => s.to_string(),
            _ if k.is_empty() => partition.to_string(),
            _ => k.iter().take(128).map(|b| format!("{b:02x}")).collect(),
        },
    }
}

/// What a Kafka record carries beyond Kinesis's partition key and data. Stored as: version
/// (1) · flags (1: key null, 2: value null, 4: key differs from the partition key, 8: first
/// record of an idempotent producer's batch) · timestamp (i64 LE) · [key: u32 LE length ·
/// bytes] · header count (u32 LE) · per header: name (u32 LE length · bytes), value (i32 LE
/// length, −1 null · bytes) · [producer id i64 LE, epoch i16 LE, first and last sequence
/// i32 LE]. Readers skip flags and trailing bytes they do not know.
#[derive(Debug, Clone, PartialEq)]
pub struct Attrs {
    pub timestamp: i64,
    /// The key when it is not the partition key as it stands (None inside: a null key).
    pub key: Option<Option<Bytes>>,
    pub value_null: bool,
    pub headers: Vec<(Bytes, Option<Bytes>)>,
    /// On a batch's first record: who wrote the batch, so a restarted broker can still tell a
    /// retry from a new batch.
    pub producer: Option<ProducerMark>,
}

/// An idempotent producer's batch, as its first record remembers it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProducerMark {
    pub id: i64,
    pub epoch: i16,
    pub first_seq: i32,
    pub last_seq: i32,
}

const ATTRS_VERSION: u8 = 1;

impl Attrs {
    fn of(r: &Rec, partition_key: &str) -> Attrs {
        let key = match &r.key {
            Some(k) if k[..] == *partition_key.as_bytes() => None,
            other => Some(other.clone()),
        };
        Attrs {
            timestamp: r.timestamp,
            key,
            value_null: r.value.is_none(),
            headers: r.headers.clone(),
            producer: None,
        }
    }

    fn encode(&self) -> Bytes {
        let mut b = BytesMut::new();
        b.put_u8(ATTRS_VERSION);
        let flags = match &self.key {
            Some(None) => 1,
            Some(Some(_)) => 4,
            None => 0,
        } | if self.value_null { 2 } else { 0 }
            | if self.producer.is_some() { 8 } else { 0 };
        b.put_u8(flags);
        b.put_i64_le(self.timestamp);
        if let Some(Some(k)) = &self.key {
            b.put_u32_le(k.len() as u32);
            b.put_slice(k);
        }
        b.put_u32_le(self.headers.len() as u32);
        for (name, value) in &self.headers {
            b.put_u32_le(name.len() as u32);
            b.put_slice(name);
            match value {
                Some(v) => {
                    b.put_i32_le(v.len() as i32);
                    b.put_slice(v);
                }
                None => b.put_i32_le(-1),
            }
        }
        if let Some(p) = &self.producer {
            b.put_i64_le(p.id);
            b.put_i16_le(p.epoch);
            b.put_i32_le(p.first_seq);
            b.put_i32_le(p.last_seq);
        }
        b.freeze()
    }

    /// Attributes as stored; None for bytes this version does not read (the record is then
    /// served as a Kinesis one).
    pub fn decode(mut b: Bytes) -> Option<Attrs> {
        fn take(b: &mut Bytes, n: usize) -> Option<Bytes> {
            (b.remaining() >= n).then(|| b.split_to(n))
        }
        if b.remaining() < 10 || b.get_u8() != ATTRS_VERSION {
            return None;
        }
        let flags = b.get_u8();
        let timestamp = b.get_i64_le();
        let key = match flags & 5 {
            1 => Some(None),
            4 => {
                let n = (b.remaining() >= 4).then(|| b.get_u32_le())? as usize;
                Some(Some(take(&mut b, n)?))
            }
            _ => None,
        };
        let count = (b.remaining() >= 4).then(|| b.get_u32_le())? as usize;
        // Every header takes eight bytes at least.
        let mut headers = Vec::with_capacity(count.min(b.remaining() / 8));
        for _ in 0..count {
            let n = (b.remaining() >= 4).then(|| b.get_u32_le())? as usize;
            let name = take(&mut b, n)?;
            let n = (b.remaining() >= 4).then(|| b.get_i32_le())?;
            let value = match n {
                -1 => None,
                n if n >= 0 => Some(take(&mut b, n as usize)?),
                _ => return None,
            };
            headers.push((name, value));
        }
        let producer = match flags & 8 != 0 && b.remaining() >= 18 {
            true => Some(ProducerMark {
                id: b.get_i64_le(),
                epoch: b.get_i16_le(),
                first_seq: b.get_i32_le(),
                last_seq: b.get_i32_le(),
            }),
            false => None,
        };
        Some(Attrs {
            timestamp,
            key,
            value_null: flags & 2 != 0,
            headers,
            producer,
        })
    }
}

/// What compaction keeps a record under: its Kafka key (a Kinesis record's: its partition
/// key); a null value is a tombstone; a record with a null key is never removed.
pub fn compaction_key(r: &ShardRecord) -> CompactKey {
    let Some(a) = r.attrs.clone().and_then(Attrs::decode) else {
        return CompactKey::Key(Bytes::copy_from_slice(r.partition_key.as_bytes()));
    };
    let key = match a.key {
        None => Bytes::copy_from_slice(r.partition_key.as_bytes()),
        Some(Some(k)) => k,
        Some(None) => return CompactKey::Keep,
    };
    match a.value_null {
        true => CompactKey::Tombstone(key),
        false => CompactKey::Key(key),
    }
}

/// Records read from a shard as one uncompressed batch: CreateTime (a Kafka record's producer
/// timestamp, a Kinesis record's arrival), or every record's arrival as LogAppendTime when
/// the topic is so configured.
pub fn encode(records: &[ShardRecord], log_append: bool) -> Bytes {
    let Some(first) = records.first() else {
        return Bytes::new();
    };
    // Offset deltas are 32-bit: a batch ends before a gap that wide (the next fetch goes on).
    let fits = records
        .iter()
        .take_while(|r| r.offset - first.offset <= i32::MAX as u64)
        .count();
    let records = &records[..fits];
    let attrs: Vec<Option<Attrs>> = records
        .iter()
        .map(|r| r.attrs.clone().and_then(Attrs::decode))
        .collect();
    let out: Vec<OutRecord> = records
        .iter()
        .zip(&attrs)
        .map(|(r, a)| match a {
            None => OutRecord {
                offset_delta: (r.offset - first.offset) as i32,
                timestamp: r.arrival_ms,
                key: Some(r.partition_key.as_bytes()),
                value: Some(&r.data),
                headers: &[],
            },
            Some(a) => OutRecord {
                offset_delta: (r.offset - first.offset) as i32,
                timestamp: if log_append {
                    r.arrival_ms
                } else {
                    a.timestamp
                },
                key: match &a.key {
                    None => Some(r.partition_key.as_bytes()),
                    Some(k) => k.as_deref(),
                },
                value: (!a.value_null).then_some(&r.data[..]),
                headers: &a.headers,
            },
        })
        .collect();
    let mut buf = BytesMut::with_capacity(batch::encoded_len(&out));
    batch::encode(&mut buf, first.offset as i64, &out, log_append);
    buf.freeze()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored(offset: u64, key: Option<&[u8]>, value: Option<&[u8]>) -> ShardRecord {
        let rec = Rec {
            timestamp: 5,
            key: key.map(Bytes::copy_from_slice),
            value: value.map(Bytes::copy_from_slice),
            headers: Vec::new(),
        };
        let partition_key = partition_key(key, 0);
        ShardRecord {
            offset,
            arrival_ms: 9,
            attrs: Some(Attrs::of(&rec, &partition_key).encode()),
            partition_key,
            data: rec.value.unwrap_or_default(),
        }
    }

    #[test]
    fn compaction_keys_follow_the_kafka_key() {
        let key = |k: &[u8]| CompactKey::Key(Bytes::copy_from_slice(k));
        assert_eq!(
            compaction_key(&stored(0, Some(b"a"), Some(b"v"))),
            key(b"a")
        );
        // A key that is not a partition key (hex there) compacts by its bytes.
        let raw = [0xffu8, 0];
        assert_eq!(
            compaction_key(&stored(0, Some(&raw), Some(b"v"))),
            key(&raw)
        );
        assert_eq!(
            compaction_key(&stored(0, Some(b"a"), None)),
            CompactKey::Tombstone(Bytes::from_static(b"a"))
        );
        assert_eq!(
            compaction_key(&stored(0, None, Some(b"v"))),
            CompactKey::Keep
        );
        // A Kinesis record: its partition key.
        let mut kinesis = stored(0, Some(b"pk"), Some(b"v"));
        kinesis.attrs = None;
        assert_eq!(compaction_key(&kinesis), key(b"pk"));
    }

    #[test]
    fn a_fetched_batch_keeps_the_gaps_compaction_left() {
        let recs = [
            stored(10, Some(b"a"), Some(b"1")),
            stored(13, Some(b"b"), Some(b"2")),
        ];
        let bytes = encode(&recs, false);
        // Base offset, then lastOffsetDelta after length, leader epoch, magic, CRC, attributes.
        assert_eq!(&bytes[0..8], &10i64.to_be_bytes());
        assert_eq!(&bytes[23..27], &3i32.to_be_bytes());
    }

    #[test]
    fn keys_become_partition_keys() {
        assert_eq!(partition_key(Some(b"user-1"), 3), "user-1");
        assert_eq!(partition_key(None, 3), "3");
        assert_eq!(partition_key(Some(b""), 0), "0");
        assert_eq!(partition_key(Some(&[0xff, 0x00]), 0), "ff00");
    }

    #[test]
    fn a_read_is_one_batch_that_decodes() {
        let rec = |offset, key: &str, data: &'static [u8]| ShardRecord {
            offset,
            arrival_ms: 1_700_000_000_000,
            partition_key: key.into(),
            data: Bytes::from_static(data),
            attrs: None,
        };
        let bytes = encode(&[rec(7, "a", b"one"), rec(8, "b", b"two")], false);
        assert_eq!(i64::from_be_bytes(bytes[..8].try_into().unwrap()), 7);
        let got = decode(bytes, 0).unwrap();
        assert_eq!((got.len(), got[0].producer_id, got[0].last_seq), (1, -1, 0));
        assert_eq!(
            got[0]
                .entries
                .iter()
                .map(|e| (e.partition_key.as_str(), &e.data[..]))
                .collect::<Vec<_>>(),
            vec![("a", &b"one"[..]), ("b", &b"two"[..])]
        );
    }

    #[test]
    fn what_kinesis_cannot_carry_comes_back_to_kafka() {
        let rec = |key: Option<&'static [u8]>, value: Option<&'static [u8]>, headers| Rec {
            timestamp: 1_234,
            key: key.map(Bytes::from_static),
            value: value.map(Bytes::from_static),
            headers,
        };
        let produced = [
            rec(Some(b"plain"), Some(b"v"), vec![]),
            rec(None, None, vec![(Bytes::from_static(b"h"), None)]),
            rec(
                Some(&[0xff, 0]),
                Some(b""),
                vec![(Bytes::from_static(b"a"), Some(Bytes::from_static(b"1")))],
            ),
        ];
        let stored: Vec<ShardRecord> = produced
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let pk = partition_key(r.key.as_deref(), 2);
                let attrs = Attrs::of(r, &pk).encode();
                ShardRecord {
                    offset: i as u64,
                    arrival_ms: 9_999,
                    partition_key: pk,
                    data: r.value.clone().unwrap_or_default(),
                    attrs: Some(attrs),
                }
            })
            .collect();
        assert_eq!(stored[1].partition_key, "2");
        assert_eq!(stored[2].partition_key, "ff00");
        let back = batch::decode_all(encode(&stored, false), 1 << 20).unwrap();
        assert_eq!(back[0].records, produced.to_vec());
        // Damaged attributes read as a Kinesis record, never a panic.
        assert_eq!(Attrs::decode(Bytes::from_static(&[1, 4, 0, 0])), None);
        assert_eq!(
            Attrs::decode(Bytes::from_static(&[
                1, 4, 0, 0, 0, 0, 0, 0, 0, 0, 9, 9, 9, 9
            ])),
            None
        );
    }

    #[test]
    fn a_batch_remembers_its_producer_on_its_first_record() {
        let data = {
            let mut out = BytesMut::new();
            batch::encode(
                &mut out,
                0,
                &[
                    OutRecord {
                        offset_delta: 0,
                        timestamp: 1,
                        key: Some(b"k"),
                        value: Some(b"a"),
                        headers: &[],
                    },
                    OutRecord {
                        offset_delta: 1,
                        timestamp: 2,
                        key: Some(b"k"),
                        value: Some(b"b"),
                        headers: &[],
                    },
                ],
                false,
            );
            // An idempotent producer's batch: id 42, epoch 3, sequences 7..8.
            let mut v = out.to_vec();
            v[43..51].copy_from_slice(&42i64.to_be_bytes());
            v[51..53].copy_from_slice(&3i16.to_be_bytes());
            v[53..57].copy_from_slice(&7i32.to_be_bytes());
            let crc = crc32c::crc32c(&v[21..]);
            v[17..21].copy_from_slice(&crc.to_be_bytes());
            Bytes::from(v)
        };
        let produced = decode(data, 0).unwrap();
        let marks: Vec<_> = produced[0]
            .entries
            .iter()
            .map(|e| Attrs::decode(e.attrs.clone().unwrap()).unwrap().producer)
            .collect();
        let want = ProducerMark {
            id: 42,
            epoch: 3,
            first_seq: 7,
            last_seq: 8,
        };
        assert_eq!(marks, vec![Some(want), None]);
    }
}
