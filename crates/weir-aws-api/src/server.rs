//! The HTTP server: connection handling, routing by `X-Amz-Target`, body limits, encoding.

use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::header::{HeaderValue, CONTENT_TYPE};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio::net::TcpListener;

use crate::body::Body;
use crate::fanout::FanOut;

/// Front-door settings.
#[derive(Debug, Clone)]
pub struct ApiConfig {
    /// Region assumed when a request carries no SigV4 credential scope.
    pub default_region: String,
    /// Largest request body accepted (413 beyond).
    pub max_body_bytes: usize,
    /// Largest S3 request body read into memory: XML documents, and PUTs to mapped buckets
    /// (PutObject and UploadPart bodies of local buckets stream to disk, up to S3's 5 GiB).
    pub max_object_bytes: usize,
    /// How long one SubscribeToShard call streams before the server ends it.
    pub subscription_lifetime: std::time::Duration,
    /// Bytes of records all GetRecords answers may hold at once, from the read until the
    /// answer is sent; a read that finds no room waits for it.
    pub read_memory_bytes: usize,
    /// Connections served at once; more wait to be accepted (each holds up to its HTTP/1
    /// buffers of [`CONNECTION_BUFFER`] bytes, or its HTTP/2 flow-control windows).
    pub max_connections: usize,
    /// Bytes of request bodies above a connection's buffer held at once; more wait.
    pub body_memory_bytes: usize,
    /// Enforce AWS's control-plane request rates (LimitExceededException).
    pub aws_limits: bool,
    /// With keys, every request's SigV4 signature is verified; without, any credentials pass.
    pub keys: Option<crate::auth::Keys>,
    /// Answer browsers' CORS requests to the AWS JSON APIs as AWS does (any origin).
    pub cors: bool,
    /// Take AWS JSON calls that carry no signature at all (AWS answers them with
    /// MissingAuthenticationTokenException, and so does Weir unless this is set).
    pub allow_unsigned: bool,
    /// With a TLS configuration, the port speaks HTTPS (HTTP/1.1 and h2 by ALPN) instead.
    pub tls: Option<std::sync::Arc<tokio_rustls::rustls::ServerConfig>>,
}

/// A TLS server configuration from PEM files of a certificate chain and its private key.
pub fn tls_config(
    cert: &std::path::Path,
    key: &std::path::Path,
) -> std::io::Result<Arc<tokio_rustls::rustls::ServerConfig>> {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer};
    let bad = |what: &str, e: &dyn std::fmt::Display| {
        std::io::Error::new(std::io::ErrorKind::InvalidData, format!("{what}: {e}"))
    };
    let certs = CertificateDer::pem_file_iter(cert)
        .map_err(|e| bad(&cert.display().to_string(), &e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| bad(&cert.display().to_string(), &e))?;
    let key = PrivateKeyDer::from_pem_file(key).map_err(|e| bad(&key.display().to_string(), &e))?;
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let mut config = tokio_rustls::rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| bad("TLS versions", &e))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| bad("TLS certificate", &e))?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

impl Default for ApiConfig {
    fn default() -> Self {
        ApiConfig {
            default_region: "us-east-1".into(),
            // 10 MiB of records as base64 plus JSON framing.
            max_body_bytes: 16 * 1024 * 1024,
            max_object_bytes: 1024 * 1024 * 1024,
            subscription_lifetime: std::time::Duration::from_secs(300),
            read_memory_bytes: 256 << 20,
            max_connections: 1024,
            body_memory_bytes: 256 << 20,
            aws_limits: false,
            keys: None,
            allow_unsigned: false,
            cors: true,
            tls: None,
        }
    }
}

/// How long a connection may wait between requests, or take to send a request's headers.
const IDLE_CONNECTION: std::time::Duration = std::time::Duration::from_secs(60);
/// How long a TLS handshake may take.
const HANDSHAKE: std::time::Duration = std::time::Duration::from_secs(30);

/// The most a connection buffers of requests or answers (HTTP/1 buffers, HTTP/2 windows).
pub const CONNECTION_BUFFER: usize = 128 * 1024;

/// The engines the front door serves.
#[derive(Clone)]
pub struct Engines {
    pub log: weir_log::Log,
    pub objects: weir_objects::Objects,
    pub delivery: weir_delivery::Delivery,
    pub catalog: weir_catalog::Catalog,
    pub athena: weir_athena::Athena,
    pub analytics: weir_analytics::Analytics,
    pub crawlers: weir_crawler::Crawlers,
    pub jobs: weir_jobs::Jobs,
    pub clusters: weir_kafka::Clusters,
}

