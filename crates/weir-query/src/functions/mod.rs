//! Athena's (Trino's) functions where DataFusion lacks them or names them differently:
//! date_parse/date_format (MySQL-style formats), format_datetime/parse_datetime (Joda
//! patterns), from_iso8601_timestamp/date, date_add/date_diff, json_extract/_scalar,
//! json_parse/json_format/json_array_length/json_size, regexp_extract/_all, split,
//! element_at, contains (arrays and strings), mod, arbitrary, count_if, min_by/max_by.
//! Registered on every session, so lake and streaming SQL share them.

mod aggregate;
mod cast;
pub(crate) mod datetime;
mod element_at;
mod json;
mod try_fn;

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, StringArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::DataType;
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};
use datafusion::prelude::SessionContext;

/// A scalar function given by plain functions over arrays (the arguments arrive as arrays of
/// the rows' length; each function casts them to what it needs).
#[derive(Debug)]
pub struct Fun {
    name: &'static str,
    signature: Signature,
    ret: fn(&[DataType]) -> Result<DataType>,
    f: fn(&[ArrayRef]) -> Result<ArrayRef>,
}

// A function is known by its name and signature.
impl PartialEq for Fun {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name && self.signature == other.signature
    }
}

impl Eq for Fun {}

impl std::hash::Hash for Fun {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.name.hash(state);
        self.signature.hash(state);
    }
}

impl ScalarUDFImpl for Fun {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        (self.ret)(arg_types)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let scalar = args
            .args
            .iter()
            .all(|a| matches!(a, ColumnarValue::Scalar(_)));
        let rows = if scalar { 1 } else { args.number_rows };
        let arrays = args
            .args
            .iter()
            .map(|a| a.to_array(rows))
            .collect::<Result<Vec<_>>>()?;
        let out = (self.f)(&arrays)?;
        if scalar {
            Ok(ColumnarValue::Scalar(
                datafusion::common::ScalarValue::try_from_array(&out, 0)?,
            ))
        } else {
            Ok(ColumnarValue::Array(out))
        }
    }
}

fn udf(
    name: &'static str,
    args: usize,
    ret: fn(&[DataType]) -> Result<DataType>,
    f: fn(&[ArrayRef]) -> Result<ArrayRef>,
) -> ScalarUDF {
    udf_n(name, &[args], ret, f)
}

fn udf_n(
    name: &'static str,
    counts: &[usize],
    ret: fn(&[DataType]) -> Result<DataType>,
    f: fn(&[ArrayRef]) -> Result<ArrayRef>,
) -> ScalarUDF {
    let sigs = counts
        .iter()
        .map(|&n| datafusion::logical_expr::TypeSignature::Any(n))
        .collect();
    ScalarUDF::new_from_impl(Fun {
        name,
        signature: Signature::one_of(sigs, Volatility::Immutable),
        ret,
        f,
    })
}

/// The first argument's type (Trino's and Flink's `mod` keep it).
fn first_numeric(args: &[DataType]) -> Result<DataType> {
    match args.first() {
        Some(t) if t.is_numeric() => Ok(t.clone()),
        Some(DataType::Null) | None => Ok(DataType::Int64),
        Some(t) => Err(DataFusionError::Plan(format!("mod takes numbers, not {t}"))),
    }
}

/// `mod(n, m)`: the remainder of n / m, with n's sign (as Java's `%`).
fn modulo(args: &[ArrayRef]) -> Result<ArrayRef> {
    let t = args[0].data_type().clone();
    let m = cast(&args[1], &t)?;
    Ok(datafusion::arrow::compute::kernels::numeric::rem(
        &args[0], &m,
    )?)
}

/// The argument as UTF-8 strings.
pub(crate) fn strings(a: &ArrayRef) -> Result<StringArray> {
    let c = cast(a, &DataType::Utf8)?;
    Ok(c.as_any()
        .downcast_ref::<StringArray>()
        .cloned()
        .unwrap_or_else(|| StringArray::new_null(a.len())))
}

/// The argument as 64-bit integers.
pub(crate) fn ints(a: &ArrayRef) -> Result<datafusion::arrow::array::Int64Array> {
    let c = cast(a, &DataType::Int64)?;
    Ok(c.as_any()
        .downcast_ref::<datafusion::arrow::array::Int64Array>()
        .cloned()
        .unwrap_or_else(|| datafusion::arrow::array::Int64Array::new_null(a.len())))
}

