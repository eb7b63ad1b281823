//! Records into rows: each record's data decoded by the table's format (JSON or CSV) into the
//! declared physical columns, the metadata columns (arrival time, shard, sequence number)
//! appended. A record that does not decode fails the job, unless the format's
//! `ignore-parse-errors` is set, when it is skipped and counted (as Flink does).

mod flat;

use std::io::Cursor;
use std::sync::Arc;

use datafusion::arrow::array::{
    new_null_array, ArrayRef, RecordBatch, StringArray, TimestampMillisecondArray,
};
use datafusion::arrow::datatypes::{Schema, SchemaRef};
use weir_delivery::source::SourceRecord;

use crate::error::{Result, StreamError};
use crate::table::{Format, Meta, TableDef};
use crate::types::LTZ;

/// The table option naming the stream (`<region>:<stream>`) that receives the records that
/// do not decode, as Kinesis Data Analytics' `error_stream` rows (with
/// `'json.ignore-parse-errors'` or `'csv.ignore-parse-errors'`).
pub const ERRORS_OPTION: &str = "weir.errors.stream";

/// Decodes one table's records.
pub struct Decoder {
    physical: SchemaRef,
    decoded: SchemaRef,
    metadata: Vec<Meta>,
    format: Format,
    /// The physical columns read from JSON records when the job uses only some (their
    /// schema and places; the others are left null).
    read: Option<(SchemaRef, Vec<usize>)>,
    /// Records skipped because they did not decode.
    pub skipped: u64,
    /// The skipped records with why, kept when the table names a stream for them
    /// (`'weir.errors.stream'`) until the job takes them.
    pub rejected: Option<Vec<Rejected>>,
    /// The JSON decoder, kept between batches (behind a lock only to be `Sync`: it is used
    /// through `&mut self`, never locked).
    json: parking_lot::Mutex<Option<arrow_json::reader::Decoder>>,
    /// The fast reader of flat JSON objects (when the read columns' types allow it).
    flat: Option<flat::FlatJson>,
    /// The greatest row, in bytes (KDA tables).
    row_limit: Option<usize>,
}

/// Kinesis Data Analytics' rows are limited to 512 KB, 1 KB of which is the row's metadata.
const KDA_ROW_LIMIT: usize = 512 * 1024 - 1024;

/// A record that did not decode.
pub struct Rejected {
    pub arrival_ms: i64,
    pub data: bytes::Bytes,
    pub message: String,
    /// error_stream's ERROR_NAME.
    pub name: &'static str,
    /// error_stream's PUMP_NAME (a row a pump's query failed on).
    pub pump: Option<String>,
}

/// Rows a kept JSON decoder holds before it is flushed (a read returns at most 10,000).
const JSON_BATCH: usize = 16 * 1024;

impl Decoder {
    /// A decoder of `table`'s records; `decode` names the physical columns to read (JSON
    /// only: a CSV row is read whole), all when `None`.
    pub fn new(table: &TableDef, decode: Option<&[usize]>) -> Result<Decoder> {
        let n = table.decoded.fields().len() - table.metadata.len();
        let physical = Arc::new(Schema::new(table.decoded.fields()[..n].to_vec()));
        let read = match (&table.format, decode) {
            (Some(Format::Json { .. }), Some(cols)) if cols.iter().all(|c| *c < n) => {
                Some((Arc::new(physical.project(cols)?), cols.to_vec()))
            }
            _ => None,
        };
        let flat = match (&table.format, &read) {
            (Some(Format::Json { .. }), Some((schema, _))) => flat::FlatJson::new(schema),
            (Some(Format::Json { .. }), None) => flat::FlatJson::new(&physical),
            _ => None,
        };
        Ok(Decoder {
            json: parking_lot::Mutex::new(None),
            flat,
            read,
            physical,
            decoded: table.decoded.clone(),
            metadata: table.metadata.iter().map(|(_, m)| *m).collect(),
            format: table.format.clone().ok_or_else(|| {
                StreamError::Validation(format!("Table '{}' has no format", table.name()))
            })?,
            skipped: 0,
            rejected: table
                .flink
                .options
                .contains_key(ERRORS_OPTION)
                .then(Vec::new),
            row_limit: table
                .flink
                .options
                .contains_key(crate::job::SQL_ERRORS_OPTION)
                .then_some(KDA_ROW_LIMIT),
        })
    }

