//! OffsetCommit: a group's positions, fsynced before the answer. Members commit in their
//! generation; consumers outside group management (assign()) commit at generation -1.

use kafka_protocol::messages::offset_commit_response::{
    OffsetCommitResponsePartition, OffsetCommitResponseTopic,
};
use kafka_protocol::messages::{OffsetCommitRequest, OffsetCommitResponse};

use crate::groups::Committed;
use crate::{errors, topics, Broker};

/// Kafka's `offset.metadata.max.bytes`.
const MAX_METADATA: usize = 4096;

pub async fn handle(b: &Broker, r: OffsetCommitRequest) -> OffsetCommitResponse {
    let group = r.group_id.0.to_string();
    let allowed = b.groups.may_commit(
        &group,
        r.generation_id_or_member_epoch,
        r.member_id.as_str(),
    );
    let mut out = OffsetCommitResponse::default();
    let mut commits = Vec::new();
    // (topic index, partition index) of each commit, for its answer.
    let mut placed = Vec::new();
    for (ti, t) in r.topics.into_iter().enumerate() {
        let name = t.name.0.to_string();
        let known = topics::partitions(b, &name, false).ok();
        let mut topic = OffsetCommitResponseTopic::default();
        topic.name = t.name;
        for (pi, p) in t.partitions.into_iter().enumerate() {
            let mut answer = OffsetCommitResponsePartition::default();
            answer.partition_index = p.partition_index;
            let exists = known
                .as_ref()
                .is_some_and(|ps| ps.iter().any(|x| x.index as i32 == p.partition_index));
            let metadata = p.committed_metadata.map(|m| m.to_string());
            answer.error_code = match allowed {
                Err(code) => code,
                Ok(()) if !exists => errors::UNKNOWN_TOPIC_OR_PARTITION,
                Ok(()) if metadata.as_ref().is_some_and(|m| m.len() > MAX_METADATA) => {
                    errors::OFFSET_METADATA_TOO_LARGE
                }
                Ok(()) => {
                    let c = Committed {
                        offset: p.committed_offset,
                        leader_epoch: p.committed_leader_epoch,
                        metadata,
                    };
                    commits.push((name.clone(), p.partition_index, c));
                    placed.push((ti, pi));
                    errors::NONE
                }
            };
            topic.partitions.push(answer);
        }
        out.topics.push(topic);
    }
    if !commits.is_empty() {
        let groups = b.groups.clone();
        let written =
            tokio::task::spawn_blocking(move || groups.offsets.commit(&group, commits)).await;
        if !matches!(written, Ok(Ok(()))) {
            tracing::warn!(?written, "a Kafka offset commit was not written");
            for (ti, pi) in placed {
                out.topics[ti].partitions[pi].error_code = errors::COORDINATOR_NOT_AVAILABLE;
            }
        }
    }
    out
}
