//! BatchCreatePartition: up to 100 partitions; each one that cannot be created is an entry of
//! Errors (AlreadyExistsException, ...), the others are created.

use super::common::{invalid, partition_errors, string, to_json};
use crate::error::ApiError;
use crate::input::Input;
use crate::value::Value;
use crate::Ctx;

pub async fn handle(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    let db = string(&mut input, "DatabaseName")?;
    let table = string(&mut input, "TableName")?;
    let Some(Value::List(items)) = input.raw("PartitionInputList") else {
        return Err(invalid("PartitionInputList is required."));
    };
    let mut parts = Vec::with_capacity(items.len());
    for item in items {
        let p: weir_catalog::Partition = serde_json::from_value(to_json(item, false))
            .map_err(|e| invalid(format!("PartitionInput is not valid: {e}")))?;
        parts.push(p);
    }
    let errors = ctx
        .catalog
        .create_partitions(&ctx.region, &db, &table, parts)?;
    Ok(Value::map([("Errors", partition_errors(errors))]))
}
