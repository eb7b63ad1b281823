//! BatchDeleteTableVersion: versions that cannot be deleted are listed in Errors.

use super::common::{error_detail, string, strings};
use crate::error::ApiError;
use crate::input::Input;
use crate::value::Value;
use crate::Ctx;

pub async fn handle(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    let db = string(&mut input, "DatabaseName")?;
    let name = string(&mut input, "TableName")?;
    let versions = strings(input.raw("VersionIds").unwrap_or(Value::Null));
    let errors = ctx
        .catalog
        .delete_table_versions(&ctx.region, &db, &name, &versions)?;
    Ok(Value::map([(
        "Errors",
        Value::List(
            errors
                .into_iter()
                .map(|(v, e)| {
                    Value::map([
                        ("TableName", Value::str(name.to_lowercase())),
                        ("VersionId", Value::Str(v)),
                        ("ErrorDetail", error_detail(&e)),
                    ])
                })
                .collect(),
        ),
    )]))
}
