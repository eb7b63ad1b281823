//! The log parsing functions of the Kinesis Data Analytics SQL reference. Each returns one ROW
//! value whose fields are read by path (`T.REC.COLUMN1`): `REGEX_LOG_PARSE(text, regex)`,
//! `FAST_REGEX_LOG_PARSE(text, pattern)` (lazy, no backtracking: `kda_fast_regex`),
//! `VARIABLE_COLUMN_LOG_PARSE(text, columns, delimiter [, escape [, quote]])`,
//! `FIXED_COLUMN_LOG_PARSE(text, 'NAME TYPE t START n [FOR m], ...')`,
//! `W3C_LOG_PARSE(text, 'COMMON' | ... | '%h %l ...')` (`kda_w3c`) and `SYS_LOG_PARSE(text)`.
//! Fields are COLUMN1..n of VARCHAR unless a column list names and types them. A text that
//! does not parse (or a field that does not convert to its type) gives a NULL row, as
//! REGEX_LOG_PARSE's "failure to match produces a NULL value result".
//! Every argument but the text is a literal: it decides the ROW's fields when the query is planned.

use std::sync::Arc;

use datafusion::arrow::array::{
    new_null_array, Array, ArrayRef, Date32Array, StringArray, StructArray, Time32MillisecondArray,
    TimestampMillisecondArray,
};
use datafusion::arrow::buffer::NullBuffer;
use datafusion::arrow::compute::{cast_with_options, CastOptions};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Fields, TimeUnit};
use datafusion::common::{exec_err, plan_err, ScalarValue};
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature,
    Volatility,
};
use weir_delivery::timefmt::Pattern;

use crate::kda_fast_regex::FastRegex;
use crate::kda_w3c::W3cFormat;

/// The functions, to register in a session.
pub fn all() -> Vec<ScalarUDF> {
    [
        Kind::Regex,
        Kind::FastRegex,
        Kind::VariableColumn,
        Kind::FixedColumn,
        Kind::W3c,
        Kind::SysLog,
    ]
    .into_iter()
    .map(|kind| {
        ScalarUDF::new_from_impl(LogParse {
            kind,
            signature: Signature::variadic_any(Volatility::Immutable),
            aliases: kind.aliases(),
            shape: parking_lot::Mutex::new(None),
        })
    })
    .collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Kind {
    Regex,
    FastRegex,
    VariableColumn,
    FixedColumn,
    W3c,
    SysLog,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Regex => "REGEX_LOG_PARSE",
            Kind::FastRegex => "FAST_REGEX_LOG_PARSE",
            Kind::VariableColumn => "VARIABLE_COLUMN_LOG_PARSE",
            Kind::FixedColumn => "FIXED_COLUMN_LOG_PARSE",
            Kind::W3c => "W3C_LOG_PARSE",
            Kind::SysLog => "SYS_LOG_PARSE",
        }
    }

    fn aliases(self) -> Vec<String> {
        let mut out = vec![self.name().to_ascii_lowercase()];
        if self == Kind::FastRegex {
            out.push("FAST_REGEX_LOG_PARSER".into());
            out.push("fast_regex_log_parser".into());
        }
        out
    }
}

struct LogParse {
    kind: Kind,
    signature: Signature,
    aliases: Vec<String>,
    /// The parser of the last literal arguments (a regex is compiled once, not per batch).
    shape: parking_lot::Mutex<Option<CachedShape>>,
}

/// A call's literal arguments and the parser they make.
type CachedShape = (Vec<Option<ScalarValue>>, Arc<Shape>);

impl std::fmt::Debug for LogParse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogParse")
            .field("kind", &self.kind)
            .finish()
    }
}

impl PartialEq for LogParse {
    fn eq(&self, other: &Self) -> bool {
        self.kind == other.kind
    }
}
impl Eq for LogParse {}
impl std::hash::Hash for LogParse {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.kind.hash(state);
    }
}

/// A field of the returned ROW.
#[derive(Debug, Clone)]
pub(crate) struct Column {
    pub name: String,
    pub data_type: DataType,
    /// A SimpleDateFormat pattern for DATE/TIME/TIMESTAMP fields.
    pub format: Option<String>,
    pub not_null: bool,
    /// FIXED_COLUMN_LOG_PARSE: where the field starts (from 0) and how long it is.
    pub start: Option<usize>,
    pub length: Option<usize>,
}

