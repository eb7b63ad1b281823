//! ListShards: a page of a stream's shards, optionally filtered, with expiring NextTokens.

use base64::Engine as _;
use weir_log::{ShardFilter, StreamKey};

use super::common::{read_stream_ref, shard_value, SHARD_ID};
use crate::error::ApiError;
use crate::input::{Input, StrRule};
use crate::value::Value;
use crate::Ctx;

/// Shards per page when the request sets no MaxResults.
const DEFAULT_MAX_RESULTS: i64 = 1000;
/// A NextToken is good for this long.
const TOKEN_LIFETIME_MS: i64 = 300_000;
const FILTER_TYPES: &[&str] = &[
    "AFTER_SHARD_ID",
    "AT_TRIM_HORIZON",
    "FROM_TRIM_HORIZON",
    "AT_LATEST",
    "AT_TIMESTAMP",
    "FROM_TIMESTAMP",
];

/// Where a listing continues.
struct Cursor {
    key: StreamKey,
    after: Option<u32>,
    filter: Option<ShardFilter>,
}

pub async fn handle(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    let has_name = input_has_stream(&mut input);
    let has_arn = input.has("StreamARN");
    let stream = read_stream_ref(&mut input)?;
    let token = input.string("NextToken", false, StrRule::len(1, 1_048_576))?;
    let start = input.string("ExclusiveStartShardId", false, SHARD_ID)?;
    let max = input
        .int("MaxResults", false, Some(1), Some(10_000))?
        .unwrap_or(DEFAULT_MAX_RESULTS) as usize;
    let created = input.timestamp("StreamCreationTimestamp")?;
    let filter = input.structure("ShardFilter", |f| {
        let kind = f.string("Type", true, StrRule::one_of(FILTER_TYPES))?;
        let shard = f.string("ShardId", false, SHARD_ID)?;
        let ts = f.timestamp("Timestamp")?;
        Ok((kind, shard, ts))
    })?;
    input.finish()?;

    let cursor = match token {
        Some(token) => {
            if created.is_some() {
                return Err(ApiError::invalid_argument(
                    "NextToken and StreamCreationTimestamp cannot be provided together.",
                ));
            }
            if has_name {
                return Err(ApiError::invalid_argument(
                    "NextToken and StreamName cannot be provided together.",
                ));
            }
            decode_token(ctx, &token)?
        }
        None if !has_name && !has_arn => {
            return Err(ApiError::invalid_argument(
                "Either NextToken or StreamName should be provided.",
            ))
        }
        None => Cursor {
            key: stream.resolve(ctx)?,
            after: start.as_deref().and_then(weir_log::parse_shard_id),
            filter: match filter {
                None => None,
                Some((kind, shard, ts)) => Some(to_filter(kind.as_deref(), shard, ts)?),
            },
        },
    };
    // A creation time tells apart streams that had the same name: one that does not match the
    // stream's names a stream that no longer exists.
    if let Some(created) = created {
        let info = ctx.log.describe_stream(&cursor.key)?;
        if created.div_euclid(1000) != info.created_ms.div_euclid(1000) {
            return Err(ApiError::not_found(format!(
                "Stream {} under account {} not found.",
                cursor.key.name,
                ctx.log.config().account_id
            )));
        }
    }
    let shards = ctx.log.list_shards(&cursor.key, cursor.filter.as_ref())?;
    let mut page: Vec<_> = shards
        .iter()
        .filter(|s| cursor.after.is_none_or(|a| s.index > a))
        .collect();
    let more = page.len() > max;
    page.truncate(max);
    let next = match (more, page.last()) {
        (true, Some(last)) => Value::Str(encode_token(ctx, &cursor, last.index)),
        _ => Value::Null,
    };
    Ok(Value::map([
        (
            "Shards",
            Value::List(page.into_iter().map(shard_value).collect()),
        ),
        ("NextToken", next),
    ]))
}

fn input_has_stream(input: &mut Input) -> bool {
    // Peek without consuming: StreamName is read again by read_stream_ref.
    input.has("StreamName")
}

fn to_filter(
    kind: Option<&str>,
    shard: Option<String>,
    ts: Option<i64>,
) -> Result<ShardFilter, ApiError> {
    Ok(match kind {
        Some("AFTER_SHARD_ID") => ShardFilter::AfterShardId(shard.ok_or_else(|| {
            ApiError::invalid_argument(
                "ShardId must be specified for the AFTER_SHARD_ID ShardFilter type.",
            )
        })?),
        Some("AT_TRIM_HORIZON") => ShardFilter::AtTrimHorizon,
        Some("FROM_TRIM_HORIZON") => ShardFilter::FromTrimHorizon,
        Some("AT_LATEST") => ShardFilter::AtLatest,
        Some(t @ ("AT_TIMESTAMP" | "FROM_TIMESTAMP")) => {
            let ts = ts.ok_or_else(|| {
                ApiError::invalid_argument(format!(
                    "Timestamp must be specified for the {t} ShardFilter type."
                ))
            })?;
            if t == "AT_TIMESTAMP" {
                ShardFilter::AtTimestamp(ts)
            } else {
                ShardFilter::FromTimestamp(ts)
            }
        }
        _ => return Err(ApiError::invalid_argument("Unknown ShardFilter type.")),
    })
}

fn encode_token(ctx: &Ctx, c: &Cursor, last: u32) -> String {
    let filter = match &c.filter {
        None => String::new(),
        Some(ShardFilter::AfterShardId(s)) => format!("AFTER_SHARD_ID={s}"),
        Some(ShardFilter::AtTrimHorizon) => "AT_TRIM_HORIZON=".into(),
        Some(ShardFilter::FromTrimHorizon) => "FROM_TRIM_HORIZON=".into(),
        Some(ShardFilter::AtLatest) => "AT_LATEST=".into(),
        Some(ShardFilter::AtTimestamp(t)) => format!("AT_TIMESTAMP={t}"),
        Some(ShardFilter::FromTimestamp(t)) => format!("FROM_TIMESTAMP={t}"),
    };
    let raw = format!(
        "shards\n{}\n{}\n{last}\n{}\n{filter}",
        c.key.region,
        c.key.name,
        ctx.log.now_ms()
    );
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
}

fn decode_token(ctx: &Ctx, token: &str) -> Result<Cursor, ApiError> {
    let bad = || ApiError::invalid_argument("The NextToken is not valid.");
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(bad)?;
    let parts: Vec<&str> = raw.split('\n').collect();
    let [tag, region, name, last, issued, filter] = parts.as_slice() else {
        return Err(bad());
    };
    if *tag != "shards" {
        return Err(bad());
    }
    let issued: i64 = issued.parse().map_err(|_| bad())?;
    if ctx.log.now_ms() - issued > TOKEN_LIFETIME_MS {
        return Err(ApiError::new(
            "ExpiredNextTokenException",
            400,
            "The timestamp of the NextToken has expired. Call ListShards again without a NextToken.",
        ));
    }
    let filter = match filter.split_once('=') {
        None => None,
        Some((kind, arg)) => {
            let ts = arg.parse::<i64>().ok();
            let shard = (!arg.is_empty()).then(|| arg.to_string());
            Some(to_filter(Some(kind), shard, ts)?)
        }
    };
    Ok(Cursor {
        key: StreamKey::new(*region, *name),
        after: Some(last.parse().map_err(|_| bad())?),
        filter,
    })
}
