//! Reading request members with AWS's type checks (SerializationException) and constraint
//! checks (ValidationException, all violations listed in one message, as AWS does).

use std::collections::BTreeMap;

use bytes::Bytes;

use crate::error::ApiError;
use crate::value::{Key, Protocol, Value};

/// A pattern's text (for messages) and the function that checks it.
pub type Pattern = (&'static str, fn(&str) -> bool);

/// Constraints of a string member, as the service model declares them.
#[derive(Clone, Copy)]
pub struct StrRule {
    pub min: usize,
    pub max: Option<usize>,
    /// The pattern's text (for the message) and a checker for it.
    pub pattern: Option<Pattern>,
    pub enum_values: Option<&'static [&'static str]>,
}

impl StrRule {
    pub const fn len(min: usize, max: usize) -> StrRule {
        StrRule {
            min,
            max: Some(max),
            pattern: None,
            enum_values: None,
        }
    }
    pub const fn any() -> StrRule {
        StrRule {
            min: 0,
            max: None,
            pattern: None,
            enum_values: None,
        }
    }
    pub const fn pattern(self, text: &'static str, check: fn(&str) -> bool) -> StrRule {
        StrRule {
            pattern: Some((text, check)),
            ..self
        }
    }
    pub const fn one_of(values: &'static [&'static str]) -> StrRule {
        StrRule {
            min: 0,
            max: None,
            pattern: None,
            enum_values: Some(values),
        }
    }
}

/// A structure being read; collects constraint violations until `finish`.
pub struct Input {
    members: Vec<(Key, Value)>,
    protocol: Protocol,
    /// Prefix for member paths in messages (e.g. `records.1.member.`).
    path: String,
    violations: Vec<String>,
}

impl Input {
    /// Reads a top-level request document, which must be a structure.
    pub fn new(doc: Value, protocol: Protocol) -> Result<Input, ApiError> {
        match doc {
            Value::Map(members) => Ok(Input {
                members,
                protocol,
                path: String::new(),
                violations: Vec::new(),
            }),
            other => Err(ApiError::serialization(format!(
                "The request body must be a structure, not a {}",
                other.kind()
            ))),
        }
    }

    fn nested(&self, members: Vec<(Key, Value)>, path: String) -> Input {
        Input {
            members,
            protocol: self.protocol,
            path,
            violations: Vec::new(),
        }
    }

    /// The protocol the request came in.
    pub fn protocol(&self) -> Protocol {
        self.protocol
    }

    /// Whether a non-null member is present.
    pub fn has(&self, name: &str) -> bool {
        self.members
            .iter()
            .any(|(k, v)| k == name && *v != Value::Null)
    }

    /// A string member's value, without reading it (for routing decisions before a handler).
    pub fn peek_str(&self, name: &str) -> Option<&str> {
        self.members.iter().find_map(|(k, v)| match v {
            Value::Str(s) if k == name => Some(s.as_str()),
            _ => None,
        })
    }

    /// A member as it was sent (for services whose model checks already ran).
    pub fn raw(&mut self, name: &str) -> Option<Value> {
        self.take(name)
    }

    fn take(&mut self, name: &str) -> Option<Value> {
        let i = self.members.iter().position(|(k, _)| k == name)?;
        match self.members.swap_remove(i).1 {
            Value::Null => None,
            v => Some(v),
        }
    }

    /// The member's name in messages: lower camel case, with the nesting path.
    fn at(&self, name: &str) -> String {
        let mut c = name.chars();
        let lower = match c.next() {
            Some(f) => f.to_lowercase().collect::<String>() + c.as_str(),
            None => String::new(),
        };
        format!("{}{}", self.path, lower)
    }

    fn wrong_type(&self, name: &str, want: &str, got: &Value) -> ApiError {
        ApiError::serialization(format!(
            "Member '{name}' must be a {want}, but the request gave a {}",
            got.kind()
        ))
    }

