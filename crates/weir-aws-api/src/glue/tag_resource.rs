//! TagResource: tags added to a crawler or job (by ARN), replacing values of keys it has.

use std::collections::BTreeMap;

use super::common::{read, string};
use crate::error::ApiError;
use crate::input::Input;
use crate::value::Value;
use crate::Ctx;

pub async fn handle(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    let arn = string(&mut input, "ResourceArn")?;
    let add: BTreeMap<String, String> = read(&mut input, "TagsToAdd")?.unwrap_or_default();
    super::tags::change(ctx, &arn, |t| {
        t.extend(add.clone());
    })?;
    Ok(Value::map([]))
}
