//! Lambda processors: a Lambda ARN resolves to a function registered in Weir's config (a local
//! command that reads the event JSON on stdin and writes the result on stdout, or an HTTP URL
//! the event is POSTed to). Firehose's transformation contract: every recordId comes back
//! once with `result` Ok (base64 `data`, optional `metadata.partitionKeys`), Dropped or
//! ProcessingFailed; failed invocations are retried NumberOfRetries times, then their records
//! go to the error output.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use base64::Engine as _;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use serde::{Deserialize, Serialize};
use tokio::io::AsyncWriteExt;

/// A function registered in Weir's config (`[[functions]]`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FunctionConfig {
    /// The function name a Lambda ARN ends with (`…:function:<name>[:qualifier]`).
    pub name: String,
    /// A command and its arguments: the event on stdin, the result on stdout.
    #[serde(default)]
    pub command: Vec<String>,
    /// Or an `http://` URL the event is POSTed to (the result is the answer's body).
    #[serde(default)]
    pub url: Option<String>,
    /// How long one invocation may take.
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
}

fn default_timeout_ms() -> u64 {
    60_000
}

/// The function name of a Lambda ARN.
pub fn function_name(arn: &str) -> Option<&str> {
    let rest = arn.strip_prefix("arn:")?;
    let mut parts = rest.splitn(7, ':');
    let (_partition, service, _region, _account, kind, name) = (
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
    );
    (service == "lambda" && kind == "function" && !name.is_empty()).then_some(name)
}

/// The registered function an ARN names.
pub fn resolve<'a>(
    functions: &'a [FunctionConfig],
    arn: &str,
) -> Result<&'a FunctionConfig, String> {
    let name = function_name(arn).ok_or_else(|| format!("{arn} is not a Lambda function ARN"))?;
    functions.iter().find(|f| f.name == name).ok_or_else(|| {
        format!("Lambda function {name} is not registered in Weir's config ([[functions]])")
    })
}

/// What became of one record.
#[derive(Debug, Clone)]
pub enum Transformed {
    Ok {
        data: Bytes,
        partition_keys: BTreeMap<String, String>,
    },
    Dropped,
    Failed {
        code: String,
        message: String,
    },
}

/// One record handed to the function.
pub struct Input<'a> {
    pub arrival_ms: i64,
    pub data: &'a [u8],
    /// Where the record came from, when the source is a Kinesis stream.
    pub kinesis: Option<KinesisMetadata<'a>>,
}

/// `kinesisRecordMetadata` of a record read from a Kinesis stream.
pub struct KinesisMetadata<'a> {
    pub shard_id: &'a str,
    pub partition_key: &'a str,
    pub sequence_number: &'a str,
    /// The record's place inside a KPL aggregate (0 otherwise).
    pub subsequence_number: u32,
}

