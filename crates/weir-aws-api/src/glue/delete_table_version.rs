//! DeleteTableVersion: one archived version.

use super::common::string;
use crate::error::ApiError;
use crate::input::Input;
use crate::value::Value;
use crate::Ctx;

pub async fn handle(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    let db = string(&mut input, "DatabaseName")?;
    let name = string(&mut input, "TableName")?;
    let version = string(&mut input, "VersionId")?;
    let errors = ctx
        .catalog
        .delete_table_versions(&ctx.region, &db, &name, &[version])?;
    if let Some((_, e)) = errors.into_iter().next() {
        return Err(e.into());
    }
    Ok(Value::map([]))
}
