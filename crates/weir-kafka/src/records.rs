//! Kafka records ↔ Weir records. A produced record's value is the record's data; its key,
//! when UTF-8 of 1 to 256 characters, is the PartitionKey Kinesis readers see (otherwise its
//! bytes in hex, cut to 256 characters; a null key: the partition's number). Headers, null
//! values and the producer's timestamps are not kept yet (`docs/plans/kafka.md`, increment 2).
//! A fetched record's key is its PartitionKey, its timestamp its arrival (LogAppendTime).

use bytes::{Bytes, BytesMut};
use weir_log::{ShardEntry, ShardRecord};

use crate::batch::{self, BatchError, OutRecord};

/// The most a produced batch may hold once decompressed.
pub const MAX_INFLATED: usize = 64 * 1024 * 1024;

/// One produced batch as Weir records, with the producer's id and sequences (−1 when the
/// producer is not idempotent).
pub struct Produced {
    pub producer_id: i64,
    pub epoch: i16,
    pub first_seq: i32,
    pub last_seq: i32,
    pub entries: Vec<ShardEntry>,
}

/// The batches of a produce request's partition data.
pub fn decode(data: Bytes, partition: i32) -> Result<Vec<Produced>, BatchError> {
    let batches = batch::decode_all(data, MAX_INFLATED)?;
    Ok(batches
        .into_iter()
        .map(|b| Produced {
            producer_id: b.producer_id,
            epoch: b.producer_epoch,
            first_seq: b.base_sequence,
            last_seq: crate::producers::add_seq(b.base_sequence, b.last_offset_delta),
            entries: b
                .records
                .into_iter()
                .map(|r| ShardEntry {
                    partition_key: partition_key(r.key.as_deref(), partition),
                    data: r.value.unwrap_or_default(),
                })
                .collect(),
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

/// Records read from a shard as one uncompressed batch, stamped LogAppendTime.
pub fn encode(records: &[ShardRecord]) -> Bytes {
    let Some(first) = records.first() else {
        return Bytes::new();
    };
    let out: Vec<OutRecord> = records
        .iter()
        .map(|r| OutRecord {
            timestamp: r.arrival_ms,
            key: Some(r.partition_key.as_bytes()),
            value: Some(&r.data),
            headers: &[],
        })
        .collect();
    let mut buf = BytesMut::new();
    batch::encode(&mut buf, first.offset as i64, &out, true);
    buf.freeze()
}

#[cfg(test)]
mod tests {
    use super::*;

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
        };
        let bytes = encode(&[rec(7, "a", b"one"), rec(8, "b", b"two")]);
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
}
