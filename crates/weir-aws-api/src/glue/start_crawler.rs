//! StartCrawler: the crawl runs in the background; GetCrawler shows RUNNING, then READY with
//! its LastCrawl.

use super::common::string;
use crate::error::ApiError;
use crate::input::Input;
use crate::value::Value;
use crate::Ctx;

pub async fn handle(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    let name = string(&mut input, "Name")?;
    ctx.crawlers.start(&ctx.region, &name)?;
    Ok(Value::map([]))
}
