//! Kafka record batches ↔ Weir records. A produced record's value is the record's data; its key,
//! when UTF-8 of 1 to 256 characters, is the PartitionKey Kinesis readers see (otherwise its
//! bytes in hex, cut to 256 characters; a null key: the partition's number). Headers, null
//! values and the producer's timestamps are not kept yet (`docs/plans/kafka.md`, increment 2).
//! A fetched record's key is its PartitionKey, its timestamp its arrival (LogAppendTime).

use bytes::{Bytes, BytesMut};
use kafka_protocol::indexmap::IndexMap;
use kafka_protocol::records::{
    Compression, Record, RecordBatchDecoder, RecordBatchEncoder, RecordEncodeOptions, TimestampType,
};
use weir_log::{ShardEntry, ShardRecord};

/// The records of a produce request's partition data.
pub fn decode(mut data: Bytes, partition: i32) -> Result<Vec<ShardEntry>, String> {
    let sets = RecordBatchDecoder::decode_all(&mut data).map_err(|e| e.to_string())?;
    Ok(sets
        .into_iter()
        .flat_map(|s| s.records)
        .map(|r| ShardEntry {
            partition_key: partition_key(r.key.as_deref(), partition),
            data: r.value.unwrap_or_default(),
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

/// Records read from a shard as one uncompressed v2 batch.
pub fn encode(records: &[ShardRecord]) -> Result<Bytes, String> {
    let first = records.first().map_or(0, |r| r.offset);
    let records: Vec<Record> = records
        .iter()
        .map(|r| Record {
            transactional: false,
            control: false,
            delete_horizon: false,
            partition_leader_epoch: 0,
            producer_id: -1,
            producer_epoch: -1,
            timestamp_type: TimestampType::LogAppend,
            offset: r.offset as i64,
            // The encoder keeps records in one batch while offset − sequence is the same.
            sequence: (r.offset - first) as i32 - 1,
            timestamp: r.arrival_ms,
            key: Some(Bytes::from(r.partition_key.clone().into_bytes())),
            value: Some(r.data.clone()),
            headers: IndexMap::new(),
        })
        .collect();
    let mut buf = BytesMut::new();
    let options = RecordEncodeOptions {
        version: 2,
        compression: Compression::None,
    };
    RecordBatchEncoder::encode(&mut buf, records.iter(), &options).map_err(|e| e.to_string())?;
    Ok(buf.freeze())
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
    fn a_batch_read_back_decodes() {
        let rec = |offset, key: &str, data: &'static [u8]| ShardRecord {
            offset,
            arrival_ms: 1_700_000_000_000,
            partition_key: key.into(),
            data: Bytes::from_static(data),
        };
        let bytes = encode(&[rec(7, "a", b"one"), rec(8, "b", b"two")]).unwrap();
        // One batch for the read, not one per record.
        let info = RecordBatchDecoder::decode_batch_info(&mut bytes.clone()).unwrap();
        assert_eq!(info.len(), 1);
        assert_eq!((info[0].record_count, info[0].min_offset), (2, 7));
        let got = decode(bytes, 0).unwrap();
        assert_eq!(
            got.iter()
                .map(|e| (e.partition_key.as_str(), &e.data[..]))
                .collect::<Vec<_>>(),
            vec![("a", &b"one"[..]), ("b", &b"two"[..])]
        );
    }
}
