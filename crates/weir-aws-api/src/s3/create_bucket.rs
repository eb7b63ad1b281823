//! CreateBucket (an optional CreateBucketConfiguration names the region).

use super::xml::find_text;
use super::{S3Ctx, S3Error, S3Request, S3Response};

pub async fn handle(ctx: &S3Ctx, req: &S3Request) -> Result<S3Response, S3Error> {
    let bucket = req.bucket.as_deref().unwrap_or_default();
    let body = std::str::from_utf8(&req.body).map_err(|_| {
        S3Error::new(
            "MalformedXML",
            400,
            "The XML you provided was not well-formed.",
        )
    })?;
    let region = find_text(body, "LocationConstraint")
        .filter(|r| !r.is_empty())
        .unwrap_or(&req.region)
        .to_string();
    ctx.objects.create_bucket(bucket, &region)?;
    Ok(S3Response::empty(200).with("location", format!("/{bucket}")))
}
