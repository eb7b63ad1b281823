//! Which service a request on the shared port is for, decided as AWS's endpoints would be:
//! by `X-Amz-Target`, else by the service of the SigV4 credential scope, else S3.
//! One table; each new service adds a row.

use hyper::header::CONTENT_TYPE;
use hyper::http::request::Parts;
use hyper::{HeaderMap, Method};

use crate::error::ApiError;
use crate::input::Input;
use crate::model::{Overlay, ServiceModel};
use crate::{Ctx, Reply};

/// A service's handlers: runs one action.
pub type Dispatch = for<'a> fn(
    &'a Ctx,
    &'a str,
    Input,
) -> std::pin::Pin<
    Box<dyn std::future::Future<Output = Result<Reply, ApiError>> + Send + 'a>,
>;

/// An AWS JSON service on the port: how requests name it and what it understands.
pub struct JsonService {
    /// `X-Amz-Target: <prefix>.<Action>` (the model's targetPrefix; a test holds them equal).
    pub target_prefix: &'static str,
    /// The SigV4 signing name (credential scope service).
    pub signing_name: &'static str,
    /// Loaded on the first request the service checks, not to route one.
    pub model: fn() -> &'static ServiceModel,
    /// What recorded answers show beyond the model.
    pub overlay: &'static Overlay,
    /// The actions Weir implements (others are unknown operations).
    pub actions: &'static [&'static str],
    pub dispatch: Dispatch,
}

