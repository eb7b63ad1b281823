//! AWS REST-JSON services (MSK's `kafka` API first): the operation is found by method and URI
//! template from the service model, its input gathered from URI labels, query string, headers
//! and body under the names the model binds them to, checked by the model like any JSON
//! service's input, and the handler's output written back under the model's wire names (its
//! timestamps in ISO-8601).
//! Errors: the status of the error shape, `x-amzn-ErrorType`, and `{"message": ...}`.

use bytes::Bytes;
use hyper::body::Incoming;
use hyper::header::{HeaderValue, CONTENT_TYPE};
use hyper::{Request, Response, StatusCode};

use crate::body::Body;
use crate::error::ApiError;
use crate::input::Input;
use crate::model::{Kind, Overlay, ServiceModel, Shape};
use crate::routing::Dispatch;
use crate::server::{request_id, Shared};
use crate::value::{self, Key, Protocol, Value};

/// A REST-JSON service on the port, found by its SigV4 signing name.
pub struct RestService {
    pub signing_name: &'static str,
    pub model: fn() -> &'static ServiceModel,
    pub overlay: &'static Overlay,
    /// The operations Weir implements; others are refused as not served.
    pub actions: &'static [&'static str],
    pub dispatch: Dispatch,
}

/// The REST-JSON routing table.
pub static SERVICES: &[RestService] = &[RestService {
    signing_name: "kafka",
    model: crate::model::kafka,
    overlay: &crate::kafka::OVERLAY,
    actions: crate::kafka::ACTIONS,
    dispatch: |ctx, action, input| Box::pin(crate::kafka::dispatch(ctx, action, input)),
}];

pub fn service(signing_name: &str) -> Option<&'static RestService> {
    SERVICES.iter().find(|s| s.signing_name == signing_name)
}

/// The operation whose method and URI template match, with the template's labels' values
/// (still percent-encoded). Segments are compared before decoding, so an ARN's encoded
/// slashes stay inside its label.
/// URI labels and their values.
type Labels = Vec<(String, String)>;

fn find_operation<'m>(
    model: &'m ServiceModel,
    method: &str,
    path: &str,
) -> Option<(&'m str, Labels)> {
    let segments: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    let mut best: Option<(&str, Labels, usize)> = None;
    for (name, op) in model.operations() {
        let Some(http) = &op.http else { continue };
        if http.method != method {
            continue;
        }
        let template = http.request_uri.split('?').next().unwrap_or("");
        let parts: Vec<&str> = template.trim_end_matches('/').split('/').collect();
        if parts.len() != segments.len() {
            continue;
        }
        let mut labels = Vec::new();
        let mut literal = 0;
        let fits = parts.iter().zip(&segments).all(|(t, s)| {
            match t.strip_prefix('{').and_then(|l| l.strip_suffix('}')) {
                Some(label) => {
                    labels.push((label.trim_end_matches('+').to_string(), s.to_string()));
                    !s.is_empty()
                }
                None => {
                    literal += 1;
                    t == s
                }
            }
        });
        // The template with most literal segments wins (`/v1/clusters/x` over `{arn}`).
        if fits && best.as_ref().is_none_or(|(_, _, l)| literal > *l) {
            best = Some((name.as_str(), labels, literal));
        }
    }
    best.map(|(n, l, _)| (n, l))
}

/// A member's wire name (its `locationName`, else its own) and location.
fn wire<'s>(shape: &'s Shape, member: &'s str) -> (&'s str, Option<&'s str>) {
    match shape.locations.get(member) {
        Some(l) => (
            l.location_name.as_deref().unwrap_or(member),
            l.location.as_deref(),
        ),
        None => (member, None),
    }
}

