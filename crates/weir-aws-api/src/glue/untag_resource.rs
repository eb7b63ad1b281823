//! UntagResource: tag keys removed from a crawler or job (by ARN); keys it lacks are ignored.

use super::common::{string, strings};
use crate::error::ApiError;
use crate::input::Input;
use crate::value::Value;
use crate::Ctx;

pub async fn handle(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    let arn = string(&mut input, "ResourceArn")?;
    let remove = input.raw("TagsToRemove").map(strings).unwrap_or_default();
    super::tags::change(ctx, &arn, |t| {
        for k in &remove {
            t.remove(k);
        }
    })?;
    Ok(Value::map([]))
}