impl Column {
    fn text(name: String) -> Column {
        Column {
            name,
            data_type: DataType::Utf8,
            format: None,
            not_null: false,
            start: None,
            length: None,
        }
    }
}

/// COLUMN1..COLUMNn, all text.
pub(crate) fn numbered(n: usize) -> Vec<Column> {
    (1..=n)
        .map(|i| Column::text(format!("COLUMN{i}")))
        .collect()
}

/// How a text is cut into its fields (`None`: it does not parse).
enum Parser {
    Regex(regex::Regex),
    Fast(FastRegex),
    Variable {
        delimiter: String,
        escape: Option<char>,
        quote: Option<(char, char)>,
    },
    Fixed,
    W3c(W3cFormat),
    SysLog,
}

struct Shape {
    parser: Parser,
    columns: Vec<Column>,
}

/// A literal argument's text (or count).
fn literal_text(name: &str, v: Option<&ScalarValue>, what: &str) -> Result<String> {
    match v {
        Some(
            ScalarValue::Utf8(Some(s))
            | ScalarValue::LargeUtf8(Some(s))
            | ScalarValue::Utf8View(Some(s)),
        ) => Ok(s.clone()),
        Some(v) if !v.is_null() && v.data_type().is_integer() => Ok(v.to_string()),
        _ => plan_err!("{name}: the {what} must be a literal"),
    }
}

fn one_char(name: &str, text: &str, what: &str) -> Result<Option<char>> {
    let mut chars = text.chars();
    match (chars.next(), chars.next()) {
        (None, _) => Ok(None),
        (Some(c), None) => Ok(Some(c)),
        _ => plan_err!("{name}: the {what} must be one character"),
    }
}

impl Kind {
    fn shape(self, args: &[Option<&ScalarValue>]) -> Result<Shape> {
        let name = self.name();
        let arg = |i: usize, what: &str| literal_text(name, args.get(i).copied().flatten(), what);
        let arity = |lo: usize, hi: usize| {
            if args.len() < lo || args.len() > hi {
                plan_err!("{name} takes {lo} to {hi} arguments, not {}", args.len())
            } else {
                Ok(())
            }
        };
        Ok(match self {
            Kind::Regex => {
                arity(2, 3)?;
                let pattern = arg(1, "pattern")?;
                // Java's Matcher.matches(): the whole text.
                let re = match regex::Regex::new(&format!("^(?:{pattern})$")) {
                    Ok(re) => re,
                    Err(e) => return plan_err!("{name}: '{pattern}' is not a valid pattern: {e}"),
                };
                let groups = re.captures_len() - 1;
                let columns = if args.len() == 3 {
                    let cols = column_list(name, &arg(2, "column list")?)?;
                    if cols.len() != groups {
                        return plan_err!(
                            "{name}: {} columns for {groups} groups in '{pattern}'",
                            cols.len()
                        );
                    }
                    cols
                } else {
                    numbered(groups)
                };
                Shape {
                    parser: Parser::Regex(re),
                    columns,
                }
            }
            Kind::FastRegex => {
                arity(2, 2)?;
                let fast = FastRegex::new(&arg(1, "pattern")?).map_err(|e| {
                    datafusion::error::DataFusionError::Plan(format!("{name}: {e}"))
                })?;
                Shape {
                    columns: numbered(fast.groups()),
                    parser: Parser::Fast(fast),
                }
            }
            Kind::VariableColumn => {
                arity(3, 5)?;
                let spec = arg(1, "column count or list")?;
                let columns = match spec.trim().parse::<usize>() {
                    Ok(n) if n > 0 => numbered(n),
                    Ok(_) => return plan_err!("{name}: at least one column is needed"),
                    Err(_) => column_list(name, &spec)?,
                };
                let delimiter = arg(2, "delimiter")?;
                if delimiter.is_empty() {
                    return plan_err!("{name}: the delimiter is empty");
                }
                let escape = match args.len() > 3 {
                    true => one_char(name, &arg(3, "escape string")?, "escape string")?,
                    false => None,
                };
                let quote = match args.len() > 4 {
                    true => {
                        let q: Vec<char> = arg(4, "quote string")?.chars().collect();
                        match q.as_slice() {
                            [] => None,
                            [c] => Some((*c, *c)),
                            [b, e] => Some((*b, *e)),
                            _ => {
                                return plan_err!(
                                    "{name}: the quote string has one or two characters"
                                )
                            }
                        }
                    }
                    false => None,
                };
                Shape {
                    parser: Parser::Variable {
                        delimiter,
                        escape,
                        quote,
                    },
                    columns,
                }
            }
            Kind::FixedColumn => {
                arity(2, 2)?;
                let columns = column_list(name, &arg(1, "column list")?)?;
                if let Some(c) = columns.iter().find(|c| c.start.is_none()) {
                    return plan_err!("{name}: column {} has no START", c.name);
                }
                Shape {
                    parser: Parser::Fixed,
                    columns,
                }
            }
            Kind::W3c => {
                arity(2, 2)?;
                let format = W3cFormat::new(&arg(1, "format")?).map_err(|e| {
                    datafusion::error::DataFusionError::Plan(format!("{name}: {e}"))
                })?;
                Shape {
                    columns: numbered(format.fields()),
                    parser: Parser::W3c(format),
                }
            }
            Kind::SysLog => {
                arity(1, 1)?;
                let mut columns = numbered(2);
                columns[0].data_type = DataType::Timestamp(TimeUnit::Millisecond, None);
                columns[0].format = Some("MMM d HH:mm:ss".into());
                Shape {
                    parser: Parser::SysLog,
                    columns,
                }
            }
        })
    }
}

