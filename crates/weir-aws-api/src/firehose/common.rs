//! Member rules of the Firehose model, the destination readers shared by CreateDeliveryStream
//! and UpdateDestination, and the description writer.

use weir_delivery::{
    CloudWatchLogging, Compression, DynamicPartitioning, Processing, Processor, S3Destination,
    S3Update, Source, StreamInfo,
};

use crate::error::ApiError;
use crate::input::{is_name, Input, StrRule};
use crate::value::Value;

pub const STREAM_NAME: StrRule = StrRule::len(1, 64).pattern("[a-zA-Z0-9_.-]+", is_name);
pub const ROLE_ARN: StrRule = StrRule::len(1, 512).pattern(
    "arn:.*:iam::\\d{12}:role/[a-zA-Z_0-9+=,.@\\-_/]+",
    is_role_arn,
);
pub const BUCKET_ARN: StrRule =
    StrRule::len(1, 2048).pattern("arn:.*:s3:::[\\w\\.\\-]{1,255}", is_bucket_arn);
pub const KMS_KEY_ARN: StrRule = StrRule::len(1, 512).pattern(
    "arn:.*:kms:[a-zA-Z0-9\\-]+:\\d{12}:(key|alias)/[a-zA-Z_0-9+=,.@\\-_/]+",
    is_kms_arn,
);
pub const KINESIS_ARN: StrRule = StrRule::len(1, 512).pattern(
    "arn:.*:kinesis:[a-zA-Z0-9\\-]+:\\d{12}:stream/[a-zA-Z0-9_.-]+",
    is_kinesis_arn,
);
pub const PREFIX: StrRule = StrRule::len(0, 1024);
pub const MSK_CLUSTER_ARN: StrRule =
    StrRule::len(1, 512).pattern("arn:.*", |s| s.starts_with("arn:"));
pub const TOPIC_NAME: StrRule = StrRule::len(1, 255).pattern("[a-zA-Z0-9\\._\\-]+", |s| {
    s.bytes()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'-'))
});
pub const DESTINATION_ID: StrRule = StrRule::len(1, 100).pattern("[a-zA-Z0-9-]+", |s| {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
});
pub const VERSION_ID: StrRule = StrRule::len(1, 50).pattern("[0-9]+", |s| {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
});
pub const TAG_KEY: StrRule = StrRule::len(1, 128)
    .pattern("^(?!aws:)[\\p{L}\\p{Z}\\p{N}_.:\\/=+\\-@%]*$", |s| {
        !s.starts_with("aws:") && is_tag_text(s)
    });
pub const TAG_VALUE: StrRule =
    StrRule::len(0, 256).pattern("^[\\p{L}\\p{Z}\\p{N}_.:\\/=+\\-@%]*$", is_tag_text);
pub const SOURCE_TYPES: &[&str] = &[
    "DirectPut",
    "KinesisStreamAsSource",
    "MSKAsSource",
    "DatabaseAsSource",
];

fn is_tag_text(s: &str) -> bool {
    s.chars()
        .all(|c| c.is_alphanumeric() || c.is_whitespace() || "_.:/=+-@%".contains(c))
}

fn arn_parts(s: &str, service: &str) -> Option<(String, String, String)> {
    let rest = s.strip_prefix("arn:")?;
    let (_partition, rest) = rest.split_once(':')?;
    let rest = rest.strip_prefix(service)?.strip_prefix(':')?;
    let (region, rest) = rest.split_once(':')?;
    let (account, resource) = rest.split_once(':')?;
    Some((region.into(), account.into(), resource.into()))
}

fn is_account(a: &str) -> bool {
    a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit())
}

fn is_role_arn(s: &str) -> bool {
    arn_parts(s, "iam").is_some_and(|(region, account, res)| {
        region.is_empty()
            && is_account(&account)
            && res.strip_prefix("role/").is_some_and(|r| {
                !r.is_empty()
                    && r.chars()
                        .all(|c| c.is_ascii_alphanumeric() || "_+=,.@-/".contains(c))
            })
    })
}

