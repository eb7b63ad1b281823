//! DeleteBucket.

use super::{S3Ctx, S3Error, S3Request, S3Response};

pub async fn handle(ctx: &S3Ctx, req: &S3Request) -> Result<S3Response, S3Error> {
    ctx.objects
        .delete_bucket(req.bucket.as_deref().unwrap_or_default())?;
    Ok(S3Response::empty(204))
}
