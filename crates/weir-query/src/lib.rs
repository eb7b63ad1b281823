//! Weir's lake SQL engine: runs Athena's statements — queries with Apache DataFusion over the
//! Glue catalog's tables in Weir's object store, DDL and utility statements on the catalog —
//! and writes results as Athena does (`<id>.csv` with a header row, `<id>.txt` for DDL and
//! utility statements, `.metadata` beside them). It is the `weir_athena::Engine` of the binary.

mod avro;
mod columnar;
mod ddl;
mod dml;
mod explain;
pub mod functions;
mod openx;
mod orc;
mod prepare;
mod projection;
mod render;
mod runtime_filter;
mod show;
pub mod store;
pub mod table;
pub mod trino;
pub mod types;
mod unnest;
mod view;
mod words;
pub mod write;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::error::DataFusionError;
use datafusion::execution::disk_manager::{DiskManagerBuilder, DiskManagerMode};
use datafusion::execution::memory_pool::FairSpillPool;
use datafusion::execution::runtime_env::{RuntimeEnv, RuntimeEnvBuilder};
use datafusion::execution::SessionStateBuilder;
use datafusion::physical_plan::{collect, ExecutionPlan};
use datafusion::prelude::{SessionConfig, SessionContext};
use weir_athena::classify::classify;
use weir_athena::{ColumnInfo, Engine, Failure, Job, Outcome, Run};
use weir_catalog::Catalog;
use weir_objects::{Objects, PutObject};

/// The name of Glue's catalog in SQL (`awsdatacatalog.db.table`).
pub const CATALOG_NAME: &str = "awsdatacatalog";

/// Settings of the engine.
#[derive(Debug, Clone)]
pub struct QueryConfig {
    /// Bytes all running queries may hold before operators spill (sorts, joins, aggregates).
    pub memory_limit: usize,
    /// Where spill files go.
    pub spill_dir: PathBuf,
    /// Parallelism within a query.
    pub target_partitions: usize,
    /// Apply joins' dynamic filters to the rows of the scans under them
    /// ([`runtime_filter`]).
    pub runtime_filters: bool,
}

/// The engine (cheap to clone).
#[derive(Clone)]
pub struct QueryEngine {
    catalog: Catalog,
    objects: Objects,
    runtime: Arc<RuntimeEnv>,
    config: QueryConfig,
    /// DataFusion's options as sessions start from them: its defaults, overridden by any
    /// `DATAFUSION_*` environment variables (e.g. `DATAFUSION_EXECUTION_BATCH_SIZE`), read once.
    options: Arc<datafusion::config::ConfigOptions>,
}

fn user_failure(e: &DataFusionError) -> Failure {
    let root = e.find_root();
    let msg = root.to_string();
    match root {
        DataFusionError::SQL(..) => Failure::user(1100, format!("SYNTAX_ERROR: {msg}")),
        DataFusionError::Plan(m) if m.contains("table") && m.contains("not found") => {
            Failure::user(1301, format!("TABLE_NOT_FOUND: {m}"))
        }
        DataFusionError::Plan(_) | DataFusionError::SchemaError(..) => {
            Failure::user(1100, format!("SYNTAX_ERROR: {msg}"))
        }
        DataFusionError::ResourcesExhausted(m) => Failure::user(
            1200,
            format!("EXCEEDED_LOCAL_MEMORY_LIMIT: the query needs more memory than Weir's query memory limit allows and could not spill: {m}"),
        ),
        DataFusionError::NotImplemented(m) => Failure::user(1300, format!("NOT_SUPPORTED: {m}")),
        DataFusionError::ObjectStore(_) | DataFusionError::IoError(_) => Failure::system(format!("GENERIC_INTERNAL_ERROR: {msg}")),
        _ => Failure::user(1300, format!("GENERIC_USER_ERROR: {msg}")),
    }
}

/// Replaces `?` placeholders (outside quotes and comments) with ExecutionParameters.
fn bind(sql: &str, params: &[String]) -> Result<String, Failure> {
    if params.is_empty() {
        return Ok(sql.to_string());
    }
    let mut out = String::with_capacity(sql.len());
    let mut quote: Option<char> = None;
    let mut n = 0;
    for ch in sql.chars() {
        match quote {
            Some(q) => {
                out.push(ch);
                if ch == q {
                    quote = None;
                }
            }
            None if ch == '\'' || ch == '"' => {
                quote = Some(ch);
                out.push(ch);
            }
            None if ch == '?' => {
                let p = params.get(n).ok_or_else(|| {
                    Failure::user(1100, "SYNTAX_ERROR: the query has more parameters than ExecutionParameters gives")
                })?;
                out.push_str(p);
                n += 1;
            }
            None => out.push(ch),
        }
    }
    if n != params.len() {
        return Err(Failure::user(
            1100,
            format!(
                "SYNTAX_ERROR: Incorrect number of parameters: expected {n} but found {}",
                params.len()
            ),
        ));
    }
    Ok(out)
}

