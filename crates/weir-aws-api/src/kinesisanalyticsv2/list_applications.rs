//! ListApplications: summaries in name order; NextToken is the last name given.

use super::summary;
use crate::error::ApiError;
use crate::input::Input;
use crate::value::Value;
use crate::Ctx;

pub async fn handle(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    let limit = match input.raw("Limit") {
        Some(Value::Int(n)) => usize::try_from(n).unwrap_or(50),
        _ => 50,
    };
    let after = match input.raw("NextToken") {
        Some(Value::Str(s)) => Some(s),
        _ => None,
    };
    let (apps, more) = ctx.analytics.list(&ctx.region, after.as_deref(), limit);
    let next = apps
        .last()
        .filter(|_| more)
        .map(|a| Value::str(a.name.clone()));
    Ok(Value::map([
        (
            "ApplicationSummaries",
            Value::List(apps.iter().map(summary).collect()),
        ),
        ("NextToken", next.unwrap_or(Value::Null)),
    ]))
}
