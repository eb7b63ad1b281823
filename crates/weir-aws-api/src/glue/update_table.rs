//! UpdateTable: replaces a table's definition, archiving the old one as a version unless
//! SkipArchive; VersionId, when given, must be the current version.

use super::common::{invalid, opt_string, read, string};
use crate::error::ApiError;
use crate::input::Input;
use crate::value::Value;
use crate::Ctx;

pub async fn handle(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    let db = string(&mut input, "DatabaseName")?;
    let table: weir_catalog::Table =
        read(&mut input, "TableInput")?.ok_or_else(|| invalid("TableInput is required."))?;
    let skip = matches!(input.raw("SkipArchive"), Some(Value::Bool(true)));
    let version = opt_string(&mut input, "VersionId");
    ctx.catalog
        .update_table(&ctx.region, &db, table, skip, version.as_deref())?;
    Ok(Value::map([]))
}
