//! CreateClusterV2: a provisioned or serverless cluster.

use super::{api_error, new_cluster, string, tags_of, take_spec};
use crate::error::ApiError;
use crate::input::Input;
use crate::value::Value;
use crate::Ctx;

pub fn handle(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    let name = string(&mut input, "ClusterName").unwrap_or_default();
    let tags = tags_of(&mut input, "Tags");
    let spec = take_spec(&mut input, &["Provisioned", "Serverless"]);
    let kind = match (spec.get("Provisioned"), spec.get("Serverless")) {
        (Some(_), None) => "PROVISIONED",
        (None, Some(_)) => "SERVERLESS",
        _ => {
            return Err(crate::rest_json::bad_request(
                "Specify either Provisioned or Serverless, and not both.",
            ))
        }
    };
    let c = ctx
        .clusters
        .create_cluster(new_cluster(ctx, name, kind, spec, tags))
        .map_err(api_error)?;
    Ok(Value::map([
        ("ClusterArn", Value::str(c.arn)),
        ("ClusterName", Value::str(c.name)),
        ("State", Value::str("CREATING")),
        ("ClusterType", Value::str(kind)),
    ]))
}
