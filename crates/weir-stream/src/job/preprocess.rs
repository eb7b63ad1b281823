//! Kinesis Data Analytics' input preprocessing: a source table naming a function
//! (`'weir.preprocess.function'`, a Lambda ARN registered in Weir's config) hands the records it
//! reads to it before decoding, by KDA's contract: `{invocationId, applicationArn, streamArn,
//! records: [{recordId, kinesisStreamRecordMetadata: {sequenceNumber, partitionKey, shardId,
//! approximateArrivalTimestamp}, data}]}` answered by `{records: [{recordId, result: "Ok" |
//! "Dropped" | "ProcessingFailed", data}]}`. Ok records go on with the answer's data, Dropped
//! ones are gone, ProcessingFailed ones go to `error_stream` (the answer is read as Firehose's
//! transformation answer, the same contract). An invocation that fails is tried again, with a
//! growing pause, until it succeeds or the job stops (then nothing read since the last
//! checkpoint counts as read); an answer that breaks the contract is asked for again four
//! times, then the chunk's records go to `error_stream`.

use std::time::Duration;

use base64::Engine as _;
use tokio::sync::watch;
use weir_delivery::lambda::{self, Transformed};
use weir_delivery::source::SourceRecord;
use weir_delivery::Delivery;

use crate::decode::Rejected;
use crate::error::{Result, StreamError};
use crate::table::TableDef;

/// The function option, and the application's ARN the events carry.
pub const FUNCTION_OPTION: &str = "weir.preprocess.function";
pub const APPLICATION_OPTION: &str = "weir.preprocess.application";

/// Answers not following the contract before their records fail.
const MALFORMED: u32 = 4;

/// Records per invocation (well inside Lambda's 6 MB event).
const CHUNK: usize = 500;

/// Whether `table` has its records preprocessed.
pub fn enabled(table: &TableDef) -> bool {
    table.flink.options.contains_key(FUNCTION_OPTION)
}

/// The records to decode, and those the function failed.
pub async fn apply(
    table: &TableDef,
    delivery: Option<&Delivery>,
    records: Vec<SourceRecord>,
    stop: &watch::Receiver<bool>,
) -> Result<(Vec<SourceRecord>, Vec<Rejected>)> {
    let Some(arn) = table.flink.options.get(FUNCTION_OPTION) else {
        return Ok((records, Vec::new()));
    };
    let delivery =
        delivery.ok_or_else(|| StreamError::Validation("No functions are registered".into()))?;
    let f = delivery.function(arn).map_err(StreamError::Validation)?;
    let application = table
        .flink
        .options
        .get(APPLICATION_OPTION)
        .cloned()
        .unwrap_or_default();
    let stream_arn = match &table.connector {
        crate::table::Connector::Kinesis { stream, region, .. } => {
            format!("arn:aws:kinesis:{region}:000000000000:stream/{stream}")
        }
        _ => String::new(),
    };
    let mut kept = Vec::with_capacity(records.len());
    let mut failed = Vec::new();
    let mut records = records.into_iter().peekable();
    while records.peek().is_some() {
        let chunk: Vec<SourceRecord> = records.by_ref().take(CHUNK).collect();
        let ids: Vec<String> = (0..chunk.len())
            .map(|i| format!("{}{i:08}", weir_log::ids::uuid().replace('-', "")))
            .collect();
        let event = serde_json::json!({
            "invocationId": weir_log::ids::uuid(),
            "applicationArn": application,
            "streamArn": stream_arn,
            "records": chunk.iter().zip(&ids).map(|(r, id)| serde_json::json!({
                "recordId": id,
                "kinesisStreamRecordMetadata": {
                    "sequenceNumber": &*r.sequence_number,
                    "partitionKey": &*r.partition_key,
                    "shardId": &*r.shard,
                    "approximateArrivalTimestamp": r.arrival_ms,
                },
                "data": base64::engine::general_purpose::STANDARD.encode(&r.data),
            })).collect::<Vec<_>>(),
        })
        .to_string()
        .into_bytes();
        let mut attempt = 0u32;
        // An answer that is not the contract is asked for again a few times; then the records
        // it did not answer for fail (a function that cannot be reached is waited for).
        let mut malformed = 0u32;
        let results: Vec<Transformed> = loop {
            if attempt > 0 {
                if *stop.borrow() {
                    return Err(StreamError::Interrupted(format!(
                        "input preprocessing function {} did not answer",
                        f.name
                    )));
                }
                let pause = 50u64.saturating_mul(1 << attempt.min(6));
                tokio::time::sleep(Duration::from_millis(pause)).await;
            }
            attempt += 1;
            let answer = match lambda::invoke(&f, event.clone()).await {
                Ok(a) => a,
                Err(e) => {
                    tracing::warn!(function = %f.name, error = %e, "input preprocessing failed");
                    continue;
                }
            };
            // The same answer as Firehose's transformation contract.
            match lambda::read_answer(&answer, &ids) {
                Ok(results) => break results,
                Err((code, message)) if malformed >= MALFORMED => {
                    let failed = Transformed::Failed { code, message };
                    break ids.iter().map(|_| failed.clone()).collect();
                }
                Err((code, message)) => {
                    tracing::warn!(function = %f.name, code, message, "the preprocessing answer is not KDA's contract");
                }
            }
            malformed += 1;
        };
        for (mut r, result) in chunk.into_iter().zip(results) {
            match result {
                Transformed::Ok { data, .. } => {
                    r.data = data;
                    kept.push(r);
                }
                Transformed::Dropped => {}
                Transformed::Failed { code, message } => failed.push(Rejected {
                    arrival_ms: r.arrival_ms,
                    data: r.data.clone(),
                    message: format!("{code}: {message}"),
                    name: "Lambda_Processing_Failed",
                    pump: None,
                }),
            }
        }
    }
    Ok((kept, failed))
}
