//! GetBootstrapBrokers: Weir's Kafka listener, under each name the cluster's authentication
//! calls for (plaintext unless the cluster turned unauthenticated access off; SASL/SCRAM and
//! IAM when enabled). The listener takes SASL on its one port, and has no TLS yet.

use super::{auth_enabled, cluster_of};
use crate::error::ApiError;
use crate::input::Input;
use crate::value::Value;
use crate::Ctx;

pub fn handle(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    let c = cluster_of(ctx, &mut input)?;
    let Some(broker) = ctx.clusters.bootstrap() else {
        return Err(crate::rest_json::bad_request(
            "Weir's Kafka listener is off ([kafka] listen).",
        ));
    };
    let broker = Value::str(broker);
    let scram = auth_enabled(&c, &["Sasl", "Scram"]);
    let iam = auth_enabled(&c, &["Sasl", "Iam"]) || c.kind == "SERVERLESS";
    let plaintext =
        c.kind != "SERVERLESS" && (!(scram || iam) || auth_enabled(&c, &["Unauthenticated"]));
    let when = |on: bool| if on { broker.clone() } else { Value::Null };
    Ok(Value::map([
        ("BootstrapBrokerString", when(plaintext)),
        ("BootstrapBrokerStringSaslScram", when(scram)),
        ("BootstrapBrokerStringSaslIam", when(iam)),
    ]))
}
