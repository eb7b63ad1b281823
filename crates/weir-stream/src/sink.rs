//! Sinks: rows cast to the sink table's columns by position, encoded by its format (Flink's
//! JSON: timestamps as `yyyy-MM-dd HH:mm:ss[.fff]`, `TIMESTAMP_LTZ` with a trailing `Z`) and
//! written to a Weir stream (partition key from the `PARTITIONED BY` columns joined by
//! `sink.partitioner-field-delimiter`, else random, as Flink's partitioners), a Firehose
//! delivery stream, the log (`print`) or nowhere (`blackhole`). A write returns once the
//! records are durable, so a checkpoint taken after it covers them.

use std::sync::Arc;

use bytes::Bytes;
use datafusion::arrow::array::{Array, ArrayRef, RecordBatch, StringArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use rand::Rng;
use std::collections::BTreeMap;
use weir_delivery::Delivery;
use weir_log::{Log, PutEntry, StreamKey};
use weir_objects::Objects;

use crate::error::{Result, StreamError};
use crate::table::{Connector, Format, TableDef};

/// Rows an interactive query's client has not fetched yet. The job waits while more than
/// `MAX_COLLECTED` rows wait (back pressure, as Flink's collect sink).
#[derive(Debug)]
pub struct Collector {
    pub schema: SchemaRef,
    rows: parking_lot::Mutex<Vec<RecordBatch>>,
    /// Set when the client is gone: rows are dropped instead of waiting for it.
    closed: std::sync::atomic::AtomicBool,
}

const MAX_COLLECTED: usize = 100_000;

impl Collector {
    pub fn new(schema: SchemaRef) -> Collector {
        Collector {
            schema,
            rows: parking_lot::Mutex::new(Vec::new()),
            closed: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// The client is gone: stop keeping rows (and stop waiting for room).
    pub fn close(&self) {
        self.closed
            .store(true, std::sync::atomic::Ordering::Relaxed);
        self.rows.lock().clear();
    }

    fn is_closed(&self) -> bool {
        self.closed.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Everything collected since the last call.
    pub fn take(&self) -> Vec<RecordBatch> {
        std::mem::take(&mut *self.rows.lock())
    }

    fn waiting(&self) -> usize {
        self.rows.lock().iter().map(RecordBatch::num_rows).sum()
    }
}

/// Kinesis accepts at most 500 records per PutRecords.
/// Records per invocation of a `lambda` sink's function.
const LAMBDA_BATCH: usize = 500;
const PUT_BATCH: usize = 500;

/// Where sinks write: Weir's streams, Firehose and objects.
#[derive(Clone)]
pub struct Outputs {
    pub log: Log,
    pub delivery: Option<Delivery>,
    pub objects: Option<Objects>,
    /// The Glue Data Catalog (filesystem sinks may register their files there).
    pub catalog: Option<weir_catalog::Catalog>,
    /// The region Glue registrations go to.
    pub region: String,
}

pub struct Sink {
    table: TableDef,
    schema: SchemaRef,
    log: Log,
    delivery: Option<Delivery>,
    objects: Option<Objects>,
    catalog: Option<weir_catalog::Catalog>,
    region: String,
    /// Rows for the filesystem sink since the last checkpoint (committed with the next).
    staged: Vec<RecordBatch>,
    /// Names the files the job writes.
    job: String,
    collector: Option<Arc<Collector>>,
    /// The job's stop signal (a write waiting for a slow client gives up on it).
    stop: tokio::sync::watch::Receiver<bool>,
    key_columns: Vec<usize>,
    delimiter: String,
    pub records_out: u64,
}

impl Sink {
    pub fn new(
        table: TableDef,
        schema: SchemaRef,
        outputs: Outputs,
        job: &str,
        collector: Option<Arc<Collector>>,
        stop: tokio::sync::watch::Receiver<bool>,
    ) -> Result<Sink> {
        let key_columns = table
            .flink
            .partitioned_by
            .iter()
            .map(|c| {
                schema.index_of(c).map_err(|_| {
                    StreamError::Validation(format!(
                        "Partition column '{c}' is not a physical column of table '{}'",
                        table.name()
                    ))
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let delimiter = table
            .flink
            .options
            .get("sink.partitioner-field-delimiter")
            .cloned()
            .unwrap_or_else(|| "|".into());
        let Outputs {
            log,
            delivery,
            objects,
            catalog,
            region,
        } = outputs;
        Ok(Sink {
            table,
            schema,
            log,
            delivery,
            objects,
            catalog,
            region,
            staged: Vec::new(),
            job: job.to_string(),
            collector,
            stop,
            key_columns,
            delimiter,
            records_out: 0,
        })
    }

    /// Casts a query's output to the sink's columns (by position, as Flink's implicit casts).
    pub fn conform(&self, batch: &RecordBatch) -> Result<RecordBatch> {
        let cols = batch
            .columns()
            .iter()
            .zip(self.schema.fields())
            .map(|(c, f)| Ok(cast(c, f.data_type())?))
            .collect::<Result<Vec<ArrayRef>>>()?;
        Ok(RecordBatch::try_new(self.schema.clone(), cols)?)
    }

    /// Writes rows; returns when they are stored.
    pub async fn write(&mut self, batches: &[RecordBatch]) -> Result<()> {
        for batch in batches {
            if batch.num_rows() == 0 {
                continue;
            }
            // An updating query's rows carry their kinds (`changelog`).
            let (rows, kinds) = crate::changelog::split_kinds(batch);
            let changes = rows.num_columns() < batch.num_columns();
            let batch = self.conform(&rows)?;
            self.records_out += batch.num_rows() as u64;
            match &self.table.connector {
                Connector::Blackhole => {}
                Connector::Filesystem { .. } => self.staged.push(batch),
                Connector::Collect => {
                    if let Some(c) = &self.collector {
                        while c.waiting() > MAX_COLLECTED && !c.is_closed() && !*self.stop.borrow()
                        {
                            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                        }
                        if !c.is_closed() {
                            let batch = match changes {
                                true => crate::changelog::with_kinds(batch, kinds)?,
                                false => batch,
                            };
                            c.rows.lock().push(batch);
                        }
                    }
                }
                Connector::Print => {
                    for (line, kind) in encode_json(&batch)?.into_iter().zip(kinds) {
                        let kind = crate::changelog::kind_short(kind);
                        tracing::info!(table = %self.table.name(), "{kind}{}", String::from_utf8_lossy(&line));
                    }
                }
                Connector::Kinesis { stream, region, .. } => {
                    let data = self.encode(&batch)?;
                    let keys = self.partition_keys(&batch)?;
                    let key = StreamKey::new(region.clone(), stream.clone());
                    let mut entries: Vec<PutEntry> = data
                        .into_iter()
                        .zip(keys)
                        .map(|(data, partition_key)| PutEntry {
                            partition_key,
                            explicit_hash_key: None,
                            data,
                        })
                        .collect();
                    while !entries.is_empty() {
                        let mut rest = entries.split_off(entries.len().min(PUT_BATCH));
                        if !self.retries() {
                            self.log.put_all(&key, entries).await?;
                            entries = rest;
                            continue;
                        }
                        // Only the refused entries are sent again (the others are stored).
                        let mut attempt = 0;
                        while !entries.is_empty() {
                            let why = match self.log.put_records(&key, entries.clone()).await {
                                Ok(results) => {
                                    let mut why = String::new();
                                    let mut refused = Vec::new();
                                    for (r, e) in results.into_iter().zip(entries) {
                                        if let Err(err) = r {
                                            why = err.to_string();
                                            refused.push(e);
                                        }
                                    }
                                    entries = refused;
                                    why
                                }
                                Err(e) => e.to_string(),
                            };
                            if !entries.is_empty() {
                                attempt += 1;
                                self.pause(attempt, &why).await?;
                            }
                        }
                        std::mem::swap(&mut entries, &mut rest);
                    }
                }
                Connector::Firehose {
                    delivery_stream,
                    region,
                } => {
                    let delivery = self.delivery.as_ref().ok_or_else(|| {
                        StreamError::Unsupported("Firehose is not running".into())
                    })?;
                    let mut data = self.encode(&batch)?;
                    while !data.is_empty() {
                        let rest = data.split_off(data.len().min(PUT_BATCH));
                        let mut attempt = 0;
                        while !data.is_empty() {
                            let failed = match delivery
                                .put_records(region, delivery_stream, data.clone())
                                .await
                            {
                                Ok((results, _)) => {
                                    let mut failed = Vec::new();
                                    let mut last = None;
                                    for (r, d) in results.into_iter().zip(data) {
                                        if let Err(e) = r {
                                            last = Some(e);
                                            failed.push(d);
                                        }
                                    }
                                    match last {
                                        Some(e) if !self.retries() => return Err(e.into()),
                                        Some(e) => Some((failed, e.to_string())),
                                        None => None,
                                    }
                                }
                                Err(e) if self.retries() => Some((data, e.to_string())),
                                Err(e) => return Err(e.into()),
                            };
                            data = match failed {
                                None => Vec::new(),
                                Some((failed, why)) => {
                                    attempt += 1;
                                    self.pause(attempt, &why).await?;
                                    failed
                                }
                            };
                        }
                        data = rest;
                    }
                }
                Connector::Lambda { function } => {
                    let f = self.function(function)?;
                    let arn = format!(
                        "arn:aws:kinesisanalytics:{}:000000000000:application/{}",
                        self.region, self.job
                    );
                    let stop = self.stop.clone();
                    let give_up = move || *stop.borrow();
                    for chunk in self.encode(&batch)?.chunks(LAMBDA_BATCH) {
                        weir_delivery::lambda_output::deliver(&f, &arn, chunk, &give_up)
                            .await
                            .map_err(StreamError::Interrupted)?;
                    }
                }
            }
        }
        Ok(())
    }

    /// Whether a refused write is tried again in place (KDA's outputs) rather than failing
    /// the job.
    fn retries(&self) -> bool {
        self.table.flink.options.contains_key(RETRY_OPTION)
    }

    /// Waits before trying a refused write again (longer each attempt); a stopping job gives
    /// up (what it had not written is written again after its restart).
    async fn pause(&self, attempt: u32, why: &str) -> Result<()> {
        if *self.stop.borrow() {
            return Err(StreamError::Interrupted(format!(
                "table '{}' not written: {why}",
                self.table.name()
            )));
        }
        if attempt == 1 || attempt.is_power_of_two() {
            tracing::warn!(table = %self.table.name(), attempt, why, "a write refused, trying again");
        }
        let pause = 50u64.saturating_mul(1 << attempt.min(6));
        tokio::time::sleep(std::time::Duration::from_millis(pause)).await;
        Ok(())
    }

    /// The registered function a `lambda` sink names.
    fn function(&self, name: &str) -> Result<weir_delivery::lambda::FunctionConfig> {
        let delivery = self
            .delivery
            .as_ref()
            .ok_or_else(|| StreamError::Unsupported("No functions are registered".into()))?;
        delivery.function(name).map_err(StreamError::Validation)
    }

    /// Checks that the sink can be written (the filesystem sink's bucket exists).
    pub async fn check(&self) -> Result<()> {
        if let Connector::Lambda { function } = &self.table.connector {
            self.function(function)?;
        }
        if let (Connector::Filesystem { glue: Some(_), .. }, None) =
            (&self.table.connector, &self.catalog)
        {
            return Err(StreamError::Validation(format!(
                "No Glue Data Catalog to register the files of table '{}' in",
                self.table.name()
            )));
        }
        if let Connector::Filesystem { bucket, .. } = &self.table.connector {
            let objects = self.objects()?;
            if !objects.bucket_exists(bucket).await {
                return Err(StreamError::Validation(format!(
                    "The bucket of table '{}' does not exist: {bucket}",
                    self.table.name()
                )));
            }
        }
        Ok(())
    }

    fn objects(&self) -> Result<&Objects> {
        self.objects
            .as_ref()
            .ok_or_else(|| StreamError::Unsupported("The object store is not running".into()))
    }

    /// The rows staged since the last checkpoint (the next checkpoint keeps them).
    pub fn take_staged(&mut self) -> Vec<RecordBatch> {
        std::mem::take(&mut self.staged)
    }

    /// Writes the files of checkpoint `n` (names depend only on the job, `n` and the rows, so
    /// writing them again after a restart replaces them with the same content).
    pub async fn commit(&self, n: u64, rows: &[RecordBatch]) -> Result<()> {
        let Connector::Filesystem {
            bucket,
            prefix,
            file_size,
            glue,
        } = &self.table.connector
        else {
            return Ok(());
        };
        if rows.iter().all(|b| b.num_rows() == 0) {
            return Ok(());
        }
        let objects = self.objects()?;
        let mut files = 0usize;
        let mut written = std::collections::BTreeSet::new();
        let mut folders = std::collections::BTreeSet::new();
        for (folder, part) in self.partitions(rows)? {
            folders.insert(folder.clone());
            let mut pending: Vec<RecordBatch> = Vec::new();
            let mut size = 0usize;
            let last = part.len().saturating_sub(1);
            for (i, b) in part.into_iter().enumerate() {
                // The rows' own bytes (not their buffers' capacity, which differs between rows
                // computed and rows read back from a checkpoint): the same rows always make
                // the same files.
                size += b
                    .columns()
                    .iter()
                    .map(|c| c.to_data().get_slice_memory_size().unwrap_or(0))
                    .sum::<usize>();
                pending.push(b);
                if size as u64 >= *file_size || i == last {
                    let data = self.encode_file(&pending)?;
                    let key = format!("{prefix}{folder}part-{}-{n}-{files}", self.job);
                    objects
                        .put(
                            bucket,
                            &key,
                            weir_objects::PutObject {
                                data: Bytes::from(data),
                                content_type: None,
                                metadata: Default::default(),
                                headers: Default::default(),
                            },
                        )
                        .await
                        .map_err(|e| {
                            StreamError::Unsupported(format!("writing s3://{bucket}/{key}: {e}"))
                        })?;
                    files += 1;
                    written.insert(key);
                    pending.clear();
                    size = 0;
                }
            }
        }
        // Files of this checkpoint left by an earlier attempt and not written this time.
        let stem = format!("part-{}-{n}-", self.job);
        let keys = objects.list_keys(bucket, prefix).await.map_err(|e| {
            StreamError::Unsupported(format!("listing s3://{bucket}/{prefix}: {e}"))
        })?;
        for key in keys {
            let base = key.rsplit('/').next().unwrap_or(&key);
            if base.starts_with(&stem) && !written.contains(&key) {
                let _ = objects.delete(bucket, &key).await;
            }
        }
        if let Some(target) = glue {
            let catalog = self.catalog.clone().ok_or_else(|| {
                StreamError::Unsupported("No Glue Data Catalog to register the files in".into())
            })?;
            let registration = crate::glue::Registration {
                target: target.clone(),
                region: self.region.clone(),
                schema: self.schema.clone(),
                key_columns: self.key_columns.clone(),
                location: format!("s3://{bucket}/{prefix}"),
                format: self.table.format.clone(),
            };
            // The catalog writes (and fsyncs) its journal: off the async threads.
            tokio::task::spawn_blocking(move || {
                crate::glue::register(&catalog, &registration, &folders)
            })
            .await
            .map_err(|e| StreamError::Unsupported(format!("Glue registration: {e}")))??;
        }
        Ok(())
    }

    /// Rows by partition folder (`k=v/`, partition columns left out of the files), in order.
    fn partitions(&self, rows: &[RecordBatch]) -> Result<Vec<(String, Vec<RecordBatch>)>> {
        if self.key_columns.is_empty() {
            return Ok(vec![(String::new(), rows.to_vec())]);
        }
        let mut out: Vec<(String, Vec<RecordBatch>)> = Vec::new();
        let keep: Vec<usize> = (0..self.schema.fields().len())
            .filter(|i| !self.key_columns.contains(i))
            .collect();
        for b in rows {
            let options = FormatOptions::default();
            let formatters = self
                .key_columns
                .iter()
                .map(|&i| ArrayFormatter::try_new(b.column(i).as_ref(), &options))
                .collect::<std::result::Result<Vec<_>, _>>()?;
            let mut by_folder: BTreeMap<String, Vec<u32>> = BTreeMap::new();
            for row in 0..b.num_rows() {
                let folder: String = self
                    .key_columns
                    .iter()
                    .zip(&formatters)
                    .map(|(&c, f)| {
                        let value = if b.column(c).is_null(row) {
                            "__DEFAULT_PARTITION__".to_string()
                        } else {
                            escape_path(&f.value(row).to_string())
                        };
                        format!("{}={value}/", self.schema.field(c).name())
                    })
                    .collect();
                by_folder.entry(folder).or_default().push(row as u32);
            }
            let projected = b.project(&keep)?;
            for (folder, idx) in by_folder {
                let idx = datafusion::arrow::array::UInt32Array::from(idx);
                let cols = projected
                    .columns()
                    .iter()
                    .map(|c| datafusion::arrow::compute::take(c, &idx, None))
                    .collect::<std::result::Result<Vec<_>, _>>()?;
                let part = RecordBatch::try_new(projected.schema(), cols)?;
                match out.iter_mut().find(|(f, _)| f == &folder) {
                    Some((_, v)) => v.push(part),
                    None => out.push((folder, vec![part])),
                }
            }
        }
        Ok(out)
    }

    fn encode_file(&self, batches: &[RecordBatch]) -> Result<Vec<u8>> {
        let Some(first) = batches.first() else {
            return Ok(Vec::new());
        };
        match &self.table.format {
            Some(Format::Parquet) => {
                let props = parquet::file::properties::WriterProperties::builder()
                    .set_compression(parquet::basic::Compression::SNAPPY)
                    .build();
                let mut buf = Vec::new();
                let mut w =
                    parquet::arrow::ArrowWriter::try_new(&mut buf, first.schema(), Some(props))
                        .map_err(|e| StreamError::Unsupported(format!("Parquet: {e}")))?;
                for b in batches {
                    w.write(b)
                        .map_err(|e| StreamError::Unsupported(format!("Parquet: {e}")))?;
                }
                w.close()
                    .map_err(|e| StreamError::Unsupported(format!("Parquet: {e}")))?;
                Ok(buf)
            }
            _ => {
                let mut out = Vec::new();
                for b in batches {
                    for line in self.encode(b)? {
                        out.extend_from_slice(&line);
                        out.push(b'\n');
                    }
                }
                Ok(out)
            }
        }
    }

    fn encode(&self, batch: &RecordBatch) -> Result<Vec<Bytes>> {
        match &self.table.format {
            Some(Format::Csv { delimiter, .. }) => encode_csv(batch, *delimiter),
            _ => Ok(encode_json(batch)?.into_iter().map(Bytes::from).collect()),
        }
    }

    fn partition_keys(&self, batch: &RecordBatch) -> Result<Vec<String>> {
        let n = batch.num_rows();
        if self.key_columns.is_empty() {
            let mut rng = rand::thread_rng();
            return Ok((0..n)
                .map(|_| format!("{:032x}", rng.gen::<u128>()))
                .collect());
        }
        let options = FormatOptions::default().with_null("null");
        let formatters = self
            .key_columns
            .iter()
            .map(|&i| ArrayFormatter::try_new(batch.column(i).as_ref(), &options))
            .collect::<std::result::Result<Vec<_>, _>>()?;
        Ok((0..n)
            .map(|row| {
                formatters
                    .iter()
                    .map(|f| f.value(row).to_string())
                    .collect::<Vec<_>>()
                    .join(&self.delimiter)
            })
            .collect())
    }
}

/// A partition value as Hive (and Flink's filesystem sink) writes it in a path.
fn escape_path(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        if c.is_control()
            || matches!(
                c,
                '"' | '#' | '%' | '\'' | '*' | '/' | ':' | '=' | '?' | '\\' | '{' | '[' | ']' | '^'
            )
        {
            out.push_str(&format!("%{:02X}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

/// How timestamps are written as text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeStyle {
    /// Flink's JSON format default (`'json.timestamp-format.standard' = 'SQL'`):
    /// `2026-01-01 00:00:01.5`.
    Sql,
    /// ISO 8601, as the SQL Gateway's JSON rows: `2026-01-01T00:00:01.5`.
    Iso,
}

/// Timestamps as Flink writes them in JSON.
fn flink_text_columns(batch: &RecordBatch, style: TimeStyle) -> Result<RecordBatch> {
    let mut fields = Vec::new();
    let mut cols = Vec::new();
    for (f, c) in batch.schema().fields().iter().zip(batch.columns()) {
        match f.data_type() {
            DataType::Timestamp(unit, tz) => {
                let ms = cast(c, &DataType::Timestamp(TimeUnit::Nanosecond, None))?;
                let ns = cast(&ms, &DataType::Int64)?;
                let ns = ns
                    .as_any()
                    .downcast_ref::<datafusion::arrow::array::Int64Array>()
                    .cloned()
                    .unwrap_or_else(|| datafusion::arrow::array::Int64Array::new_null(c.len()));
                let digits = match unit {
                    TimeUnit::Second => 0,
                    TimeUnit::Millisecond => 3,
                    TimeUnit::Microsecond => 6,
                    TimeUnit::Nanosecond => 9,
                };
                let text: StringArray = ns
                    .iter()
                    .map(|v| {
                        v.map(|v| {
                            let text = sql_timestamp(v, digits, tz.is_some());
                            match style {
                                TimeStyle::Sql => text,
                                TimeStyle::Iso => text.replacen(' ', "T", 1),
                            }
                        })
                    })
                    .collect();
                fields.push(Field::new(f.name(), DataType::Utf8, true));
                cols.push(Arc::new(text) as ArrayRef);
            }
            _ => {
                fields.push(f.as_ref().clone());
                cols.push(c.clone());
            }
        }
    }
    Ok(RecordBatch::try_new(Arc::new(Schema::new(fields)), cols)?)
}

/// `yyyy-MM-dd HH:mm:ss` with the fraction's significant digits (none when zero), `Z` for an
/// instant.
pub fn sql_timestamp(nanos: i64, max_digits: usize, instant: bool) -> String {
    let secs = nanos.div_euclid(1_000_000_000);
    let frac = nanos.rem_euclid(1_000_000_000);
    let t = chrono::DateTime::from_timestamp(secs, 0).unwrap_or_default();
    let mut s = t.format("%Y-%m-%d %H:%M:%S").to_string();
    if frac > 0 && max_digits > 0 {
        let digits = format!("{frac:09}");
        let kept = digits[..max_digits].trim_end_matches('0');
        if !kept.is_empty() {
            s.push('.');
            s.push_str(kept);
        }
    }
    if instant {
        s.push('Z');
    }
    s
}

/// A sink's option: refused writes are tried again in place until they succeed or the job
/// stops (KDA's outputs).
pub const RETRY_OPTION: &str = "weir.sink.retry";

/// One JSON object per row.
pub fn encode_json(batch: &RecordBatch) -> Result<Vec<Vec<u8>>> {
    encode_json_with(batch, TimeStyle::Sql)
}

/// One JSON object per row, timestamps in the given style.
pub fn encode_json_with(batch: &RecordBatch, style: TimeStyle) -> Result<Vec<Vec<u8>>> {
    let batch = flink_text_columns(batch, style)?;
    let mut buf = Vec::new();
    {
        // NULL fields are written as `null` (Flink's `json.encode.ignore-null-fields` is false).
        let mut w = arrow_json::WriterBuilder::new()
            .with_explicit_nulls(true)
            .build::<_, arrow_json::writer::LineDelimited>(&mut buf);
        w.write(&batch)?;
        w.finish()?;
    }
    Ok(buf
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .map(<[u8]>::to_vec)
        .collect())
}

fn encode_csv(batch: &RecordBatch, delimiter: u8) -> Result<Vec<Bytes>> {
    let batch = flink_text_columns(batch, TimeStyle::Sql)?;
    let mut buf = Vec::new();
    {
        let mut w = arrow_csv::WriterBuilder::new()
            .with_header(false)
            .with_delimiter(delimiter)
            .build(&mut buf);
        w.write(&batch)?;
    }
    // Quoted fields may hold line breaks: rows are split by the CSV reader's own rules.
    let mut out = Vec::with_capacity(batch.num_rows());
    let mut start = 0;
    let mut quoted = false;
    for (i, &b) in buf.iter().enumerate() {
        match b {
            b'"' => quoted = !quoted,
            b'\n' if !quoted => {
                out.push(Bytes::copy_from_slice(&buf[start..i]));
                start = i + 1;
            }
            _ => {}
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_as_flink_writes_them() {
        assert_eq!(sql_timestamp(0, 3, false), "1970-01-01 00:00:00");
        assert_eq!(
            sql_timestamp(1_500_000_000, 3, false),
            "1970-01-01 00:00:01.5"
        );
        assert_eq!(
            sql_timestamp(1_234_000_000, 3, true),
            "1970-01-01 00:00:01.234Z"
        );
        assert_eq!(
            sql_timestamp(-1_000_000, 3, false),
            "1969-12-31 23:59:59.999"
        );
    }
}
