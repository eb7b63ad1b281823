//! How a KDA input schema maps records to columns: JSON by JSONPath (`$.a.b` through ROW
//! columns and computed columns; `[0:]` arrays, a RecordRowPath below the root and renamed
//! reference columns through `job::reshape`), CSV by position.

use weir_analytics::model::SourceSchema;

use crate::job::reshape::Reshape;
use crate::kda::{literal, quote, unsupported};

/// The columns of a source table and its format options, from an input schema.
pub(crate) fn source_columns(schema: &SourceSchema) -> Result<(Vec<String>, Vec<String>), String> {
    let format = schema.record_format.record_format_type.as_str();
    let mapping = schema.record_format.mapping_parameters.as_ref();
    let mut columns = Vec::new();
    let options = match format {
        "JSON" => {
            let mut reshape = row_path(schema)?;
            json_columns(schema, &mut columns, &mut reshape)?;
            json_options(&reshape)?
        }
        "CSV" => {
            let csv = mapping.and_then(|m| m.csv.as_ref());
            let rows = csv.map_or("\n", |c| c.record_row_delimiter.as_str());
            let cols = csv.map_or(",", |c| c.record_column_delimiter.as_str());
            if rows.is_empty() || cols.is_empty() {
                return Err("A CSV delimiter is empty".into());
            }
            for c in &schema.record_columns {
                columns.push(format!("{} {}", quote(&c.name), kda_type(&c.sql_type)));
            }
            // A record may hold several rows; a longer column delimiter becomes one byte.
            let reshape = Reshape {
                csv: Some((rows.to_string(), cols.to_string())),
                ..Reshape::default()
            };
            let field = if cols.len() == 1 {
                cols.to_string()
            } else {
                char::from(crate::job::reshape::UNIT_SEPARATOR).to_string()
            };
            let spec = serde_json::to_string(&reshape).map_err(|e| e.to_string())?;
            vec![
                "'format' = 'csv'".into(),
                format!("'csv.field-delimiter' = {}", literal(&field)),
                "'csv.ignore-parse-errors' = 'true'".into(),
                format!(
                    "'{}' = {}",
                    crate::job::reshape::RESHAPE_OPTION,
                    literal(&spec)
                ),
            ]
        }
        other => return Err(format!("RecordFormatType {other} is not JSON or CSV")),
    };
    Ok((columns, options))
}

/// A JSON path's place in a record: a value, or an object of named parts.
enum Node {
    Value(String),
    Object(Vec<(String, Node)>),
}

impl Node {
    fn ddl(&self) -> String {
        match self {
            Node::Value(t) => t.clone(),
            Node::Object(fields) => {
                let fields: Vec<String> = fields
                    .iter()
                    .map(|(n, node)| format!("{} {}", quote(n), node.ddl()))
                    .collect();
                format!("ROW<{}>", fields.join(", "))
            }
        }
    }
}

/// Puts a value of type `t` at `path` among `fields`.
fn place(fields: &mut Vec<(String, Node)>, path: &[&str], t: &str) -> Result<(), String> {
    let Some((first, rest)) = path.split_first() else {
        return Ok(());
    };
    let at = match fields.iter().position(|(n, _)| n == first) {
        Some(at) => at,
        None => {
            let node = if rest.is_empty() {
                Node::Value(t.to_string())
            } else {
                Node::Object(Vec::new())
            };
            fields.push((first.to_string(), node));
            fields.len() - 1
        }
    };
    match (&mut fields[at].1, rest.is_empty()) {
        (Node::Object(inner), false) => place(inner, rest, t),
        (Node::Value(_), true) => Ok(()),
        _ => Err(format!(
            "Mappings of {first} disagree: a value and an object"
        )),
    }
}

/// A JSONPath as KDA reads it: `$.a.b`, or with one `[0:]` (all of an array's elements):
/// the keys, and for an array the keys to it and the keys after it.
type PathKeys = (Vec<String>, Option<(Vec<String>, Vec<String>)>);

fn json_path(path: &str) -> Option<PathKeys> {
    let rest = path.strip_prefix("$.")?;
    let (before, after) = match rest.split_once("[0:]") {
        None => (rest, None),
        Some((b, a)) => (b, Some(a.strip_prefix('.').unwrap_or(a))),
    };
    let keys = |s: &str| -> Option<Vec<String>> {
        let parts: Vec<String> = s.split('.').map(str::to_string).collect();
        (!s.is_empty()
            && parts
                .iter()
                .all(|p| !p.is_empty() && !p.contains(['[', ']', '*'])))
        .then_some(parts)
    };
    let before = keys(before)?;
    match after {
        None => Some((before, None)),
        Some("") => Some((before.clone(), Some((before, Vec::new())))),
        Some(a) => {
            let after = keys(a)?;
            let all = before.iter().chain(&after).cloned().collect();
            Some((all, Some((before, after))))
        }
    }
}

