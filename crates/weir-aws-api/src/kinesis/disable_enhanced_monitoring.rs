//! DisableEnhancedMonitoring.

use super::common::{read_metrics, read_stream_ref};
use crate::error::ApiError;
use crate::input::Input;
use crate::value::Value;
use crate::Ctx;

pub async fn handle(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    let stream = read_stream_ref(&mut input)?;
    let metrics = read_metrics(&mut input)?;
    input.finish()?;
    let key = stream.resolve(ctx)?;
    let change = ctx
        .log
        .change_monitoring(&key, &metrics.unwrap_or_default(), false)?;
    Ok(super::common::monitoring_value(ctx, &key, change))
}