fn is_bucket_arn(s: &str) -> bool {
    s.strip_prefix("arn:")
        .and_then(|r| r.split_once(":s3:::"))
        .is_some_and(|(_, b)| {
            (1..=255).contains(&b.len())
                && b.chars()
                    .all(|c| c.is_alphanumeric() || c == '_' || c == '.' || c == '-')
        })
}

fn is_kms_arn(s: &str) -> bool {
    arn_parts(s, "kms").is_some_and(|(region, account, res)| {
        !region.is_empty()
            && is_account(&account)
            && (res.starts_with("key/") || res.starts_with("alias/"))
    })
}

fn is_kinesis_arn(s: &str) -> bool {
    arn_parts(s, "kinesis").is_some_and(|(region, account, res)| {
        !region.is_empty()
            && is_account(&account)
            && res.strip_prefix("stream/").is_some_and(is_name)
    })
}

fn unsupported(what: &str) -> ApiError {
    ApiError::invalid_argument(format!("{what} is not supported by Weir."))
}

/// An S3 destination configuration or update (`extended` adds the ExtendedS3 members).
/// `create` makes RoleARN and BucketARN required.
pub fn read_s3(inp: &mut Input, extended: bool, create: bool) -> Result<S3Update, ApiError> {
    let mut u = S3Update {
        role_arn: inp.string("RoleARN", create, ROLE_ARN)?,
        bucket_arn: inp.string("BucketARN", create, BUCKET_ARN)?,
        prefix: inp.string("Prefix", false, PREFIX)?,
        error_output_prefix: inp.string("ErrorOutputPrefix", false, PREFIX)?,
        ..S3Update::default()
    };
    if let Some((size, interval)) = inp.structure("BufferingHints", |b| {
        Ok((
            b.int("SizeInMBs", false, Some(1), Some(128))?,
            b.int("IntervalInSeconds", false, Some(0), Some(900))?,
        ))
    })? {
        u.size_mb = size.map(|v| v as u32);
        u.interval_s = interval.map(|v| v as u32);
    }
    if let Some(c) = inp.string(
        "CompressionFormat",
        false,
        StrRule::one_of(Compression::NAMES),
    )? {
        u.compression = Some(Compression::parse(&c).unwrap_or_default());
    }
    u.kms_key_arn = inp.structure("EncryptionConfiguration", |e| {
        e.string(
            "NoEncryptionConfig",
            false,
            StrRule::one_of(&["NoEncryption"]),
        )?;
        let kms = e.structure("KMSEncryptionConfig", |k| {
            k.string("AWSKMSKeyARN", true, KMS_KEY_ARN)
        })?;
        Ok(kms.flatten())
    })?;
    u.cloudwatch = read_cloudwatch(inp)?;
    if !extended {
        return Ok(u);
    }
    u.processing = inp.structure("ProcessingConfiguration", read_processing)?;
    if let Some(mode) = inp.string(
        "S3BackupMode",
        false,
        StrRule::one_of(&["Disabled", "Enabled"]),
    )? {
        u.backup_enabled = Some(mode == "Enabled");
    }
    let backup = if create {
        "S3BackupConfiguration"
    } else {
        "S3BackupUpdate"
    };
    if let Some(b) = inp.structure(backup, |b| read_s3(b, false, create))? {
        u.backup = Some(Box::new(b));
    }
    u.format_conversion =
        inp.structure("DataFormatConversionConfiguration", super::conversion::read)?;
    u.dynamic_partitioning = inp.structure("DynamicPartitioningConfiguration", |d| {
        let retry = d.structure("RetryOptions", |r| {
            r.int("DurationInSeconds", false, Some(0), Some(7200))
        })?;
        Ok(DynamicPartitioning {
            enabled: d.boolean("Enabled")?,
            retry_duration_s: retry.flatten().map(|v| v as u32),
        })
    })?;
    // With dynamic partitioning, the buffer size defaults to its minimum, 64 MB.
    let partitioning = u
        .dynamic_partitioning
        .as_ref()
        .is_some_and(|d| d.enabled == Some(true));
    // With record format conversion, it defaults to 128 MB.
    let converting = u.format_conversion.as_ref().is_some_and(|c| c.is_enabled());
    if create && u.size_mb.is_none() {
        if converting {
            u.size_mb = Some(128);
        } else if partitioning {
            u.size_mb = Some(64);
        }
    }
    u.file_extension = inp.string(
        "FileExtension",
        false,
        StrRule::len(0, 128).pattern("^$|\\.[0-9a-z!\\-_.*'()]+", |s| {
            s.is_empty()
                || (s.starts_with('.')
                    && s.len() > 1
                    && s[1..].chars().all(|c| {
                        c.is_ascii_digit() || c.is_ascii_lowercase() || "!-_.*'()".contains(c)
                    }))
        }),
    )?;
    u.custom_time_zone = inp.string(
        "CustomTimeZone",
        false,
        StrRule::len(0, 50).pattern("^$|[a-zA-Z/_]+", |s| {
            s.chars()
                .all(|c| c.is_ascii_alphabetic() || c == '/' || c == '_')
        }),
    )?;
    Ok(u)
}

