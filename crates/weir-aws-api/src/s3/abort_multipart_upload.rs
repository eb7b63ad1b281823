//! AbortMultipartUpload.

use super::{S3Ctx, S3Error, S3Request, S3Response};

pub async fn handle(ctx: &S3Ctx, req: &S3Request) -> Result<S3Response, S3Error> {
    let (bucket, key) = (
        req.bucket.as_deref().unwrap_or_default(),
        req.key.as_deref().unwrap_or_default(),
    );
    ctx.objects
        .abort_upload(bucket, key, req.param("uploadId").unwrap_or_default())?;
    Ok(S3Response::empty(204))
}
