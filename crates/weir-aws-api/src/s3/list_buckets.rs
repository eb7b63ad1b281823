//! ListBuckets.

use super::xml::Xml;
use super::{time, S3Ctx, S3Error, S3Request, S3Response};

pub async fn handle(ctx: &S3Ctx, _req: &S3Request) -> Result<S3Response, S3Error> {
    let mut x = Xml::new("ListAllMyBucketsResult");
    x.open("Owner")
        .text("ID", "weir")
        .text("DisplayName", "weir")
        .close("Owner");
    x.open("Buckets");
    for b in ctx.objects.list_buckets() {
        x.open("Bucket")
            .text("Name", &b.name)
            .text("CreationDate", &time::iso8601(b.created_ms))
            .text("BucketRegion", &b.region)
            .close("Bucket");
    }
    x.close("Buckets");
    Ok(S3Response::xml(x.finish("ListAllMyBucketsResult")))
}
