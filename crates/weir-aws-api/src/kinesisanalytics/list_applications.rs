//! ListApplications: summaries in name order after ExclusiveStartApplicationName (10 by
//! default, as AWS).

use super::shapes;
use crate::error::ApiError;
use crate::input::Input;
use crate::value::Value;
use crate::Ctx;

pub async fn handle(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    let limit = match input.raw("Limit") {
        Some(Value::Int(n)) => usize::try_from(n).unwrap_or(10),
        _ => 10,
    };
    let after = match input.raw("ExclusiveStartApplicationName") {
        Some(Value::Str(s)) => Some(s),
        _ => None,
    };
    let (apps, more) = ctx.analytics.list(&ctx.region, after.as_deref(), limit);
    Ok(Value::map([
        (
            "ApplicationSummaries",
            Value::List(apps.iter().map(shapes::summary).collect()),
        ),
        ("HasMoreApplications", Value::Bool(more)),
    ]))
}
