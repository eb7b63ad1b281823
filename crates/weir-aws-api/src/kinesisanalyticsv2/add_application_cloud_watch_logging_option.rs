//! AddApplicationCloudWatchLoggingOption.

use weir_analytics::Change;

use super::{change, changed};
use crate::error::ApiError;
use crate::input::Input;
use crate::kinesisanalytics::{self as v1, shapes};
use crate::value::Value;
use crate::Ctx;

pub async fn handle(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    let app = change(ctx, &mut input, |input| {
        Ok(Change::AddLogging(v1::required(
            input,
            "CloudWatchLoggingOption",
        )?))
    })
    .await?;
    let role = app.service_role.as_deref();
    Ok(changed(
        &app,
        vec![(
            "CloudWatchLoggingOptionDescriptions",
            shapes::list(&app.logging, |l| shapes::logging(l, role)),
        )],
    ))
}
