//! DeletePartition.

use super::common::{string, strings};
use crate::error::ApiError;
use crate::input::Input;
use crate::value::Value;
use crate::Ctx;

pub async fn handle(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    let db = string(&mut input, "DatabaseName")?;
    let table = string(&mut input, "TableName")?;
    let values = strings(input.raw("PartitionValues").unwrap_or(Value::Null));
    let errors = ctx
        .catalog
        .delete_partitions(&ctx.region, &db, &table, vec![values])?;
    if let Some(e) = errors.into_iter().next() {
        return Err(e.error.into());
    }
    Ok(Value::map([]))
}
