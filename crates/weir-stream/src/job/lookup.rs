//! Lookup tables: a filesystem table's files read whole from Weir's S3 (a file, or every file
//! under a prefix but `_`/`.` ones) and decoded by its format (JSON lines, CSV, Parquet) into
//! its columns; read again after `lookup.join.cache.ttl` (Flink's option, 60 min by default).

use std::io::Cursor;
use std::time::Duration;

use bytes::Bytes;
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::compute::cast;
use weir_objects::Objects;

use crate::engine::parse_duration;
use crate::error::{Result, StreamError};
use crate::table::{Connector, Format, TableDef};

/// How long a lookup table's rows are used before they are read again.
pub(super) fn ttl(table: &TableDef) -> Duration {
    table
        .flink
        .options
        .get("lookup.join.cache.ttl")
        .and_then(|v| parse_duration(v))
        .unwrap_or(Duration::from_secs(3600))
}

/// Reads a lookup table's rows.
pub(super) async fn load(table: &TableDef, objects: Option<&Objects>) -> Result<Vec<RecordBatch>> {
    let Connector::Filesystem { bucket, prefix, .. } = &table.connector else {
        return Err(StreamError::Validation(format!(
            "Table '{}' is not a filesystem table",
            table.name()
        )));
    };
    let objects = objects
        .ok_or_else(|| StreamError::Unsupported("The object store is not running".into()))?;
    let fail = |e: weir_objects::ObjectError| {
        StreamError::Validation(format!(
            "Reading lookup table '{}' from s3://{bucket}/{prefix}: {e}",
            table.name()
        ))
    };
    // `prefix` is the path with a `/` added: the path may name one object.
    let path = prefix.trim_end_matches('/');
    let mut keys: Vec<String> = objects
        .list_keys(bucket, prefix)
        .await
        .map_err(fail)?
        .into_iter()
        .filter(|k| {
            let base = k.rsplit('/').next().unwrap_or(k);
            !base.starts_with('_') && !base.starts_with('.') && !k.ends_with('/')
        })
        .collect();
    if keys.is_empty() {
        keys = objects
            .list_keys(bucket, path)
            .await
            .map_err(fail)?
            .into_iter()
            .filter(|k| k == path)
            .collect();
    }
    let mut out = Vec::new();
    for key in keys {
        let data = objects.get(bucket, &key).await.map_err(fail)?;
        out.extend(decode(table, data)?);
    }
    Ok(out)
}

fn decode(table: &TableDef, data: Bytes) -> Result<Vec<RecordBatch>> {
    let schema = table.decoded.clone();
    let batches = match &table.format {
        Some(Format::Parquet) => {
            let reader =
                parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(data)
                    .and_then(|b| b.build())
                    .map_err(|e| StreamError::Validation(format!("Parquet: {e}")))?;
            let mut out = Vec::new();
            for b in reader {
                let b = b?;
                // The table's columns by name, cast to its types (missing ones NULL).
                let cols = schema
                    .fields()
                    .iter()
                    .map(|f| match b.column_by_name(f.name()) {
                        Some(c) => cast(c, f.data_type()),
                        None => Ok(datafusion::arrow::array::new_null_array(
                            f.data_type(),
                            b.num_rows(),
                        )),
                    })
                    .collect::<std::result::Result<Vec<_>, _>>()?;
                out.push(RecordBatch::try_new(schema.clone(), cols)?);
            }
            out
        }
        Some(Format::Csv { delimiter, .. }) => {
            // KDA reference data with other row or column delimiters: rewritten first.
            let data = match super::reshape::of(table)
                .and_then(|spec| super::reshape::csv_lines(&spec, &data))
            {
                Some(lines) => Bytes::from(lines),
                None => data,
            };
            arrow_csv::ReaderBuilder::new(schema)
                .with_delimiter(*delimiter)
                .with_header(false)
                .build(Cursor::new(data))?
                .collect::<std::result::Result<Vec<_>, _>>()?
        }
        _ => {
            // KDA reference data mapped by JSONPath: each line reshaped first.
            let data = match super::reshape::of(table) {
                Some(spec) => Bytes::from(super::reshape::lines(&spec, &data)),
                None => data,
            };
            arrow_json::ReaderBuilder::new(schema)
                .build(Cursor::new(data))?
                .collect::<std::result::Result<Vec<_>, _>>()?
        }
    };
    Ok(batches)
}