/// Invokes `f` over `records` (retrying a failed invocation `retries` times); one result per
/// record, in order. Also returns the attempts made.
pub async fn transform(
    f: &FunctionConfig,
    stream_arn: &str,
    source_stream_arn: Option<&str>,
    region: &str,
    retries: u32,
    records: &[Input<'_>],
) -> (Vec<Transformed>, u32) {
    let ids: Vec<String> = (0..records.len())
        .map(|i| format!("{}{i:08}", crate::prefix::uuid().replace('-', "")))
        .collect();
    let mut event = serde_json::json!({
        "invocationId": crate::prefix::uuid(),
        "deliveryStreamArn": stream_arn,
        "region": region,
        "records": records.iter().zip(&ids).map(|(r, id)| {
            let mut rec = serde_json::json!({
                "recordId": id,
                "approximateArrivalTimestamp": r.arrival_ms,
                "data": base64::engine::general_purpose::STANDARD.encode(r.data),
            });
            if let Some(k) = &r.kinesis {
                rec["kinesisRecordMetadata"] = serde_json::json!({
                    "shardId": k.shard_id,
                    "partitionKey": k.partition_key,
                    "approximateArrivalTimestamp": r.arrival_ms,
                    "sequenceNumber": k.sequence_number,
                    "subsequenceNumber": k.subsequence_number,
                });
            }
            rec
        }).collect::<Vec<_>>(),
    });
    if let Some(arn) = source_stream_arn {
        event["sourceKinesisStreamArn"] = serde_json::Value::from(arn);
    }
    let event = event.to_string().into_bytes();
    let mut last = (String::new(), String::new());
    let mut attempts = 0;
    for attempt in 0..=retries {
        attempts = attempt + 1;
        if attempt > 0 {
            tokio::time::sleep(Duration::from_millis(50 * u64::from(attempt))).await;
        }
        let answer = match invoke(f, event.clone()).await {
            Ok(a) => a,
            Err(e) => {
                last = ("Lambda.FunctionError".into(), e);
                continue;
            }
        };
        match read_answer(&answer, &ids) {
            Ok(results) => return (results, attempts),
            Err(e) => last = e,
        }
    }
    let failed = records
        .iter()
        .map(|_| Transformed::Failed {
            code: last.0.clone(),
            message: last.1.clone(),
        })
        .collect();
    (failed, attempts)
}

#[derive(Deserialize)]
struct Answer {
    records: Vec<AnswerRecord>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AnswerRecord {
    record_id: Option<String>,
    result: Option<String>,
    data: Option<String>,
    metadata: Option<AnswerMetadata>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AnswerMetadata {
    partition_keys: Option<BTreeMap<String, serde_json::Value>>,
}

/// Reads a transformation answer (Firehose's contract, also KDA's input preprocessing): one
/// result per id, in order, or the error code and message of an answer that breaks it.
pub fn read_answer(answer: &[u8], ids: &[String]) -> Result<Vec<Transformed>, (String, String)> {
    let json = |m: String| ("Lambda.JsonProcessingException".to_string(), m);
    let parsed: Answer = serde_json::from_slice(answer).map_err(|e| {
        json(format!(
            "There was an error parsing returned records from the Lambda function: {e}"
        ))
    })?;
    let mut by_id: HashMap<String, AnswerRecord> = HashMap::new();
    for r in parsed.records {
        let id = r
            .record_id
            .clone()
            .ok_or_else(|| json("A returned record has no recordId.".into()))?;
        if by_id.insert(id.clone(), r).is_some() {
            return Err((
                "Lambda.DuplicatedRecordId".into(),
                format!("Multiple records were returned with the same record ID: {id}"),
            ));
        }
    }
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        let r = by_id.remove(id).ok_or_else(|| {
            (
                "Lambda.MissingRecordId".to_string(),
                format!("One or more record IDs were not returned: {id}"),
            )
        })?;
        out.push(match r.result.as_deref() {
            Some("Ok") => {
                let data = base64::engine::general_purpose::STANDARD
                    .decode(r.data.unwrap_or_default())
                    .map_err(|e| json(format!("record {id}: data is not base64: {e}")))?;
                let partition_keys = r
                    .metadata
                    .and_then(|m| m.partition_keys)
                    .unwrap_or_default()
                    .into_iter()
                    .map(|(k, v)| {
                        let v = match v {
                            serde_json::Value::String(s) => s,
                            other => other.to_string(),
                        };
                        (k, v)
                    })
                    .collect();
                Transformed::Ok {
                    data: Bytes::from(data),
                    partition_keys,
                }
            }
            Some("Dropped") => Transformed::Dropped,
            Some("ProcessingFailed") => Transformed::Failed {
                code: "Lambda.ProcessingFailed".into(),
                message: "The Lambda function returned ProcessingFailed for the record.".into(),
            },
            other => {
                return Err(json(format!(
                    "record {id}: result {other:?} is not Ok, Dropped or ProcessingFailed"
                )))
            }
        });
    }
    Ok(out)
}

pub async fn invoke(f: &FunctionConfig, event: Vec<u8>) -> Result<Vec<u8>, String> {
    let timeout = Duration::from_millis(f.timeout_ms);
    let work = async {
        if let Some((program, args)) = f.command.split_first() {
            let mut child = tokio::process::Command::new(program)
                .args(args)
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .kill_on_drop(true)
                .spawn()
                .map_err(|e| format!("cannot run {program}: {e}"))?;
            if let Some(mut stdin) = child.stdin.take() {
                // A function may exit without reading its input; its exit status and stderr
                // then say what happened, not the broken pipe.
                if let Err(e) = stdin.write_all(&event).await {
                    tracing::debug!(error = %e, "the function did not read all of its event");
                }
            }
            let out = child
                .wait_with_output()
                .await
                .map_err(|e| format!("running {program}: {e}"))?;
            if !out.status.success() {
                let err = String::from_utf8_lossy(&out.stderr);
                let tail: String = err
                    .chars()
                    .rev()
                    .take(300)
                    .collect::<Vec<_>>()
                    .into_iter()
                    .rev()
                    .collect();
                return Err(format!("{program} exited with {}: {tail}", out.status));
            }
            Ok(out.stdout)
        } else if let Some(url) = &f.url {
            let client =
                hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
                    .build_http::<Full<Bytes>>();
            let req = hyper::Request::post(url.as_str())
                .header("content-type", "application/json")
                .body(Full::new(Bytes::from(event)))
                .map_err(|e| format!("{url}: {e}"))?;
            let resp = client
                .request(req)
                .await
                .map_err(|e| format!("{url}: {e}"))?;
            let status = resp.status();
            let body = resp
                .into_body()
                .collect()
                .await
                .map_err(|e| format!("{url}: {e}"))?
                .to_bytes();
            if !status.is_success() {
                return Err(format!("{url} answered {status}"));
            }
            Ok(body.to_vec())
        } else {
            Err(format!("function {} has neither command nor url", f.name))
        }
    };
    tokio::time::timeout(timeout, work)
        .await
        .map_err(|_| format!("the function did not answer within {} ms", f.timeout_ms))?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arns_and_answers() {
        assert_eq!(
            function_name("arn:aws:lambda:us-east-1:000000000000:function:shout"),
            Some("shout")
        );
        assert_eq!(
            function_name("arn:aws:lambda:us-east-1:000000000000:function:shout:$LATEST"),
            Some("shout")
        );
        assert_eq!(function_name("arn:aws:s3:::b"), None);
        let ids = vec!["a".to_string(), "b".to_string()];
        let ok = br#"{"records":[{"recordId":"b","result":"Dropped"},{"recordId":"a","result":"Ok","data":"aGk=","metadata":{"partitionKeys":{"k":"v","n":3}}}]}"#;
        let r = read_answer(ok, &ids).unwrap();
        assert!(
            matches!(&r[0], Transformed::Ok { data, partition_keys } if &data[..] == b"hi" && partition_keys["n"] == "3")
        );
        assert!(matches!(r[1], Transformed::Dropped));
        let missing = br#"{"records":[{"recordId":"a","result":"Ok","data":""}]}"#;
        assert_eq!(
            read_answer(missing, &ids).err().unwrap().0,
            "Lambda.MissingRecordId"
        );
        let dup = br#"{"records":[{"recordId":"a","result":"Ok"},{"recordId":"a","result":"Ok"}]}"#;
        assert_eq!(
            read_answer(dup, &ids).err().unwrap().0,
            "Lambda.DuplicatedRecordId"
        );
        assert_eq!(
            read_answer(b"nope", &ids).err().unwrap().0,
            "Lambda.JsonProcessingException"
        );
    }
}
