//! DescribeStreamConsumer.

use super::common::{consumer_value, read_consumer_ref};
use crate::error::ApiError;
use crate::input::Input;
use crate::value::Value;
use crate::Ctx;

pub async fn handle(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    let target = read_consumer_ref(ctx, &mut input);
    input.finish()?;
    let (key, name, arn) = target?;
    let c = match arn {
        Some(arn) => ctx.log.describe_consumer_arn(&key, &arn)?,
        None => ctx.log.describe_consumer(&key, &name)?,
    };
    Ok(Value::map([(
        "ConsumerDescription",
        consumer_value(&c, true),
    )]))
}
