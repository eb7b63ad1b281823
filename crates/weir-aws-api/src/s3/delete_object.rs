//! DeleteObject.

use super::{S3Ctx, S3Error, S3Request, S3Response};

pub async fn handle(ctx: &S3Ctx, req: &S3Request) -> Result<S3Response, S3Error> {
    let (bucket, key) = (
        req.bucket.as_deref().unwrap_or_default(),
        req.key.as_deref().unwrap_or_default(),
    );
    let objects = ctx.objects.clone();
    let (b, k) = (bucket.to_string(), key.to_string());
    tokio::task::spawn_blocking(move || objects.delete_object(&b, &k))
        .await
        .map_err(|e| S3Error::new("InternalError", 500, e.to_string()))??;
    Ok(S3Response::empty(204))
}
