//! DescribeConfigurationRevision: one revision's server.properties.

use super::describe_configuration::configuration_of;
use crate::error::ApiError;
use crate::input::Input;
use crate::value::Value;
use crate::Ctx;

pub fn handle(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    let c = configuration_of(ctx, &mut input)?;
    let revision = match input.raw("Revision") {
        Some(Value::Int(n)) => n,
        _ => 0,
    };
    let Some((at, desc, props)) = usize::try_from(revision)
        .ok()
        .and_then(|r| r.checked_sub(1))
        .and_then(|i| c.revisions.get(i))
    else {
        return Err(ApiError::new(
            "NotFoundException",
            404,
            format!("Revision {revision} of {} does not exist.", c.arn),
        ));
    };
    Ok(Value::map([
        ("Arn", Value::str(c.arn.clone())),
        ("CreationTime", Value::Timestamp(*at)),
        ("Description", Value::str(desc.clone())),
        ("Revision", Value::Int(revision)),
        (
            "ServerProperties",
            Value::Bytes(props.clone().into_bytes().into()),
        ),
    ]))
}
