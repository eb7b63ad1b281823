//! A Flink table's connector and format, read from its `WITH` options as the Flink connectors
//! name them (flink-connector-aws's `kinesis` and `firehose`, Flink's `blackhole` and `print`).

use std::collections::BTreeMap;
use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};

use crate::error::{Result, StreamError};
use crate::sql::{Column, FlinkTable};
use crate::types::parse_type;

/// Where a Kinesis source starts when a job has no checkpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartPosition {
    Latest,
    TrimHorizon,
    /// Epoch milliseconds.
    AtTimestamp(i64),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Connector {
    Kinesis {
        stream: String,
        region: String,
        start: StartPosition,
        /// `'weir.shards' = 'k/n'`: only the shards whose number is `k` modulo `n` (a KDA
        /// input's in-application streams when its InputParallelism is `n`).
        part: Option<(u32, u32)>,
    },
    Firehose {
        delivery_stream: String,
        region: String,
    },
    /// Files in an S3 bucket of Weir's (`'path' = 's3://bucket/prefix'`), committed with each
    /// checkpoint (Flink's `filesystem` sink with a bulk format: exactly once).
    Filesystem {
        bucket: String,
        prefix: String,
        /// `sink.rolling-policy.file-size` in bytes.
        file_size: u64,
        /// `'glue.database'` (and `'glue.table'`): the Glue table the files are registered in.
        glue: Option<crate::glue::GlueTarget>,
    },
    /// Hands rows to a function registered in Weir's config (`'function'` = a name or Lambda
    /// ARN) by Kinesis Data Analytics' Lambda output contract, until it acknowledges them.
    Lambda { function: String },
    /// Swallows every row (Flink's `blackhole`, for benchmarks).
    Blackhole,
    /// Writes every row to the log (Flink's `print`).
    Print,
    /// Hands rows to the client of an interactive query.
    Collect,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Format {
    Json {
        ignore_parse_errors: bool,
    },
    /// Written by the filesystem sink only.
    Parquet,
    Csv {
        delimiter: u8,
        ignore_parse_errors: bool,
    },
}

/// A metadata column's source (the Kinesis connector's keys).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Meta {
    /// `timestamp`: the record's approximate arrival time.
    Timestamp,
    ShardId,
    SequenceNumber,
}

/// A table as the engine uses it.
#[derive(Debug, Clone)]
pub struct TableDef {
    pub flink: FlinkTable,
    /// The `CREATE TABLE` statement (kept with jobs, which are planned again after a restart).
    pub ddl: String,
    pub connector: Connector,
    pub format: Option<Format>,
    /// The columns a record is decoded into (physical, then metadata columns in table order).
    pub decoded: SchemaRef,
    /// Where each metadata column comes from, in `decoded`'s order after the physical ones.
    pub metadata: Vec<(String, Meta)>,
}

impl TableDef {
    pub fn name(&self) -> &str {
        &self.flink.name
    }

    /// The physical columns written by a sink (metadata and computed columns are not).
    pub fn physical_columns(&self) -> Vec<(String, DataType)> {
        self.decoded
            .fields()
            .iter()
            .filter(|f| !self.metadata.iter().any(|(n, _)| n == f.name()))
            .map(|f| (f.name().clone(), f.data_type().clone()))
            .collect()
    }

    pub fn is_source_capable(&self) -> bool {
        matches!(self.connector, Connector::Kinesis { .. })
    }
}

/// A Kinesis source reads part of the shards (`k/n`).
pub const SHARDS_OPTION: &str = "weir.shards";

const KINESIS_OPTIONS: &[&str] = &[
    SHARDS_OPTION,
    crate::job::SQL_ERRORS_OPTION,
    crate::sink::RETRY_OPTION,
    crate::job::reshape::RESHAPE_OPTION,
    crate::job::preprocess::FUNCTION_OPTION,
    crate::job::preprocess::APPLICATION_OPTION,
    "connector",
    "stream",
    "stream.arn",
    "aws.region",
    "aws.endpoint",
    "aws.trust.all.certificates",
    "aws.credentials.provider",
    "aws.credentials.basic.accesskeyid",
    "aws.credentials.basic.secretkey",
    "scan.stream.initpos",
    "scan.stream.initpos-timestamp",
    "scan.stream.initpos-timestamp-format",
    "source.init.position",
    "source.init.timestamp",
    "source.init.timestamp.format",
    crate::decode::ERRORS_OPTION,
    "sink.partitioner",
    "sink.partitioner-field-delimiter",
    "sink.batch.max-size",
    "sink.requests.max-inflight",
    "sink.requests.max-buffered",
    "sink.flush-buffer.size",
    "sink.flush-buffer.timeout",
    "sink.fail-on-error",
    "format",
];

