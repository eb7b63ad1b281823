//! Requests for a bucket mapped to an external S3-compatible endpoint: the body is decoded
//! (aws-chunked) and checked here, then the request is re-signed with the mapping's credentials
//! and forwarded; the endpoint's answer (status, S3 headers, body or XML error) goes back as it
//! came.

use weir_objects::RemoteBucket;

use super::payload::payload;
use super::{percent_decode, S3Ctx, S3Error, S3Request, S3Response};

/// Request headers that are forwarded (besides `x-amz-*` ones not about signing or framing).
const FORWARDED: &[&str] = &[
    "content-type",
    "content-md5",
    "cache-control",
    "content-disposition",
    "content-encoding",
    "content-language",
    "expires",
    "range",
    "if-match",
    "if-none-match",
    "if-modified-since",
    "if-unmodified-since",
];

/// `x-amz-*` request headers that belong to this hop (signature, body framing).
const HOP_AMZ: &[&str] = &[
    "x-amz-date",
    "x-amz-content-sha256",
    "x-amz-security-token",
    "x-amz-decoded-content-length",
    "x-amz-trailer",
    "x-amz-sdk-checksum-algorithm",
    "x-amz-user-agent",
];

/// Answer headers that belong to the remote hop.
const HOP_ANSWER: &[&str] = &[
    "connection",
    "keep-alive",
    "transfer-encoding",
    "date",
    "server",
    "x-amz-request-id",
    "x-amz-id-2",
];

pub async fn forward(
    ctx: &S3Ctx,
    remote: &RemoteBucket,
    req: &S3Request,
) -> Result<S3Response, S3Error> {
    let mut headers: Vec<(String, String)> = Vec::new();
    for (name, value) in &req.headers {
        let n = name.as_str();
        let Ok(v) = value.to_str() else { continue };
        let keep = FORWARDED.contains(&n) || (n.starts_with("x-amz-") && !HOP_AMZ.contains(&n));
        if !keep || n.starts_with("x-amz-checksum-") {
            continue;
        }
        if n == "content-encoding" {
            let rest: Vec<&str> = v
                .split(',')
                .map(str::trim)
                .filter(|e| *e != "aws-chunked" && !e.is_empty())
                .collect();
            if !rest.is_empty() {
                headers.push((n.to_string(), rest.join(",")));
            }
            continue;
        }
        if n == "x-amz-copy-source" {
            headers.push((n.to_string(), copy_source(ctx, remote, v)?));
            continue;
        }
        headers.push((n.to_string(), v.to_string()));
    }
    // Bodies are decoded and their checksums verified here; the verified checksum travels on.
    let body = if req.body.is_empty() {
        req.body.clone()
    } else {
        let (data, checksum) = payload(req)?;
        headers.extend(checksum);
        data
    };
    let answer = remote
        .send(
            req.method.as_str(),
            req.key.as_deref(),
            &req.query,
            &headers,
            body,
        )
        .await
        .map_err(|e| {
            tracing::warn!(bucket = remote.name(), error = %e, "mapped bucket unreachable");
            S3Error::new("ServiceUnavailable", 503, e.to_string())
        })?;
    let mut resp = S3Response::empty(answer.status);
    for (name, value) in answer.headers {
        if !HOP_ANSWER.contains(&name.as_str()) {
            resp.headers.push((name, value));
        }
    }
    resp.body = answer.body;
    Ok(resp)
}

/// The copy source on the endpoint: only objects of the same mapped bucket can be copied there.
fn copy_source(ctx: &S3Ctx, remote: &RemoteBucket, source: &str) -> Result<String, S3Error> {
    let decoded = percent_decode(source);
    let trimmed = decoded.strip_prefix('/').unwrap_or(&decoded);
    let (bucket, rest) = trimmed.split_once('/').unwrap_or((trimmed, ""));
    match ctx.lake.remote(bucket) {
        Some(r) if r.name() == remote.name() => Ok(format!(
            "/{}/{}",
            remote.remote_name(),
            weir_sigv4::uri_encode(rest, false)
        )),
        _ => Err(S3Error::not_implemented(
            "Copying between a local bucket and a mapped one",
        )),
    }
}
