//! GetObject and HeadObject: ranges, conditional requests, `response-*` overrides. The data
//! file is opened once (a small object's bytes are read from the journal at once), so the
//! version answered is whole even under a concurrent overwrite; bodies above 8 MiB are streamed
//! from the file in 1 MiB chunks instead of read into memory.

use hyper::Method;
use weir_objects::ObjectBody;

use crate::body::Piece;

use super::put_object::STORED_HEADERS;
use super::{time, S3Ctx, S3Error, S3Request, S3Response};

/// Bodies larger than this are streamed.
const STREAM_ABOVE: u64 = 8 * 1024 * 1024;
const CHUNK: usize = 1024 * 1024;

pub async fn handle(ctx: &S3Ctx, req: &S3Request) -> Result<S3Response, S3Error> {
    let (bucket, key) = (
        req.bucket.as_deref().unwrap_or_default(),
        req.key.as_deref().unwrap_or_default(),
    );
    let internal = |e: String| S3Error::new("InternalError", 500, e);
    let head = req.method == Method::HEAD;
    let (info, file) = if head {
        (ctx.objects.head_object(bucket, key)?, None)
    } else {
        let objects = ctx.objects.clone();
        let (b, k) = (bucket.to_string(), key.to_string());
        let (info, file) = tokio::task::spawn_blocking(move || objects.open_object(&b, &k))
            .await
            .map_err(|e| internal(e.to_string()))??;
        (info, Some(file))
    };
    // Conditional requests, in the order S3 evaluates them.
    let etag_matches = |h: &str| {
        h.split(',').map(str::trim).any(|t| {
            t == "*" || t == info.etag || t.trim_matches('"') == info.etag.trim_matches('"')
        })
    };
    let modified = info.last_modified_ms / 1000 * 1000;
    if let Some(h) = req.header("if-match") {
        if !etag_matches(h) {
            return Err(S3Error::new(
                "PreconditionFailed",
                412,
                "At least one of the pre-conditions you specified did not hold",
            ));
        }
    } else if let Some(t) = req
        .header("if-unmodified-since")
        .and_then(time::parse_http_date)
    {
        if modified > t {
            return Err(S3Error::new(
                "PreconditionFailed",
                412,
                "At least one of the pre-conditions you specified did not hold",
            ));
        }
    }
    let not_modified = match req.header("if-none-match") {
        Some(h) => etag_matches(h),
        None => req
            .header("if-modified-since")
            .and_then(time::parse_http_date)
            .is_some_and(|t| modified <= t),
    };
    if not_modified {
        return Ok(S3Response::empty(304)
            .with("etag", info.etag.clone())
            .with("last-modified", time::http_date(info.last_modified_ms)));
    }
    let range = match req.header("range") {
        Some(r) => Some(parse_range(r, info.size).ok_or_else(|| {
            let mut e = S3Error::new(
                "InvalidRange",
                416,
                "The requested range is not satisfiable",
            );
            e.resource = Some(("RangeRequested", r.to_string()));
            e
        })?),
        None => None,
    };
    let (start, length) = match range {
        Some((s, e)) => (s, e - s + 1),
        None => (0, info.size),
    };
    let mut resp = S3Response::empty(if range.is_some() { 206 } else { 200 });
    if let Some(body) = file {
        if length > STREAM_ABOVE {
            resp.stream = Some(stream_body(body, start, length, ctx.reads.clone()));
        } else {
            // The body holds its share of the read budget until it has been sent (bodies of
            // small objects, like requests, are only bounded per connection).
            if length > weir_objects::INLINE_MAX_BYTES as u64 {
                resp.held = ctx.reads.reserve(length as usize).await;
            }
            resp.body = match body {
                ObjectBody::Bytes(bytes) => bytes.slice(start as usize..(start + length) as usize),
                body => tokio::task::spawn_blocking(move || body.read_range(start, length))
                    .await
                    .map_err(|e| internal(e.to_string()))?
                    .map_err(|e| internal(e.to_string()))?,
            };
        }
    }
    let content_type = req
        .param("response-content-type")
        .map(str::to_string)
        .or(info.content_type.clone())
        .unwrap_or_else(|| "binary/octet-stream".into());
    resp = resp
        .with("content-type", content_type)
        .with("etag", info.etag.clone())
        .with("last-modified", time::http_date(info.last_modified_ms))
        .with("accept-ranges", "bytes")
        .with("content-length", length.to_string());
    if let Some((s, e)) = range {
        resp = resp.with("content-range", format!("bytes {s}-{e}/{}", info.size));
    }
    for (k, v) in &info.metadata {
        resp = resp.with(&format!("x-amz-meta-{k}"), v.clone());
    }
    for name in STORED_HEADERS {
        let over = req.param(&format!("response-{name}")).map(str::to_string);
        if let Some(v) = over.or_else(|| info.headers.get(*name).cloned()) {
            resp = resp.with(name, v);
        }
    }
    Ok(resp)
}

