//! A bucket that lives on an external S3-compatible endpoint (AWS S3, MinIO, another Weir):
//! requests are signed with SigV4 (`weir-sigv4`) and sent over HTTP or HTTPS (rustls, the
//! system's roots plus an optional CA file). The S3 front door forwards a mapped bucket's
//! requests through [`RemoteBucket::send`]; engines use the typed calls.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde::{Deserialize, Serialize};

use crate::error::{ObjectError, Result};
use crate::store::PutObject;

/// How a bucket maps onto an external endpoint (`[[s3.remote_buckets]]` in Weir's config).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RemoteBucketConfig {
    /// The bucket's name in Weir.
    pub bucket: String,
    /// `http://host:port` or `https://host` of the S3-compatible service.
    pub endpoint: String,
    /// The bucket's name there (default: the same name).
    #[serde(default)]
    pub remote_bucket: Option<String>,
    /// The region to sign for (default `us-east-1`).
    #[serde(default = "default_region")]
    pub region: String,
    pub access_key_id: String,
    pub secret_access_key: String,
    /// `bucket.host` addressing instead of `host/bucket` (default: path-style).
    #[serde(default)]
    pub virtual_host: bool,
    /// Extra CA certificates (PEM) trusted for an HTTPS endpoint, besides the system's.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
}

fn default_region() -> String {
    "us-east-1".into()
}

/// An answer from the remote endpoint, as received.
#[derive(Debug)]
pub struct RemoteResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
}

impl RemoteResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// An S3 error answer as an `ObjectError`.
    fn error(self, key: &str) -> ObjectError {
        let text = String::from_utf8_lossy(&self.body);
        let code = xml_values(&text, "Code")
            .into_iter()
            .next()
            .unwrap_or_default();
        match (self.status, code.as_str()) {
            (404, "NoSuchKey") | (404, "") => ObjectError::NoSuchKey(key.to_string()),
            (404, "NoSuchBucket") => ObjectError::NoSuchBucket(key.to_string()),
            _ => ObjectError::Remote {
                status: self.status,
                message: format!("{code}: {}", xml_values(&text, "Message").join(" ")),
            },
        }
    }
}

/// A bucket on an external endpoint.
pub struct RemoteBucket {
    config: RemoteBucketConfig,
    scheme: String,
    host: String,
    signer: weir_sigv4::Signer,
    client: HttpClient,
}

impl std::fmt::Debug for RemoteBucket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemoteBucket")
            .field("bucket", &self.config.bucket)
            .field("endpoint", &self.config.endpoint)
            .finish()
    }
}

impl RemoteBucket {
    pub fn new(config: RemoteBucketConfig) -> Result<RemoteBucket> {
        let bad = |m: String| ObjectError::InvalidArgument(m);
        let (scheme, rest) = config.endpoint.split_once("://").ok_or_else(|| {
            bad(format!(
                "endpoint {} needs http:// or https://",
                config.endpoint
            ))
        })?;
        if scheme != "http" && scheme != "https" {
            return Err(bad(format!(
                "endpoint {} needs http:// or https://",
                config.endpoint
            )));
        }
        let host = rest.trim_end_matches('/').to_string();
        if host.is_empty() || host.contains('/') {
            return Err(bad(format!(
                "endpoint {} must be scheme://host[:port]",
                config.endpoint
            )));
        }
        let client = http_client(config.ca_file.as_deref())?;
        Ok(RemoteBucket {
            signer: weir_sigv4::Signer {
                access_key_id: config.access_key_id.clone(),
                secret_access_key: config.secret_access_key.clone(),
                region: config.region.clone(),
                service: "s3".into(),
            },
            scheme: scheme.to_string(),
            host,
            config,
            client,
        })
    }

    /// The bucket's name in Weir.
    pub fn name(&self) -> &str {
        &self.config.bucket
    }

    /// The bucket's name on the endpoint.
    pub fn remote_name(&self) -> &str {
        self.config
            .remote_bucket
            .as_deref()
            .unwrap_or(&self.config.bucket)
    }

