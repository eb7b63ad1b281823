//! SubscribeToShard: records pushed to an enhanced fan-out consumer as event-stream messages.
//!
//! The answer is an `initial-response` event, then `SubscribeToShardEvent`s: one as soon as new
//! records are durable (the shard's durable end is watched, no polling interval), and one at
//! least every heartbeat even when idle. The stream ends after the subscription lifetime, or after
//! the event that carries a closed shard's ChildShards.

use tokio::sync::mpsc;
use tokio::time::Instant;

use super::common::{
    child_shards_value, consumer_stream_key, iterator_start, record_value, CONSUMER_ARN,
    ITERATOR_TYPES, SEQUENCE_NUMBER, SHARD_ID, STREAM_ID,
};
use crate::body::Piece;
use crate::error::ApiError;
use crate::eventstream;
use crate::fanout::Lease;
use crate::input::{Input, StrRule};
use crate::value::{self, Protocol, Value};
use crate::{Ctx, Reply};

pub async fn handle(ctx: &Ctx, mut input: Input) -> Result<Reply, ApiError> {
    let arn = input.string("ConsumerARN", true, CONSUMER_ARN)?;
    input.string("StreamId", false, STREAM_ID)?;
    let shard = input.string("ShardId", true, SHARD_ID)?;
    let position = input.structure("StartingPosition", |p| {
        let kind = p.string("Type", true, StrRule::one_of(ITERATOR_TYPES))?;
        let seq = p.string("SequenceNumber", false, SEQUENCE_NUMBER)?;
        let ts = p.timestamp("Timestamp")?;
        Ok((kind, seq, ts))
    })?;
    let Some(position) = position else {
        input.finish()?;
        return Err(ApiError::validation(
            "1 validation error detected: Value null at 'startingPosition' failed to satisfy constraint: \
             Member must not be null",
        ));
    };
    input.finish()?;
    let (arn, shard) = (arn.unwrap_or_default(), shard.unwrap_or_default());
    let (kind, seq, ts) = position;
    let key = consumer_stream_key(ctx, &arn)?;
    let consumer = ctx.log.describe_consumer_arn(&key, &arn)?;
    if consumer.status != "ACTIVE" {
        return Err(ApiError::new(
            "ResourceInUseException",
            400,
            format!(
                "Consumer {arn} is not ACTIVE, instead in state {}.",
                consumer.status
            ),
        ));
    }
    // AWS: one SubscribeToShard call per second per consumer and shard.
    if !ctx.admit(&format!("SubscribeToShard/{arn}/{shard}"), 1) {
        return Err(ApiError::new(
            "LimitExceededException",
            400,
            format!("Rate exceeded for SubscribeToShard by consumer {arn} on shard {shard}."),
        ));
    }
    let start = iterator_start(kind.as_deref().unwrap_or(""), seq, ts)?;
    let iterator = ctx.log.shard_iterator(&key, &shard, &start)?;
    let lease = ctx.fanout.lease(&arn, &shard)?;
    // Two encoded events may wait for a slow subscriber; each holds its share of the read
    // budget until the connection has taken it.
    let (tx, rx) = mpsc::channel(2);
    let pump = Pump {
        log: ctx.log.clone(),
        reads: ctx.reads.clone(),
        protocol: ctx.protocol,
        tx,
        _lease: lease,
        deadline: Instant::now() + ctx.fanout.lifetime,
        heartbeat: ctx.fanout.heartbeat,
        // AWS's enhanced fan-out: 2 MiB/s per consumer per shard.
        pacer: ctx
            .rates
            .as_ref()
            .map(|_| crate::rates::Pacer::new(2 << 20, Instant::now().into_std())),
    };
    tokio::spawn(pump.run(iterator));
    Ok(Reply::Events(rx))
}

struct Pump {
    log: weir_log::Log,
    reads: std::sync::Arc<crate::ReadBudget>,
    protocol: Protocol,
    tx: mpsc::Sender<Piece>,
    _lease: Lease,
    deadline: Instant,
    heartbeat: std::time::Duration,
    /// Paces events when AWS limits are on.
    pacer: Option<crate::rates::Pacer>,
}

impl Pump {
    async fn run(mut self, mut iterator: String) {
        let ct = self.protocol.content_type();
        let empty = value::encode(self.protocol, &Value::Map(Vec::new()));
        if self
            .tx
            .send(eventstream::event("initial-response", ct, &empty).into())
            .await
            .is_err()
        {
            return;
        }
        let mut last_event = Instant::now();
        let mut first = true;
        loop {
            // Subscribe before reading, so a write landing in between still wakes us.
            let mut watch = match self.log.watch_iterator_shard(&iterator) {
                Ok(w) => w,
                Err(e) => return self.fail(e.into()).await,
            };
            let Some(mut held) = self.reads.reserve(10 << 20).await else {
                return self
                    .fail(ApiError::internal("the read budget is closed"))
                    .await;
            };
            let log = self.log.clone();
            let it = iterator.clone();
            let out = match tokio::task::spawn_blocking(move || log.get_records(&it, None)).await {
                Ok(Ok(out)) => out,
                Ok(Err(e)) => return self.fail(e.into()).await,
                Err(e) => return self.fail(ApiError::internal(e.to_string())).await,
            };
            crate::ReadBudget::settle(
                &mut held,
                out.records.iter().map(|r| r.data.len() + 256).sum(),
            );
            let has_records = !out.records.is_empty();
            let ended = out.next_iterator.is_none();
            if has_records || ended || first || last_event.elapsed() >= self.heartbeat {
                let encrypted = out.encrypted;
                let bytes: usize = out.records.iter().map(|r| r.data.len()).sum();
                let event = Value::map([
                    (
                        "Records",
                        Value::List(
                            out.records
                                .into_iter()
                                .map(|r| record_value(r, encrypted))
                                .collect(),
                        ),
                    ),
                    (
                        "ContinuationSequenceNumber",
                        Value::Str(out.continuation_sequence_number),
                    ),
                    (
                        "MillisBehindLatest",
                        Value::Int(out.millis_behind_latest.into()),
                    ),
                    ("ChildShards", child_shards_value(out.child_shards)),
                ]);
                let payload = value::encode(self.protocol, &event);
                drop(event);
                let message = eventstream::event("SubscribeToShardEvent", ct, &payload);
                crate::ReadBudget::settle(&mut held, message.len());
                let piece = Piece {
                    bytes: message,
                    held: Some(held),
                };
                if self.tx.send(piece).await.is_err() {
                    return;
                }
                last_event = Instant::now();
                first = false;
                if let Some(pacer) = self.pacer.as_mut() {
                    let wait = pacer.after(bytes, last_event.into_std());
                    if !wait.is_zero() {
                        tokio::select! {
                            () = tokio::time::sleep(wait) => {}
                            () = self.tx.closed() => return,
                        }
                    }
                }
            }
            let Some(next) = out.next_iterator else {
                return;
            };
            iterator = next;
            if Instant::now() >= self.deadline {
                return;
            }
            if !has_records {
                let wake = (last_event + self.heartbeat).min(self.deadline);
                tokio::select! {
                    changed = watch.changed() => if changed.is_err() { return },
                    () = tokio::time::sleep_until(wake) => {}
                    () = self.tx.closed() => return,
                }
            }
        }
    }

    async fn fail(&self, e: ApiError) {
        let body = Value::map([("message", Value::Str(e.message))]);
        let payload = value::encode(self.protocol, &body);
        let _ = self
            .tx
            .send(eventstream::exception(e.code, self.protocol.content_type(), &payload).into())
            .await;
    }
}
