//! GetWorkGroup (`primary` always exists).

use super::common::{invalid, string};
use crate::error::ApiError;
use crate::input::Input;
use crate::value::Value;
use crate::Ctx;

pub async fn handle(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    let name = string(&mut input, "WorkGroup").unwrap_or_default();
    let wg = ctx
        .athena
        .work_group(&ctx.region, &name)
        .ok_or_else(|| invalid(format!("WorkGroup {name} is not found.")))?;
    let mut config = vec![
        ("EnforceWorkGroupConfiguration", Value::Bool(wg.enforce)),
        ("PublishCloudWatchMetricsEnabled", Value::Bool(false)),
        ("RequesterPaysEnabled", Value::Bool(false)),
        (
            "EngineVersion",
            Value::map([
                ("SelectedEngineVersion", Value::str("AUTO")),
                (
                    "EffectiveEngineVersion",
                    Value::str("Athena engine version 3"),
                ),
            ]),
        ),
    ];
    if let Some(out) = &wg.output_location {
        config.insert(
            0,
            (
                "ResultConfiguration",
                Value::map([("OutputLocation", Value::str(out.clone()))]),
            ),
        );
    }
    Ok(Value::map([(
        "WorkGroup",
        Value::map([
            ("Name", Value::str(wg.name.clone())),
            ("State", Value::str(wg.state.clone())),
            ("Configuration", Value::map(config)),
            ("Description", Value::opt_str(wg.description.clone())),
            ("CreationTime", Value::Timestamp(wg.created_ms)),
        ]),
    )]))
}
