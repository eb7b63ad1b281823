//! The vocabulary of delivery streams: sources, S3 destinations, buffering, compression,
//! processors. Plain Rust types, persisted in the delivery catalog as JSON.

use serde::{Deserialize, Serialize};

use crate::conversion::FormatConversion;

/// Where a delivery stream's records come from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Source {
    /// PutRecord / PutRecordBatch (kept durably in Weir's own log).
    DirectPut { throughput_hint_mb: Option<u32> },
    /// A Kinesis data stream, read from where it was at creation (LATEST).
    KinesisStream {
        stream_arn: String,
        role_arn: String,
    },
    /// An MSK topic: Weir's Kafka front door keeps a topic as the stream of that name in the
    /// cluster's region. Read from `read_from_ms` (the creation time unless asked).
    Msk {
        cluster_arn: String,
        /// The region of Weir's Kafka broker, where the topic's stream is.
        region: String,
        topic: String,
        role_arn: String,
        connectivity: String,
        read_from_ms: i64,
    },
}

impl Source {
    pub fn type_name(&self) -> &'static str {
        match self {
            Source::DirectPut { .. } => "DirectPut",
            Source::KinesisStream { .. } => "KinesisStreamAsSource",
            Source::Msk { .. } => "MSKAsSource",
        }
    }
}

/// CompressionFormat.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum Compression {
    #[default]
    Uncompressed,
    Gzip,
    Zip,
    Snappy,
    HadoopSnappy,
}

impl Compression {
    pub const NAMES: &'static [&'static str] =
        &["UNCOMPRESSED", "GZIP", "ZIP", "Snappy", "HADOOP_SNAPPY"];

    pub fn parse(s: &str) -> Option<Compression> {
        Some(match s {
            "UNCOMPRESSED" => Compression::Uncompressed,
            "GZIP" => Compression::Gzip,
            "ZIP" => Compression::Zip,
            "Snappy" => Compression::Snappy,
            "HADOOP_SNAPPY" => Compression::HadoopSnappy,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Compression::Uncompressed => "UNCOMPRESSED",
            Compression::Gzip => "GZIP",
            Compression::Zip => "ZIP",
            Compression::Snappy => "Snappy",
            Compression::HadoopSnappy => "HADOOP_SNAPPY",
        }
    }

    /// The object key's extension when no FileExtension is configured.
    pub fn extension(self) -> &'static str {
        match self {
            Compression::Uncompressed => "",
            Compression::Gzip => ".gz",
            Compression::Zip => ".zip",
            Compression::Snappy | Compression::HadoopSnappy => ".snappy",
        }
    }

    /// The object's Content-Encoding.
    pub fn content_encoding(self) -> Option<&'static str> {
        match self {
            Compression::Uncompressed => None,
            Compression::Gzip => Some("gzip"),
            Compression::Zip => Some("zip"),
            Compression::Snappy => Some("snappy"),
            Compression::HadoopSnappy => Some("hadoop-snappy"),
        }
    }
}

/// BufferingHints: deliver when either is reached, whichever first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Buffering {
    pub size_mb: u32,
    pub interval_s: u32,
}

impl Default for Buffering {
    fn default() -> Self {
        Buffering {
            size_mb: 5,
            interval_s: 300,
        }
    }
}

/// One processor of a ProcessingConfiguration, with its parameters as given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Processor {
    pub kind: String,
    pub parameters: Vec<(String, String)>,
}

impl Processor {
    pub fn parameter(&self, name: &str) -> Option<&str> {
        self.parameters
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// ProcessingConfiguration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Processing {
    pub enabled: Option<bool>,
    pub processors: Vec<Processor>,
}

impl Processing {
    /// The processors that run (none when processing is disabled).
    pub fn active(&self) -> &[Processor] {
        if self.enabled == Some(true) {
            &self.processors
        } else {
            &[]
        }
    }
}

/// CloudWatchLoggingOptions (kept and described; Weir logs through `tracing`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct CloudWatchLogging {
    pub enabled: Option<bool>,
    pub log_group_name: Option<String>,
    pub log_stream_name: Option<String>,
}

/// DynamicPartitioningConfiguration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct DynamicPartitioning {
    pub enabled: Option<bool>,
    pub retry_duration_s: Option<u32>,
}

/// An S3 destination (ExtendedS3, or the plain S3 one used for backups).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct S3Destination {
    pub role_arn: String,
    pub bucket_arn: String,
    pub prefix: Option<String>,
    pub error_output_prefix: Option<String>,
    pub buffering: Buffering,
    pub compression: Compression,
    /// A KMS key ARN (`KMSEncryptionConfig`), or `None` for `NoEncryption`.
    pub kms_key_arn: Option<String>,
    pub cloudwatch: Option<CloudWatchLogging>,
    pub processing: Option<Processing>,
    /// S3BackupMode `Enabled` with its backup destination.
    pub backup: Option<Box<S3Destination>>,
    pub backup_enabled: bool,
    pub dynamic_partitioning: Option<DynamicPartitioning>,
    pub file_extension: Option<String>,
    pub custom_time_zone: Option<String>,
    /// DataFormatConversionConfiguration, as given.
    pub format_conversion: Option<FormatConversion>,
}

