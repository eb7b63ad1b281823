//! The common JSON record read fast: one flat object whose read columns hold scalars. Its
//! values go straight from the bytes into Arrow builders, without arrow-json's tape. It takes
//! only what arrow-json reads the same way (plain JSON, each key once, simple values; the same
//! parsers for times and decimals) and declines anything else, when the batch goes through
//! arrow-json as before: the rows and the errors are always arrow-json's.

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};
use datafusion::arrow::array::timezone::Tz;
use datafusion::arrow::array::{
    ArrayRef, BooleanBuilder, Decimal128Builder, Float32Builder, Float64Builder, Int32Builder,
    Int64Builder, RecordBatch, StringBuilder,
};
use datafusion::arrow::compute::kernels::cast_utils::{parse_decimal, string_to_datetime, Parser};
use datafusion::arrow::compute::{cast_with_options, CastOptions};
use datafusion::arrow::datatypes::{DataType, Date32Type, Decimal128Type, SchemaRef, TimeUnit};

/// Nesting deeper than this in a value not read is left to arrow-json.
const MAX_DEPTH: u32 = 64;

/// Records of more bytes than this in one batch are left to arrow-json.
const MAX_BYTES: usize = 1 << 30;

/// Longer numbers are left to arrow-json: Rust's float parser and arrow-json's (lexical)
/// read the same value from any number up to this length, not from every longer one.
const MAX_FLOAT_LEN: usize = 64;

/// What a column's JSON value becomes.
#[derive(Clone)]
enum Kind {
    /// Integers of any width: read as `i64`, narrowed (checked) when the batch is built.
    Int,
    F64,
    F32,
    Bool,
    Str,
    Decimal(u8, i8),
    /// A time in this unit; strings parsed in this zone (UTC without one), as arrow-json.
    Time(TimeUnit, Option<Tz>),
    Date,
}

enum Builder {
    Int(Int64Builder),
    F64(Float64Builder),
    F32(Float32Builder),
    Bool(BooleanBuilder),
    Str(StringBuilder),
    Decimal(Decimal128Builder),
    Time(Int64Builder),
    Date(Int32Builder),
}

/// The fast reader of one schema's columns.
pub(super) struct FlatJson {
    schema: SchemaRef,
    names: Vec<Box<[u8]>>,
    kinds: Vec<Kind>,
    nullable: Vec<bool>,
    /// Names without quotes or backslashes (a key in JSON reads as the name's own bytes).
    plain: Vec<bool>,
    /// Batches in a row that went through arrow-json: past a few, this tries one in 64.
    declined: u32,
    /// Unescaped string values are built here.
    scratch: String,
}

impl FlatJson {
    /// A reader of `schema`'s columns, or `None` when a column's type is not one it reads.
    pub fn new(schema: &SchemaRef) -> Option<FlatJson> {
        let names: Vec<&String> = schema.fields().iter().map(|f| f.name()).collect();
        let unique: std::collections::HashSet<&&String> = names.iter().collect();
        if names.len() > 64 || unique.len() != names.len() {
            return None;
        }
        let kinds = schema
            .fields()
            .iter()
            .map(|f| {
                Some(match f.data_type() {
                    t if t.is_integer() => Kind::Int,
                    DataType::Float64 => Kind::F64,
                    DataType::Float32 => Kind::F32,
                    DataType::Boolean => Kind::Bool,
                    DataType::Utf8 => Kind::Str,
                    DataType::Decimal128(p, s) => Kind::Decimal(*p, *s),
                    DataType::Timestamp(unit, tz) => Kind::Time(
                        *unit,
                        match tz {
                            Some(tz) => Some(tz.parse::<Tz>().ok()?),
                            None => None,
                        },
                    ),
                    DataType::Date32 => Kind::Date,
                    _ => return None,
                })
            })
            .collect::<Option<Vec<_>>>()?;
        Some(FlatJson {
            names: schema
                .fields()
                .iter()
                .map(|f| f.name().as_bytes().into())
                .collect(),
            nullable: schema.fields().iter().map(|f| f.is_nullable()).collect(),
            plain: names
                .iter()
                .map(|n| !n.bytes().any(|c| c == b'"' || c == b'\\' || c < 0x20))
                .collect(),
            kinds,
            schema: schema.clone(),
            declined: 0,
            scratch: String::new(),
        })
    }

