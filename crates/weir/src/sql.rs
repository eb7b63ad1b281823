//! `weir sql`: a SQL shell over a running Weir. Statements go through the Athena API
//! (StartQueryExecution, GetQueryExecution, GetQueryResults) exactly as any client's do; the
//! shell adds history, multi-line input (a statement ends with `;`), aligned tables, timing and
//! bytes scanned per statement, and `\l`, `\d`, `\d table`, `\c db` for the catalog.
//! `weir sql -c "..."` runs statements and exits; `--format csv|json` prints machine-readable rows.

use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context as _};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use serde_json::{json, Value};

use crate::client::JsonClient;

/// How rows are printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Csv,
    Json,
}

/// Options of `weir sql`.
#[derive(clap::Args, Debug)]
pub struct SqlArgs {
    /// The Weir endpoint.
    #[arg(long, env = "WEIR_ENDPOINT", default_value = "http://127.0.0.1:4566")]
    pub endpoint: String,
    /// The database statements run in.
    #[arg(long, short = 'd', default_value = "default")]
    pub database: String,
    /// The Athena work group.
    #[arg(long, default_value = "primary")]
    pub work_group: String,
    /// Where result files go (the bucket is made if it is missing).
    #[arg(long, default_value = "s3://weir-sql-results/")]
    pub output: String,
    /// Statements to run (separated by `;`), then exit.
    #[arg(short = 'c', long)]
    pub command: Option<String>,
    /// How rows are printed.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Flink SQL through the Flink SQL Gateway instead of Athena's SQL (streaming SELECTs
    /// print rows as they arrive).
    #[arg(long)]
    pub flink: bool,
    /// The Flink SQL Gateway.
    #[arg(
        long,
        env = "WEIR_FLINK_ENDPOINT",
        default_value = "http://127.0.0.1:8083"
    )]
    pub flink_endpoint: String,
    /// With --flink: stop a streaming SELECT after this many rows (0: at Ctrl-C).
    #[arg(long, default_value_t = 0)]
    pub max_rows: usize,
}

/// A finished statement's answer.
struct Answer {
    columns: Vec<String>,
    rows: Vec<Vec<Option<String>>>,
    elapsed: Duration,
    scanned: u64,
    update_count: Option<i64>,
}

struct Shell {
    athena: JsonClient,
    args: SqlArgs,
}

/// Splits text into statements at `;` outside quotes and comments; the rest is returned when
/// it is not a whole statement yet.
pub fn split_statements(text: &str) -> (Vec<String>, String) {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut chars = text.chars().peekable();
    let mut quote: Option<char> = None;
    while let Some(c) = chars.next() {
        match quote {
            Some(q) => {
                cur.push(c);
                if c == q {
                    quote = None;
                }
            }
            None => match c {
                '\'' | '"' | '`' => {
                    quote = Some(c);
                    cur.push(c);
                }
                '-' if chars.peek() == Some(&'-') => {
                    for c in chars.by_ref() {
                        if c == '\n' {
                            cur.push('\n');
                            break;
                        }
                    }
                }
                '/' if chars.peek() == Some(&'*') => {
                    chars.next();
                    let mut prev = ' ';
                    for c in chars.by_ref() {
                        if prev == '*' && c == '/' {
                            break;
                        }
                        prev = c;
                    }
                    cur.push(' ');
                }
                ';' => {
                    if !cur.trim().is_empty() {
                        out.push(cur.trim().to_string());
                    }
                    cur.clear();
                }
                _ => cur.push(c),
            },
        }
    }
    (out, cur)
}

/// Rows as an aligned table.
pub fn render_table(columns: &[String], rows: &[Vec<Option<String>>]) -> String {
    let cell = |v: &Option<String>| v.clone().unwrap_or_else(|| "NULL".into());
    let mut widths: Vec<usize> = columns.iter().map(|c| c.chars().count()).collect();
    for r in rows {
        for (i, v) in r.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(cell(v).chars().count());
            }
        }
    }
    let line = |vals: Vec<String>| -> String {
        let cells: Vec<String> = vals
            .iter()
            .zip(&widths)
            .map(|(v, w)| format!(" {v:<w$} "))
            .collect();
        cells.join("|").trim_end().to_string()
    };
    let mut out = line(columns.to_vec());
    out.push('\n');
    out.push_str(
        &widths
            .iter()
            .map(|w| "-".repeat(w + 2))
            .collect::<Vec<_>>()
            .join("+"),
    );
    out.push('\n');
    for r in rows {
        out.push_str(&line(r.iter().map(cell).collect()));
        out.push('\n');
    }
    out
}

