//! StopApplication (a SQL application cannot be force-stopped).

use crate::error::ApiError;
use crate::input::Input;
use crate::kinesisanalytics as v1;
use crate::value::Value;
use crate::Ctx;

pub async fn handle(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    let name = v1::string(&mut input, "ApplicationName");
    if let Some(Value::Bool(true)) = input.raw("Force") {
        return Err(ApiError::invalid_argument(
            "You can't force stop a SQL-based Kinesis Data Analytics application.",
        ));
    }
    ctx.analytics.stop(&ctx.region, &name).map_err(v1::error)?;
    Ok(Value::map([]))
}
