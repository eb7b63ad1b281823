//! Record format conversion (DataFormatConversionConfiguration): a buffer of JSON records
//! becomes one Parquet or ORC object of the Glue table's columns. Records that do not fit
//! are returned with Firehose's error code and message, for the error output.

mod columns;
mod fast;
pub mod json;

use arrow_array::RecordBatch;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression as ParquetCodec, GzipLevel};
use parquet::file::properties::{WriterProperties, WriterVersion};
use weir_catalog::types::HiveType;

use crate::conversion::{Deserializer, FormatConversion, Serializer};
pub use json::RecordError;

/// Rows decoded before they are handed to the file writer.
const BATCH_ROWS: usize = 8192;

/// A conversion ready to run: the table's columns, the deserializer, the output format.
pub struct Plan {
    columns: Vec<(String, HiveType)>,
    de: json::Deserializer,
    out: Serializer,
}

/// The error code of a table that cannot be used.
pub const INVALID_SCHEMA: &str = "DataFormatConversion.InvalidSchema";

fn invalid_schema(message: String) -> RecordError {
    RecordError {
        code: INVALID_SCHEMA,
        message,
    }
}

impl Plan {
    /// The plan for a configuration and the table's columns (name, Glue type).
    pub fn new(conv: &FormatConversion, columns: &[(String, String)]) -> Result<Plan, RecordError> {
        let out = conv
            .serializer()
            .ok_or_else(|| invalid_schema("No output format is configured.".into()))?;
        let mut typed = Vec::with_capacity(columns.len());
        for (name, t) in columns {
            let ty = HiveType::parse(t).map_err(|e| {
                invalid_schema(format!("The type of column {name} is not a Hive type: {e}"))
            })?;
            if matches!(out, Serializer::Orc(_)) && !orc_writable(&ty) {
                return Err(invalid_schema(format!(
                    "Weir writes ORC columns of primitive types (not decimal or nested); column \
                     {name} is {ty}."
                )));
            }
            typed.push((name.clone(), ty));
        }
        if typed.is_empty() {
            return Err(invalid_schema("The table has no columns.".into()));
        }
        let de = match conv.deserializer() {
            Some(Deserializer::Hive(h)) => json::Deserializer::Hive {
                timestamp_formats: h
                    .timestamp_formats
                    .iter()
                    .flatten()
                    .map(|f| json::TimeFormat::parse(f))
                    .collect::<Result<_, _>>()
                    .map_err(|e| invalid_schema(format!("Invalid deserializer option(s): {e}")))?,
            },
            Some(Deserializer::OpenX(o)) => json::Deserializer::OpenX {
                case_insensitive: o.case_insensitive.unwrap_or(true),
                dots_to_underscores: o.convert_dots_to_underscores.unwrap_or(false),
                mappings: o.column_to_json_key_mappings.clone().unwrap_or_default(),
            },
            None => json::Deserializer::OpenX {
                case_insensitive: true,
                dots_to_underscores: false,
                mappings: Vec::new(),
            },
        };
        Ok(Plan {
            columns: typed,
            de,
            out: out.clone(),
        })
    }

    /// The extension objects get when no FileExtension is configured.
    pub fn extension(&self) -> &'static str {
        match self.out {
            Serializer::Parquet(_) => ".parquet",
            Serializer::Orc(_) => ".orc",
        }
    }
}

fn orc_writable(t: &HiveType) -> bool {
    !matches!(
        t,
        HiveType::Decimal(..) | HiveType::Array(_) | HiveType::Map(..) | HiveType::Struct(_)
    )
}

/// What a conversion made of a buffer.
pub struct Outcome {
    /// The object, unless no record converted.
    pub object: Option<Vec<u8>>,
    /// Records converted (each may hold several rows).
    pub records: u64,
    pub rows: u64,
    /// Bytes of the records converted.
    pub bytes: u64,
    /// Records that did not, by their index in the buffer.
    pub failed: Vec<(usize, RecordError)>,
}

