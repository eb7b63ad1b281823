//! The statements that write data: CREATE TABLE AS SELECT, INSERT INTO and UNLOAD. Each runs
//! its query as a stream into files (write.rs), lists the files in `<id>-manifest.csv` beside
//! the result (Statistics.DataManifestLocation), and answers with the row count (UpdateCount).
//! CTAS registers its table and partitions in the Glue catalog; INSERT INTO adds partitions.

use std::collections::BTreeMap;
use std::time::Instant;

use datafusion::common::Column as DfColumn;
use datafusion::logical_expr::{cast, Expr};
use datafusion::sql::sqlparser::tokenizer::Token;
use futures::StreamExt;
use weir_athena::{ColumnInfo, Failure, Job, Outcome};
use weir_catalog::{CatalogError, Column, SerDeInfo, StorageDescriptor, Table};
use weir_objects::PutObject;

use crate::ddl::{catalog_err, now_secs, partition_for, syntax, PARQUET, TEXT};
use crate::table::{format_of, split_location, Format};
use crate::types::{hive_name, hive_to_arrow};
use crate::words::Words;
use crate::write::{FileFormat, Sink, Target, Written};
use crate::{column_name, user_failure, QueryEngine, CATALOG_NAME};

/// A property value of `WITH (...)`: text, or `ARRAY['a', 'b']`.
#[derive(Debug, Clone, PartialEq)]
enum Prop {
    Text(String),
    List(Vec<String>),
}

impl Prop {
    fn text(&self) -> Option<&str> {
        match self {
            Prop::Text(s) => Some(s),
            Prop::List(_) => None,
        }
    }
}

/// `WITH ( name = value, ... )` of CTAS and UNLOAD.
fn with_properties(w: &mut Words) -> Result<BTreeMap<String, Prop>, String> {
    w.expect_symbol(Token::LParen)?;
    let mut out = BTreeMap::new();
    loop {
        let key = w.ident()?;
        w.expect_symbol(Token::Eq)?;
        let value = if w.keyword("array") {
            w.expect_symbol(Token::LBracket)?;
            let mut items = Vec::new();
            if !w.symbol(Token::RBracket) {
                loop {
                    items.push(w.string()?.to_lowercase());
                    if !w.symbol(Token::Comma) {
                        break;
                    }
                }
                w.expect_symbol(Token::RBracket)?;
            }
            Prop::List(items)
        } else if w.keyword("true") {
            Prop::Text("true".into())
        } else if w.keyword("false") {
            Prop::Text("false".into())
        } else {
            Prop::Text(w.literal()?)
        };
        out.insert(key, value);
        if !w.symbol(Token::Comma) {
            break;
        }
    }
    w.expect_symbol(Token::RParen)?;
    Ok(out)
}

fn list(props: &BTreeMap<String, Prop>, key: &str) -> Vec<String> {
    match props.get(key) {
        Some(Prop::List(v)) => v.clone(),
        Some(Prop::Text(s)) => vec![s.to_lowercase()],
        None => Vec::new(),
    }
}

fn text<'a>(props: &'a BTreeMap<String, Prop>, key: &str) -> Option<&'a str> {
    props.get(key).and_then(Prop::text)
}

/// Cuts a trailing `WITH [NO] DATA` (and `;`) off a CTAS query; `true` when it said NO DATA.
fn split_data_clause(query: &str) -> (String, bool) {
    let trimmed = query.trim_end().trim_end_matches(';').trim_end();
    let re = regex::Regex::new(r"(?is)\s+with\s+(no\s+)?data$").ok();
    match re.and_then(|r| r.captures(trimmed).map(|c| (c.get(0), c.get(1).is_some()))) {
        Some((Some(m), no_data)) => (trimmed[..m.start()].to_string(), no_data),
        _ => (trimmed.to_string(), false),
    }
}

fn io_failure(e: impl std::fmt::Display) -> Failure {
    Failure::user(1300, e.to_string())
}

/// Fails unless nothing is stored under `s3://bucket/prefix`.
async fn ensure_empty(
    engine: &QueryEngine,
    bucket: &str,
    prefix: &str,
    what: &str,
) -> Result<(), Failure> {
    let listed = engine
        .objects
        .list_objects(bucket, prefix)
        .await
        .map_err(io_failure)?;
    if listed.is_empty() {
        Ok(())
    } else {
        Err(Failure::user(
            1300,
            format!("HIVE_PATH_ALREADY_EXISTS: Target directory for {what} already exists: s3://{bucket}/{prefix}"),
        ))
    }
}

