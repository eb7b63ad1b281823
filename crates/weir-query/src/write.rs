//! Writing a query's rows as a table's files, as CTAS, INSERT INTO and UNLOAD do: Parquet, ORC,
//! Avro, JSON lines or delimited text (Hive's LazySimpleSerDe: `\N` for NULL), compressed as asked,
//! split into Hive `k=v/` folders by partition columns (at most 100 open partitions, Athena's
//! limit) and into bucket files, each file rolled over at a size bound so memory stays bounded.

use std::collections::HashMap;
use std::io::Write;
use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, RecordBatch, UInt32Array};
use datafusion::arrow::compute::{cast, take};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::basic::{Compression, GzipLevel, ZstdLevel};
use datafusion::parquet::file::properties::WriterProperties;
use weir_athena::Failure;
use weir_objects::{Objects, PutObject};

/// Athena's limit on partitions (and buckets) one statement writes.
pub const MAX_OPEN_WRITERS: usize = 100;
/// A file is closed and a new one begun past this many (uncompressed) bytes.
const ROLL_BYTES: usize = 64 << 20;

/// The Hive name of a NULL partition value.
pub const DEFAULT_PARTITION: &str = "__HIVE_DEFAULT_PARTITION__";

/// How the files are encoded.
#[derive(Debug, Clone, PartialEq)]
pub enum FileFormat {
    Parquet(Compression),
    /// JSON lines; gzip-compressed when `true`.
    Json(bool),
    /// Delimited text; gzip-compressed when `true`.
    Text(u8, bool),
    /// ORC with its compression codec's Athena name (ZLIB, SNAPPY, LZ4, ZSTD, NONE).
    Orc(&'static str),
    /// Avro object container files with their codec's Athena name (DEFLATE, SNAPPY, ZSTD,
    /// BZIP2, NONE).
    Avro(&'static str),
}

impl FileFormat {
    /// The format from CTAS/UNLOAD's `format` and compression properties (Athena's defaults:
    /// Parquet, GZIP for Parquet and text).
    pub fn from_properties(
        format: Option<&str>,
        compression: Option<&str>,
        delimiter: Option<&str>,
    ) -> Result<FileFormat, Failure> {
        let compression = compression.map(str::to_ascii_uppercase);
        let text_gzip = || {
            match compression.as_deref() {
            None | Some("GZIP") => Ok(true),
            Some("NONE") | Some("UNCOMPRESSED") => Ok(false),
            Some(other) => Err(Failure::user(
                1300,
                format!("NOT_SUPPORTED: Weir writes text and JSON files with GZIP or NONE compression, not {other}"),
            )),
        }
        };
        match format.map(str::to_ascii_uppercase).as_deref() {
            None | Some("PARQUET") => {
                let c = match compression.as_deref() {
                    None | Some("GZIP") => Compression::GZIP(GzipLevel::default()),
                    Some("SNAPPY") => Compression::SNAPPY,
                    Some("ZSTD") => Compression::ZSTD(ZstdLevel::default()),
                    Some("LZ4") => Compression::LZ4_RAW,
                    Some("NONE") | Some("UNCOMPRESSED") => Compression::UNCOMPRESSED,
                    Some(other) => {
                        return Err(Failure::user(
                            1300,
                            format!("Unsupported compression '{other}' for format PARQUET"),
                        ))
                    }
                };
                Ok(FileFormat::Parquet(c))
            }
            Some("JSON") => Ok(FileFormat::Json(text_gzip()?)),
            Some("ORC") => {
                let c = match compression.as_deref() {
                    None | Some("ZLIB") => "ZLIB",
                    Some("SNAPPY") => "SNAPPY",
                    Some("LZ4") => "LZ4",
                    Some("ZSTD") => "ZSTD",
                    Some("NONE") | Some("UNCOMPRESSED") => "NONE",
                    Some(other) => {
                        return Err(Failure::user(
                            1300,
                            format!("Unsupported compression '{other}' for format ORC"),
                        ))
                    }
                };
                Ok(FileFormat::Orc(c))
            }
            Some("AVRO") => {
                // Athena's default (GZIP) is DEFLATE in an Avro file.
                let c = match compression.as_deref() {
                    None | Some("DEFLATE") | Some("GZIP") => "DEFLATE",
                    Some("SNAPPY") => "SNAPPY",
                    Some("ZSTD") => "ZSTD",
                    Some("BZIP2") => "BZIP2",
                    Some("NONE") | Some("UNCOMPRESSED") => "NONE",
                    Some(other) => {
                        return Err(Failure::user(
                            1300,
                            format!("Unsupported compression '{other}' for format AVRO"),
                        ))
                    }
                };
                Ok(FileFormat::Avro(c))
            }
            Some("TEXTFILE") | Some("CSV") | Some("TSV") => {
                let d = match delimiter {
                    None => 1,
                    Some("\\t") => b'\t',
                    Some(d) if d.len() == 1 => d.as_bytes()[0],
                    Some(d) => {
                        return Err(Failure::user(
                            1300,
                            format!("field_delimiter must be a single character, not '{d}'"),
                        ))
                    }
                };
                Ok(FileFormat::Text(d, text_gzip()?))
            }
            Some(other) => Err(Failure::user(
                1300,
                format!("NOT_SUPPORTED: Weir does not write {other} files (PARQUET, ORC, AVRO, JSON and TEXTFILE it does)"),
            )),
        }
    }

    fn extension(&self) -> &'static str {
        match self {
            FileFormat::Parquet(_) => "",
            FileFormat::Json(true) | FileFormat::Text(_, true) => ".gz",
            _ => "",
        }
    }
}

/// Where and how a statement writes.
#[derive(Debug, Clone)]
pub struct Target {
    pub bucket: String,
    /// Empty or ending in `/`.
    pub prefix: String,
    /// Files are named `<name_prefix>_<n>`: the query id, as Athena's names start.
    pub name_prefix: String,
    pub format: FileFormat,
    /// Names of the partition columns (the last columns of the rows, in this order).
    pub partitioned_by: Vec<String>,
    /// Bucketing columns and bucket count.
    pub buckets: Option<(Vec<String>, usize)>,
}

/// What was written.
#[derive(Debug, Default)]
pub struct Written {
    /// `s3://bucket/key` of every file.
    pub files: Vec<String>,
    pub rows: u64,
    /// The partitions' values, in the order first seen.
    pub partitions: Vec<Vec<String>>,
}

/// One open file.
struct OpenFile {
    key: String,
    encoder: Encoder,
}

enum Encoder {
    Parquet(Box<ArrowWriter<Vec<u8>>>),
    Lines(Vec<u8>),
    /// ORC rows held until the file closes (at most a roll's worth): orc-rust's writer is not
    /// `Send`, so it lives only inside [`orc_file`], never across an await.
    Orc(Vec<RecordBatch>, usize),
    /// An Avro file being written, and the (in-memory) bytes of the rows added to it.
    Avro(Box<arrow_avro::writer::AvroWriter<Vec<u8>>>, usize),
}

impl Encoder {
    fn size(&self) -> usize {
        match self {
            Encoder::Parquet(w) => w.inner().len() + w.in_progress_size(),
            Encoder::Lines(b) => b.len(),
            Encoder::Orc(_, added) => *added,
            Encoder::Avro(_, added) => *added,
        }
    }
}

/// An ORC file of `batches` (of `schema`), compressed with the codec Athena names.
fn orc_file(schema: SchemaRef, codec: &str, batches: &[RecordBatch]) -> Result<Vec<u8>, Failure> {
    use orc_rust::compression::CompressionType;
    let mut bytes = Vec::new();
    let mut b = orc_rust::ArrowWriterBuilder::new(&mut bytes, schema);
    let c = match codec {
        "SNAPPY" => Some(CompressionType::Snappy),
        "LZ4" => Some(CompressionType::Lz4),
        "ZSTD" => Some(CompressionType::Zstd),
        "NONE" => None,
        _ => Some(CompressionType::Zlib),
    };
    if let Some(c) = c {
        b = b.with_compression(c);
    }
    let mut w = b.try_build().map_err(write_err)?;
    for batch in batches {
        w.write(batch).map_err(write_err)?;
    }
    w.close().map_err(write_err)?;
    Ok(bytes)
}

/// The ORC writer's column types: strings and binaries in their plain layout; nested and
/// decimal columns it cannot write are refused up front.
fn orc_type(dt: &DataType) -> Result<DataType, Failure> {
    Ok(match dt {
        DataType::Utf8View => DataType::Utf8,
        DataType::BinaryView => DataType::Binary,
        DataType::Int8
        | DataType::Int16
        | DataType::Int32
        | DataType::Int64
        | DataType::Float32
        | DataType::Float64
        | DataType::Boolean
        | DataType::Date32
        | DataType::Utf8
        | DataType::LargeUtf8
        | DataType::Binary
        | DataType::LargeBinary
        | DataType::Timestamp(_, _) => dt.clone(),
        other => {
            return Err(Failure::user(
                1300,
                format!("NOT_SUPPORTED: Weir writes ORC columns of primitive types, not {other}"),
            ))
        }
    })
}

/// The Avro writer's column types: timestamps as `timestamp-millis` and tinyint/smallint as
/// `int`, as Hive's AvroSerDe writes them.
fn avro_type(dt: &DataType) -> DataType {
    match dt {
        DataType::Timestamp(_, _) => {
            DataType::Timestamp(TimeUnit::Millisecond, Some("+00:00".into()))
        }
        DataType::Int8 | DataType::Int16 => DataType::Int32,
        DataType::Utf8View | DataType::LargeUtf8 => DataType::Utf8,
        DataType::BinaryView | DataType::LargeBinary => DataType::Binary,
        other => other.clone(),
    }
}

/// An Avro writer for `schema`, compressed with the codec Athena names.
fn avro_writer(
    schema: &SchemaRef,
    codec: &str,
) -> Result<arrow_avro::writer::AvroWriter<Vec<u8>>, Failure> {
    use arrow_avro::compression::CompressionCodec;
    let c = match codec {
        "SNAPPY" => Some(CompressionCodec::Snappy),
        "ZSTD" => Some(CompressionCodec::ZStandard),
        "BZIP2" => Some(CompressionCodec::Bzip2),
        "NONE" => None,
        _ => Some(CompressionCodec::Deflate),
    };
    arrow_avro::writer::WriterBuilder::new(schema.as_ref().clone())
        .with_compression(c)
        .build(Vec::new())
        .map_err(write_err)
}

/// Writes batches to a target.
pub struct Sink {
    objects: Objects,
    target: Target,
    /// The data columns' schema (partition columns removed, timestamps in microseconds).
    data_schema: SchemaRef,
    data_cols: Vec<usize>,
    part_cols: Vec<usize>,
    bucket_cols: Vec<usize>,
    open: HashMap<(Vec<String>, usize), OpenFile>,
    seq: usize,
    written: Written,
}

fn write_err(e: impl std::fmt::Display) -> Failure {
    Failure::system(format!("HIVE_WRITER_CLOSE_ERROR: {e}"))
}

/// Parquet timestamps in microseconds: what Spark, Trino and Hive read.
fn storage_type(dt: &DataType) -> DataType {
    match dt {
        DataType::Timestamp(TimeUnit::Nanosecond, tz) => {
            DataType::Timestamp(TimeUnit::Microsecond, tz.clone())
        }
        other => other.clone(),
    }
}

/// Hive's escaping of a partition value in a path.
pub fn escape_path_value(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for c in v.chars() {
        if c.is_control()
            || matches!(
                c,
                '"' | '#' | '%' | '\'' | '*' | '/' | ':' | '=' | '?' | '\\' | '{' | '[' | ']' | '^'
            )
        {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("%{b:02X}"));
            }
        } else {
            out.push(c);
        }
    }
    out
}

