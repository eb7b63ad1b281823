//! BatchGetNamedQuery (ids not found are listed as unprocessed).

use crate::error::ApiError;
use crate::input::Input;
use crate::value::Value;
use crate::Ctx;

pub async fn handle(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    let ids = match input.raw("NamedQueryIds") {
        Some(Value::List(v)) => v,
        _ => Vec::new(),
    };
    let (mut found, mut missing) = (Vec::new(), Vec::new());
    for id in ids {
        let Value::Str(id) = id else { continue };
        match ctx.athena.named_query(&ctx.region, &id) {
            Ok(q) => found.push(super::named_query::doc(q)),
            Err(e) => missing.push(Value::map([
                ("NamedQueryId", Value::Str(id)),
                ("ErrorCode", Value::str("INVALID_INPUT")),
                ("ErrorMessage", Value::Str(e.to_string())),
            ])),
        }
    }
    Ok(Value::map([
        ("NamedQueries", Value::List(found)),
        ("UnprocessedNamedQueryIds", Value::List(missing)),
    ]))
}
