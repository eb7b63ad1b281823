//! GetTags: a crawler's or job's tags (by ARN).

use super::common::string;
use crate::error::ApiError;
use crate::input::Input;
use crate::value::Value;
use crate::Ctx;

pub async fn handle(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    let arn = string(&mut input, "ResourceArn")?;
    let tags = super::tags::get(ctx, &arn)?;
    Ok(Value::map([(
        "Tags",
        Value::Map(
            tags.into_iter()
                .map(|(k, v)| (k.into(), Value::Str(v)))
                .collect(),
        ),
    )]))
}
