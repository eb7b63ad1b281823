//! UploadPart.

use super::payload::stream_into;
use super::{S3Ctx, S3Error, S3Request, S3Response};

pub async fn handle(ctx: &S3Ctx, req: &S3Request) -> Result<S3Response, S3Error> {
    let (bucket, key) = (
        req.bucket.as_deref().unwrap_or_default(),
        req.key.as_deref().unwrap_or_default(),
    );
    let upload_id = req.param("uploadId").unwrap_or_default().to_string();
    let number: u32 = req
        .param("partNumber")
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| {
            S3Error::new(
                "InvalidArgument",
                400,
                "Part number must be an integer between 1 and 10000, inclusive",
            )
        })?;
    let objects = ctx.objects.clone();
    let (b, k) = (bucket.to_string(), key.to_string());
    let (part, checksum) = stream_into(req, move |body| {
        Ok(objects.upload_part_from_reader(&b, &k, &upload_id, number, body)?)
    })
    .await?;
    let mut resp = S3Response::empty(200).with("etag", part.etag);
    if let Some((name, value)) = checksum {
        resp = resp.with(&name, value);
    }
    Ok(resp)
}