impl Shape {
    fn data_type(&self) -> DataType {
        DataType::Struct(self.fields())
    }

    fn fields(&self) -> Fields {
        self.columns
            .iter()
            .map(|c| Field::new(&c.name, c.data_type.clone(), true))
            .collect()
    }

    /// A text's fields as text (`None`: it does not parse).
    fn split(&self, text: &str) -> Option<Vec<Option<String>>> {
        let n = self.columns.len();
        match &self.parser {
            Parser::Regex(re) => {
                let caps = re.captures(text)?;
                Some(
                    (1..=n)
                        .map(|i| caps.get(i).map(|m| m.as_str().to_string()))
                        .collect(),
                )
            }
            Parser::Fast(fast) => fast.parse(text),
            Parser::Variable {
                delimiter,
                escape,
                quote,
            } => {
                let mut fields = split_variable(text, delimiter, *escape, *quote);
                fields.resize(n, None);
                Some(fields)
            }
            Parser::Fixed => Some(
                self.columns
                    .iter()
                    .map(|c| {
                        let start = c.start.unwrap_or(0);
                        let chars = text.chars().skip(start);
                        let s: String = match c.length {
                            Some(len) => chars.take(len).collect(),
                            None => chars.collect(),
                        };
                        (start < text.chars().count()).then_some(s)
                    })
                    .collect(),
            ),
            Parser::W3c(format) => format.parse(text),
            Parser::SysLog => {
                // `Mon DD HH:MM:SS host message`: the time is the first 15 characters.
                let head = text.get(..15)?;
                let rest = text.get(15..)?;
                let head = head.split_whitespace().collect::<Vec<_>>().join(" ");
                Some(vec![Some(head), Some(rest.trim_start().to_string())])
            }
        }
    }
}

/// Fields cut at `delimiter`; `escape` keeps the next character, quotes keep delimiters.
fn split_variable(
    text: &str,
    delimiter: &str,
    escape: Option<char>,
    quote: Option<(char, char)>,
) -> Vec<Option<String>> {
    let mut out = Vec::new();
    let mut field = String::new();
    let mut rest = text;
    let mut quoted = false;
    while let Some(c) = rest.chars().next() {
        if !quoted && rest.starts_with(delimiter) {
            out.push(Some(std::mem::take(&mut field)));
            rest = &rest[delimiter.len()..];
            continue;
        }
        rest = &rest[c.len_utf8()..];
        match (escape, quote) {
            (Some(e), _) if c == e => {
                if let Some(next) = rest.chars().next() {
                    field.push(next);
                    rest = &rest[next.len_utf8()..];
                }
            }
            (_, Some((_, end))) if quoted && c == end => quoted = false,
            (_, Some((begin, _))) if !quoted && c == begin => quoted = true,
            _ => field.push(c),
        }
    }
    out.push(Some(field));
    out
}