/// Athena names unnamed result columns `_col0`, `_col1`, ...
fn column_name(i: usize, name: &str) -> String {
    // DataFusion names expressions by their text (`count(*)`, `Int64(1)`, `a + b`).
    let plain = !name.is_empty() && !name.contains(['(', ' ', '"']);
    if plain {
        name.to_string()
    } else {
        format!("_col{i}")
    }
}

fn columns_of(schema: &SchemaRef) -> Vec<ColumnInfo> {
    schema
        .fields()
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let (t, precision, scale) = types::athena_type(f.data_type());
            ColumnInfo {
                name: column_name(i, f.name()),
                type_name: t.to_string(),
                precision,
                scale,
                nullable: "UNKNOWN".into(),
                case_sensitive: t == "varchar" || t == "char",
            }
        })
        .collect()
}

/// The bytes a plan read: Parquet's `bytes_scanned`, and whole text files.
fn bytes_scanned(plan: &Arc<dyn ExecutionPlan>) -> u64 {
    use datafusion::datasource::physical_plan::FileScanConfig;
    use datafusion::datasource::source::DataSourceExec;
    let mut total = 0u64;
    if let Some(m) = plan.metrics() {
        total += m
            .sum_by_name("bytes_scanned")
            .map_or(0, |v| v.as_usize() as u64);
    }
    if let Some(dse) = plan.downcast_ref::<DataSourceExec>() {
        if let Some(fsc) = dse.data_source().downcast_ref::<FileScanConfig>() {
            if fsc.file_source().file_type() != "parquet" {
                total += fsc
                    .file_groups
                    .iter()
                    .flat_map(|g| g.iter())
                    .map(|f| f.object_meta.size)
                    .sum::<u64>();
            }
        }
    }
    if let Some(x) = plan.downcast_ref::<openx::OpenxExec>() {
        total += x.bytes();
    }
    if let Some(x) = plan.downcast_ref::<columnar::ColumnarExec>() {
        total += x.bytes();
    }
    for c in plan.children() {
        total += bytes_scanned(c);
    }
    total
}

/// Rows the plan's table scans produced.
fn input_rows(plan: &Arc<dyn ExecutionPlan>) -> u64 {
    if plan.children().is_empty() {
        return plan
            .metrics()
            .and_then(|m| m.output_rows())
            .map_or(0, |n| n as u64);
    }
    plan.children().into_iter().map(input_rows).sum()
}

impl QueryEngine {
    pub fn new(
        catalog: Catalog,
        objects: Objects,
        config: QueryConfig,
    ) -> Result<QueryEngine, DataFusionError> {
        std::fs::create_dir_all(&config.spill_dir)?;
        let runtime = RuntimeEnvBuilder::new()
            .with_memory_pool(Arc::new(FairSpillPool::new(config.memory_limit)))
            .with_disk_manager_builder(
                DiskManagerBuilder::default()
                    .with_mode(DiskManagerMode::Directories(vec![config.spill_dir.clone()])),
            )
            .with_object_store_registry(Arc::new(store::Registry::new(objects.clone())))
            .with_object_list_cache_limit(0)
            .build_arc()?;
        let mut options = datafusion::config::ConfigOptions::from_env().unwrap_or_else(|e| {
            tracing::warn!(error = %e, "ignoring DATAFUSION_* settings that do not parse");
            Default::default()
        });
        // Weir's defaults where they differ from DataFusion's (a DATAFUSION_* variable still
        // wins): joins whose build side is under 16 MiB or 1M rows build it once and share it
        // instead of repartitioning both sides (TPC-H SF1 ran ~15% faster on 2 cores).
        for (key, value) in [
            (
                "datafusion.optimizer.hash_join_single_partition_threshold",
                "16777216",
            ),
            (
                "datafusion.optimizer.hash_join_single_partition_threshold_rows",
                "1048576",
            ),
        ] {
            let var = key.replace('.', "_").to_ascii_uppercase();
            if std::env::var_os(&var).is_none() {
                if let Err(e) = options.set(key, value) {
                    tracing::warn!(error = %e, key, "could not set a DataFusion option");
                }
            }
        }
        Ok(QueryEngine {
            catalog,
            objects,
            runtime,
            config,
            options: Arc::new(options),
        })
    }

