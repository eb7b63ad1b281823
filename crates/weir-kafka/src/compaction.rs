//! The compactor: every `compaction_interval`, each partition of every topic whose
//! `cleanup.policy` has `compact` gets a pass (weir-log's `compact_shard`, keyed by
//! `records::compaction_key`), one partition at a time, off the async threads.

use std::sync::Arc;

use crate::{records, topics, Broker};

pub async fn run(b: Arc<Broker>) {
    let mut every = tokio::time::interval(b.opts.compaction_interval);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        for topic in b.topic_configs.topics_with_policy() {
            let Some(policy) = b.topic_configs.compaction(&topic) else {
                continue;
            };
            let key = topics::key(&b, &topic);
            let Ok(parts) = b.log.partitions(&key) else {
                continue;
            };
            for p in parts {
                // A stopping broker starts no more passes (one running finishes its segment
                // range first).
                if *b.stop.borrow() {
                    return;
                }
                let (log, key) = (b.log.clone(), key.clone());
                let pass = tokio::task::spawn_blocking(move || {
                    log.compact_shard(&key, p.index, &policy, &records::compaction_key)
                })
                .await;
                match pass {
                    Ok(Ok(stats)) if stats.segments_rewritten > 0 => tracing::debug!(
                        %topic,
                        partition = p.index,
                        removed = stats.records_removed,
                        bytes_before = stats.bytes_before,
                        bytes_after = stats.bytes_after,
                        "partition compacted"
                    ),
                    Ok(Ok(_)) => {}
                    Ok(Err(e)) => {
                        tracing::warn!(%topic, partition = p.index, error = %e, "compaction failed")
                    }
                    Err(e) => tracing::warn!(%topic, error = %e, "compaction task failed"),
                }
            }
        }
    }
}
