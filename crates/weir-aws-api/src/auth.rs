//! SigV4 verification (when access keys are configured): the Authorization header form and the
//! presigned query form. The canonical request is rebuilt from what arrived and signed with the
//! configured secret; the signatures must match. On HTTP/2 the host is the `:authority`.

use std::collections::HashMap;

use hyper::http::request::Parts;
use weir_sigv4::{constant_time_eq, hex, hmac, parse_amz_date, signing_key, ALGORITHM};

use crate::error::ApiError;
use crate::uri;

/// How far a request's X-Amz-Date may be from now.
const MAX_SKEW_MS: i64 = 15 * 60 * 1000;

/// Access key id → secret access key.
#[derive(Debug, Clone, Default)]
pub struct Keys(pub HashMap<String, String>);

/// What a verified signature tells: who signed, for which region, and what the signatures of
/// a streaming body's chunks chain from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub access_key_id: String,
    pub region: String,
    pub chain: Chain,
}

/// What a streaming signature (`STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]`) chains from:
/// the request's verified signature, its signing key, date and scope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chain {
    pub key: Vec<u8>,
    pub amz_date: String,
    pub scope: String,
    pub seed: String,
}

struct Signed<'a> {
    credential: &'a str,
    signed_headers: Vec<&'a str>,
    signature: &'a str,
    amz_date: String,
    /// Presigned: the query parameters that are not part of the canonical query.
    presigned: bool,
    expires_s: Option<i64>,
}

/// The `key=value` parts of an Authorization header as AWS reads them: the tokens after the
/// algorithm, split at commas and spaces.
pub(crate) fn header_params(auth: &str) -> Vec<(&str, &str)> {
    auth.split([',', ' '])
        .skip(1)
        .filter(|p| !p.is_empty())
        .map(|p| p.split_once('=').unwrap_or((p, "")))
        .collect()
}

/// The structure of a request's authentication, checked as AWS checks it before anything
/// about the caller, with or without keys: some authentication (header or presigned query, not
/// both), and every part of it present (AWS's sentences naming what is missing).
pub fn check_structure(parts: &Parts, params: &[(String, String)]) -> Result<(), ApiError> {
    let header = parts
        .headers
        .get("authorization")
        .and_then(|v| v.to_str().ok());
    let presigned = params.iter().any(|(k, _)| k == "X-Amz-Algorithm");
    let mut missing = String::new();
    match (header, presigned) {
        (Some(_), true) => {
            return Err(invalid(
                "Found both 'X-Amz-Algorithm' as a query-string param and 'Authorization' as HTTP header.",
            ))
        }
        (None, false) => {
            return Err(ApiError::new(
                "MissingAuthenticationTokenException",
                400,
                "Missing Authentication Token",
            ))
        }
        (Some(auth), false) => {
            let found = header_params(auth);
            for want in ["Credential", "Signature", "SignedHeaders"] {
                if !found.iter().any(|(k, v)| *k == want && !v.is_empty()) {
                    missing += &format!("Authorization header requires '{want}' parameter. ");
                }
            }
            if !parts.headers.contains_key("x-amz-date") && !parts.headers.contains_key("date") {
                missing += "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. ";
            }
            if !missing.is_empty() {
                return Err(incomplete(format!("{missing}Authorization={auth}")));
            }
        }
        (None, true) => {
            for want in [
                "X-Amz-Algorithm",
                "X-Amz-Credential",
                "X-Amz-Signature",
                "X-Amz-SignedHeaders",
                "X-Amz-Date",
            ] {
                if !params.iter().any(|(k, v)| k == want && !v.is_empty()) {
                    missing += &format!("AWS query-string parameters must include '{want}'. ");
                }
            }
            if !missing.is_empty() {
                return Err(incomplete(format!(
                    "{missing}Re-examine the query-string parameters."
                )));
            }
        }
    }
    Ok(())
}

fn incomplete(msg: impl Into<String>) -> ApiError {
    ApiError::new("IncompleteSignatureException", 400, msg)
}

fn invalid(msg: impl Into<String>) -> ApiError {
    ApiError::new("InvalidSignatureException", 400, msg)
}

