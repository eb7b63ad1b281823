//! CreateDeliveryStream: DirectPut, KinesisStreamAsSource or MSKAsSource (a topic of Weir's
//! Kafka front door: the stream of that name), into an (Extended)S3 or HTTP destination.

use weir_delivery::{CreateRequest, S3Destination, Source, StreamEncryption};

use super::common::{
    read_s3, read_tags, KINESIS_ARN, KMS_KEY_ARN, MSK_CLUSTER_ARN, ROLE_ARN, SOURCE_TYPES,
    STREAM_NAME, TOPIC_NAME,
};
use crate::error::ApiError;
use crate::input::{Input, StrRule};
use crate::value::Value;
use crate::Ctx;

/// Destinations of the model that Weir does not deliver to.
const OTHER_DESTINATIONS: &[&str] = &[
    "RedshiftDestinationConfiguration",
    "ElasticsearchDestinationConfiguration",
    "AmazonopensearchserviceDestinationConfiguration",
    "SplunkDestinationConfiguration",
    "AmazonOpenSearchServerlessDestinationConfiguration",
    "SnowflakeDestinationConfiguration",
    "IcebergDestinationConfiguration",
];

pub async fn handle(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    let name = input.string("DeliveryStreamName", true, STREAM_NAME)?;
    let kind = input.string("DeliveryStreamType", false, StrRule::one_of(SOURCE_TYPES))?;
    let hint = input.structure("DirectPutSourceConfiguration", |d| {
        d.int("ThroughputHintInMBs", true, Some(1), Some(100))
    })?;
    let kinesis = input.structure("KinesisStreamSourceConfiguration", |k| {
        Ok((
            k.string("KinesisStreamARN", true, KINESIS_ARN)?,
            k.string("RoleARN", true, ROLE_ARN)?,
        ))
    })?;
    let msk = input.structure("MSKSourceConfiguration", |m| {
        let auth = m.structure("AuthenticationConfiguration", |a| {
            Ok((
                a.string("RoleARN", true, ROLE_ARN)?,
                a.string(
                    "Connectivity",
                    true,
                    StrRule::one_of(&["PUBLIC", "PRIVATE"]),
                )?,
            ))
        })?;
        Ok((
            m.string("MSKClusterARN", true, MSK_CLUSTER_ARN)?,
            m.string("TopicName", true, TOPIC_NAME)?,
            auth,
            m.timestamp("ReadFromTimestamp")?,
        ))
    })?;
    let encryption = input.structure("DeliveryStreamEncryptionConfigurationInput", |e| {
        Ok((
            e.string("KeyARN", false, KMS_KEY_ARN)?,
            e.string(
                "KeyType",
                true,
                StrRule::one_of(&["AWS_OWNED_CMK", "CUSTOMER_MANAGED_CMK"]),
            )?,
        ))
    })?;
    let plain = input.structure("S3DestinationConfiguration", |s| read_s3(s, false, true))?;
    let extended = input.structure("ExtendedS3DestinationConfiguration", |s| {
        read_s3(s, true, true)
    })?;
    let http = input.structure("HttpEndpointDestinationConfiguration", |h| {
        super::http_endpoint::read(h, true)
    })?;
    let tags = read_tags(&mut input, "Tags", false)?;
    let others: Vec<&str> = OTHER_DESTINATIONS
        .iter()
        .copied()
        .filter(|d| input.has(d))
        .collect();
    if input.has("DatabaseSourceConfiguration") {
        return Err(ApiError::invalid_argument(
            "DatabaseSourceConfiguration is not supported by Weir.",
        ));
    }
    input.finish()?;
    if let Some(d) = others.first() {
        return Err(ApiError::invalid_argument(format!(
            "{} is not supported by Weir; use ExtendedS3DestinationConfiguration.",
            d.trim_end_matches("Configuration")
        )));
    }
    let (destination, http) = match (plain, extended, http) {
        (Some(u), None, None) | (None, Some(u), None) => (u.apply(&S3Destination::empty()), None),
        (None, None, Some(h)) => {
            let (endpoint, s3) = super::http_endpoint::build(h);
            (s3, Some(endpoint))
        }
        (None, None, None) => {
            return Err(ApiError::invalid_argument(
                "A destination configuration is required (ExtendedS3DestinationConfiguration).",
            ))
        }
        _ => {
            return Err(ApiError::invalid_argument(
                "Only one destination configuration may be given.",
            ))
        }
    };
    let kind = kind.as_deref().unwrap_or("DirectPut");
    if (kind == "MSKAsSource") != msk.is_some() {
        return Err(ApiError::invalid_argument(
            "MSKSourceConfiguration is required when, and only when, DeliveryStreamType is \
             MSKAsSource.",
        ));
    }
    let source = match (kind, kinesis) {
        ("MSKAsSource", None) => {
            let Some((
                Some(cluster_arn),
                Some(topic),
                Some((Some(role_arn), Some(connectivity))),
                from,
            )) = msk
            else {
                return Err(ApiError::invalid_argument(
                    "MSKSourceConfiguration needs MSKClusterARN, TopicName and \
                     AuthenticationConfiguration.",
                ));
            };
            let now = ctx.log.now_ms();
            let cluster = match ctx.clusters.cluster(&cluster_arn, now) {
                None => {
                    return Err(ApiError::invalid_argument(format!(
                        "MSK cluster {cluster_arn} does not exist."
                    )))
                }
                Some(c) if ctx.clusters.state_of(&c, now) != weir_kafka::ClusterState::Active => {
                    return Err(ApiError::invalid_argument(format!(
                        "MSK cluster {cluster_arn} is not ACTIVE."
                    )))
                }
                Some(c) => c,
            };
            Source::Msk {
                region: ctx.clusters.namespace_of(&cluster),
                cluster_arn,
                topic,
                role_arn,
                connectivity,
                read_from_ms: from.unwrap_or_else(|| ctx.log.now_ms()),
            }
        }
        ("DirectPut", None) => Source::DirectPut {
            throughput_hint_mb: hint.flatten().map(|h| h as u32),
        },
        ("DirectPut", Some(_)) => {
            return Err(ApiError::invalid_argument(
                "KinesisStreamSourceConfiguration is only allowed with DeliveryStreamType \
                 KinesisStreamAsSource.",
            ))
        }
        ("KinesisStreamAsSource", Some((Some(stream_arn), Some(role_arn)))) => {
            Source::KinesisStream {
                stream_arn,
                role_arn,
            }
        }
        ("KinesisStreamAsSource", _) => {
            return Err(ApiError::invalid_argument(
                "KinesisStreamSourceConfiguration is required when DeliveryStreamType is \
                 KinesisStreamAsSource.",
            ))
        }
        (other, _) => {
            return Err(ApiError::invalid_argument(format!(
                "DeliveryStreamType {other} is not supported by Weir."
            )))
        }
    };
    let encryption = match encryption {
        Some((arn, Some(key_type))) => {
            if !matches!(source, Source::DirectPut { .. }) {
                return Err(ApiError::invalid_argument(
                    "Server-side encryption is only supported for DirectPut Firehose streams.",
                ));
            }
            Some(encryption_of(arn, key_type)?)
        }
        _ => None,
    };
    let arn = ctx
        .delivery
        .create(CreateRequest {
            region: ctx.region.clone(),
            name: name.unwrap_or_default(),
            source,
            destination,
            http,
            tags: tags.unwrap_or_default(),
            encryption,
        })
        .await?;
    Ok(Value::map([("DeliveryStreamARN", Value::Str(arn))]))
}

/// An encryption setting, checked as AWS checks KeyARN against KeyType.
pub fn encryption_of(arn: Option<String>, key_type: String) -> Result<StreamEncryption, ApiError> {
    match (key_type.as_str(), &arn) {
        ("CUSTOMER_MANAGED_CMK", None) => Err(ApiError::invalid_argument(
            "KeyARN is required when KeyType is CUSTOMER_MANAGED_CMK.",
        )),
        ("AWS_OWNED_CMK", Some(_)) => Err(ApiError::invalid_argument(
            "KeyARN must not be given when KeyType is AWS_OWNED_CMK.",
        )),
        _ => Ok(StreamEncryption {
            key_type,
            key_arn: arn,
            enabled: true,
        }),
    }
}
