//! The Flink SQL Gateway REST API on its own port (8083, as Flink's): `/v1` and `/v2` paths
//! (unversioned paths are v2), sessions, statements, operations and paged results, so Flink's
//! SQL client in gateway mode and tools built on the gateway drive Weir's streaming engine.
//! Every answer is JSON (`{}` when there is nothing to say); errors are `{"errors": [...]}`.

mod gateway;
mod jobs;
mod results;

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo};
use serde_json::{json, Value};
use tokio::net::TcpListener;
use weir_stream::Engine;

pub use gateway::Gateway;
use gateway::GatewayError;
use results::RowFormat;

/// The API versions whose paths are served. `/api_versions` lists V1 and V2 only: a client
/// fails on a version its enum lacks (Flink 1.17–1.19 know no V3), and V3 adds only
/// materialized tables; newer clients (and py-flink-sql-gateway) call `/v3/...` paths anyway.
const VERSIONS: [&str; 3] = ["v1", "v2", "v3"];
/// The version unversioned paths are.
const DEFAULT_VERSION: &str = "v2";
/// The Flink release whose gateway this one answers as.
pub const FLINK_VERSION: &str = "1.20.0";

/// Serves the gateway until `shutdown` resolves.
pub async fn serve(
    listener: TcpListener,
    engine: Engine,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let gateway = Arc::new(Gateway::new(engine));
    let sweeper = {
        let g = gateway.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
            loop {
                tick.tick().await;
                g.expire_sessions();
            }
        })
    };
    let _sweeper = AbortOnDrop(sweeper);
    tokio::pin!(shutdown);
    loop {
        let (stream, _) = tokio::select! {
            r = listener.accept() => r?,
            _ = &mut shutdown => return Ok(()),
        };
        let gateway = gateway.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req| {
                let gateway = gateway.clone();
                async move { Ok::<_, Infallible>(handle(&gateway, req).await) }
            });
            let builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
            if let Err(e) = builder
                .serve_connection(TokioIo::new(stream), service)
                .await
            {
                tracing::debug!(error = %e, "gateway connection ended");
            }
        });
    }
}

/// Stops a background task when the server stops.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

fn reply(status: StatusCode, body: &Value) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(body.to_string())));
    *r.status_mut() = status;
    r.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json; charset=UTF-8"),
    );
    r
}

fn error_reply(e: &GatewayError) -> Response<Full<Bytes>> {
    let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    reply(status, &e.body())
}

fn bad_request(message: String) -> GatewayError {
    GatewayError {
        status: 400,
        ..GatewayError::new("", message)
    }
}

async fn handle(gateway: &Gateway, req: Request<Incoming>) -> Response<Full<Bytes>> {
    let method = req.method().clone();
    let uri = req.uri().clone();
    let body = match req.into_body().collect().await {
        Ok(b) => b.to_bytes(),
        Err(e) => return error_reply(&bad_request(format!("Could not read the request: {e}"))),
    };
    match route(gateway, &method, &uri, &body).await {
        Ok(v) => reply(StatusCode::OK, &v),
        Err(e) => error_reply(&e),
    }
}

/// A request body as JSON (`{}` when empty).
fn body_json(body: &Bytes, what: &str) -> Result<Value, GatewayError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(json!({}));
    }
    serde_json::from_slice(body)
        .map_err(|_| bad_request(format!("Request did not match expected format {what}.")))
}