    /// Glue's `default` database exists in every region Athena is used in.
    fn ensure_default(&self, region: &str) {
        if self.catalog.get_database(region, "default").is_err() {
            let db = weir_catalog::Database {
                name: "default".into(),
                description: Some("Default Hive database".into()),
                ..Default::default()
            };
            if let Err(e) = self.catalog.create_database(region, db) {
                if !matches!(e, weir_catalog::CatalogError::AlreadyExists(_)) {
                    tracing::warn!(error = %e, "could not create the default database");
                }
            }
        }
    }

    /// A session whose default schema is the query's database.
    fn session(&self, region: &str, database: &str) -> SessionContext {
        let config = SessionConfig::from(self.options.as_ref().clone())
            .with_default_catalog_and_schema(CATALOG_NAME, database)
            .with_create_default_catalog_and_schema(false)
            .with_information_schema(false)
            .with_target_partitions(self.config.target_partitions.max(1));
        let mut state = SessionStateBuilder::new()
            .with_config(config)
            .with_runtime_env(self.runtime.clone())
            .with_default_features();
        if self.config.runtime_filters {
            state = state.with_physical_optimizer_rule(Arc::new(runtime_filter::RuntimeFilters));
        }
        let state = state.build();
        let ctx = SessionContext::new_with_state(state);
        ctx.register_catalog(
            CATALOG_NAME,
            Arc::new(table::GlueCatalog {
                catalog: self.catalog.clone(),
                region: region.to_string(),
                objects: self.objects.clone(),
                view_depth: 0,
            }),
        );
        functions::register(&ctx);
        ctx
    }

    async fn execute(&self, job: Job) -> Result<Outcome, Failure> {
        if classify(&job.sql).1 == "EXECUTE" {
            let inner = prepare::execute(&job)?;
            if classify(&inner.sql).1 == "EXECUTE" {
                return Err(Failure::user(
                    1100,
                    "SYNTAX_ERROR: a prepared statement cannot EXECUTE another",
                ));
            }
            return Box::pin(self.execute(inner)).await;
        }
        let sql = bind(&job.sql, &job.params)?;
        let (kind, sub) = classify(&sql);
        let database = job
            .database
            .clone()
            .unwrap_or_else(|| "default".into())
            .to_lowercase();
        self.ensure_default(&job.region);
        match sub {
            "SELECT" | "EXPLAIN" => self.query(&job, &sql, &database).await,
            "CREATE_TABLE_AS_SELECT" | "INSERT" | "UNLOAD" => {
                dml::run(self, &job, &sql, &database, sub).await
            }
            _ => {
                let started = Instant::now();
                let prepared = match sub {
                    "PREPARE" | "DEALLOCATE" => Some(prepare::change(&job, &sql, sub)?),
                    _ => None,
                };
                let result = if prepared.is_some() {
                    ddl::TextResult::default()
                } else {
                    ddl::run(self, &job.region, &database, &sql, sub).await?
                };
                let mut text = String::new();
                for row in &result.rows {
                    text.push_str(&row.join("\t"));
                    text.push('\n');
                }
                let columns: Vec<ColumnInfo> = result
                    .columns
                    .iter()
                    .map(|(name, t)| ColumnInfo {
                        name: name.clone(),
                        type_name: (*t).to_string(),
                        precision: 0,
                        scale: 0,
                        nullable: "UNKNOWN".into(),
                        case_sensitive: false,
                    })
                    .collect();
                self.write_result(&job, text.into_bytes(), &columns).await?;
                Ok(Outcome {
                    columns,
                    result_file: Some(job.result_file.clone()),
                    engine_ms: started.elapsed().as_millis() as u64,
                    statement_type: Some(kind.into()),
                    substatement_type: Some(sub.into()),
                    prepared,
                    ..Default::default()
                })
            }
        }
    }

