//! DataFormatConversionConfiguration as given: every member optional, kept as sent (AWS
//! describes it back that way), defaults applied where it is used.

use serde::{Deserialize, Serialize};

/// DataFormatConversionConfiguration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct FormatConversion {
    /// `None`: not given, which means enabled.
    pub enabled: Option<bool>,
    pub schema: Option<SchemaConfiguration>,
    /// InputFormatConfiguration (`Some(None)`: given without a Deserializer).
    pub input: Option<Option<DeserializerConfig>>,
    /// OutputFormatConfiguration (`Some(None)`: given without a Serializer).
    pub output: Option<Option<SerializerConfig>>,
}

/// SchemaConfiguration: the Glue table whose columns the output has.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct SchemaConfiguration {
    pub role_arn: Option<String>,
    pub catalog_id: Option<String>,
    pub database_name: Option<String>,
    pub table_name: Option<String>,
    pub region: Option<String>,
    pub version_id: Option<String>,
}

impl SchemaConfiguration {
    /// Members given replace the current ones.
    pub fn merge(&self, update: &SchemaConfiguration) -> SchemaConfiguration {
        let pick = |new: &Option<String>, old: &Option<String>| new.clone().or_else(|| old.clone());
        SchemaConfiguration {
            role_arn: pick(&update.role_arn, &self.role_arn),
            catalog_id: pick(&update.catalog_id, &self.catalog_id),
            database_name: pick(&update.database_name, &self.database_name),
            table_name: pick(&update.table_name, &self.table_name),
            region: pick(&update.region, &self.region),
            version_id: pick(&update.version_id, &self.version_id),
        }
    }
}

/// Deserializer: both members may be given (which Firehose refuses).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct DeserializerConfig {
    pub openx: Option<OpenXJsonSerDe>,
    pub hive: Option<HiveJsonSerDe>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct OpenXJsonSerDe {
    pub convert_dots_to_underscores: Option<bool>,
    pub case_insensitive: Option<bool>,
    /// column → JSON key, in the order given.
    pub column_to_json_key_mappings: Option<Vec<(String, String)>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct HiveJsonSerDe {
    pub timestamp_formats: Option<Vec<String>>,
}

/// Serializer: both members may be given (which Firehose refuses).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct SerializerConfig {
    pub parquet: Option<ParquetSerDe>,
    pub orc: Option<OrcSerDe>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct ParquetSerDe {
    pub block_size_bytes: Option<i64>,
    pub page_size_bytes: Option<i64>,
    /// UNCOMPRESSED, GZIP or SNAPPY (the default).
    pub compression: Option<String>,
    pub enable_dictionary_compression: Option<bool>,
    pub max_padding_bytes: Option<i64>,
    /// V1 (the default) or V2.
    pub writer_version: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct OrcSerDe {
    pub stripe_size_bytes: Option<i64>,
    pub block_size_bytes: Option<i64>,
    pub row_index_stride: Option<i64>,
    pub enable_padding: Option<bool>,
    pub padding_tolerance: Option<f64>,
    /// NONE, ZLIB or SNAPPY (the default).
    pub compression: Option<String>,
    pub bloom_filter_columns: Option<Vec<String>>,
    pub bloom_filter_false_positive_probability: Option<f64>,
    pub dictionary_key_threshold: Option<f64>,
    /// V0_11 or V0_12 (the default).
    pub format_version: Option<String>,
}

/// The deserializer in use.
pub enum Deserializer<'a> {
    OpenX(&'a OpenXJsonSerDe),
    Hive(&'a HiveJsonSerDe),
}

/// The serializer in use.
#[derive(Debug, Clone)]
pub enum Serializer {
    Parquet(ParquetSerDe),
    Orc(OrcSerDe),
}

impl FormatConversion {
    /// Enabled unless `Enabled` is false.
    pub fn is_enabled(&self) -> bool {
        self.enabled != Some(false)
    }

    pub fn deserializer(&self) -> Option<Deserializer<'_>> {
        let d = self.input.as_ref()?.as_ref()?;
        match (&d.openx, &d.hive) {
            (Some(o), None) => Some(Deserializer::OpenX(o)),
            (None, Some(h)) => Some(Deserializer::Hive(h)),
            _ => None,
        }
    }

    pub fn serializer(&self) -> Option<Serializer> {
        let s = self.output.as_ref()?.as_ref()?;
        match (&s.parquet, &s.orc) {
            (Some(p), None) => Some(Serializer::Parquet(p.clone())),
            (None, Some(o)) => Some(Serializer::Orc(o.clone())),
            _ => None,
        }
    }

    /// An UpdateDestination's configuration merged into this one: Enabled and the format
    /// configurations replace, SchemaConfiguration merges member by member.
    pub fn merge(&self, update: &FormatConversion) -> FormatConversion {
        FormatConversion {
            enabled: update.enabled.or(self.enabled),
            schema: match (&self.schema, &update.schema) {
                (Some(old), Some(new)) => Some(old.merge(new)),
                (old, new) => new.clone().or_else(|| old.clone()),
            },
            input: update.input.clone().or_else(|| self.input.clone()),
            output: update.output.clone().or_else(|| self.output.clone()),
        }
    }

    /// Firehose's checks of an enabled conversion, in its order (the destination's compression
    /// and buffer size are checked by the caller first). The message of the first failing one.
    pub fn check(&self) -> Result<(), String> {
        if !self.is_enabled() {
            return Ok(());
        }
        let Some(input) = &self.input else {
            return Err("InputFormatConfiguration must not be null".into());
        };
        let Some(output) = &self.output else {
            return Err("OutputFormatConfiguration must not be null".into());
        };
        let Some(schema) = &self.schema else {
            return Err("SchemaConfiguration must not be null".into());
        };
        match input {
            Some(d) if d.openx.is_some() && d.hive.is_some() => {
                return Err("More than one deserializer specified. Only one may be chosen.".into())
            }
            Some(d) if d.openx.is_some() || d.hive.is_some() => {}
            _ => return Err("Deserializer must not be null".into()),
        }
        match output {
            Some(s) if s.parquet.is_some() && s.orc.is_some() => {
                return Err("More than one serializer specified. Only one may be chosen.".into())
            }
            Some(s) if s.parquet.is_some() || s.orc.is_some() => {}
            _ => return Err("Serializer must not be null".into()),
        }
        for (member, v) in [
            ("RoleArn", &schema.role_arn),
            ("DatabaseName", &schema.database_name),
            ("TableName", &schema.table_name),
        ] {
            if v.as_deref().is_none_or(str::is_empty) {
                return Err(format!(
                    "SchemaConfiguration.{member} must not be null or empty"
                ));
            }
        }
        Ok(())
    }
}
