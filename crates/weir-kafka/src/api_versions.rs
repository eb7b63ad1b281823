//! ApiVersions: the APIs and version ranges served.

use kafka_protocol::messages::api_versions_response::ApiVersion;
use kafka_protocol::messages::ApiVersionsResponse;

pub fn answer(error_code: i16) -> ApiVersionsResponse {
    let mut r = ApiVersionsResponse::default();
    r.error_code = error_code;
    r.api_keys = crate::versions::SUPPORTED
        .iter()
        .map(|(key, lo, hi)| {
            let mut v = ApiVersion::default();
            v.api_key = *key as i16;
            v.min_version = *lo;
            v.max_version = *hi;
            v
        })
        .collect();
    r
}
