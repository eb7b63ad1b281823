//! Job definitions as Glue names their members, and job runs.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The members of a job definition the engine reads; the rest are kept as given.
pub const MEMBERS: &[&str] = &[
    "JobMode",
    "JobRunQueuingEnabled",
    "Description",
    "LogUri",
    "Role",
    "ExecutionProperty",
    "Command",
    "DefaultArguments",
    "NonOverridableArguments",
    "Connections",
    "MaxRetries",
    "AllocatedCapacity",
    "Timeout",
    "MaxCapacity",
    "WorkerType",
    "NumberOfWorkers",
    "SecurityConfiguration",
    "NotificationProperty",
    "GlueVersion",
    "CodeGenConfigurationNodes",
    "ExecutionClass",
    "SourceControlDetails",
    "MaintenanceWindow",
];

/// Python shell jobs run for 2,880 minutes at most unless told otherwise.
pub const DEFAULT_TIMEOUT_MIN: i64 = 2880;
/// A Python shell job's DPUs unless told otherwise.
pub const DEFAULT_MAX_CAPACITY: f64 = 0.0625;

/// A job: its name, its definition (Glue's `Job` members as given), tags and times.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobRecord {
    pub name: String,
    pub definition: Map<String, Value>,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    pub created_ms: i64,
    pub modified_ms: i64,
}

fn string_map(v: Option<&Value>) -> BTreeMap<String, String> {
    v.and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

impl JobRecord {
    fn command(&self, member: &str) -> Option<&str> {
        self.definition.get("Command")?.get(member)?.as_str()
    }
    /// Command.Name (`pythonshell`, `glueetl`, ...).
    pub fn command_name(&self) -> Option<&str> {
        self.command("Name")
    }
    pub fn script_location(&self) -> Option<&str> {
        self.command("ScriptLocation")
    }
    pub fn python_version(&self) -> Option<&str> {
        self.command("PythonVersion")
    }
    pub fn default_arguments(&self) -> BTreeMap<String, String> {
        string_map(self.definition.get("DefaultArguments"))
    }
    pub fn non_overridable_arguments(&self) -> BTreeMap<String, String> {
        string_map(self.definition.get("NonOverridableArguments"))
    }
    fn int(&self, member: &str) -> Option<i64> {
        self.definition.get(member)?.as_i64()
    }
    pub fn max_concurrent_runs(&self) -> i64 {
        self.definition
            .get("ExecutionProperty")
            .and_then(|e| e.get("MaxConcurrentRuns"))
            .and_then(Value::as_i64)
            .unwrap_or(1)
    }
    pub fn max_retries(&self) -> i64 {
        self.int("MaxRetries").unwrap_or(0)
    }
    pub fn timeout_min(&self) -> i64 {
        self.int("Timeout").unwrap_or(DEFAULT_TIMEOUT_MIN)
    }
    pub fn max_capacity(&self) -> f64 {
        self.definition
            .get("MaxCapacity")
            .and_then(Value::as_f64)
            .unwrap_or(DEFAULT_MAX_CAPACITY)
    }
    /// The Glue version: as given, else the one the Python version runs on (3.9 on 3.0, else
    /// 1.0).
    pub fn glue_version(&self) -> String {
        match self.definition.get("GlueVersion").and_then(Value::as_str) {
            Some(v) => v.to_string(),
            None if self.python_version() == Some("3.9") => "3.0".into(),
            None => "1.0".into(),
        }
    }
}

/// Where a run is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum RunState {
    Starting,
    Running,
    Stopping,
    Stopped,
    Succeeded,
    Failed,
    Timeout,
    Error,
}

impl RunState {
    pub fn as_str(self) -> &'static str {
        match self {
            RunState::Starting => "STARTING",
            RunState::Running => "RUNNING",
            RunState::Stopping => "STOPPING",
            RunState::Stopped => "STOPPED",
            RunState::Succeeded => "SUCCEEDED",
            RunState::Failed => "FAILED",
            RunState::Timeout => "TIMEOUT",
            RunState::Error => "ERROR",
        }
    }

    /// Still going (counts against MaxConcurrentRuns).
    pub fn is_active(self) -> bool {
        matches!(
            self,
            RunState::Starting | RunState::Running | RunState::Stopping
        )
    }
}

/// One run of a job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Run {
    /// `jr_` and 64 hex digits; a retry adds `_attempt_<n>`.
    pub id: String,
    pub job: String,
    pub attempt: u32,
    pub previous_run_id: Option<String>,
    pub state: RunState,
    pub started_ms: i64,
    pub modified_ms: i64,
    pub completed_ms: Option<i64>,
    /// The run's own Arguments (not merged with the job's), as StartJobRun gave them.
    pub arguments: Option<BTreeMap<String, String>>,
    pub error_message: Option<String>,
    pub timeout_min: i64,
    pub max_capacity: f64,
    pub glue_version: String,
    /// Seconds the script ran.
    pub execution_s: i64,
    /// The process (and its process group) while it runs.
    #[serde(default)]
    pub pid: Option<u32>,
}

/// What StartJobRun may set for one run.
#[derive(Debug, Clone, Default)]
pub struct RunRequest {
    pub arguments: Option<BTreeMap<String, String>>,
    pub timeout_min: Option<i64>,
    pub max_capacity: Option<f64>,
    /// JobRunId: a previous run this one retries.
    pub retry_of: Option<String>,
}
