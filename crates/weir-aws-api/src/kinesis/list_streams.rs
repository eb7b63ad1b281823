//! ListStreams, paginated by ExclusiveStartStreamName or NextToken.

use base64::Engine as _;

use super::common::{stream_mode_value, STREAM_NAME};
use crate::error::ApiError;
use crate::input::{Input, StrRule};
use crate::value::Value;
use crate::Ctx;

/// Streams per page when the request sets no Limit.
const DEFAULT_LIMIT: i64 = 100;

pub async fn handle(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    let limit = input
        .int("Limit", false, Some(1), Some(10_000))?
        .unwrap_or(DEFAULT_LIMIT) as usize;
    let start = input.string("ExclusiveStartStreamName", false, STREAM_NAME)?;
    let token = input.string("NextToken", false, StrRule::len(1, 1_048_576))?;
    input.finish()?;
    let after = match token {
        Some(t) => Some(decode_token(&t)?),
        None => start,
    };
    let streams = ctx.log.list_streams(&ctx.region);
    let mut page: Vec<_> = streams
        .into_iter()
        .filter(|s| after.as_ref().is_none_or(|a| s.name.as_str() > a.as_str()))
        .collect();
    let has_more = page.len() > limit;
    page.truncate(limit);
    let next = match (has_more, page.last()) {
        (true, Some(last)) => Value::Str(encode_token(&last.name)),
        _ => Value::Null,
    };
    Ok(Value::map([
        (
            "StreamNames",
            Value::List(page.iter().map(|s| Value::str(s.name.clone())).collect()),
        ),
        ("HasMoreStreams", Value::Bool(has_more)),
        ("NextToken", next),
        (
            "StreamSummaries",
            Value::List(
                page.iter()
                    .map(|s| {
                        Value::map([
                            ("StreamName", Value::str(s.name.clone())),
                            ("StreamARN", Value::str(s.arn.clone())),
                            ("StreamStatus", Value::str(s.status.as_str())),
                            ("StreamModeDetails", stream_mode_value(s.mode)),
                            ("StreamCreationTimestamp", Value::Timestamp(s.created_ms)),
                        ])
                    })
                    .collect(),
            ),
        ),
    ]))
}

fn encode_token(last: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("streams:{last}"))
}

fn decode_token(token: &str) -> Result<String, ApiError> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| s.strip_prefix("streams:").map(str::to_string))
        .ok_or_else(|| ApiError::invalid_argument("The NextToken is not valid."))
}
