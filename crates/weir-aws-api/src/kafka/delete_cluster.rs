//! DeleteCluster: the cluster turns DELETING (its listeners close, its topics are deleted),
//! then is gone.

use super::{api_error, now_ms, string};
use crate::error::ApiError;
use crate::input::Input;
use crate::value::Value;
use crate::Ctx;

pub fn handle(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    let arn = string(&mut input, "ClusterArn").unwrap_or_default();
    let c = ctx
        .clusters
        .delete_cluster(&arn, now_ms(ctx))
        .map_err(api_error)?;
    Ok(Value::map([
        ("ClusterArn", Value::str(c.arn)),
        ("State", Value::str("DELETING")),
    ]))
}
