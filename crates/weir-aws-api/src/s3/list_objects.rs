//! ListObjectsV2 (`list-type=2`) and ListObjects (v1): prefix, delimiter, CommonPrefixes,
//! max-keys, continuation tokens / markers, start-after, `encoding-type=url`.

use base64::Engine as _;
use weir_objects::ListRequest;

use super::xml::Xml;
use super::{time, url_encode, S3Ctx, S3Error, S3Request, S3Response};

const DEFAULT_MAX_KEYS: usize = 1000;

pub async fn handle(ctx: &S3Ctx, req: &S3Request) -> Result<S3Response, S3Error> {
    let bucket = req.bucket.as_deref().unwrap_or_default();
    let v2 = req.param("list-type") == Some("2");
    let prefix = req.param("prefix").unwrap_or("").to_string();
    let delimiter = req
        .param("delimiter")
        .filter(|d| !d.is_empty())
        .map(str::to_string);
    let max_keys = match req.param("max-keys") {
        Some(m) => m
            .parse::<usize>()
            .map_err(|_| {
                S3Error::new(
                    "InvalidArgument",
                    400,
                    "Provided max-keys not an integer or within integer range",
                )
            })?
            .min(DEFAULT_MAX_KEYS),
        None => DEFAULT_MAX_KEYS,
    };
    let url = req.param("encoding-type") == Some("url");
    let enc = |s: &str| if url { url_encode(s) } else { s.to_string() };
    let token = req.param("continuation-token");
    let after = if v2 {
        match token {
            Some(t) => Some(decode_token(t)?),
            None => req.param("start-after").map(str::to_string),
        }
    } else {
        req.param("marker").map(str::to_string)
    };
    let page = ctx.objects.list(
        bucket,
        &ListRequest {
            prefix: prefix.clone(),
            delimiter: delimiter.clone(),
            after,
            max_keys,
        },
    )?;
    let root = "ListBucketResult";
    let mut x = Xml::new(root);
    x.text("Name", bucket).text("Prefix", &enc(&prefix));
    if let Some(d) = &delimiter {
        x.text("Delimiter", &enc(d));
    }
    x.text("MaxKeys", &max_keys.to_string());
    if url {
        x.text("EncodingType", "url");
    }
    x.text(
        "IsTruncated",
        if page.is_truncated { "true" } else { "false" },
    );
    if v2 {
        x.text(
            "KeyCount",
            &(page.objects.len() + page.common_prefixes.len()).to_string(),
        );
        if let Some(t) = token {
            x.text("ContinuationToken", t);
        }
        if let Some(s) = req.param("start-after") {
            x.text("StartAfter", &enc(s));
        }
        if let (true, Some(last)) = (page.is_truncated, &page.last) {
            x.text("NextContinuationToken", &encode_token(last));
        }
    } else {
        x.text("Marker", &enc(req.param("marker").unwrap_or("")));
        if let (true, Some(last), Some(_)) = (page.is_truncated, &page.last, &delimiter) {
            x.text("NextMarker", &enc(last));
        }
    }
    for o in &page.objects {
        x.open("Contents")
            .text("Key", &enc(&o.key))
            .text("LastModified", &time::iso8601(o.last_modified_ms))
            .text("ETag", &o.etag)
            .text("Size", &o.size.to_string())
            .text("StorageClass", "STANDARD")
            .close("Contents");
    }
    for p in &page.common_prefixes {
        x.open("CommonPrefixes")
            .text("Prefix", &enc(p))
            .close("CommonPrefixes");
    }
    Ok(S3Response::xml(x.finish(root)))
}

fn encode_token(last: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(last)
}

fn decode_token(t: &str) -> Result<String, S3Error> {
    base64::engine::general_purpose::STANDARD
        .decode(t)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(|| {
            S3Error::new(
                "InvalidArgument",
                400,
                "The continuation token provided is incorrect",
            )
        })
}