    /// The rows of `records` (records that do not decode skipped or failing, as configured).
    pub fn decode(&mut self, records: &[SourceRecord]) -> Result<RecordBatch> {
        let all: Vec<&SourceRecord> = records.iter().collect();
        let (batch, kept) = match self.decode_all(&all) {
            Ok(b) if b.num_rows() == records.len() => (b, None),
            // A record holding several JSON documents, or one that does not parse: each record
            // is decoded alone to find which.
            _ => self.decode_each(records)?,
        };
        let (batch, kept) = self.within_limit(records, batch, kept)?;
        let mut columns: Vec<ArrayRef> = batch.columns().to_vec();
        let kept_records: Vec<&SourceRecord> = match &kept {
            Some(k) => k.iter().map(|&i| &records[i]).collect(),
            None => records.iter().collect(),
        };
        let n = columns.len();
        for (i, m) in self.metadata.iter().enumerate() {
            let natural: ArrayRef = match m {
                Meta::Timestamp => Arc::new(
                    TimestampMillisecondArray::from_iter_values(
                        kept_records.iter().map(|r| r.arrival_ms),
                    )
                    .with_timezone(LTZ),
                ),
                Meta::ShardId => Arc::new(StringArray::from_iter_values(
                    kept_records.iter().map(|r| &*r.shard),
                )),
                Meta::SequenceNumber => Arc::new(StringArray::from_iter_values(
                    kept_records.iter().map(|r| &*r.sequence_number),
                )),
            };
            let want = self.decoded.field(n + i).data_type();
            columns.push(datafusion::arrow::compute::cast(&natural, want)?);
        }
        Ok(RecordBatch::try_new(self.decoded.clone(), columns)?)
    }

    /// The rows within the table's row limit (the others set apart as records that do not
    /// decode), and which records they came from. A record no larger than the limit cannot
    /// make a larger row, so most reads are not measured.
    fn within_limit(
        &mut self,
        records: &[SourceRecord],
        batch: RecordBatch,
        kept: Option<Vec<usize>>,
    ) -> Result<(RecordBatch, Option<Vec<usize>>)> {
        let Some(limit) = self.row_limit else {
            return Ok((batch, kept));
        };
        if records.iter().all(|r| r.data.len() <= limit) {
            return Ok((batch, kept));
        }
        let from: Vec<usize> = kept.unwrap_or_else(|| (0..records.len()).collect());
        // A job reading some of the columns measures a large record's whole row, so every
        // job of the table keeps or sets apart the same rows.
        let sizes: Vec<usize> = row_sizes(&batch)
            .into_iter()
            .zip(&from)
            .map(|(n, &i)| match (&self.read, records.get(i)) {
                (Some(_), Some(r)) if r.data.len() > limit => self.whole_row_size(r).unwrap_or(n),
                _ => n,
            })
            .collect();
        let keep: Vec<bool> = sizes.iter().map(|n| *n <= limit).collect();
        for (k, n) in sizes.iter().enumerate().filter(|(_, n)| **n > limit) {
            self.skipped += 1;
            let (Some(rejected), Some(r)) = (self.rejected.as_mut(), records.get(from[k])) else {
                continue;
            };
            rejected.push(Rejected {
                arrival_ms: r.arrival_ms,
                data: r.data.clone(),
                message: format!(
                    "The row is {n} bytes: a row of an in-application stream is at most 512 KB, \
                     1 KB of it the row's metadata."
                ),
                name: "Error_Parsing_Record",
                pump: None,
            });
        }
        let mask = datafusion::arrow::array::BooleanArray::from(keep.clone());
        let batch = datafusion::arrow::compute::filter_record_batch(&batch, &mask)?;
        let kept = from
            .into_iter()
            .zip(keep)
            .filter_map(|(i, k)| k.then_some(i))
            .collect();
        Ok((batch, Some(kept)))
    }

    /// The size of a JSON record's row with all the table's columns.
    fn whole_row_size(&self, r: &SourceRecord) -> Option<usize> {
        let mut d = arrow_json::ReaderBuilder::new(self.physical.clone())
            .build_decoder()
            .ok()?;
        d.decode(&r.data).ok()?;
        let batch = d.flush().ok()??;
        row_sizes(&batch).first().copied()
    }

    /// Records' JSON through the table's kept decoder (its buffers reused from batch to
    /// batch: a new decoder grew them anew, page by page, for every read).
    fn decode_json(&mut self, records: &[&SourceRecord]) -> Result<RecordBatch> {
        let schema = self
            .read
            .as_ref()
            .map_or_else(|| self.physical.clone(), |(s, _)| s.clone());
        if let Some(flat) = self.flat.as_mut() {
            if let Some(batch) = flat.decode(records.iter().map(|r| &r.data[..])) {
                return self.widen(batch);
            }
        }
        let mut d = match self.json.get_mut().take() {
            Some(d) => d,
            None => arrow_json::ReaderBuilder::new(schema.clone())
                .with_batch_size(JSON_BATCH)
                .build_decoder()?,
        };
        let mut batches = Vec::new();
        for r in records.iter() {
            if d.len() >= JSON_BATCH {
                batches.extend(d.flush()?);
            }
            let before = d.len();
            // A record that fails leaves the decoder mid-way: it is dropped (a new one next).
            let used = d.decode(&r.data)?;
            if used != r.data.len() || d.len() != before + 1 {
                return Err(StreamError::Validation(format!(
                    "Failed to deserialize JSON '{}'.",
                    String::from_utf8_lossy(&r.data)
                )));
            }
        }
        batches.extend(d.flush()?);
        *self.json.get_mut() = Some(d);
        let batch = match batches.len() {
            1 => batches.remove(0),
            _ => datafusion::arrow::compute::concat_batches(&schema, &batches)?,
        };
        self.widen(batch)
    }

