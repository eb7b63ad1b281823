//! GetBootstrapBrokers: the cluster's Kafka listeners, under each name the cluster's settings call
//! for, as MSK names them: the plaintext string unless in-transit encryption is TLS only; with
//! the TLS listener on, the TLS string and the SASL/SCRAM and IAM ones (MSK serves SASL over
//! TLS); without it, SASL strings on the plaintext listener (which takes SASL too).

use super::{auth_enabled, cluster_of, spec};
use crate::error::ApiError;
use crate::input::Input;
use crate::value::Value;
use crate::Ctx;

pub fn handle(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    let c = cluster_of(ctx, &mut input)?;
    let Some((plain, tls)) = ctx.clusters.bootstrap_of(&c) else {
        return Err(crate::rest_json::bad_request(
            "Weir's Kafka listener is off ([kafka] listen).",
        ));
    };
    let (plain, tls) = (plain.as_str(), tls.as_deref());
    let in_transit = match spec(
        &c,
        &["EncryptionInfo", "EncryptionInTransit", "ClientBroker"],
    ) {
        Value::Str(s) => s,
        _ => match spec(
            &c,
            &[
                "Provisioned",
                "EncryptionInfo",
                "EncryptionInTransit",
                "ClientBroker",
            ],
        ) {
            Value::Str(s) => s,
            // MSK's default is TLS; Weir's default listener is plaintext, so without a TLS
            // listener the plaintext string is given.
            _ => match tls {
                Some(_) => "TLS".to_string(),
                None => "TLS_PLAINTEXT".to_string(),
            },
        },
    };
    let scram = auth_enabled(&c, &["Sasl", "Scram"]);
    let iam = auth_enabled(&c, &["Sasl", "Iam"]) || c.kind == "SERVERLESS";
    let unauthenticated = !(scram || iam) || auth_enabled(&c, &["Unauthenticated"]);
    let serverless = c.kind == "SERVERLESS";
    let plaintext_ok = !serverless && (in_transit != "TLS" || tls.is_none());
    // MSK serves SASL over TLS; with plaintext in transit, on the plaintext listener.
    let sasl_at = match in_transit.as_str() {
        "PLAINTEXT" => plain,
        _ => tls.unwrap_or(plain),
    };
    // Mutual TLS is a way in on the TLS string too.
    let tls_way = unauthenticated || auth_enabled(&c, &["Tls"]);
    let some = |on: bool, v: &str| if on { Value::str(v) } else { Value::Null };
    Ok(Value::map([
        (
            "BootstrapBrokerString",
            some(plaintext_ok && unauthenticated, plain),
        ),
        (
            "BootstrapBrokerStringTls",
            match tls {
                Some(t) => some(!serverless && tls_way && in_transit != "PLAINTEXT", t),
                None => Value::Null,
            },
        ),
        ("BootstrapBrokerStringSaslScram", some(scram, sasl_at)),
        ("BootstrapBrokerStringSaslIam", some(iam, sasl_at)),
    ]))
}