/// A value renamed between wire names and member names, recursively: from the wire
/// (`to_wire` false: body keys → member names) or to it (member names → `locationName`s).
fn rename(model: &ServiceModel, shape: &Shape, v: Value, to_wire: bool) -> Value {
    let inner = |name: Option<&str>| name.and_then(|s| model.shape(s));
    match (shape.kind, v) {
        (Kind::Structure, Value::Map(items)) => Value::Map(
            items
                .into_iter()
                .map(|(k, v)| {
                    let member = shape.members.iter().find(|(m, _)| match to_wire {
                        true => m == k.as_ref(),
                        false => wire(shape, m).0 == k.as_ref(),
                    });
                    match member.and_then(|(m, s)| Some((m, model.shape(s)?))) {
                        Some((m, s)) => {
                            let name = match to_wire {
                                true => wire(shape, m).0.to_string(),
                                false => m.clone(),
                            };
                            (Key::Owned(name), rename(model, s, v, to_wire))
                        }
                        None => (k, v),
                    }
                })
                .collect(),
        ),
        (Kind::List, Value::List(items)) => match inner(shape.member.as_deref()) {
            Some(s) => Value::List(
                items
                    .into_iter()
                    .map(|v| rename(model, s, v, to_wire))
                    .collect(),
            ),
            None => Value::List(items),
        },
        (Kind::Map, Value::Map(items)) => match inner(shape.value.as_deref()) {
            Some(s) => Value::Map(
                items
                    .into_iter()
                    .map(|(k, v)| (k, rename(model, s, v, to_wire)))
                    .collect(),
            ),
            None => Value::Map(items),
        },
        // REST-JSON's timestamps are ISO-8601 unless the model says otherwise (MSK's are).
        (Kind::Timestamp, Value::Timestamp(ms)) if to_wire => {
            Value::str(crate::s3::time::iso8601(ms))
        }
        (_, v) => v,
    }
}

/// A URI label, query parameter or header as the member's type.
fn scalar(shape: &Shape, raw: &str) -> Value {
    match shape.kind {
        Kind::Integer | Kind::Long | Kind::Short | Kind::Byte => raw
            .parse::<i128>()
            .map_or_else(|_| Value::str(raw), Value::Int),
        Kind::Boolean => match raw {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            _ => Value::str(raw),
        },
        _ => Value::str(raw),
    }
}

/// The operation's input: the body's members, then those bound to the URI, query and headers.
fn gather(
    model: &ServiceModel,
    input: &Shape,
    labels: &[(String, String)],
    query: &[(String, String)],
    headers: &hyper::HeaderMap,
    body: &[u8],
) -> Result<Value, ApiError> {
    let mut doc = match body.iter().all(u8::is_ascii_whitespace) {
        true => Vec::new(),
        false => match value::decode(Protocol::Json, body) {
            Ok(v @ Value::Map(_)) => match rename(model, input, v, false) {
                Value::Map(items) => items,
                _ => Vec::new(),
            },
            _ => return Err(bad_request("The request body is not a JSON object.")),
        },
    };
    for (member, shape_name) in &input.members {
        let (name, location) = wire(input, member);
        let Some(shape) = model.shape(shape_name) else {
            continue;
        };
        let value = match location {
            Some("uri") => labels
                .iter()
                .find(|(l, _)| l == name)
                .map(|(_, v)| scalar(shape, &crate::uri::percent_decode(v))),
            Some("querystring") => {
                let found: Vec<&str> = query
                    .iter()
                    .filter(|(k, _)| k == name)
                    .map(|(_, v)| v.as_str())
                    .collect();
                match (shape.kind, found.as_slice()) {
                    (_, []) => None,
                    (Kind::List, values) => {
                        let element = shape.member.as_deref().and_then(|s| model.shape(s));
                        Some(Value::List(
                            values
                                .iter()
                                .map(|v| element.map_or_else(|| Value::str(*v), |e| scalar(e, v)))
                                .collect(),
                        ))
                    }
                    (_, [v, ..]) => Some(scalar(shape, v)),
                }
            }
            Some("header") => headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(|v| scalar(shape, v)),
            _ => None,
        };
        if let Some(v) = value {
            doc.retain(|(k, _)| k.as_ref() != member.as_str());
            doc.push((Key::Owned(member.clone()), v));
        }
    }
    Ok(Value::Map(doc))
}

pub fn bad_request(message: impl Into<String>) -> ApiError {
    ApiError::new("BadRequestException", 400, message)
}

