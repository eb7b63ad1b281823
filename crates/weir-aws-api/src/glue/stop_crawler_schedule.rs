//! StopCrawlerSchedule: the schedule's state becomes NOT_SCHEDULED (a running crawl goes on).

use super::common::string;
use crate::error::ApiError;
use crate::input::Input;
use crate::value::Value;
use crate::Ctx;

pub async fn handle(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    let name = string(&mut input, "CrawlerName")?;
    ctx.crawlers.set_schedule_state(&ctx.region, &name, false)?;
    Ok(Value::map([]))
}
