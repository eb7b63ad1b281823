//! Checking a request against its operation's input shape, in the order AWS does it: first the
//! types (SerializationException with the texts of the JSON decoder AWS runs, stopping at the
//! first), then every constraint (one ValidationException listing up to ten violations).

use super::render::{java_number, lower_first, render};
use super::{Kind, ServiceModel, Shape};
use crate::error::ApiError;
use crate::value::{Protocol, Value};

/// What a service's recorded answers show beyond its model.
#[derive(Debug, Default, Clone, Copy)]
pub struct Overlay {
    /// The order AWS lists violations in, per input shape (members not named follow in the
    /// model's order).
    pub order: &'static [(&'static str, &'static [&'static str])],
    /// `(member, unless)`: in a structure that has both, `member` is required unless `unless`
    /// is given (AWS still asks for a StreamName when no StreamARN names the stream).
    pub required_unless: &'static [(&'static str, &'static str)],
    /// Input shapes where `required_unless` does not apply.
    pub required_unless_except: &'static [&'static str],
    /// `(input shape, member)`: required although the model says optional.
    pub also_required: &'static [(&'static str, &'static str)],
    /// Shapes whose pattern Weir does not hold requests to (documented deviations).
    pub relaxed_patterns: &'static [&'static str],
    /// The order AWS prints an enum's value set in, per shape.
    pub enum_order: &'static [(&'static str, &'static [&'static str])],
}

/// AWS lists at most this many violations.
const MAX_VIOLATIONS: usize = 10;

impl ServiceModel {
    /// Checks (and normalises, as AWS's decoder does) a request document for `operation`.
    /// Unknown members are left alone; nulls count as absent.
    pub fn check_request(
        &self,
        operation: &str,
        doc: &mut Value,
        protocol: Protocol,
        overlay: &Overlay,
    ) -> Result<(), ApiError> {
        let Some(input) = self
            .operation(operation)
            .and_then(|o| o.input.as_deref())
            .and_then(|name| Some((name, self.shape(name)?)))
        else {
            return Ok(());
        };
        self.check_type(input.1, doc, protocol)?;
        let mut out = Vec::new();
        let members = match doc {
            Value::Map(m) => m.as_slice(),
            _ => &[],
        };
        self.check_struct(input.0, input.1, members, None, overlay, &mut out);
        match out.len() {
            0 => Ok(()),
            n => Err(ApiError::validation(format!(
                "{n} validation error{} detected: {}",
                if n == 1 { "" } else { "s" },
                out.join("; ")
            ))),
        }
    }

