//! Tags of Glue resources by ARN (`arn:aws:glue:<region>:<account>:crawler/<name>`, `job/...`):
//! what TagResource, UntagResource and GetTags share. Crawlers and jobs carry tags; other
//! resources are not found.

use std::collections::BTreeMap;

use super::common::invalid;
use crate::error::ApiError;
use crate::Ctx;

/// Tags a resource may carry.
const MAX_TAGS: usize = 50;

enum Resource {
    Crawler(String, String),
    Job(String, String),
}

fn resource(arn: &str) -> Result<Resource, ApiError> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let [_, _, "glue", region, _account, rest] = parts.as_slice() else {
        return Err(invalid(format!("Invalid ARN: {arn}")));
    };
    match rest.split_once('/') {
        Some(("crawler", name)) => Ok(Resource::Crawler(region.to_string(), name.to_string())),
        Some(("job", name)) => Ok(Resource::Job(region.to_string(), name.to_string())),
        _ => Err(ApiError::new(
            "EntityNotFoundException",
            400,
            format!("Resource {arn} is not a crawler or job Weir keeps tags for."),
        )
        .in_message_member()),
    }
}

/// A resource's tags.
pub fn get(ctx: &Ctx, arn: &str) -> Result<BTreeMap<String, String>, ApiError> {
    Ok(match resource(arn)? {
        Resource::Crawler(region, name) => ctx.crawlers.get(&region, &name)?.tags,
        Resource::Job(region, name) => ctx.jobs.get(&region, &name)?.tags,
    })
}

/// Changes a resource's tags; at most 50 may remain.
pub fn change(
    ctx: &Ctx,
    arn: &str,
    change: impl Fn(&mut BTreeMap<String, String>),
) -> Result<(), ApiError> {
    let current = get(ctx, arn)?;
    let mut next = current.clone();
    change(&mut next);
    if next.len() > MAX_TAGS {
        return Err(invalid(format!(
            "A resource can have at most {MAX_TAGS} tags."
        )));
    }
    match resource(arn)? {
        Resource::Crawler(region, name) => ctx.crawlers.set_tags(&region, &name, |t| change(t))?,
        Resource::Job(region, name) => ctx.jobs.set_tags(&region, &name, |t| change(t))?,
    }
    Ok(())
}
