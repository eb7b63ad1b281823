//! GetPreparedStatement.

use crate::error::ApiError;
use crate::input::Input;
use crate::value::Value;
use crate::Ctx;

pub async fn handle(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    let (name, wg) = super::prepared_statement::names(&mut input);
    let p = ctx
        .athena
        .prepared(&ctx.region, &wg, &name)
        .map_err(super::error)?;
    Ok(Value::map([(
        "PreparedStatement",
        super::prepared_statement::doc(p),
    )]))
}
