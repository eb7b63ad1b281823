//! ListStreamConsumers, paginated with MaxResults and NextToken.

use base64::Engine as _;

use super::common::{consumer_value, stream_key_from_arn, STREAM_ARN, STREAM_ID};
use crate::error::ApiError;
use crate::input::{Input, StrRule};
use crate::value::Value;
use crate::Ctx;

/// Consumers per page when the request sets no MaxResults.
const DEFAULT_MAX_RESULTS: i64 = 100;

pub async fn handle(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    let stream_arn = input.string("StreamARN", true, STREAM_ARN)?;
    let token = input.string("NextToken", false, StrRule::len(1, 1_048_576))?;
    let max = input
        .int("MaxResults", false, Some(1), Some(10_000))?
        .unwrap_or(DEFAULT_MAX_RESULTS) as usize;
    input.timestamp("StreamCreationTimestamp")?;
    input.string("StreamId", false, STREAM_ID)?;
    input.finish()?;
    let key = stream_key_from_arn(ctx, &stream_arn.unwrap_or_default())?;
    let skip = match token {
        Some(t) => decode_token(&t)?,
        None => 0,
    };
    let all = ctx.log.list_consumers(&key)?;
    let page: Vec<_> = all.iter().skip(skip).take(max).collect();
    let next = if skip + page.len() < all.len() {
        Value::Str(
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .encode(format!("consumers:{}", skip + page.len())),
        )
    } else {
        Value::Null
    };
    Ok(Value::map([
        (
            "Consumers",
            Value::List(page.into_iter().map(|c| consumer_value(c, false)).collect()),
        ),
        ("NextToken", next),
    ]))
}

fn decode_token(token: &str) -> Result<usize, ApiError> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| s.strip_prefix("consumers:").and_then(|n| n.parse().ok()))
        .ok_or_else(|| ApiError::invalid_argument("The NextToken is not valid."))
}