    /// The rows of `records` (one JSON object each), or `None` when one of them is not
    /// read here and the batch must go through arrow-json.
    pub fn decode<'a>(
        &mut self,
        records: impl ExactSizeIterator<Item = &'a [u8]>,
    ) -> Option<RecordBatch> {
        // Data this keeps declining is left to arrow-json, but tried again now and then.
        if self.declined >= 4 {
            self.declined += 1;
            if !self.declined.is_multiple_of(64) {
                return None;
            }
        }
        let out = self.try_decode(records);
        match out {
            Some(_) => self.declined = 0,
            None => self.declined += 1,
        }
        out
    }

    fn try_decode<'a>(
        &mut self,
        records: impl ExactSizeIterator<Item = &'a [u8]>,
    ) -> Option<RecordBatch> {
        let n = records.len();
        let mut builders: Vec<Builder> = self
            .kinds
            .iter()
            .map(|k| match k {
                Kind::Int => Builder::Int(Int64Builder::with_capacity(n)),
                Kind::F64 => Builder::F64(Float64Builder::with_capacity(n)),
                Kind::F32 => Builder::F32(Float32Builder::with_capacity(n)),
                Kind::Bool => Builder::Bool(BooleanBuilder::with_capacity(n)),
                Kind::Str => Builder::Str(StringBuilder::with_capacity(n, n * 16)),
                Kind::Decimal(..) => Builder::Decimal(Decimal128Builder::with_capacity(n)),
                Kind::Time(..) => Builder::Time(Int64Builder::with_capacity(n)),
                Kind::Date => Builder::Date(Int32Builder::with_capacity(n)),
            })
            .collect();
        // A string column's offsets are 32-bit: data near that much is left to arrow-json.
        let mut bytes = 0usize;
        for r in records {
            bytes += r.len();
            if bytes > MAX_BYTES {
                return None;
            }
            self.record(r, &mut builders)?;
        }
        let columns = builders
            .into_iter()
            .zip(self.schema.fields())
            .map(|(b, f)| {
                let array: ArrayRef = match b {
                    Builder::Int(mut b) | Builder::Time(mut b) => Arc::new(b.finish()),
                    Builder::F64(mut b) => Arc::new(b.finish()),
                    Builder::F32(mut b) => Arc::new(b.finish()),
                    Builder::Bool(mut b) => Arc::new(b.finish()),
                    Builder::Str(mut b) => Arc::new(b.finish()),
                    Builder::Date(mut b) => Arc::new(b.finish()),
                    Builder::Decimal(mut b) => match f.data_type() {
                        DataType::Decimal128(p, s) => {
                            Arc::new(b.finish().with_precision_and_scale(*p, *s).ok()?)
                        }
                        _ => return None,
                    },
                };
                if array.data_type() == f.data_type() {
                    return Some(array);
                }
                // Narrower integers checked (a value out of range is arrow-json's to report);
                // times and dates take their type (the same values).
                let strict = CastOptions {
                    safe: false,
                    ..Default::default()
                };
                cast_with_options(&array, f.data_type(), &strict).ok()
            })
            .collect::<Option<Vec<ArrayRef>>>()?;
        RecordBatch::try_new(self.schema.clone(), columns).ok()
    }

    /// One record's values appended to the builders (every column: absent ones as nulls).
    fn record(&mut self, data: &[u8], builders: &mut [Builder]) -> Option<()> {
        let text = simdutf8::basic::from_utf8(data).ok()?;
        let b = text.as_bytes();
        let mut i = ws(b, 0);
        if b.get(i) != Some(&b'{') {
            return None;
        }
        i = ws(b, i + 1);
        let mut seen: u64 = 0;
        let mut hint = 0;
        if b.get(i) == Some(&b'}') {
            i += 1;
        } else {
            loop {
                if b.get(i) != Some(&b'"') {
                    return None;
                }
                // Keys mostly come in the columns' order: the next column's name is tried in
                // place before the key's end is looked for.
                let (end, column) = match self.expected(b, i, hint) {
                    Some(end) => (end, Some(hint)),
                    None => {
                        let (end, escaped) = string_end(b, i)?;
                        if escaped {
                            return None;
                        }
                        (end, self.find(&b[i + 1..end - 1], hint))
                    }
                };
                i = ws(b, end);
                if b.get(i) != Some(&b':') {
                    return None;
                }
                i = ws(b, i + 1);
                match column {
                    Some(c) => {
                        if seen & (1 << c) != 0 {
                            return None;
                        }
                        seen |= 1 << c;
                        hint = c + 1;
                        i = self.value(text, i, c, &mut builders[c])?;
                    }
                    None => i = skip(b, i, 0)?,
                }
                i = ws(b, i);
                match b.get(i)? {
                    b',' => i = ws(b, i + 1),
                    b'}' => {
                        i += 1;
                        break;
                    }
                    _ => return None,
                }
            }
        }
        if ws(b, i) != b.len() {
            return None;
        }
        for (c, builder) in builders.iter_mut().enumerate() {
            if seen & (1 << c) == 0 {
                if !self.nullable[c] {
                    return None;
                }
                append_null(builder);
            }
        }
        Some(())
    }

    /// Where the key at `i` (its opening quote) ends when it is column `c`'s name.
    fn expected(&self, b: &[u8], i: usize, c: usize) -> Option<usize> {
        let name = self.names.get(c)?;
        let end = i + 1 + name.len();
        let plain = self.plain.get(c).copied().unwrap_or(false);
        (plain && b.get(i + 1..end)? == &name[..] && b.get(end) == Some(&b'"')).then_some(end + 1)
    }

    fn find(&self, key: &[u8], hint: usize) -> Option<usize> {
        // Names are short: compared in place rather than by a call to memcmp.
        let same = |n: &[u8]| n.len() == key.len() && n.iter().zip(key).all(|(a, b)| a == b);
        match self.names.get(hint) {
            Some(n) if same(n) => Some(hint),
            _ => self.names.iter().position(|n| same(n)),
        }
    }

    /// Column `c`'s value at `i`, appended; where it ends.
    fn value(&mut self, text: &str, i: usize, c: usize, builder: &mut Builder) -> Option<usize> {
        let b = text.as_bytes();
        if b.get(i) == Some(&b'n') {
            if !b[i..].starts_with(b"null") || !self.nullable[c] {
                return None;
            }
            append_null(builder);
            return Some(i + 4);
        }
        match (builder, &self.kinds[c]) {
            (Builder::Int(bl), _) => {
                let (end, v) = integer(b, i)?;
                bl.append_value(v);
                Some(end)
            }
            (Builder::F64(bl), _) => {
                let end = float_end(b, i)?;
                bl.append_value(text[i..end].parse().ok()?);
                Some(end)
            }
            (Builder::F32(bl), _) => {
                let end = float_end(b, i)?;
                bl.append_value(text[i..end].parse().ok()?);
                Some(end)
            }
            (Builder::Bool(bl), _) => {
                if b[i..].starts_with(b"true") {
                    bl.append_value(true);
                    Some(i + 4)
                } else if b[i..].starts_with(b"false") {
                    bl.append_value(false);
                    Some(i + 5)
                } else {
                    None
                }
            }
            (Builder::Str(bl), _) => {
                let (end, s) = self.string(text, i)?;
                bl.append_value(s);
                Some(end)
            }
            (Builder::Decimal(bl), Kind::Decimal(p, s)) => {
                let (p, s) = (*p, *s);
                // A number or a string, parsed as arrow-json parses either.
                let (end, v) = match b.get(i)? {
                    b'"' => {
                        let (end, v) = self.string(text, i)?;
                        (end, parse_decimal::<Decimal128Type>(v, p, s).ok()?)
                    }
                    _ => {
                        let end = number_end(b, i)?;
                        (
                            end,
                            parse_decimal::<Decimal128Type>(&text[i..end], p, s).ok()?,
                        )
                    }
                };
                bl.append_value(v);
                Some(end)
            }
            (Builder::Time(bl), Kind::Time(unit, tz)) => {
                let (unit, tz) = (*unit, *tz);
                match b.get(i)? {
                    b'"' => {
                        let (end, v) = self.string(text, i)?;
                        let v = match (&tz, plain_datetime(v)) {
                            (None, Some(t)) => in_unit(t.and_utc(), unit)?,
                            (None, None) => in_unit(string_to_datetime(&Utc, v).ok()?, unit)?,
                            (Some(tz), _) => in_unit(string_to_datetime(tz, v).ok()?, unit)?,
                        };
                        bl.append_value(v);
                        Some(end)
                    }
                    _ => {
                        let (end, v) = integer(b, i)?;
                        bl.append_value(v);
                        Some(end)
                    }
                }
            }
            (Builder::Date(bl), _) => match b.get(i)? {
                b'"' => {
                    let (end, v) = self.string(text, i)?;
                    bl.append_value(Date32Type::parse(v)?);
                    Some(end)
                }
                _ => {
                    let (end, v) = integer(b, i)?;
                    bl.append_value(i32::try_from(v).ok()?);
                    Some(end)
                }
            },
            _ => None,
        }
    }

    /// The string at `i` (unescaped), and where it ends.
    fn string<'t>(&'t mut self, text: &'t str, i: usize) -> Option<(usize, &'t str)> {
        let b = text.as_bytes();
        if b.get(i) != Some(&b'"') {
            return None;
        }
        let (end, escaped) = string_end(b, i)?;
        if !escaped {
            return Some((end, &text[i + 1..end - 1]));
        }
        self.scratch.clear();
        unescape(&text[i + 1..end - 1], Some(&mut self.scratch))?;
        Some((end, self.scratch.as_str()))
    }
}

