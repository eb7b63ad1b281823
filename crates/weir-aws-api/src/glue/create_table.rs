//! CreateTable: a table from TableInput in an existing database.

use super::common::{invalid, read, string};
use crate::error::ApiError;
use crate::input::Input;
use crate::value::Value;
use crate::Ctx;

pub async fn handle(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    let db = string(&mut input, "DatabaseName")?;
    if input.has("OpenTableFormatInput") {
        return Err(invalid(
            "Open table formats (Iceberg) are not supported by Weir.",
        ));
    }
    let table: weir_catalog::Table =
        read(&mut input, "TableInput")?.ok_or_else(|| invalid("TableInput is required."))?;
    ctx.catalog.create_table(&ctx.region, &db, table)?;
    Ok(Value::map([]))
}
