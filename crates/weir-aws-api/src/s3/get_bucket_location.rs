//! GetBucketLocation (empty for us-east-1, as S3 answers).

use super::xml::escape;
use super::{S3Ctx, S3Error, S3Request, S3Response};

pub async fn handle(ctx: &S3Ctx, req: &S3Request) -> Result<S3Response, S3Error> {
    let b = ctx
        .objects
        .bucket(req.bucket.as_deref().unwrap_or_default())?;
    let region = if b.region == "us-east-1" {
        String::new()
    } else {
        escape(&b.region)
    };
    Ok(S3Response::xml(format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<LocationConstraint xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">{region}</LocationConstraint>"
    )))
}