/// The common form of a time without a zone, `YYYY-MM-DD HH:MM:SS` (or `T` between) with up
/// to nine digits of fraction, read without arrow's general parser; `None` for anything else
/// (which that parser then reads, to the same instant for this form).
fn plain_datetime(s: &str) -> Option<NaiveDateTime> {
    let b = s.as_bytes();
    if b.len() < 19
        || b.len() == 20
        || b.len() > 29
        || b[4] != b'-'
        || b[7] != b'-'
        || !matches!(b[10], b' ' | b'T')
        || b[13] != b':'
        || b[16] != b':'
        || (b.len() > 19 && b[19] != b'.')
    {
        return None;
    }
    let num = |from: usize, to: usize| -> Option<u32> {
        b.get(from..to)?.iter().try_fold(0u32, |v, c| {
            c.is_ascii_digit().then(|| v * 10 + u32::from(c - b'0'))
        })
    };
    let nanos = match b.len() {
        19 => 0,
        n => num(20, n)? * 10u32.pow((29 - n) as u32),
    };
    NaiveDate::from_ymd_opt(num(0, 4)? as i32, num(5, 7)?, num(8, 10)?)?.and_hms_nano_opt(
        num(11, 13)?,
        num(14, 16)?,
        num(17, 19)?,
        nanos,
    )
}

