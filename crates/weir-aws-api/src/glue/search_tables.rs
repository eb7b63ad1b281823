//! SearchTables: tables of every database whose name, description or parameters contain
//! SearchText, filtered by Filters (Key/Value/Comparator), sorted by SortCriteria.

use super::common::{opt_string, page_size, token_from, token_of, write};
use crate::error::ApiError;
use crate::input::Input;
use crate::value::Value;
use crate::Ctx;
use weir_catalog::Table;

fn field(t: &Table, key: &str) -> Option<String> {
    match key {
        "DatabaseName" => Some(t.database_name.clone()),
        "Name" => Some(t.name.clone()),
        "Description" => t.description.clone(),
        "Owner" => t.owner.clone(),
        "TableType" => t.table_type.clone(),
        "UpdateTime" => Some(t.update_time.to_string()),
        "CreateTime" => Some(t.create_time.to_string()),
        other => t.parameters.get(other).cloned(),
    }
}

pub async fn handle(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    let text = opt_string(&mut input, "SearchText").map(|s| s.to_lowercase());
    let after: Option<usize> = token_from(opt_string(&mut input, "NextToken"))?;
    let limit = page_size(&mut input, 100);
    let mut filters = Vec::new();
    if let Some(Value::List(items)) = input.raw("Filters") {
        for f in items {
            let Value::Map(members) = f else { continue };
            let get = |n: &str| {
                members.iter().find_map(|(k, v)| match v {
                    Value::Str(s) if k == n => Some(s.clone()),
                    _ => None,
                })
            };
            filters.push((
                get("Key").unwrap_or_default(),
                get("Value").unwrap_or_default(),
                get("Comparator").unwrap_or_else(|| "EQUALS".into()),
            ));
        }
    }
    let mut tables: Vec<Table> = ctx
        .catalog
        .all_tables(&ctx.region)
        .into_iter()
        .filter(|t| {
            text.as_ref().is_none_or(|q| {
                t.name.contains(q.as_str())
                    || t.description
                        .as_ref()
                        .is_some_and(|d| d.to_lowercase().contains(q.as_str()))
                    || t.parameters
                        .values()
                        .any(|v| v.to_lowercase().contains(q.as_str()))
            })
        })
        .filter(|t| {
            filters.iter().all(|(k, v, cmp)| {
                let Some(have) = field(t, k) else {
                    return false;
                };
                match cmp.as_str() {
                    "GREATER_THAN" => have.as_str() > v.as_str(),
                    "LESS_THAN" => have.as_str() < v.as_str(),
                    "GREATER_THAN_EQUALS" => have.as_str() >= v.as_str(),
                    "LESS_THAN_EQUALS" => have.as_str() <= v.as_str(),
                    _ => have == *v,
                }
            })
        })
        .collect();
    if let Some(Value::List(sorts)) = input.raw("SortCriteria") {
        if let Some(Value::Map(members)) = sorts.into_iter().next() {
            let get = |n: &str| {
                members.iter().find_map(|(k, v)| match v {
                    Value::Str(s) if k == n => Some(s.clone()),
                    _ => None,
                })
            };
            let key = get("FieldName").unwrap_or_default();
            let desc = get("Sort").as_deref() == Some("DESC");
            tables.sort_by_key(|t| field(t, &key));
            if desc {
                tables.reverse();
            }
        }
    }
    let skip = after.unwrap_or(0);
    let next = (tables.len() > skip + limit).then(|| token_of(&(skip + limit).into()));
    Ok(Value::map([
        ("NextToken", Value::opt_str(next)),
        (
            "TableList",
            Value::List(tables.iter().skip(skip).take(limit).map(write).collect()),
        ),
    ]))
}
