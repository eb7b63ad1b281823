//! DeleteApplicationCloudWatchLoggingOption.

use weir_analytics::Change;

use super::{changed, string, version};
use crate::error::ApiError;
use crate::input::Input;
use crate::value::Value;
use crate::Ctx;

pub async fn handle(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    let name = string(&mut input, "ApplicationName");
    let expected = version(&mut input);
    let change = Change::DeleteLogging(string(&mut input, "CloudWatchLoggingOptionId"));
    changed(
        ctx.analytics
            .change(&ctx.region, &name, expected, change)
            .await,
    )
}
