//! GetDatabase.

use super::common::{string, write};
use crate::error::ApiError;
use crate::input::Input;
use crate::value::Value;
use crate::Ctx;

pub async fn handle(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    let name = string(&mut input, "Name")?;
    let db = ctx.catalog.get_database(&ctx.region, &name)?;
    Ok(Value::map([("Database", write(&db))]))
}
