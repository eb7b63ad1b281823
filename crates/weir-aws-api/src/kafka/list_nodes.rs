//! ListNodes: a cluster's broker nodes — as many as it asked for, each answering at Weir's one
//! Kafka listener.

use super::{cluster_of, spec};
use crate::error::ApiError;
use crate::input::Input;
use crate::value::Value;
use crate::Ctx;

pub fn handle(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    let c = cluster_of(ctx, &mut input)?;
    super::provisioned_only(&c)?;
    let count = match spec(&c, &["NumberOfBrokerNodes"]) {
        Value::Int(n) => n,
        _ => match spec(&c, &["Provisioned", "NumberOfBrokerNodes"]) {
            Value::Int(n) => n,
            _ => 1,
        },
    };
    let host = ctx
        .clusters
        .bootstrap_of(&c)
        .and_then(|(b, _)| b.rsplit_once(':').map(|(h, _)| h.to_string()))
        .unwrap_or_default();
    let instance = match spec(&c, &["BrokerNodeGroupInfo", "InstanceType"]) {
        Value::Null => spec(&c, &["Provisioned", "BrokerNodeGroupInfo", "InstanceType"]),
        v => v,
    };
    let nodes = (1..=count.max(1))
        .map(|id| {
            Value::map([
                ("AddedToClusterTime", Value::Timestamp(c.created_ms)),
                (
                    "BrokerNodeInfo",
                    Value::map([
                        ("BrokerId", Value::Float(id as f64)),
                        ("Endpoints", Value::List(vec![Value::str(host.clone())])),
                    ]),
                ),
                ("InstanceType", instance.clone()),
                (
                    "NodeARN",
                    Value::str(format!(
                        "{}/broker-{id}",
                        c.arn.replace(":cluster/", ":broker/")
                    )),
                ),
                ("NodeType", Value::str("BROKER")),
            ])
        })
        .collect();
    Ok(Value::map([("NodeInfoList", Value::List(nodes))]))
}
