//! DescribeApplication: v2's ApplicationDetail.

use super::detail;
use crate::error::ApiError;
use crate::input::Input;
use crate::kinesisanalytics as v1;
use crate::value::Value;
use crate::Ctx;

pub async fn handle(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    let name = v1::string(&mut input, "ApplicationName");
    let app = ctx
        .analytics
        .describe(&ctx.region, &name)
        .map_err(v1::error)?;
    Ok(Value::map([("ApplicationDetail", detail(&app))]))
}
