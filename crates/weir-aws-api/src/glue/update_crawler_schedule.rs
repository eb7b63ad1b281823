//! UpdateCrawlerSchedule: a new `cron(...)` expression (`""` removes the schedule).

use super::common::{opt_string, string};
use crate::error::ApiError;
use crate::input::Input;
use crate::value::Value;
use crate::Ctx;

pub async fn handle(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    let name = string(&mut input, "CrawlerName")?;
    let schedule = opt_string(&mut input, "Schedule").filter(|s| !s.is_empty());
    ctx.crawlers.update(&ctx.region, &name, |d| {
        d.schedule = schedule;
        Ok::<_, ApiError>(())
    })?;
    Ok(Value::map([]))
}
