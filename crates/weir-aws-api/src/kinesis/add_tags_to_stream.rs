//! AddTagsToStream.

use super::common::read_stream_ref;
use crate::error::ApiError;
use crate::input::Input;
use crate::value::Value;
use crate::Ctx;

pub async fn handle(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    let stream = read_stream_ref(&mut input)?;
    let tags = input.string_map("Tags", true, 1, 200)?;
    input.finish()?;
    let key = stream.resolve(ctx)?;
    let tags = tags.unwrap_or_default();
    ctx.log.describe_stream(&key)?;
    let texts = tags.iter().flat_map(|(k, v)| [k.as_str(), v.as_str()]);
    super::common::check_tag_chars(ctx, &key, "add tags to", texts)?;
    ctx.log.add_tags(&key, tags)?;
    Ok(Value::Map(Vec::new()))
}