/// Runs a query into a sink; returns what was written and the bytes the query scanned.
async fn run_into(
    engine: &QueryEngine,
    df: datafusion::dataframe::DataFrame,
    target: Target,
) -> Result<(Written, u64), Failure> {
    let task = df.task_ctx();
    let plan = df
        .create_physical_plan()
        .await
        .map_err(|e| user_failure(&e))?;
    let schema = plan.schema();
    let mut sink = Sink::new(engine.objects.clone(), target, &schema)?;
    let mut stream =
        datafusion::physical_plan::execute_stream(plan.clone(), std::sync::Arc::new(task))
            .map_err(|e| user_failure(&e))?;
    while let Some(batch) = stream.next().await {
        let batch = batch.map_err(|e| user_failure(&e))?;
        sink.write(&batch).await?;
    }
    let written = sink.finish().await?;
    Ok((written, crate::bytes_scanned(&plan)))
}

/// Writes `<output_dir><id>-manifest.csv` (one file URL per line) and returns its URL.
async fn write_manifest(
    engine: &QueryEngine,
    job: &Job,
    files: &[String],
) -> Result<String, Failure> {
    let url = format!("{}{}-manifest.csv", job.output_dir, job.id);
    let (bucket, key) = weir_athena::split_s3(&url)
        .ok_or_else(|| Failure::user(1300, format!("Invalid output location {url}")))?;
    let mut body = String::new();
    for f in files {
        body.push_str(f);
        body.push('\n');
    }
    engine
        .objects
        .put(
            bucket,
            key,
            PutObject {
                data: body.into_bytes().into(),
                content_type: Some("text/csv".into()),
                ..Default::default()
            },
        )
        .await
        .map_err(io_failure)?;
    Ok(url)
}

/// The answer of a writing statement: one `rows` column, no rows, UpdateCount.
async fn answer(
    engine: &QueryEngine,
    job: &Job,
    written: &Written,
    scanned: u64,
    started: Instant,
) -> Result<Outcome, Failure> {
    let manifest = write_manifest(engine, job, &written.files).await?;
    let columns = vec![ColumnInfo {
        name: "rows".into(),
        type_name: "bigint".into(),
        precision: 19,
        scale: 0,
        nullable: "UNKNOWN".into(),
        case_sensitive: false,
    }];
    engine.write_result(job, Vec::new(), &columns).await?;
    Ok(Outcome {
        columns,
        result_file: Some(job.result_file.clone()),
        data_scanned_bytes: scanned,
        engine_ms: started.elapsed().as_millis() as u64,
        update_count: Some(written.rows as i64),
        manifest: Some(manifest),
        ..Default::default()
    })
}

/// Runs CTAS, INSERT INTO or UNLOAD (`sub` is its SubstatementType).
pub async fn run(
    engine: &QueryEngine,
    job: &Job,
    sql: &str,
    database: &str,
    sub: &str,
) -> Result<Outcome, Failure> {
    let started = Instant::now();
    let mut w = Words::new(sql).map_err(syntax)?;
    match sub {
        "CREATE_TABLE_AS_SELECT" => ctas(engine, job, &mut w, database, started).await,
        "INSERT" => insert(engine, job, &mut w, database, started).await,
        _ => unload(engine, job, &mut w, database, started).await,
    }
}

