//! GetDatabases: databases in name order, a page at a time.

use super::common::{opt_string, page_size, token_from, token_of, write};
use crate::error::ApiError;
use crate::input::Input;
use crate::value::Value;
use crate::Ctx;

pub async fn handle(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    let after: Option<String> = token_from(opt_string(&mut input, "NextToken"))?;
    let limit = page_size(&mut input, 100);
    let dbs: Vec<_> = ctx
        .catalog
        .databases(&ctx.region)
        .into_iter()
        .filter(|d| after.as_ref().is_none_or(|a| d.name > *a))
        .collect();
    let next = (dbs.len() > limit).then(|| token_of(&dbs[limit - 1].name.clone().into()));
    Ok(Value::map([
        (
            "DatabaseList",
            Value::List(dbs.iter().take(limit).map(write).collect()),
        ),
        ("NextToken", Value::opt_str(next)),
    ]))
}
