//! DescribeCluster: a provisioned cluster's info (v1 shape).

use super::{cluster_of, current_version, now_ms, provisioned_members, tags_value};
use crate::error::ApiError;
use crate::input::Input;
use crate::value::Value;
use crate::Ctx;

/// The v1 ClusterInfo of a cluster.
pub fn info(ctx: &Ctx, c: &weir_kafka::Cluster) -> Value {
    let state = ctx.clusters.state_of(c, now_ms(ctx)).name();
    let mut members = vec![
        ("ClusterArn", Value::str(c.arn.clone())),
        ("ClusterName", Value::str(c.name.clone())),
        ("CreationTime", Value::Timestamp(c.created_ms)),
        ("CurrentVersion", current_version(c)),
        ("State", Value::str(state)),
        ("Tags", tags_value(&c.tags)),
    ];
    members.extend(provisioned_members(c));
    Value::map(members)
}

pub fn handle(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    let c = cluster_of(ctx, &mut input)?;
    super::provisioned_only(&c)?;
    Ok(Value::map([("ClusterInfo", info(ctx, &c))]))
}