/// CloudWatchLoggingOptions (kept and described).
pub fn read_cloudwatch(inp: &mut Input) -> Result<Option<CloudWatchLogging>, ApiError> {
    inp.structure("CloudWatchLoggingOptions", |c| {
        Ok(CloudWatchLogging {
            enabled: c.boolean("Enabled")?,
            log_group_name: c.string("LogGroupName", false, StrRule::len(0, 512))?,
            log_stream_name: c.string("LogStreamName", false, StrRule::len(0, 512))?,
        })
    })
}

const PROCESSOR_TYPES: &[&str] = &[
    "RecordDeAggregation",
    "Decompression",
    "CloudWatchLogProcessing",
    "Lambda",
    "MetadataExtraction",
    "AppendDelimiterToRecord",
];
const PARAMETER_NAMES: &[&str] = &[
    "LambdaArn",
    "NumberOfRetries",
    "MetadataExtractionQuery",
    "JsonParsingEngine",
    "RoleArn",
    "BufferSizeInMBs",
    "BufferIntervalInSeconds",
    "SubRecordType",
    "Delimiter",
    "CompressionFormat",
    "DataMessageExtraction",
];

pub fn read_processing(p: &mut Input) -> Result<Processing, ApiError> {
    let enabled = p.boolean("Enabled")?;
    let processors = p
        .list("Processors", false, 0, usize::MAX, |inp, i, v| {
            inp.member_struct("Processors", i, v, |pr| {
                let kind = pr.string("Type", true, StrRule::one_of(PROCESSOR_TYPES))?;
                let parameters = pr
                    .list("Parameters", false, 0, usize::MAX, |inp, j, v| {
                        inp.member_struct("Parameters", j, v, |pp| {
                            let n =
                                pp.string("ParameterName", true, StrRule::one_of(PARAMETER_NAMES))?;
                            let v = pp.string("ParameterValue", true, StrRule::len(1, 5120))?;
                            Ok(n.zip(v))
                        })
                    })?
                    .unwrap_or_default();
                Ok(kind.map(|kind| Processor { kind, parameters }))
            })
        })?
        .unwrap_or_default();
    let processing = Processing {
        enabled,
        processors,
    };
    const SUPPORTED: &[&str] = &[
        "AppendDelimiterToRecord",
        "Lambda",
        "MetadataExtraction",
        "RecordDeAggregation",
    ];
    for pr in processing.active() {
        if !SUPPORTED.contains(&pr.kind.as_str()) {
            return Err(unsupported(&format!("The {} processor", pr.kind)));
        }
    }
    Ok(processing)
}