fn in_unit<T: TimeZone>(t: DateTime<T>, unit: TimeUnit) -> Option<i64> {
    Some(match unit {
        TimeUnit::Second => t.timestamp(),
        TimeUnit::Millisecond => t.timestamp_millis(),
        TimeUnit::Microsecond => t.timestamp_micros(),
        TimeUnit::Nanosecond => t.timestamp_nanos_opt()?,
    })
}

fn append_null(b: &mut Builder) {
    match b {
        Builder::Int(b) | Builder::Time(b) => b.append_null(),
        Builder::F64(b) => b.append_null(),
        Builder::F32(b) => b.append_null(),
        Builder::Bool(b) => b.append_null(),
        Builder::Str(b) => b.append_null(),
        Builder::Decimal(b) => b.append_null(),
        Builder::Date(b) => b.append_null(),
    }
}

/// Past JSON whitespace from `i`.
fn ws(b: &[u8], mut i: usize) -> usize {
    while matches!(b.get(i), Some(b' ' | b'\n' | b'\r' | b'\t')) {
        i += 1;
    }
    i
}

/// The string starting at `i` (its opening quote): where it ends (past the closing quote) and
/// whether it holds escapes.
fn string_end(b: &[u8], i: usize) -> Option<(usize, bool)> {
    let mut j = i + 1;
    let mut escaped = false;
    loop {
        j += special(b.get(j..)?)?;
        if b[j] == b'"' {
            return Some((j + 1, escaped));
        }
        escaped = true;
        j += 2;
    }
}