/// The storage settings of a table written in `format`.
fn storage_for(
    format: &FileFormat,
) -> (
    SerDeInfo,
    &'static str,
    &'static str,
    Option<(&'static str, String)>,
) {
    match format {
        FileFormat::Parquet(c) => {
            let name = match c {
                datafusion::parquet::basic::Compression::SNAPPY => "SNAPPY",
                datafusion::parquet::basic::Compression::ZSTD(_) => "ZSTD",
                datafusion::parquet::basic::Compression::LZ4_RAW => "LZ4",
                datafusion::parquet::basic::Compression::UNCOMPRESSED => "UNCOMPRESSED",
                _ => "GZIP",
            };
            (
                weir_catalog::hive::binary_serde(PARQUET.2),
                PARQUET.0,
                PARQUET.1,
                Some(("parquet.compression", name.to_string())),
            )
        }
        FileFormat::Orc(c) => (
            weir_catalog::hive::binary_serde(crate::ddl::ORC.2),
            crate::ddl::ORC.0,
            crate::ddl::ORC.1,
            Some(("orc.compress", c.to_string())),
        ),
        FileFormat::Avro(c) => (
            weir_catalog::hive::binary_serde(crate::ddl::AVRO.2),
            crate::ddl::AVRO.0,
            crate::ddl::AVRO.1,
            Some(("write.compression", c.to_string())),
        ),
        FileFormat::Json(_) => (
            SerDeInfo {
                serialization_library: Some(weir_catalog::hive::HIVE_JSON_SERDE.into()),
                ..Default::default()
            },
            TEXT.0,
            TEXT.1,
            None,
        ),
        FileFormat::Text(d, _) => (
            SerDeInfo {
                serialization_library: Some(TEXT.2.into()),
                parameters: [("field.delim".to_string(), (*d as char).to_string())].into(),
                ..Default::default()
            },
            TEXT.0,
            TEXT.1,
            None,
        ),
    }
}

async fn ctas(
    engine: &QueryEngine,
    job: &Job,
    w: &mut Words,
    database: &str,
    started: Instant,
) -> Result<Outcome, Failure> {
    w.expect("create").map_err(syntax)?;
    w.expect("table").map_err(syntax)?;
    let if_not = w.keywords(&["if", "not", "exists"]);
    let (db, name) = w.qualified().map_err(syntax)?;
    let db = db.unwrap_or_else(|| database.to_string());
    let props = if w.keyword("with") {
        with_properties(w).map_err(syntax)?
    } else {
        BTreeMap::new()
    };
    w.expect("as").map_err(syntax)?;
    let (query, no_data) = split_data_clause(w.rest());
    let c = &engine.catalog;
    c.get_database(&job.region, &db).map_err(|_| {
        Failure::user(
            1301,
            format!("SCHEMA_NOT_FOUND: line 1:14: Schema '{db}' does not exist"),
        )
    })?;
    if c.get_table(&job.region, &db, &name).is_ok() {
        if if_not {
            return answer(engine, job, &Written::default(), 0, started).await;
        }
        return Err(Failure::user(
            1302,
            format!("line 1:1: Table '{CATALOG_NAME}.{db}.{name}' already exists"),
        ));
    }
    if let Some(t) = text(&props, "table_type") {
        if !t.eq_ignore_ascii_case("hive") {
            return Err(Failure::user(
                1300,
                format!("NOT_SUPPORTED: Weir creates HIVE tables, not {t}"),
            ));
        }
    }
    let compression = text(&props, "write_compression")
        .or(text(&props, "parquet_compression"))
        .or(text(&props, "orc_compression"))
        .or(text(&props, "compression"));
    let format = FileFormat::from_properties(
        text(&props, "format"),
        compression,
        text(&props, "field_delimiter"),
    )?;
    let partitioned_by = list(&props, "partitioned_by");
    let bucketed_by = list(&props, "bucketed_by");
    let bucket_count: Option<usize> = text(&props, "bucket_count").and_then(|n| n.parse().ok());
    let location = match text(&props, "external_location") {
        Some(l) => {
            let mut l = l.to_string();
            if !l.ends_with('/') {
                l.push('/');
            }
            l
        }
        None => format!("{}tables/{}/", job.output_dir, job.id),
    };
    let (bucket, prefix) = split_location(&location).map_err(io_failure)?;
    ensure_empty(engine, &bucket, &prefix, &format!("table '{db}.{name}'")).await?;

    let ctx = engine.session(&job.region, database);
    let df = crate::trino::plan(&ctx, &query)
        .await
        .map_err(|e| user_failure(&e))?;
    let schema = df.schema().as_arrow().clone();
    let mut columns = Vec::new();
    for (i, f) in schema.fields().iter().enumerate() {
        if column_name(i, f.name()) != *f.name() {
            return Err(Failure::user(
                1100,
                format!(
                    "SYNTAX_ERROR: Column name not specified at position {}",
                    i + 1
                ),
            ));
        }
        columns.push(Column {
            name: f.name().to_lowercase(),
            data_type: Some(hive_name(f.data_type())),
            ..Default::default()
        });
    }
    let n = columns.len();
    let tail: Vec<String> = columns[n.saturating_sub(partitioned_by.len())..]
        .iter()
        .map(|c| c.name.clone())
        .collect();
    if tail != partitioned_by {
        return Err(Failure::user(
            1100,
            format!(
                "SYNTAX_ERROR: Partition keys must be the last columns in the table and in the same order as the table properties: {partitioned_by:?}"
            ),
        ));
    }
    if partitioned_by.len() >= n && n > 0 {
        return Err(Failure::user(
            1100,
            "SYNTAX_ERROR: Table contains only partition columns",
        ));
    }
    let buckets = match (bucketed_by.is_empty(), bucket_count) {
        (true, None) => None,
        (false, Some(count)) if count > 0 => Some((bucketed_by.clone(), count)),
        _ => {
            return Err(Failure::user(
                1100,
                "SYNTAX_ERROR: bucketed_by and bucket_count must be given together",
            ))
        }
    };
    let partition_keys = columns.split_off(n - partitioned_by.len());
    let (written, scanned) = if no_data {
        (Written::default(), 0)
    } else {
        let target = Target {
            bucket: bucket.clone(),
            prefix: prefix.clone(),
            name_prefix: job.id.clone(),
            format: format.clone(),
            partitioned_by: partitioned_by.clone(),
            buckets: buckets.clone(),
        };
        run_into(engine, df, target).await?
    };
    let (serde, input, output, compression_param) = storage_for(&format);
    let mut parameters: BTreeMap<String, String> = [
        ("EXTERNAL".to_string(), "TRUE".to_string()),
        ("has_encrypted_data".to_string(), "false".to_string()),
        ("transient_lastDdlTime".to_string(), now_secs()),
    ]
    .into();
    if let Some((k, v)) = compression_param {
        parameters.insert(k.into(), v);
    }
    let table = Table {
        name: name.clone(),
        owner: Some("hadoop".into()),
        storage_descriptor: Some(StorageDescriptor {
            columns,
            location: Some(location.clone()),
            input_format: Some(input.into()),
            output_format: Some(output.into()),
            serde_info: Some(serde),
            number_of_buckets: buckets.as_ref().map_or(-1, |(_, n)| *n as i64),
            bucket_columns: bucketed_by,
            ..Default::default()
        }),
        partition_keys,
        table_type: Some("EXTERNAL_TABLE".into()),
        parameters,
        ..Default::default()
    };
    match c.create_table(&job.region, &db, table) {
        Err(CatalogError::AlreadyExists(_)) => {
            return Err(Failure::user(
                1302,
                format!("line 1:1: Table '{CATALOG_NAME}.{db}.{name}' already exists"),
            ))
        }
        r => r.map_err(catalog_err)?,
    }
    register_partitions(engine, &job.region, &db, &name, &written).await?;
    answer(engine, job, &written, scanned, started).await
}

/// Adds the partitions a statement wrote that the catalog does not have yet.
async fn register_partitions(
    engine: &QueryEngine,
    region: &str,
    db: &str,
    name: &str,
    written: &Written,
) -> Result<(), Failure> {
    if written.partitions.is_empty() {
        return Ok(());
    }
    let t = engine
        .catalog
        .get_table(region, db, name)
        .map_err(catalog_err)?;
    for chunk in written.partitions.chunks(100) {
        let parts = chunk
            .iter()
            .map(|values| {
                let escaped = values
                    .iter()
                    .map(|v| crate::write::escape_path_value(v))
                    .collect::<Vec<_>>();
                let mut p = partition_for(&t, values.clone(), None);
                // The folder names carry escaped values.
                if let Some(sd) = p.storage_descriptor.as_mut() {
                    let base = t
                        .location()
                        .unwrap_or_default()
                        .trim_end_matches('/')
                        .to_string();
                    let dirs: Vec<String> = t
                        .partition_keys
                        .iter()
                        .zip(&escaped)
                        .map(|(k, v)| format!("{}={v}", k.name))
                        .collect();
                    sd.location = Some(format!("{base}/{}/", dirs.join("/")));
                }
                p
            })
            .collect();
        let errors = engine
            .catalog
            .create_partitions(region, db, name, parts)
            .map_err(catalog_err)?;
        if let Some(e) = errors
            .into_iter()
            .find(|e| !matches!(e.error, CatalogError::AlreadyExists(_)))
        {
            return Err(catalog_err(e.error));
        }
    }
    Ok(())
}

async fn insert(
    engine: &QueryEngine,
    job: &Job,
    w: &mut Words,
    database: &str,
    started: Instant,
) -> Result<Outcome, Failure> {
    w.expect("insert").map_err(syntax)?;
    w.expect("into").map_err(syntax)?;
    let (db, name) = w.qualified().map_err(syntax)?;
    let db = db.unwrap_or_else(|| database.to_string());
    // An optional column list: `(a, b)` before the query.
    let mut listed: Option<Vec<String>> = None;
    if w.next_token() == Some(&Token::LParen) {
        let inner = w.paren_text().map_err(syntax)?;
        let is_query = {
            let mut first = Words::new(&inner).map_err(syntax)?;
            ["select", "with", "values"]
                .iter()
                .any(|k| first.keyword(k))
                || first.next_token() == Some(&Token::LParen)
        };
        if is_query {
            // `INSERT INTO t (SELECT ...)`: the parentheses were the query's.
            return insert_rows(engine, job, &db, &name, None, &inner, started).await;
        }
        listed = Some(
            inner
                .split(',')
                .map(|c| c.trim().trim_matches('"').to_lowercase())
                .collect(),
        );
    }
    let query = w.rest().trim_end().trim_end_matches(';').to_string();
    insert_rows(engine, job, &db, &name, listed, &query, started).await
}

async fn insert_rows(
    engine: &QueryEngine,
    job: &Job,
    db: &str,
    name: &str,
    listed: Option<Vec<String>>,
    query: &str,
    started: Instant,
) -> Result<Outcome, Failure> {
    let t = engine
        .catalog
        .get_table(&job.region, db, name)
        .map_err(|_| {
            Failure::user(
                1301,
                format!(
                    "TABLE_NOT_FOUND: line 1:13: Table '{CATALOG_NAME}.{db}.{name}' does not exist"
                ),
            )
        })?;
    let format = match format_of(&t).map_err(|e| user_failure(&e))? {
        Format::Parquet => {
            let c = t
                .parameters
                .get("parquet.compression")
                .or(t.parameters.get("write.compression"))
                .map(String::as_str);
            FileFormat::from_properties(Some("PARQUET"), c, None)?
        }
        Format::Json | Format::OpenxJson(_) => FileFormat::Json(true),
        Format::Orc { .. } => {
            let c = t.parameters.get("orc.compress").map(String::as_str);
            FileFormat::from_properties(Some("ORC"), c, None)?
        }
        Format::Avro => {
            let c = t.parameters.get("write.compression").map(String::as_str);
            FileFormat::from_properties(Some("AVRO"), c, None)?
        }
        Format::Csv {
            delimiter,
            quote: None,
            ..
        } => FileFormat::Text(delimiter, true),
        Format::Csv { .. } => {
            return Err(Failure::user(
                1300,
                "NOT_SUPPORTED: Weir cannot INSERT INTO tables with OpenCSVSerde yet",
            ))
        }
    };
    if t.storage_descriptor
        .as_ref()
        .is_some_and(|sd| sd.number_of_buckets > 0)
    {
        return Err(Failure::user(
            1300,
            "NOT_SUPPORTED: Inserting into bucketed tables is not supported",
        ));
    }
    let targets: Vec<&Column> = t.columns().iter().chain(&t.partition_keys).collect();
    let ctx = engine.session(&job.region, db);
    let df = crate::trino::plan(&ctx, query)
        .await
        .map_err(|e| user_failure(&e))?;
    let source: Vec<DfColumn> = df.schema().columns();
    // Which table column each query column fills.
    let order: Vec<usize> = match &listed {
        None => (0..targets.len()).collect(),
        Some(names) => names
            .iter()
            .map(|n| {
                targets.iter().position(|c| c.name == *n).ok_or_else(|| {
                    Failure::user(
                        1100,
                        format!(
                            "SYNTAX_ERROR: Insert column name does not exist in target table: {n}"
                        ),
                    )
                })
            })
            .collect::<Result<_, _>>()?,
    };
    let types = |cols: &mut dyn Iterator<Item = String>| cols.collect::<Vec<_>>().join(", ");
    if source.len() != order.len() {
        return Err(Failure::user(
            1100,
            format!(
                "SYNTAX_ERROR: Insert query has mismatched column types: Table: [{}], Query: [{}]",
                types(
                    &mut order
                        .iter()
                        .map(|&i| targets[i].data_type.clone().unwrap_or_default())
                ),
                types(
                    &mut df
                        .schema()
                        .fields()
                        .iter()
                        .map(|f| crate::types::athena_type(f.data_type()).0.to_string())
                ),
            ),
        ));
    }
    let mut exprs: Vec<Expr> = Vec::with_capacity(targets.len());
    for (ti, target) in targets.iter().enumerate() {
        let dt = hive_to_arrow(target.data_type.as_deref().unwrap_or("string"))
            .map_err(|e| Failure::user(1300, e))?;
        let e = match order.iter().position(|&o| o == ti) {
            Some(si) => cast(Expr::Column(source[si].clone()), dt),
            None => cast(
                Expr::Literal(datafusion::common::ScalarValue::Null, None),
                dt,
            ),
        };
        exprs.push(e.alias(target.name.clone()));
    }
    let df = df.select(exprs).map_err(|e| user_failure(&e))?;
    let location = t.location().unwrap_or_default().to_string();
    let (bucket, prefix) = split_location(&location).map_err(io_failure)?;
    let target = Target {
        bucket,
        prefix,
        name_prefix: job.id.clone(),
        format,
        partitioned_by: t.partition_keys.iter().map(|k| k.name.clone()).collect(),
        buckets: None,
    };
    let (written, scanned) = run_into(engine, df, target).await?;
    register_partitions(engine, &job.region, db, name, &written).await?;
    answer(engine, job, &written, scanned, started).await
}

async fn unload(
    engine: &QueryEngine,
    job: &Job,
    w: &mut Words,
    database: &str,
    started: Instant,
) -> Result<Outcome, Failure> {
    w.expect("unload").map_err(syntax)?;
    let query = w.paren_text().map_err(syntax)?;
    w.expect("to").map_err(syntax)?;
    let location = w.string().map_err(syntax)?;
    w.expect("with").map_err(syntax)?;
    let props = with_properties(w).map_err(syntax)?;
    w.end().map_err(syntax)?;
    let Some(format) = text(&props, "format") else {
        return Err(Failure::user(
            1100,
            "SYNTAX_ERROR: UNLOAD requires the format property",
        ));
    };
    let format = FileFormat::from_properties(
        Some(format),
        text(&props, "compression"),
        text(&props, "field_delimiter"),
    )?;
    let partitioned_by = list(&props, "partitioned_by");
    let mut location = location;
    if !location.ends_with('/') {
        location.push('/');
    }
    let (bucket, prefix) = split_location(&location).map_err(io_failure)?;
    ensure_empty(engine, &bucket, &prefix, "UNLOAD").await?;
    let ctx = engine.session(&job.region, database);
    let df = crate::trino::plan(&ctx, &query)
        .await
        .map_err(|e| user_failure(&e))?;
    let target = Target {
        bucket,
        prefix,
        name_prefix: job.id.clone(),
        format,
        partitioned_by,
        buckets: None,
    };
    let (written, scanned) = run_into(engine, df, target).await?;
    answer(engine, job, &written, scanned, started).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn properties_and_data_clause() {
        let mut w = Words::new(
            "(format = 'PARQUET', partitioned_by = ARRAY['dt', 'Hour'], bucket_count = 4, is_external = true)",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let p = with_properties(&mut w).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(text(&p, "format"), Some("PARQUET"));
        assert_eq!(list(&p, "partitioned_by"), vec!["dt", "hour"]);
        assert_eq!(text(&p, "bucket_count"), Some("4"));
        assert_eq!(text(&p, "is_external"), Some("true"));
        assert_eq!(
            split_data_clause("select 1 WITH NO DATA;"),
            ("select 1".to_string(), true)
        );
        assert_eq!(
            split_data_clause("select 1 with data"),
            ("select 1".to_string(), false)
        );
        assert_eq!(
            split_data_clause("with x as (select 1) select * from x"),
            ("with x as (select 1) select * from x".to_string(), false)
        );
    }
}
