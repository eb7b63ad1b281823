//! ListBuckets.

use super::xml::Xml;
use super::{time, S3Ctx, S3Error, S3Request, S3Response};

pub async fn handle(ctx: &S3Ctx, req: &S3Request) -> Result<S3Response, S3Error> {
    let mut x = Xml::new("ListAllMyBucketsResult");
    x.open("Owner")
        .text("ID", "weir")
        .text("DisplayName", "weir")
        .close("Owner");
    x.open("Buckets");
    let mut buckets: Vec<(String, i64, String)> = ctx
        .objects
        .list_buckets()
        .into_iter()
        .map(|b| (b.name, b.created_ms, b.region))
        .collect();
    // Mapped buckets are listed too (their creation date is not known here).
    buckets.extend(
        ctx.lake
            .mapped()
            .map(|name| (name.to_string(), 0, req.region.clone())),
    );
    buckets.sort();
    buckets.dedup_by(|a, b| a.0 == b.0);
    for (name, created_ms, region) in &buckets {
        x.open("Bucket")
            .text("Name", name)
            .text("CreationDate", &time::iso8601(*created_ms))
            .text("BucketRegion", region)
            .close("Bucket");
    }
    x.close("Buckets");
    Ok(S3Response::xml(x.finish("ListAllMyBucketsResult")))
}