impl Sink {
    /// A sink for rows of `schema`; the partition and bucket columns must be in it.
    pub fn new(objects: Objects, target: Target, schema: &SchemaRef) -> Result<Sink, Failure> {
        let index = |name: &String| {
            schema
                .fields()
                .iter()
                .position(|f| f.name().eq_ignore_ascii_case(name))
                .ok_or_else(|| {
                    Failure::user(
                        1100,
                        format!("SYNTAX_ERROR: Column '{name}' is not in the query's columns"),
                    )
                })
        };
        let part_cols = target
            .partitioned_by
            .iter()
            .map(index)
            .collect::<Result<Vec<_>, _>>()?;
        let bucket_cols = match &target.buckets {
            Some((cols, _)) => cols.iter().map(index).collect::<Result<Vec<_>, _>>()?,
            None => Vec::new(),
        };
        let data_cols: Vec<usize> = (0..schema.fields().len())
            .filter(|i| !part_cols.contains(i))
            .collect();
        let orc = matches!(target.format, FileFormat::Orc(_));
        let avro = matches!(target.format, FileFormat::Avro(_));
        let data_schema = Arc::new(Schema::new(
            data_cols
                .iter()
                .map(|&i| {
                    let f = schema.field(i);
                    let mut dt = storage_type(f.data_type());
                    if orc {
                        dt = orc_type(&dt)?;
                    }
                    if avro {
                        dt = avro_type(&dt);
                    }
                    // Glue's column names are lower case; the files' must match them.
                    Ok(Field::new(f.name().to_lowercase(), dt, true))
                })
                .collect::<Result<Vec<_>, Failure>>()?,
        ));
        Ok(Sink {
            objects,
            target,
            data_schema,
            data_cols,
            part_cols,
            bucket_cols,
            open: HashMap::new(),
            seq: 0,
            written: Written::default(),
        })
    }

