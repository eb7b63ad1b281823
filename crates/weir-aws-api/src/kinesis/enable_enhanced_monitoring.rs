//! EnableEnhancedMonitoring.

use crate::error::ApiError;
use crate::input::Input;
use crate::value::Value;
use crate::Ctx;

pub async fn handle(ctx: &Ctx, input: Input) -> Result<Value, ApiError> {
    super::common::change_monitoring(ctx, input, true).await
}
