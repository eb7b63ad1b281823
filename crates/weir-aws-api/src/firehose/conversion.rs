//! DataFormatConversionConfiguration on the wire: read with the model's member constraints,
//! described back as it was given.

use weir_delivery::{
    DeserializerConfig, FormatConversion, HiveJsonSerDe, OpenXJsonSerDe, OrcSerDe, ParquetSerDe,
    SchemaConfiguration, SerializerConfig,
};

use crate::error::ApiError;
use crate::input::{Input, StrRule};
use crate::value::Value;

/// NonEmptyStringWithoutWhitespace.
const NO_WHITESPACE: StrRule = StrRule::len(1, 1024).pattern("^\\S+$", |s| {
    !s.is_empty() && !s.chars().any(char::is_whitespace)
});
/// NonEmptyString.
const NON_EMPTY: StrRule = StrRule::len(1, 1024).pattern("^(?!\\s*$).+", |s| !s.trim().is_empty());

pub fn read(d: &mut Input) -> Result<FormatConversion, ApiError> {
    let schema = d.structure("SchemaConfiguration", |s| {
        Ok(SchemaConfiguration {
            role_arn: s.string("RoleARN", false, NO_WHITESPACE)?,
            catalog_id: s.string("CatalogId", false, NO_WHITESPACE)?,
            database_name: s.string("DatabaseName", false, NO_WHITESPACE)?,
            table_name: s.string("TableName", false, NO_WHITESPACE)?,
            region: s.string("Region", false, NO_WHITESPACE)?,
            version_id: s.string("VersionId", false, NO_WHITESPACE)?,
        })
    })?;
    let input = d.structure("InputFormatConfiguration", |i| {
        i.structure("Deserializer", |de| {
            Ok(DeserializerConfig {
                openx: de.structure("OpenXJsonSerDe", |o| {
                    Ok(OpenXJsonSerDe {
                        convert_dots_to_underscores: o
                            .boolean("ConvertDotsInJsonKeysToUnderscores")?,
                        case_insensitive: o.boolean("CaseInsensitive")?,
                        column_to_json_key_mappings: o
                            .string_map("ColumnToJsonKeyMappings", false, 0, usize::MAX)?
                            .map(|m| m.into_iter().collect()),
                    })
                })?,
                hive: de.structure("HiveJsonSerDe", |h| {
                    Ok(HiveJsonSerDe {
                        timestamp_formats: h.list(
                            "TimestampFormats",
                            false,
                            0,
                            usize::MAX,
                            |l, i, v| l.element_string("TimestampFormats", i, v, NON_EMPTY),
                        )?,
                    })
                })?,
            })
        })
    })?;
    let output = d.structure("OutputFormatConfiguration", |o| {
        o.structure("Serializer", |s| {
            Ok(SerializerConfig {
                parquet: s.structure("ParquetSerDe", |p| {
                    Ok(ParquetSerDe {
                        block_size_bytes: p.int("BlockSizeBytes", false, Some(67_108_864), None)?,
                        page_size_bytes: p.int("PageSizeBytes", false, Some(65_536), None)?,
                        compression: p.string(
                            "Compression",
                            false,
                            StrRule::one_of(&["UNCOMPRESSED", "GZIP", "SNAPPY"]),
                        )?,
                        enable_dictionary_compression: p.boolean("EnableDictionaryCompression")?,
                        max_padding_bytes: p.int("MaxPaddingBytes", false, Some(0), None)?,
                        writer_version: p.string(
                            "WriterVersion",
                            false,
                            StrRule::one_of(&["V1", "V2"]),
                        )?,
                    })
                })?,
                orc: s.structure("OrcSerDe", |o| {
                    Ok(OrcSerDe {
                        stripe_size_bytes: o.int(
                            "StripeSizeBytes",
                            false,
                            Some(8_388_608),
                            None,
                        )?,
                        block_size_bytes: o.int("BlockSizeBytes", false, Some(67_108_864), None)?,
                        row_index_stride: o.int("RowIndexStride", false, Some(1000), None)?,
                        enable_padding: o.boolean("EnablePadding")?,
                        padding_tolerance: o.double("PaddingTolerance", Some(0.0), Some(1.0))?,
                        compression: o.string(
                            "Compression",
                            false,
                            StrRule::one_of(&["NONE", "ZLIB", "SNAPPY"]),
                        )?,
                        bloom_filter_columns: o.list(
                            "BloomFilterColumns",
                            false,
                            0,
                            usize::MAX,
                            |l, i, v| l.element_string("BloomFilterColumns", i, v, NO_WHITESPACE),
                        )?,
                        bloom_filter_false_positive_probability: o.double(
                            "BloomFilterFalsePositiveProbability",
                            Some(0.0),
                            Some(1.0),
                        )?,
                        dictionary_key_threshold: o.double(
                            "DictionaryKeyThreshold",
                            Some(0.0),
                            Some(1.0),
                        )?,
                        format_version: o.string(
                            "FormatVersion",
                            false,
                            StrRule::one_of(&["V0_11", "V0_12"]),
                        )?,
                    })
                })?,
            })
        })
    })?;
    Ok(FormatConversion {
        enabled: d.boolean("Enabled")?,
        schema,
        input,
        output,
    })
}

