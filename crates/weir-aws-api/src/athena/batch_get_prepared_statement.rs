//! BatchGetPreparedStatement (names not found are listed as unprocessed).

use crate::error::ApiError;
use crate::input::Input;
use crate::value::Value;
use crate::Ctx;

pub async fn handle(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    let wg = super::common::string(&mut input, "WorkGroup").unwrap_or_default();
    let names = match input.raw("PreparedStatementNames") {
        Some(Value::List(v)) => v,
        _ => Vec::new(),
    };
    let (mut found, mut missing) = (Vec::new(), Vec::new());
    for name in names {
        let Value::Str(name) = name else { continue };
        match ctx.athena.prepared(&ctx.region, &wg, &name) {
            Ok(p) => found.push(super::prepared_statement::doc(p)),
            Err(e) => missing.push(Value::map([
                ("StatementName", Value::Str(name)),
                ("ErrorCode", Value::str("STATEMENT_NOT_FOUND")),
                ("ErrorMessage", Value::Str(e.to_string())),
            ])),
        }
    }
    Ok(Value::map([
        ("PreparedStatements", Value::List(found)),
        ("UnprocessedPreparedStatementNames", Value::List(missing)),
    ]))
}