pub(crate) fn exec_err(msg: impl Into<String>) -> DataFusionError {
    DataFusionError::Execution(msg.into())
}

fn varchar(_: &[DataType]) -> Result<DataType> {
    Ok(DataType::Utf8)
}

fn bigint(_: &[DataType]) -> Result<DataType> {
    Ok(DataType::Int64)
}

fn string_list(_: &[DataType]) -> Result<DataType> {
    Ok(DataType::new_list(DataType::Utf8, true))
}

/// regexp_extract(string, pattern [, group]): the first match (or its group), NULL if none.
fn regexp_extract(a: &[ArrayRef]) -> Result<ArrayRef> {
    let s = strings(&a[0])?;
    let p = strings(&a[1])?;
    let g = a.get(2).map(ints).transpose()?;
    let mut cache: Option<(String, regex::Regex)> = None;
    let mut out = Vec::with_capacity(s.len());
    for i in 0..s.len() {
        if s.is_null(i) || p.is_null(i) || g.as_ref().is_some_and(|g| g.is_null(i)) {
            out.push(None);
            continue;
        }
        let re = cached_regex(&mut cache, p.value(i))?;
        let group = g.as_ref().map_or(0, |g| g.value(i)) as usize;
        check_group(re, group)?;
        out.push(
            re.captures(s.value(i))
                .and_then(|c| c.get(group).map(|m| m.as_str().to_string())),
        );
    }
    Ok(Arc::new(StringArray::from(out)))
}

/// regexp_extract_all(string, pattern [, group]): every match (or its group).
fn regexp_extract_all(a: &[ArrayRef]) -> Result<ArrayRef> {
    use datafusion::arrow::array::{ListBuilder, StringBuilder};
    let s = strings(&a[0])?;
    let p = strings(&a[1])?;
    let g = a.get(2).map(ints).transpose()?;
    let mut cache: Option<(String, regex::Regex)> = None;
    let mut b = ListBuilder::new(StringBuilder::new());
    for i in 0..s.len() {
        if s.is_null(i) || p.is_null(i) {
            b.append(false);
            continue;
        }
        let re = cached_regex(&mut cache, p.value(i))?;
        let group = g.as_ref().map_or(0, |g| g.value(i)) as usize;
        check_group(re, group)?;
        for c in re.captures_iter(s.value(i)) {
            b.values().append_option(c.get(group).map(|m| m.as_str()));
        }
        b.append(true);
    }
    Ok(Arc::new(b.finish()))
}

/// Trino's error for a group the pattern does not have.
fn check_group(re: &regex::Regex, group: usize) -> Result<()> {
    let groups = re.captures_len() - 1;
    if group > groups {
        return Err(exec_err(format!(
            "Pattern has {groups} groups. Cannot access group {group}"
        )));
    }
    Ok(())
}

fn cached_regex<'a>(
    cache: &'a mut Option<(String, regex::Regex)>,
    pattern: &str,
) -> Result<&'a regex::Regex> {
    if cache.as_ref().is_none_or(|(p, _)| p != pattern) {
        let re = regex::Regex::new(pattern)
            .map_err(|e| exec_err(format!("Invalid regular expression '{pattern}': {e}")))?;
        *cache = Some((pattern.to_string(), re));
    }
    cache
        .as_ref()
        .map(|(_, r)| r)
        .ok_or_else(|| exec_err("regex cache"))
}

/// regexp_replace(string, pattern [, replacement]): every match replaced (`$1` is a group).
fn regexp_replace(a: &[ArrayRef]) -> Result<ArrayRef> {
    let s = strings(&a[0])?;
    let p = strings(&a[1])?;
    let r = a.get(2).map(strings).transpose()?;
    let mut cache: Option<(String, regex::Regex)> = None;
    let mut out = Vec::with_capacity(s.len());
    for i in 0..s.len() {
        if s.is_null(i) || p.is_null(i) || r.as_ref().is_some_and(|r| r.is_null(i)) {
            out.push(None);
            continue;
        }
        let re = cached_regex(&mut cache, p.value(i))?;
        let rep = r.as_ref().map_or("", |r| r.value(i));
        out.push(Some(re.replace_all(s.value(i), rep).into_owned()));
    }
    Ok(Arc::new(StringArray::from(out)))
}

