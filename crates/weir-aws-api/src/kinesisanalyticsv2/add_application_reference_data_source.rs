//! AddApplicationReferenceDataSource: an in-application table loaded from S3.

use weir_analytics::Change;

use super::{change, changed};
use crate::error::ApiError;
use crate::input::Input;
use crate::kinesisanalytics::{self as v1, shapes};
use crate::value::Value;
use crate::Ctx;

pub async fn handle(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    let app = change(ctx, &mut input, |input| {
        Ok(Change::AddReference(v1::required(
            input,
            "ReferenceDataSource",
        )?))
    })
    .await?;
    let role = app.service_role.as_deref();
    Ok(changed(
        &app,
        vec![(
            "ReferenceDataSourceDescriptions",
            shapes::list(&app.references, |r| shapes::reference(r, role)),
        )],
    ))
}
