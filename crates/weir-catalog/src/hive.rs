//! Hive's storage classes as Glue tables name them: (input format, output format, SerDe) per
//! file format, and the SerDe libraries of text tables.

pub const PARQUET: (&str, &str, &str) = (
    "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
    "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
    "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe",
);
pub const TEXT: (&str, &str, &str) = (
    "org.apache.hadoop.mapred.TextInputFormat",
    "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
    "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe",
);
pub const ORC: (&str, &str, &str) = (
    "org.apache.hadoop.hive.ql.io.orc.OrcInputFormat",
    "org.apache.hadoop.hive.ql.io.orc.OrcOutputFormat",
    "org.apache.hadoop.hive.ql.io.orc.OrcSerde",
);
pub const AVRO: (&str, &str, &str) = (
    "org.apache.hadoop.hive.ql.io.avro.AvroContainerInputFormat",
    "org.apache.hadoop.hive.ql.io.avro.AvroContainerOutputFormat",
    "org.apache.hadoop.hive.serde2.avro.AvroSerDe",
);
/// The OpenX JSON SerDe (crawlers, Firehose).
pub const OPENX_JSON_SERDE: &str = "org.openx.data.jsonserde.JsonSerDe";
/// The Hive (HCatalog) JSON SerDe (Athena's CTAS).
pub const HIVE_JSON_SERDE: &str = "org.apache.hive.hcatalog.data.JsonSerDe";
pub const OPEN_CSV_SERDE: &str = "org.apache.hadoop.hive.serde2.OpenCSVSerde";

/// A SerDe of `library` with `serialization.format = 1`, as Hive writes binary formats'.
pub fn binary_serde(library: &str) -> crate::SerDeInfo {
    crate::SerDeInfo {
        serialization_library: Some(library.to_string()),
        parameters: [("serialization.format".to_string(), "1".to_string())].into(),
        ..Default::default()
    }
}