fn csv_field(v: &Option<String>) -> String {
    match v {
        None => String::new(),
        Some(s) => format!("\"{}\"", s.replace('"', "\"\"")),
    }
}

impl Shell {
    /// Makes the output bucket if it is missing (Weir's S3 takes unsigned requests).
    async fn ensure_bucket(&self) -> anyhow::Result<()> {
        let bucket = self
            .args
            .output
            .strip_prefix("s3://")
            .and_then(|r| r.split('/').next())
            .filter(|b| !b.is_empty())
            .ok_or_else(|| anyhow!("--output must be an s3:// URL"))?;
        let http =
            hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
                .build_http::<Full<Bytes>>();
        let url = format!("{}/{bucket}", self.args.endpoint.trim_end_matches('/'));
        let req = hyper::Request::put(url).body(Full::new(Bytes::new()))?;
        let resp = http
            .request(req)
            .await
            .with_context(|| format!("cannot reach Weir at {}", self.args.endpoint))?;
        let status = resp.status().as_u16();
        let body = resp.into_body().collect().await?.to_bytes();
        if status != 200 && status != 409 {
            bail!(
                "could not make bucket {bucket}: {status} {}",
                String::from_utf8_lossy(&body)
            );
        }
        Ok(())
    }

    async fn run(&self, sql: &str) -> anyhow::Result<Answer> {
        let started = Instant::now();
        let start = self
            .athena
            .call(
                "StartQueryExecution",
                serde_json::to_vec(&json!({
                    "QueryString": sql,
                    "QueryExecutionContext": {"Database": self.args.database},
                    "ResultConfiguration": {"OutputLocation": self.args.output},
                    "WorkGroup": self.args.work_group,
                }))?,
            )
            .await?;
        let id = start["QueryExecutionId"]
            .as_str()
            .ok_or_else(|| anyhow!("no QueryExecutionId"))?
            .to_string();
        let mut poll = Duration::from_millis(1);
        let execution = loop {
            let e = self
                .athena
                .call(
                    "GetQueryExecution",
                    serde_json::to_vec(&json!({"QueryExecutionId": id}))?,
                )
                .await?;
            let state = e["QueryExecution"]["Status"]["State"]
                .as_str()
                .unwrap_or("")
                .to_string();
            match state.as_str() {
                "SUCCEEDED" => break e,
                "FAILED" | "CANCELLED" => bail!(
                    "{}",
                    e["QueryExecution"]["Status"]["StateChangeReason"]
                        .as_str()
                        .unwrap_or("the query failed")
                ),
                _ => {
                    tokio::time::sleep(poll).await;
                    poll = (poll * 2).min(Duration::from_millis(100));
                }
            }
        };
        let elapsed = started.elapsed();
        let select = execution["QueryExecution"]["SubstatementType"] == "SELECT"
            || execution["QueryExecution"]["SubstatementType"] == "EXECUTE";
        let mut rows = Vec::new();
        let mut columns = Vec::new();
        let mut update_count = None;
        let mut token: Option<String> = None;
        loop {
            let mut req = json!({"QueryExecutionId": id, "MaxResults": 1000});
            if let Some(t) = &token {
                req["NextToken"] = Value::String(t.clone());
            }
            let page = self
                .athena
                .call("GetQueryResults", serde_json::to_vec(&req)?)
                .await?;
            if columns.is_empty() {
                columns = page["ResultSet"]["ResultSetMetadata"]["ColumnInfo"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .map(|c| c["Name"].as_str().unwrap_or("").to_string())
                            .collect()
                    })
                    .unwrap_or_default();
                update_count = page["UpdateCount"].as_i64().filter(|n| *n > 0);
            }
            for r in page["ResultSet"]["Rows"].as_array().into_iter().flatten() {
                rows.push(
                    r["Data"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|d| d["VarCharValue"].as_str().map(str::to_string))
                        .collect(),
                );
            }
            token = page["NextToken"].as_str().map(str::to_string);
            if token.is_none() {
                break;
            }
        }
        if select && !rows.is_empty() {
            rows.remove(0); // the header row
        }
        Ok(Answer {
            columns,
            rows,
            elapsed,
            scanned: execution["QueryExecution"]["Statistics"]["DataScannedInBytes"]
                .as_u64()
                .unwrap_or(0),
            update_count,
        })
    }

    fn print(&self, a: &Answer) {
        match self.args.format {
            Format::Table => {
                if !a.columns.is_empty() && (!a.rows.is_empty() || a.update_count.is_none()) {
                    print!("{}", render_table(&a.columns, &a.rows));
                }
            }
            Format::Csv => {
                let header: Vec<String> = a
                    .columns
                    .iter()
                    .map(|c| csv_field(&Some(c.clone())))
                    .collect();
                println!("{}", header.join(","));
                for r in &a.rows {
                    println!("{}", r.iter().map(csv_field).collect::<Vec<_>>().join(","));
                }
            }
            Format::Json => {
                for r in &a.rows {
                    let obj: serde_json::Map<String, Value> = a
                        .columns
                        .iter()
                        .zip(r)
                        .map(|(c, v)| (c.clone(), v.clone().map_or(Value::Null, Value::String)))
                        .collect();
                    println!("{}", Value::Object(obj));
                }
            }
        }
        let what = match a.update_count {
            Some(n) => format!("{n} rows written"),
            None => format!("{} rows", a.rows.len()),
        };
        eprintln!(
            "({what}, {:.1} ms, {} scanned)",
            a.elapsed.as_secs_f64() * 1000.0,
            human_bytes(a.scanned)
        );
    }

    /// Runs one statement or shell command; `false` means quit.
    async fn statement(&mut self, text: &str) -> bool {
        let t = text.trim();
        let lower = t.to_ascii_lowercase();
        let sql = if t == "\\q" || lower == "quit" || lower == "exit" {
            return false;
        } else if t == "\\l" {
            "SHOW DATABASES".to_string()
        } else if t == "\\d" {
            "SHOW TABLES".to_string()
        } else if let Some(table) = t.strip_prefix("\\d ") {
            format!("DESCRIBE {}", table.trim())
        } else if let Some(db) = t
            .strip_prefix("\\c ")
            .or_else(|| lower.strip_prefix("use ").map(|_| &t[4..]))
        {
            self.args.database = db.trim().trim_end_matches(';').to_string();
            eprintln!("database {}", self.args.database);
            return true;
        } else {
            t.to_string()
        };
        match self.run(&sql).await {
            Ok(a) => self.print(&a),
            Err(e) => eprintln!("error: {e:#}"),
        }
        true
    }
}

