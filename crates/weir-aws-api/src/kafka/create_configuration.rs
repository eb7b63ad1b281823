//! CreateConfiguration: a named server.properties (revision 1).

use base64::Engine;
use weir_kafka::Configuration;

use super::{api_error, arn, now_ms, string};
use crate::error::ApiError;
use crate::input::Input;
use crate::value::Value;
use crate::Ctx;

/// A blob member's bytes (JSON carries them in base64).
pub fn blob(input: &mut Input, name: &str) -> Vec<u8> {
    match input.raw(name) {
        Some(Value::Bytes(b)) => b.to_vec(),
        Some(Value::Str(s)) => base64::engine::general_purpose::STANDARD
            .decode(s.trim())
            .unwrap_or_default(),
        _ => Vec::new(),
    }
}

pub fn handle(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    let name = string(&mut input, "Name").unwrap_or_default();
    let description = string(&mut input, "Description").unwrap_or_default();
    let versions = super::strings(&mut input, "KafkaVersions");
    let properties = String::from_utf8_lossy(&blob(&mut input, "ServerProperties")).into_owned();
    let now = now_ms(ctx);
    let c = ctx
        .clusters
        .create_configuration(
            Configuration {
                arn: arn(ctx, "configuration", &name),
                name,
                region: ctx.region.clone(),
                description: description.clone(),
                kafka_versions: versions,
                revisions: vec![(now, description.clone(), properties)],
                tags: Default::default(),
            },
            now,
        )
        .map_err(api_error)?;
    Ok(Value::map([
        ("Arn", Value::str(c.arn)),
        ("CreationTime", Value::Timestamp(now)),
        (
            "LatestRevision",
            Value::map([
                ("CreationTime", Value::Timestamp(now)),
                ("Description", Value::str(description)),
                ("Revision", Value::Int(1)),
            ]),
        ),
        ("Name", Value::str(c.name)),
        ("State", Value::str("ACTIVE")),
    ]))
}
