//! BatchUpdatePartition: each entry (PartitionValueList, PartitionInput) that fails is an entry
//! of Errors.

use super::common::{error_detail, string, strings, to_json};
use crate::error::ApiError;
use crate::input::Input;
use crate::value::Value;
use crate::Ctx;

pub async fn handle(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    let db = string(&mut input, "DatabaseName")?;
    let table = string(&mut input, "TableName")?;
    let mut errors = Vec::new();
    if let Some(Value::List(entries)) = input.raw("Entries") {
        for entry in entries {
            let Value::Map(members) = entry else { continue };
            let mut values = Vec::new();
            let mut part = None;
            for (k, v) in members {
                match k.as_ref() {
                    "PartitionValueList" => values = strings(v),
                    "PartitionInput" => part = Some(v),
                    _ => {}
                }
            }
            let p: Result<weir_catalog::Partition, _> =
                serde_json::from_value(to_json(part.unwrap_or(Value::Map(Vec::new())), false));
            let result = match p {
                Ok(p) => ctx
                    .catalog
                    .update_partition(&ctx.region, &db, &table, &values, p),
                Err(e) => Err(weir_catalog::CatalogError::InvalidInput(e.to_string())),
            };
            if let Err(e) = result {
                errors.push(Value::map([
                    (
                        "PartitionValueList",
                        Value::List(values.into_iter().map(Value::Str).collect()),
                    ),
                    ("ErrorDetail", error_detail(&e)),
                ]));
            }
        }
    }
    Ok(Value::map([("Errors", Value::List(errors))]))
}
