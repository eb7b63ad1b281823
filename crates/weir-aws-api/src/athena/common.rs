//! What the Athena handlers share: executions and tables as Athena's documents, and reading
//! members the model has already checked.

use weir_athena::Execution;

use crate::error::ApiError;
use crate::input::Input;
use crate::value::Value;

pub fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::new("InvalidRequestException", 400, message).in_message_member()
}

pub fn string(input: &mut Input, name: &str) -> Option<String> {
    match input.raw(name) {
        Some(Value::Str(s)) => Some(s),
        _ => None,
    }
}

pub fn int(input: &mut Input, name: &str) -> Option<i64> {
    match input.raw(name) {
        Some(Value::Int(i)) => i64::try_from(i).ok(),
        _ => None,
    }
}

/// A member of a nested structure.
pub fn nested(v: &Option<Value>, name: &str) -> Option<String> {
    match v {
        Some(Value::Map(members)) => members.iter().find_map(|(k, v)| match v {
            Value::Str(s) if k == name => Some(s.clone()),
            _ => None,
        }),
        _ => None,
    }
}

/// Page tokens are offsets.
pub fn offset(token: Option<String>) -> Result<usize, ApiError> {
    match token {
        None => Ok(0),
        Some(t) => t.parse().map_err(|_| invalid("Invalid NextToken")),
    }
}

/// The catalog name Athena accepts for Glue.
pub fn check_catalog(name: &str) -> Result<(), ApiError> {
    if name.eq_ignore_ascii_case("AwsDataCatalog") {
        Ok(())
    } else {
        Err(ApiError::new(
            "MetadataException",
            400,
            format!("Catalog {name} does not exist. Weir serves the Glue catalog, AwsDataCatalog."),
        )
        .in_message_member())
    }
}

/// A QueryExecution document.
pub fn execution(e: &Execution) -> Value {
    let done = e.state.is_done();
    let total = e.completed_ms.map(|c| (c - e.submitted_ms).max(0));
    let queue = e.started_ms.map(|s| (s - e.submitted_ms).max(0));
    let error = e.error.as_ref().map(|f| {
        Value::map([
            ("ErrorCategory", Value::Int(f.category as i128)),
            ("ErrorType", Value::Int(f.error_type as i128)),
            ("Retryable", Value::Bool(f.retryable)),
            ("ErrorMessage", Value::str(f.message.clone())),
        ])
    });
    let stats = if done {
        let o = &e.outcome;
        let total = total.unwrap_or(0);
        let engine = o.engine_ms as i64;
        Value::map([
            ("EngineExecutionTimeInMillis", Value::Int(engine as i128)),
            (
                "DataScannedInBytes",
                Value::Int(o.data_scanned_bytes as i128),
            ),
            ("DataManifestLocation", Value::opt_str(o.manifest.clone())),
            ("TotalExecutionTimeInMillis", Value::Int(total as i128)),
            (
                "QueryQueueTimeInMillis",
                Value::Int(queue.unwrap_or(0) as i128),
            ),
            ("ServicePreProcessingTimeInMillis", Value::Int(0)),
            (
                "QueryPlanningTimeInMillis",
                Value::Int(o.planning_ms as i128),
            ),
            (
                "ServiceProcessingTimeInMillis",
                Value::Int((total - engine - queue.unwrap_or(0)).max(0) as i128),
            ),
            (
                "ResultReuseInformation",
                Value::map([("ReusedPreviousResult", Value::Bool(false))]),
            ),
        ])
    } else {
        Value::map([
            ("TotalExecutionTimeInMillis", Value::Int(0)),
            ("DataScannedInBytes", Value::Int(0)),
            (
                "ResultReuseInformation",
                Value::map([("ReusedPreviousResult", Value::Bool(false))]),
            ),
        ])
    };
    let mut context = Vec::new();
    if let Some(d) = &e.database {
        context.push(("Database", Value::str(d.clone())));
    }
    context.push((
        "Catalog",
        Value::str(e.catalog.clone().unwrap_or_else(|| "awsdatacatalog".into())),
    ));
    Value::map([
        ("QueryExecutionId", Value::str(e.id.clone())),
        ("Query", Value::str(e.query.clone())),
        ("StatementType", Value::str(e.statement_type.clone())),
        (
            "ResultConfiguration",
            Value::map([("OutputLocation", Value::str(e.output_location.clone()))]),
        ),
        (
            "ResultReuseConfiguration",
            Value::map([(
                "ResultReuseByAgeConfiguration",
                Value::map([("Enabled", Value::Bool(false))]),
            )]),
        ),
        ("QueryExecutionContext", Value::map(context)),
        (
            "Status",
            Value::map([
                ("State", Value::str(e.state.as_str())),
                ("StateChangeReason", Value::opt_str(e.reason.clone())),
                ("SubmissionDateTime", Value::Timestamp(e.submitted_ms)),
                (
                    "CompletionDateTime",
                    e.completed_ms.map_or(Value::Null, Value::Timestamp),
                ),
                ("AthenaError", error.unwrap_or(Value::Null)),
            ]),
        ),
        ("Statistics", stats),
        ("WorkGroup", Value::str(e.work_group.clone())),
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
        (
            "ExecutionParameters",
            if e.params.is_empty() {
                Value::Null
            } else {
                Value::List(e.params.iter().cloned().map(Value::Str).collect())
            },
        ),
        (
            "SubstatementType",
            Value::opt_str(e.substatement_type.clone()),
        ),
    ])
}