/// The members of an S3 destination description.
pub fn s3_members(d: &S3Destination, extended: bool) -> Vec<(&'static str, Value)> {
    let mut m = vec![
        ("RoleARN", Value::str(&d.role_arn)),
        ("BucketARN", Value::str(&d.bucket_arn)),
        ("Prefix", Value::opt_str(d.prefix.clone())),
        (
            "ErrorOutputPrefix",
            Value::opt_str(d.error_output_prefix.clone()),
        ),
        (
            "BufferingHints",
            Value::map([
                ("SizeInMBs", Value::Int(d.buffering.size_mb.into())),
                (
                    "IntervalInSeconds",
                    Value::Int(d.buffering.interval_s.into()),
                ),
            ]),
        ),
        ("CompressionFormat", Value::str(d.compression.as_str())),
        (
            "EncryptionConfiguration",
            match &d.kms_key_arn {
                Some(arn) => Value::map([(
                    "KMSEncryptionConfig",
                    Value::map([("AWSKMSKeyARN", Value::str(arn))]),
                )]),
                None => Value::map([("NoEncryptionConfig", Value::str("NoEncryption"))]),
            },
        ),
        (
            "CloudWatchLoggingOptions",
            match &d.cloudwatch {
                Some(c) => Value::map([
                    ("Enabled", Value::Bool(c.enabled.unwrap_or(false))),
                    ("LogGroupName", Value::opt_str(c.log_group_name.clone())),
                    ("LogStreamName", Value::opt_str(c.log_stream_name.clone())),
                ]),
                None => Value::map([("Enabled", Value::Bool(false))]),
            },
        ),
    ];
    if !extended {
        return m;
    }
    if let Some(p) = &d.processing {
        m.push(("ProcessingConfiguration", processing_value(p)));
    }
    m.push((
        "S3BackupMode",
        Value::str(if d.backup_enabled {
            "Enabled"
        } else {
            "Disabled"
        }),
    ));
    if let Some(b) = &d.backup {
        m.push(("S3BackupDescription", Value::map(s3_members(b, false))));
    }
    if let Some(dp) = &d.dynamic_partitioning {
        let mut members = vec![("Enabled", Value::Bool(dp.enabled.unwrap_or(false)))];
        if let Some(r) = dp.retry_duration_s {
            members.push((
                "RetryOptions",
                Value::map([("DurationInSeconds", Value::Int(r.into()))]),
            ));
        }
        m.push(("DynamicPartitioningConfiguration", Value::map(members)));
    }
    if let Some(c) = &d.format_conversion {
        m.push((
            "DataFormatConversionConfiguration",
            super::conversion::describe(c),
        ));
    }
    if let Some(e) = &d.file_extension {
        m.push(("FileExtension", Value::str(e)));
    }
    if let Some(z) = &d.custom_time_zone {
        m.push(("CustomTimeZone", Value::str(z)));
    }
    m
}

/// A ProcessingConfiguration as described.
pub fn processing_value(p: &Processing) -> Value {
    Value::map([
        ("Enabled", Value::Bool(p.enabled.unwrap_or(false))),
        (
            "Processors",
            Value::List(
                p.processors
                    .iter()
                    .map(|pr| {
                        Value::map([
                            ("Type", Value::str(&pr.kind)),
                            (
                                "Parameters",
                                Value::List(
                                    pr.parameters
                                        .iter()
                                        .map(|(k, v)| {
                                            Value::map([
                                                ("ParameterName", Value::str(k)),
                                                ("ParameterValue", Value::str(v)),
                                            ])
                                        })
                                        .collect(),
                                ),
                            ),
                        ])
                    })
                    .collect(),
            ),
        ),
    ])
}