impl Outcome {
    /// Every one of `n` records failed with `e`.
    pub fn all_failed(n: usize, e: RecordError) -> Outcome {
        Outcome {
            object: None,
            records: 0,
            rows: 0,
            bytes: 0,
            failed: (0..n).map(|i| (i, e.clone())).collect(),
        }
    }
}

/// A failure of the file writer, as every record's error.
pub fn writer_error(message: String) -> RecordError {
    RecordError {
        code: INVALID_SCHEMA,
        message: format!("The output file could not be written: {message}"),
    }
}

/// Converts a buffer's records into one object.
pub fn convert<'a>(
    plan: &Plan,
    records: impl Iterator<Item = &'a [u8]>,
) -> Result<Outcome, String> {
    let mut decoder = json::Decoder::new(&plan.columns, plan.de.clone());
    // ORC is written into `orc`; Parquet's writer owns its buffer.
    let mut orc = Vec::new();
    let mut writer = Writer::new(&plan.out, decoder.schema().clone(), &mut orc)?;
    let mut outcome = Outcome {
        object: None,
        records: 0,
        rows: 0,
        bytes: 0,
        failed: Vec::new(),
    };
    for (i, record) in records.enumerate() {
        match decoder.push(record) {
            Ok(rows) => {
                outcome.records += 1;
                outcome.rows += rows as u64;
                outcome.bytes += record.len() as u64;
            }
            Err(e) => outcome.failed.push((i, e)),
        }
        if decoder.rows() >= BATCH_ROWS {
            writer.write(decoder.finish().map_err(|e| e.to_string())?)?;
        }
    }
    if decoder.rows() > 0 {
        writer.write(decoder.finish().map_err(|e| e.to_string())?)?;
    }
    let parquet = writer.finish()?;
    if outcome.rows > 0 {
        outcome.object = Some(parquet.unwrap_or(orc));
    }
    Ok(outcome)
}

/// The file being written.
enum Writer<'a> {
    Parquet(Box<ArrowWriter<Vec<u8>>>, usize),
    /// orc-rust's writer, with the compression Firehose's OrcSerDe names.
    Orc(Box<orc_rust::ArrowWriter<&'a mut Vec<u8>>>),
}

impl<'a> Writer<'a> {
    fn new(
        out: &Serializer,
        schema: arrow_schema::SchemaRef,
        orc: &'a mut Vec<u8>,
    ) -> Result<Writer<'a>, String> {
        match out {
            Serializer::Parquet(p) => {
                let codec = match p.compression.as_deref() {
                    Some("UNCOMPRESSED") => ParquetCodec::UNCOMPRESSED,
                    Some("GZIP") => ParquetCodec::GZIP(GzipLevel::default()),
                    _ => ParquetCodec::SNAPPY,
                };
                let version = match p.writer_version.as_deref() {
                    Some("V2") => WriterVersion::PARQUET_2_0,
                    _ => WriterVersion::PARQUET_1_0,
                };
                let block = p.block_size_bytes.unwrap_or(256 << 20).max(64 << 20) as usize;
                let props = WriterProperties::builder()
                    .set_compression(codec)
                    .set_writer_version(version)
                    .set_dictionary_enabled(p.enable_dictionary_compression.unwrap_or(true))
                    .set_data_page_size_limit(
                        p.page_size_bytes.unwrap_or(1 << 20).max(64 << 10) as usize
                    )
                    .set_created_by("Weir (Firehose record format conversion)".into())
                    .build();
                let w = ArrowWriter::try_new(Vec::new(), schema, Some(props))
                    .map_err(|e| e.to_string())?;
                Ok(Writer::Parquet(Box::new(w), block))
            }
            Serializer::Orc(o) => {
                use orc_rust::compression::CompressionType;
                let mut b = orc_rust::ArrowWriterBuilder::new(orc, schema).with_stripe_byte_size(
                    o.stripe_size_bytes.unwrap_or(64 << 20).max(8 << 20) as usize,
                );
                match o.compression.as_deref() {
                    Some("NONE") => {}
                    Some("ZLIB") => b = b.with_compression(CompressionType::Zlib),
                    _ => b = b.with_compression(CompressionType::Snappy),
                }
                let w = b.try_build().map_err(|e| e.to_string())?;
                Ok(Writer::Orc(Box::new(w)))
            }
        }
    }

    fn write(&mut self, batch: RecordBatch) -> Result<(), String> {
        match self {
            Writer::Parquet(w, block) => {
                w.write(&batch).map_err(|e| e.to_string())?;
                // BlockSizeBytes bounds a row group.
                if w.in_progress_size() >= *block {
                    w.flush().map_err(|e| e.to_string())?;
                }
                Ok(())
            }
            Writer::Orc(w) => w.write(&batch).map_err(|e| e.to_string()),
        }
    }

    /// Ends the file: Parquet's bytes, or `None` for ORC (whose bytes are in the caller's
    /// buffer).
    fn finish(self) -> Result<Option<Vec<u8>>, String> {
        match self {
            Writer::Parquet(w, _) => w.into_inner().map(Some).map_err(|e| e.to_string()),
            Writer::Orc(w) => w.close().map(|()| None).map_err(|e| e.to_string()),
        }
    }
}