/// split(string, delimiter [, limit]) → array(varchar).
fn split(a: &[ArrayRef]) -> Result<ArrayRef> {
    use datafusion::arrow::array::{ListBuilder, StringBuilder};
    let s = strings(&a[0])?;
    let d = strings(&a[1])?;
    let limit = a.get(2).map(ints).transpose()?;
    let mut b = ListBuilder::new(StringBuilder::new());
    for i in 0..s.len() {
        if s.is_null(i) || d.is_null(i) {
            b.append(false);
            continue;
        }
        let (text, delim) = (s.value(i), d.value(i));
        let parts: Vec<&str> = match (limit.as_ref().map(|l| l.value(i)), delim.is_empty()) {
            (_, true) => {
                // Trino splits into characters on an empty delimiter.
                text.char_indices()
                    .map(|(j, c)| &text[j..j + c.len_utf8()])
                    .collect()
            }
            (Some(n), false) if n > 0 => text.splitn(n as usize, delim).collect(),
            _ => text.split(delim).collect(),
        };
        for p in parts {
            b.values().append_value(p);
        }
        b.append(true);
    }
    Ok(Arc::new(b.finish()))
}

/// contains(array, element) as Trino means it; contains(string, substring) as DataFusion does.
#[derive(Debug, PartialEq, Eq, Hash)]
struct Contains {
    signature: Signature,
}

impl ScalarUDFImpl for Contains {
    fn name(&self) -> &str {
        "contains"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Boolean)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let target = match args.arg_fields.first().map(|f| f.data_type()) {
            Some(DataType::List(_) | DataType::LargeList(_) | DataType::FixedSizeList(..)) => {
                datafusion::functions_nested::array_has::array_has_udf()
            }
            _ => datafusion::functions::string::contains(),
        };
        target.invoke_with_args(args)
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        match arg_types {
            [DataType::List(f), _] | [DataType::LargeList(f), _] => {
                Ok(vec![arg_types[0].clone(), f.data_type().clone()])
            }
            [_, _] => Ok(vec![DataType::Utf8, DataType::Utf8]),
            _ => Err(exec_err("contains takes two arguments")),
        }
    }
}

/// The function structural casts become (see the SQL front end).
pub const CAST_NAME: &str = cast::NAME;

/// Registers the functions on a session.
pub fn register(ctx: &SessionContext) {
    ctx.register_higher_order_function(try_fn::function());
    ctx.register_udf(cast::function());
    ctx.register_udf(try_fn::opaque());
    let scalars = [
        udf_n("regexp_extract", &[2, 3], varchar, regexp_extract),
        udf_n(
            "regexp_extract_all",
            &[2, 3],
            string_list,
            regexp_extract_all,
        ),
        udf_n("split", &[2, 3], string_list, split),
        udf("mod", 2, first_numeric, modulo),
        udf_n("regexp_replace", &[2, 3], varchar, regexp_replace),
        ScalarUDF::new_from_impl(Contains {
            signature: Signature::user_defined(Volatility::Immutable),
        }),
        ScalarUDF::new_from_impl(element_at::ElementAt::new()),
    ];
    for f in scalars {
        ctx.register_udf(f);
    }
    for f in datetime::functions().into_iter().chain(json::functions()) {
        ctx.register_udf(f);
    }
    for f in aggregate::functions() {
        ctx.register_udaf(f);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::AsArray;

    fn s(v: &[Option<&str>]) -> ArrayRef {
        Arc::new(StringArray::from(v.to_vec()))
    }

    #[test]
    fn regexp_and_split() {
        let out = regexp_extract(&[s(&[Some("abc123"), None]), s(&[Some("[0-9]+"), Some("x")])])
            .unwrap_or_else(|e| panic!("{e}"));
        let out = out.as_string::<i32>();
        assert_eq!(out.value(0), "123");
        assert!(out.is_null(1));
        let parts =
            split(&[s(&[Some("a,b,,c")]), s(&[Some(",")])]).unwrap_or_else(|e| panic!("{e}"));
        let l = parts.as_list::<i32>().value(0);
        assert_eq!(l.len(), 4);
        assert!(regexp_extract(&[s(&[Some("a")]), s(&[Some("(")])]).is_err());
    }
}
