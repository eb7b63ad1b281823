//! Sessions and operations of the SQL Gateway. A statement runs in its own task (operations
//! are asynchronous: the handle comes back at once, errors show at status and fetch); the
//! statements of one session run one after another. A finished operation's result is one page
//! at token 0, then EOS at token 1.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use parking_lot::Mutex;
use serde_json::{json, Value};
use weir_stream::arrow::array::{RecordBatch, StringArray};
use weir_stream::arrow::datatypes::{DataType, Field, Schema};
use weir_stream::{Engine, Outcome, Session, StreamError};

use crate::results::{self, RowFormat};

/// A statement's state as Flink names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpStatus {
    Running,
    Finished,
    Error,
    Canceled,
}

impl OpStatus {
    pub fn name(self) -> &'static str {
        match self {
            OpStatus::Running => "RUNNING",
            OpStatus::Finished => "FINISHED",
            OpStatus::Error => "ERROR",
            OpStatus::Canceled => "CANCELED",
        }
    }
}

/// A finished statement's answer.
#[derive(Debug, Clone)]
pub struct Answer {
    /// `SUCCESS` (DDL and the like) or `SUCCESS_WITH_CONTENT`.
    pub with_content: bool,
    pub is_query: bool,
    pub job_id: Option<String>,
    pub batch: RecordBatch,
    /// An interactive query's rows, fetched page by page as they come.
    pub stream: Option<Arc<weir_stream::sink::Collector>>,
}

/// Where the pages of an interactive query's result are.
#[derive(Default)]
pub struct Pages {
    /// The token the next new page has.
    next: u64,
    /// The last page sent (sent again when its token is asked for again).
    last: Option<Value>,
}

pub struct Operation {
    pub status: Mutex<OpStatus>,
    pub answer: Mutex<Option<Answer>>,
    /// Why it failed: the Java exception class Flink would name, and the message.
    pub error: Mutex<Option<(&'static str, String)>>,
    pub task: Mutex<Option<tokio::task::JoinHandle<()>>>,
    pub pages: Mutex<Pages>,
    /// Set (under the status lock) when the operation is cancelled or closed: a statement
    /// finishing afterwards stops what it started instead of publishing it.
    pub ended: std::sync::atomic::AtomicBool,
}

pub struct SessionEntry {
    pub session: tokio::sync::Mutex<Session>,
    pub operations: Mutex<HashMap<String, Arc<Operation>>>,
    /// When a request last named the session (heartbeats included).
    pub last_used: Mutex<std::time::Instant>,
}

/// Flink's `sql-gateway.session.idle-timeout`: a session no request named for this long is
/// closed (and its interactive queries stopped).
pub const SESSION_IDLE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(600);

/// Every open session.
pub struct Gateway {
    pub engine: Engine,
    pub sessions: Mutex<HashMap<String, Arc<SessionEntry>>>,
}

/// An error as Flink's gateway reports it: the class of the exception a Flink client would see
/// and its message.
#[derive(Debug)]
pub struct GatewayError {
    pub status: u16,
    pub class: &'static str,
    pub message: String,
    /// What the gateway says it was doing ("Failed to fetchResults.").
    pub context: String,
}

impl GatewayError {
    pub fn new(class: &'static str, message: impl Into<String>) -> GatewayError {
        GatewayError {
            status: 500,
            class,
            message: message.into(),
            context: "Internal server error.".into(),
        }
    }

    /// `{"errors": [...]}` with the exception chain the SQL client reads its message from (the
    /// text after the last `Caused by: `, up to the first `\tat `).
    pub fn body(&self) -> Value {
        if self.status == 404 || self.status == 400 {
            return json!({"errors": [self.message]});
        }
        json!({"errors": [
            "Internal server error.",
            format!(
                "<Exception on server side:\norg.apache.flink.table.gateway.api.utils.SqlGatewayException: {}\n\tat weir.flink.Gateway(Weir)\nCaused by: {}: {}\n\tat weir.flink.Gateway(Weir)\n\nEnd of exception on server side>",
                self.context, self.class, self.message
            )
        ]})
    }
}

/// The Flink exception class for an engine error.
pub fn class_of(e: &StreamError) -> &'static str {
    match e {
        StreamError::Validation(_) | StreamError::NotFound(_) => {
            "org.apache.flink.table.api.ValidationException"
        }
        StreamError::Sql(_) => "org.apache.flink.table.api.SqlParserException",
        _ => "org.apache.flink.table.api.TableException",
    }
}

