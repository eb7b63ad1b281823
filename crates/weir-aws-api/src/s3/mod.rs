//! The S3 REST front door: requests without `X-Amz-Target`, path-style (`/bucket/key`) or
//! virtual-hosted (`bucket.localhost`), answered with S3's headers and XML. One file per action.

mod abort_multipart_upload;
mod chunked;
mod complete_multipart_upload;
mod copy_object;
mod crc64;
mod create_bucket;
mod create_multipart_upload;
mod delete_bucket;
mod delete_object;
mod delete_objects;
mod get_bucket_location;
mod get_object;
mod head_bucket;
mod list_buckets;
mod list_multipart_uploads;
mod list_objects;
mod list_parts;
mod payload;
mod proxy;
mod put_object;
pub mod time;
mod upload_part;
pub mod xml;

use std::sync::Arc;

use bytes::Bytes;
use hyper::{HeaderMap, Method};
use weir_objects::{ObjectError, ObjectStore, Objects};

use xml::Xml;

/// A parsed S3 request.
pub struct S3Request {
    pub method: Method,
    pub bucket: Option<String>,
    pub key: Option<String>,
    pub query: Vec<(String, String)>,
    pub headers: HeaderMap,
    pub body: Bytes,
    pub region: String,
    /// Set when the request's signature was verified: what chunk signatures chain from.
    pub chain: Option<crate::auth::Chain>,
    /// The body not yet read, for requests whose payload streams to disk (PutObject and
    /// UploadPart); `body` is then empty.
    pub stream: std::sync::Mutex<Option<hyper::body::Incoming>>,
}

impl S3Request {
    pub fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
    pub fn has_param(&self, name: &str) -> bool {
        self.query.iter().any(|(k, _)| k == name)
    }
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
    /// The unread body of a streamed request (once).
    pub fn take_stream(&self) -> Option<hyper::body::Incoming> {
        self.stream.lock().ok().and_then(|mut s| s.take())
    }
}

/// An S3 answer.
pub struct S3Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
    /// A body sent as it is read (large GETs), instead of `body`.
    pub stream: Option<tokio::sync::mpsc::Receiver<crate::body::Piece>>,
    /// The share of the read budget `body` holds until sent.
    pub held: Option<tokio::sync::OwnedSemaphorePermit>,
}

impl S3Response {
    pub fn empty(status: u16) -> S3Response {
        S3Response {
            status,
            headers: Vec::new(),
            body: Bytes::new(),
            stream: None,
            held: None,
        }
    }
    pub fn xml(doc: String) -> S3Response {
        S3Response {
            status: 200,
            headers: vec![("content-type".into(), "application/xml".into())],
            body: Bytes::from(doc),
            stream: None,
            held: None,
        }
    }
    pub fn with(mut self, name: &str, value: impl Into<String>) -> S3Response {
        self.headers.push((name.to_string(), value.into()));
        self
    }
}

