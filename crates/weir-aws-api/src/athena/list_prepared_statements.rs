//! ListPreparedStatements (name order; pages of MaxResults ≤ 50).

use super::common::{int, invalid, offset, string};
use crate::error::ApiError;
use crate::input::Input;
use crate::value::Value;
use crate::Ctx;

pub async fn handle(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    let wg = string(&mut input, "WorkGroup").unwrap_or_default();
    let max = int(&mut input, "MaxResults")
        .filter(|n| *n > 0)
        .unwrap_or(50) as usize;
    let from = offset(string(&mut input, "NextToken"))?;
    if ctx.athena.work_group(&ctx.region, &wg).is_none() {
        return Err(invalid(format!("WorkGroup {wg} is not found.")));
    }
    let all = ctx.athena.prepared_statements(&ctx.region, &wg);
    let page: Vec<Value> = all
        .iter()
        .skip(from)
        .take(max)
        .map(|p| {
            Value::map([
                ("StatementName", Value::Str(p.name.clone())),
                ("LastModifiedTime", Value::Timestamp(p.last_modified_ms)),
            ])
        })
        .collect();
    let next = (from + max < all.len()).then(|| (from + max).to_string());
    Ok(Value::map([
        ("PreparedStatements", Value::List(page)),
        ("NextToken", Value::opt_str(next)),
    ]))
}
