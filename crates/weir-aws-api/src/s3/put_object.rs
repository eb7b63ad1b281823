//! PutObject: the body streams to the object's data file while it is checked (aws-chunked,
//! Content-MD5, `x-amz-checksum-*`; see `payload.rs`); user metadata and standard headers kept.

use std::collections::BTreeMap;

use bytes::Bytes;
use weir_objects::{PutObject, INLINE_MAX_BYTES};

use super::payload::{collect_small, stream_into};
use super::{S3Ctx, S3Error, S3Request, S3Response};

/// Headers stored with an object and returned on GET and HEAD.
pub const STORED_HEADERS: &[&str] = &[
    "cache-control",
    "content-disposition",
    "content-encoding",
    "content-language",
    "expires",
];

pub async fn handle(ctx: &S3Ctx, req: &S3Request) -> Result<S3Response, S3Error> {
    let (bucket, key) = (
        req.bucket.clone().unwrap_or_default(),
        req.key.clone().unwrap_or_default(),
    );
    let put = object_meta(req);
    let objects = ctx.objects.clone();
    objects.check_put(&bucket, &key)?;
    // Small bodies are read here and committed without a blocking thread each.
    let (info, checksum) = match collect_small(req, INLINE_MAX_BYTES as u64).await? {
        Some((data, checksum)) => {
            let put = PutObject { data, ..put };
            (
                objects.put_object_async(&bucket, &key, put).await?,
                checksum,
            )
        }
        None => {
            stream_into(req, move |body| {
                Ok(objects.put_object_from_reader(&bucket, &key, body, put)?)
            })
            .await?
        }
    };
    let mut resp = S3Response::empty(200).with("etag", info.etag);
    if let Some((name, value)) = checksum {
        resp = resp.with(&name, value);
    }
    Ok(resp)
}

/// Content-Type, `x-amz-meta-*` and the stored standard headers of a request.
pub fn object_meta(req: &S3Request) -> PutObject {
    let mut metadata = BTreeMap::new();
    let mut headers = BTreeMap::new();
    for (name, value) in &req.headers {
        let Ok(value) = value.to_str() else { continue };
        if let Some(meta) = name.as_str().strip_prefix("x-amz-meta-") {
            metadata.insert(meta.to_string(), value.to_string());
        } else if STORED_HEADERS.contains(&name.as_str()) {
            let value = match name.as_str() {
                "content-encoding" => value
                    .split(',')
                    .map(str::trim)
                    .filter(|e| *e != "aws-chunked")
                    .collect::<Vec<_>>()
                    .join(","),
                _ => value.to_string(),
            };
            if !value.is_empty() {
                headers.insert(name.as_str().to_string(), value);
            }
        }
    }
    PutObject {
        data: Bytes::new(),
        content_type: req.header("content-type").map(str::to_string),
        metadata,
        headers,
    }
}
