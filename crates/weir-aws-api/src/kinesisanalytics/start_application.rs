//! StartApplication: a READY application starts (STARTING, then RUNNING once its SQL runs),
//! each input from NOW, TRIM_HORIZON or LAST_STOPPED_POINT.

use weir_analytics::StartingPosition;

use super::{error, string};
use crate::error::ApiError;
use crate::input::Input;
use crate::value::Value;
use crate::Ctx;

/// `[{Id, InputStartingPositionConfiguration: {InputStartingPosition}}]` as (id, position);
/// a position not given is NOW.
pub fn positions(v: Option<Value>, id_member: &str) -> Vec<(String, StartingPosition)> {
    let Some(Value::List(items)) = v else {
        return Vec::new();
    };
    items
        .into_iter()
        .filter_map(|c| {
            let Value::Map(m) = c else { return None };
            let mut id = None;
            let mut at = StartingPosition::Now;
            for (k, v) in m {
                match (k.as_ref(), v) {
                    (k, Value::Str(s)) if k == id_member => id = Some(s),
                    ("InputStartingPositionConfiguration", Value::Map(p)) => {
                        for (k, v) in p {
                            if let ("InputStartingPosition", Value::Str(s)) = (k.as_ref(), v) {
                                at = StartingPosition::parse(&s).unwrap_or(StartingPosition::Now);
                            }
                        }
                    }
                    _ => {}
                }
            }
            Some((id?, at))
        })
        .collect()
}

pub async fn handle(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    let name = string(&mut input, "ApplicationName");
    let at = positions(input.raw("InputConfigurations"), "Id");
    ctx.analytics
        .start(&ctx.region, &name, &at)
        .await
        .map_err(error)?;
    Ok(Value::map([]))
}
