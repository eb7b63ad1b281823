//! GetCrawlers: every crawler, by name, a page at a time.

use super::common::name_page;
use super::crawler::render;
use crate::error::ApiError;
use crate::input::Input;
use crate::value::Value;
use crate::Ctx;

pub async fn handle(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    let all = ctx.crawlers.list(&ctx.region);
    let (page, next) = name_page(&mut input, all, |r| &r.def.name)?;
    let now = ctx.log.now_ms();
    Ok(Value::map([
        (
            "Crawlers",
            Value::List(page.iter().map(|r| render(r, now)).collect()),
        ),
        ("NextToken", Value::opt_str(next)),
    ]))
}
