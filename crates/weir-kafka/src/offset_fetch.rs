//! OffsetFetch: a group's committed positions (−1 where none), by topic or all of them; one
//! group before v8, several from v8.

use kafka_protocol::messages::offset_fetch_response::{
    OffsetFetchResponseGroup, OffsetFetchResponsePartition, OffsetFetchResponsePartitions,
    OffsetFetchResponseTopic, OffsetFetchResponseTopics,
};
use kafka_protocol::messages::{OffsetFetchRequest, OffsetFetchResponse, TopicName};
use kafka_protocol::protocol::StrBytes;

use crate::groups::{Committed, TopicOffsets};
use crate::Broker;

type Found = Vec<TopicOffsets>;

fn parts(c: &Option<Committed>) -> (i64, i32, StrBytes) {
    match c {
        Some(c) => (
            c.offset,
            c.leader_epoch,
            StrBytes::from_string(c.metadata.clone().unwrap_or_default()),
        ),
        None => (-1, -1, StrBytes::default()),
    }
}

pub fn handle(b: &Broker, r: OffsetFetchRequest, version: i16) -> OffsetFetchResponse {
    let store = &b.groups.offsets;
    let mut out = OffsetFetchResponse::default();
    if version < 8 {
        let wanted: Option<Vec<(String, Vec<i32>)>> = r.topics.map(|ts| {
            ts.into_iter()
                .map(|t| (t.name.0.to_string(), t.partition_indexes))
                .collect()
        });
        let found: Found = store.fetch(r.group_id.0.as_str(), wanted.as_deref());
        out.topics = found
            .into_iter()
            .map(|(name, ps)| {
                let mut t = OffsetFetchResponseTopic::default();
                t.name = TopicName(StrBytes::from_string(name));
                t.partitions = ps
                    .iter()
                    .map(|(index, c)| {
                        let (offset, epoch, metadata) = parts(c);
                        let mut p = OffsetFetchResponsePartition::default();
                        p.partition_index = *index;
                        p.committed_offset = offset;
                        p.committed_leader_epoch = epoch;
                        p.metadata = Some(metadata);
                        p
                    })
                    .collect();
                t
            })
            .collect();
        return out;
    }
    out.groups = r
        .groups
        .into_iter()
        .map(|g| {
            let wanted: Option<Vec<(String, Vec<i32>)>> = g.topics.map(|ts| {
                ts.into_iter()
                    .map(|t| (t.name.0.to_string(), t.partition_indexes))
                    .collect()
            });
            let found: Found = store.fetch(g.group_id.0.as_str(), wanted.as_deref());
            let mut group = OffsetFetchResponseGroup::default();
            group.group_id = g.group_id;
            group.topics = found
                .into_iter()
                .map(|(name, ps)| {
                    let mut t = OffsetFetchResponseTopics::default();
                    t.name = TopicName(StrBytes::from_string(name));
                    t.partitions = ps
                        .iter()
                        .map(|(index, c)| {
                            let (offset, epoch, metadata) = parts(c);
                            let mut p = OffsetFetchResponsePartitions::default();
                            p.partition_index = *index;
                            p.committed_offset = offset;
                            p.committed_leader_epoch = epoch;
                            p.metadata = Some(metadata);
                            p
                        })
                        .collect();
                    t
                })
                .collect();
            group
        })
        .collect();
    out
}