    /// AWS's type check of one value against its shape.
    fn check_type(&self, shape: &Shape, v: &mut Value, protocol: Protocol) -> Result<(), ApiError> {
        let fail = |m: String| Err(ApiError::serialization(m));
        let structural = |v: &Value| match v {
            Value::List(_) => Some("Start of list found where not expected".to_string()),
            Value::Map(_) => {
                Some("Start of structure or map found where not expected.".to_string())
            }
            _ => None,
        };
        match shape.kind {
            Kind::String => match v {
                Value::Str(_) | Value::Null => Ok(()),
                Value::Bool(_) => fail(java_class("java.lang.Boolean", "an String")),
                Value::Int(_) | Value::Float(_) => fail(java_class(TRUNCATING, "an String")),
                Value::Bytes(_) => fail(java_class("java.nio.HeapByteBuffer", "an String")),
                Value::Timestamp(_) => fail(java_class("java.util.Date", "an String")),
                other => fail(structural(other).unwrap_or_default()),
            },
            Kind::Boolean => match v {
                Value::Bool(_) | Value::Null => Ok(()),
                Value::Str(s) => match s.to_ascii_lowercase().as_str() {
                    "true" | "yes" | "1" => {
                        *v = Value::Bool(true);
                        Ok(())
                    }
                    "false" | "no" | "0" => {
                        *v = Value::Bool(false);
                        Ok(())
                    }
                    _ => fail(format!(
                        "'{}' can not be converted to an Boolean",
                        s.to_uppercase()
                    )),
                },
                Value::Int(_) => fail(java_class(TRUNCATING, "an Boolean")),
                // AWS's decoder takes doubles as booleans.
                Value::Float(f) => {
                    *v = Value::Bool(*f != 0.0);
                    Ok(())
                }
                Value::Bytes(_) | Value::Timestamp(_) => {
                    fail(java_class("java.lang.Object", "an Boolean"))
                }
                other => fail(structural(other).unwrap_or_default()),
            },
            Kind::Integer | Kind::Long | Kind::Short | Kind::Byte | Kind::Float | Kind::Double => {
                let name = match shape.kind {
                    Kind::Integer => "an Integer",
                    Kind::Long => "an Long",
                    Kind::Short => "an Short",
                    Kind::Byte => "an Byte",
                    Kind::Float => "an Float",
                    _ => "an Double",
                };
                let (lo, hi) = match shape.kind {
                    Kind::Integer => (i32::MIN as i128, i32::MAX as i128),
                    Kind::Short => (i16::MIN as i128, i16::MAX as i128),
                    Kind::Byte => (i8::MIN as i128, i8::MAX as i128),
                    _ => (i64::MIN as i128, i64::MAX as i128),
                };
                let floating = matches!(shape.kind, Kind::Float | Kind::Double);
                match v {
                    Value::Null => Ok(()),
                    Value::Int(i) => {
                        if !floating {
                            *i = (*i).clamp(lo, hi);
                        }
                        Ok(())
                    }
                    Value::Float(f) => {
                        if !floating {
                            // AWS's decoder truncates a fraction and saturates at the type's range.
                            let n = f.floor();
                            *v = Value::Int((n as i128).clamp(lo, hi));
                        }
                        Ok(())
                    }
                    Value::Bool(_) => fail(java_class("java.lang.Boolean", name)),
                    Value::Str(_) => fail(java_class("java.lang.String", name)),
                    Value::Bytes(_) | Value::Timestamp(_) => {
                        fail(java_class("java.lang.Object", name))
                    }
                    other => fail(structural(other).unwrap_or_default()),
                }
            }
            Kind::Blob => match v {
                Value::Null | Value::Bytes(_) => Ok(()),
                Value::Str(s) if protocol == Protocol::Json => match base64_problem(s) {
                    None => Ok(()),
                    Some(p) => fail(format!("'{s}' can not be converted to a Blob: {p}")),
                },
                Value::Str(_) => fail(java_class("java.lang.String", "a Blob")),
                Value::Bool(_) => fail(java_class("java.lang.Boolean", "a Blob")),
                Value::Int(_) | Value::Float(_) => fail(java_class(TRUNCATING, "a Blob")),
                Value::Timestamp(_) => fail(java_class("java.util.Date", "a Blob")),
                other => fail(structural(other).unwrap_or_default()),
            },
            Kind::Timestamp => match v {
                Value::Null | Value::Timestamp(_) | Value::Int(_) | Value::Float(_) => Ok(()),
                Value::Str(_) => fail(java_class("java.lang.String", "milliseconds since epoch")),
                Value::Bool(_) => fail(java_class("java.lang.Boolean", "milliseconds since epoch")),
                Value::Bytes(_) => fail("Expected timestamp or null".into()),
                other => fail(structural(other).unwrap_or_default()),
            },
            Kind::List => match v {
                Value::Null => Ok(()),
                Value::List(items) => {
                    let Some(member) = shape.member.as_deref().and_then(|m| self.shape(m)) else {
                        return Ok(());
                    };
                    for item in items.iter_mut() {
                        self.check_type(member, item, protocol)?;
                    }
                    Ok(())
                }
                Value::Map(_) => fail("Start of structure or map found where not expected.".into()),
                _ => fail("Expected list or null".into()),
            },
            Kind::Map => match v {
                Value::Null => Ok(()),
                Value::Map(entries) => {
                    let Some(value) = shape.value.as_deref().and_then(|m| self.shape(m)) else {
                        return Ok(());
                    };
                    for (_, item) in entries.iter_mut() {
                        self.check_type(value, item, protocol)?;
                    }
                    Ok(())
                }
                Value::List(_) => fail("Start of list found where not expected".into()),
                _ => fail("Expected map or null".into()),
            },
            Kind::Structure | Kind::Union => match v {
                Value::Null => Ok(()),
                Value::Map(entries) => {
                    entries.retain(|(_, v)| *v != Value::Null);
                    for (k, item) in entries.iter_mut() {
                        let member = shape
                            .members
                            .iter()
                            .find(|(name, _)| name == k.as_ref())
                            .and_then(|(_, s)| self.shape(s));
                        if let Some(member) = member {
                            self.check_type(member, item, protocol)?;
                        }
                    }
                    Ok(())
                }
                Value::List(_) => fail("Start of list found where not expected".into()),
                _ => fail("Expected null".into()),
            },
        }
    }