    async fn query(&self, job: &Job, sql: &str, database: &str) -> Result<Outcome, Failure> {
        let started = Instant::now();
        let ctx = self.session(&job.region, database);
        let explain = if classify(sql).1 == "EXPLAIN" {
            Some(explain::translate(sql).map_err(|e| user_failure(&e))?)
        } else {
            None
        };
        let mut plan = None;
        let planning_ms;
        let (schema, batches) = match &explain {
            Some(e) if e.kind != explain::Kind::Analyze => {
                let answer = explain::answer(&ctx, e)
                    .await
                    .map_err(|e| user_failure(&e))?;
                planning_ms = started.elapsed().as_millis() as u64;
                answer
            }
            _ => {
                let analyzed = explain
                    .as_ref()
                    .map(|e| format!("EXPLAIN ANALYZE {}", e.statement));
                let df = trino::plan(&ctx, analyzed.as_deref().unwrap_or(sql))
                    .await
                    .map_err(|e| user_failure(&e))?;
                let physical = df
                    .create_physical_plan()
                    .await
                    .map_err(|e| user_failure(&e))?;
                planning_ms = started.elapsed().as_millis() as u64;
                let batches: Vec<RecordBatch> = collect(physical.clone(), ctx.task_ctx())
                    .await
                    .map_err(|e| user_failure(&e))?;
                let answer = if analyzed.is_some() {
                    explain::analyzed(&batches).map_err(|e| user_failure(&e))?
                } else {
                    (physical.schema(), batches)
                };
                plan = Some(physical);
                answer
            }
        };
        let mut columns = columns_of(&schema);
        if explain.is_some() {
            for (c, f) in columns.iter_mut().zip(schema.fields()) {
                c.name = f.name().clone();
            }
        }
        // Utility statements (EXPLAIN) answer in a `.txt`: tab-separated, no header.
        let text = job.result_file.ends_with(".txt");
        let mut csv = String::new();
        if !text {
            let header: Vec<Option<&str>> = columns.iter().map(|c| Some(c.name.as_str())).collect();
            csv.push_str(&weir_athena::results::csv_line(&header));
        }
        for b in &batches {
            for row in 0..b.num_rows() {
                let values: Vec<Option<String>> =
                    b.columns().iter().map(|a| render::render(a, row)).collect();
                if text {
                    let line: Vec<&str> =
                        values.iter().map(|v| v.as_deref().unwrap_or("")).collect();
                    csv.push_str(&line.join("\t"));
                    csv.push('\n');
                } else {
                    let refs: Vec<Option<&str>> = values.iter().map(|v| v.as_deref()).collect();
                    csv.push_str(&weir_athena::results::csv_line(&refs));
                }
            }
        }
        let output_bytes = csv.len() as u64;
        let output_rows = batches.iter().map(|b| b.num_rows() as u64).sum();
        self.write_result(job, csv.into_bytes(), &columns).await?;
        Ok(Outcome {
            columns,
            result_file: Some(job.result_file.clone()),
            data_scanned_bytes: plan.as_ref().map_or(0, bytes_scanned),
            input_rows: plan.as_ref().map_or(0, input_rows),
            output_rows,
            output_bytes,
            planning_ms,
            engine_ms: started.elapsed().as_millis() as u64,
            ..Default::default()
        })
    }

    /// Writes the result file and its `.metadata` (Weir's: the columns as JSON lines).
    async fn write_result(
        &self,
        job: &Job,
        data: Vec<u8>,
        columns: &[ColumnInfo],
    ) -> Result<(), Failure> {
        let Some((bucket, key)) = weir_athena::split_s3(&job.result_file) else {
            return Err(Failure::user(
                1300,
                format!("Invalid output location {}", job.result_file),
            ));
        };
        let content_type = if key.ends_with(".csv") {
            "text/csv"
        } else {
            "text/plain"
        };
        self.objects
            .put(
                bucket,
                key,
                PutObject {
                    data: data.into(),
                    content_type: Some(content_type.into()),
                    ..Default::default()
                },
            )
            .await
            .map_err(|e| {
                Failure::user(
                    1300,
                    format!(
                        "Unable to write the query result to {}: {e}",
                        job.result_file
                    ),
                )
            })?;
        let meta: String = columns
            .iter()
            .map(|c| format!("{{\"name\":{:?},\"type\":{:?}}}\n", c.name, c.type_name))
            .collect();
        let _ = self
            .objects
            .put(
                bucket,
                &format!("{key}.metadata"),
                PutObject {
                    data: meta.into_bytes().into(),
                    ..Default::default()
                },
            )
            .await;
        Ok(())
    }
}

impl Engine for QueryEngine {
    fn run(&self, job: Job) -> Run {
        let this = self.clone();
        Box::pin(async move { this.execute(job).await })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_and_names() {
        assert_eq!(
            bind("select ? , '?' where a = ?", &["1".into(), "'x'".into()]).ok(),
            Some("select 1 , '?' where a = 'x'".to_string())
        );
        assert!(bind("select ?", &[]).is_ok());
        assert!(bind("select 1", &["1".into()]).is_err());
        assert_eq!(column_name(0, "count(*)"), "_col0");
        assert_eq!(column_name(1, "Int64(1)"), "_col1");
        assert_eq!(column_name(2, "id"), "id");
    }
}
