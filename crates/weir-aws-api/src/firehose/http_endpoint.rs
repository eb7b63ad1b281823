//! HttpEndpointDestinationConfiguration / Update / Description.

use weir_delivery::{HttpEndpoint, HttpUpdate, S3Destination};

use super::common::{
    processing_value, read_cloudwatch, read_processing, read_s3, s3_members, ROLE_ARN,
};
use crate::error::ApiError;
use crate::input::{Input, StrRule};
use crate::value::Value;

/// `https://` as the model says; `http://` too, so local endpoints can be tested (a Weir
/// deviation: AWS delivers to HTTPS only).
const URL: StrRule = StrRule::len(1, 1000).pattern("https://.*", |s| {
    s.starts_with("https://") || s.starts_with("http://")
});

/// Reads a configuration (`create`) or an update.
pub fn read(h: &mut Input, create: bool) -> Result<HttpUpdate, ApiError> {
    let mut u = HttpUpdate::default();
    if create {
        h.require("EndpointConfiguration");
        h.require("S3Configuration");
    }
    if let Some((url, name, key)) = h.structure("EndpointConfiguration", |e| {
        Ok((
            e.string("Url", true, URL)?,
            e.string("Name", false, StrRule::len(1, 256))?,
            e.string("AccessKey", false, StrRule::len(0, 4096))?,
        ))
    })? {
        u.url = url;
        u.name = name;
        u.access_key = key;
    }
    if let Some((size, interval)) = h.structure("BufferingHints", |b| {
        Ok((
            b.int("SizeInMBs", false, Some(1), Some(64))?,
            b.int("IntervalInSeconds", false, Some(0), Some(900))?,
        ))
    })? {
        u.size_mb = size.map(|v| v as u32);
        u.interval_s = interval.map(|v| v as u32);
    }
    u.cloudwatch = read_cloudwatch(h)?;
    if let Some((gzip, attrs)) = h.structure("RequestConfiguration", |r| {
        let enc = r.string("ContentEncoding", false, StrRule::one_of(&["NONE", "GZIP"]))?;
        let attrs = r.list("CommonAttributes", false, 0, 50, |inp, i, v| {
            inp.member_struct("CommonAttributes", i, v, |a| {
                let n = a.string("AttributeName", true, StrRule::len(1, 256))?;
                let v = a.string("AttributeValue", true, StrRule::len(0, 1024))?;
                Ok(n.zip(v))
            })
        })?;
        Ok((enc.map(|e| e == "GZIP"), attrs))
    })? {
        u.gzip = gzip;
        u.common_attributes = attrs;
    }
    u.processing = h.structure("ProcessingConfiguration", read_processing)?;
    u.role_arn = h.string("RoleARN", false, ROLE_ARN)?;
    u.retry_duration_s = h
        .structure("RetryOptions", |r| {
            r.int("DurationInSeconds", false, Some(0), Some(7200))
        })?
        .flatten()
        .map(|v| v as u32);
    u.backup_all = h
        .string(
            "S3BackupMode",
            false,
            StrRule::one_of(&["FailedDataOnly", "AllData"]),
        )?
        .map(|m| m == "AllData");
    let s3 = if create {
        "S3Configuration"
    } else {
        "S3Update"
    };
    u.s3 = h.structure(s3, |s| read_s3(s, false, create))?;
    if h.structure("SecretsManagerConfiguration", |s| {
        s.string("SecretARN", false, StrRule::len(1, 2048))?;
        s.string("RoleARN", false, ROLE_ARN)?;
        Ok(s.boolean("Enabled")?.unwrap_or(false))
    })?
    .unwrap_or(false)
    {
        return Err(ApiError::invalid_argument(
            "SecretsManagerConfiguration is not supported by Weir; give the AccessKey.",
        ));
    }
    Ok(u)
}

/// A new endpoint from a configuration read by `read`, and its S3 configuration.
pub fn build(mut u: HttpUpdate) -> (HttpEndpoint, S3Destination) {
    let s3 =
        u.s3.take()
            .map(|s| s.apply(&S3Destination::empty()))
            .unwrap_or_else(S3Destination::empty);
    (u.apply(&HttpEndpoint::empty()), s3)
}

/// HttpEndpointDestinationDescription (the access key is not shown, as in AWS).
pub fn describe(h: &HttpEndpoint, s3: &S3Destination) -> Value {
    let mut m = vec![
        (
            "EndpointConfiguration",
            Value::map([
                ("Url", Value::str(&h.url)),
                ("Name", Value::opt_str(h.name.clone())),
            ]),
        ),
        (
            "BufferingHints",
            Value::map([
                ("SizeInMBs", Value::Int(h.buffering.size_mb.into())),
                (
                    "IntervalInSeconds",
                    Value::Int(h.buffering.interval_s.into()),
                ),
            ]),
        ),
        (
            "CloudWatchLoggingOptions",
            Value::map([(
                "Enabled",
                Value::Bool(
                    h.cloudwatch
                        .as_ref()
                        .and_then(|c| c.enabled)
                        .unwrap_or(false),
                ),
            )]),
        ),
        (
            "RequestConfiguration",
            Value::map([
                (
                    "ContentEncoding",
                    Value::str(if h.gzip { "GZIP" } else { "NONE" }),
                ),
                (
                    "CommonAttributes",
                    Value::List(
                        h.common_attributes
                            .iter()
                            .map(|(k, v)| {
                                Value::map([
                                    ("AttributeName", Value::str(k)),
                                    ("AttributeValue", Value::str(v)),
                                ])
                            })
                            .collect(),
                    ),
                ),
            ]),
        ),
        (
            "RetryOptions",
            Value::map([("DurationInSeconds", Value::Int(h.retry_duration_s.into()))]),
        ),
        (
            "S3BackupMode",
            Value::str(if h.backup_all {
                "AllData"
            } else {
                "FailedDataOnly"
            }),
        ),
        (
            "S3DestinationDescription",
            Value::map(s3_members(s3, false)),
        ),
    ];
    if let Some(p) = &h.processing {
        m.push(("ProcessingConfiguration", processing_value(p)));
    }
    if let Some(r) = &h.role_arn {
        m.push(("RoleARN", Value::str(r)));
    }
    Value::map(m)
}
