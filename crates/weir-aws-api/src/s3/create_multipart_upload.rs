//! CreateMultipartUpload.

use super::put_object::object_meta;
use super::xml::Xml;
use super::{S3Ctx, S3Error, S3Request, S3Response};

pub async fn handle(ctx: &S3Ctx, req: &S3Request) -> Result<S3Response, S3Error> {
    let (bucket, key) = (
        req.bucket.as_deref().unwrap_or_default(),
        req.key.as_deref().unwrap_or_default(),
    );
    let up = ctx.objects.create_upload(bucket, key, object_meta(req))?;
    let root = "InitiateMultipartUploadResult";
    let mut x = Xml::new(root);
    x.text("Bucket", bucket)
        .text("Key", key)
        .text("UploadId", &up.upload_id);
    Ok(S3Response::xml(x.finish(root)))
}
