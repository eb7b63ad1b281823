//! UpdateDestination: merges an (Extended)S3 update into the destination when
//! CurrentDeliveryStreamVersionId matches; the version goes up by one.

use weir_delivery::DestinationUpdate;

use super::common::{read_s3, DESTINATION_ID, STREAM_NAME, VERSION_ID};
use crate::error::ApiError;
use crate::input::Input;
use crate::value::Value;
use crate::Ctx;

const OTHER_UPDATES: &[&str] = &[
    "RedshiftDestinationUpdate",
    "ElasticsearchDestinationUpdate",
    "AmazonopensearchserviceDestinationUpdate",
    "SplunkDestinationUpdate",
    "AmazonOpenSearchServerlessDestinationUpdate",
    "SnowflakeDestinationUpdate",
    "IcebergDestinationUpdate",
];

pub async fn handle(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    let name = input.string("DeliveryStreamName", true, STREAM_NAME)?;
    let version = input.string("CurrentDeliveryStreamVersionId", true, VERSION_ID)?;
    let destination_id = input.string("DestinationId", true, DESTINATION_ID)?;
    let plain = input.structure("S3DestinationUpdate", |s| read_s3(s, false, false))?;
    let extended = input.structure("ExtendedS3DestinationUpdate", |s| read_s3(s, true, false))?;
    let http = input.structure("HttpEndpointDestinationUpdate", |h| {
        super::http_endpoint::read(h, false)
    })?;
    let other = OTHER_UPDATES.iter().find(|u| input.has(u)).copied();
    input.finish()?;
    if let Some(o) = other {
        return Err(ApiError::invalid_argument(format!(
            "{o} is not supported by Weir; its delivery streams have S3 destinations."
        )));
    }
    let update = match (plain, extended, http) {
        (Some(u), None, None) | (None, Some(u), None) => DestinationUpdate::S3(Box::new(u)),
        (None, None, Some(h)) => DestinationUpdate::Http(Box::new(h)),
        (None, None, None) => {
            return Err(ApiError::invalid_argument(
                "A destination update is required (ExtendedS3DestinationUpdate).",
            ))
        }
        _ => {
            return Err(ApiError::invalid_argument(
                "Only one destination update may be given.",
            ))
        }
    };
    let version: u64 = version
        .unwrap_or_default()
        .parse()
        .map_err(|_| ApiError::invalid_argument("CurrentDeliveryStreamVersionId is too large."))?;
    ctx.delivery.update_destination(
        &ctx.region,
        &name.unwrap_or_default(),
        version,
        &destination_id.unwrap_or_default(),
        update,
    )?;
    Ok(Value::Map(Vec::new()))
}
