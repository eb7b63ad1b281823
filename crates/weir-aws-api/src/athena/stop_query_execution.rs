//! StopQueryExecution: a query not yet finished is CANCELLED.

use super::common::string;
use crate::error::ApiError;
use crate::input::Input;
use crate::value::Value;
use crate::Ctx;

pub async fn handle(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    let id = string(&mut input, "QueryExecutionId").unwrap_or_default();
    ctx.athena
        .stop(&ctx.region, &id)
        .await
        .map_err(super::error)?;
    Ok(Value::map([]))
}