/// Where a request goes.
pub enum Route {
    /// An AWS JSON service. `None`: a JSON-protocol request that names no known service.
    Json(Option<&'static JsonService>),
    /// A REST-JSON service, found by the signing name of the credential scope.
    Rest(&'static crate::rest_json::RestService),
    S3,
}

/// The routing table.
pub static SERVICES: &[JsonService] = &[
    JsonService {
        target_prefix: crate::kinesis::TARGET_PREFIX,
        signing_name: "kinesis",
        model: crate::model::kinesis,
        overlay: &crate::kinesis::OVERLAY,
        actions: crate::kinesis::ACTIONS,
        dispatch: |ctx, action, input| Box::pin(crate::kinesis::dispatch(ctx, action, input)),
    },
    JsonService {
        target_prefix: crate::firehose::TARGET_PREFIX,
        signing_name: "firehose",
        model: crate::model::firehose,
        overlay: &crate::firehose::OVERLAY,
        actions: crate::firehose::ACTIONS,
        dispatch: |ctx, action, input| Box::pin(crate::firehose::dispatch(ctx, action, input)),
    },
    JsonService {
        target_prefix: crate::glue::TARGET_PREFIX,
        signing_name: "glue",
        model: crate::model::glue,
        overlay: &crate::glue::OVERLAY,
        actions: crate::glue::ACTIONS,
        dispatch: |ctx, action, input| Box::pin(crate::glue::dispatch(ctx, action, input)),
    },
    JsonService {
        target_prefix: crate::athena::TARGET_PREFIX,
        signing_name: "athena",
        model: crate::model::athena,
        overlay: &crate::athena::OVERLAY,
        actions: crate::athena::ACTIONS,
        dispatch: |ctx, action, input| Box::pin(crate::athena::dispatch(ctx, action, input)),
    },
    // Both Kinesis Analytics APIs sign as `kinesisanalytics`: a signed request without a
    // target goes to the first (v1).
    JsonService {
        target_prefix: crate::kinesisanalytics::TARGET_PREFIX,
        signing_name: "kinesisanalytics",
        model: crate::model::kinesisanalytics,
        overlay: &crate::kinesisanalytics::OVERLAY,
        actions: crate::kinesisanalytics::ACTIONS,
        dispatch: |ctx, action, input| {
            Box::pin(crate::kinesisanalytics::dispatch(ctx, action, input))
        },
    },
    JsonService {
        target_prefix: crate::kinesisanalyticsv2::TARGET_PREFIX,
        signing_name: "kinesisanalytics",
        model: crate::model::kinesisanalyticsv2,
        overlay: &crate::kinesisanalyticsv2::OVERLAY,
        actions: crate::kinesisanalyticsv2::ACTIONS,
        dispatch: |ctx, action, input| {
            Box::pin(crate::kinesisanalyticsv2::dispatch(ctx, action, input))
        },
    },
];

/// Decides the service of a request.
pub fn route(parts: &Parts) -> Route {
    let target = header(&parts.headers, "x-amz-target");
    if let Some(target) = target {
        let prefix = target.split('.').next().unwrap_or("");
        if let Some(s) = SERVICES.iter().find(|s| s.target_prefix == prefix) {
            return Route::Json(Some(s));
        }
    }
    match scope_service(parts).as_deref() {
        Some("s3") => return Route::S3,
        Some(name) => {
            if let Some(s) = SERVICES.iter().find(|s| s.signing_name == name) {
                return Route::Json(Some(s));
            }
            if let Some(s) = crate::rest_json::service(name) {
                return Route::Rest(s);
            }
            // Signed for a service Weir does not serve here (or for none, as signers do that
            // cannot tell the service from the host): answer as an AWS JSON endpoint.
            return Route::Json(None);
        }
        None => {}
    }
    if target.is_some() || json_content_type(&parts.headers) {
        return Route::Json(None);
    }
    // S3 has nothing but GET at the service root: other methods there, unsigned, are
    // malformed JSON-protocol calls, not S3 requests.
    let root = parts.uri.path() == "/" && parts.uri.query().is_none_or(str::is_empty);
    if root && parts.method != Method::GET && !virtual_hosted(&parts.headers) {
        return Route::Json(None);
    }
    Route::S3
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn json_content_type(headers: &HeaderMap) -> bool {
    header(headers, CONTENT_TYPE.as_str())
        .is_some_and(|ct| ct.contains("x-amz-json") || ct.contains("x-amz-cbor"))
}

/// Whether the Host names a bucket (`bucket.localhost`, `bucket.s3.…`).
fn virtual_hosted(headers: &HeaderMap) -> bool {
    let host = header(headers, "host").unwrap_or("");
    let host = host.rsplit_once(':').map_or(host, |(h, _)| h);
    host.contains('.') && host.parse::<std::net::IpAddr>().is_err() && !host.starts_with('[')
}

/// The service of the SigV4 credential scope (`AKID/date/region/SERVICE/aws4_request`), from
/// the Authorization header or the `X-Amz-Credential` query parameter.
pub fn scope_service(parts: &Parts) -> Option<String> {
    scope(parts).and_then(|s| s.split('/').nth(3).map(str::to_string))
}

/// The region of the SigV4 credential scope.
pub fn scope_region(parts: &Parts) -> Option<String> {
    scope(parts)
        .and_then(|s| s.split('/').nth(2).map(str::to_string))
        .filter(|r| !r.is_empty())
}

fn scope(parts: &Parts) -> Option<String> {
    if let Some(auth) = header(&parts.headers, "authorization") {
        return crate::auth::header_params(auth)
            .into_iter()
            .find(|(k, _)| *k == "Credential")
            .map(|(_, v)| v.to_string());
    }
    let query = parts.uri.query()?;
    crate::uri::parse_query(query)
        .into_iter()
        .find(|(k, _)| k == "X-Amz-Credential")
        .map(|(_, v)| v)
}

#[cfg(test)]
mod tests {
    #[test]
    fn each_row_agrees_with_its_model() {
        for s in super::SERVICES {
            let model = (s.model)();
            assert_eq!(
                model.metadata.target_prefix.as_deref(),
                Some(s.target_prefix)
            );
            for action in s.actions {
                assert!(
                    model.operation(action).is_some(),
                    "{action} is not in the model"
                );
            }
        }
    }
}
