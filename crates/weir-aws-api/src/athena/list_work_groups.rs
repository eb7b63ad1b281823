//! ListWorkGroups.

use crate::error::ApiError;
use crate::input::Input;
use crate::value::Value;
use crate::Ctx;

pub async fn handle(ctx: &Ctx, _input: Input) -> Result<Value, ApiError> {
    let groups = ctx
        .athena
        .work_groups(&ctx.region)
        .into_iter()
        .map(|w| {
            Value::map([
                ("Name", Value::Str(w.name)),
                ("State", Value::Str(w.state)),
                ("Description", Value::opt_str(w.description)),
                ("CreationTime", Value::Timestamp(w.created_ms)),
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
            ])
        })
        .collect();
    Ok(Value::map([("WorkGroups", Value::List(groups))]))
}
