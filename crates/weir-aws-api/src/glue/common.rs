//! What the Glue handlers share: the bridge between documents and the catalog's types (which
//! are serde structures named as Glue names its members), page tokens and batch error entries.

use base64::Engine as _;
use serde::de::DeserializeOwned;
use serde::Serialize;
use weir_catalog::model::TIMESTAMP_MEMBERS;
use weir_catalog::{CatalogError, ItemError};

use crate::error::ApiError;
use crate::input::Input;
use crate::value::{Key, Value};

/// A document as JSON for serde: timestamps (sent as epoch seconds or as CBOR dates) become
/// epoch milliseconds, blobs base64.
pub fn to_json(v: Value, timestamp: bool) -> serde_json::Value {
    use serde_json::Value as J;
    match v {
        Value::Null => J::Null,
        Value::Bool(b) => J::Bool(b),
        Value::Int(i) if timestamp => J::from((i as i64).saturating_mul(1000)),
        Value::Float(f) if timestamp => J::from((f * 1000.0).round() as i64),
        Value::Int(i) => i64::try_from(i).map_or_else(|_| J::from(i as f64), J::from),
        Value::Float(f) => serde_json::Number::from_f64(f).map_or(J::Null, J::Number),
        Value::Str(s) => J::String(s),
        Value::Bytes(b) => J::String(base64::engine::general_purpose::STANDARD.encode(b)),
        Value::Timestamp(ms) => J::from(ms),
        Value::List(items) => J::Array(items.into_iter().map(|v| to_json(v, false)).collect()),
        Value::Map(members) => J::Object(
            members
                .into_iter()
                .map(|(k, v)| {
                    let ts = TIMESTAMP_MEMBERS.contains(&k.as_ref());
                    (k.into_owned(), to_json(v, ts))
                })
                .collect(),
        ),
    }
}

/// JSON from the catalog as a document: members named as timestamps become dates.
pub fn from_json(j: serde_json::Value, timestamp: bool) -> Value {
    use serde_json::Value as J;
    match j {
        J::Null => Value::Null,
        J::Bool(b) => Value::Bool(b),
        J::Number(n) if timestamp => Value::Timestamp(n.as_i64().unwrap_or(0)),
        J::Number(n) => match n.as_i64() {
            Some(i) => Value::Int(i as i128),
            None => Value::Float(n.as_f64().unwrap_or(0.0)),
        },
        J::String(s) => Value::Str(s),
        J::Array(items) => Value::List(items.into_iter().map(|j| from_json(j, false)).collect()),
        J::Object(members) => Value::Map(
            members
                .into_iter()
                .map(|(k, v)| {
                    let ts = TIMESTAMP_MEMBERS.contains(&k.as_str());
                    (Key::Owned(k), from_json(v, ts))
                })
                .collect(),
        ),
    }
}

/// Reads a structure member into a catalog type.
pub fn read<T: DeserializeOwned>(input: &mut Input, name: &str) -> Result<Option<T>, ApiError> {
    read_or(input, name, invalid)
}

/// Reads a structure member into an engine's serde type; `invalid` makes the service's error
/// for a member that does not fit.
pub fn read_or<T: DeserializeOwned>(
    input: &mut Input,
    name: &str,
    invalid: impl FnOnce(String) -> ApiError,
) -> Result<Option<T>, ApiError> {
    match input.raw(name) {
        None => Ok(None),
        Some(v) => serde_json::from_value(to_json(v, false))
            .map(Some)
            .map_err(|e| invalid(format!("{name} is not valid: {e}"))),
    }
}

/// A catalog value as a document.
pub fn write<T: Serialize>(t: &T) -> Value {
    from_json(serde_json::to_value(t).unwrap_or_default(), false)
}

pub fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::new("InvalidInputException", 400, message).in_message_member()
}

/// A required string member (the model has already said it is present).
pub fn string(input: &mut Input, name: &str) -> Result<String, ApiError> {
    match input.raw(name) {
        Some(Value::Str(s)) => Ok(s),
        _ => Err(invalid(format!("{name} is required."))),
    }
}

pub fn opt_string(input: &mut Input, name: &str) -> Option<String> {
    match input.raw(name) {
        Some(Value::Str(s)) => Some(s),
        _ => None,
    }
}

pub fn strings(v: Value) -> Vec<String> {
    match v {
        Value::List(items) => items
            .into_iter()
            .filter_map(|v| match v {
                Value::Str(s) => Some(s),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

pub fn int(input: &mut Input, name: &str) -> Option<i64> {
    match input.raw(name) {
        Some(Value::Int(i)) => i64::try_from(i).ok(),
        _ => None,
    }
}

/// Page tokens: an opaque base64 of where the next page starts.
pub fn token_of(key: &serde_json::Value) -> String {
    base64::engine::general_purpose::STANDARD.encode(key.to_string())
}

pub fn token_from<T: DeserializeOwned>(token: Option<String>) -> Result<Option<T>, ApiError> {
    let Some(t) = token.filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    base64::engine::general_purpose::STANDARD
        .decode(t.as_bytes())
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .map(Some)
        .ok_or_else(|| invalid("Invalid pagination token."))
}

/// Glue's ErrorDetail for one failed item.
pub fn error_detail(e: &CatalogError) -> Value {
    let code = match e {
        CatalogError::NotFound(_) => "EntityNotFoundException",
        CatalogError::AlreadyExists(_) => "AlreadyExistsException",
        CatalogError::InvalidInput(_) => "InvalidInputException",
        CatalogError::ConcurrentModification(_) => "ConcurrentModificationException",
        CatalogError::Storage(_) => "InternalServiceException",
    };
    Value::map([
        ("ErrorCode", Value::str(code)),
        ("ErrorMessage", Value::str(e.to_string())),
    ])
}

/// `Errors` of a partition batch.
pub fn partition_errors(errors: Vec<ItemError>) -> Value {
    Value::List(
        errors
            .into_iter()
            .map(|e| {
                Value::map([
                    (
                        "PartitionValues",
                        Value::List(e.values.into_iter().map(Value::Str).collect()),
                    ),
                    ("ErrorDetail", error_detail(&e.error)),
                ])
            })
            .collect(),
    )
}

/// A page of `items` (in name order) after the request's NextToken, MaxResults long (100 by
/// default), and the NextToken of the page after it.
pub fn name_page<T>(
    input: &mut Input,
    items: Vec<T>,
    name: impl Fn(&T) -> &str,
) -> Result<(Vec<T>, Option<String>), ApiError> {
    let after: Option<String> = token_from(opt_string(input, "NextToken"))?;
    let limit = page_size(input, 100);
    let mut rest: Vec<T> = items
        .into_iter()
        .filter(|t| after.as_deref().is_none_or(|a| name(t) > a))
        .collect();
    let next = (rest.len() > limit).then(|| token_of(&name(&rest[limit - 1]).into()));
    rest.truncate(limit);
    Ok((rest, next))
}

/// MaxResults with Glue's default and ceiling.
pub fn page_size(input: &mut Input, default: usize) -> usize {
    int(input, "MaxResults").map_or(default, |n| n.clamp(1, 1000) as usize)
}
