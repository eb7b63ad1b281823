//! Produce: each partition's batches appended to its shard, durably (acks 1 and all alike: a
//! Weir write is fsynced before it is answered); acks=0 gets no answer.

use kafka_protocol::messages::produce_response::{PartitionProduceResponse, TopicProduceResponse};
use kafka_protocol::messages::{ProduceRequest, ProduceResponse};

use crate::{errors, records, topics, Broker};

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
            match open {
                Err(code) => p.error_code = code,
                Ok(index) => {
                    let entries = match pd.records {
                        Some(data) => records::decode(data, pd.index),
                        None => Ok(Vec::new()),
                    };
                    match entries {
                        Err(e) => {
                            tracing::debug!(topic = %name, error = %e, "a produced batch did not decode");
                            p.error_code = errors::batch(&e);
                        }
                        Ok(entries) => {
                            let key = topics::key(b, &name);
                            match b.log.append_to_shard(&key, index, entries).await {
                                Ok((base, _)) => {
                                    p.base_offset = base as i64;
                                    p.log_start_offset = b
                                        .log
                                        .shard_bounds(&key, index)
                                        .map_or(0, |(start, _)| start as i64);
                                }
                                Err(e) => p.error_code = errors::code(&e),
                            }
                        }
                    }
                }
            }
            t.partition_responses.push(p);
        }
        out.responses.push(t);
    }
    (r.acks != 0).then_some(out)
}
