//! GetCrawler.

use super::common::string;
use super::crawler::render;
use crate::error::ApiError;
use crate::input::Input;
use crate::value::Value;
use crate::Ctx;

pub async fn handle(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    let name = string(&mut input, "Name")?;
    let r = ctx.crawlers.get(&ctx.region, &name)?;
    Ok(Value::map([("Crawler", render(&r, ctx.log.now_ms()))]))
}
