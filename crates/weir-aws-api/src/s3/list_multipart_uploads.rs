//! ListMultipartUploads (prefix; everything on one page of up to 1,000).

use super::xml::Xml;
use super::{time, S3Ctx, S3Error, S3Request, S3Response};

pub async fn handle(ctx: &S3Ctx, req: &S3Request) -> Result<S3Response, S3Error> {
    let bucket = req.bucket.as_deref().unwrap_or_default();
    let prefix = req.param("prefix").unwrap_or("");
    let max: usize = req
        .param("max-uploads")
        .and_then(|m| m.parse().ok())
        .unwrap_or(1000)
        .min(1000);
    let ups = ctx.objects.list_uploads(bucket, prefix)?;
    let truncated = ups.len() > max;
    let root = "ListMultipartUploadsResult";
    let mut x = Xml::new(root);
    x.text("Bucket", bucket)
        .text("Prefix", prefix)
        .text("MaxUploads", &max.to_string())
        .text("IsTruncated", if truncated { "true" } else { "false" });
    for u in ups.iter().take(max) {
        x.open("Upload")
            .text("Key", &u.key)
            .text("UploadId", &u.upload_id)
            .text("Initiated", &time::iso8601(u.initiated_ms))
            .text("StorageClass", "STANDARD")
            .close("Upload");
    }
    Ok(S3Response::xml(x.finish(root)))
}
