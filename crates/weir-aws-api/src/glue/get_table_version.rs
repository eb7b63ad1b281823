//! GetTableVersion: one version (the current one without VersionId).

use super::common::{opt_string, string, write};
use crate::error::ApiError;
use crate::input::Input;
use crate::value::Value;
use crate::Ctx;

pub async fn handle(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    let db = string(&mut input, "DatabaseName")?;
    let name = string(&mut input, "TableName")?;
    let version = opt_string(&mut input, "VersionId");
    let versions = ctx.catalog.table_versions(&ctx.region, &db, &name)?;
    let found = match &version {
        None => versions.first(),
        Some(v) => versions.iter().find(|t| t.version_id == *v),
    };
    let found = found.ok_or_else(|| {
        ApiError::new(
            "EntityNotFoundException",
            400,
            format!("Version {} not found.", version.unwrap_or_default()),
        )
        .in_message_member()
    })?;
    Ok(Value::map([("TableVersion", write(found))]))
}
