//! BatchGetCrawlers: the crawlers found, and the names that were not.

use super::common::strings;
use super::crawler::render;
use crate::error::ApiError;
use crate::input::Input;
use crate::value::Value;
use crate::Ctx;

pub async fn handle(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    let names = input.raw("CrawlerNames").map(strings).unwrap_or_default();
    let now = ctx.log.now_ms();
    let mut found = Vec::new();
    let mut missing = Vec::new();
    for n in names {
        match ctx.crawlers.get(&ctx.region, &n) {
            Ok(r) => found.push(render(&r, now)),
            Err(_) => missing.push(Value::Str(n)),
        }
    }
    Ok(Value::map([
        ("Crawlers", Value::List(found)),
        ("CrawlersNotFound", Value::List(missing)),
    ]))
}
