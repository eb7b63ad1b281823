//! CreateCluster: a provisioned cluster, CREATING for a moment, then ACTIVE.

use super::{api_error, new_cluster, string, tags_of, take_spec};
use crate::error::ApiError;
use crate::input::Input;
use crate::value::Value;
use crate::Ctx;

pub fn handle(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    let name = string(&mut input, "ClusterName").unwrap_or_default();
    let tags = tags_of(&mut input, "Tags");
    let spec = take_spec(
        &mut input,
        &[
            "BrokerNodeGroupInfo",
            "Rebalancing",
            "ClientAuthentication",
            "ConfigurationInfo",
            "EncryptionInfo",
            "EnhancedMonitoring",
            "OpenMonitoring",
            "KafkaVersion",
            "LoggingInfo",
            "NumberOfBrokerNodes",
            "StorageMode",
        ],
    );
    let c = ctx
        .clusters
        .create_cluster(new_cluster(ctx, name, "PROVISIONED", spec, tags))
        .map_err(api_error)?;
    Ok(Value::map([
        ("ClusterArn", Value::str(c.arn)),
        ("ClusterName", Value::str(c.name)),
        ("State", Value::str("CREATING")),
    ]))
}