fn human_bytes(n: u64) -> String {
    match n {
        n if n >= 1 << 30 => format!("{:.2} GiB", n as f64 / (1u64 << 30) as f64),
        n if n >= 1 << 20 => format!("{:.2} MiB", n as f64 / (1u64 << 20) as f64),
        n if n >= 1 << 10 => format!("{:.1} KiB", n as f64 / 1024.0),
        n => format!("{n} B"),
    }
}

/// What statements go to: Athena, or the Flink SQL Gateway.
enum Backend {
    Athena(Shell),
    Flink(crate::sql_flink::FlinkShell),
}

impl Backend {
    /// Runs a statement (or a shell command); `false` means quit.
    async fn statement(&mut self, text: &str) -> bool {
        match self {
            Backend::Athena(shell) => shell.statement(text).await,
            Backend::Flink(shell) => {
                let t = text.trim();
                if t == "\\q" || ["quit", "exit"].contains(&t.to_ascii_lowercase().as_str()) {
                    return false;
                }
                if let Err(e) = shell.run(t).await {
                    eprintln!("error: {e:#}");
                }
                true
            }
        }
    }

    /// Runs a statement for `-c`: whether it worked.
    async fn once(&self, text: &str) -> bool {
        let out = match self {
            Backend::Athena(shell) => shell.run(text).await.map(|a| shell.print(&a)),
            Backend::Flink(shell) => shell.run(text).await,
        };
        match out {
            Ok(()) => true,
            Err(e) => {
                eprintln!("error: {e:#}");
                false
            }
        }
    }