    /// Adds a batch of rows.
    pub async fn write(&mut self, batch: &RecordBatch) -> Result<(), Failure> {
        if batch.num_rows() == 0 {
            return Ok(());
        }
        self.written.rows += batch.num_rows() as u64;
        if self.part_cols.is_empty() && self.bucket_cols.is_empty() {
            let data = self.data_batch(batch)?;
            return self.append((Vec::new(), 0), &data).await;
        }
        // Group the rows by (partition values, bucket).
        let mut groups: HashMap<(Vec<String>, usize), Vec<u32>> = HashMap::new();
        let mut order: Vec<(Vec<String>, usize)> = Vec::new();
        for row in 0..batch.num_rows() {
            let values: Vec<String> = self
                .part_cols
                .iter()
                .map(|&c| {
                    crate::render::render(batch.column(c), row)
                        .unwrap_or_else(|| DEFAULT_PARTITION.to_string())
                })
                .collect();
            let bucket = match &self.target.buckets {
                Some((_, n)) => {
                    let key: Vec<Option<String>> = self
                        .bucket_cols
                        .iter()
                        .map(|&c| crate::render::render(batch.column(c), row))
                        .collect();
                    (java_hash(&key) as usize) % (*n).max(1)
                }
                None => 0,
            };
            let k = (values, bucket);
            groups
                .entry(k.clone())
                .or_insert_with(|| {
                    order.push(k);
                    Vec::new()
                })
                .push(row as u32);
        }
        for k in order {
            let rows = UInt32Array::from(groups.remove(&k).unwrap_or_default());
            let columns = batch
                .columns()
                .iter()
                .map(|c| take(c, &rows, None))
                .collect::<Result<Vec<ArrayRef>, _>>()
                .map_err(write_err)?;
            let part = RecordBatch::try_new(batch.schema(), columns).map_err(write_err)?;
            let data = self.data_batch(&part)?;
            self.append(k, &data).await?;
        }
        Ok(())
    }