/// The reshaping a schema's RecordRowPath asks for.
fn row_path(schema: &SourceSchema) -> Result<Reshape, String> {
    let mut reshape = Reshape::default();
    let mapping = schema.record_format.mapping_parameters.as_ref();
    if let Some(path) = mapping.and_then(|m| m.json.as_ref()) {
        let row_path = path.record_row_path.trim();
        if row_path != "$" {
            let (keys, array) = json_path(row_path)
                .ok_or_else(|| unsupported(&format!("RecordRowPath {row_path}")))?;
            match array {
                None => reshape.root = keys,
                Some((at, after)) if after.is_empty() => {
                    reshape.root = at;
                    reshape.root_array = true;
                }
                Some(_) => return Err(unsupported(&format!("RecordRowPath {row_path}"))),
            }
        }
    }
    Ok(reshape)
}

fn json_options(reshape: &Reshape) -> Result<Vec<String>, String> {
    let mut options = vec![
        "'format' = 'json'".to_string(),
        "'json.ignore-parse-errors' = 'true'".into(),
    ];
    if !reshape.is_identity() {
        let spec = serde_json::to_string(reshape).map_err(|e| e.to_string())?;
        options.push(format!(
            "'{}' = {}",
            crate::job::reshape::RESHAPE_OPTION,
            literal(&spec)
        ));
    }
    Ok(options)
}

/// A mapping's keys in the row (arrays noted in `reshape`).
fn mapped_keys(m: &str, reshape: &mut Reshape) -> Result<Vec<String>, String> {
    // Below a RecordRowPath, a mapping may name the row's path first.
    let root = format!(
        "$.{}{}.",
        reshape.root.join("."),
        if reshape.root_array { "[0:]" } else { "" }
    );
    let m = match m.trim().strip_prefix(root.as_str()) {
        Some(rest) if !reshape.root.is_empty() => format!("$.{rest}"),
        _ => m.trim().to_string(),
    };
    let (keys, array) = json_path(&m).ok_or_else(|| unsupported(&format!("Mapping {m}")))?;
    match array {
        None => {}
        // The whole array, as its JSON text.
        Some((_, after)) if after.is_empty() => reshape.text.push(keys.clone()),
        Some((at, _)) => match &reshape.flatten {
            Some(other) if *other != at => {
                return Err(format!(
                    "Mapping {m} flattens a second array: only one array can be flattened in a \
                     schema"
                ))
            }
            _ => reshape.flatten = Some(at),
        },
    }
    Ok(keys)
}

/// A reference table's columns and format options: JSON rows are reshaped to the columns
/// (the lookup table reads them by name), CSV as an input's.
pub(crate) fn reference_columns(
    schema: &SourceSchema,
) -> Result<(Vec<String>, Vec<String>), String> {
    if schema.record_format.record_format_type != "JSON" {
        return source_columns(schema);
    }
    let mut reshape = row_path(schema)?;
    let mut columns = Vec::new();
    for c in &schema.record_columns {
        let keys = match c.mapping.as_deref() {
            None => vec![c.name.clone()],
            Some(m) => mapped_keys(m, &mut reshape)?,
        };
        reshape.project.push((c.name.clone(), keys));
        columns.push(format!("{} {}", quote(&c.name), kda_type(&c.sql_type)));
    }
    Ok((columns, json_options(&reshape)?))
}

/// A JSON input's columns: the records' top-level keys (objects as ROW types), and each
/// column mapped elsewhere computed from them (`$.a.b` → `get_field(a, 'b')`). Array paths
/// (`$.arr[0:]`, `$.arr[0:].x`) add to `reshape`.
fn json_columns(
    schema: &SourceSchema,
    columns: &mut Vec<String>,
    reshape: &mut Reshape,
) -> Result<(), String> {
    let mut tree: Vec<(String, Node)> = Vec::new();
    let mut computed = Vec::new();
    for c in &schema.record_columns {
        let owned: Vec<String> = match c.mapping.as_deref() {
            None => vec![c.name.clone()],
            Some(m) => mapped_keys(m, reshape)?,
        };
        let path: Vec<&str> = owned.iter().map(String::as_str).collect();
        place(&mut tree, &path, &kda_type(&c.sql_type))?;
        if path != [c.name.as_str()] {
            let mut expr = quote(path[0]);
            for part in &path[1..] {
                expr = format!("get_field({expr}, {})", literal(part));
            }
            computed.push(format!("{} AS {expr}", quote(&c.name)));
        }
    }
    for (name, node) in &tree {
        if schema.record_columns.iter().any(|c| &c.name == name) && !matches!(node, Node::Value(_))
        {
            return Err(format!("Column {name} is also an object of the records"));
        }
        columns.push(format!("{} {}", quote(name), node.ddl()));
    }
    columns.extend(computed);
    Ok(())
}

/// A KDA column type as Flink DDL (KDA's TIMESTAMP has milliseconds).
fn kda_type(t: &str) -> String {
    if t.trim().eq_ignore_ascii_case("TIMESTAMP") {
        "TIMESTAMP(3)".into()
    } else {
        t.to_string()
    }
}