pub(crate) struct Shared {
    pub(crate) log: weir_log::Log,
    pub(crate) delivery: weir_delivery::Delivery,
    pub(crate) catalog: weir_catalog::Catalog,
    pub(crate) athena: weir_athena::Athena,
    pub(crate) analytics: weir_analytics::Analytics,
    pub(crate) crawlers: weir_crawler::Crawlers,
    pub(crate) jobs: weir_jobs::Jobs,
    pub(crate) clusters: weir_kafka::Clusters,
    pub(crate) s3: crate::s3::S3Ctx,
    pub(crate) config: ApiConfig,
    pub(crate) fanout: Arc<FanOut>,
    pub(crate) rates: Option<Arc<crate::rates::RateLimiter>>,
    pub(crate) reads: Arc<crate::ReadBudget>,
    /// What request bodies being handled may hold at once (apart from reads, so a request
    /// holding its body never waits on the budget its own answer draws from).
    pub(crate) bodies: Arc<crate::ReadBudget>,
}

/// Serves AWS APIs on `listener` until `shutdown` resolves, then drains open connections.
pub async fn serve(
    listener: TcpListener,
    engines: Engines,
    config: ApiConfig,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let fanout = Arc::new(FanOut::new(
        config.subscription_lifetime,
        std::time::Duration::from_secs(5),
    ));
    let rates = config
        .aws_limits
        .then(|| Arc::new(crate::rates::RateLimiter::default()));
    let reads = Arc::new(crate::ReadBudget::new(config.read_memory_bytes));
    let bodies = Arc::new(crate::ReadBudget::new(config.body_memory_bytes));
    let Engines {
        log,
        objects,
        delivery,
        catalog,
        athena,
        analytics,
        crawlers,
        jobs,
        clusters,
    } = engines;
    let shared = Arc::new(Shared {
        log,
        delivery,
        catalog,
        athena,
        analytics,
        crawlers,
        jobs,
        clusters,
        s3: crate::s3::S3Ctx {
            objects: objects.local().clone(),
            lake: objects,
            reads: reads.clone(),
        },
        config,
        fanout,
        rates,
        reads,
        bodies,
    });
    let tls = shared
        .config
        .tls
        .clone()
        .map(tokio_rustls::TlsAcceptor::from);
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut builder = auto::Builder::new(TokioExecutor::new());
    // An idle connection (or one that never finishes its request's headers) gives its slot
    // back after IDLE_CONNECTION.
    builder
        .http1()
        .max_buf_size(CONNECTION_BUFFER)
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(IDLE_CONNECTION);
    // HTTP/2 buffers no more per connection than HTTP/1 (flow-control windows, send buffer).
    builder
        .http2()
        .initial_connection_window_size(CONNECTION_BUFFER as u32)
        .initial_stream_window_size((CONNECTION_BUFFER / 2) as u32)
        .max_send_buf_size(CONNECTION_BUFFER)
        .max_concurrent_streams(100)
        .timer(hyper_util::rt::TokioTimer::new());
    let slots = Arc::new(tokio::sync::Semaphore::new(
        shared.config.max_connections.max(1),
    ));
    let mut warned: Option<std::time::Instant> = None;
    tokio::pin!(shutdown);
    loop {
        // A connection is accepted only once it has a slot; until then it waits in the
        // listener's backlog.
        let slot = match slots.clone().try_acquire_owned() {
            Ok(slot) => slot,
            Err(_) => {
                if warned.is_none_or(|w| w.elapsed() > std::time::Duration::from_secs(60)) {
                    warned = Some(std::time::Instant::now());
                    tracing::warn!(
                        max_connections = shared.config.max_connections,
                        "connection limit reached: new connections wait until one closes"
                    );
                }
                tokio::select! {
                    slot = slots.clone().acquire_owned() => match slot {
                        Ok(slot) => slot,
                        Err(_) => break,
                    },
                    () = &mut shutdown => break,
                }
            }
        };
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, _) = match accepted {
                    Ok(a) => a,
                    Err(e) => {
                        // Out of file descriptors, say: give the others time to close.
                        tracing::warn!(error = %e, "accept failed");
                        drop(slot);
                        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                let stream = crate::stall::Stalled::new(stream);
                let shared = shared.clone();
                let service = hyper::service::service_fn(move |req| {
                    let shared = shared.clone();
                    async move { Ok::<_, Infallible>(route(&shared, req).await) }
                });
                let builder = builder.clone();
                let watcher = graceful.watcher();
                match tls.clone() {
                    None => {
                        let conn = builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
                        let conn = watcher.watch(conn.into_owned());
                        tokio::spawn(async move {
                            let _slot = slot;
                            if let Err(e) = conn.await {
                                tracing::debug!(error = %e, "connection closed with an error");
                            }
                        });
                    }
                    Some(acceptor) => {
                        tokio::spawn(async move {
                            let _slot = slot;
                            let handshake = tokio::time::timeout(HANDSHAKE, acceptor.accept(stream));
                            let stream = match handshake.await {
                                Ok(Ok(s)) => s,
                                Ok(Err(e)) => {
                                    tracing::debug!(error = %e, "TLS handshake failed");
                                    return;
                                }
                                Err(_) => {
                                    tracing::debug!("TLS handshake timed out");
                                    return;
                                }
                            };
                            let conn = builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
                            if let Err(e) = watcher.watch(conn.into_owned()).await {
                                tracing::debug!(error = %e, "connection closed with an error");
                            }
                        });
                    }
                }
            }
            () = &mut shutdown => break,
        }
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

async fn route(shared: &Shared, req: Request<Incoming>) -> Response<Body> {
    if req.method() == Method::GET && req.uri().path() == "/healthz" {
        return plain(StatusCode::OK, "ok\n");
    }
    // `GET /_weir/glue/<region>/jobs/<job>/runs/<run id>/<output|error>`: what a Glue job run
    // wrote to its standard output or error (CloudWatch Logs' `/aws-glue/python-jobs/...`).
    if let Some(rest) = req.uri().path().strip_prefix("/_weir/glue/") {
        let parts: Vec<&str> = rest.split('/').collect();
        return match (req.method(), parts.as_slice()) {
            (&Method::GET, [region, "jobs", job, "runs", run, stream]) => {
                match shared.jobs.log(region, job, run, stream) {
                    Ok(bytes) => {
                        let mut resp = Response::new(Body::full(Bytes::from(bytes)));
                        resp.headers_mut().insert(
                            CONTENT_TYPE,
                            HeaderValue::from_static("text/plain; charset=utf-8"),
                        );
                        resp
                    }
                    Err(e) => plain(StatusCode::NOT_FOUND, &format!("{e}\n")),
                }
            }
            _ => plain(StatusCode::NOT_FOUND, "unknown Weir hook\n"),
        };
    }
    // Weir's own hooks (not AWS APIs): `POST /_weir/firehose/<region>/<name>/flush` delivers
    // that delivery stream's buffers now and answers, once they are stored, with its counts;
    // `GET …/stats` answers the counts (records in, delivered, failed, dropped, backed up).
    if let Some(rest) = req.uri().path().strip_prefix("/_weir/firehose/") {
        let parts: Vec<&str> = rest.split('/').collect();
        let (region, name, flush) = match (req.method(), parts.as_slice()) {
            (&Method::POST, [region, name, "flush"]) => (*region, *name, true),
            (&Method::GET, [region, name, "stats"]) => (*region, *name, false),
            _ => return plain(StatusCode::NOT_FOUND, "unknown Weir hook\n"),
        };
        if flush {
            if let Err(e) = shared.delivery.flush(region, name).await {
                return plain(StatusCode::NOT_FOUND, &format!("{e}\n"));
            }
        }
        return match shared.delivery.stats(region, name) {
            Ok(s) => {
                let doc = serde_json::json!({
                    "recordsIn": s.records_in,
                    "bytesIn": s.bytes_in,
                    "recordsDelivered": s.records_delivered,
                    "recordsFailed": s.records_failed,
                    "recordsDropped": s.records_dropped,
                    "recordsBackedUp": s.records_backed_up,
                    "objects": s.objects,
                    "bytesOut": s.bytes_out,
                    "writeErrors": s.write_errors,
                    "spilledBytes": s.spilled_bytes,
                    "convertedRecords": s.converted_records,
                    "convertedBytes": s.converted_bytes,
                    "conversionFailures": s.conversion_failures,
                });
                plain(StatusCode::OK, &format!("{doc}\n"))
            }
            Err(e) => plain(StatusCode::NOT_FOUND, &format!("{e}\n")),
        };
    }
    let origin = shared.config.cors && req.headers().contains_key("origin");
    // A preflight for an AWS JSON call (they go to the root, naming X-Amz-Target); S3 has CORS
    // per bucket, which Weir does not grant.
    if origin && req.method() == Method::OPTIONS && json_preflight(&req) {
        return cors_preflight(req.headers());
    }
    let (parts, body) = req.into_parts();
    let route = crate::routing::route(&parts);
    let req = Request::from_parts(parts, body);
    let (json, mut resp) = match route {
        crate::routing::Route::S3 => (false, s3_request(shared, req).await),
        crate::routing::Route::Json(service) => {
            (true, crate::aws_json::handle(shared, service, req).await)
        }
        crate::routing::Route::Rest(service) => {
            (true, crate::rest_json::handle(shared, service, req).await)
        }
    };
    if origin && json {
        let h = resp.headers_mut();
        h.insert("access-control-allow-origin", HeaderValue::from_static("*"));
        h.insert(
            "access-control-expose-headers",
            HeaderValue::from_static(
                "x-amzn-RequestId,x-amzn-ErrorType,x-amz-request-id,x-amz-id-2,x-amzn-ErrorMessage,Date",
            ),
        );
    }
    resp
}

/// Whether a preflight asks for an AWS JSON call: at the root, or naming X-Amz-Target.
fn json_preflight<B>(req: &Request<B>) -> bool {
    let asks_target = req
        .headers()
        .get("access-control-request-headers")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|h| h.to_ascii_lowercase().contains("x-amz-target"));
    asks_target || req.uri().path() == "/"
}