impl Gateway {
    pub fn new(engine: Engine) -> Gateway {
        Gateway {
            engine,
            sessions: Mutex::new(HashMap::new()),
        }
    }

    pub fn open_session(&self, properties: BTreeMap<String, String>) -> String {
        let id = weir_log::ids::uuid();
        let entry = Arc::new(SessionEntry {
            session: tokio::sync::Mutex::new(Session::new(self.engine.clone(), properties)),
            operations: Mutex::new(HashMap::new()),
            last_used: Mutex::new(std::time::Instant::now()),
        });
        self.sessions.lock().insert(id.clone(), entry);
        id
    }

    pub fn session(&self, id: &str) -> Result<Arc<SessionEntry>, GatewayError> {
        let found = self.sessions.lock().get(id).cloned();
        if let Some(e) = &found {
            *e.last_used.lock() = std::time::Instant::now();
        }
        found.ok_or_else(|| {
            GatewayError::new(
                "org.apache.flink.table.gateway.api.utils.SqlGatewayException",
                format!("Session '{id}' does not exist."),
            )
        })
    }

    pub fn close_session(&self, id: &str) -> Result<(), GatewayError> {
        let entry = self.session(id)?;
        self.sessions.lock().remove(id);
        for op in entry.operations.lock().values() {
            self.end(op);
        }
        Ok(())
    }

    /// Closes the sessions no request named for `SESSION_IDLE_TIMEOUT`.
    pub fn expire_sessions(&self) {
        let idle: Vec<String> = self
            .sessions
            .lock()
            .iter()
            .filter(|(_, e)| e.last_used.lock().elapsed() >= SESSION_IDLE_TIMEOUT)
            .map(|(id, _)| id.clone())
            .collect();
        for id in idle {
            tracing::info!(session = %id, "closing an idle Flink SQL session");
            let _ = self.close_session(&id);
        }
    }

    /// Stops what an operation runs: its statement, and an interactive query's job.
    fn end(&self, op: &Operation) {
        {
            let _status = op.status.lock();
            op.ended.store(true, std::sync::atomic::Ordering::SeqCst);
        }
        if let Some(t) = op.task.lock().take() {
            t.abort();
        }
        let answer = op.answer.lock().clone();
        if let Some(a) = answer {
            stop_query(&self.engine, &a);
        }
    }

    /// Starts a statement; its outcome is read later through the operation.
    pub fn submit(&self, session: &str, statement: String) -> Result<String, GatewayError> {
        let entry = self.session(session)?;
        let op = Arc::new(Operation {
            status: Mutex::new(OpStatus::Running),
            answer: Mutex::new(None),
            error: Mutex::new(None),
            task: Mutex::new(None),
            pages: Mutex::new(Pages::default()),
            ended: std::sync::atomic::AtomicBool::new(false),
        });
        let id = weir_log::ids::uuid();
        entry.operations.lock().insert(id.clone(), op.clone());
        let running = op.clone();
        let engine = self.engine.clone();
        let task = tokio::spawn(async move {
            use futures::FutureExt as _;
            let run = async {
                let mut s = entry.session.lock().await;
                s.execute(&statement).await
            };
            // A statement that panics fails its operation (it does not stay RUNNING).
            let out = std::panic::AssertUnwindSafe(run)
                .catch_unwind()
                .await
                .unwrap_or_else(|_| {
                    Err(StreamError::Unsupported(
                        "The statement failed unexpectedly (Weir panicked; see its log)".into(),
                    ))
                });
            finish(&engine, &running, out);
        });
        *op.task.lock() = Some(task);
        Ok(id)
    }

    /// Runs a statement to its end (configure-session).
    pub async fn run_now(&self, session: &str, statement: &str) -> Result<(), GatewayError> {
        let entry = self.session(session)?;
        let words: Vec<String> = statement
            .split_whitespace()
            .take(1)
            .map(str::to_ascii_uppercase)
            .collect();
        let allowed = [
            "SET", "RESET", "CREATE", "DROP", "USE", "ALTER", "LOAD", "UNLOAD", "ADD",
        ];
        if !words.first().is_some_and(|w| allowed.contains(&w.as_str())) {
            return Err(GatewayError::new(
                "org.apache.flink.table.gateway.service.utils.SqlExecutionException",
                format!("Unsupported statement for configuring session:{statement}"),
            ));
        }
        let mut s = entry.session.lock().await;
        s.execute(statement)
            .await
            .map(|_| ())
            .map_err(|e| GatewayError::new(class_of(&e), e.to_string()))
    }

