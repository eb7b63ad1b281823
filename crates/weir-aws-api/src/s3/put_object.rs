//! PutObject: plain or aws-chunked bodies, Content-MD5 and `x-amz-checksum-*` verified, user
//! metadata and standard headers kept.

use std::collections::BTreeMap;

use base64::Engine as _;
use bytes::Bytes;
use md5::Digest as _;
use weir_objects::PutObject;

use super::{chunked, S3Ctx, S3Error, S3Request, S3Response};

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
        req.bucket.as_deref().unwrap_or_default(),
        req.key.as_deref().unwrap_or_default(),
    );
    let (data, checksum) = payload(req)?;
    let mut put = object_meta(req);
    put.data = data;
    let objects = ctx.objects.clone();
    let (b, k) = (bucket.to_string(), key.to_string());
    let info = tokio::task::spawn_blocking(move || objects.put_object(&b, &k, put))
        .await
        .map_err(|e| S3Error::new("InternalError", 500, e.to_string()))??;
    let mut resp = S3Response::empty(200).with("etag", info.etag);
    if let Some((name, value)) = checksum {
        resp = resp.with(&name, value);
    }
    Ok(resp)
}

/// The request's payload, decoded from aws-chunked if need be, with Content-MD5 and
/// `x-amz-checksum-*` verified; also the checksum header to echo back.
pub fn payload(req: &S3Request) -> Result<(Bytes, Option<(String, String)>), S3Error> {
    let chunked = req
        .header("content-encoding")
        .is_some_and(|e| e.contains("aws-chunked"))
        || req
            .header("x-amz-content-sha256")
            .is_some_and(|h| h.starts_with("STREAMING-"));
    let (data, trailers) = if chunked {
        let d = chunked::decode(&req.body).ok_or_else(|| {
            S3Error::new(
                "IncompleteBody",
                400,
                "The aws-chunked request body is malformed.",
            )
        })?;
        let signed = req.header("x-amz-content-sha256").and_then(|h| match h {
            "STREAMING-AWS4-HMAC-SHA256-PAYLOAD" => Some(false),
            "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER" => Some(true),
            _ => None,
        });
        if let (Some(trailer), Some(chain)) = (signed, &req.chain) {
            if !d.verify(chain, trailer) {
                return Err(S3Error::new(
                    "SignatureDoesNotMatch",
                    403,
                    "The request signature we calculated does not match the signature you \
                     provided. Check your key and signing method.",
                ));
            }
        }
        (Bytes::from(d.data), d.trailers)
    } else {
        (req.body.clone(), BTreeMap::new())
    };
    if let Some(expected) = req
        .header("x-amz-decoded-content-length")
        .and_then(|v| v.parse::<usize>().ok())
    {
        if chunked && expected != data.len() {
            return Err(S3Error::new(
                "IncompleteBody",
                400,
                "You did not provide the number of bytes specified by the Content-Length HTTP header.",
            ));
        }
    }
    if let Some(md5) = req.header("content-md5") {
        let ours = base64::engine::general_purpose::STANDARD.encode(md5::Md5::digest(&data));
        if md5 != ours {
            return Err(S3Error::new(
                "BadDigest",
                400,
                "The Content-MD5 you specified did not match what we received.",
            ));
        }
    }
    let checksum = verify_checksums(req, &trailers, &data)?;
    Ok((data, checksum))
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

/// Checks every `x-amz-checksum-*` the client sent (header or trailer) that Weir can compute.
/// Returns the one to echo back.
fn verify_checksums(
    req: &S3Request,
    trailers: &BTreeMap<String, String>,
    data: &[u8],
) -> Result<Option<(String, String)>, S3Error> {
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    let mut echo = None;
    let sent = req
        .headers
        .iter()
        .filter_map(|(n, v)| Some((n.as_str().to_string(), v.to_str().ok()?.to_string())))
        .chain(trailers.iter().map(|(n, v)| (n.clone(), v.clone())))
        .filter(|(n, _)| {
            n.starts_with("x-amz-checksum-")
                && n != "x-amz-checksum-type"
                && n != "x-amz-checksum-algorithm"
        });
    for (name, value) in sent {
        let (label, ours) = match name.as_str() {
            "x-amz-checksum-crc32" => ("CRC32", Some(b64(&crc32fast::hash(data).to_be_bytes()))),
            "x-amz-checksum-crc32c" => ("CRC32C", Some(b64(&crc32c::crc32c(data).to_be_bytes()))),
            "x-amz-checksum-sha256" => ("SHA256", Some(b64(&sha2::Sha256::digest(data)))),
            "x-amz-checksum-sha1" => ("SHA1", Some(b64(&sha1::Sha1::digest(data)))),
            "x-amz-checksum-crc64nvme" => (
                "CRC64NVME",
                Some(b64(&super::crc64::crc64nvme(data).to_be_bytes())),
            ),
            _ => ("", None),
        };
        if let Some(ours) = ours {
            if ours != value {
                return Err(S3Error::new(
                    "BadDigest",
                    400,
                    format!("The {label} you specified did not match the calculated checksum."),
                ));
            }
        }
        echo = Some((name, value));
    }
    Ok(echo)
}