/// Runs one request for a REST-JSON `service`.
pub async fn handle(
    shared: &Shared,
    service: &'static RestService,
    req: Request<Incoming>,
) -> Response<Body> {
    let (parts, body) = req.into_parts();
    let limit = shared.config.max_body_bytes;
    let (body, _held) = match crate::server::read_body(shared, &parts.headers, body, limit).await {
        Ok(b) => b,
        Err(_) => return error(&bad_request("Could not read the request body.")),
    };
    if let Err(e) = crate::aws_json::check_auth(shared, &parts, &body) {
        return error(&e);
    }
    let model = (service.model)();
    let Some((action, labels)) = find_operation(model, parts.method.as_str(), parts.uri.path())
    else {
        return error(&ApiError::new(
            "NotFoundException",
            404,
            format!(
                "No {} operation answers {} {}.",
                service.signing_name,
                parts.method,
                parts.uri.path()
            ),
        ));
    };
    if !service.actions.contains(&action) {
        return error(&bad_request(format!("Weir does not serve {action} yet.")));
    }
    let op = model.operation(action);
    let input_shape = op
        .and_then(|o| o.input.as_deref())
        .and_then(|s| model.shape(s));
    let query = crate::uri::parse_query(parts.uri.query().unwrap_or(""));
    let mut doc = match input_shape {
        Some(shape) => match gather(model, shape, &labels, &query, &parts.headers, &body) {
            Ok(doc) => doc,
            Err(e) => return error(&e),
        },
        None => Value::Map(Vec::new()),
    };
    // The model's checks, answered as this protocol's BadRequestException.
    if let Err(e) = model.check_request(action, &mut doc, Protocol::Json, service.overlay) {
        return error(&bad_request(e.message));
    }
    let region = crate::routing::scope_region(&parts)
        .unwrap_or_else(|| shared.config.default_region.clone());
    let result = match Input::new(doc, Protocol::Json) {
        Ok(input) => crate::aws_json::run(shared, service.dispatch, action, region, input).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(crate::Reply::Doc(v)) | Ok(crate::Reply::Held(v, _)) => {
            let output = op
                .and_then(|o| o.output.as_deref())
                .and_then(|s| model.shape(s));
            let v = match output {
                Some(shape) => rename(model, shape, v, true),
                None => v,
            };
            let status = op
                .and_then(|o| o.http.as_ref())
                .and_then(|h| h.response_code)
                .unwrap_or(200);
            respond(status, value::encode(Protocol::Json, &v), None)
        }
        Ok(crate::Reply::Events(_)) => error(&ApiError::new(
            "InternalServerErrorException",
            500,
            "An event stream is not a REST-JSON answer.",
        )),
        Err(e) => {
            tracing::debug!(%action, code = e.code, message = %e.message, "request failed");
            error(&e)
        }
    }
}

fn respond(status: u16, body: Vec<u8>, error_type: Option<&str>) -> Response<Body> {
    let mut resp = Response::new(Body::full(Bytes::from(body)));
    *resp.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    let h = resp.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    if let Ok(id) = HeaderValue::from_str(&request_id()) {
        h.insert("x-amzn-requestid", id);
    }
    if let Some(t) = error_type.and_then(|t| HeaderValue::from_str(t).ok()) {
        h.insert("x-amzn-errortype", t);
    }
    resp
}

/// An error as REST-JSON services send it.
pub fn error(e: &ApiError) -> Response<Body> {
    let body = Value::map([("message", Value::str(e.message.clone()))]);
    respond(e.status, value::encode(Protocol::Json, &body), Some(e.code))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operations_are_found_by_method_and_template() {
        let m = crate::model::kafka();
        let arn = "arn%3Aaws%3Akafka%3Aus-east-1%3A1%3Acluster%2Fa%2Fu";
        let (op, labels) = find_operation(m, "GET", &format!("/v1/clusters/{arn}")).unwrap();
        assert_eq!(op, "DescribeCluster");
        assert_eq!(labels, vec![("clusterArn".to_string(), arn.to_string())]);
        let path = format!("/v1/clusters/{arn}/bootstrap-brokers");
        assert_eq!(
            find_operation(m, "GET", &path).unwrap().0,
            "GetBootstrapBrokers"
        );
        assert_eq!(
            find_operation(m, "POST", "/v1/clusters").unwrap().0,
            "CreateCluster"
        );
        assert_eq!(
            find_operation(m, "GET", "/api/v2/clusters").unwrap().0,
            "ListClustersV2"
        );
        assert!(find_operation(m, "PATCH", "/v1/nothing").is_none());
    }

    #[test]
    fn body_keys_and_bindings_become_member_names() {
        let m = crate::model::kafka();
        let shape = m.shape("ListClustersRequest").unwrap();
        let query = vec![("maxResults".to_string(), "5".to_string())];
        let doc = gather(m, shape, &[], &query, &hyper::HeaderMap::new(), b"").unwrap();
        assert_eq!(
            doc,
            Value::Map(vec![(Key::Owned("MaxResults".into()), Value::Int(5))])
        );
        let shape = m.shape("CreateClusterRequest").unwrap();
        let body = br#"{"clusterName":"a","brokerNodeGroupInfo":{"instanceType":"kafka.m5.large","clientSubnets":["s"]}}"#;
        let doc = gather(m, shape, &[], &[], &hyper::HeaderMap::new(), body).unwrap();
        let Value::Map(items) = doc else { panic!() };
        assert_eq!(items[0].0, "ClusterName");
        let Value::Map(group) = &items[1].1 else {
            panic!()
        };
        assert_eq!(group[0].0, "InstanceType");
    }
}