impl S3Destination {
    /// The bucket's name from `arn:aws:s3:::name`.
    pub fn bucket(&self) -> &str {
        self.bucket_arn
            .rsplit_once(":::")
            .map_or(self.bucket_arn.as_str(), |(_, b)| b)
    }

    /// The extension delivered objects end with.
    pub fn extension(&self) -> &str {
        self.file_extension
            .as_deref()
            .filter(|e| !e.is_empty())
            .unwrap_or(self.compression.extension())
    }

    pub fn processors(&self) -> &[Processor] {
        self.processing.as_ref().map_or(&[], |p| p.active())
    }

    /// The processing view of an HTTP endpoint destination whose S3 configuration this is:
    /// the endpoint's processors and buffering hints, no dynamic partitioning.
    pub fn for_http(&self, h: &HttpEndpoint) -> S3Destination {
        S3Destination {
            buffering: h.buffering,
            processing: h.processing.clone(),
            dynamic_partitioning: None,
            ..self.clone()
        }
    }

    /// The record format conversion in effect (configured and enabled).
    pub fn conversion(&self) -> Option<&FormatConversion> {
        self.format_conversion.as_ref().filter(|c| c.is_enabled())
    }

    pub fn partitioning_enabled(&self) -> bool {
        self.dynamic_partitioning
            .as_ref()
            .is_some_and(|d| d.enabled == Some(true))
    }
}

/// An ExtendedS3DestinationUpdate / S3DestinationUpdate: members given replace, others stay.
#[derive(Debug, Clone, Default)]
pub struct S3Update {
    pub role_arn: Option<String>,
    pub bucket_arn: Option<String>,
    pub prefix: Option<String>,
    pub error_output_prefix: Option<String>,
    pub size_mb: Option<u32>,
    pub interval_s: Option<u32>,
    pub compression: Option<Compression>,
    /// `Some(None)`: NoEncryption; `Some(Some(arn))`: KMS.
    pub kms_key_arn: Option<Option<String>>,
    pub cloudwatch: Option<CloudWatchLogging>,
    pub processing: Option<Processing>,
    pub backup_enabled: Option<bool>,
    pub backup: Option<Box<S3Update>>,
    pub dynamic_partitioning: Option<DynamicPartitioning>,
    pub file_extension: Option<String>,
    pub custom_time_zone: Option<String>,
    pub format_conversion: Option<FormatConversion>,
}

impl S3Update {
    /// The destination after this update (merge: given members replace the current ones).
    pub fn apply(self, current: &S3Destination) -> S3Destination {
        let mut d = current.clone();
        if let Some(v) = self.role_arn {
            d.role_arn = v;
        }
        if let Some(v) = self.bucket_arn {
            d.bucket_arn = v;
        }
        if let Some(v) = self.prefix {
            d.prefix = Some(v);
        }
        if let Some(v) = self.error_output_prefix {
            d.error_output_prefix = Some(v);
        }
        if let Some(v) = self.size_mb {
            d.buffering.size_mb = v;
        }
        if let Some(v) = self.interval_s {
            d.buffering.interval_s = v;
        }
        if let Some(v) = self.compression {
            d.compression = v;
        }
        if let Some(v) = self.kms_key_arn {
            d.kms_key_arn = v;
        }
        if let Some(v) = self.cloudwatch {
            d.cloudwatch = Some(v);
        }
        if let Some(v) = self.processing {
            d.processing = Some(v);
        }
        if let Some(v) = self.backup_enabled {
            d.backup_enabled = v;
        }
        if let Some(update) = self.backup {
            d.backup = match d.backup.take() {
                Some(b) => Some(Box::new(update.apply(&b))),
                None => Some(Box::new(update.apply(&S3Destination::empty()))),
            };
        }
        if let Some(v) = self.dynamic_partitioning {
            d.dynamic_partitioning = Some(v);
        }
        if let Some(v) = self.file_extension {
            d.file_extension = Some(v);
        }
        if let Some(v) = self.format_conversion {
            d.format_conversion = Some(match &d.format_conversion {
                Some(current) => current.merge(&v),
                None => v,
            });
        }
        if let Some(v) = self.custom_time_zone {
            d.custom_time_zone = Some(v);
        }
        d
    }
}

impl S3Destination {
    /// A destination with nothing set (the base an update of an absent backup applies to).
    pub fn empty() -> S3Destination {
        S3Destination {
            role_arn: String::new(),
            bucket_arn: String::new(),
            prefix: None,
            error_output_prefix: None,
            buffering: Buffering::default(),
            compression: Compression::Uncompressed,
            kms_key_arn: None,
            cloudwatch: None,
            processing: None,
            backup: None,
            backup_enabled: false,
            dynamic_partitioning: None,
            file_extension: None,
            custom_time_zone: None,
            format_conversion: None,
        }
    }
}