    /// Sends one signed request for `key` (or the bucket itself) and returns the answer as it
    /// came. `query` and `headers` are decoded; `host`, date and signature headers are added.
    pub async fn send(
        &self,
        method: &str,
        key: Option<&str>,
        query: &[(String, String)],
        headers: &[(String, String)],
        body: Bytes,
    ) -> Result<RemoteResponse> {
        let key_path = key
            .map(|k| weir_sigv4::uri_encode(k, false))
            .unwrap_or_default();
        let (host, path) = if self.config.virtual_host {
            (
                format!("{}.{}", self.remote_name(), self.host),
                format!("/{key_path}"),
            )
        } else {
            let path = if key.is_some() {
                format!("/{}/{key_path}", self.remote_name())
            } else {
                format!("/{}", self.remote_name())
            };
            (self.host.clone(), path)
        };
        // The canonical query is also a valid wire query (`uploads=` for `?uploads`).
        let query_string =
            weir_sigv4::canonical_query(query.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        let uri = if query_string.is_empty() {
            format!("{}://{host}{path}", self.scheme)
        } else {
            format!("{}://{host}{path}?{query_string}", self.scheme)
        };
        let mut to_sign: Vec<(String, String)> = headers
            .iter()
            .filter(|(k, _)| {
                k.eq_ignore_ascii_case("content-type")
                    || k.to_ascii_lowercase().starts_with("x-amz-")
                    || k.eq_ignore_ascii_case("content-md5")
            })
            .cloned()
            .collect();
        to_sign.push(("host".into(), host.clone()));
        let payload_hash = weir_sigv4::sha256_hex(&body);
        let signed = self
            .signer
            .sign(method, &path, query, &to_sign, &payload_hash, now_ms());
        let mut req = hyper::Request::builder().method(method).uri(&uri);
        for (k, v) in headers.iter().chain(signed.iter()) {
            req = req.header(k.as_str(), v.as_str());
        }
        let req = req
            .body(Full::new(body))
            .map_err(|e| ObjectError::InvalidArgument(format!("request to {uri}: {e}")))?;
        let resp = self.client.request(req).await.map_err(|e| {
            // The connector's errors nest their cause (refused, TLS, DNS): report the chain.
            let mut message = format!("{}: {e}", self.config.endpoint);
            let mut source = std::error::Error::source(&e);
            while let Some(s) = source {
                message.push_str(&format!(": {s}"));
                source = s.source();
            }
            ObjectError::Remote { status: 0, message }
        })?;
        let status = resp.status().as_u16();
        let headers = resp
            .headers()
            .iter()
            .filter_map(|(k, v)| Some((k.as_str().to_string(), v.to_str().ok()?.to_string())))
            .collect();
        let body = resp
            .into_body()
            .collect()
            .await
            .map_err(|e| ObjectError::Remote {
                status,
                message: format!("{}: reading the answer: {e}", self.config.endpoint),
            })?
            .to_bytes();
        Ok(RemoteResponse {
            status,
            headers,
            body,
        })
    }

    /// PutObject; returns the ETag.
    pub async fn put_object(&self, key: &str, put: PutObject) -> Result<String> {
        let mut headers = Vec::new();
        if let Some(ct) = &put.content_type {
            headers.push(("content-type".to_string(), ct.clone()));
        }
        for (k, v) in &put.headers {
            headers.push((k.clone(), v.clone()));
        }
        for (k, v) in &put.metadata {
            headers.push((format!("x-amz-meta-{k}"), v.clone()));
        }
        let resp = self.send("PUT", Some(key), &[], &headers, put.data).await?;
        if resp.status != 200 {
            return Err(resp.error(key));
        }
        Ok(resp.header("etag").unwrap_or_default().to_string())
    }

    /// GetObject: the whole object.
    pub async fn get_object(&self, key: &str) -> Result<Bytes> {
        let resp = self.send("GET", Some(key), &[], &[], Bytes::new()).await?;
        if resp.status != 200 {
            return Err(resp.error(key));
        }
        Ok(resp.body)
    }

    /// GetObject of bytes `first..=last` (fewer at the object's end).
    pub async fn get_object_range(&self, key: &str, first: u64, last: u64) -> Result<Bytes> {
        let range = [("range".to_string(), format!("bytes={first}-{last}"))];
        let resp = self
            .send("GET", Some(key), &[], &range, Bytes::new())
            .await?;
        match resp.status {
            206 => Ok(resp.body),
            // A store that ignores ranges sends the whole object.
            200 => {
                let end = (last as usize + 1).min(resp.body.len());
                Ok(resp.body.slice((first as usize).min(end)..end))
            }
            416 => Ok(Bytes::new()),
            _ => Err(resp.error(key)),
        }
    }

    /// DeleteObject.
    pub async fn delete_object(&self, key: &str) -> Result<()> {
        let resp = self
            .send("DELETE", Some(key), &[], &[], Bytes::new())
            .await?;
        if resp.status != 204 && resp.status != 200 {
            return Err(resp.error(key));
        }
        Ok(())
    }

    /// Every key under `prefix` (ListObjectsV2, all pages).
    pub async fn list_keys(&self, prefix: &str) -> Result<Vec<String>> {
        Ok(self
            .list_sizes(prefix)
            .await?
            .into_iter()
            .map(|(k, _)| k)
            .collect())
    }

    /// Every key under `prefix` with its size, in order.
    pub async fn list_sizes(&self, prefix: &str) -> Result<Vec<(String, u64)>> {
        let mut keys = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let mut query = vec![
                ("list-type".to_string(), "2".to_string()),
                ("prefix".to_string(), prefix.to_string()),
            ];
            if let Some(t) = &token {
                query.push(("continuation-token".into(), t.clone()));
            }
            let resp = self.send("GET", None, &query, &[], Bytes::new()).await?;
            if resp.status != 200 {
                return Err(resp.error(prefix));
            }
            let text = String::from_utf8_lossy(&resp.body).into_owned();
            let sizes = xml_values(&text, "Size");
            keys.extend(
                xml_values(&text, "Key")
                    .into_iter()
                    .zip(sizes.into_iter().map(|s| s.parse().unwrap_or(0))),
            );
            token = xml_values(&text, "NextContinuationToken")
                .into_iter()
                .next();
            if token.is_none()
                || xml_values(&text, "IsTruncated").first().map(String::as_str) != Some("true")
            {
                return Ok(keys);
            }
        }
    }
}

