//! GetPartitions: partitions in value order matching Expression (Glue's filter grammar), a
//! page at a time, optionally one Segment of TotalSegments; ExcludeColumnSchema drops columns.

use super::common::{int, invalid, opt_string, page_size, string, token_from, token_of, write};
use crate::error::ApiError;
use crate::input::Input;
use crate::value::Value;
use crate::Ctx;

pub async fn handle(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    let db = string(&mut input, "DatabaseName")?;
    let table = string(&mut input, "TableName")?;
    let expression = opt_string(&mut input, "Expression");
    let after: Option<Vec<String>> = token_from(opt_string(&mut input, "NextToken"))?;
    let limit = page_size(&mut input, 1000);
    let exclude = matches!(input.raw("ExcludeColumnSchema"), Some(Value::Bool(true)));
    let segment = match input.raw("Segment") {
        Some(Value::Map(members)) => {
            let mut seg = Input::new(Value::Map(members), ctx.protocol)?;
            let n = int(&mut seg, "SegmentNumber").unwrap_or(0);
            let total = int(&mut seg, "TotalSegments").unwrap_or(1);
            if n >= total {
                return Err(invalid(format!(
                    "The segment number {n} must be less than the total number of segments {total}."
                )));
            }
            Some((n as u32, total as u32))
        }
        _ => None,
    };
    let page = ctx.catalog.partitions(
        &ctx.region,
        &db,
        &table,
        expression.as_deref(),
        after.as_deref(),
        limit,
        segment,
    )?;
    let parts = page
        .partitions
        .into_iter()
        .map(|mut p| {
            if exclude {
                if let Some(sd) = p.storage_descriptor.as_mut() {
                    sd.columns.clear();
                }
            }
            write(&p)
        })
        .collect();
    Ok(Value::map([
        ("Partitions", Value::List(parts)),
        (
            "NextToken",
            Value::opt_str(page.next.map(|v| token_of(&v.into()))),
        ),
    ]))
}