    /// The batch's data columns, in storage types.
    fn data_batch(&self, batch: &RecordBatch) -> Result<RecordBatch, Failure> {
        let columns = self
            .data_cols
            .iter()
            .zip(self.data_schema.fields())
            .map(|(&i, f)| {
                let c = batch.column(i);
                if c.data_type() == f.data_type() {
                    Ok(c.clone())
                } else {
                    cast(c, f.data_type())
                }
            })
            .collect::<Result<Vec<_>, _>>()
            .map_err(write_err)?;
        RecordBatch::try_new(self.data_schema.clone(), columns).map_err(write_err)
    }

    async fn append(
        &mut self,
        key: (Vec<String>, usize),
        data: &RecordBatch,
    ) -> Result<(), Failure> {
        if !self.open.contains_key(&key) {
            if self.open.len() >= MAX_OPEN_WRITERS {
                return Err(Failure::user(
                    1300,
                    format!("HIVE_TOO_MANY_OPEN_PARTITIONS: Exceeded limit of {MAX_OPEN_WRITERS} open writers for partitions/buckets"),
                ));
            }
            if !self.written.partitions.contains(&key.0) {
                if self.written.partitions.len() >= MAX_OPEN_WRITERS && !key.0.is_empty() {
                    return Err(Failure::user(
                        1300,
                        format!("HIVE_TOO_MANY_OPEN_PARTITIONS: Exceeded limit of {MAX_OPEN_WRITERS} open writers for partitions/buckets"),
                    ));
                }
                if !key.0.is_empty() {
                    self.written.partitions.push(key.0.clone());
                }
            }
            let file = self.new_file(&key)?;
            self.open.insert(key.clone(), file);
        }
        let roll = {
            let Some(file) = self.open.get_mut(&key) else {
                return Ok(());
            };
            match &mut file.encoder {
                Encoder::Parquet(w) => w.write(data).map_err(write_err)?,
                Encoder::Lines(buf) => encode_lines(&self.target.format, data, buf)?,
                Encoder::Orc(batches, added) => {
                    batches.push(data.clone());
                    *added += data.get_array_memory_size();
                }
                Encoder::Avro(w, added) => {
                    w.write(data).map_err(write_err)?;
                    *added += data.get_array_memory_size();
                }
            }
            file.encoder.size() >= ROLL_BYTES
        };
        if roll {
            if let Some(file) = self.open.remove(&key) {
                self.close(file).await?;
            }
        }
        Ok(())
    }

