//! StopApplication: a RUNNING application stops (STOPPING, then READY), keeping where it
//! stopped for LAST_STOPPED_POINT.

use super::{error, string};
use crate::error::ApiError;
use crate::input::Input;
use crate::value::Value;
use crate::Ctx;

pub async fn handle(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    let name = string(&mut input, "ApplicationName");
    ctx.analytics.stop(&ctx.region, &name).map_err(error)?;
    Ok(Value::map([]))
}
