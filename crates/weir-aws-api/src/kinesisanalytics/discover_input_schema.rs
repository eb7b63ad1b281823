//! DiscoverInputSchema: reads sample records from a Kinesis stream (up to 100 per shard:
//! from its beginning for TRIM_HORIZON, else those of the last ten seconds) or the lines of
//! an S3 object, and infers the InputSchema (`weir_analytics::discover`).

use weir_analytics::StartingPosition;
use weir_log::IteratorStart;

use super::{error, string};
use crate::athena::common::nested;
use crate::error::ApiError;
use crate::glue::common::write;
use crate::input::Input;
use crate::value::Value;
use crate::Ctx;

/// Records read per shard.
const SAMPLE: usize = 100;

/// A stream's sample records.
fn stream_samples(ctx: &Ctx, arn: &str, at: StartingPosition) -> Result<Vec<Vec<u8>>, ApiError> {
    if arn.starts_with("arn:aws:firehose:") {
        return Err(ApiError::invalid_argument(
            "Weir discovers schemas from Kinesis streams and S3 objects, not from Firehose delivery streams.",
        ));
    }
    let key = crate::kinesis::common::stream_key_from_arn(ctx, arn)?;
    let not_found = || ApiError::not_found(format!("Resource {arn} is not found."));
    let shards = ctx.log.list_shards(&key, None).map_err(|_| not_found())?;
    let start = match at {
        StartingPosition::TrimHorizon => IteratorStart::TrimHorizon,
        _ => IteratorStart::AtTimestamp(weir_log::Clock::now_ms(&weir_log::SystemClock) - 10_000),
    };
    let mut out = Vec::new();
    for shard in shards {
        let it = ctx.log.shard_iterator(&key, &shard.shard_id, &start)?;
        let read = ctx.log.get_records_with(&it, Some(SAMPLE), false)?;
        out.extend(read.records.into_iter().map(|r| r.data.to_vec()));
    }
    Ok(out)
}

pub async fn handle(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    let position = input.raw("InputStartingPositionConfiguration");
    let at = nested(&position, "InputStartingPosition")
        .and_then(|p| StartingPosition::parse(&p))
        .unwrap_or(StartingPosition::Now);
    let s3 = input.raw("S3Configuration");
    let samples = match (string(&mut input, "ResourceARN"), s3) {
        (arn, _) if !arn.is_empty() => stream_samples(ctx, &arn, at)?,
        (_, s3 @ Some(_)) => {
            let bucket_arn = nested(&s3, "BucketARN").unwrap_or_default();
            let key = nested(&s3, "FileKey").unwrap_or_default();
            let bucket = bucket_arn.strip_prefix("arn:aws:s3:::").ok_or_else(|| {
                ApiError::invalid_argument(format!("Invalid BucketARN: {bucket_arn}"))
            })?;
            let data = ctx.lake.get(bucket, &key).await.map_err(|e| {
                ApiError::not_found(format!("Object s3://{bucket}/{key} could not be read: {e}"))
            })?;
            String::from_utf8_lossy(&data)
                .lines()
                .filter(|l| !l.trim().is_empty())
                .map(|l| l.as_bytes().to_vec())
                .collect()
        }
        _ => {
            return Err(ApiError::invalid_argument(
                "Either ResourceARN or S3Configuration is required.",
            ))
        }
    };
    let found = weir_analytics::discover(&samples).map_err(error)?;
    let texts = |v: &[String]| Value::List(v.iter().cloned().map(Value::Str).collect());
    Ok(Value::map([
        ("InputSchema", write(&found.schema)),
        (
            "ParsedInputRecords",
            Value::List(found.parsed.iter().map(|r| texts(r)).collect()),
        ),
        ("ProcessedInputRecords", texts(&found.raw)),
        ("RawInputRecords", texts(&found.raw)),
    ]))
}