/// A CORS preflight (`OPTIONS` with `Origin`): allowed for any origin, echoing what the
/// browser asks for, as AWS's JSON endpoints answer it.
fn cors_preflight(headers: &hyper::HeaderMap) -> Response<Body> {
    let mut resp = Response::new(Body::full(Bytes::new()));
    let h = resp.headers_mut();
    h.insert("access-control-allow-origin", HeaderValue::from_static("*"));
    for (asked, allowed) in [
        (
            "access-control-request-headers",
            "access-control-allow-headers",
        ),
        (
            "access-control-request-method",
            "access-control-allow-methods",
        ),
    ] {
        if let Some(v) = headers.get(asked) {
            h.insert(allowed, v.clone());
        }
    }
    h.insert("access-control-max-age", HeaderValue::from_static("172800"));
    if let Ok(id) = HeaderValue::from_str(&request_id()) {
        h.insert("x-amzn-requestid", id);
    }
    resp
}

fn plain(status: StatusCode, text: &str) -> Response<Body> {
    let mut resp = Response::new(Body::full(Bytes::copy_from_slice(text.as_bytes())));
    *resp.status_mut() = status;
    resp.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("text/plain"));
    resp
}

/// Reads a request body of at most `limit` bytes. A body larger than a connection's own
/// buffer holds a share of the request-body budget until the request is done: its declared
/// length, reserved before reading (never more than one reservation per request, so readers
/// cannot hold part and wait for the rest); without a declared length the first
/// [`CONNECTION_BUFFER`] bytes are read free and the limit is reserved once more arrive. A body
/// idle for [`IDLE_CONNECTION`] is given up on.
pub(crate) async fn read_body(
    shared: &Shared,
    headers: &hyper::HeaderMap,
    body: Incoming,
    limit: usize,
) -> Result<
    (Bytes, Option<tokio::sync::OwnedSemaphorePermit>),
    Box<dyn std::error::Error + Send + Sync>,