    fn decode_all(&mut self, records: &[&SourceRecord]) -> Result<RecordBatch> {
        match self.format {
            Format::Json { .. } => self.decode_json(records),
            Format::Parquet => Err(StreamError::Unsupported(
                "Parquet tables are written, not read, by streaming jobs".into(),
            )),
            Format::Csv { delimiter, .. } => {
                let mut text = Vec::new();
                let mut n = 0usize;
                for r in records.iter() {
                    let line = r.data.strip_suffix(b"\n").unwrap_or(&r.data);
                    if line.contains(&b'\n') {
                        return Err(StreamError::Validation(format!(
                            "Failed to deserialize CSV row '{}'.",
                            String::from_utf8_lossy(&r.data)
                        )));
                    }
                    text.extend_from_slice(line);
                    text.push(b'\n');
                    n += 1;
                }
                let reader = arrow_csv::ReaderBuilder::new(self.physical.clone())
                    .with_delimiter(delimiter)
                    .with_header(false)
                    .with_batch_size(n.max(1))
                    .build(Cursor::new(text))?;
                let batches = reader.collect::<std::result::Result<Vec<_>, _>>()?;
                Ok(datafusion::arrow::compute::concat_batches(
                    &self.physical,
                    &batches,
                )?)
            }
        }
    }

    /// The columns read, with the columns not read as nulls.
    fn widen(&self, batch: RecordBatch) -> Result<RecordBatch> {
        let Some((_, read)) = &self.read else {
            return Ok(batch);
        };
        let n = batch.num_rows();
        let mut got = batch.columns().iter();
        let columns =
            self.physical
                .fields()
                .iter()
                .enumerate()
                .map(|(k, f)| match read.contains(&k) {
                    true => got.next().cloned().ok_or_else(|| {
                        StreamError::Unsupported("a decoded column is missing".into())
                    }),
                    false => Ok(new_null_array(f.data_type(), n)),
                })
                .collect::<Result<Vec<ArrayRef>>>()?;
        Ok(RecordBatch::try_new(self.physical.clone(), columns)?)
    }

    /// Decodes record by record: the rows that decode, and which records they came from.
    fn decode_each(
        &mut self,
        records: &[SourceRecord],
    ) -> Result<(RecordBatch, Option<Vec<usize>>)> {
        let ignore = match self.format {
            Format::Json {
                ignore_parse_errors,
            }
            | Format::Csv {
                ignore_parse_errors,
                ..
            } => ignore_parse_errors,
            Format::Parquet => false,
        };
        let mut batches = Vec::new();
        let mut kept = Vec::new();
        for (i, r) in records.iter().enumerate() {
            match self.decode_all(&[r]) {
                Ok(b) if b.num_rows() == 1 => {
                    batches.push(b);
                    kept.push(i);
                }
                other if ignore => {
                    self.skipped += 1;
                    if let Some(rejected) = self.rejected.as_mut() {
                        let message = match other {
                            Err(e) => e.to_string(),
                            Ok(_) => "The record is not one row of the table.".to_string(),
                        };
                        rejected.push(Rejected {
                            arrival_ms: r.arrival_ms,
                            data: r.data.clone(),
                            message,
                            name: "Error_Parsing_Record",
                            pump: None,
                        });
                    }
                }
                Ok(_) => {
                    return Err(StreamError::Validation(format!(
                        "Failed to deserialize '{}'.",
                        String::from_utf8_lossy(&r.data)
                    )))
                }
                Err(e) => return Err(e),
            }
        }
        let batch = datafusion::arrow::compute::concat_batches(&self.physical, &batches)?;
        Ok((batch, Some(kept)))
    }
}

/// Each row's size in bytes: its texts' and binaries' lengths, its other values' widths.
fn row_sizes(batch: &RecordBatch) -> Vec<usize> {
    use datafusion::arrow::array::{Array, AsArray};
    use datafusion::arrow::datatypes::DataType;
    let mut sizes = vec![0usize; batch.num_rows()];
    for c in batch.columns() {
        let add = |sizes: &mut Vec<usize>, len: &dyn Fn(usize) -> usize| {
            for (i, s) in sizes.iter_mut().enumerate() {
                if c.is_valid(i) {
                    *s += len(i);
                }
            }
        };
        match c.data_type() {
            DataType::Utf8 => add(&mut sizes, &|i| c.as_string::<i32>().value(i).len()),
            DataType::LargeUtf8 => add(&mut sizes, &|i| c.as_string::<i64>().value(i).len()),
            DataType::Binary => add(&mut sizes, &|i| c.as_binary::<i32>().value(i).len()),
            DataType::LargeBinary => add(&mut sizes, &|i| c.as_binary::<i64>().value(i).len()),
            DataType::Utf8View => add(&mut sizes, &|i| c.as_string_view().value(i).len()),
            other => {
                let w = other.primitive_width().unwrap_or(8);
                add(&mut sizes, &|_| w)
            }
        }
    }
    sizes
}