    fn new_file(&mut self, key: &(Vec<String>, usize)) -> Result<OpenFile, Failure> {
        let mut dir = self.target.prefix.clone();
        for (name, v) in self.target.partitioned_by.iter().zip(&key.0) {
            dir.push_str(&format!("{name}={}/", escape_path_value(v)));
        }
        let name = match &self.target.buckets {
            Some(_) => format!(
                "{}_bucket-{:05}_{}",
                self.target.name_prefix, key.1, self.seq
            ),
            None => format!("{}_{:05}", self.target.name_prefix, self.seq),
        };
        self.seq += 1;
        let encoder = match &self.target.format {
            FileFormat::Parquet(c) => {
                let props = WriterProperties::builder().set_compression(*c).build();
                Encoder::Parquet(Box::new(
                    ArrowWriter::try_new(Vec::new(), self.data_schema.clone(), Some(props))
                        .map_err(write_err)?,
                ))
            }
            FileFormat::Orc(_) => Encoder::Orc(Vec::new(), 0),
            FileFormat::Avro(c) => Encoder::Avro(Box::new(avro_writer(&self.data_schema, c)?), 0),
            _ => Encoder::Lines(Vec::new()),
        };
        Ok(OpenFile {
            key: format!("{dir}{name}{}", self.target.format.extension()),
            encoder,
        })
    }