/// Reads `'NAME [TYPE] type [NOT NULL] ['format'] [START n [FOR m]], ...'`.
pub(crate) fn column_list(name: &str, text: &str) -> Result<Vec<Column>> {
    let mut out = Vec::new();
    for desc in top_level_commas(text) {
        let words = words(desc);
        let Some((first, mut rest)) = words.split_first() else {
            return plan_err!("{name}: an empty column description in '{text}'");
        };
        let col_name = match first.strip_prefix('"').and_then(|w| w.strip_suffix('"')) {
            Some(quoted) => quoted.to_string(),
            None => first.to_ascii_uppercase(),
        };
        let mut col = Column::text(col_name);
        if rest.first().is_some_and(|w| w.eq_ignore_ascii_case("TYPE")) {
            rest = &rest[1..];
        }
        let keyword = |w: &str| {
            ["NOT", "START", "FOR"]
                .iter()
                .any(|k| w.eq_ignore_ascii_case(k))
                || w.starts_with('\'')
        };
        let type_len = rest.iter().take_while(|w| !keyword(w)).count();
        if type_len > 0 {
            let type_text = rest[..type_len].join(" ");
            col.data_type = match type_text.to_ascii_uppercase().as_str() {
                "TIMESTAMP" => DataType::Timestamp(TimeUnit::Millisecond, None),
                t => match crate::types::parse_type(t) {
                    Ok(t) => t,
                    Err(e) => return plan_err!("{name}: {e}"),
                },
            };
        }
        let mut i = type_len;
        let number = |w: Option<&String>| -> Result<usize> {
            match w.and_then(|w| w.parse().ok()) {
                Some(n) => Ok(n),
                None => plan_err!("{name}: a number is expected in '{desc}'"),
            }
        };
        while i < rest.len() {
            let w = &rest[i];
            if w.starts_with('\'') {
                col.format = Some(w.trim_matches('\'').replace("''", "'"));
                i += 1;
            } else if w.eq_ignore_ascii_case("NOT")
                && rest
                    .get(i + 1)
                    .is_some_and(|n| n.eq_ignore_ascii_case("NULL"))
            {
                col.not_null = true;
                i += 2;
            } else if w.eq_ignore_ascii_case("START") {
                col.start = Some(number(rest.get(i + 1))?);
                i += 2;
            } else if w.eq_ignore_ascii_case("FOR") {
                col.length = Some(number(rest.get(i + 1))?);
                i += 2;
            } else {
                return plan_err!("{name}: '{w}' is not understood in '{desc}'");
            }
        }
        out.push(col);
    }
    Ok(out)
}

