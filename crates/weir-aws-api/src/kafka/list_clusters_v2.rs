//! ListClustersV2: every cluster (v2 shapes), by name prefix and type.

use super::{page, string};
use crate::error::ApiError;
use crate::input::Input;
use crate::value::Value;
use crate::Ctx;

pub fn handle(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    let filter = string(&mut input, "ClusterNameFilter").unwrap_or_default();
    let kind = string(&mut input, "ClusterTypeFilter");
    let all: Vec<Value> = ctx
        .clusters
        .clusters(&ctx.region, super::now_ms(ctx))
        .iter()
        .filter(|c| c.name.starts_with(&filter))
        .filter(|c| kind.as_ref().is_none_or(|k| *k == c.kind))
        .map(|c| super::describe_cluster_v2::info(ctx, c))
        .collect();
    let (items, next) = page(&mut input, all);
    Ok(Value::map([
        ("ClusterInfoList", Value::List(items)),
        ("NextToken", next),
    ]))
}