    pub fn operation(&self, session: &str, op: &str) -> Result<Arc<Operation>, GatewayError> {
        self.session(session)?
            .operations
            .lock()
            .get(op)
            .cloned()
            .ok_or_else(|| {
                GatewayError::new(
                    "org.apache.flink.table.gateway.api.utils.SqlGatewayException",
                    format!(
                        "Can not find the submitted operation in the OperationManager with the \
                         {op}."
                    ),
                )
            })
    }

    pub fn cancel(&self, session: &str, op: &str) -> Result<OpStatus, GatewayError> {
        let o = self.operation(session, op)?;
        let running_query = o.answer.lock().as_ref().is_some_and(|a| a.stream.is_some());
        let running = *o.status.lock() == OpStatus::Running;
        if running || running_query {
            // `end` marks the operation ended first: a statement finishing now publishes
            // nothing.
            self.end(&o);
            *o.status.lock() = OpStatus::Canceled;
        }
        let st = *o.status.lock();
        Ok(st)
    }

    pub fn close_operation(&self, session: &str, op: &str) -> Result<(), GatewayError> {
        let entry = self.session(session)?;
        let removed = entry.operations.lock().remove(op);
        match removed {
            Some(o) => {
                self.end(&o);
                Ok(())
            }
            None => Err(GatewayError::new(
                "org.apache.flink.table.gateway.api.utils.SqlGatewayException",
                format!(
                    "Can not find the submitted operation in the OperationManager with the {op}."
                ),
            )),
        }
    }

    /// One page of an operation's result (`FetchResultsResponseBody`).
    pub fn fetch(
        &self,
        session: &str,
        op: &str,
        token: u64,
        format: RowFormat,
        next_uri: &dyn Fn(u64) -> String,
    ) -> Result<Value, GatewayError> {
        let o = self.operation(session, op)?;
        let status = *o.status.lock();
        let fail = |message: String| GatewayError {
            context: "Failed to fetchResults.".into(),
            ..GatewayError::new(
                "org.apache.flink.table.gateway.service.utils.SqlExecutionException",
                message,
            )
        };
        match status {
            OpStatus::Running => {
                return Ok(json!({"resultType": "NOT_READY", "nextResultUri": next_uri(0)}))
            }
            OpStatus::Canceled => {
                return Err(fail(format!(
                    "Can not fetch results from the {op} in CANCELED status."
                )))
            }
            OpStatus::Error => {
                let (class, message) = o
                    .error
                    .lock()
                    .clone()
                    .unwrap_or(("org.apache.flink.table.api.TableException", String::new()));
                return Err(GatewayError {
                    status: 500,
                    class,
                    message,
                    context: format!(
                        "Failed to fetchResults.\n\tat weir.flink.Gateway(Weir)\nCaused by: \
                         org.apache.flink.table.gateway.service.utils.SqlExecutionException: \
                         Failed to execute the operation {op}."
                    ),
                });
            }
            OpStatus::Finished => {}
        }
        let answer = o
            .answer
            .lock()
            .clone()
            .ok_or_else(|| fail("The operation has no result".into()))?;
        if let Some(rows) = &answer.stream {
            return self.query_page(&o, &answer, rows, token, format, next_uri, &fail);
        }
        let (kind, data, next) = match token {
            0 => (
                "PAYLOAD",
                results::rows(&answer.batch, format).map_err(fail)?,
                Some(next_uri(1)),
            ),
            1 => ("EOS", Vec::new(), None),
            other => {
                return Err(fail(format!(
                    "Expecting token to be 1 or 0, but found {other}."
                )))
            }
        };
        Ok(page(
            &answer,
            &answer.batch.schema(),
            kind,
            data,
            format,
            next,
        ))
    }

