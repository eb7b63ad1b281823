//! ListNamedQueries (a work group's, `primary` by default; pages of MaxResults ≤ 50).

use super::common::{int, offset, string};
use crate::error::ApiError;
use crate::input::Input;
use crate::value::Value;
use crate::Ctx;

pub async fn handle(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    let wg = string(&mut input, "WorkGroup").unwrap_or_else(|| "primary".into());
    let max = int(&mut input, "MaxResults")
        .filter(|n| *n > 0)
        .unwrap_or(50) as usize;
    let from = offset(string(&mut input, "NextToken"))?;
    if ctx.athena.work_group(&ctx.region, &wg).is_none() {
        return Err(super::common::invalid(format!(
            "WorkGroup {wg} is not found."
        )));
    }
    let all = ctx.athena.named_queries(&ctx.region, &wg);
    let ids: Vec<Value> = all
        .iter()
        .skip(from)
        .take(max)
        .map(|q| Value::Str(q.id.clone()))
        .collect();
    let next = (from + max < all.len()).then(|| (from + max).to_string());
    Ok(Value::map([
        ("NamedQueryIds", Value::List(ids)),
        ("NextToken", Value::opt_str(next)),
    ]))
}
