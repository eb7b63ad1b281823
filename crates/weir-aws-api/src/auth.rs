//! SigV4 verification (when access keys are configured): the Authorization header form and the
//! presigned query form. The canonical request is rebuilt from what arrived and signed with the
//! configured secret; the signatures must match. On HTTP/2 the host is the `:authority`.

use std::collections::HashMap;

use hmac::{Hmac, Mac};
use hyper::http::request::Parts;
use sha2::{Digest, Sha256};

use crate::error::ApiError;
use crate::uri;

/// How far a request's X-Amz-Date may be from now.
const MAX_SKEW_MS: i64 = 15 * 60 * 1000;
const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// Access key id → secret access key.
#[derive(Debug, Clone, Default)]
pub struct Keys(pub HashMap<String, String>);

/// What a verified signature tells: who signed, for which region.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub access_key_id: String,
    pub region: String,
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

fn missing() -> ApiError {
    ApiError::new(
        "MissingAuthenticationTokenException",
        403,
        "Missing Authentication Token",
    )
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
    let signed = match parts
        .headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
    {
        Some(auth) => parse_header(auth, parts)?,
        None if params.iter().any(|(k, _)| k == "X-Amz-Algorithm") => parse_presigned(&params)?,
        None => return Err(missing()),
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
    let body_hash = hex(&Sha256::digest(body));
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
        let to_sign = format!(
            "{ALGORITHM}\n{}\n{scope}\n{}",
            signed.amz_date,
            hex(&Sha256::digest(canonical.as_bytes()))
        );
        let expected = hex(&hmac(&key, to_sign.as_bytes()));
        if constant_time_eq(expected.as_bytes(), signed.signature.as_bytes()) {
            return Ok(Verified {
                access_key_id: key_id.to_string(),
                region: region.to_string(),
            });
        }
    }
    Err(invalid(
        "The request signature we calculated does not match the signature you provided. Check your \
         AWS Secret Access Key and signing method. Consult the service documentation for details.",
    ))
}

fn parse_header<'a>(auth: &'a str, parts: &Parts) -> Result<Signed<'a>, ApiError> {
    let rest = auth.strip_prefix(ALGORITHM).ok_or_else(|| {
        incomplete(format!(
            "Unsupported authorization type: '{}'.",
            auth.split(' ').next().unwrap_or("")
        ))
    })?;
    let mut credential = None;
    let mut signed_headers = None;
    let mut signature = None;
    for part in rest.split(',') {
        let part = part.trim();
        if let Some(v) = part.strip_prefix("Credential=") {
            credential = Some(v);
        } else if let Some(v) = part.strip_prefix("SignedHeaders=") {
            signed_headers = Some(v);
        } else if let Some(v) = part.strip_prefix("Signature=") {
            signature = Some(v);
        }
    }
    let mut absent = Vec::new();
    for (name, v) in [
        ("Credential", credential),
        ("Signature", signature),
        ("SignedHeaders", signed_headers),
    ] {
        if v.is_none() {
            absent.push(format!("Authorization header requires '{name}' parameter."));
        }
    }
    let amz_date = parts
        .headers
        .get("x-amz-date")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    if amz_date.is_none() {
        absent.push(
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."
                .into(),
        );
    }
    let (Some(credential), Some(signed_headers), Some(signature), Some(amz_date)) =
        (credential, signed_headers, signature, amz_date)
    else {
        return Err(incomplete(format!(
            "{} Authorization={auth}",
            absent.join(" ")
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
        return Err(incomplete(
            "AWS query-string parameters must include 'X-Amz-Algorithm', 'X-Amz-Credential', \
             'X-Amz-Signature', 'X-Amz-Date', 'X-Amz-SignedHeaders'. Re-examine the query-string parameters.",
        ));
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
    let mut query: Vec<(String, String)> = params
        .iter()
        .filter(|(k, _)| !(signed.presigned && k == "X-Amz-Signature"))
        .map(|(k, v)| (uri::encode(k, true), uri::encode(v, true)))
        .collect();
    query.sort();
    let query = query
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
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

/// Epoch milliseconds of `20250101T000000Z`.
fn parse_amz_date(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| s.get(r)?.parse::<i64>().ok();
    let (y, m, d) = (num(0..4)?, num(4..6)?, num(6..8)?);
    let (hh, mm, ss) = (num(9..11)?, num(11..13)?, num(13..15)?);
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) || hh > 23 || mm > 59 || ss > 60 {
        return None;
    }
    // Days from civil (Howard Hinnant's algorithm).
    let y2 = if m <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(((days * 24 + hh) * 60 + mm) * 60_000 + ss * 1000)
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    match Hmac::<Sha256>::new_from_slice(key) {
        Ok(mut m) => {
            m.update(data);
            m.finalize().into_bytes().to_vec()
        }
        // HMAC accepts keys of any length; this arm is unreachable in practice.
        Err(_) => Vec::new(),
    }
}

fn signing_key(secret: &str, date: &str, region: &str, service: &str) -> Vec<u8> {
    let k_date = hmac(format!("AWS4{secret}").as_bytes(), date.as_bytes());
    let k_region = hmac(&k_date, region.as_bytes());
    let k_service = hmac(&k_region, service.as_bytes());
    hmac(&k_service, b"aws4_request")
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amz_dates() {
        assert_eq!(parse_amz_date("19700101T000000Z"), Some(0));
        assert_eq!(parse_amz_date("20150830T123600Z"), Some(1_440_938_160_000));
        assert_eq!(parse_amz_date("2015-08-30"), None);
    }

    /// The worked example of the SigV4 documentation (GET iam ListUsers).
    #[test]
    fn documented_signing_key_and_signature() {
        let key = signing_key(
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            "20150830",
            "us-east-1",
            "iam",
        );
        assert_eq!(
            hex(&key),
            "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9"
        );
        let to_sign = "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/iam/aws4_request\n\
                       f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59";
        assert_eq!(
            hex(&hmac(&key, to_sign.as_bytes())),
            "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7"
        );
    }
}
