//! A small AWS JSON 1.1 client for the load generators and `weir sql` (the SDKs are test-only
//! dependencies).

use anyhow::{anyhow, Context as _};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::TokioExecutor;

/// Posts `X-Amz-Target` requests to one endpoint over pooled HTTP/1.1 connections.
#[derive(Clone)]
pub struct JsonClient {
    http: Client<HttpConnector, Full<Bytes>>,
    endpoint: hyper::Uri,
    target_prefix: &'static str,
}

/// An AWS error answer.
#[derive(Debug)]
pub struct AwsError {
    pub status: u16,
    pub code: String,
    pub message: String,
}

impl std::fmt::Display for AwsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({}): {}", self.code, self.status, self.message)
    }
}

impl std::error::Error for AwsError {}

impl AwsError {
    /// Reads an AWS JSON error body (`__type` with or without a namespace, `message`).
    fn parse(status: u16, body: &[u8]) -> AwsError {
        let v: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
        let code = v["__type"].as_str().unwrap_or("Unknown");
        let code = code.rsplit('#').next().unwrap_or(code).to_string();
        let message = v["message"]
            .as_str()
            .or(v["Message"].as_str())
            .unwrap_or("")
            .to_string();
        AwsError {
            status,
            code,
            message,
        }
    }
}

impl JsonClient {
    pub fn new(endpoint: &str, target_prefix: &'static str) -> anyhow::Result<JsonClient> {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        let http = Client::builder(TokioExecutor::new())
            .pool_max_idle_per_host(256)
            .build(connector);
        Ok(JsonClient {
            http,
            endpoint: endpoint
                .parse()
                .with_context(|| format!("endpoint {endpoint}"))?,
            target_prefix,
        })
    }

    /// The endpoint this client calls.
    pub fn endpoint(&self) -> String {
        self.endpoint.to_string()
    }

    /// Calls `action` with a JSON body; an AWS error comes back as `AwsError`.
    pub async fn call(&self, action: &str, body: Vec<u8>) -> anyhow::Result<serde_json::Value> {
        let bytes = self.call_raw(action, body).await?;
        if bytes.is_empty() {
            return Ok(serde_json::Value::Null);
        }
        serde_json::from_slice(&bytes).map_err(|e| anyhow!("bad JSON from {action}: {e}"))
    }

    /// Calls `action` and returns the response with its body unread (event streams).
    pub async fn call_streaming(
        &self,
        action: &str,
        body: Vec<u8>,
    ) -> anyhow::Result<hyper::Response<hyper::body::Incoming>> {
        let resp = self
            .http
            .request(self.request(action, body)?)
            .await
            .context("sending request")?;
        if resp.status() != 200 {
            let status = resp.status().as_u16();
            let bytes = resp
                .into_body()
                .collect()
                .await
                .context("reading response")?
                .to_bytes();
            let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
            let code = v["__type"].as_str().unwrap_or("Unknown").to_string();
            let message = v["message"].as_str().unwrap_or("").to_string();
            return Err(AwsError {
                status,
                code,
                message,
            }
            .into());
        }
        Ok(resp)
    }

    fn request(&self, action: &str, body: Vec<u8>) -> anyhow::Result<hyper::Request<Full<Bytes>>> {
        Ok(hyper::Request::post(self.endpoint.clone())
            .header("content-type", "application/x-amz-json-1.1")
            .header("x-amz-target", format!("{}.{action}", self.target_prefix))
            .header("x-amz-date", "20250101T000000Z")
            // Emulators pick the service from the credential scope (signatures are not checked).
            .header(
                "authorization",
                format!(
                    "AWS4-HMAC-SHA256 Credential=AKIDBENCH/20250101/us-east-1/{}/aws4_request, \
                     SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=0000",
                    match self.target_prefix {
                        p if p.starts_with("Firehose") => "firehose",
                        "AmazonAthena" => "athena",
                        "AWSGlue" => "glue",
                        _ => "kinesis",
                    }
                ),
            )
            .body(Full::new(Bytes::from(body)))?)
    }

    /// Calls `action` and returns the raw body of a successful answer.
    pub async fn call_raw(&self, action: &str, body: Vec<u8>) -> anyhow::Result<Bytes> {
        let req = self.request(action, body)?;
        let resp = self.http.request(req).await.context("sending request")?;
        let status = resp.status().as_u16();
        let bytes = resp
            .into_body()
            .collect()
            .await
            .context("reading response")?
            .to_bytes();
        if status != 200 {
            return Err(AwsError::parse(status, &bytes).into());
        }
        Ok(bytes)
    }
}
