//! ListCrawlers: crawler names, by name, those carrying every tag given when Tags is sent.

use std::collections::BTreeMap;

use super::common::{name_page, read};
use crate::error::ApiError;
use crate::input::Input;
use crate::value::Value;
use crate::Ctx;

pub async fn handle(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    let tags: BTreeMap<String, String> = read(&mut input, "Tags")?.unwrap_or_default();
    let names: Vec<String> = ctx
        .crawlers
        .list(&ctx.region)
        .into_iter()
        .filter(|r| tags.iter().all(|(k, v)| r.tags.get(k) == Some(v)))
        .map(|r| r.def.name)
        .collect();
    let (page, next) = name_page(&mut input, names, |n| n)?;
    Ok(Value::map([
        (
            "CrawlerNames",
            Value::List(page.into_iter().map(Value::Str).collect()),
        ),
        ("NextToken", Value::opt_str(next)),
    ]))
}
