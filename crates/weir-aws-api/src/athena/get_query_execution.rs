//! GetQueryExecution.

use super::common::{execution, string};
use crate::error::ApiError;
use crate::input::Input;
use crate::value::Value;
use crate::Ctx;

pub async fn handle(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    let id = string(&mut input, "QueryExecutionId").unwrap_or_default();
    let e = ctx.athena.get(&ctx.region, &id).map_err(super::error)?;
    Ok(Value::map([("QueryExecution", execution(&e))]))
}