    fn check_struct(
        &self,
        shape_name: &str,
        shape: &Shape,
        members: &[(crate::value::Key, Value)],
        path: Option<&Path<'_>>,
        overlay: &Overlay,
        out: &mut Vec<String>,
    ) {
        let listed = overlay
            .order
            .iter()
            .find(|(s, _)| *s == shape_name)
            .map(|(_, o)| *o)
            .unwrap_or(&[]);
        let ordered = listed
            .iter()
            .filter_map(|n| shape.members.iter().find(|(m, _)| m == n))
            .chain(
                shape
                    .members
                    .iter()
                    .filter(|(m, _)| !listed.contains(&m.as_str())),
            );
        let present = |name: &str| members.iter().any(|(k, v)| k == name && *v != Value::Null);
        let has_member = |name: &str| shape.members.iter().any(|(m, _)| m == name);
        for (name, member_shape) in ordered {
            let Some(member) = self.shape(member_shape) else {
                continue;
            };
            let value = members
                .iter()
                .find(|(k, v)| k == name.as_str() && *v != Value::Null)
                .map(|(_, v)| v);
            let required = shape.required.contains(name)
                || overlay.also_required.contains(&(shape_name, name.as_str()))
                || (!overlay.required_unless_except.contains(&shape_name)
                    && overlay
                        .required_unless
                        .iter()
                        .any(|(m, unless)| m == name && has_member(unless) && !present(unless)));
            let at = Path {
                parent: path,
                step: Step::Member(name),
            };
            self.check_member(member_shape, member, value, required, &at, overlay, out);
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn check_member(
        &self,
        shape_name: &str,
        shape: &Shape,
        value: Option<&Value>,
        required: bool,
        at: &Path<'_>,
        overlay: &Overlay,
        out: &mut Vec<String>,
    ) {
        let mut violate = |v: Option<&Value>, constraint: &str| {
            if out.len() < MAX_VIOLATIONS {
                let shown = match v {
                    None => "null".to_string(),
                    Some(v) => format!("'{}'", render(self, shape, v)),
                };
                out.push(format!(
                    "Value {shown} at '{}' failed to satisfy constraint: {constraint}",
                    at.render()
                ));
            }
        };
        let Some(v) = value else {
            if required {
                violate(None, "Member must not be null");
            }
            return;
        };
        for c in self.violations(shape_name, shape, v, overlay) {
            violate(Some(v), &c);
        }
        match (shape.kind, v) {
            (Kind::List, Value::List(items)) => {
                let Some((member_name, member)) = shape
                    .member
                    .as_deref()
                    .and_then(|m| Some((m, self.shape(m)?)))
                else {
                    return;
                };
                if matches!(member.kind, Kind::Structure) {
                    for (i, item) in items.iter().enumerate() {
                        if let Value::Map(m) = item {
                            let path = Path {
                                parent: Some(at),
                                step: Step::Element(i + 1),
                            };
                            self.check_struct(member_name, member, m, Some(&path), overlay, out);
                        }
                    }
                } else if items.iter().any(|item| {
                    !self
                        .violations(member_name, member, item, overlay)
                        .is_empty()
                }) {
                    let inner = self.constraint_set(member);
                    violate(
                        Some(v),
                        &format!("Member must satisfy constraint: [{inner}]"),
                    );
                }
            }
            (Kind::Map, Value::Map(entries)) => {
                if let Some((key_name, key)) =
                    shape.key.as_deref().and_then(|k| Some((k, self.shape(k)?)))
                {
                    let bad = entries.iter().any(|(k, _)| {
                        !self
                            .violations(key_name, key, &Value::Str(k.to_string()), overlay)
                            .is_empty()
                    });
                    if bad {
                        let inner = self.constraint_set(key);
                        violate(
                            Some(v),
                            &format!("Map keys must satisfy constraint: [{inner}]"),
                        );
                    }
                }
                if let Some((value_name, value)) = shape
                    .value
                    .as_deref()
                    .and_then(|k| Some((k, self.shape(k)?)))
                {
                    let bad = entries.iter().any(|(_, item)| {
                        !self.violations(value_name, value, item, overlay).is_empty()
                    });
                    if bad {
                        let inner = self.constraint_set(value);
                        violate(
                            Some(v),
                            &format!("Map value must satisfy constraint: [{inner}]"),
                        );
                    }
                }
            }
            (Kind::Structure | Kind::Union, Value::Map(m)) => {
                self.check_struct(shape_name, shape, m, Some(at), overlay, out);
            }
            _ => {}
        }
    }

    /// The constraints of `shape` that a present value `v` breaks, in AWS's order: pattern,
    /// lengths, values, enum.
    fn violations(
        &self,
        shape_name: &str,
        shape: &Shape,
        v: &Value,
        overlay: &Overlay,
    ) -> Vec<String> {
        let mut out = Vec::new();
        let relaxed = overlay.relaxed_patterns.contains(&shape_name);
        if let (Some(_), Value::Str(s), false) = (&shape.pattern, v, relaxed) {
            if !shape.matches(s) {
                let p = shape
                    .pattern
                    .as_deref()
                    .map(super::display_pattern)
                    .unwrap_or("");
                out.push(format!(
                    "Member must satisfy regular expression pattern: {p}"
                ));
            }
        }
        let length = match (shape.kind, v) {
            // Java counts UTF-16 units (bytes, for ASCII).
            (Kind::String, Value::Str(s)) if s.is_ascii() => Some(s.len()),
            (Kind::String, Value::Str(s)) => Some(s.encode_utf16().count()),
            (Kind::Blob, Value::Str(s)) => Some(base64_len(s)),
            (Kind::Blob, Value::Bytes(b)) => Some(b.len()),
            (Kind::List, Value::List(l)) => Some(l.len()),
            (Kind::Map, Value::Map(m)) => Some(m.len()),
            _ => None,
        };
        if let Some(n) = length {
            if let Some(min) = shape.min {
                if (n as f64) < min {
                    out.push(format!(
                        "Member must have length greater than or equal to {}",
                        java_number(min)
                    ));
                }
            }
            if let Some(max) = shape.max {
                if (n as f64) > max {
                    out.push(format!(
                        "Member must have length less than or equal to {}",
                        java_number(max)
                    ));
                }
            }
        }
        let number = match v {
            Value::Int(i) => Some(*i as f64),
            Value::Float(f) => Some(*f),
            _ => None,
        };
        if let (Some(n), true) = (number, length.is_none()) {
            if let Some(min) = shape.min {
                if n < min {
                    out.push(format!(
                        "Member must have value greater than or equal to {}",
                        java_number(min)
                    ));
                }
            }
            if let Some(max) = shape.max {
                if n > max {
                    out.push(format!(
                        "Member must have value less than or equal to {}",
                        java_number(max)
                    ));
                }
            }
        }
        if let (Some(values), Value::Str(s)) = (&shape.enum_values, v) {
            if !values.iter().any(|e| e == s) {
                let listed = overlay
                    .enum_order
                    .iter()
                    .find(|(n, _)| *n == shape_name)
                    .map(|(_, o)| o.join(", "))
                    .unwrap_or_else(|| values.join(", "));
                out.push(format!("Member must satisfy enum value set: [{listed}]"));
            }
        }
        out
    }

    /// A member shape's constraints as AWS lists them inside `[...]` for list elements and map
    /// keys/values: the upper length bound first.
    fn constraint_set(&self, shape: &Shape) -> String {
        let mut parts = Vec::new();
        if let Some(max) = shape.max {
            parts.push(format!(
                "Member must have length less than or equal to {}",
                java_number(max)
            ));
        }
        if let Some(min) = shape.min {
            parts.push(format!(
                "Member must have length greater than or equal to {}",
                java_number(min)
            ));
        }
        if let Some(p) = &shape.pattern {
            parts.push(format!(
                "Member must satisfy regular expression pattern: {}",
                super::display_pattern(p)
            ));
        }
        parts.join(", ")
    }
}

/// Where a member sits in the request (`records.1.member.data`), built only for a message.
struct Path<'a> {
    parent: Option<&'a Path<'a>>,
    step: Step<'a>,
}

enum Step<'a> {
    Member(&'a str),
    /// A list element, counted from 1.
    Element(usize),
}

impl Path<'_> {
    fn render(&self) -> String {
        let mut steps = Vec::new();
        let mut at = Some(self);
        while let Some(p) = at {
            steps.push(&p.step);
            at = p.parent;
        }
        let mut out = String::new();
        for step in steps.iter().rev() {
            match step {
                Step::Member(name) => {
                    if !out.is_empty() && !out.ends_with('.') {
                        out.push('.');
                    }
                    out.push_str(&lower_first(name));
                }
                Step::Element(i) => out.push_str(&format!(".{i}.member.")),
            }
        }
        out
    }
}

