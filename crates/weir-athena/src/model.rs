//! The vocabulary of query executions, and the contract with the SQL engine that runs them.

use std::future::Future;
use std::pin::Pin;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum QueryState {
    Queued,
    Running,
    Succeeded,
    Failed,
    Cancelled,
}

impl QueryState {
    pub fn as_str(self) -> &'static str {
        match self {
            QueryState::Queued => "QUEUED",
            QueryState::Running => "RUNNING",
            QueryState::Succeeded => "SUCCEEDED",
            QueryState::Failed => "FAILED",
            QueryState::Cancelled => "CANCELLED",
        }
    }

    pub fn is_done(self) -> bool {
        matches!(
            self,
            QueryState::Succeeded | QueryState::Failed | QueryState::Cancelled
        )
    }
}

/// A result column as Athena describes it (type names are Athena's bare names).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColumnInfo {
    pub name: String,
    pub type_name: String,
    pub precision: i64,
    pub scale: i64,
    /// NOT_NULL, NULLABLE or UNKNOWN.
    pub nullable: String,
    pub case_sensitive: bool,
}

/// Why a query failed, as Athena's AthenaError says it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Failure {
    /// 1 system, 2 user, 3 other.
    pub category: i64,
    /// Athena's error type number (e.g. 1100 syntax, 1301 table not found, 401 internal).
    pub error_type: i64,
    pub retryable: bool,
    pub message: String,
}

impl Failure {
    /// A user error (the query is wrong).
    pub fn user(error_type: i64, message: impl Into<String>) -> Failure {
        Failure {
            category: 2,
            error_type,
            retryable: false,
            message: message.into(),
        }
    }

    /// A system error (Weir failed).
    pub fn system(message: impl Into<String>) -> Failure {
        Failure {
            category: 1,
            error_type: 401,
            retryable: true,
            message: message.into(),
        }
    }
}

/// What the engine is asked to run.
#[derive(Debug, Clone)]
pub struct Job {
    pub id: String,
    pub sql: String,
    pub region: String,
    pub database: Option<String>,
    pub catalog: Option<String>,
    /// The output location's folder: `s3://bucket/prefix/` (CTAS tables default under it).
    pub output_dir: String,
    /// The result file the execution announced: `<output_dir><id>.csv` or `.txt`.
    pub result_file: String,
    /// Values for `?` placeholders, as SQL literals.
    pub params: Vec<String>,
    /// The work group's prepared statements (name → SQL), for EXECUTE.
    pub prepared: std::collections::BTreeMap<String, String>,
}

/// What a finished query produced.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Outcome {
    pub columns: Vec<ColumnInfo>,
    /// `s3://bucket/key` of the result file (`.csv` with a header row, or `.txt`).
    pub result_file: Option<String>,
    pub data_scanned_bytes: u64,
    pub planning_ms: u64,
    pub engine_ms: u64,
    pub update_count: Option<i64>,
    pub manifest: Option<String>,
    /// A prepared statement the query made (`Some(sql)`) or removed (`None`).
    #[serde(default)]
    pub prepared: Option<(String, Option<String>)>,
    /// Rows read from tables, rows and bytes of the result (GetQueryRuntimeStatistics).
    #[serde(default)]
    pub input_rows: u64,
    #[serde(default)]
    pub output_rows: u64,
    #[serde(default)]
    pub output_bytes: u64,
    /// The statement's kind as the engine saw it (overrides the first guess).
    pub statement_type: Option<String>,
    pub substatement_type: Option<String>,
}

/// A boxed future of a query's outcome.
pub type Run = Pin<Box<dyn Future<Output = Result<Outcome, Failure>> + Send>>;

/// The SQL engine (DataFusion, in weir-query).
pub trait Engine: Send + Sync + 'static {
    fn run(&self, job: Job) -> Run;
}

/// One query execution, as GetQueryExecution reports it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Execution {
    pub id: String,
    pub query: String,
    pub region: String,
    pub statement_type: String,
    pub substatement_type: Option<String>,
    pub database: Option<String>,
    pub catalog: Option<String>,
    pub work_group: String,
    /// The result file's URL (set at submission: Athena names it before it exists).
    pub output_location: String,
    pub state: QueryState,
    pub reason: Option<String>,
    pub error: Option<Failure>,
    pub submitted_ms: i64,
    pub completed_ms: Option<i64>,
    pub started_ms: Option<i64>,
    pub outcome: Outcome,
    pub client_token: Option<String>,
    pub params: Vec<String>,
}

/// A work group's settings.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct WorkGroup {
    pub name: String,
    pub state: String,
    pub description: Option<String>,
    pub output_location: Option<String>,
    pub enforce: bool,
    pub created_ms: i64,
    /// The Configuration document as given (kept for GetWorkGroup).
    pub configuration: serde_json::Value,
}
