//! Produce: each partition's batches appended to its shard, durably (acks 1 and all alike: a
//! Weir write is fsynced before it is answered); acks=0 gets no answer. An idempotent
//! producer's retried batch is answered with its first offset, not written twice.

use kafka_protocol::messages::produce_response::{PartitionProduceResponse, TopicProduceResponse};
use kafka_protocol::messages::{ProduceRequest, ProduceResponse};

use crate::producers::Verdict;
use crate::records::{self, Produced};
use crate::{errors, topics, Broker};

pub async fn handle(b: &Broker, r: ProduceRequest) -> Option<ProduceResponse> {
    let refused = if r.transactional_id.is_some() {
        // Transactions are not served yet: refused, never left hanging.
        Some(errors::TRANSACTIONAL_ID_AUTHORIZATION_FAILED)
    } else if !(-1..=1).contains(&r.acks) {
        Some(errors::INVALID_REQUIRED_ACKS)
    } else {
        None
    };
    let mut out = ProduceResponse::default();
    for topic in r.topic_data {
        let name = topic.name.0.as_str().to_string();
        let parts = match refused {
            Some(code) => Err(code),
            None => topics::partitions(b, &name, true),
        };
        let mut t = TopicProduceResponse::default();
        t.name = topic.name.clone();
        for pd in topic.partition_data {
            let mut p = PartitionProduceResponse::default();
            p.index = pd.index;
            p.base_offset = -1;
            p.log_append_time_ms = -1;
            p.log_start_offset = -1;
            let open = parts.as_ref().map_err(|c| *c).and_then(|ps| {
                match ps.iter().find(|x| x.index as i32 == pd.index) {
                    Some(x) if !x.closed => Ok(x.index),
                    _ => Err(errors::UNKNOWN_TOPIC_OR_PARTITION),
                }
            });
            let batch = open.and_then(|_| {
                let data = pd.records.unwrap_or_default();
                let mut batches = records::decode(data, pd.index).map_err(|e| {
                    tracing::debug!(topic = %name, error = %e, "a produced batch did not decode");
                    errors::batch(&e)
                })?;
                // Produce v3 and later carry exactly one batch per partition.
                match (batches.pop(), batches.is_empty()) {
                    (Some(batch), true) => Ok(batch),
                    _ => Err(errors::INVALID_RECORD),
                }
            });
            let appended = match open.and_then(|index| batch.map(|bt| (index, bt))) {
                Err(code) => Err(code),
                Ok((index, batch)) => append(b, &name, index, pd.index, batch)
                    .await
                    .map(|at| (index, at)),
            };
            match appended {
                Err(code) => p.error_code = code,
                Ok((index, (base, arrival_ms))) => {
                    p.base_offset = base;
                    if b.topic_configs.log_append_time(&name) {
                        p.log_append_time_ms = arrival_ms;
                    }
                    p.log_start_offset = b
                        .log
                        .shard_bounds(&topics::key(b, &name), index)
                        .map_or(0, |(start, _)| start as i64);
                }
            }
            t.partition_responses.push(p);
        }
        out.responses.push(t);
    }
    (r.acks != 0).then_some(out)
}

/// How far back a restarted broker looks for returning producers' last batches: records, and
/// bytes of them.
const RECOVERY_RECORDS: u64 = 10_000;
const RECOVERY_BYTES: usize = 64 << 20;

/// Rebuilds what producers from before a restart wrote last to this partition, from the
/// batches' first records (their attributes carry the producer and its sequences): once per
/// partition, for every such producer at once.
async fn recover(b: &Broker, topic: &str, index: u32, partition: i32) {
    let key = topics::key(b, topic);
    let log = b.log.clone();
    let found = tokio::task::spawn_blocking(move || {
        let (start, end) = log.shard_bounds(&key, index)?;
        let mut from = end.saturating_sub(RECOVERY_RECORDS).max(start);
        let (mut marks, mut bytes) = (Vec::new(), 0usize);
        while from < end && bytes < RECOVERY_BYTES {
            let read = log.read_shard(&key, index, from, 8 << 20)?;
            let Some(last) = read.records.last() else {
                break;
            };
            from = last.offset + 1;
            bytes += read.records.iter().map(|r| r.data.len()).sum::<usize>();
            for r in &read.records {
                let mark = r.attrs.clone().and_then(records::Attrs::decode);
                if let Some(m) = mark.and_then(|a| a.producer) {
                    marks.push((m, r.offset as i64));
                }
            }
        }
        Ok::<_, weir_log::LogError>(marks)
    })
    .await;
    if let Ok(Ok(marks)) = found {
        // Compaction may have removed some batches' first records, and their marks with them.
        let compacted = b.topic_configs.compaction(topic).is_some();
        for (m, offset) in marks {
            if b.producers.predates_this_run(m.id) {
                b.producers.record(
                    topic,
                    partition,
                    m.id,
                    m.epoch,
                    m.first_seq,
                    m.last_seq,
                    offset,
                );
                if compacted {
                    b.producers.loosen(topic, partition, m.id);
                }
            }
        }
        b.producers.recovered(topic, partition);
    }
}

/// Appends a partition's batch; its base offset and arrival time. An idempotent producer's
/// batches for a partition are checked, written and remembered one at a time (a retry on
/// another connection waits for the first).
async fn append(
    b: &Broker,
    topic: &str,
    index: u32,
    partition: i32,
    batch: Produced,
) -> Result<(i64, i64), i16> {
    if batch.size > b.topic_configs.max_message_bytes(topic) {
        return Err(errors::MESSAGE_TOO_LARGE);
    }
    // Kafka: "Compacted topic cannot accept message without key".
    if batch.null_key && b.topic_configs.compaction(topic).is_some() {
        return Err(errors::INVALID_RECORD);
    }
    let (pid, epoch) = (batch.producer_id, batch.epoch);
    let (first, last) = (batch.first_seq, batch.last_seq);
    let _turn = match pid >= 0 {
        true => Some(b.producers.turn(topic, partition).await),
        false => None,
    };
    if b.producers.needs_recovery(topic, partition, pid) {
        recover(b, topic, index, partition).await;
    }
    match b.producers.check(topic, partition, pid, epoch, first, last) {
        Verdict::Refuse(code) => Err(code),
        Verdict::Duplicate(base) => Ok((base, b.log.now_ms())),
        Verdict::Append => {
            let key = topics::key(b, topic);
            let (base, arrival_ms) = b
                .log
                .append_to_shard(&key, index, batch.entries)
                .await
                .map_err(|e| errors::code(&e))?;
            let base = base as i64;
            b.producers
                .record(topic, partition, pid, epoch, first, last, base);
            Ok((base, arrival_ms))
        }
    }
}
