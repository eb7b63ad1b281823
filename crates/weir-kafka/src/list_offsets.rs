//! ListOffsets: a partition's earliest (-2) or latest (-1) offset, or the first offset whose
//! record arrived at or after a time (arrival time: Weir keeps no producer timestamps yet).

use kafka_protocol::messages::list_offsets_response::{
    ListOffsetsPartitionResponse, ListOffsetsTopicResponse,
};
use kafka_protocol::messages::{ListOffsetsRequest, ListOffsetsResponse};

use crate::{errors, topics, Broker};

const LATEST: i64 = -1;
const EARLIEST: i64 = -2;

pub fn handle(b: &Broker, r: ListOffsetsRequest) -> ListOffsetsResponse {
    let mut out = ListOffsetsResponse::default();
    for topic in r.topics {
        let key = topics::key(b, topic.name.0.as_str());
        let mut t = ListOffsetsTopicResponse::default();
        t.name = topic.name.clone();
        for p in topic.partitions {
            let mut a = ListOffsetsPartitionResponse::default();
            a.partition_index = p.partition_index;
            a.timestamp = -1;
            a.offset = -1;
            let index = u32::try_from(p.partition_index).unwrap_or(u32::MAX);
            let found = match p.timestamp {
                LATEST => b.log.shard_bounds(&key, index).map(|(_, end)| end),
                EARLIEST => b.log.shard_bounds(&key, index).map(|(start, _)| start),
                at => b.log.shard_offset_at(&key, index, at),
            };
            match (found, p.timestamp >= 0) {
                (Ok(offset), false) => a.offset = offset as i64,
                // By time: the record found and its time; none at or after it: -1, -1.
                (Ok(offset), true) => {
                    if let Ok(read) = b.log.read_shard(&key, index, offset, 1) {
                        if let Some(r) = read.records.first() {
                            a.offset = r.offset as i64;
                            a.timestamp = r.arrival_ms;
                        }
                    }
                }
                (Err(e), _) => a.error_code = errors::code(&e),
            }
            t.partitions.push(a);
        }
        out.topics.push(t);
    }
    out
}