    /// A page of an interactive query: the rows collected since the last page (often none),
    /// until its job ends (then EOS, or the job's error).
    #[allow(clippy::too_many_arguments)]
    fn query_page(
        &self,
        o: &Operation,
        answer: &Answer,
        rows: &weir_stream::sink::Collector,
        token: u64,
        format: RowFormat,
        next_uri: &dyn Fn(u64) -> String,
        fail: &dyn Fn(String) -> GatewayError,
    ) -> Result<Value, GatewayError> {
        let mut pages = o.pages.lock();
        if token + 1 == pages.next {
            if let Some(p) = &pages.last {
                return Ok(p.clone());
            }
        }
        if token != pages.next {
            return Err(fail(format!(
                "Expecting token to be {} or {}, but found {token}.",
                pages.next,
                pages.next.saturating_sub(1)
            )));
        }
        let job = answer.job_id.as_deref().and_then(|j| self.engine.job(j));
        let batches = rows.take();
        let mut data = Vec::new();
        for b in &batches {
            data.extend(results::rows(b, format).map_err(fail)?);
        }
        let state = job
            .as_ref()
            .map(|j| j.spec.state.as_str())
            .unwrap_or("CANCELED");
        if state == "FAILED" && data.is_empty() {
            let message = job.and_then(|j| j.spec.error).unwrap_or_default();
            return Err(GatewayError::new(
                "org.apache.flink.table.api.TableException",
                message,
            ));
        }
        let ended = matches!(state, "CANCELED" | "FINISHED" | "FAILED") && data.is_empty();
        let (kind, next) = if ended {
            ("EOS", None)
        } else {
            ("PAYLOAD", Some(next_uri(token + 1)))
        };
        let body = page(answer, &rows.schema, kind, data, format, next);
        pages.next = token + 1;
        pages.last = Some(body.clone());
        Ok(body)
    }
}

/// A `FetchResultsResponseBody`.
fn page(
    answer: &Answer,
    schema: &weir_stream::arrow::datatypes::Schema,
    kind: &str,
    data: Vec<Value>,
    format: RowFormat,
    next: Option<String>,
) -> Value {
    {
        let mut body = serde_json::Map::new();
        body.insert("resultType".into(), json!(kind));
        body.insert("isQueryResult".into(), json!(answer.is_query));
        if let Some(j) = &answer.job_id {
            body.insert("jobID".into(), json!(j));
        }
        body.insert(
            "resultKind".into(),
            json!(if answer.with_content {
                "SUCCESS_WITH_CONTENT"
            } else {
                "SUCCESS"
            }),
        );
        body.insert(
            "results".into(),
            json!({
                "columns": schema.fields().iter().map(|f| results::column(f)).collect::<Vec<_>>(),
                "rowFormat": format.name(),
                "data": data,
            }),
        );
        if let Some(n) = next {
            body.insert("nextResultUri".into(), json!(n));
        }
        Value::Object(body)
    }
}

/// Stops an interactive query's job and drops its rows.
fn stop_query(engine: &Engine, answer: &Answer) {
    if let (Some(rows), Some(job)) = (&answer.stream, &answer.job_id) {
        rows.close();
        let (engine, job) = (engine.clone(), job.clone());
        tokio::spawn(async move {
            let _ = engine.stop_job(&job, false).await;
        });
    }
}

fn finish(engine: &Engine, op: &Operation, out: Result<Outcome, StreamError>) {
    let answer = match out {
        Ok(Outcome::Ok) => Ok(Answer {
            with_content: false,
            is_query: false,
            job_id: None,
            batch: one_string("result", "OK"),
            stream: None,
        }),
        Ok(Outcome::Rows(batch)) => Ok(Answer {
            with_content: true,
            is_query: false,
            job_id: None,
            batch,
            stream: None,
        }),
        Ok(Outcome::Job(id)) => Ok(Answer {
            with_content: true,
            is_query: false,
            batch: one_string("job id", &id),
            job_id: Some(id),
            stream: None,
        }),
        Ok(Outcome::Query { job, rows }) => Ok(Answer {
            with_content: true,
            is_query: true,
            batch: RecordBatch::new_empty(rows.schema.clone()),
            job_id: Some(job),
            stream: Some(rows),
        }),
        Err(e) => Err((class_of(&e), e.to_string())),
    };
    let mut status = op.status.lock();
    if op.ended.load(std::sync::atomic::Ordering::SeqCst) {
        // Cancelled or closed while it ran: what it started is stopped, not published.
        if let Ok(a) = &answer {
            stop_query(engine, a);
        }
        return;
    }
    match answer {
        Ok(a) => {
            *op.answer.lock() = Some(a);
            *status = OpStatus::Finished;
        }
        Err(e) => {
            *op.error.lock() = Some(e);
            *status = OpStatus::Error;
        }
    }
}

fn one_string(name: &str, value: &str) -> RecordBatch {
    let schema = Arc::new(Schema::new(vec![Field::new(name, DataType::Utf8, true)]));
    RecordBatch::try_new(schema, vec![Arc::new(StringArray::from(vec![value]))])
        .unwrap_or_else(|_| RecordBatch::new_empty(Arc::new(Schema::empty())))
}