/// An HTTP endpoint destination (HttpEndpointDestinationConfiguration). Its S3Configuration is
/// the stream's `S3Destination`: where failed data (and, with `backup_all`, all data) goes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HttpEndpoint {
    pub url: String,
    pub name: Option<String>,
    pub access_key: Option<String>,
    pub buffering: Buffering,
    /// ContentEncoding GZIP (else NONE).
    pub gzip: bool,
    pub common_attributes: Vec<(String, String)>,
    pub processing: Option<Processing>,
    pub role_arn: Option<String>,
    /// RetryOptions.DurationInSeconds (default 300).
    pub retry_duration_s: u32,
    /// S3BackupMode AllData (else FailedDataOnly).
    pub backup_all: bool,
    pub cloudwatch: Option<CloudWatchLogging>,
}

impl HttpEndpoint {
    /// Buffering hints of HTTP endpoint destinations when none are given.
    pub const DEFAULT_BUFFERING: Buffering = Buffering {
        size_mb: 5,
        interval_s: 300,
    };

    /// An endpoint with nothing set but the defaults (what a configuration applies to).
    pub fn empty() -> HttpEndpoint {
        HttpEndpoint {
            url: String::new(),
            name: None,
            access_key: None,
            buffering: Self::DEFAULT_BUFFERING,
            gzip: false,
            common_attributes: Vec::new(),
            processing: None,
            role_arn: None,
            retry_duration_s: 300,
            backup_all: false,
            cloudwatch: None,
        }
    }
}

/// An HttpEndpointDestinationUpdate: members given replace, others stay.
#[derive(Debug, Clone, Default)]
pub struct HttpUpdate {
    pub url: Option<String>,
    pub name: Option<String>,
    pub access_key: Option<String>,
    pub size_mb: Option<u32>,
    pub interval_s: Option<u32>,
    pub gzip: Option<bool>,
    pub common_attributes: Option<Vec<(String, String)>>,
    pub processing: Option<Processing>,
    pub role_arn: Option<String>,
    pub retry_duration_s: Option<u32>,
    pub backup_all: Option<bool>,
    pub cloudwatch: Option<CloudWatchLogging>,
    pub s3: Option<S3Update>,
}

impl HttpUpdate {
    pub fn apply(self, h: &HttpEndpoint) -> HttpEndpoint {
        let mut h = h.clone();
        macro_rules! set {
            ($($f:ident),*) => { $( if let Some(v) = self.$f { h.$f = v; } )* };
        }
        set!(url, gzip, common_attributes, retry_duration_s, backup_all);
        if let Some(v) = self.size_mb {
            h.buffering.size_mb = v;
        }
        if let Some(v) = self.interval_s {
            h.buffering.interval_s = v;
        }
        if self.name.is_some() {
            h.name = self.name;
        }
        if self.access_key.is_some() {
            h.access_key = self.access_key;
        }
        if self.processing.is_some() {
            h.processing = self.processing;
        }
        if self.role_arn.is_some() {
            h.role_arn = self.role_arn;
        }
        if self.cloudwatch.is_some() {
            h.cloudwatch = self.cloudwatch;
        }
        h
    }
}

/// Server-side encryption of a delivery stream (Start/StopDeliveryStreamEncryption).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StreamEncryption {
    /// `AWS_OWNED_CMK` or `CUSTOMER_MANAGED_CMK`.
    pub key_type: String,
    pub key_arn: Option<String>,
    pub enabled: bool,
}

/// Status of a delivery stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Creating,
    Active,
    Deleting,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Creating => "CREATING",
            Status::Active => "ACTIVE",
            Status::Deleting => "DELETING",
        }
    }
}

/// A delivery stream as described.
#[derive(Debug, Clone)]
pub struct StreamInfo {
    pub name: String,
    pub arn: String,
    pub status: Status,
    pub source: Source,
    pub version_id: u64,
    pub created_ms: i64,
    pub updated_ms: Option<i64>,
    pub destination_id: String,
    pub destination: S3Destination,
    /// Set for an HTTP endpoint destination (`destination` is then its S3 configuration).
    pub http: Option<HttpEndpoint>,
    pub encryption: Option<StreamEncryption>,
    /// When a Kinesis source started being read.
    pub delivery_start_ms: i64,
}

/// CreateDeliveryStream.
#[derive(Debug, Clone)]
pub struct CreateRequest {
    pub region: String,
    pub name: String,
    pub source: Source,
    pub destination: S3Destination,
    pub http: Option<HttpEndpoint>,
    pub tags: Vec<(String, String)>,
    pub encryption: Option<StreamEncryption>,
}
