//! DeregisterStreamConsumer.

use super::common::read_consumer_ref;
use crate::error::ApiError;
use crate::input::Input;
use crate::value::Value;
use crate::Ctx;

pub async fn handle(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    let target = read_consumer_ref(ctx, &mut input);
    input.finish()?;
    let (key, name, arn) = target?;
    if let Some(arn) = arn {
        ctx.log.describe_consumer_arn(&key, &arn)?;
    }
    ctx.log.deregister_consumer(&key, &name)?;
    Ok(Value::Map(Vec::new()))
}
