//! HeadBucket.

use super::{S3Ctx, S3Error, S3Request, S3Response};

pub async fn handle(ctx: &S3Ctx, req: &S3Request) -> Result<S3Response, S3Error> {
    let b = ctx
        .objects
        .bucket(req.bucket.as_deref().unwrap_or_default())?;
    Ok(S3Response::empty(200).with("x-amz-bucket-region", b.region))
}