fn opt_int(v: Option<i64>) -> Value {
    v.map_or(Value::Null, |i| Value::Int(i.into()))
}

fn opt_bool(v: Option<bool>) -> Value {
    v.map_or(Value::Null, Value::Bool)
}

fn opt_float(v: Option<f64>) -> Value {
    v.map_or(Value::Null, Value::Float)
}

fn opt_list(v: &Option<Vec<String>>) -> Value {
    v.as_ref().map_or(Value::Null, |l| {
        Value::List(l.iter().map(Value::str).collect())
    })
}

/// The configuration as DescribeDeliveryStream shows it (members as they were given).
pub fn describe(c: &FormatConversion) -> Value {
    let schema = c.schema.as_ref().map_or(Value::Null, |s| {
        Value::map([
            ("RoleARN", Value::opt_str(s.role_arn.clone())),
            ("CatalogId", Value::opt_str(s.catalog_id.clone())),
            ("DatabaseName", Value::opt_str(s.database_name.clone())),
            ("TableName", Value::opt_str(s.table_name.clone())),
            ("Region", Value::opt_str(s.region.clone())),
            ("VersionId", Value::opt_str(s.version_id.clone())),
        ])
    });
    let input = c.input.as_ref().map_or(Value::Null, |i| {
        let de = i.as_ref().map_or(Value::Null, |d| {
            Value::map([
                (
                    "OpenXJsonSerDe",
                    d.openx.as_ref().map_or(Value::Null, |o| {
                        Value::map([
                            (
                                "ConvertDotsInJsonKeysToUnderscores",
                                opt_bool(o.convert_dots_to_underscores),
                            ),
                            ("CaseInsensitive", opt_bool(o.case_insensitive)),
                            (
                                "ColumnToJsonKeyMappings",
                                o.column_to_json_key_mappings
                                    .as_ref()
                                    .map_or(Value::Null, |m| {
                                        Value::Map(
                                            m.iter()
                                                .map(|(k, v)| (k.clone().into(), Value::str(v)))
                                                .collect(),
                                        )
                                    }),
                            ),
                        ])
                    }),
                ),
                (
                    "HiveJsonSerDe",
                    d.hive.as_ref().map_or(Value::Null, |h| {
                        Value::map([("TimestampFormats", opt_list(&h.timestamp_formats))])
                    }),
                ),
            ])
        });
        Value::map([("Deserializer", de)])
    });
    let output = c.output.as_ref().map_or(Value::Null, |o| {
        let ser = o.as_ref().map_or(Value::Null, |s| {
            Value::map([
                (
                    "ParquetSerDe",
                    s.parquet.as_ref().map_or(Value::Null, |p| {
                        Value::map([
                            ("BlockSizeBytes", opt_int(p.block_size_bytes)),
                            ("PageSizeBytes", opt_int(p.page_size_bytes)),
                            ("Compression", Value::opt_str(p.compression.clone())),
                            (
                                "EnableDictionaryCompression",
                                opt_bool(p.enable_dictionary_compression),
                            ),
                            ("MaxPaddingBytes", opt_int(p.max_padding_bytes)),
                            ("WriterVersion", Value::opt_str(p.writer_version.clone())),
                        ])
                    }),
                ),
                (
                    "OrcSerDe",
                    s.orc.as_ref().map_or(Value::Null, |o| {
                        Value::map([
                            ("StripeSizeBytes", opt_int(o.stripe_size_bytes)),
                            ("BlockSizeBytes", opt_int(o.block_size_bytes)),
                            ("RowIndexStride", opt_int(o.row_index_stride)),
                            ("EnablePadding", opt_bool(o.enable_padding)),
                            ("PaddingTolerance", opt_float(o.padding_tolerance)),
                            ("Compression", Value::opt_str(o.compression.clone())),
                            ("BloomFilterColumns", opt_list(&o.bloom_filter_columns)),
                            (
                                "BloomFilterFalsePositiveProbability",
                                opt_float(o.bloom_filter_false_positive_probability),
                            ),
                            (
                                "DictionaryKeyThreshold",
                                opt_float(o.dictionary_key_threshold),
                            ),
                            ("FormatVersion", Value::opt_str(o.format_version.clone())),
                        ])
                    }),
                ),
            ])
        });
        Value::map([("Serializer", ser)])
    });
    Value::map([
        ("SchemaConfiguration", schema),
        ("InputFormatConfiguration", input),
        ("OutputFormatConfiguration", output),
        ("Enabled", Value::Bool(c.is_enabled())),
    ])
}
