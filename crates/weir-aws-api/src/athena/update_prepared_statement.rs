//! UpdatePreparedStatement.

use super::common::string;
use crate::error::ApiError;
use crate::input::Input;
use crate::value::Value;
use crate::Ctx;

pub async fn handle(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    let (name, wg) = super::prepared_statement::names(&mut input);
    let query = string(&mut input, "QueryStatement").unwrap_or_default();
    let description = string(&mut input, "Description");
    ctx.athena
        .put_prepared(&ctx.region, &wg, &name, &query, description, false)
        .map_err(super::error)?;
    Ok(Value::map([]))
}
