//! Glue's built-in classifiers for text: JSON (a sequence of objects, one per line or run
//! together as Firehose writes them) and CSV (comma, pipe, tab, semicolon or Ctrl-A delimited;
//! at least two columns and two rows; a header row when it differs from the data as Glue's
//! rules say). A sample of the file's start is read: the first 1,000 records or 1 MB.

use crate::schema::{Columns, HType};

/// Records a sample reads at most.
pub const SAMPLE_RECORDS: usize = 1000;
/// Bytes a sample reads at most.
pub const SAMPLE_BYTES: usize = 1 << 20;

/// The delimiters the CSV classifier tries, in Glue's order.
const DELIMITERS: [u8; 5] = [b',', b'|', b'\t', b';', 0x01];

/// What a text sample is.
#[derive(Debug, Clone, PartialEq)]
pub enum Text {
    Json {
        columns: Columns,
        records: usize,
        /// Bytes of the sample the records took.
        bytes: usize,
    },
    Csv(Csv),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Csv {
    pub delimiter: u8,
    pub quoted: bool,
    pub header: bool,
    pub columns: Columns,
    pub records: usize,
    pub bytes: usize,
}

/// Classifies a sample of a file's (decompressed) start — `truncated` when the file goes on
/// past it; `None` when neither classifier recognises it.
pub fn classify(sample: &[u8], truncated: bool) -> Option<Text> {
    json(sample).or_else(|| csv(sample, truncated))
}

fn json(sample: &[u8]) -> Option<Text> {
    let start = sample.iter().position(|b| !b.is_ascii_whitespace())?;
    if sample[start] != b'{' {
        return None;
    }
    let mut stream =
        serde_json::Deserializer::from_slice(&sample[start..]).into_iter::<serde_json::Value>();
    let mut t = HType::Null;
    let mut records = 0;
    let mut bytes = start;
    while records < SAMPLE_RECORDS {
        match stream.next() {
            Some(Ok(v @ serde_json::Value::Object(_))) => {
                t = t.merge(HType::of_json(&v));
                records += 1;
                bytes = start + stream.byte_offset();
            }
            // A sample cut at its byte limit ends in a partial record.
            Some(Err(e)) if e.is_eof() && records > 0 => break,
            Some(_) => return None,
            None => break,
        }
    }
    match t {
        HType::Struct(columns) if records > 0 => Some(Text::Json {
            columns,
            records,
            bytes,
        }),
        _ => None,
    }
}

/// The fields of a line split at `d`, with `"`-quoted fields unquoted; whether any was quoted.
fn fields(line: &[u8], d: u8) -> (Vec<String>, bool) {
    let mut out = Vec::new();
    let mut quoted = false;
    let mut field = Vec::new();
    let mut in_quotes = false;
    let mut i = 0;
    while i < line.len() {
        let c = line[i];
        if in_quotes {
            if c == b'"' && line.get(i + 1) == Some(&b'"') {
                field.push(b'"');
                i += 1;
            } else if c == b'"' {
                in_quotes = false;
            } else {
                field.push(c);
            }
        } else if c == b'"' && field.is_empty() {
            in_quotes = true;
            quoted = true;
        } else if c == d {
            out.push(String::from_utf8_lossy(&field).into_owned());
            field.clear();
        } else {
            field.push(c);
        }
        i += 1;
    }
    out.push(String::from_utf8_lossy(&field).into_owned());
    (out, quoted)
}

/// The type of one CSV value (`None` for an empty one, which says nothing).
fn value_type(v: &str) -> Option<HType> {
    let v = v.trim();
    if v.is_empty() {
        return None;
    }
    if v.eq_ignore_ascii_case("true") || v.eq_ignore_ascii_case("false") {
        return Some(HType::Boolean);
    }
    if v.parse::<i64>().is_ok() {
        return Some(HType::BigInt);
    }
    if v.parse::<f64>().is_ok() && v.chars().all(|c| c.is_ascii_digit() || "+-.eE".contains(c)) {
        return Some(HType::Double);
    }
    Some(HType::String)
}

/// CSV columns widen only up the number ladder; a mix with booleans or text is text.
fn csv_merge(a: HType, b: HType) -> HType {
    match (a, b) {
        (HType::Null, b) => b,
        (a, HType::Null) => a,
        (a, b) if a == b => a,
        (HType::BigInt, HType::Double) | (HType::Double, HType::BigInt) => HType::Double,
        _ => HType::String,
    }
}

/// Whether a header value can name a column (characters that would break a type string, such
/// as `struct<a:int>`, cannot).
fn column_name_ok(s: &str) -> bool {
    !s.trim().is_empty() && s.chars().all(|c| !c.is_control() && !",:<>`".contains(c))
}

fn csv(sample: &[u8], truncated: bool) -> Option<Text> {
    // Whole lines only: a cut sample may end inside one.
    let complete = match sample.iter().rposition(|b| *b == b'\n') {
        Some(i) if truncated && i + 1 < sample.len() => &sample[..=i],
        _ => sample,
    };
    let lines: Vec<&[u8]> = complete
        .split(|b| *b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
        .filter(|l| !l.is_empty())
        .take(SAMPLE_RECORDS + 1)
        .collect();
    if lines.len() < 2 {
        return None;
    }
    let mut best: Option<(u8, Vec<Vec<String>>, bool)> = None;
    for d in DELIMITERS {
        let mut rows = Vec::with_capacity(lines.len());
        let mut quoted = false;
        for l in &lines {
            let (f, q) = fields(l, d);
            quoted |= q;
            rows.push(f);
        }
        let n = rows[0].len();
        if n < 2 || rows.iter().any(|r| r.len() != n) {
            continue;
        }
        if best.as_ref().is_none_or(|(_, b, _)| b[0].len() < n) {
            best = Some((d, rows, quoted));
        }
    }
    let (delimiter, rows, quoted) = best?;
    let n = rows[0].len();
    let type_of = |rows: &[Vec<String>], i: usize| {
        rows.iter()
            .filter_map(|r| value_type(&r[i]))
            .fold(HType::Null, csv_merge)
    };
    let data_types: Vec<HType> = (0..n).map(|i| type_of(&rows[1..], i)).collect();
    let first = &rows[0];
    let header = first.iter().all(|v| value_type(v) == Some(HType::String))
        && first[..n - 1].iter().all(|v| v.chars().count() < 150)
        && first.iter().all(|v| column_name_ok(v))
        && data_types
            .iter()
            .any(|t| !matches!(t, HType::String | HType::Null));
    let (names, types): (Vec<String>, Vec<HType>) = if header {
        (
            first
                .iter()
                .map(|v| v.trim().to_lowercase().replace(' ', "_"))
                .collect(),
            data_types,
        )
    } else {
        (
            (0..n).map(|i| format!("col{i}")).collect(),
            (0..n).map(|i| type_of(&rows, i)).collect(),
        )
    };
    let records = rows.len() - usize::from(header);
    Some(Text::Csv(Csv {
        delimiter,
        quoted,
        header,
        columns: names.into_iter().zip(types).collect(),
        records,
        bytes: complete.len(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hive(c: &Columns) -> Vec<String> {
        c.iter().map(|(n, t)| format!("{n}:{}", t.hive())).collect()
    }

    #[test]
    fn json_lines_and_concatenated() {
        let Some(Text::Json {
            columns, records, ..
        }) = classify(
            b"{\"a\":1,\"b\":\"x\"}{\"a\":5000000000,\"c\":[1]}\n{\"a\":1.5}\n{\"a\":",
            false,
        )
        else {
            panic!("not json");
        };
        assert_eq!(records, 3);
        assert_eq!(hive(&columns), ["a:double", "b:string", "c:array<int>"]);
        assert!(classify(b"[1,2]\n", false).is_none());
    }

    #[test]
    fn csv_header_delimiter_and_types() {
        let Some(Text::Csv(c)) =
            classify(b"id|Name|price|ok\n1|a|1.5|true\n2|b|2|false\n3|c|", true)
        else {
            panic!("not csv");
        };
        assert_eq!(
            (c.delimiter, c.header, c.quoted, c.records),
            (b'|', true, false, 2)
        );
        assert_eq!(
            hive(&c.columns),
            ["id:bigint", "name:string", "price:double", "ok:boolean"]
        );
        // All strings: the first row is data, not a header.
        let Some(Text::Csv(c)) = classify(b"a,b\nc,d\n", false) else {
            panic!("not csv");
        };
        assert!(!c.header);
        assert_eq!(hive(&c.columns), ["col0:string", "col1:string"]);
        let Some(Text::Csv(c)) = classify(b"\"x\",\"y z\"\n\"1\",\"2\"\n", false) else {
            panic!("not csv");
        };
        assert!(c.quoted && c.header);
        assert_eq!(hive(&c.columns), ["x:bigint", "y_z:bigint"]);
        // A whole file without a final newline keeps its last row.
        let Some(Text::Csv(c)) = classify(b"id,name\n1,x", false) else {
            panic!("not csv");
        };
        assert!(c.header && c.records == 1);
        assert!(classify(b"just one line\n", false).is_none());
        assert!(classify(b"a\nb\n", false).is_none());
    }
}
