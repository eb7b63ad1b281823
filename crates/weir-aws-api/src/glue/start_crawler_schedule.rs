//! StartCrawlerSchedule: the schedule's state becomes SCHEDULED.

use super::common::string;
use crate::error::ApiError;
use crate::input::Input;
use crate::value::Value;
use crate::Ctx;

pub async fn handle(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    let name = string(&mut input, "CrawlerName")?;
    ctx.crawlers.set_schedule_state(&ctx.region, &name, true)?;
    Ok(Value::map([]))
}
