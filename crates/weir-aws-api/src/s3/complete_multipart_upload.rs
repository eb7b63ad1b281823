//! CompleteMultipartUpload.

use super::xml::{blocks, find_text, unescape, Xml};
use super::{S3Ctx, S3Error, S3Request, S3Response};

pub async fn handle(ctx: &S3Ctx, req: &S3Request) -> Result<S3Response, S3Error> {
    let (bucket, key) = (
        req.bucket.as_deref().unwrap_or_default(),
        req.key.as_deref().unwrap_or_default(),
    );
    let upload_id = req.param("uploadId").unwrap_or_default().to_string();
    let malformed = || {
        S3Error::new("MalformedXML", 400, "The XML you provided was not well-formed or did not validate against our published schema.")
    };
    let doc = std::str::from_utf8(&req.body).map_err(|_| malformed())?;
    let mut parts = Vec::new();
    for p in blocks(doc, "Part") {
        let number = find_text(p, "PartNumber")
            .and_then(|n| n.parse::<u32>().ok())
            .ok_or_else(malformed)?;
        let etag = unescape(find_text(p, "ETag").ok_or_else(malformed)?);
        parts.push((number, etag));
    }
    let objects = ctx.objects.clone();
    let (b, k) = (bucket.to_string(), key.to_string());
    let info =
        tokio::task::spawn_blocking(move || objects.complete_upload(&b, &k, &upload_id, &parts))
            .await
            .map_err(|e| S3Error::new("InternalError", 500, e.to_string()))??;
    let root = "CompleteMultipartUploadResult";
    let mut x = Xml::new(root);
    x.text("Location", &format!("/{bucket}/{key}"))
        .text("Bucket", bucket)
        .text("Key", key)
        .text("ETag", &info.etag);
    Ok(S3Response::xml(x.finish(root)))
}
