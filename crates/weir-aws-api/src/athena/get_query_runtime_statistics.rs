//! GetQueryRuntimeStatistics: the timeline of a query and its row and byte counts.

use weir_athena::QueryState;

use super::common::{invalid, string};
use crate::error::ApiError;
use crate::input::Input;
use crate::value::Value;
use crate::Ctx;

pub async fn handle(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    let id = string(&mut input, "QueryExecutionId").unwrap_or_default();
    let e = ctx.athena.get(&ctx.region, &id).map_err(super::error)?;
    if e.state == QueryState::Queued {
        return Err(invalid(format!(
            "Query {id} has not started running yet; runtime statistics are not available."
        )));
    }
    let o = &e.outcome;
    let queue = e.started_ms.map_or(0, |s| (s - e.submitted_ms).max(0));
    let total = e.completed_ms.map_or(0, |c| (c - e.submitted_ms).max(0));
    let long = |v: u64| Value::Int(v as i128);
    Ok(Value::map([(
        "QueryRuntimeStatistics",
        Value::map([
            (
                "Timeline",
                Value::map([
                    ("QueryQueueTimeInMillis", Value::Int(queue as i128)),
                    ("ServicePreProcessingTimeInMillis", Value::Int(0)),
                    ("QueryPlanningTimeInMillis", long(o.planning_ms)),
                    ("EngineExecutionTimeInMillis", long(o.engine_ms)),
                    ("ServiceProcessingTimeInMillis", Value::Int(0)),
                    ("TotalExecutionTimeInMillis", Value::Int(total as i128)),
                ]),
            ),
            (
                "Rows",
                Value::map([
                    ("InputRows", long(o.input_rows)),
                    ("InputBytes", long(o.data_scanned_bytes)),
                    ("OutputBytes", long(o.output_bytes)),
                    ("OutputRows", long(o.output_rows)),
                ]),
            ),
        ]),
    )]))
}
