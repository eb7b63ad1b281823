//! An AWS JSON 1.1 / CBOR service call, checked in the order AWS's endpoints check it:
//! method, body presence, Content-Type, target, body syntax, authentication structure (and the
//! signature, when keys are configured), then the model's type and constraint checks; only then
//! does a handler run.

use bytes::Bytes;
use hyper::body::Incoming;
use hyper::header::{HeaderValue, CONTENT_TYPE};
use hyper::http::request::Parts;
use hyper::{Method, Request, Response, StatusCode};

use crate::body::Body;
use crate::error::ApiError;
use crate::input::Input;
use crate::routing::JsonService;
use crate::server::{request_id, Shared};
use crate::value::{self, Protocol, Value};
use crate::{Ctx, Reply};

const AMZ_JSON: &str = "application/x-amz-json-1.1";
const AMZ_CBOR: &str = "application/x-amz-cbor-1.1";
/// The JSON form AWS still answers in its old envelope.
const PLAIN_JSON: &str = "application/json";

/// Runs one request for `service` (`None`: a JSON-protocol call that names no known service).
pub async fn handle(
    shared: &Shared,
    service: Option<&'static JsonService>,
    req: Request<Incoming>,
) -> Response<Body> {
    let (parts, body) = req.into_parts();
    if parts.method != Method::POST {
        return xml_error(
            "AccessDeniedException",
            Some("Unable to determine service/operation name to be authorized"),
            403,
        );
    }
    let content_type = parts
        .headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_string();
    let target = parts
        .headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let (prefix, action) = target.split_once('.').unwrap_or((target.as_str(), ""));
    let known = service.filter(|s| s.target_prefix == prefix && !prefix.is_empty());
    let action_known = known.is_some_and(|s| s.actions.contains(&action));

    let limit = shared.config.max_body_bytes;
    // `_held`: the body's share of the read budget, kept until the answer is made.
    let (body, _held) = match crate::server::read_body(shared, &parts.headers, body, limit).await {
        Ok(b) => b,
        Err(e) => {
            let protocol = if content_type == AMZ_CBOR {
                Protocol::Cbor
            } else {
                Protocol::Json
            };
            if e.downcast_ref::<http_body_util::LengthLimitError>()
                .is_some()
            {
                let err = ApiError::new(
                    "ValidationException",
                    413,
                    format!("The request body exceeds the limit of {limit} bytes."),
                );
                return error_response(protocol, &err);
            }
            return error_response(
                protocol,
                &ApiError::serialization("Could not read the body."),
            );
        }
    };

    if body.is_empty() {
        let protocol = if content_type == AMZ_JSON {
            Protocol::Json
        } else {
            Protocol::Cbor
        };
        let code = if action_known {
            "SerializationException"
        } else {
            "UnknownOperationException"
        };
        return error_response(protocol, &ApiError::bare(code, 400));
    }
    let protocol = match content_type.as_str() {
        AMZ_JSON => Protocol::Json,
        AMZ_CBOR => Protocol::Cbor,
        PLAIN_JSON => {
            // AWS parses the body, then answers in the old envelope.
            let parsed = value::decode(Protocol::Json, &body);
            let code = match parsed {
                Ok(Value::Map(_)) | Ok(Value::List(_)) => "UnknownOperationException",
                _ => "SerializationException",
            };
            let status = if code == "SerializationException" {
                400
            } else {
                404
            };
            return envelope_error(code, status);
        }
        _ => {
            if prefix.is_empty() || action.is_empty() {
                return xml_error(
                    "AccessDeniedException",
                    Some("Unable to determine service/operation name to be authorized"),
                    403,
                );
            }
            return xml_error("UnknownOperationException", None, 404);
        }
    };
    let mut doc = match value::decode(protocol, &body) {
        Ok(doc @ Value::Map(_)) => doc,
        _ => {
            return error_response(protocol, &ApiError::bare("SerializationException", 400));
        }
    };
    let (Some(service), true) = (known, action_known) else {
        return error_response(protocol, &ApiError::bare("UnknownOperationException", 400));
    };
    if let Err(e) = check_auth(shared, &parts, &body) {
        return error_response(protocol, &e);
    }
    let region = crate::routing::scope_region(&parts)
        .unwrap_or_else(|| shared.config.default_region.clone());
    let model = (service.model)();
    if let Err(e) = model.check_request(action, &mut doc, protocol, service.overlay) {
        return error_response(protocol, &e);
    }
    let result = match Input::new(doc, protocol) {
        Ok(input) => run(shared, service.dispatch, action, region, input).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(Reply::Doc(v)) => document(protocol, v, None, model.has_output(action)),
        Ok(Reply::Held(v, held)) => document(protocol, v, Some(held), model.has_output(action)),
        Ok(Reply::Events(rx)) => with_body("application/vnd.amazon.eventstream", Body::channel(rx)),
        Err(e) => {
            tracing::debug!(target = %target, code = e.code, message = %e.message, "request failed");
            error_response(protocol, &e)
        }
    }
}