/// Sends `length` bytes of `body` from `start` in chunks, each read on a blocking thread once
/// the read budget has room for it and holding that room until the connection takes it; no
/// thread waits for the client. Stops when the receiver is gone (a connection taking nothing
/// for [`crate::SEND_IDLE`] is closed); a read error ends the body short, so the client sees a
/// truncated response, never wrong bytes.
fn stream_body(
    body: ObjectBody,
    start: u64,
    length: u64,
    reads: std::sync::Arc<crate::ReadBudget>,
) -> tokio::sync::mpsc::Receiver<Piece> {
    let (tx, rx) = tokio::sync::mpsc::channel(1);
    tokio::spawn(async move {
        let body = std::sync::Arc::new(body);
        let mut at = start;
        while at < start + length {
            let n = CHUNK.min((start + length - at) as usize);
            let Some(held) = reads.reserve(n).await else {
                return;
            };
            let body = body.clone();
            let read = tokio::task::spawn_blocking(move || body.read_range(at, n as u64)).await;
            let bytes = match read {
                Ok(Ok(bytes)) => bytes,
                Ok(Err(e)) => return tracing::error!(error = %e, "reading an object failed"),
                Err(e) => return tracing::error!(error = %e, "reading an object failed"),
            };
            let piece = Piece {
                bytes,
                held: Some(held),
            };
            if tx.send(piece).await.is_err() {
                return;
            }
            at += n as u64;
        }
    });
    rx
}

/// `bytes=a-b`, `bytes=a-`, `bytes=-n` → inclusive (start, end) within `size`.
fn parse_range(h: &str, size: u64) -> Option<(u64, u64)> {
    let spec = h.strip_prefix("bytes=")?.split(',').next()?.trim();
    let (a, b) = spec.split_once('-')?;
    if size == 0 {
        return None;
    }
    match (a.is_empty(), b.is_empty()) {
        (true, false) => {
            let n: u64 = b.parse().ok()?;
            (n > 0).then(|| (size.saturating_sub(n), size - 1))
        }
        (false, _) => {
            let start: u64 = a.parse().ok()?;
            let end: u64 = if b.is_empty() {
                size - 1
            } else {
                b.parse::<u64>().ok()?.min(size - 1)
            };
            (start <= end && start < size).then_some((start, end))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn ranges() {
        assert_eq!(super::parse_range("bytes=0-4", 10), Some((0, 4)));
        assert_eq!(super::parse_range("bytes=5-", 10), Some((5, 9)));
        assert_eq!(super::parse_range("bytes=-3", 10), Some((7, 9)));
        assert_eq!(super::parse_range("bytes=8-100", 10), Some((8, 9)));
        assert_eq!(super::parse_range("bytes=10-", 10), None);
        assert_eq!(super::parse_range("items=0-1", 10), None);
    }
}