const TRUNCATING: &str = "com.amazon.coral.value.json.numbers.TruncatingBigNumber";

fn java_class(class: &str, target: &str) -> String {
    format!("class {class} can not be converted to {target}")
}

/// Why a JSON string is not base64 as AWS's decoder reads it, if it is not.
fn base64_problem(s: &str) -> Option<String> {
    let b = s.as_bytes();
    // The common case, valid base64, is checked at SIMD speed; the reason is looked for only
    // when it is not.
    if base64_simd::STANDARD.check(b).is_ok() {
        return None;
    }
    // Java counts UTF-16 units.
    let units = s.encode_utf16().count();
    if !units.is_multiple_of(4) {
        return Some(format!(
            "Base64 encoded length is expected a multiple of 4 bytes but found: {units}"
        ));
    }
    for (i, &c) in b.iter().enumerate() {
        let ok = c.is_ascii_alphanumeric() || c == b'+' || c == b'/';
        if ok {
            continue;
        }
        // Padding is allowed only as a run at the end.
        if c == b'=' && b[i..].iter().all(|&p| p == b'=') {
            break;
        }
        let shown = s[i..].chars().next().unwrap_or('=');
        return Some(format!("Invalid Base64 character: '{shown}'"));
    }
    if base64_simd::STANDARD.check(b).is_err() {
        return Some("Invalid last non-pad Base64 character dectected".into());
    }
    None
}

/// The decoded length of valid base64 text.
fn base64_len(s: &str) -> usize {
    let pad = s.bytes().rev().take_while(|&c| c == b'=').count();
    (s.len() / 4 * 3).saturating_sub(pad)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_texts() {
        assert_eq!(
            base64_problem("23456").as_deref(),
            Some("Base64 encoded length is expected a multiple of 4 bytes but found: 5")
        );
        assert_eq!(
            base64_problem("=+/=").as_deref(),
            Some("Invalid Base64 character: '='")
        );
        assert_eq!(
            base64_problem("+/+=").as_deref(),
            Some("Invalid last non-pad Base64 character dectected")
        );
        assert_eq!(base64_problem("aGVsbG8="), None);
        assert_eq!(base64_problem(""), None);
        assert_eq!(base64_len("aGVsbG8="), 5);
    }
}