/// An S3 error: code, HTTP status, message, and the resource it concerns.
#[derive(Debug)]
pub struct S3Error {
    pub code: &'static str,
    pub status: u16,
    pub message: String,
    pub resource: Option<(&'static str, String)>,
}

impl S3Error {
    pub fn new(code: &'static str, status: u16, message: impl Into<String>) -> S3Error {
        S3Error {
            code,
            status,
            message: message.into(),
            resource: None,
        }
    }
    pub fn not_implemented(what: &str) -> S3Error {
        S3Error::new(
            "NotImplemented",
            501,
            format!("{what} is not implemented by Weir yet."),
        )
    }
}

/// The front door's table: object-store error kind → S3 error code and status.
impl From<ObjectError> for S3Error {
    fn from(e: ObjectError) -> Self {
        let message = e.to_string();
        let (code, status, resource) = match e {
            ObjectError::NoSuchBucket(b) => ("NoSuchBucket", 404, Some(("BucketName", b))),
            ObjectError::NoSuchKey(k) => ("NoSuchKey", 404, Some(("Key", k))),
            ObjectError::BucketAlreadyOwnedByYou(b) => {
                ("BucketAlreadyOwnedByYou", 409, Some(("BucketName", b)))
            }
            ObjectError::BucketNotEmpty(b) => ("BucketNotEmpty", 409, Some(("BucketName", b))),
            ObjectError::InvalidBucketName(b) => {
                ("InvalidBucketName", 400, Some(("BucketName", b)))
            }
            ObjectError::InvalidArgument(_) => ("InvalidArgument", 400, None),
            ObjectError::NoSuchUpload(u) => ("NoSuchUpload", 404, Some(("UploadId", u))),
            ObjectError::InvalidPart(_) => ("InvalidPart", 400, None),
            ObjectError::IndexFull(_) => ("ServiceUnavailable", 503, None),
            ObjectError::InvalidPartOrder => ("InvalidPartOrder", 400, None),
            ObjectError::EntityTooSmall => ("EntityTooSmall", 400, None),
            ObjectError::Remote { .. } => ("ServiceUnavailable", 503, None),
            ObjectError::Storage(_) => {
                tracing::error!(error = %message, "S3 request failed inside Weir");
                ("InternalError", 500, None)
            }
        };
        S3Error {
            code,
            status,
            message,
            resource,
        }
    }
}

/// What S3 handlers may use.
pub struct S3Ctx {
    /// Local buckets.
    pub objects: Arc<ObjectStore>,
    /// The whole layer: local plus mapped buckets.
    pub lake: Objects,
    /// What GetObject bodies waiting to be sent may hold.
    pub reads: Arc<crate::ReadBudget>,
}

/// Runs one S3 request.
pub async fn handle(ctx: &S3Ctx, req: S3Request, request_id: &str) -> S3Response {
    let head = req.method == Method::HEAD;
    match route(ctx, &req).await {
        Ok(resp) => resp,
        // HEAD answers carry no body, only the status.
        Err(e) if head => S3Response::empty(e.status).with("x-amz-error-code", e.code),
        Err(e) => error_response(&e, request_id),
    }
}

pub fn error_response(e: &S3Error, request_id: &str) -> S3Response {
    let mut x = Xml::bare("Error");
    x.text("Code", e.code).text("Message", &e.message);
    if let Some((tag, value)) = &e.resource {
        x.text(tag, value);
    }
    x.text("RequestId", request_id);
    S3Response {
        status: e.status,
        ..S3Response::xml(x.finish("Error"))
    }
}

async fn route(ctx: &S3Ctx, req: &S3Request) -> Result<S3Response, S3Error> {
    if let Some(remote) = req.bucket.as_deref().and_then(|b| ctx.lake.remote(b)) {
        return proxy::forward(ctx, remote, req).await;
    }
    if let Some(source) = req.header("x-amz-copy-source") {
        let source = percent_decode(source);
        let bucket = source
            .trim_start_matches('/')
            .split('/')
            .next()
            .unwrap_or_default();
        if ctx.lake.remote(bucket).is_some() {
            return Err(S3Error::not_implemented(
                "Copying between a mapped bucket and a local one",
            ));
        }
    }
    const UNSUPPORTED_SUBRESOURCES: &[&str] = &[
        "acl",
        "policy",
        "cors",
        "lifecycle",
        "versioning",
        "tagging",
        "website",
        "logging",
        "notification",
        "replication",
        "encryption",
        "versions",
        "object-lock",
        "retention",
        "legal-hold",
        "attributes",
        "restore",
        "select",
        "accelerate",
        "requestPayment",
    ];
    if let Some(sub) = UNSUPPORTED_SUBRESOURCES.iter().find(|s| req.has_param(s)) {
        return Err(S3Error::not_implemented(&format!(
            "The '{sub}' subresource"
        )));
    }
    let m = &req.method;
    let upload = req.has_param("uploadId");
    match (&req.bucket, &req.key) {
        (Some(_), None) if *m == Method::POST && req.has_param("delete") => {
            delete_objects::handle(ctx, req).await
        }
        (Some(_), None) if *m == Method::GET && req.has_param("uploads") => {
            list_multipart_uploads::handle(ctx, req).await
        }
        (Some(_), Some(_)) if *m == Method::POST && req.has_param("uploads") => {
            create_multipart_upload::handle(ctx, req).await
        }
        (Some(_), Some(_)) if *m == Method::POST && upload => {
            complete_multipart_upload::handle(ctx, req).await
        }
        (Some(_), Some(_))
            if *m == Method::PUT && upload && req.header("x-amz-copy-source").is_some() =>
        {
            Err(S3Error::not_implemented("UploadPartCopy"))
        }
        (Some(_), Some(_)) if *m == Method::PUT && upload => upload_part::handle(ctx, req).await,
        (Some(_), Some(_)) if *m == Method::DELETE && upload => {
            abort_multipart_upload::handle(ctx, req).await
        }
        (Some(_), Some(_)) if *m == Method::GET && upload => list_parts::handle(ctx, req).await,
        (None, _) if *m == Method::GET => list_buckets::handle(ctx, req).await,
        (Some(_), None) if *m == Method::PUT => create_bucket::handle(ctx, req).await,
        (Some(_), None) if *m == Method::DELETE => delete_bucket::handle(ctx, req).await,
        (Some(_), None) if *m == Method::HEAD => head_bucket::handle(ctx, req).await,
        (Some(_), None) if *m == Method::GET && req.has_param("location") => {
            get_bucket_location::handle(ctx, req).await
        }
        (Some(_), None) if *m == Method::GET => list_objects::handle(ctx, req).await,
        (Some(_), Some(_)) if *m == Method::PUT && req.header("x-amz-copy-source").is_some() => {
            copy_object::handle(ctx, req).await
        }
        (Some(_), Some(_)) if *m == Method::PUT => put_object::handle(ctx, req).await,
        (Some(_), Some(_)) if *m == Method::GET || *m == Method::HEAD => {
            get_object::handle(ctx, req).await
        }
        (Some(_), Some(_)) if *m == Method::DELETE => delete_object::handle(ctx, req).await,
        _ => Err(S3Error::new(
            "MethodNotAllowed",
            405,
            "The specified method is not allowed against this resource.",
        )),
    }
}

/// Splits a request path (and Host, for virtual-hosted style) into bucket and key.
pub fn bucket_and_key(raw_path: &str, host: Option<&str>) -> (Option<String>, Option<String>) {
    let path = percent_decode(raw_path);
    let path = path.strip_prefix('/').unwrap_or(&path);
    let host_bucket = host
        .map(|h| {
            h.rsplit_once(':').map_or(h, |(name, port)| {
                if port.bytes().all(|b| b.is_ascii_digit()) {
                    name
                } else {
                    h
                }
            })
        })
        .and_then(|h| h.strip_suffix(".localhost"))
        .filter(|b| !b.is_empty())
        .map(str::to_string);
    let non_empty = |s: &str| (!s.is_empty()).then(|| s.to_string());
    match host_bucket {
        Some(b) => (Some(b), non_empty(path)),
        None => match path.split_once('/') {
            Some((b, k)) => (non_empty(b), non_empty(k)),
            None => (non_empty(path), None),
        },
    }
}

pub use crate::uri::{parse_query, percent_decode};

/// URL-encodes a key for `encoding-type=url` listings (`/` kept).
pub fn url_encode(s: &str) -> String {
    crate::uri::encode(s, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_and_virtual_host_addressing() {
        assert_eq!(bucket_and_key("/", None), (None, None));
        assert_eq!(bucket_and_key("/b", None), (Some("b".into()), None));
        assert_eq!(bucket_and_key("/b/", None), (Some("b".into()), None));
        assert_eq!(
            bucket_and_key("/b/a/c%20d%25", None),
            (Some("b".into()), Some("a/c d%".into()))
        );
        assert_eq!(
            bucket_and_key("/k/x", Some("bkt.localhost:4566")),
            (Some("bkt".into()), Some("k/x".into()))
        );
        assert_eq!(
            bucket_and_key("/bkt/k", Some("127.0.0.1:4566")),
            (Some("bkt".into()), Some("k".into()))
        );
    }
}