    async fn close(&mut self, file: OpenFile) -> Result<(), Failure> {
        let bytes = match file.encoder {
            Encoder::Parquet(w) => w.into_inner().map_err(write_err)?,
            Encoder::Orc(batches, _) => {
                let codec = match &self.target.format {
                    FileFormat::Orc(c) => *c,
                    _ => "ZLIB",
                };
                orc_file(self.data_schema.clone(), codec, &batches)?
            }
            Encoder::Avro(mut w, _) => {
                w.finish().map_err(write_err)?;
                w.into_inner()
            }
            Encoder::Lines(buf) => match self.target.format {
                FileFormat::Json(true) | FileFormat::Text(_, true) => {
                    let mut gz = flate2::write::GzEncoder::new(
                        Vec::with_capacity(buf.len() / 4),
                        flate2::Compression::default(),
                    );
                    gz.write_all(&buf).map_err(write_err)?;
                    gz.finish().map_err(write_err)?
                }
                _ => buf,
            },
        };
        self.objects
            .put(
                &self.target.bucket,
                &file.key,
                PutObject {
                    data: bytes.into(),
                    ..Default::default()
                },
            )
            .await
            .map_err(|e| {
                Failure::user(
                    1300,
                    format!(
                        "HIVE_PATH_ALREADY_EXISTS or write failure for s3://{}/{}: {e}",
                        self.target.bucket, file.key
                    ),
                )
            })?;
        self.written
            .files
            .push(format!("s3://{}/{}", self.target.bucket, file.key));
        Ok(())
    }

    /// Closes every open file and says what was written.
    pub async fn finish(mut self) -> Result<Written, Failure> {
        let mut keys: Vec<_> = self.open.keys().cloned().collect();
        keys.sort();
        for k in keys {
            if let Some(file) = self.open.remove(&k) {
                self.close(file).await?;
            }
        }
        Ok(self.written)
    }
}

/// Java's `List.hashCode` over the values' `String.hashCode`s: a stable bucket hash.
fn java_hash(values: &[Option<String>]) -> u32 {
    let mut h: i32 = 1;
    for v in values {
        let s = v.as_deref().map_or(0i32, |s| {
            s.encode_utf16()
                .fold(0i32, |h, c| h.wrapping_mul(31).wrapping_add(c as i32))
        });
        h = h.wrapping_mul(31).wrapping_add(s);
    }
    h as u32 & 0x7fff_ffff
}

/// Appends rows as JSON lines or delimited text.
fn encode_lines(format: &FileFormat, data: &RecordBatch, buf: &mut Vec<u8>) -> Result<(), Failure> {
    match format {
        FileFormat::Json(_) => {
            let mut w = datafusion::arrow::json::LineDelimitedWriter::new(&mut *buf);
            w.write(data).map_err(write_err)?;
            w.finish().map_err(write_err)?;
        }
        FileFormat::Text(delim, _) => {
            for row in 0..data.num_rows() {
                for (i, c) in data.columns().iter().enumerate() {
                    if i > 0 {
                        buf.push(*delim);
                    }
                    match crate::render::render(c, row) {
                        Some(v) => buf.extend_from_slice(v.as_bytes()),
                        None => buf.extend_from_slice(b"\\N"),
                    }
                }
                buf.push(b'\n');
            }
        }
        FileFormat::Parquet(_) | FileFormat::Orc(_) | FileFormat::Avro(_) => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_and_escaping() {
        assert!(matches!(
            FileFormat::from_properties(None, None, None),
            Ok(FileFormat::Parquet(Compression::GZIP(_)))
        ));
        assert_eq!(
            FileFormat::from_properties(Some("textfile"), Some("none"), Some(",")).ok(),
            Some(FileFormat::Text(b',', false))
        );
        assert_eq!(
            FileFormat::from_properties(Some("JSON"), None, None).ok(),
            Some(FileFormat::Json(true))
        );
        assert_eq!(
            FileFormat::from_properties(Some("avro"), None, None).ok(),
            Some(FileFormat::Avro("DEFLATE"))
        );
        assert!(FileFormat::from_properties(Some("AVRO"), Some("LZ4"), None).is_err());
        assert!(FileFormat::from_properties(Some("ION"), None, None).is_err());
        assert!(FileFormat::from_properties(Some("PARQUET"), Some("BROTLI9"), None).is_err());
        assert_eq!(escape_path_value("a/b=c d"), "a%2Fb%3Dc d");
        assert_eq!(java_hash(&[Some("a".into())]), 31 + 97);
    }
}