/// Verifies the request's signature against `keys`.
/// `s3` selects S3's canonical path (the path as sent, encoded once) over the other services'
/// (each segment encoded again).
pub fn verify(
    keys: &Keys,
    parts: &Parts,
    body: &[u8],
    now_ms: i64,
    s3: bool,
) -> Result<Verified, ApiError> {
    let query = parts.uri.query().unwrap_or("");
    let params = uri::parse_query(query);
    check_structure(parts, &params)?;
    let signed = match parts
        .headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
    {
        Some(auth) => parse_header(auth, parts)?,
        None => parse_presigned(&params)?,
    };
    let scope_parts: Vec<&str> = signed.credential.split('/').collect();
    let [key_id, date, region, service, terminal] = scope_parts.as_slice() else {
        return Err(incomplete(format!(
            "Credential should be scoped to a valid region, not '{}'.",
            signed.credential
        )));
    };
    if *terminal != "aws4_request" || date.len() != 8 {
        return Err(incomplete(
            "Credential should be scoped with a valid terminator: 'aws4_request'.",
        ));
    }
    let secret = keys.0.get(*key_id).ok_or_else(|| {
        ApiError::new(
            "UnrecognizedClientException",
            400,
            "The security token included in the request is invalid.",
        )
    })?;
    let signed_at = parse_amz_date(&signed.amz_date).ok_or_else(|| {
        incomplete(format!(
            "Date must be in ISO-8601 'basic format'. Got '{}'.",
            signed.amz_date
        ))
    })?;
    if !signed.amz_date.starts_with(*date) {
        return Err(invalid("Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP."));
    }
    match signed.expires_s {
        Some(expires) if now_ms > signed_at + expires * 1000 => {
            return Err(invalid(format!(
                "Signature expired: {} is now earlier than the current time.",
                signed.amz_date
            )))
        }
        None if (now_ms - signed_at).abs() > MAX_SKEW_MS => {
            return Err(invalid(format!(
            "Signature expired: {} is now earlier or later than 15 minutes from the current time.",
            signed.amz_date
        )))
        }
        _ => {}
    }
    let scope = format!("{date}/{region}/{service}/aws4_request");
    let key = signing_key(secret, date, region, service);
    let body_hash = weir_sigv4::sha256_hex(body);
    let header_hash = parts
        .headers
        .get("x-amz-content-sha256")
        .and_then(|v| v.to_str().ok());
    let candidates: Vec<&str> = match header_hash {
        Some(h) => vec![h],
        None if signed.presigned => vec![body_hash.as_str(), "UNSIGNED-PAYLOAD"],
        None => vec![body_hash.as_str()],
    };
    for payload_hash in candidates {
        let canonical = canonical_request(parts, &params, &signed, payload_hash, s3);
        let to_sign = weir_sigv4::string_to_sign(&signed.amz_date, &scope, &canonical);
        let expected = hex(&hmac(&key, to_sign.as_bytes()));
        if constant_time_eq(expected.as_bytes(), signed.signature.as_bytes()) {
            return Ok(Verified {
                access_key_id: key_id.to_string(),
                region: region.to_string(),
                chain: Chain {
                    key,
                    amz_date: signed.amz_date.clone(),
                    scope,
                    seed: signed.signature.to_string(),
                },
            });
        }
    }
    Err(invalid(
        "The request signature we calculated does not match the signature you provided. Check your \
         AWS Secret Access Key and signing method. Consult the service documentation for details.",
    ))
}

/// The parts of an Authorization header that passed `check_structure`.
fn parse_header<'a>(auth: &'a str, parts: &Parts) -> Result<Signed<'a>, ApiError> {
    if !auth.starts_with(ALGORITHM) {
        return Err(incomplete(format!(
            "Unsupported authorization type: '{}'.",
            auth.split(' ').next().unwrap_or("")
        )));
    }
    let found = header_params(auth);
    let get = |name: &str| found.iter().find(|(k, _)| *k == name).map(|(_, v)| *v);
    // Weir signs and verifies with X-Amz-Date only (a Date header passes AWS's structure check).
    let amz_date = parts
        .headers
        .get("x-amz-date")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let (Some(credential), Some(signed_headers), Some(signature), Some(amz_date)) = (
        get("Credential"),
        get("SignedHeaders"),
        get("Signature"),
        amz_date,
    ) else {
        return Err(incomplete(format!(
            "Authorization header requires existence of an 'X-Amz-Date' header. Authorization={auth}"
        )));
    };
    Ok(Signed {
        credential,
        signed_headers: signed_headers.split(';').collect(),
        signature,
        amz_date,
        presigned: false,
        expires_s: None,
    })
}

fn parse_presigned(params: &[(String, String)]) -> Result<Signed<'_>, ApiError> {
    let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    if get("X-Amz-Algorithm") != Some(ALGORITHM) {
        return Err(incomplete(
            "X-Amz-Algorithm only supports \"AWS4-HMAC-SHA256\"",
        ));
    }
    let (Some(credential), Some(signed_headers), Some(signature), Some(date)) = (
        get("X-Amz-Credential"),
        get("X-Amz-SignedHeaders"),
        get("X-Amz-Signature"),
        get("X-Amz-Date"),
    ) else {
        // `check_structure` found every parameter; nothing is absent here.
        return Err(incomplete("Re-examine the query-string parameters."));
    };
    let expires_s = match get("X-Amz-Expires") {
        Some(e) => Some(
            e.parse()
                .map_err(|_| incomplete("X-Amz-Expires must be a number of seconds."))?,
        ),
        None => Some(900),
    };
    Ok(Signed {
        credential,
        signed_headers: signed_headers.split(';').collect(),
        signature,
        amz_date: date.to_string(),
        presigned: true,
        expires_s,
    })
}

fn canonical_request(
    parts: &Parts,
    params: &[(String, String)],
    signed: &Signed,
    payload_hash: &str,
    s3: bool,
) -> String {
    let query = weir_sigv4::canonical_query(
        params
            .iter()
            .filter(|(k, _)| !(signed.presigned && k == "X-Amz-Signature"))
            .map(|(k, v)| (k.as_str(), v.as_str())),
    );
    let mut headers = String::new();
    for name in &signed.signed_headers {
        let value = if *name == "host" {
            parts
                .headers
                .get("host")
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
                .or_else(|| parts.uri.authority().map(|a| a.to_string()))
                .unwrap_or_default()
        } else {
            parts
                .headers
                .get_all(*name)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .map(|v| v.split_whitespace().collect::<Vec<_>>().join(" "))
                .collect::<Vec<_>>()
                .join(",")
        };
        headers.push_str(name);
        headers.push(':');
        headers.push_str(&value);
        headers.push('\n');
    }
    let path = parts.uri.path();
    let path = if path.is_empty() { "/" } else { path };
    // Non-S3 services encode path segments twice: once by the client, once for signing.
    let canonical_path: String = if s3 {
        path.split('/')
            .map(|seg| uri::encode(&uri::percent_decode(seg), true))
            .collect::<Vec<_>>()
            .join("/")
    } else {
        path.split('/')
            .map(|seg| uri::encode(seg, true))
            .collect::<Vec<_>>()
            .join("/")
    };
    format!(
        "{}\n{canonical_path}\n{query}\n{headers}\n{}\n{payload_hash}",
        parts.method.as_str(),
        signed.signed_headers.join(";")
    )
}
