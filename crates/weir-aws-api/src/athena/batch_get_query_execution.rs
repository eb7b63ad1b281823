//! BatchGetQueryExecution: up to 50; unknown ids are UnprocessedQueryExecutionIds.

use super::common::execution;
use crate::error::ApiError;
use crate::input::Input;
use crate::value::Value;
use crate::Ctx;

pub async fn handle(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    let ids = match input.raw("QueryExecutionIds") {
        Some(Value::List(items)) => items,
        _ => Vec::new(),
    };
    let (mut found, mut missing) = (Vec::new(), Vec::new());
    for id in ids {
        let Value::Str(id) = id else { continue };
        match ctx.athena.get(&ctx.region, &id) {
            Ok(e) => found.push(execution(&e)),
            Err(e) => missing.push(Value::map([
                ("QueryExecutionId", Value::Str(id)),
                ("ErrorCode", Value::str("INVALID_INPUT")),
                ("ErrorMessage", Value::str(e.to_string())),
            ])),
        }
    }
    Ok(Value::map([
        ("QueryExecutions", Value::List(found)),
        ("UnprocessedQueryExecutionIds", Value::List(missing)),
    ]))
}
