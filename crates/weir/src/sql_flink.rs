//! `weir sql --flink`: the same shell for Flink SQL, over the Flink SQL Gateway REST API (as
//! Flink's own SQL client in gateway mode calls it). Statements answer with their tables;
//! a streaming SELECT prints its rows as they arrive (`op` column `+I`, as Flink's tableau
//! view), until Ctrl-C or `--max-rows`.

use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context as _};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::TokioExecutor;
use serde_json::{json, Value};

use crate::sql::{render_table, Format};

/// A session of the Flink SQL Gateway.
pub struct FlinkShell {
    http: Client<HttpConnector, Full<Bytes>>,
    base: String,
    session: String,
    format: Format,
    /// Stop a streaming SELECT after this many rows (0: never).
    max_rows: usize,
}

impl FlinkShell {
    pub async fn open(base: &str, format: Format, max_rows: usize) -> anyhow::Result<FlinkShell> {
        let http = Client::builder(TokioExecutor::new()).build(HttpConnector::new());
        let mut shell = FlinkShell {
            http,
            base: base.trim_end_matches('/').to_string(),
            session: String::new(),
            format,
            max_rows,
        };
        let opened = shell
            .call(
                "POST",
                "/v2/sessions",
                json!({"properties": {"execution.runtime-mode": "streaming"}}),
            )
            .await
            .with_context(|| format!("opening a session on the Flink SQL Gateway at {base}"))?;
        shell.session = opened["sessionHandle"]
            .as_str()
            .ok_or_else(|| anyhow!("the gateway did not return a session"))?
            .to_string();
        Ok(shell)
    }

    pub fn endpoint(&self) -> &str {
        &self.base
    }

    async fn call(&self, method: &str, path: &str, body: Value) -> anyhow::Result<Value> {
        let uri = if path.starts_with("http") {
            path.to_string()
        } else {
            format!("{}{path}", self.base)
        };
        let req = hyper::Request::builder()
            .method(method)
            .uri(uri)
            .header("content-type", "application/json; charset=UTF-8")
            .body(Full::new(Bytes::from(body.to_string())))?;
        let resp = self.http.request(req).await?;
        let bytes = resp.into_body().collect().await?.to_bytes();
        let v: Value = serde_json::from_slice(&bytes)
            .map_err(|_| anyhow!("the gateway answered: {}", String::from_utf8_lossy(&bytes)))?;
        if let Some(errors) = v.get("errors").and_then(Value::as_array) {
            // The message Flink's client prints: after the last "Caused by: ", up to "\tat ".
            let last = errors.last().and_then(Value::as_str).unwrap_or("");
            let reason = last.rsplit("Caused by: ").next().unwrap_or(last);
            bail!("{}", reason.split("\tat ").next().unwrap_or(reason).trim());
        }
        Ok(v)
    }

    /// Runs one statement and prints its answer.
    pub async fn run(&self, statement: &str) -> anyhow::Result<()> {
        let started = Instant::now();
        let op = self
            .call(
                "POST",
                &format!("/v2/sessions/{}/statements", self.session),
                json!({"statement": statement, "executionTimeout": 0}),
            )
            .await?;
        let op = op["operationHandle"]
            .as_str()
            .ok_or_else(|| anyhow!("the gateway did not return an operation"))?
            .to_string();
        let mut page = loop {
            let p = self
                .call(
                    "GET",
                    &format!(
                        "/v2/sessions/{}/operations/{op}/result/0?rowFormat=PLAIN_TEXT",
                        self.session
                    ),
                    json!({}),
                )
                .await?;
            if p["resultType"] != "NOT_READY" {
                break p;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        let columns: Vec<String> = page["results"]["columns"]
            .as_array()
            .map(|c| {
                c.iter()
                    .map(|c| c["name"].as_str().unwrap_or("").to_string())
                    .collect()
            })
            .unwrap_or_default();
        let streaming = page["isQueryResult"] == true;
        let mut rows: Vec<Vec<Option<String>>> = Vec::new();
        let mut shown = 0usize;
        loop {
            let new = rows_of(&page);
            if streaming {
                for (r, kind) in new.iter().zip(kinds_of(&page)) {
                    self.print_streamed(&columns, r, kind, shown == 0);
                    shown += 1;
                    if self.max_rows > 0 && shown >= self.max_rows {
                        self.close(&op).await;
                        eprintln!("({shown} rows, stopped at --max-rows)");
                        return Ok(());
                    }
                }
            } else {
                rows.extend(new);
            }
            let Some(next) = page["nextResultUri"].as_str().map(str::to_string) else {
                break;
            };
            let empty = page["results"]["data"]
                .as_array()
                .is_none_or(|d| d.is_empty());
            if streaming && empty {
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_millis(100)) => {}
                    _ = tokio::signal::ctrl_c() => {
                        self.close(&op).await;
                        eprintln!("({shown} rows, cancelled)");
                        return Ok(());
                    }
                }
            }
            page = self.call("GET", &next, json!({})).await?;
        }
        if streaming {
            eprintln!("({shown} rows; the query ended)");
        } else if page["resultKind"] == "SUCCESS" {
            // DDL and settings: no table, as Flink's client says it.
            eprintln!("[INFO] Execute statement succeeded.");
        } else {
            self.print_table(&columns, &rows);
            if let Some(job) = page["jobID"].as_str() {
                eprintln!("Job ID: {job}");
            }
            eprintln!(
                "({} rows, {:.1} ms)",
                rows.len(),
                started.elapsed().as_secs_f64() * 1000.0
            );
        }
        self.close(&op).await;
        Ok(())
    }

