//! GetCrawlers: every crawler, by name, a page at a time.

use super::common::{opt_string, page_size, token_from, token_of};
use super::crawler::render;
use crate::error::ApiError;
use crate::input::Input;
use crate::value::Value;
use crate::Ctx;

pub async fn handle(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    let limit = page_size(&mut input, 100);
    let after: Option<String> = token_from(opt_string(&mut input, "NextToken"))?;
    let all = ctx.crawlers.list(&ctx.region);
    let rest: Vec<_> = all
        .iter()
        .filter(|r| after.as_ref().is_none_or(|a| r.def.name > *a))
        .collect();
    let now = ctx.log.now_ms();
    let page: Vec<Value> = rest.iter().take(limit).map(|r| render(r, now)).collect();
    let mut members = vec![("Crawlers", Value::List(page))];
    if rest.len() > limit {
        let last = &rest[limit - 1].def.name;
        members.push(("NextToken", Value::str(token_of(&last.clone().into()))));
    }
    Ok(Value::map(members))
}
