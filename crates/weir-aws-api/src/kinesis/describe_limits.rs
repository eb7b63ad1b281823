//! DescribeLimits.

use crate::error::ApiError;
use crate::input::Input;
use crate::value::Value;
use crate::Ctx;

pub async fn handle(ctx: &Ctx, input: Input) -> Result<Value, ApiError> {
    input.finish()?;
    let l = ctx.log.limits(&ctx.region);
    Ok(Value::map([
        ("ShardLimit", Value::Int(l.shard_limit.into())),
        ("OpenShardCount", Value::Int(l.open_shard_count.into())),
        (
            "OnDemandStreamCount",
            Value::Int(l.on_demand_stream_count.into()),
        ),
        (
            "OnDemandStreamCountLimit",
            Value::Int(l.on_demand_stream_count_limit.into()),
        ),
    ]))
}
