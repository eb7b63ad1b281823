//! ListQueryExecutions: a work group's query ids, newest first (50 a page by default).

use super::common::{int, offset, string};
use crate::error::ApiError;
use crate::input::Input;
use crate::value::Value;
use crate::Ctx;

pub async fn handle(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    let from = offset(string(&mut input, "NextToken"))?;
    let max = int(&mut input, "MaxResults").map_or(50, |n| n.clamp(0, 50) as usize);
    let wg = string(&mut input, "WorkGroup").unwrap_or_else(|| "primary".into());
    if ctx.athena.work_group(&ctx.region, &wg).is_none() {
        return Err(super::common::invalid(format!(
            "WorkGroup {wg} is not found."
        )));
    }
    let ids = ctx.athena.list(&ctx.region, &wg);
    let next = (ids.len() > from + max).then(|| (from + max).to_string());
    Ok(Value::map([
        (
            "QueryExecutionIds",
            Value::List(
                ids.into_iter()
                    .skip(from)
                    .take(max)
                    .map(Value::Str)
                    .collect(),
            ),
        ),
        ("NextToken", Value::opt_str(next)),
    ]))
}
