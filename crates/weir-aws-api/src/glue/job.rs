//! What the job actions share: a job definition from a request (CreateJob, or UpdateJob's
//! JobUpdate), a job as Glue's `Job` shape (with Glue's defaults for members not given), a
//! run as `JobRun`, and the jobs engine's errors as Glue's.

use weir_jobs::model::MEMBERS;
use weir_jobs::{JobError, JobRecord, Run};

use super::common::{from_json, to_json};
use crate::error::ApiError;
use crate::input::Input;
use crate::value::Value;

/// Python shell jobs log here (standard output under `/output`, error under `/error`).
pub const LOG_GROUP: &str = "/aws-glue/python-jobs";

impl From<JobError> for ApiError {
    fn from(e: JobError) -> Self {
        let message = e.to_string();
        let error = match e {
            JobError::NotFound(_) => ApiError::new("EntityNotFoundException", 400, message),
            JobError::AlreadyExists(_) => ApiError::new("AlreadyExistsException", 400, message),
            JobError::InvalidInput(_) => ApiError::new("InvalidInputException", 400, message),
            JobError::ConcurrentRunsExceeded(_) => {
                ApiError::new("ConcurrentRunsExceededException", 400, message)
            }
            JobError::Storage(_) => {
                tracing::error!(error = %message, "Glue job request failed inside Weir");
                ApiError::new("InternalServiceException", 500, message)
            }
        };
        error.in_message_member()
    }
}

/// The definition members of a CreateJob request or a JobUpdate, as JSON.
pub fn definition(input: &mut Input) -> serde_json::Map<String, serde_json::Value> {
    let mut def = serde_json::Map::new();
    for member in MEMBERS {
        if let Some(v) = input.raw(member) {
            def.insert((*member).to_string(), to_json(v, false));
        }
    }
    def
}

/// A job as Glue's `Job`: its definition, with the defaults Glue shows for a Python shell job.
pub fn render(j: &JobRecord) -> Value {
    let mut def = j.definition.clone();
    let defaults = [
        (
            "ExecutionProperty",
            serde_json::json!({"MaxConcurrentRuns": 1}),
        ),
        ("MaxRetries", serde_json::json!(0)),
        ("AllocatedCapacity", serde_json::json!(0)),
        ("Timeout", serde_json::json!(j.timeout_min())),
        ("MaxCapacity", serde_json::json!(j.max_capacity())),
        ("GlueVersion", serde_json::json!(j.glue_version())),
    ];
    for (k, v) in defaults {
        def.entry(k.to_string()).or_insert(v);
    }
    let Value::Map(mut members) = from_json(serde_json::Value::Object(def), false) else {
        return Value::Null;
    };
    members.insert(0, ("Name".into(), Value::str(&j.name)));
    members.push(("CreatedOn".into(), Value::Timestamp(j.created_ms)));
    members.push(("LastModifiedOn".into(), Value::Timestamp(j.modified_ms)));
    Value::Map(members)
}

/// A run as Glue's `JobRun`.
pub fn render_run(r: &Run) -> Value {
    let mut m = vec![
        ("Id", Value::str(&r.id)),
        ("Attempt", Value::Int(r.attempt.into())),
        ("PreviousRunId", Value::opt_str(r.previous_run_id.clone())),
        ("JobName", Value::str(&r.job)),
        ("JobMode", Value::str("SCRIPT")),
        ("JobRunQueuingEnabled", Value::Bool(false)),
        ("StartedOn", Value::Timestamp(r.started_ms)),
        ("LastModifiedOn", Value::Timestamp(r.modified_ms)),
        (
            "CompletedOn",
            r.completed_ms.map_or(Value::Null, Value::Timestamp),
        ),
        ("JobRunState", Value::str(r.state.as_str())),
    ];
    if let Some(args) = &r.arguments {
        m.push((
            "Arguments",
            Value::Map(
                args.iter()
                    .map(|(k, v)| (k.clone().into(), Value::str(v)))
                    .collect(),
            ),
        ));
    }
    m.extend([
        ("ErrorMessage", Value::opt_str(r.error_message.clone())),
        ("PredecessorRuns", Value::List(Vec::new())),
        (
            "AllocatedCapacity",
            Value::Int(if r.max_capacity >= 1.0 { 1 } else { 0 }),
        ),
        ("ExecutionTime", Value::Int(r.execution_s.into())),
        ("Timeout", Value::Int(r.timeout_min.into())),
        ("MaxCapacity", Value::Float(r.max_capacity)),
        ("LogGroupName", Value::str(LOG_GROUP)),
        ("GlueVersion", Value::str(&r.glue_version)),
        ("ExecutionClass", Value::str("STANDARD")),
    ]);
    Value::map(m)
}
