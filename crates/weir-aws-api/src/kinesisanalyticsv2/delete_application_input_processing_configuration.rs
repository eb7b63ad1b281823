//! DeleteApplicationInputProcessingConfiguration.

use weir_analytics::Change;

use super::{change, changed};
use crate::error::ApiError;
use crate::input::Input;
use crate::kinesisanalytics as v1;
use crate::value::Value;
use crate::Ctx;

pub async fn handle(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    let app = change(ctx, &mut input, |input| {
        Ok(Change::DeleteInputProcessing(v1::string(input, "InputId")))
    })
    .await?;
    Ok(changed(&app, Vec::new()))
}
