//! ListOffsets: a partition's earliest (-2) or latest (-1) offset, the record with the largest
//! timestamp (-3, taken as the last record: Weir keeps no max-timestamp index), or the first
//! record whose timestamp (the producer's CreateTime, a Kinesis record's arrival) is at or
//! after a time. The search starts at the first record that arrived at or after that time and
//! reads on from there, so a producer whose clock runs ahead of the broker's can be missed.

use kafka_protocol::messages::list_offsets_response::{
    ListOffsetsPartitionResponse, ListOffsetsTopicResponse,
};
use kafka_protocol::messages::{ListOffsetsRequest, ListOffsetsResponse};
use weir_log::{LogError, ShardRecord, StreamKey};

use crate::records::Attrs;
use crate::{errors, topics, Broker};

const LATEST: i64 = -1;
const EARLIEST: i64 = -2;
const MAX_TIMESTAMP: i64 = -3;
/// How far a search by time reads past its starting record.
const SEARCH_BYTES: usize = 16 << 20;

/// A record's Kafka timestamp: the producer's, or its arrival on a LogAppendTime topic.
pub fn timestamp(r: &ShardRecord, log_append: bool) -> i64 {
    match log_append {
        true => r.arrival_ms,
        false => r
            .attrs
            .clone()
            .and_then(Attrs::decode)
            .map_or(r.arrival_ms, |a| a.timestamp),
    }
}

/// (offset, timestamp) of the answer; (-1, -1) when no record qualifies.
fn find(
    b: &Broker,
    key: &StreamKey,
    index: u32,
    at: i64,
    log_append: bool,
) -> Result<(i64, i64), LogError> {
    let timestamp = |r: &ShardRecord| timestamp(r, log_append);
    match at {
        LATEST => b
            .log
            .shard_bounds(key, index)
            .map(|(_, end)| (end as i64, -1)),
        EARLIEST => b
            .log
            .shard_bounds(key, index)
            .map(|(start, _)| (start as i64, -1)),
        MAX_TIMESTAMP => {
            let (start, end) = b.log.shard_bounds(key, index)?;
            if end == start {
                return Ok((-1, -1));
            }
            let read = b.log.read_shard(key, index, end - 1, 1)?;
            Ok(read
                .records
                .first()
                .map_or((-1, -1), |r| (r.offset as i64, timestamp(r))))
        }
        at => {
            let mut from = b.log.shard_offset_at(key, index, at)?;
            let mut read_bytes = 0;
            while read_bytes < SEARCH_BYTES {
                let read = b.log.read_shard(key, index, from, 1 << 20)?;
                let Some(last) = read.records.last() else {
                    break;
                };
                if let Some(r) = read.records.iter().find(|r| timestamp(r) >= at) {
                    return Ok((r.offset as i64, timestamp(r)));
                }
                read_bytes += read.records.iter().map(|r| r.data.len()).sum::<usize>();
                from = last.offset + 1;
            }
            Ok((-1, -1))
        }
    }
}

pub fn handle(b: &Broker, r: ListOffsetsRequest) -> ListOffsetsResponse {
    let mut out = ListOffsetsResponse::default();
    for topic in r.topics {
        let key = topics::key(b, topic.name.0.as_str());
        let log_append = b.topic_configs.log_append_time(topic.name.0.as_str());
        let mut t = ListOffsetsTopicResponse::default();
        t.name = topic.name.clone();
        for p in topic.partitions {
            let mut a = ListOffsetsPartitionResponse::default();
            a.partition_index = p.partition_index;
            let index = u32::try_from(p.partition_index).unwrap_or(u32::MAX);
            match find(b, &key, index, p.timestamp, log_append) {
                Ok((offset, ts)) => {
                    a.offset = offset;
                    a.timestamp = ts;
                }
                Err(e) => {
                    a.error_code = errors::code(&e);
                    a.offset = -1;
                    a.timestamp = -1;
                }
            }
            t.partitions.push(a);
        }
        out.topics.push(t);
    }
    out
}
