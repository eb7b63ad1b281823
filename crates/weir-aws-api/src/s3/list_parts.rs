//! ListParts (part-number-marker and max-parts paging).

use super::xml::Xml;
use super::{time, S3Ctx, S3Error, S3Request, S3Response};

pub async fn handle(ctx: &S3Ctx, req: &S3Request) -> Result<S3Response, S3Error> {
    let (bucket, key) = (
        req.bucket.as_deref().unwrap_or_default(),
        req.key.as_deref().unwrap_or_default(),
    );
    let upload_id = req.param("uploadId").unwrap_or_default();
    let marker: u32 = req
        .param("part-number-marker")
        .and_then(|m| m.parse().ok())
        .unwrap_or(0);
    let max: usize = req
        .param("max-parts")
        .and_then(|m| m.parse().ok())
        .unwrap_or(1000)
        .min(1000);
    let parts = ctx.objects.list_parts(bucket, key, upload_id)?;
    let after: Vec<_> = parts.into_iter().filter(|p| p.number > marker).collect();
    let truncated = after.len() > max;
    let page = &after[..after.len().min(max)];
    let root = "ListPartsResult";
    let mut x = Xml::new(root);
    x.text("Bucket", bucket)
        .text("Key", key)
        .text("UploadId", upload_id)
        .text("PartNumberMarker", &marker.to_string())
        .text("MaxParts", &max.to_string())
        .text("IsTruncated", if truncated { "true" } else { "false" });
    if let (true, Some(last)) = (truncated, page.last()) {
        x.text("NextPartNumberMarker", &last.number.to_string());
    }
    x.text("StorageClass", "STANDARD");
    for p in page {
        x.open("Part")
            .text("PartNumber", &p.number.to_string())
            .text("LastModified", &time::iso8601(p.last_modified_ms))
            .text("ETag", &p.etag)
            .text("Size", &p.size.to_string())
            .close("Part");
    }
    Ok(S3Response::xml(x.finish(root)))
}
