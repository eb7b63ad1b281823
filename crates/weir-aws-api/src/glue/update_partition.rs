//! UpdatePartition: replaces the partition named by PartitionValueList.

use super::common::{invalid, read, string, strings};
use crate::error::ApiError;
use crate::input::Input;
use crate::value::Value;
use crate::Ctx;

pub async fn handle(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    let db = string(&mut input, "DatabaseName")?;
    let table = string(&mut input, "TableName")?;
    let values = strings(input.raw("PartitionValueList").unwrap_or(Value::Null));
    let p: weir_catalog::Partition = read(&mut input, "PartitionInput")?
        .ok_or_else(|| invalid("PartitionInput is required."))?;
    ctx.catalog
        .update_partition(&ctx.region, &db, &table, &values, p)?;
    Ok(Value::map([]))
}