/// A Glue column as Athena's Column.
pub fn column(c: &weir_catalog::Column) -> Value {
    Value::map([
        ("Name", Value::str(c.name.clone())),
        ("Type", Value::opt_str(c.data_type.clone())),
        ("Comment", Value::opt_str(c.comment.clone())),
    ])
}

/// A Glue table as Athena's TableMetadata (Parameters carry location and formats, as Athena's do).
pub fn table_metadata(t: &weir_catalog::Table) -> Value {
    let mut params: Vec<(crate::value::Key, Value)> = t
        .parameters
        .iter()
        .map(|(k, v)| (crate::value::Key::Owned(k.clone()), Value::str(v.clone())))
        .collect();
    if let Some(sd) = &t.storage_descriptor {
        let mut add = |k: &str, v: Option<&String>| {
            if let Some(v) = v {
                params.push((
                    crate::value::Key::Owned(k.to_string()),
                    Value::str(v.clone()),
                ));
            }
        };
        add("location", sd.location.as_ref());
        add("inputformat", sd.input_format.as_ref());
        add("outputformat", sd.output_format.as_ref());
        if let Some(serde) = &sd.serde_info {
            add(
                "serde.serialization.lib",
                serde.serialization_library.as_ref(),
            );
            for (k, v) in &serde.parameters {
                params.push((
                    crate::value::Key::Owned(format!("serde.param.{k}")),
                    Value::str(v.clone()),
                ));
            }
        }
    }
    Value::map([
        ("Name", Value::str(t.name.clone())),
        ("CreateTime", Value::Timestamp(t.create_time)),
        (
            "LastAccessTime",
            t.last_access_time.map_or(Value::Null, Value::Timestamp),
        ),
        ("TableType", Value::opt_str(t.table_type.clone())),
        (
            "Columns",
            Value::List(t.columns().iter().map(column).collect()),
        ),
        (
            "PartitionKeys",
            Value::List(t.partition_keys.iter().map(column).collect()),
        ),
        ("Parameters", Value::Map(params)),
    ])
}

/// A Glue database as Athena's `Database` shape.
pub fn database_doc(d: weir_catalog::Database) -> Value {
    Value::map([
        ("Name", Value::Str(d.name)),
        ("Description", Value::opt_str(d.description)),
        (
            "Parameters",
            Value::Map(
                d.parameters
                    .into_iter()
                    .map(|(k, v)| (crate::value::Key::Owned(k), Value::Str(v)))
                    .collect(),
            ),
        ),
    ])
}
