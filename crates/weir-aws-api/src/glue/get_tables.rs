//! GetTables: a database's tables in name order; `Expression` is a pattern the whole name must
//! match (a regular expression in which `*` is any text, as the Hive metastore reads it).

use super::common::{invalid, opt_string, page_size, string, token_from, token_of, write};
use crate::error::ApiError;
use crate::input::Input;
use crate::value::Value;
use crate::Ctx;

/// Glue's name filter as a regular expression.
pub fn name_filter(expr: Option<&str>) -> Result<Option<regex::Regex>, ApiError> {
    let Some(e) = expr.filter(|e| !e.is_empty()) else {
        return Ok(None);
    };
    // As the Hive metastore reads such patterns: `*` is any text (`.*` stays as written).
    let mut re = String::new();
    let mut prev = None;
    for ch in e.chars() {
        if ch == '*' && prev != Some('.') {
            re.push_str(".*");
        } else {
            re.push(ch);
        }
        prev = Some(ch);
    }
    regex::Regex::new(&format!("(?i)^(?:{re})$"))
        .map(Some)
        .map_err(|_| invalid(format!("Invalid expression: {e}")))
}

pub async fn handle(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    let db = string(&mut input, "DatabaseName")?;
    let filter = name_filter(opt_string(&mut input, "Expression").as_deref())?;
    let after: Option<String> = token_from(opt_string(&mut input, "NextToken"))?;
    let limit = page_size(&mut input, 100);
    let tables: Vec<_> = ctx
        .catalog
        .tables(&ctx.region, &db)?
        .into_iter()
        .filter(|t| after.as_ref().is_none_or(|a| t.name > *a))
        .filter(|t| filter.as_ref().is_none_or(|re| re.is_match(&t.name)))
        .collect();
    let next = (tables.len() > limit).then(|| token_of(&tables[limit - 1].name.clone().into()));
    Ok(Value::map([
        (
            "TableList",
            Value::List(tables.iter().take(limit).map(write).collect()),
        ),
        ("NextToken", Value::opt_str(next)),
    ]))
}
