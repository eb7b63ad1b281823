//! Delivery to an HTTP endpoint with Firehose's request format: POST of
//! `{"requestId","timestamp","records":[{"data":<base64>}]}` (optionally gzip), the
//! `X-Amz-Firehose-*` headers, and its response contract — only 200 with the same requestId is
//! success, 413 is permanent, everything else is retried with exponential back-off (doubling,
//! ±15 % jitter, at most 2 minutes) until the retry duration runs out.

use std::io::Write as _;
use std::time::Duration;

use base64::Engine as _;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use tokio::sync::watch;
use tokio::time::Instant;

use crate::model::HttpEndpoint;

/// Records per request, as Firehose sends at most.
pub const MAX_RECORDS_PER_REQUEST: usize = 10_000;
/// How long an endpoint has to answer one request.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(180);

/// How one batch ended.
pub enum Outcome {
    Delivered,
    Failed {
        code: String,
        message: String,
        attempts: u32,
    },
    Stopped,
}

/// Sends `records` (one request, retried) to the endpoint.
pub async fn send(
    client: &weir_objects::HttpClient,
    h: &HttpEndpoint,
    source_arn: &str,
    records: &[&[u8]],
    initial_backoff: Duration,
    stop: &mut watch::Receiver<bool>,
) -> Outcome {
    let request_id = crate::prefix::uuid();
    let deadline = Instant::now() + Duration::from_secs(u64::from(h.retry_duration_s));
    let mut attempts = 0u32;
    loop {
        attempts += 1;
        let result = attempt(client, h, source_arn, &request_id, records).await;
        let (code, message) = match result {
            Ok(()) => return Outcome::Delivered,
            Err(Failure::Permanent(message)) => {
                return Outcome::Failed {
                    code: "HttpEndpoint.PayloadTooLarge".into(),
                    message,
                    attempts,
                }
            }
            Err(Failure::Retriable(code, message)) => (code, message),
        };
        let exp = 2u32.saturating_pow(attempts.saturating_sub(1).min(16));
        let jitter = 0.85 + rand::random::<f64>() * 0.3;
        let wait = initial_backoff
            .saturating_mul(exp)
            .min(Duration::from_secs(120))
            .mul_f64(jitter);
        if Instant::now() + wait > deadline {
            return Outcome::Failed {
                code,
                message,
                attempts,
            };
        }
        tracing::warn!(url = %h.url, attempts, error = %message, "HTTP endpoint delivery failed; retrying");
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = stop.changed() => return Outcome::Stopped,
        }
    }
}

enum Failure {
    Permanent(String),
    Retriable(String, String),
}

async fn attempt(
    client: &weir_objects::HttpClient,
    h: &HttpEndpoint,
    source_arn: &str,
    request_id: &str,
    records: &[&[u8]],
) -> Result<(), Failure> {
    let retriable = |m: String| Failure::Retriable("HttpEndpoint.DestinationException".into(), m);
    let body = serde_json::json!({
        "requestId": request_id,
        "timestamp": weir_log::Clock::now_ms(&weir_log::SystemClock),
        "records": records.iter().map(|r| serde_json::json!({
            "data": base64::engine::general_purpose::STANDARD.encode(r)
        })).collect::<Vec<_>>(),
    })
    .to_string()
    .into_bytes();
    let body = if h.gzip {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(&body)
            .and_then(|_| e.finish())
            .map_err(|e| retriable(format!("compressing the request: {e}")))?
    } else {
        body
    };
    let mut req = hyper::Request::post(h.url.as_str())
        .header("content-type", "application/json")
        .header("x-amz-firehose-protocol-version", "1.0")
        .header("x-amz-firehose-request-id", request_id)
        .header("x-amz-firehose-source-arn", source_arn);
    if h.gzip {
        req = req.header("content-encoding", "gzip");
    }
    if let Some(key) = &h.access_key {
        req = req.header("x-amz-firehose-access-key", key.as_str());
    }
    if !h.common_attributes.is_empty() {
        let attrs: serde_json::Map<String, serde_json::Value> = h
            .common_attributes
            .iter()
            .map(|(k, v)| (k.clone(), serde_json::Value::from(v.as_str())))
            .collect();
        req = req.header(
            "x-amz-firehose-common-attributes",
            serde_json::json!({ "commonAttributes": attrs }).to_string(),
        );
    }
    let req = req
        .body(Full::new(Bytes::from(body)))
        .map_err(|e| retriable(format!("{}: {e}", h.url)))?;
    let resp = tokio::time::timeout(REQUEST_TIMEOUT, client.request(req))
        .await
        .map_err(|_| retriable(format!("{} did not answer within 3 minutes", h.url)))?
        .map_err(|e| retriable(format!("{}: {e}", h.url)))?;
    let status = resp.status().as_u16();
    let bytes = resp
        .into_body()
        .collect()
        .await
        .map_err(|e| retriable(format!("reading the answer: {e}")))?
        .to_bytes();
    let answer: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
    match status {
        200 if answer["requestId"] == request_id => Ok(()),
        200 => Err(Failure::Retriable(
            "HttpEndpoint.InvalidResponseFromDestination".into(),
            "The response did not carry the request's requestId.".into(),
        )),
        413 => Err(Failure::Permanent(format!(
            "{} answered 413: the request was too large.",
            h.url
        ))),
        s => Err(Failure::Retriable(
            "HttpEndpoint.DestinationException".into(),
            format!(
                "The endpoint answered {s}: {}",
                answer["errorMessage"].as_str().unwrap_or_default()
            ),
        )),
    }
}