    fn violate(&mut self, value: Option<&str>, name: &str, constraint: impl AsRef<str>) {
        let value = match value {
            Some(v) => format!("'{v}' "),
            None => "null ".to_string(),
        };
        let at = self.at(name);
        self.violations.push(format!(
            "Value {value}at '{at}' failed to satisfy constraint: {}",
            constraint.as_ref()
        ));
    }

    /// Notes that a required member is absent.
    fn missing(&mut self, name: &str) {
        self.violate(None, name, "Member must not be null");
    }

    /// A string member.
    pub fn string(
        &mut self,
        name: &str,
        required: bool,
        rule: StrRule,
    ) -> Result<Option<String>, ApiError> {
        let s = match self.take(name) {
            None => {
                if required {
                    self.missing(name);
                }
                return Ok(None);
            }
            Some(Value::Str(s)) => s,
            Some(other) => return Err(self.wrong_type(name, "string", &other)),
        };
        let n = s.chars().count();
        if n < rule.min {
            self.violate(
                Some(&s),
                name,
                format!(
                    "Member must have length greater than or equal to {}",
                    rule.min
                ),
            );
        }
        if let Some(max) = rule.max {
            if n > max {
                self.violate(
                    Some(&s),
                    name,
                    format!("Member must have length less than or equal to {max}"),
                );
            }
        }
        if let Some((text, check)) = rule.pattern {
            if !check(&s) {
                self.violate(
                    Some(&s),
                    name,
                    format!("Member must satisfy regular expression pattern: {text}"),
                );
            }
        }
        if let Some(values) = rule.enum_values {
            if !values.contains(&s.as_str()) {
                self.violate(
                    Some(&s),
                    name,
                    format!(
                        "Member must satisfy enum value set: [{}]",
                        values.join(", ")
                    ),
                );
            }
        }
        Ok(Some(s))
    }

    /// An integer member with inclusive bounds.
    pub fn int(
        &mut self,
        name: &str,
        required: bool,
        min: Option<i64>,
        max: Option<i64>,
    ) -> Result<Option<i64>, ApiError> {
        let v = match self.take(name) {
            None => {
                if required {
                    self.missing(name);
                }
                return Ok(None);
            }
            Some(Value::Int(i)) => i64::try_from(i).map_err(|_| {
                ApiError::serialization(format!("Member '{name}' is out of range for a number"))
            })?,
            Some(Value::Float(f)) if f.fract() == 0.0 && f.abs() < 9.0e15 => f as i64,
            Some(other) => return Err(self.wrong_type(name, "integer", &other)),
        };
        let text = v.to_string();
        if let Some(min) = min {
            if v < min {
                self.violate(
                    Some(&text),
                    name,
                    format!("Member must have value greater than or equal to {min}"),
                );
            }
        }
        if let Some(max) = max {
            if v > max {
                self.violate(
                    Some(&text),
                    name,
                    format!("Member must have value less than or equal to {max}"),
                );
            }
        }
        Ok(Some(v))
    }

    /// A double member with inclusive bounds.
    pub fn double(
        &mut self,
        name: &str,
        min: Option<f64>,
        max: Option<f64>,
    ) -> Result<Option<f64>, ApiError> {
        let v = match self.take(name) {
            None => return Ok(None),
            Some(Value::Int(i)) => i as f64,
            Some(Value::Float(f)) => f,
            Some(other) => return Err(self.wrong_type(name, "double", &other)),
        };
        let text = v.to_string();
        if let Some(min) = min.filter(|m| v < *m) {
            self.violate(
                Some(&text),
                name,
                format!("Member must have value greater than or equal to {min}"),
            );
        }
        if let Some(max) = max.filter(|m| v > *m) {
            self.violate(
                Some(&text),
                name,
                format!("Member must have value less than or equal to {max}"),
            );
        }
        Ok(Some(v))
    }

