//! Kinesis Data Analytics' Lambda output contract (also Weir's streaming SQL `lambda` sink):
//! the function gets `{invocationId, applicationArn, records: [{recordId,
//! lambdaDeliveryRecordMetadata: {retryHint}, data}]}` and answers `{records: [{recordId,
//! result: "Ok" | "DeliveryFailed"}]}`. Records not acknowledged `Ok` are sent again (their
//! `retryHint` counting the attempts) until they are, or the caller gives up.

use std::collections::HashMap;
use std::time::Duration;

use base64::Engine as _;
use bytes::Bytes;
use serde::Deserialize;

use crate::lambda::{invoke, FunctionConfig};

#[derive(Deserialize)]
struct Answer {
    records: Vec<AnswerRecord>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AnswerRecord {
    record_id: Option<String>,
    result: Option<String>,
}

/// Delivers `records` to `f`, sending again those not acknowledged, with a growing pause,
/// until every one is (`give_up` returning true after a failed attempt stops it with an
/// error).
pub async fn deliver(
    f: &FunctionConfig,
    application_arn: &str,
    records: &[Bytes],
    give_up: &(dyn Fn() -> bool + Sync),
) -> Result<(), String> {
    let ids: Vec<String> = (0..records.len())
        .map(|i| format!("{}{i:08}", crate::prefix::uuid().replace('-', "")))
        .collect();
    let mut pending: Vec<usize> = (0..records.len()).collect();
    let mut attempt = 0u32;
    let mut last = String::new();
    while !pending.is_empty() {
        // Given up only after a failed attempt (a stopping job still delivers what it can).
        if attempt > 0 && give_up() {
            return Err(format!(
                "{} records not delivered to function {}: {last}",
                pending.len(),
                f.name
            ));
        }
        if attempt > 0 {
            let pause = 50u64.saturating_mul(1 << attempt.min(6));
            tokio::time::sleep(Duration::from_millis(pause)).await;
        }
        let event = serde_json::json!({
            "invocationId": crate::prefix::uuid(),
            "applicationArn": application_arn,
            "records": pending.iter().map(|&i| serde_json::json!({
                "recordId": ids[i],
                "lambdaDeliveryRecordMetadata": {"retryHint": attempt},
                "data": base64::engine::general_purpose::STANDARD.encode(&records[i]),
            })).collect::<Vec<_>>(),
        });
        attempt += 1;
        let answer = match invoke(f, event.to_string().into_bytes()).await {
            Ok(a) => a,
            Err(e) => {
                last = e;
                continue;
            }
        };
        let parsed: Answer = match serde_json::from_slice(&answer) {
            Ok(a) => a,
            Err(e) => {
                last = format!("the function's answer is not the output contract's: {e}");
                continue;
            }
        };
        let acked: HashMap<String, bool> = parsed
            .records
            .into_iter()
            .filter_map(|r| Some((r.record_id?, r.result.as_deref() == Some("Ok"))))
            .collect();
        let before = pending.len();
        pending.retain(|&i| !acked.get(&ids[i]).copied().unwrap_or(false));
        if !pending.is_empty() {
            last = format!(
                "{} of {before} records were not acknowledged Ok",
                pending.len()
            );
        }
    }
    Ok(())
}
