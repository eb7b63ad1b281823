//! ListClusters: provisioned clusters (v1 shapes), by name prefix.

use super::{page, string};
use crate::error::ApiError;
use crate::input::Input;
use crate::value::Value;
use crate::Ctx;

pub fn handle(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    let filter = string(&mut input, "ClusterNameFilter").unwrap_or_default();
    let all: Vec<Value> = ctx
        .clusters
        .clusters(&ctx.region, super::now_ms(ctx))
        .iter()
        .filter(|c| c.kind == "PROVISIONED" && c.name.starts_with(&filter))
        .map(|c| super::describe_cluster::info(ctx, c))
        .collect();
    let (items, next) = page(&mut input, all);
    Ok(Value::map([
        ("ClusterInfoList", Value::List(items)),
        ("NextToken", next),
    ]))
}