    /// A boolean member.
    pub fn boolean(&mut self, name: &str) -> Result<Option<bool>, ApiError> {
        match self.take(name) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(b)),
            Some(other) => Err(self.wrong_type(name, "boolean", &other)),
        }
    }

    /// A timestamp member, in epoch milliseconds.
    pub fn timestamp(&mut self, name: &str) -> Result<Option<i64>, ApiError> {
        match self.take(name) {
            None => Ok(None),
            Some(Value::Timestamp(ms)) => Ok(Some(ms)),
            Some(Value::Int(secs)) => Ok(Some((secs as i64).saturating_mul(1000))),
            Some(Value::Float(secs)) if secs.is_finite() => {
                Ok(Some((secs * 1000.0).round() as i64))
            }
            Some(other) => Err(self.wrong_type(name, "timestamp", &other)),
        }
    }

    /// A blob member with a maximum length (checked against the decoded bytes).
    pub fn blob(
        &mut self,
        name: &str,
        required: bool,
        max: usize,
    ) -> Result<Option<Bytes>, ApiError> {
        let bytes = match (self.take(name), self.protocol) {
            (None, _) => {
                if required {
                    self.missing(name);
                }
                return Ok(None);
            }
            (Some(Value::Str(s)), Protocol::Json) => base64_simd::STANDARD
                .decode_to_vec(s.as_bytes())
                .map(Bytes::from)
                .map_err(|_| {
                    ApiError::serialization(format!("Member '{name}' is not valid base64"))
                })?,
            (Some(Value::Bytes(b)), _) => b,
            (Some(other), _) => return Err(self.wrong_type(name, "blob", &other)),
        };
        if bytes.len() > max {
            let at = self.at(name);
            self.violations.push(format!(
                "Value at '{at}' failed to satisfy constraint: Member must have length less than or equal to {max}"
            ));
        }
        Ok(Some(bytes))
    }

    /// A list member: gives each element to `each` with its index.
    pub fn list<T>(
        &mut self,
        name: &str,
        required: bool,
        min: usize,
        max: usize,
        mut each: impl FnMut(&mut Input, usize, Value) -> Result<Option<T>, ApiError>,
    ) -> Result<Option<Vec<T>>, ApiError> {
        let items = match self.take(name) {
            None => {
                if required {
                    self.missing(name);
                }
                return Ok(None);
            }
            Some(Value::List(items)) => items,
            Some(other) => return Err(self.wrong_type(name, "list", &other)),
        };
        if items.len() < min {
            let at = self.at(name);
            self.violations.push(format!(
                "Value '[]' at '{at}' failed to satisfy constraint: Member must have length greater than or equal to {min}"
            ));
        }
        if items.len() > max {
            let at = self.at(name);
            self.violations.push(format!(
                "Value at '{at}' failed to satisfy constraint: Member must have length less than or equal to {max}"
            ));
            return Ok(None);
        }
        let mut out = Vec::with_capacity(items.len());
        for (i, v) in items.into_iter().enumerate() {
            if let Some(t) = each(self, i, v)? {
                out.push(t);
            }
        }
        Ok(Some(out))
    }

    /// Reads a list element that is a structure, with `read` over its members.
    pub fn member_struct<T>(
        &mut self,
        list_name: &str,
        index: usize,
        v: Value,
        read: impl FnOnce(&mut Input) -> Result<T, ApiError>,
    ) -> Result<T, ApiError> {
        let Value::Map(members) = v else {
            return Err(self.wrong_type(list_name, "list of structures", &v));
        };
        let path = format!("{}.{}.member.", self.at(list_name), index + 1);
        let mut inner = self.nested(members, path);
        let out = read(&mut inner)?;
        self.violations.append(&mut inner.violations);
        Ok(out)
    }

    /// A nested structure member.
    pub fn structure<T>(
        &mut self,
        name: &str,
        read: impl FnOnce(&mut Input) -> Result<T, ApiError>,
    ) -> Result<Option<T>, ApiError> {
        let members = match self.take(name) {
            None => return Ok(None),
            Some(Value::Map(m)) => m,
            Some(other) => return Err(self.wrong_type(name, "structure", &other)),
        };
        let path = format!("{}.", self.at(name));
        let mut inner = self.nested(members, path);
        let out = read(&mut inner)?;
        self.violations.append(&mut inner.violations);
        Ok(Some(out))
    }

    /// A string-to-string map member.
    pub fn string_map(
        &mut self,
        name: &str,
        required: bool,
        min: usize,
        max: usize,
    ) -> Result<Option<BTreeMap<String, String>>, ApiError> {
        let members = match self.take(name) {
            None => {
                if required {
                    self.missing(name);
                }
                return Ok(None);
            }
            Some(Value::Map(m)) => m,
            Some(other) => return Err(self.wrong_type(name, "map", &other)),
        };
        let at = self.at(name);
        if members.len() < min {
            self.violations.push(format!(
                "Value '{{}}' at '{at}' failed to satisfy constraint: Member must have length greater than or equal to {min}"
            ));
        }
        if members.len() > max {
            self.violations.push(format!(
                "Value at '{at}' failed to satisfy constraint: Member must have length less than or equal to {max}"
            ));
        }
        let mut out = BTreeMap::new();
        for (k, v) in members {
            match v {
                Value::Str(s) => {
                    out.insert(k.into_owned(), s);
                }
                other => return Err(self.wrong_type(name, "map of strings", &other)),
            }
        }
        Ok(Some(out))
    }

    /// A string read from a list element.
    pub fn element_string(
        &mut self,
        list_name: &str,
        index: usize,
        v: Value,
        rule: StrRule,
    ) -> Result<Option<String>, ApiError> {
        let name = format!("{list_name}.{}.member", index + 1);
        self.members.push((Key::Owned(name.clone()), v));
        self.string(&name, false, rule)
    }

    /// Notes a violation when a required structure member is absent.
    pub fn require(&mut self, name: &str) {
        if !self.has(name) {
            self.missing(name);
        }
    }

    /// Ends reading: a ValidationException listing every violation, if there were any.
    pub fn finish(self) -> Result<(), ApiError> {
        match self.violations.len() {
            0 => Ok(()),
            n => Err(ApiError::validation(format!(
                "{n} validation error{} detected: {}",
                if n == 1 { "" } else { "s" },
                self.violations.join("; ")
            ))),
        }
    }
}