    async fn close(&self, op: &str) {
        let _ = self
            .call(
                "DELETE",
                &format!("/v2/sessions/{}/operations/{op}/close", self.session),
                json!({}),
            )
            .await;
    }

    fn print_table(&self, columns: &[String], rows: &[Vec<Option<String>>]) {
        match self.format {
            Format::Table => print!("{}", render_table(columns, rows)),
            _ => {
                for r in rows {
                    self.print_row(columns, r);
                }
            }
        }
    }

    fn print_streamed(&self, columns: &[String], row: &[Option<String>], kind: &str, first: bool) {
        match self.format {
            Format::Table => {
                if first {
                    println!("op | {}", columns.join(" | "));
                }
                let cells: Vec<&str> = row.iter().map(|v| v.as_deref().unwrap_or("NULL")).collect();
                println!("{kind} | {}", cells.join(" | "));
            }
            // An updating query's retractions and updates say so (`"op": "-U"`).
            Format::Json if kind != "+I" => {
                let mut obj = json_row(columns, row);
                obj.insert("op".into(), Value::String(kind.into()));
                println!("{}", Value::Object(obj));
            }
            _ => self.print_row(columns, row),
        }
    }

    fn print_row(&self, columns: &[String], row: &[Option<String>]) {
        match self.format {
            Format::Json => println!("{}", Value::Object(json_row(columns, row))),
            _ => {
                let cells: Vec<String> = row
                    .iter()
                    .map(|v| match v {
                        None => String::new(),
                        Some(s) => format!("\"{}\"", s.replace('"', "\"\"")),
                    })
                    .collect();
                println!("{}", cells.join(","));
            }
        }
    }

    pub async fn close_session(&self) {
        let _ = self
            .call(
                "DELETE",
                &format!("/v2/sessions/{}", self.session),
                json!({}),
            )
            .await;
    }
}

/// A row as a JSON object of strings (NULL as null).
fn json_row(columns: &[String], row: &[Option<String>]) -> serde_json::Map<String, Value> {
    columns
        .iter()
        .zip(row)
        .map(|(c, v)| (c.clone(), v.clone().map_or(Value::Null, Value::String)))
        .collect()
}

/// A page's rows' kinds in Flink's short form (`+I`, `-U`, `+U`, `-D`).
fn kinds_of(page: &Value) -> Vec<&'static str> {
    page["results"]["data"]
        .as_array()
        .map(|d| {
            d.iter()
                .map(|r| match r["kind"].as_str() {
                    Some("UPDATE_BEFORE") => "-U",
                    Some("UPDATE_AFTER") => "+U",
                    Some("DELETE") => "-D",
                    _ => "+I",
                })
                .collect()
        })
        .unwrap_or_default()
}

/// A page's rows as text (NULL as none).
fn rows_of(page: &Value) -> Vec<Vec<Option<String>>> {
    page["results"]["data"]
        .as_array()
        .map(|d| {
            d.iter()
                .map(|r| {
                    r["fields"]
                        .as_array()
                        .map(|f| {
                            f.iter()
                                .map(|v| match v {
                                    Value::Null => None,
                                    Value::String(s) => Some(s.clone()),
                                    other => Some(other.to_string()),
                                })
                                .collect()
                        })
                        .unwrap_or_default()
                })
                .collect()
        })
        .unwrap_or_default()
}
