//! ListCrawlers: crawler names, by name, those carrying every tag given when Tags is sent.

use std::collections::BTreeMap;

use super::common::{opt_string, page_size, read, token_from, token_of};
use crate::error::ApiError;
use crate::input::Input;
use crate::value::Value;
use crate::Ctx;

pub async fn handle(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    let limit = page_size(&mut input, 100);
    let after: Option<String> = token_from(opt_string(&mut input, "NextToken"))?;
    let tags: BTreeMap<String, String> = read(&mut input, "Tags")?.unwrap_or_default();
    let names: Vec<String> = ctx
        .crawlers
        .list(&ctx.region)
        .into_iter()
        .filter(|r| tags.iter().all(|(k, v)| r.tags.get(k) == Some(v)))
        .map(|r| r.def.name)
        .filter(|n| after.as_ref().is_none_or(|a| n > a))
        .collect();
    let page: Vec<Value> = names.iter().take(limit).cloned().map(Value::Str).collect();
    let mut members = vec![("CrawlerNames", Value::List(page))];
    if names.len() > limit {
        members.push((
            "NextToken",
            Value::str(token_of(&names[limit - 1].clone().into())),
        ));
    }
    Ok(Value::map(members))
}
