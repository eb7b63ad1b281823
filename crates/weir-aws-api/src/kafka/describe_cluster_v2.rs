//! DescribeClusterV2: a cluster's info with its type (provisioned or serverless).

use super::{cluster_of, current_version, now_ms, provisioned_members, spec, tags_value};
use crate::error::ApiError;
use crate::input::Input;
use crate::value::Value;
use crate::Ctx;

/// The v2 Cluster of a cluster.
pub fn info(ctx: &Ctx, c: &weir_kafka::Cluster) -> Value {
    let state = ctx.clusters.state_of(c, now_ms(ctx)).name();
    let body = match c.kind.as_str() {
        "SERVERLESS" => (
            "Serverless",
            Value::map([
                ("VpcConfigs", spec(c, &["Serverless", "VpcConfigs"])),
                (
                    "ClientAuthentication",
                    spec(c, &["Serverless", "ClientAuthentication"]),
                ),
            ]),
        ),
        _ => ("Provisioned", Value::map(provisioned_members(c))),
    };
    Value::map([
        ("ClusterArn", Value::str(c.arn.clone())),
        ("ClusterName", Value::str(c.name.clone())),
        ("ClusterType", Value::str(c.kind.clone())),
        ("CreationTime", Value::Timestamp(c.created_ms)),
        ("CurrentVersion", current_version(c)),
        ("State", Value::str(state)),
        ("Tags", tags_value(&c.tags)),
        body,
    ])
}

pub fn handle(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    let c = cluster_of(ctx, &mut input)?;
    Ok(Value::map([("ClusterInfo", info(ctx, &c))]))
}
