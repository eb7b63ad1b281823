//! DeleteObjects: up to 1,000 keys in one request, per-key results (Quiet reports only errors).

use super::xml::{blocks, find_text, unescape, Xml};
use super::{S3Ctx, S3Error, S3Request, S3Response};

pub async fn handle(ctx: &S3Ctx, req: &S3Request) -> Result<S3Response, S3Error> {
    let bucket = req.bucket.as_deref().unwrap_or_default();
    ctx.objects.bucket(bucket)?;
    let malformed = || {
        S3Error::new("MalformedXML", 400, "The XML you provided was not well-formed or did not validate against our published schema.")
    };
    let doc = std::str::from_utf8(&req.body).map_err(|_| malformed())?;
    let quiet = find_text(doc, "Quiet") == Some("true");
    let keys: Vec<String> = blocks(doc, "Object")
        .into_iter()
        .map(|o| find_text(o, "Key").map(unescape).ok_or_else(malformed))
        .collect::<Result<_, _>>()?;
    if keys.is_empty() || keys.len() > 1000 {
        return Err(malformed());
    }
    // One tombstone per key and one sync for them all; a failure fails every key.
    let objects = ctx.objects.clone();
    let (b, all) = (bucket.to_string(), keys.clone());
    let done = tokio::task::spawn_blocking(move || {
        let refs: Vec<&str> = all.iter().map(String::as_str).collect();
        objects.delete_objects(&b, &refs)
    })
    .await
    .map_err(|e| S3Error::new("InternalError", 500, e.to_string()))?;
    let root = "DeleteResult";
    let mut x = Xml::new(root);
    let failed = done.err().map(S3Error::from);
    for key in &keys {
        match &failed {
            None => {
                if !quiet {
                    x.open("Deleted").text("Key", key).close("Deleted");
                }
            }
            Some(e) => {
                x.open("Error")
                    .text("Key", key)
                    .text("Code", e.code)
                    .text("Message", &e.message)
                    .close("Error");
            }
        }
    }
    Ok(S3Response::xml(x.finish(root)))
}
