//! GetQueryResults: a page of a finished query's rows (the header row first for a SELECT),
//! every value a VarCharValue string and NULL a Datum without one; ColumnInfo as Athena gives it.

use super::common::{int, offset, string};
use crate::error::ApiError;
use crate::input::Input;
use crate::value::Value;
use crate::Ctx;

pub async fn handle(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    let id = string(&mut input, "QueryExecutionId").unwrap_or_default();
    let from = offset(string(&mut input, "NextToken"))?;
    let max = int(&mut input, "MaxResults").map_or(1000, |n| n.clamp(1, 1000) as usize);
    let page = ctx
        .athena
        .results(&ctx.region, &id, from, max)
        .await
        .map_err(super::error)?;
    let rows = page
        .rows
        .into_iter()
        .map(|row| {
            Value::map([(
                "Data",
                Value::List(
                    row.into_iter()
                        .map(|v| match v {
                            Some(s) => Value::map([("VarCharValue", Value::Str(s))]),
                            None => Value::Map(Vec::new()),
                        })
                        .collect(),
                ),
            )])
        })
        .collect();
    let columns = page
        .columns
        .iter()
        .map(|c| {
            Value::map([
                ("CatalogName", Value::str("hive")),
                ("SchemaName", Value::str("")),
                ("TableName", Value::str("")),
                ("Name", Value::str(c.name.clone())),
                ("Label", Value::str(c.name.clone())),
                ("Type", Value::str(c.type_name.clone())),
                ("Precision", Value::Int(c.precision as i128)),
                ("Scale", Value::Int(c.scale as i128)),
                ("Nullable", Value::str(c.nullable.clone())),
                ("CaseSensitive", Value::Bool(c.case_sensitive)),
            ])
        })
        .collect();
    Ok(Value::map([
        (
            "UpdateCount",
            Value::Int(page.update_count.unwrap_or(0) as i128),
        ),
        (
            "ResultSet",
            Value::map([
                ("Rows", Value::List(rows)),
                (
                    "ResultSetMetadata",
                    Value::map([("ColumnInfo", Value::List(columns))]),
                ),
            ]),
        ),
        (
            "NextToken",
            Value::opt_str(page.next.map(|n| n.to_string())),
        ),
    ]))
}