/// DeliveryStreamDescription.
pub fn describe(info: &StreamInfo, limit: usize, after_destination: Option<&str>) -> Value {
    let source = match &info.source {
        Source::DirectPut {
            throughput_hint_mb: Some(h),
        } => Value::map([(
            "DirectPutSourceDescription",
            Value::map([("ThroughputHintInMBs", Value::Int((*h).into()))]),
        )]),
        Source::DirectPut { .. } => Value::Null,
        Source::Msk {
            cluster_arn,
            topic,
            role_arn,
            connectivity,
            read_from_ms,
            ..
        } => Value::map([(
            "MSKSourceDescription",
            Value::map([
                ("MSKClusterARN", Value::str(cluster_arn)),
                ("TopicName", Value::str(topic)),
                (
                    "AuthenticationConfiguration",
                    Value::map([
                        ("RoleARN", Value::str(role_arn)),
                        ("Connectivity", Value::str(connectivity)),
                    ]),
                ),
                (
                    "DeliveryStartTimestamp",
                    Value::Timestamp(info.delivery_start_ms),
                ),
                ("ReadFromTimestamp", Value::Timestamp(*read_from_ms)),
            ]),
        )]),
        Source::KinesisStream {
            stream_arn,
            role_arn,
        } => Value::map([(
            "KinesisStreamSourceDescription",
            Value::map([
                ("KinesisStreamARN", Value::str(stream_arn)),
                ("RoleARN", Value::str(role_arn)),
                (
                    "DeliveryStartTimestamp",
                    Value::Timestamp(info.delivery_start_ms),
                ),
            ]),
        )]),
    };
    let show = limit > 0 && after_destination.is_none_or(|id| id < info.destination_id.as_str());
    let destinations = if show {
        vec![match &info.http {
            Some(h) => Value::map([
                ("DestinationId", Value::str(&info.destination_id)),
                (
                    "HttpEndpointDestinationDescription",
                    super::http_endpoint::describe(h, &info.destination),
                ),
            ]),
            None => Value::map([
                ("DestinationId", Value::str(&info.destination_id)),
                (
                    "S3DestinationDescription",
                    Value::map(s3_members(&info.destination, false)),
                ),
                (
                    "ExtendedS3DestinationDescription",
                    Value::map(s3_members(&info.destination, true)),
                ),
            ]),
        }]
    } else {
        Vec::new()
    };
    let encryption = match &info.encryption {
        Some(e) => Value::map([
            ("KeyARN", Value::opt_str(e.key_arn.clone())),
            ("KeyType", Value::str(&e.key_type)),
            (
                "Status",
                Value::str(if e.enabled { "ENABLED" } else { "DISABLED" }),
            ),
        ]),
        None => Value::map([("Status", Value::str("DISABLED"))]),
    };
    Value::map([
        ("DeliveryStreamName", Value::str(&info.name)),
        ("DeliveryStreamARN", Value::str(&info.arn)),
        ("DeliveryStreamStatus", Value::str(info.status.as_str())),
        ("DeliveryStreamEncryptionConfiguration", encryption),
        ("DeliveryStreamType", Value::str(info.source.type_name())),
        ("VersionId", Value::Str(info.version_id.to_string())),
        ("CreateTimestamp", Value::Timestamp(info.created_ms)),
        (
            "LastUpdateTimestamp",
            info.updated_ms.map_or(Value::Null, Value::Timestamp),
        ),
        ("Source", source),
        ("Destinations", Value::List(destinations)),
        ("HasMoreDestinations", Value::Bool(false)),
    ])
}

/// A list of `{Key, Value}` tags.
pub fn read_tags(
    inp: &mut Input,
    name: &str,
    required: bool,
) -> Result<Option<Vec<(String, String)>>, ApiError> {
    inp.list(name, required, 1, 50, |inp, i, v| {
        inp.member_struct(name, i, v, |t| {
            let k = t.string("Key", true, TAG_KEY)?;
            let v = t.string("Value", false, TAG_VALUE)?;
            Ok(k.map(|k| (k, v.unwrap_or_default())))
        })
    })
}