/// Reads a table's connector, format and decoded columns from its definition.
pub fn table_def(flink: FlinkTable, ddl: &str, default_region: &str) -> Result<TableDef> {
    let o = &flink.options;
    let get = |k: &str| o.get(k).map(String::as_str);
    let connector_name = get("connector").ok_or_else(|| {
        StreamError::Validation(format!(
            "Table options do not contain an option key 'connector' for discovering a \
             connector. Table: {}",
            flink.name
        ))
    })?;
    let region = get("aws.region").unwrap_or(default_region).to_string();
    let connector = match connector_name {
        "kinesis" | "kinesis-legacy" => {
            check_options(
                connector_name,
                o,
                KINESIS_OPTIONS,
                &["format.", "json.", "csv."],
            )?;
            let stream = match (get("stream"), get("stream.arn")) {
                (Some(s), _) => s.to_string(),
                (None, Some(arn)) => arn
                    .rsplit_once(":stream/")
                    .map(|(_, n)| n.to_string())
                    .ok_or_else(|| StreamError::Validation(format!("Invalid stream ARN: {arn}")))?,
                (None, None) => {
                    return Err(StreamError::Validation(
                        "Missing required options are:\n\nstream.arn".into(),
                    ))
                }
            };
            let region = match get("stream.arn").and_then(|a| a.split(':').nth(3)) {
                Some(r) if !r.is_empty() && get("aws.region").is_none() => r.to_string(),
                _ => region,
            };
            let pos = get("source.init.position").or(get("scan.stream.initpos"));
            let start = match pos.map(str::to_ascii_uppercase).as_deref() {
                None | Some("LATEST") => StartPosition::Latest,
                Some("TRIM_HORIZON") => StartPosition::TrimHorizon,
                Some("AT_TIMESTAMP") => {
                    let ts = get("source.init.timestamp")
                        .or(get("scan.stream.initpos-timestamp"))
                        .ok_or_else(|| {
                            StreamError::Validation(
                                "source.init.timestamp is required for AT_TIMESTAMP".into(),
                            )
                        })?;
                    StartPosition::AtTimestamp(parse_start_timestamp(ts)?)
                }
                Some(other) => {
                    return Err(StreamError::Validation(format!(
                        "Invalid value for option 'source.init.position': {other} (one of \
                         LATEST, TRIM_HORIZON, AT_TIMESTAMP)"
                    )))
                }
            };
            let part = match get(SHARDS_OPTION) {
                None => None,
                Some(text) => {
                    let parsed = text.split_once('/').and_then(|(k, n)| {
                        Some((k.trim().parse::<u32>().ok()?, n.trim().parse::<u32>().ok()?))
                    });
                    match parsed {
                        Some((k, n)) if k < n => Some((k, n)),
                        _ => {
                            return Err(StreamError::Validation(format!(
                                "Invalid value for option '{SHARDS_OPTION}': {text} (k/n, k < n)"
                            )))
                        }
                    }
                }
            };
            Connector::Kinesis {
                stream,
                region,
                start,
                part,
            }
        }
        "firehose" => {
            let delivery_stream = get("delivery-stream").ok_or_else(|| {
                StreamError::Validation("Missing required options are:\n\ndelivery-stream".into())
            })?;
            Connector::Firehose {
                delivery_stream: delivery_stream.to_string(),
                region,
            }
        }
        "filesystem" => {
            let path = get("path").ok_or_else(|| {
                StreamError::Validation("Missing required options are:\n\npath".into())
            })?;
            let rest = ["s3://", "s3a://", "s3n://"]
                .iter()
                .find_map(|p| path.strip_prefix(p))
                .ok_or_else(|| {
                    StreamError::Validation(format!(
                        "Weir's filesystem connector writes to S3 paths (s3://bucket/prefix): {path}"
                    ))
                })?;
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            let prefix = prefix.trim_end_matches('/');
            let glue = match (get("glue.database"), get("glue.table")) {
                (None, Some(_)) => {
                    return Err(StreamError::Validation(
                        "Option 'glue.table' needs 'glue.database'".into(),
                    ))
                }
                (None, None) => None,
                (Some(db), table) => Some(crate::glue::GlueTarget {
                    database: db.to_lowercase(),
                    table: table.unwrap_or(&flink.name).to_lowercase(),
                }),
            };
            let file_size = match get("sink.rolling-policy.file-size") {
                Some(v) => parse_size(v)?,
                None => 128 << 20,
            };
            Connector::Filesystem {
                bucket: bucket.to_string(),
                prefix: if prefix.is_empty() {
                    String::new()
                } else {
                    format!("{prefix}/")
                },
                file_size,
                glue,
            }
        }
        "lambda" => Connector::Lambda {
            function: get("function")
                .ok_or_else(|| {
                    StreamError::Validation("Missing required options are:\n\nfunction".into())
                })?
                .to_string(),
        },
        "blackhole" => Connector::Blackhole,
        "print" => Connector::Print,
        other => {
            return Err(StreamError::Validation(format!(
                "Could not find any factory for identifier '{other}' that implements \
                 'org.apache.flink.table.factories.DynamicTableFactory' in the classpath.\n\n\
                 Available factory identifiers are:\n\nblackhole\nfilesystem\nfirehose\nkinesis\nlambda\nprint"
            )))
        }
    };
    let format = match &connector {
        Connector::Kinesis { .. }
        | Connector::Firehose { .. }
        | Connector::Filesystem { .. }
        | Connector::Lambda { .. } => {
            let ignore = |p: &str| get(&format!("{p}.ignore-parse-errors")) == Some("true");
            Some(match get("format") {
                Some("parquet") if matches!(connector, Connector::Filesystem { .. }) => {
                    Format::Parquet
                }
                Some("json") => Format::Json {
                    ignore_parse_errors: ignore("json"),
                },
                Some("csv") => Format::Csv {
                    delimiter: get("csv.field-delimiter")
                        .and_then(|d| d.bytes().next())
                        .unwrap_or(b','),
                    ignore_parse_errors: ignore("csv"),
                },
                Some(other) => {
                    return Err(StreamError::Validation(format!(
                        "Could not find any format factory for identifier '{other}' in the \
                         classpath (Weir reads 'json' and 'csv')."
                    )))
                }
                None => {
                    return Err(StreamError::Validation(
                        "Could not find required scan format 'format'.".into(),
                    ))
                }
            })
        }
        _ => None,
    };
    let mut fields = Vec::new();
    let mut metas = Vec::new();
    for c in &flink.columns {
        if let Column::Physical {
            name,
            data_type,
            not_null,
            metadata,
        } = c
        {
            let t = parse_type(data_type)?;
            match metadata {
                None => fields.push(Field::new(name, t, !not_null)),
                Some(key) => {
                    let meta = match key.as_str() {
                        "timestamp" => Meta::Timestamp,
                        "shard-id" => Meta::ShardId,
                        "sequence-number" => Meta::SequenceNumber,
                        other => {
                            return Err(StreamError::Validation(format!(
                                "Invalid metadata key '{other}' in column '{name}' of table \
                                 '{}'. The DynamicTableSource class supports the following \
                                 metadata keys for reading:\nsequence-number\nshard-id\ntimestamp",
                                flink.name
                            )))
                        }
                    };
                    metas.push((name.clone(), meta, t));
                }
            }
        }
    }
    let mut metadata = Vec::new();
    for (name, meta, declared) in metas {
        // The decoder casts the value to the declared type.
        fields.push(Field::new(&name, declared, true));
        metadata.push((name, meta));
    }
    Ok(TableDef {
        ddl: ddl.to_string(),
        connector,
        format,
        decoded: Arc::new(Schema::new(fields)),
        metadata,
        flink,
    })
}