/// Checks against `[a-zA-Z0-9_.-]+`.
pub fn is_name(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

/// Checks against `0|([1-9]\d{0,max_more})`.
pub fn is_decimal(s: &str, max_digits: usize) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= max_digits
        && b.iter().all(u8::is_ascii_digit)
        && (b[0] != b'0' || b.len() == 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn violations_are_listed_together() {
        let doc = Value::map([
            ("StreamName", Value::str("bad name!")),
            ("Limit", Value::Int(0)),
        ]);
        let mut input = Input::new(doc, Protocol::Json).expect("input");
        input
            .string(
                "StreamName",
                true,
                StrRule::len(1, 128).pattern("[a-zA-Z0-9_.-]+", is_name),
            )
            .expect("typed");
        input
            .int("Limit", false, Some(1), Some(10_000))
            .expect("typed");
        input
            .string("ShardId", true, StrRule::any())
            .expect("typed");
        let err = input.finish().expect_err("invalid");
        assert_eq!(err.code, "ValidationException");
        assert!(
            err.message
                .starts_with("3 validation errors detected: Value 'bad name!' at 'streamName'"),
            "{}",
            err.message
        );
        assert!(err.message.contains(
            "Value null at 'shardId' failed to satisfy constraint: Member must not be null"
        ));
    }

    #[test]
    fn wrong_types_are_serialization_errors() {
        let doc = Value::map([("StreamName", Value::Int(5))]);
        let mut input = Input::new(doc, Protocol::Json).expect("input");
        let err = input
            .string("StreamName", true, StrRule::any())
            .expect_err("type");
        assert_eq!(err.code, "SerializationException");
    }
}