/// Where the first quote or backslash in `b` is, eight bytes at a time (most strings are
/// short: a call to memchr costs more than it saves on them).
fn special(b: &[u8]) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let mut at = 0;
    while let Some(word) = b.get(at..).and_then(|r| r.first_chunk::<8>()) {
        let w = u64::from_le_bytes(*word);
        let quote = w ^ (ONES * u64::from(b'"'));
        let slash = w ^ (ONES * u64::from(b'\\'));
        // A byte of `quote` or `slash` is zero where the word holds that character; the
        // lowest flagged byte is exact (a borrow only flags bytes above a zero one).
        let hits = (quote.wrapping_sub(ONES) & !quote | slash.wrapping_sub(ONES) & !slash) & HIGH;
        if hits != 0 {
            return Some(at + (hits.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    b.get(at..)?
        .iter()
        .position(|&c| c == b'"' || c == b'\\')
        .map(|k| at + k)
}

/// A string's escapes checked (and the string written to `out` when given). Escapes of
/// UTF-16 surrogates are left to arrow-json.
fn unescape(raw: &str, mut out: Option<&mut String>) -> Option<()> {
    let mut rest = raw;
    while let Some(k) = rest.find('\\') {
        if let Some(o) = out.as_deref_mut() {
            o.push_str(&rest[..k]);
        }
        let after = rest.as_bytes().get(k + 1)?;
        let (c, used) = match after {
            b'"' => ('"', 2),
            b'\\' => ('\\', 2),
            b'/' => ('/', 2),
            b'b' => ('\u{8}', 2),
            b'f' => ('\u{c}', 2),
            b'n' => ('\n', 2),
            b'r' => ('\r', 2),
            b't' => ('\t', 2),
            b'u' => {
                let hex = rest.get(k + 2..k + 6)?;
                if !hex.bytes().all(|h| h.is_ascii_hexdigit()) {
                    return None;
                }
                (char::from_u32(u32::from_str_radix(hex, 16).ok()?)?, 6)
            }
            _ => return None,
        };
        if let Some(o) = out.as_deref_mut() {
            o.push(c);
        }
        rest = &rest[k + used..];
    }
    if let Some(o) = out {
        o.push_str(rest);
    }
    Some(())
}

/// A JSON number at `i` (strict grammar): where it ends. Whatever would make arrow-json read a
/// longer number right after it is declined.
fn number_end(b: &[u8], i: usize) -> Option<usize> {
    let mut j = i;
    if b.get(j) == Some(&b'-') {
        j += 1;
    }
    match b.get(j)? {
        b'0' => j += 1,
        b'1'..=b'9' => j = digits(b, j),
        _ => return None,
    }
    if b.get(j) == Some(&b'.') {
        let k = digits(b, j + 1);
        if k == j + 1 {
            return None;
        }
        j = k;
    }
    if matches!(b.get(j), Some(b'e' | b'E')) {
        j += 1;
        if matches!(b.get(j), Some(b'+' | b'-')) {
            j += 1;
        }
        let k = digits(b, j);
        if k == j {
            return None;
        }
        j = k;
    }
    match b.get(j) {
        Some(b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E') => None,
        _ => Some(j),
    }
}

/// A number short enough to be read as a float here.
fn float_end(b: &[u8], i: usize) -> Option<usize> {
    number_end(b, i).filter(|end| end - i <= MAX_FLOAT_LEN)
}

fn digits(b: &[u8], mut i: usize) -> usize {
    while matches!(b.get(i), Some(b'0'..=b'9')) {
        i += 1;
    }
    i
}

/// A JSON integer at `i` (no fraction, no exponent, no leading zero; within `i64`), read in
/// one pass.
fn integer(b: &[u8], i: usize) -> Option<(usize, i64)> {
    let neg = b.get(i) == Some(&b'-');
    let start = i + usize::from(neg);
    let mut j = start;
    let mut v: i64 = 0;
    while let Some(c) = b.get(j).filter(|c| c.is_ascii_digit()) {
        let digit = i64::from(c - b'0');
        v = v.checked_mul(10)?;
        v = match neg {
            true => v.checked_sub(digit)?,
            false => v.checked_add(digit)?,
        };
        j += 1;
    }
    let n = j - start;
    if n == 0
        || (b[start] == b'0' && (n > 1 || neg))
        || matches!(b.get(j), Some(b'.' | b'e' | b'E' | b'+' | b'-'))
    {
        return None;
    }
    Some((j, v))
}

/// Past the JSON value at `i` (checked as arrow-json would accept it).
fn skip(b: &[u8], i: usize, depth: u32) -> Option<usize> {
    if depth > MAX_DEPTH {
        return None;
    }
    match *b.get(i)? {
        b'"' => {
            let (end, escaped) = string_end(b, i)?;
            if escaped {
                unescape(std::str::from_utf8(&b[i + 1..end - 1]).ok()?, None)?;
            }
            Some(end)
        }
        b'{' => {
            let mut i = ws(b, i + 1);
            if b.get(i) == Some(&b'}') {
                return Some(i + 1);
            }
            loop {
                if b.get(i) != Some(&b'"') {
                    return None;
                }
                i = ws(b, skip(b, i, depth + 1)?);
                if b.get(i) != Some(&b':') {
                    return None;
                }
                i = ws(b, skip(b, ws(b, i + 1), depth + 1)?);
                match b.get(i)? {
                    b',' => i = ws(b, i + 1),
                    b'}' => return Some(i + 1),
                    _ => return None,
                }
            }
        }
        b'[' => {
            let mut i = ws(b, i + 1);
            if b.get(i) == Some(&b']') {
                return Some(i + 1);
            }
            loop {
                i = ws(b, skip(b, i, depth + 1)?);
                match b.get(i)? {
                    b',' => i = ws(b, i + 1),
                    b']' => return Some(i + 1),
                    _ => return None,
                }
            }
        }
        b't' if b[i..].starts_with(b"true") => Some(i + 4),
        b'f' if b[i..].starts_with(b"false") => Some(i + 5),
        b'n' if b[i..].starts_with(b"null") => Some(i + 4),
        b'-' | b'0'..=b'9' => number_end(b, i),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::datatypes::{Field, Schema};
    use rand::{Rng, SeedableRng};

    fn schema() -> SchemaRef {
        Arc::new(Schema::new(vec![
            Field::new("id", DataType::Int64, true),
            Field::new("small", DataType::Int16, true),
            Field::new("name", DataType::Utf8, true),
            Field::new("price", DataType::Decimal128(10, 2), true),
            Field::new("ratio", DataType::Float64, true),
            Field::new("f", DataType::Float32, true),
            Field::new("ok", DataType::Boolean, true),
            Field::new("ts", DataType::Timestamp(TimeUnit::Millisecond, None), true),
            Field::new(
                "lts",
                DataType::Timestamp(TimeUnit::Microsecond, Some("+02:00".into())),
                true,
            ),
            Field::new("day", DataType::Date32, true),
        ]))
    }

    /// arrow-json's rows for the records (one each), or its error.
    fn arrow_json(schema: &SchemaRef, records: &[&str]) -> Option<RecordBatch> {
        let mut d = arrow_json::ReaderBuilder::new(schema.clone())
            .build_decoder()
            .ok()?;
        for r in records {
            let before = d.len();
            let used = d.decode(r.as_bytes()).ok()?;
            if used != r.len() || d.len() != before + 1 {
                return None;
            }
        }
        d.flush().ok()?
    }

    /// Whatever the fast reader takes, it reads as arrow-json does; `taken` says whether it
    /// must take the record.
    fn same(record: &str, taken: bool) {
        let schema = schema();
        let mut flat = FlatJson::new(&schema).expect("flat types");
        let fast = flat.try_decode([record.as_bytes()].into_iter());
        assert_eq!(fast.is_some(), taken, "{record}");
        if let Some(fast) = fast {
            let slow = arrow_json(&schema, &[record]).expect("arrow-json reads what flat reads");
            assert_eq!(fast, slow, "{record}");
        }
    }

    #[test]
    fn special_finds_the_first_quote_or_backslash_at_every_place() {
        for len in 0..40 {
            for at in 0..=len {
                for c in [b'"', b'\\'] {
                    // Bytes just below and above the two, and high bytes, around the hit.
                    let mut b: Vec<u8> = (0..len)
                        .map(|k| [b'!', b'#', b'[', b']', 0xc3, 0x80][k % 6])
                        .collect();
                    let want = (at < len).then(|| {
                        b[at] = c;
                        at
                    });
                    if at + 3 < len {
                        b[at + 3] = b'"';
                    }
                    assert_eq!(super::special(&b), want, "len {len}, at {at}");
                }
            }
        }
    }

    #[test]
    fn plain_records_read_as_arrow_json_reads_them() {
        for r in [
            r#"{"id": 1, "name": "a", "price": 1.25, "ratio": 0.5, "f": 1.5, "ok": true, "ts": "2020-04-15 08:05:00", "lts": "2020-04-15T08:05:00Z", "day": "2020-04-15", "small": -3}"#,
            r#"  {"name":"b","id":-9223372036854775808}  "#,
            r#"{}"#,
            r#"{"id": null, "name": null, "ts": 1586937900000, "price": "7.5", "day": 18367}"#,
            r#"{"other": {"deep": [1, 2.5e-3, {"x": "y\n"}, null, true, false]}, "id": 7}"#,
            r#"{"name": "tab\there \"quoted\" \u00e9 \/ \\", "ratio": -1.5E+3}"#,
            r#"{"name": "ünïcödé ✓", "ok": false, "f": 3}"#,
            r#"{"ts": "2020-04-15T08:05:00.123+01:00", "lts": "2020-04-15 08:05:00"}"#,
            "{\"id\"\t:\n5\r}",
            r#"{"ts": "2020-01-01 00:00:00.5", "lts": "1999-12-31T23:59:59.999999"}"#,
            r#"{"ts": "1999-12-31T23:59:59.999999999"}"#,
        ] {
            same(r, true);
        }
    }

    #[test]
    fn anything_unusual_is_left_to_arrow_json() {
        for r in [
            r#"{"id": 1, "id": 2}"#,
            r#"{"id": 01}"#,
            r#"{"id": 1.0}"#,
            r#"{"id": 99999999999999999999}"#,
            r#"{"small": 40000}"#,
            r#"{"name": 5}"#,
            r#"{"name": "\ud83d\ude00"}"#,
            r#"{"na\u006de": "x"}"#,
            r#"{"id": 1,}"#,
            r#"{"id": 1 "name": "x"}"#,
            r#"{"id": 1} {"id": 2}"#,
            r#"[1]"#,
            r#"{"id": tru}"#,
            r#"{"other": [1,,2]}"#,
            r#"{"other": "\x"}"#,
            r#"{"ok": "true"}"#,
            r#"{"ts": "not a time"}"#,
            r#"{"id": 1"#,
            "",
            &format!(r#"{{"ratio": 0.{}1e700001}}"#, "0".repeat(70)),
        ] {
            same(r, false);
        }
    }

    /// Random records built from the pieces above: what the fast reader takes matches.
    #[test]
    fn random_records_match_arrow_json() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let values = [
            ("id", vec!["1", "-42", "0", "null", "1.5", "\"3\"", "007"]),
            ("small", vec!["12", "-32768", "32768", "null"]),
            (
                "name",
                vec!["\"x\"", "\"a\\\"b\"", "\"\\u0041\"", "null", "1", "\"\""],
            ),
            (
                "price",
                vec!["1.23", "\"4.5\"", "1e2", "null", "123456789012.5"],
            ),
            ("ratio", vec!["0.1", "-2e-5", "3", "null", "\"0.5\""]),
            ("f", vec!["0.1", "1e40", "null"]),
            ("ok", vec!["true", "false", "null", "1"]),
            (
                "ts",
                vec![
                    "\"2020-01-01 00:00:00\"",
                    "1000",
                    "-5",
                    "\"2020-01-01T00:00:00Z\"",
                    "null",
                    "\"x\"",
                    "\"2020-01-01 00:00:00.5\"",
                    "\"2020-02-30 00:00:00\"",
                    "\"2020-01-01 24:00:00\"",
                    "\"2020-01-01T23:59:59.123456789\"",
                    "\"2020-01-01 00:00:00.1234567891\"",
                    "\"2020-01-01 00:00:00.\"",
                    "\"0999-12-31 10:11:12.010\"",
                    "\"2020-01-01t00:00:00\"",
                    "\"2020-01-01 00:00:60\"",
                ],
            ),
            ("lts", vec!["\"2020-01-01 00:00:00\"", "12"]),
            ("day", vec!["\"2021-02-03\"", "5", "null", "\"2021-02-30\""]),
            ("zz", vec!["{\"a\": [1, {}]}", "[]", "\"s\"", "-0.0"]),
        ];
        let (mut taken, mut total) = (0, 0);
        for _ in 0..3000 {
            let n = rng.gen_range(0..6);
            let fields: Vec<String> = (0..n)
                .map(|_| {
                    let (k, vs) = &values[rng.gen_range(0..values.len())];
                    let v = vs[rng.gen_range(0..vs.len())];
                    let sp = [" ", "", "\n"][rng.gen_range(0..3)];
                    format!("\"{k}\":{sp}{v}")
                })
                .collect();
            let record = format!("{{{}}}", fields.join(", "));
            let schema = schema();
            let mut flat = FlatJson::new(&schema).expect("flat types");
            let fast = flat.try_decode([record.as_bytes()].into_iter());
            total += 1;
            if let Some(fast) = fast {
                taken += 1;
                let slow = arrow_json(&schema, &[&record]).expect("arrow-json reads it too");
                assert_eq!(fast, slow, "{record}");
            }
        }
        assert!(taken * 4 > total, "{taken} of {total} taken");
    }

    #[test]
    fn nested_columns_and_repeated_names_are_not_read_here() {
        let schema = Arc::new(Schema::new(vec![Field::new(
            "l",
            DataType::List(Arc::new(Field::new("item", DataType::Int64, true))),
            true,
        )]));
        assert!(FlatJson::new(&schema).is_none());
        let twice = Arc::new(Schema::new(vec![
            Field::new("a", DataType::Int64, true),
            Field::new("a", DataType::Int64, true),
        ]));
        assert!(FlatJson::new(&twice).is_none());
    }
}