    fn prompt(&self) -> String {
        match self {
            Backend::Athena(shell) => shell.args.database.clone(),
            Backend::Flink(_) => "flink".into(),
        }
    }

    fn banner(&self) -> String {
        match self {
            Backend::Athena(shell) => format!(
                "weir sql on {} — end statements with ';', \\l databases, \\d tables, \\d t describes, \\c db switches, \\q quits",
                shell.args.endpoint
            ),
            Backend::Flink(shell) => format!(
                "weir sql (Flink SQL) on {} — end statements with ';', Ctrl-C stops a streaming SELECT, \\q quits",
                shell.endpoint()
            ),
        }
    }
}

/// Runs `weir sql`.
pub async fn run(args: SqlArgs) -> anyhow::Result<()> {
    let command = args.command.clone();
    let backend = if args.flink {
        Backend::Flink(
            crate::sql_flink::FlinkShell::open(&args.flink_endpoint, args.format, args.max_rows)
                .await?,
        )
    } else {
        let athena = JsonClient::new(&args.endpoint, "AmazonAthena")?;
        let shell = Shell { athena, args };
        shell.ensure_bucket().await?;
        Backend::Athena(shell)
    };
    if let Some(cmd) = command {
        let (stmts, rest) = split_statements(&cmd);
        let mut failed = false;
        for s in stmts
            .iter()
            .chain(std::iter::once(&rest).filter(|r| !r.trim().is_empty()))
        {
            failed |= !backend.once(s).await;
        }
        if let Backend::Flink(f) = &backend {
            f.close_session().await;
        }
        if failed {
            // Each failure was printed as it happened; scripts see the exit status.
            std::process::exit(1);
        }
        return Ok(());
    }
    interactive(&mut { backend }).await
}

async fn interactive(shell: &mut Backend) -> anyhow::Result<()> {
    use rustyline::error::ReadlineError;
    let mut editor = rustyline::DefaultEditor::new()?;
    let history =
        std::env::var_os("HOME").map(|h| std::path::PathBuf::from(h).join(".weir_sql_history"));
    if let Some(h) = &history {
        let _ = editor.load_history(h);
    }
    eprintln!("{}", shell.banner());
    let mut pending = String::new();
    loop {
        let name = shell.prompt();
        let prompt = if pending.is_empty() {
            format!("{name}> ")
        } else {
            format!("{}-> ", " ".repeat(name.len().saturating_sub(1)))
        };
        match editor.readline(&prompt) {
            Ok(line) => {
                let trimmed = line.trim();
                if pending.is_empty() && trimmed.starts_with('\\') {
                    let _ = editor.add_history_entry(trimmed);
                    if !shell.statement(trimmed).await {
                        break;
                    }
                    continue;
                }
                pending.push_str(&line);
                pending.push('\n');
                let (stmts, rest) = split_statements(&pending);
                if !stmts.is_empty() {
                    let _ = editor.add_history_entry(pending.trim());
                }
                pending = if rest.trim().is_empty() {
                    String::new()
                } else {
                    rest
                };
                for s in stmts {
                    if !shell.statement(&s).await {
                        return save(&mut editor, &history);
                    }
                }
            }
            Err(ReadlineError::Interrupted) => pending.clear(),
            Err(ReadlineError::Eof) => break,
            Err(e) => return Err(e.into()),
        }
    }
    save(&mut editor, &history)
}

fn save(
    editor: &mut rustyline::DefaultEditor,
    history: &Option<std::path::PathBuf>,
) -> anyhow::Result<()> {
    if let Some(h) = history {
        let _ = editor.save_history(h);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_and_tables() {
        let (s, rest) = split_statements("select ';' ; -- a; comment\nselect 2 /* ; */;select 3");
        assert_eq!(s, vec!["select ';'", "select 2"]);
        assert_eq!(split_statements("/* x; */").0, Vec::<String>::new());
        assert_eq!(rest, "select 3");
        let t = render_table(&["a".into(), "bb".into()], &[vec![Some("1".into()), None]]);
        assert_eq!(t, " a | bb\n---+------\n 1 | NULL\n");
    }
}
