//! AddApplicationInput: the streaming source (one at most).

use weir_analytics::Change;

use super::{change, changed};
use crate::error::ApiError;
use crate::input::Input;
use crate::kinesisanalytics::{self as v1, shapes};
use crate::value::Value;
use crate::Ctx;

pub async fn handle(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    let app = change(ctx, &mut input, |input| {
        Ok(Change::AddInput(v1::required(input, "Input")?))
    })
    .await?;
    let role = app.service_role.as_deref();
    Ok(changed(
        &app,
        vec![(
            "InputDescriptions",
            shapes::list(&app.inputs, |i| shapes::input(i, role)),
        )],
    ))
}