/// The error code of a table or database that does not exist.
pub const ENTITY_NOT_FOUND: &str = "DataFormatConversion.EntityNotFound";

/// The table a SchemaConfiguration names, with defaults applied: (catalog id, region, version).
pub struct TableRef<'a> {
    pub catalog_id: &'a str,
    pub database: &'a str,
    pub table: &'a str,
    pub region: &'a str,
    pub version: &'a str,
}

impl<'a> TableRef<'a> {
    pub fn of(
        schema: &'a crate::conversion::SchemaConfiguration,
        account: &'a str,
        stream_region: &'a str,
    ) -> TableRef<'a> {
        TableRef {
            catalog_id: schema.catalog_id.as_deref().unwrap_or(account),
            database: schema.database_name.as_deref().unwrap_or_default(),
            table: schema.table_name.as_deref().unwrap_or_default(),
            region: schema.region.as_deref().unwrap_or(stream_region),
            version: schema.version_id.as_deref().unwrap_or("LATEST"),
        }
    }

    /// The table's columns (name, Glue type) in the version named.
    pub fn columns(
        &self,
        catalog: &weir_catalog::Catalog,
    ) -> Result<Vec<(String, String)>, RecordError> {
        let not_found = || RecordError {
            code: ENTITY_NOT_FOUND,
            message: "The specified table/database could not be found. Please ensure that the \
                      table/database exists and that the values provided in the schema \
                      configuration are correct, especially with regards to casing."
                .into(),
        };
        let table = if self.version == "LATEST" {
            catalog
                .get_table(self.region, self.database, self.table)
                .map_err(|_| not_found())?
        } else {
            catalog
                .table_versions(self.region, self.database, self.table)
                .map_err(|_| not_found())?
                .into_iter()
                .find(|v| v.version_id == self.version)
                .ok_or_else(not_found)?
                .table
        };
        Ok(table
            .storage_descriptor
            .map(|sd| sd.columns)
            .unwrap_or_default()
            .into_iter()
            .map(|c| {
                let t = c.data_type.unwrap_or_else(|| "string".into());
                (c.name, t)
            })
            .collect())
    }

    /// The conversion plan for this table's columns (in the version named).
    pub fn plan(
        &self,
        catalog: &weir_catalog::Catalog,
        conv: &FormatConversion,
    ) -> Result<Plan, RecordError> {
        Plan::new(conv, &self.columns(catalog)?)
    }

    /// The `dataCatalogTable` member of a failed record's document.
    pub fn document(&self) -> serde_json::Value {
        serde_json::json!({
            "catalogId": self.catalog_id,
            "databaseName": self.database,
            "tableName": self.table,
            "region": self.region,
            "versionId": self.version,
            "catalogArn": format!("arn:aws:glue:{}:{}:catalog", self.region, self.catalog_id),
        })
    }
}
