//! CopyObject (`x-amz-copy-source: /bucket/key`; metadata COPY by default, or REPLACE).

use super::put_object::object_meta;
use super::xml::Xml;
use super::{percent_decode, time, S3Ctx, S3Error, S3Request, S3Response};

pub async fn handle(ctx: &S3Ctx, req: &S3Request) -> Result<S3Response, S3Error> {
    let (bucket, key) = (
        req.bucket.as_deref().unwrap_or_default(),
        req.key.as_deref().unwrap_or_default(),
    );
    let source = percent_decode(req.header("x-amz-copy-source").unwrap_or_default());
    let source = source.split('?').next().unwrap_or_default();
    let source = source.strip_prefix('/').unwrap_or(source);
    let (src_bucket, src_key) = source
        .split_once('/')
        .filter(|(b, k)| !b.is_empty() && !k.is_empty())
        .ok_or_else(|| {
            S3Error::new(
                "InvalidArgument",
                400,
                "Copy Source must mention the source bucket and key: sourcebucket/sourcekey",
            )
        })?;
    let replace = match req.header("x-amz-metadata-directive") {
        Some("REPLACE") => Some(object_meta(req)),
        Some("COPY") | None => {
            if src_bucket == bucket && src_key == key {
                return Err(S3Error::new(
                    "InvalidRequest",
                    400,
                    "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.",
                ));
            }
            None
        }
        Some(_) => {
            return Err(S3Error::new(
                "InvalidArgument",
                400,
                "Unknown metadata directive.",
            ))
        }
    };
    let objects = ctx.objects.clone();
    let (sb, sk, db, dk) = (
        src_bucket.to_string(),
        src_key.to_string(),
        bucket.to_string(),
        key.to_string(),
    );
    let info =
        tokio::task::spawn_blocking(move || objects.copy_object((&sb, &sk), (&db, &dk), replace))
            .await
            .map_err(|e| S3Error::new("InternalError", 500, e.to_string()))??;
    let root = "CopyObjectResult";
    let mut x = Xml::new(root);
    x.text("LastModified", &time::iso8601(info.last_modified_ms))
        .text("ETag", &info.etag);
    Ok(S3Response::xml(x.finish(root)))
}