/// Runs a checked request's handler with the engines.
pub(crate) async fn run(
    shared: &Shared,
    dispatch: crate::routing::Dispatch,
    action: &str,
    region: String,
    input: Input,
) -> Result<Reply, ApiError> {
    let protocol = input.protocol();
    let ctx = Ctx {
        log: shared.log.clone(),
        delivery: shared.delivery.clone(),
        catalog: shared.catalog.clone(),
        athena: shared.athena.clone(),
        analytics: shared.analytics.clone(),
        lake: shared.s3.lake.clone(),
        crawlers: shared.crawlers.clone(),
        jobs: shared.jobs.clone(),
        region,
        protocol,
        fanout: shared.fanout.clone(),
        rates: shared.rates.clone(),
        reads: shared.reads.clone(),
        clusters: shared.clusters.clone(),
    };
    dispatch(&ctx, action, input).await
}

/// The authentication structure AWS checks before anything else about the caller, then the
/// signature itself when keys are configured.
pub(crate) fn check_auth(shared: &Shared, parts: &Parts, body: &[u8]) -> Result<(), ApiError> {
    if let Some(keys) = &shared.config.keys {
        return crate::auth::verify(keys, parts, body, shared.log.now_ms(), false).map(|_| ());
    }
    let params = crate::uri::parse_query(parts.uri.query().unwrap_or(""));
    let unsigned = !parts.headers.contains_key("authorization")
        && !params.iter().any(|(k, _)| k == "X-Amz-Algorithm");
    // Taking unsigned calls is for servers without keys; with keys every call is verified.
    if unsigned && shared.config.allow_unsigned {
        return Ok(());
    }
    crate::auth::check_structure(parts, &params)
}

/// An error in the request's protocol: `__type`, and the message under the member AWS uses.
pub fn error_response(protocol: Protocol, e: &ApiError) -> Response<Body> {
    let mut members = vec![("__type", Value::str(e.code))];
    if let Some(key) = e.message_key.filter(|_| !e.message.is_empty()) {
        members.push((key, Value::str(e.message.clone())));
    }
    for (key, items) in &e.lists {
        members.push((
            key,
            Value::List(items.iter().cloned().map(Value::Str).collect()),
        ));
    }
    let body = Value::map(members);
    let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST);
    let mut resp = respond(protocol, status, value::encode(protocol, &body));
    if let Ok(v) = HeaderValue::from_str(e.code) {
        resp.headers_mut().insert("x-amzn-errortype", v);
    }
    resp
}

fn respond(protocol: Protocol, status: StatusCode, body: Vec<u8>) -> Response<Body> {
    let mut resp = with_body(protocol.content_type(), Body::full(Bytes::from(body)));
    *resp.status_mut() = status;
    resp
}

/// A 200 answer with its content type and request ids.
fn with_body(content_type: &'static str, body: Body) -> Response<Body> {
    let mut resp = Response::new(body);
    resp.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    request_headers(&mut resp);
    resp
}

/// A handler's document: empty for actions without output, streamed as it is encoded when
/// large (keeping `held`, its share of a memory budget, until sent), else encoded whole.
fn document(
    protocol: Protocol,
    v: Value,
    held: Option<tokio::sync::OwnedSemaphorePermit>,
    has_output: bool,
) -> Response<Body> {
    if !has_output {
        return respond(protocol, StatusCode::OK, Vec::new());
    }
    if crate::value_stream::is_large(&v) {
        let pieces = crate::value_stream::stream(protocol, v, held);
        return with_body(protocol.content_type(), Body::channel(pieces));
    }
    // The answer keeps its share until it has been handed to the connection.
    let mut resp = respond(protocol, StatusCode::OK, value::encode(protocol, &v));
    if let (Some(held), Body::Full(_, slot)) = (held, resp.body_mut()) {
        *slot = Some(held);
    }
    resp
}

/// `x-amzn-RequestId` and `x-amz-id-2`, as AWS's JSON endpoints send them.
fn request_headers(resp: &mut Response<Body>) {
    let h = resp.headers_mut();
    if let Ok(id) = HeaderValue::from_str(&request_id()) {
        h.insert("x-amzn-requestid", id);
    }
    let mut id2 = [0u8; 72];
    rand::Rng::fill(&mut rand::thread_rng(), &mut id2[..]);
    if let Ok(v) = HeaderValue::from_str(&base64_simd::STANDARD.encode_to_string(id2)) {
        h.insert("x-amz-id-2", v);
    }
}

/// AWS's XML error document for requests it cannot take as a JSON call.
fn xml_error(code: &'static str, message: Option<&str>, status: u16) -> Response<Body> {
    let text = match message {
        Some(m) => format!("<{code}>\n  <Message>{m}</Message>\n</{code}>\n"),
        None => format!("<{code}/>\n"),
    };
    let mut resp = Response::new(Body::full(Bytes::from(text)));
    *resp.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::FORBIDDEN);
    request_headers(&mut resp);
    resp
}

/// The old JSON envelope AWS answers `application/json` requests with.
fn envelope_error(code: &str, status: u16) -> Response<Body> {
    let body = format!(
        "{{\"Output\":{{\"__type\":\"com.amazon.coral.service#{code}\"}},\"Version\":\"1.0\"}}"
    );
    let mut resp = Response::new(Body::full(Bytes::from(body)));
    *resp.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
    resp.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(PLAIN_JSON));
    request_headers(&mut resp);
    resp
}