/// The table an interactive query's rows go to.
pub fn collect_table(schema: &SchemaRef) -> TableDef {
    TableDef {
        flink: FlinkTable {
            name: "collect".into(),
            ..FlinkTable::default()
        },
        ddl: String::new(),
        connector: Connector::Collect,
        format: None,
        decoded: schema.clone(),
        metadata: Vec::new(),
    }
}

/// Flink's memory sizes: `128MB`, `1 gb`, `512kb`, `1000` (bytes).
fn parse_size(text: &str) -> Result<u64> {
    let t = text.trim().to_ascii_lowercase();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: u64 = num
        .parse()
        .map_err(|_| StreamError::Validation(format!("Invalid size: {text}")))?;
    let mult = match unit.trim() {
        "" | "b" | "bytes" => 1,
        "k" | "kb" | "kibibytes" => 1 << 10,
        "m" | "mb" | "mebibytes" => 1 << 20,
        "g" | "gb" | "gibibytes" => 1 << 30,
        _ => return Err(StreamError::Validation(format!("Invalid size: {text}"))),
    };
    Ok(n * mult)
}

fn parse_start_timestamp(text: &str) -> Result<i64> {
    if let Ok(secs) = text.parse::<f64>() {
        return Ok((secs * 1000.0) as i64);
    }
    for f in ["%Y-%m-%dT%H:%M:%S%.f%:z", "%Y-%m-%dT%H:%M:%S%.fZ"] {
        if let Ok(t) = chrono::DateTime::parse_from_str(text, f) {
            return Ok(t.timestamp_millis());
        }
    }
    Err(StreamError::Validation(format!(
        "Invalid source.init.timestamp '{text}': expected epoch seconds or \
         yyyy-MM-dd'T'HH:mm:ss.SSSXXX"
    )))
}

/// Flink refuses a table with options its factory does not know.
fn check_options(
    connector: &str,
    options: &BTreeMap<String, String>,
    known: &[&str],
    prefixes: &[&str],
) -> Result<()> {
    let unknown: Vec<&str> = options
        .keys()
        .map(String::as_str)
        .filter(|k| !known.contains(k) && !prefixes.iter().any(|p| k.starts_with(p)))
        .collect();
    if unknown.is_empty() {
        return Ok(());
    }
    let mut supported: Vec<&str> = known.to_vec();
    supported.sort_unstable();
    Err(StreamError::Validation(format!(
        "Unsupported options found for '{connector}'.\n\nUnsupported options:\n\n{}\n\n\
         Supported options:\n\n{}",
        unknown.join("\n"),
        supported.join("\n")
    )))
}
