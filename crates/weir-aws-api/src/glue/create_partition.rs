//! CreatePartition.

use super::common::{invalid, read, string};
use crate::error::ApiError;
use crate::input::Input;
use crate::value::Value;
use crate::Ctx;

pub async fn handle(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    let db = string(&mut input, "DatabaseName")?;
    let table = string(&mut input, "TableName")?;
    let p: weir_catalog::Partition = read(&mut input, "PartitionInput")?
        .ok_or_else(|| invalid("PartitionInput is required."))?;
    let errors = ctx
        .catalog
        .create_partitions(&ctx.region, &db, &table, vec![p])?;
    if let Some(e) = errors.into_iter().next() {
        return Err(e.error.into());
    }
    Ok(Value::map([]))
}