> {
    let declared = headers
        .get(hyper::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    let mut held = match declared {
        Some(n) if n.min(limit) > CONNECTION_BUFFER => shared.bodies.reserve(n.min(limit)).await,
        _ => None,
    };
    let mut body = Limited::new(body, limit);
    let mut bytes = bytes::BytesMut::new();
    loop {
        let frame = match tokio::time::timeout(IDLE_CONNECTION, body.frame()).await {
            Ok(Some(frame)) => frame?,
            Ok(None) => break,
            Err(_) => {
                return Err(Box::new(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    "the request body stopped arriving",
                )))
            }
        };
        if let Ok(data) = frame.into_data() {
            if held.is_none() && bytes.len() + data.len() > CONNECTION_BUFFER {
                held = shared.bodies.reserve(limit).await;
            }
            bytes.extend_from_slice(&data);
        }
    }
    if let Some(h) = held.as_mut() {
        crate::ReadBudget::settle(h, bytes.len());
    }
    Ok((bytes.freeze(), held))
}

pub(crate) fn request_id() -> String {
    weir_log::ids::uuid()
}

/// An S3 request: read it, check its signature, run it, and write S3's answer.
async fn s3_request(shared: &Shared, req: Request<Incoming>) -> Response<Body> {
    use crate::s3::{bucket_and_key, parse_query, S3Error, S3Request};
    let id = request_id();
    let (parts, body) = req.into_parts();
    let mut region = crate::routing::scope_region(&parts)
        .unwrap_or_else(|| shared.config.default_region.clone());
    let host = parts
        .headers
        .get("host")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .or_else(|| parts.uri.authority().map(|a| a.to_string()));
    let (bucket, key) = bucket_and_key(parts.uri.path(), host.as_deref());
    let query = parse_query(parts.uri.query().unwrap_or(""));
    // PutObject and UploadPart bodies stream to disk as they are checked; other bodies (XML
    // documents, and PUTs to mapped buckets, which are re-signed whole) are read first.
    let streams = parts.method == hyper::Method::PUT
        && key.is_some()
        && !parts.headers.contains_key("x-amz-copy-source")
        && bucket
            .as_deref()
            .is_some_and(|b| shared.s3.lake.remote(b).is_none())
        && query.iter().all(|(k, _)| {
            matches!(k.as_str(), "partNumber" | "uploadId" | "x-id")
                || k.to_ascii_lowercase().starts_with("x-amz-")
        })
        && (parts.headers.contains_key("x-amz-content-sha256")
            || shared.config.keys.is_none()
            || query.iter().any(|(k, _)| k == "X-Amz-Signature"));
    // `_held`: the body's share of the read budget, kept until the request is done.
    let (body, stream, _held) = if streams {
        (bytes::Bytes::new(), Some(body), None)
    } else {
        let limit = shared.config.max_object_bytes;
        match read_body(shared, &parts.headers, body, limit).await {
            Ok((b, held)) => (b, None, held),
            Err(_) => {
                let e = S3Error::new(
                    "EntityTooLarge",
                    400,
                    format!(
                        "Your proposed upload exceeds the maximum allowed size of {limit} bytes."
                    ),
                );
                return s3_response(crate::s3::error_response(&e, &id), &id);
            }
        }
    };
    let mut chain = None;
    if let Some(keys) = &shared.config.keys {
        match crate::auth::verify(keys, &parts, &body, shared.log.now_ms(), true) {
            Ok(v) => {
                region = v.region;
                chain = Some(v.chain);
            }
            Err(e) => {
                let code = match e.code {
                    "InvalidSignatureException" => "SignatureDoesNotMatch",
                    "UnrecognizedClientException" => "InvalidAccessKeyId",
                    "MissingAuthenticationTokenException" => "AccessDenied",
                    _ => "AuthorizationHeaderMalformed",
                };
                let status = if code == "AuthorizationHeaderMalformed" {
                    400
                } else {
                    403
                };
                return s3_response(
                    crate::s3::error_response(&S3Error::new(code, status, e.message), &id),
                    &id,
                );
            }
        }
    }
    let request = S3Request {
        method: parts.method,
        bucket,
        key,
        query,
        headers: parts.headers,
        body,
        region,
        chain,
        stream: std::sync::Mutex::new(stream),
    };
    let resp = crate::s3::handle(&shared.s3, request, &id).await;
    s3_response(resp, &id)
}

fn s3_response(r: crate::s3::S3Response, id: &str) -> Response<Body> {
    let body = match r.stream {
        Some(rx) => Body::channel(rx),
        None => Body::Full(Some(r.body), r.held),
    };
    let mut resp = Response::new(body);
    *resp.status_mut() =
        StatusCode::from_u16(r.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let h = resp.headers_mut();
    for (name, value) in r.headers {
        if let (Ok(n), Ok(v)) = (
            hyper::header::HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            h.append(n, v);
        }
    }
    if let Ok(v) = HeaderValue::from_str(id) {
        h.insert("x-amz-request-id", v);
    }
    resp
}
