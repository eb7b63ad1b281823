//! UpdateDatabase: replaces a database's definition.

use super::common::{invalid, read, string};
use crate::error::ApiError;
use crate::input::Input;
use crate::value::Value;
use crate::Ctx;

pub async fn handle(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    let name = string(&mut input, "Name")?;
    let db: weir_catalog::Database =
        read(&mut input, "DatabaseInput")?.ok_or_else(|| invalid("DatabaseInput is required."))?;
    ctx.catalog.update_database(&ctx.region, &name, db)?;
    Ok(Value::map([]))
}
