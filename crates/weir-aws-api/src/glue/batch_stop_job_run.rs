//! BatchStopJobRun: each run under way goes STOPPING, then STOPPED once its process is gone;
//! the others are listed with why.

use weir_jobs::JobError;

use super::common::{string, strings};
use crate::error::ApiError;
use crate::input::Input;
use crate::value::Value;
use crate::Ctx;

pub async fn handle(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    let name = string(&mut input, "JobName")?;
    let ids = input.raw("JobRunIds").map(strings).unwrap_or_default();
    let mut ok = Vec::new();
    let mut errors = Vec::new();
    for (id, result) in ctx.jobs.stop(&ctx.region, &name, &ids) {
        match result {
            Ok(()) => ok.push(Value::map([
                ("JobName", Value::str(&name)),
                ("JobRunId", Value::str(id)),
            ])),
            Err(e) => {
                let code = match e {
                    JobError::NotFound(_) => "EntityNotFoundException",
                    JobError::Storage(_) => "InternalServiceException",
                    _ => "InvalidInputException",
                };
                errors.push(Value::map([
                    ("JobName", Value::str(&name)),
                    ("JobRunId", Value::str(id)),
                    (
                        "ErrorDetail",
                        Value::map([
                            ("ErrorCode", Value::str(code)),
                            ("ErrorMessage", Value::str(e.to_string())),
                        ]),
                    ),
                ]));
            }
        }
    }
    Ok(Value::map([
        ("SuccessfulSubmissions", Value::List(ok)),
        ("Errors", Value::List(errors)),
    ]))
}