/// Pieces between commas outside parentheses and quotes.
fn top_level_commas(text: &str) -> Vec<&str> {
    let (mut out, mut depth, mut quote, mut start) = (Vec::new(), 0i32, None, 0);
    for (i, c) in text.char_indices() {
        match (quote, c) {
            (Some(q), _) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '(') => depth += 1,
            (None, ')') => depth -= 1,
            (None, ',') if depth == 0 => {
                out.push(text[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(text[start..].trim());
    out.retain(|s| !s.is_empty());
    out
}

/// Words of a column description: quoted parts whole, `VARCHAR(10)` / `DECIMAL(5, 2)` whole.
fn words(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut cur = String::new();
    let (mut quote, mut depth) = (None, 0);
    for c in text.chars() {
        match (quote, c) {
            (Some(q), _) => {
                cur.push(c);
                if c == q {
                    quote = None;
                }
            }
            (None, '\'' | '"') => {
                cur.push(c);
                quote = Some(c);
            }
            (None, '(') => {
                // `VARCHAR (10)` belongs to the word before.
                if cur.is_empty() {
                    if let Some(last) = out.pop() {
                        cur = last;
                    }
                }
                depth += 1;
                cur.push(c);
            }
            (None, ')') => {
                depth -= 1;
                cur.push(c);
            }
            (None, c) if c.is_whitespace() && depth == 0 => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
            }
            _ => cur.push(c),
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// One field's texts as its column's type; `failed` marks rows whose text did not convert.
fn convert(col: &Column, texts: &StringArray, failed: &mut [bool]) -> Result<ArrayRef> {
    let array: ArrayRef = match (&col.data_type, &col.format) {
        (DataType::Utf8, _) => Arc::new(texts.clone()),
        (t @ (DataType::Timestamp(..) | DataType::Date32 | DataType::Time32(_)), Some(f)) => {
            let p = match Pattern::parse(f) {
                Ok(p) => p,
                Err(e) => return exec_err!("the format '{f}' is not valid: {e}"),
            };
            let ms: Vec<Option<i64>> = texts
                .iter()
                .map(|s| s.and_then(|s| p.parse_time(s)))
                .collect();
            const DAY: i64 = 86_400_000;
            match t {
                DataType::Date32 => Arc::new(Date32Array::from_iter(
                    ms.iter()
                        .map(|v| v.and_then(|v| i32::try_from(v.div_euclid(DAY)).ok())),
                )),
                DataType::Time32(_) => Arc::new(Time32MillisecondArray::from_iter(
                    ms.iter()
                        .map(|v| v.and_then(|v| i32::try_from(v.rem_euclid(DAY)).ok())),
                )),
                _ => cast_with_options(
                    &TimestampMillisecondArray::from(ms),
                    t,
                    &CastOptions::default(),
                )?,
            }
        }
        (t, _) => {
            // An empty field is NULL, not a failed conversion.
            let trimmed: StringArray = texts
                .iter()
                .map(|s| s.map(str::trim).filter(|s| !s.is_empty()))
                .collect();
            let safe = CastOptions {
                safe: true,
                ..CastOptions::default()
            };
            cast_with_options(&trimmed, t, &safe)?
        }
    };
    for (i, f) in failed.iter_mut().enumerate() {
        let missing = array.is_null(i);
        let given = texts.is_valid(i) && !texts.value(i).trim().is_empty();
        if missing && (given || col.not_null) {
            *f = true;
        }
    }
    Ok(array)
}

impl ScalarUDFImpl for LogParse {
    fn name(&self) -> &str {
        self.kind.name()
    }

    fn aliases(&self) -> &[String] {
        &self.aliases
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _args: &[DataType]) -> Result<DataType> {
        datafusion::common::internal_err!("{} is typed from its literal arguments", self.name())
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        let shape = self.kind.shape(args.scalar_arguments)?;
        Ok(Arc::new(Field::new(self.name(), shape.data_type(), true)))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let rows = args.number_rows;
        let literals: Vec<Option<&ScalarValue>> = args
            .args
            .iter()
            .map(|a| match a {
                ColumnarValue::Scalar(s) => Some(s),
                ColumnarValue::Array(_) => None,
            })
            .collect();
        let key: Vec<Option<ScalarValue>> = literals.iter().map(|l| l.cloned()).collect();
        let shape = {
            let mut cached = self.shape.lock();
            match cached.as_ref() {
                Some((k, shape)) if *k == key => shape.clone(),
                _ => {
                    let shape = Arc::new(self.kind.shape(&literals)?);
                    *cached = Some((key, shape.clone()));
                    shape
                }
            }
        };
        let Some(text) = args.args.first() else {
            return exec_err!("{} needs a text", self.name());
        };
        let text = cast_with_options(
            &text.clone().into_array(rows)?,
            &DataType::Utf8,
            &CastOptions::default(),
        )?;
        let Some(text) = text.as_any().downcast_ref::<StringArray>() else {
            return exec_err!("{}: the text is not a string", self.name());
        };
        let n = shape.columns.len();
        let mut valid = vec![true; rows];
        let mut fields: Vec<Vec<Option<String>>> = vec![Vec::with_capacity(rows); n];
        for (i, row_valid) in valid.iter_mut().enumerate() {
            let parsed = text
                .is_valid(i)
                .then(|| shape.split(text.value(i)))
                .flatten();
            match parsed {
                Some(values) => {
                    for (f, v) in fields.iter_mut().zip(values) {
                        f.push(v);
                    }
                }
                None => {
                    *row_valid = false;
                    fields.iter_mut().for_each(|f| f.push(None));
                }
            }
        }
        let mut failed = vec![false; rows];
        let mut arrays = Vec::with_capacity(n);
        for (col, texts) in shape.columns.iter().zip(fields) {
            let texts = StringArray::from(texts);
            arrays.push(convert(col, &texts, &mut failed)?);
        }
        for (v, f) in valid.iter_mut().zip(&failed) {
            *v &= !f;
        }
        let fields = shape.fields();
        let arrays = if n == 0 {
            return Ok(ColumnarValue::Array(new_null_array(
                &shape.data_type(),
                rows,
            )));
        } else {
            arrays
        };
        let nulls = NullBuffer::from(valid);
        // A NULL row's fields are NULL too (a field read from it does not see the row's nulls).
        let arrays = arrays
            .into_iter()
            .map(|a| {
                let merged = NullBuffer::union(a.nulls(), Some(&nulls));
                let data = a.to_data().into_builder().nulls(merged).build()?;
                Ok(datafusion::arrow::array::make_array(data))
            })
            .collect::<Result<Vec<ArrayRef>>>()?;
        Ok(ColumnarValue::Array(Arc::new(StructArray::try_new(
            fields,
            arrays,
            Some(nulls),
        )?)))
    }
}

#[cfg(test)]
mod tests;
