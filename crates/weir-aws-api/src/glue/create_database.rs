//! CreateDatabase: a database from DatabaseInput (its name folded to lower case).

use super::common::{invalid, read};
use crate::error::ApiError;
use crate::input::Input;
use crate::value::Value;
use crate::Ctx;

pub async fn handle(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    let db: weir_catalog::Database =
        read(&mut input, "DatabaseInput")?.ok_or_else(|| invalid("DatabaseInput is required."))?;
    ctx.catalog.create_database(&ctx.region, db)?;
    Ok(Value::map([]))
}
