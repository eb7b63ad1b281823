//! `weir bench s3`: PUT and GET throughput by object size, and LIST over many keys, against any
//! S3 endpoint (path-style, unsigned requests).

use std::sync::Arc;
use std::time::Instant;

use anyhow::{bail, Context as _};
use bytes::Bytes;
use clap::Args;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::TokioExecutor;

/// Options of `weir bench s3`.
#[derive(Args, Debug, Clone)]
pub struct S3Bench {
    #[arg(long, default_value = "http://127.0.0.1:4566")]
    pub endpoint: String,
    /// Concurrent requests for small and medium objects.
    #[arg(long, default_value_t = 16)]
    pub concurrency: usize,
    /// Objects of 1 KiB.
    #[arg(long, default_value_t = 5000)]
    pub small: usize,
    /// Objects of 1 MiB.
    #[arg(long, default_value_t = 500)]
    pub medium: usize,
    /// Objects of 64 MiB.
    #[arg(long, default_value_t = 8)]
    pub large: usize,
    /// Keys listed by the LIST measurement.
    #[arg(long, default_value_t = 100_000)]
    pub list_keys: usize,
}

pub(crate) type Http = Client<HttpConnector, Full<Bytes>>;

pub(crate) async fn send(
    http: &Http,
    method: &str,
    url: String,
    body: Bytes,
) -> anyhow::Result<Bytes> {
    let req = hyper::Request::builder()
        .method(method)
        .uri(url)
        .body(Full::new(body))?;
    let resp = http.request(req).await.context("request")?;
    let status = resp.status();
    let bytes = resp.into_body().collect().await?.to_bytes();
    if !status.is_success() {
        bail!(
            "{method} failed with {status}: {}",
            String::from_utf8_lossy(&bytes)
        );
    }
    Ok(bytes)
}

/// Runs `n` requests with `concurrency` workers; returns seconds taken.
async fn run_many(
    http: &Http,
    n: usize,
    concurrency: usize,
    f: Arc<dyn Fn(usize) -> (String, String, Bytes) + Send + Sync>,
) -> anyhow::Result<f64> {
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency.min(n.max(1)) {
        let (http, next, f) = (http.clone(), next.clone(), f.clone());
        tasks.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= n {
                    return Ok::<_, anyhow::Error>(());
                }
                let (method, url, body) = f(i);
                send(&http, &method, url, body).await?;
            }
        }));
    }
    for t in tasks {
        t.await??;
    }
    Ok(started.elapsed().as_secs_f64())
}

pub async fn run(opts: S3Bench) -> anyhow::Result<()> {
    let http: Http = Client::builder(TokioExecutor::new())
        .pool_max_idle_per_host(256)
        .build_http();
    let bucket = format!("weir-bench-{:08x}", rand::random::<u32>());
    let base = format!("{}/{bucket}", opts.endpoint.trim_end_matches('/'));
    send(&http, "PUT", base.clone(), Bytes::new()).await?;
    println!("endpoint {}  bucket {bucket}", opts.endpoint);
    for (label, size, n, conc) in [
        ("1 KiB", 1024usize, opts.small, opts.concurrency),
        ("1 MiB", 1024 * 1024, opts.medium, opts.concurrency),
        ("64 MiB", 64 * 1024 * 1024, opts.large, 2),
    ] {
        if n == 0 {
            continue;
        }
        let body = Bytes::from(vec![b'o'; size]);
        let b2 = base.clone();
        let put = run_many(
            &http,
            n,
            conc,
            Arc::new(move |i| {
                (
                    "PUT".into(),
                    format!("{b2}/{label}/{i}").replace(' ', "%20"),
                    body.clone(),
                )
            }),
        )
        .await?;
        let b3 = base.clone();
        let get = run_many(
            &http,
            n,
            conc,
            Arc::new(move |i| {
                (
                    "GET".into(),
                    format!("{b3}/{label}/{i}").replace(' ', "%20"),
                    Bytes::new(),
                )
            }),
        )
        .await?;
        let mb = (n * size) as f64 / 1e6;
        println!(
            "{label:>7}: PUT {:>9.0} objects/s {:>8.1} MB/s   GET {:>9.0} objects/s {:>8.1} MB/s   ({n} objects, {conc} at a time)",
            n as f64 / put,
            mb / put,
            n as f64 / get,
            mb / get
        );
    }
    if opts.list_keys > 0 {
        let b4 = base.clone();
        let fill = run_many(
            &http,
            opts.list_keys,
            opts.concurrency,
            Arc::new(move |i| {
                (
                    "PUT".into(),
                    format!("{b4}/list/{i:08}"),
                    Bytes::from_static(b"x"),
                )
            }),
        )
        .await?;
        let started = Instant::now();
        let mut token: Option<String> = None;
        let mut listed = 0usize;
        loop {
            let mut url = format!("{base}?list-type=2&prefix=list/&max-keys=1000");
            if let Some(t) = &token {
                url.push_str(&format!("&continuation-token={}", url_escape(t)));
            }
            let body = send(&http, "GET", url, Bytes::new()).await?;
            let text = String::from_utf8_lossy(&body);
            listed += text.matches("<Contents>").count();
            token = text
                .split("<NextContinuationToken>")
                .nth(1)
                .and_then(|r| r.split("</NextContinuationToken>").next())
                .map(str::to_string);
            if token.is_none() {
                break;
            }
        }
        let secs = started.elapsed().as_secs_f64();
        println!(
            "   LIST: {listed} keys in {:.2} s ({:.0} keys/s, pages of 1,000); the {} PUTs took {:.1} s",
            secs,
            listed as f64 / secs,
            opts.list_keys,
            fill
        );
    }
    Ok(())
}

fn url_escape(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