async fn route(
    gateway: &Gateway,
    method: &Method,
    uri: &hyper::Uri,
    body: &Bytes,
) -> Result<Value, GatewayError> {
    let path = uri.path().trim_end_matches('/');
    let mut parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    let version = match parts.first() {
        Some(v) if VERSIONS.contains(v) => {
            let v = *v;
            parts.remove(0);
            v
        }
        _ => DEFAULT_VERSION,
    };
    let not_found = || GatewayError {
        status: 404,
        ..GatewayError::new("", format!("Not found: {path}"))
    };
    match (method, parts.as_slice()) {
        (&Method::GET, ["api_versions"]) => Ok(json!({"versions": ["V1", "V2"]})),
        (&Method::GET, ["info"]) => {
            Ok(json!({"productName": "Apache Flink", "version": FLINK_VERSION}))
        }
        (&Method::POST, ["sessions"]) => {
            let b = body_json(body, "OpenSessionRequestBody")?;
            let properties: BTreeMap<String, String> = b
                .get("properties")
                .and_then(Value::as_object)
                .map(|m| {
                    m.iter()
                        .map(|(k, v)| {
                            let v = v.as_str().map_or_else(|| v.to_string(), str::to_string);
                            (k.clone(), v)
                        })
                        .collect()
                })
                .unwrap_or_default();
            Ok(json!({"sessionHandle": gateway.open_session(properties)}))
        }
        (&Method::GET, ["sessions", s]) => {
            let entry = gateway.session(s)?;
            let session = entry.session.lock().await;
            Ok(json!({"properties": session.config()}))
        }
        (&Method::DELETE, ["sessions", s]) => {
            gateway.close_session(s)?;
            Ok(json!({"status": "CLOSED"}))
        }
        (&Method::POST, ["sessions", s, "heartbeat"]) => {
            gateway.session(s)?;
            Ok(json!({}))
        }
        (&Method::POST, ["sessions", s, "configure-session"]) if version != "v1" => {
            let b = body_json(body, "ConfigureSessionRequestBody")?;
            let statement = statement_of(&b, "ConfigureSessionRequestBody")?;
            gateway.run_now(s, &statement).await?;
            Ok(json!({}))
        }
        (&Method::GET, ["sessions", s, "complete-statement"]) if version != "v1" => {
            gateway.session(s)?;
            Ok(json!({"candidates": []}))
        }
        (&Method::POST, ["sessions", s, "statements"]) => {
            let b = body_json(body, "ExecuteStatementRequestBody")?;
            let statement = statement_of(&b, "ExecuteStatementRequestBody")?;
            if b.get("executionTimeout")
                .and_then(Value::as_i64)
                .unwrap_or(0)
                > 0
            {
                return Err(GatewayError::new(
                    "java.lang.UnsupportedOperationException",
                    "SqlGatewayService doesn't support timeout mechanism now.",
                ));
            }
            Ok(json!({"operationHandle": gateway.submit(s, statement)?}))
        }
        (&Method::GET, ["sessions", s, "operations", o, "status"]) => {
            let op = gateway.operation(s, o)?;
            let status = *op.status.lock();
            Ok(json!({"status": status.name()}))
        }
        (&Method::POST, ["sessions", s, "operations", o, "cancel"]) => {
            Ok(json!({"status": gateway.cancel(s, o)?.name()}))
        }
        (&Method::DELETE, ["sessions", s, "operations", o, "close"]) => {
            gateway.close_operation(s, o)?;
            Ok(json!({"status": "CLOSED"}))
        }
        (&Method::GET, ["sessions", s, "operations", o, "result", token]) => {
            let token: u64 = token.parse().map_err(|_| {
                bad_request(format!(
                    "Bad request, could not parse parameters: Cannot resolve path parameter \
                     (token) from value \"{token}\"."
                ))
            })?;
            let format = match (version, query_param(uri, "rowFormat")) {
                ("v1", _) => RowFormat::Json,
                (_, Some(f)) if f.eq_ignore_ascii_case("PLAIN_TEXT") => RowFormat::PlainText,
                (_, Some(f)) if !f.eq_ignore_ascii_case("JSON") => {
                    return Err(bad_request(format!(
                        "Bad request, could not parse parameters: Cannot resolve query \
                         parameter (rowFormat) from value \"{f}\"."
                    )))
                }
                _ => RowFormat::Json,
            };
            let next = |t: u64| {
                if version == "v1" {
                    format!("/v1/sessions/{s}/operations/{o}/result/{t}")
                } else {
                    format!(
                        "/{version}/sessions/{s}/operations/{o}/result/{t}?rowFormat={}",
                        format.name()
                    )
                }
            };
            gateway.fetch(s, o, token, format, &next)
        }
        // Flink's JobManager REST API (port 8081 in Flink) for the jobs Weir runs, with Weir's
        // counters under "weir".
        (&Method::GET, ["jobs", "overview"]) => Ok(json!({
            "jobs": gateway.engine.jobs().iter().map(jobs::overview).collect::<Vec<_>>()
        })),
        (&Method::GET, ["jobs", id]) => gateway
            .engine
            .job(id)
            .map(|j| jobs::detail(&j))
            .ok_or_else(|| GatewayError {
                status: 404,
                ..GatewayError::new("", format!("Job {id} not found"))
            }),
        _ => Err(not_found()),
    }
}

fn statement_of(body: &Value, what: &str) -> Result<String, GatewayError> {
    body.get("statement")
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| bad_request(format!("Request did not match expected format {what}.")))
}

fn query_param(uri: &hyper::Uri, name: &str) -> Option<String> {
    uri.query()?.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=')?;
        (k == name).then(|| v.to_string())
    })
}