/// An HTTP client for `http://` and `https://` URLs (rustls: the system's roots, plus the
/// certificates of `ca_file`), shared by remote buckets and Firehose's HTTP endpoints.
pub type HttpClient = Client<HttpsConnector<HttpConnector>, Full<Bytes>>;

pub fn http_client(ca_file: Option<&std::path::Path>) -> Result<HttpClient> {
    let tls = tls_config(ca_file)?;
    let connector = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_or_http()
        .enable_http1()
        .build();
    Ok(Client::builder(TokioExecutor::new())
        .pool_idle_timeout(Duration::from_secs(30))
        .build(connector))
}

fn tls_config(ca_file: Option<&std::path::Path>) -> Result<tokio_rustls::rustls::ClientConfig> {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::CertificateDer;
    let mut roots = tokio_rustls::rustls::RootCertStore::empty();
    for cert in rustls_native_certs::load_native_certs().certs {
        // A system certificate rustls cannot parse is skipped, as browsers do.
        let _ = roots.add(cert);
    }
    if let Some(path) = ca_file {
        let bad = |e: &dyn std::fmt::Display| {
            ObjectError::InvalidArgument(format!("CA file {}: {e}", path.display()))
        };
        for cert in CertificateDer::pem_file_iter(path).map_err(|e| bad(&e))? {
            roots.add(cert.map_err(|e| bad(&e))?).map_err(|e| bad(&e))?;
        }
    }
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    Ok(
        tokio_rustls::rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| ObjectError::InvalidArgument(format!("TLS versions: {e}")))?
            .with_root_certificates(roots)
            .with_no_client_auth(),
    )
}

/// The text of every `<tag>…</tag>` in an S3 XML answer, entity-decoded.
pub fn xml_values(xml: &str, tag: &str) -> Vec<String> {
    let (open, close) = (format!("<{tag}>"), format!("</{tag}>"));
    let mut out = Vec::new();
    let mut rest = xml;
    while let Some(start) = rest.find(&open) {
        let after = &rest[start + open.len()..];
        let Some(end) = after.find(&close) else { break };
        out.push(
            after[..end]
                .replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&quot;", "\"")
                .replace("&apos;", "'")
                .replace("&amp;", "&"),
        );
        rest = &after[end + close.len()..];
    }
    out
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    #[test]
    fn xml_values_are_found_and_decoded() {
        let x = "<R><Key>a&amp;b</Key><Key>c</Key><IsTruncated>false</IsTruncated></R>";
        assert_eq!(super::xml_values(x, "Key"), ["a&b", "c"]);
        assert_eq!(super::xml_values(x, "IsTruncated"), ["false"]);
        assert!(super::xml_values(x, "Missing").is_empty());
    }
}
