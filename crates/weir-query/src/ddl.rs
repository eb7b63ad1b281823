//! Athena's DDL and utility statements, carried out on the Glue catalog (so `glue` clients see
//! what SQL made): CREATE/DROP DATABASE, CREATE EXTERNAL TABLE, DROP TABLE, MSCK REPAIR TABLE,
//! ALTER TABLE ADD/DROP PARTITION, SHOW DATABASES/TABLES/PARTITIONS/COLUMNS, DESCRIBE.

use std::collections::BTreeMap;

use datafusion::sql::sqlparser::ast::{
    ColumnDef, ColumnOption, CreateTableOptions, Expr, HiveDistributionStyle, HiveIOFormat,
    HiveRowFormat, SqlOption, Statement, Value,
};
use datafusion::sql::sqlparser::dialect::SparkSqlDialect;
use datafusion::sql::sqlparser::parser::Parser;
use datafusion::sql::sqlparser::tokenizer::Token;
use weir_athena::Failure;
use weir_catalog::{
    CatalogError, Column, Database, Partition, SerDeInfo, StorageDescriptor, Table,
};

use crate::words::Words;
use crate::QueryEngine;

/// A utility statement's answer: columns (name, Athena type) and rows of text.
#[derive(Debug, Default)]
pub struct TextResult {
    pub columns: Vec<(String, &'static str)>,
    pub rows: Vec<Vec<String>>,
}

pub(crate) fn syntax(msg: String) -> Failure {
    Failure::user(1100, format!("SYNTAX_ERROR: {msg}"))
}

pub(crate) fn catalog_err(e: CatalogError) -> Failure {
    match e {
        CatalogError::NotFound(m) => Failure::user(1301, m),
        CatalogError::AlreadyExists(m) => Failure::user(1302, m),
        CatalogError::InvalidInput(m) | CatalogError::ConcurrentModification(m) => {
            Failure::user(1300, m)
        }
        CatalogError::Storage(e) => Failure::system(e.to_string()),
    }
}

pub(crate) fn now_secs() -> String {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
        .to_string()
}

/// Runs a DDL or utility statement (`sub` is its SubstatementType).
pub async fn run(
    engine: &QueryEngine,
    region: &str,
    default_db: &str,
    sql: &str,
    sub: &str,
) -> Result<TextResult, Failure> {
    let c = &engine.catalog;
    let mut w = Words::new(sql).map_err(syntax)?;
    let db_of = |d: Option<String>| d.unwrap_or_else(|| default_db.to_string());
    match sub {
        "CREATE_DATABASE" => {
            w.expect("create").map_err(syntax)?;
            if !w.keyword("database") {
                w.expect("schema").map_err(syntax)?;
            }
            let if_not = w.keywords(&["if", "not", "exists"]);
            let name = w.ident().map_err(syntax)?;
            let mut db = Database {
                name: name.clone(),
                ..Default::default()
            };
            loop {
                if w.keyword("comment") {
                    db.description = Some(w.string().map_err(syntax)?);
                } else if w.keyword("location") {
                    db.location_uri = Some(w.string().map_err(syntax)?);
                } else if w.keywords(&["with", "dbproperties"]) {
                    db.parameters = properties(&mut w).map_err(syntax)?;
                } else {
                    break;
                }
            }
            w.end().map_err(syntax)?;
            match c.create_database(region, db) {
                Err(CatalogError::AlreadyExists(_)) if if_not => {}
                Err(CatalogError::AlreadyExists(_)) => {
                    return Err(Failure::user(
                        1302,
                        format!("Database {name} already exists"),
                    ))
                }
                r => r.map_err(catalog_err)?,
            }
            Ok(TextResult::default())
        }
        "DROP_DATABASE" => {
            w.expect("drop").map_err(syntax)?;
            if !w.keyword("database") {
                w.expect("schema").map_err(syntax)?;
            }
            let if_exists = w.keywords(&["if", "exists"]);
            let name = w.ident().map_err(syntax)?;
            let cascade = w.keyword("cascade");
            w.keyword("restrict");
            w.end().map_err(syntax)?;
            match c.tables(region, &name) {
                Err(CatalogError::NotFound(_)) if if_exists => return Ok(TextResult::default()),
                Err(CatalogError::NotFound(_)) => {
                    return Err(Failure::user(
                        1301,
                        format!("Database {name} does not exist"),
                    ))
                }
                Err(e) => return Err(catalog_err(e)),
                Ok(tables) if !tables.is_empty() && !cascade => {
                    return Err(Failure::user(
                        1300,
                        format!("Database {name} is not empty. One or more tables exist."),
                    ))
                }
                Ok(_) => {}
            }
            c.delete_database(region, &name).map_err(catalog_err)?;
            Ok(TextResult::default())
        }
        "CREATE_TABLE" => {
            create_external_table(engine, region, default_db, sql)?;
            Ok(TextResult::default())
        }
        "DROP_TABLE" => {
            w.expect("drop").map_err(syntax)?;
            w.expect("table").map_err(syntax)?;
            let if_exists = w.keywords(&["if", "exists"]);
            let (db, name) = w.qualified().map_err(syntax)?;
            w.end().map_err(syntax)?;
            match c.delete_table(region, &db_of(db), &name) {
                Err(CatalogError::NotFound(_)) if if_exists => {}
                Err(CatalogError::NotFound(_)) => {
                    return Err(Failure::user(1301, format!("Table {name} does not exist")))
                }
                r => r.map_err(catalog_err)?,
            }
            Ok(TextResult::default())
        }
        "SHOW_DATABASES" => {
            w.expect("show").map_err(syntax)?;
            let _ = w.keyword("databases") || w.keyword("schemas");
            let pattern = if w.keyword("like") || !w.at_end() {
                Some(w.string().map_err(syntax)?)
            } else {
                None
            };
            let re = hive_pattern(pattern.as_deref())?;
            Ok(TextResult {
                columns: vec![("database_name".into(), "varchar")],
                rows: c
                    .databases(region)
                    .into_iter()
                    .filter(|d| re.as_ref().is_none_or(|r| r.is_match(&d.name)))
                    .map(|d| vec![d.name])
                    .collect(),
            })
        }
        "SHOW_TABLES" => crate::show::relations(engine, region, default_db, sql, false),
        "SHOW_PARTITIONS" => {
            w.expect("show").map_err(syntax)?;
            w.expect("partitions").map_err(syntax)?;
            let (db, name) = w.qualified().map_err(syntax)?;
            let db = db_of(db);
            let t = c.get_table(region, &db, &name).map_err(catalog_err)?;
            let page = c
                .partitions(region, &db, &name, None, None, usize::MAX, None)
                .map_err(catalog_err)?;
            Ok(TextResult {
                columns: vec![("partition".into(), "varchar")],
                rows: page
                    .partitions
                    .into_iter()
                    .map(|p| vec![partition_name(&t, &p.values)])
                    .collect(),
            })
        }
        "SHOW_COLUMNS" => {
            w.expect("show").map_err(syntax)?;
            w.expect("columns").map_err(syntax)?;
            if !w.keyword("in") {
                w.expect("from").map_err(syntax)?;
            }
            let (mut db, name) = w.qualified().map_err(syntax)?;
            if w.keyword("in") || w.keyword("from") {
                db = Some(w.ident().map_err(syntax)?);
            }
            let t = c
                .get_table(region, &db_of(db), &name)
                .map_err(catalog_err)?;
            Ok(TextResult {
                columns: vec![("field".into(), "varchar")],
                rows: t
                    .columns()
                    .iter()
                    .chain(&t.partition_keys)
                    .map(|c| vec![c.name.clone()])
                    .collect(),
            })
        }
        "DESCRIBE_TABLE" => {
            if !w.keyword("describe") {
                w.expect("desc").map_err(syntax)?;
            }
            w.keyword("formatted");
            w.keyword("extended");
            let (db, name) = w.qualified().map_err(syntax)?;
            let t = c
                .get_table(region, &db_of(db), &name)
                .map_err(catalog_err)?;
            let row = |col: &Column| {
                vec![
                    col.name.clone(),
                    col.data_type.clone().unwrap_or_default(),
                    col.comment.clone().unwrap_or_default(),
                ]
            };
            let mut rows: Vec<Vec<String>> = t.columns().iter().map(row).collect();
            if !t.partition_keys.is_empty() {
                rows.push(vec![String::new()]);
                rows.push(vec!["# Partition Information".into()]);
                rows.push(vec![
                    "# col_name".into(),
                    "data_type".into(),
                    "comment".into(),
                ]);
                rows.push(vec![String::new()]);
                rows.extend(t.partition_keys.iter().map(row));
            }
            Ok(TextResult {
                columns: vec![
                    ("col_name".into(), "varchar"),
                    ("data_type".into(), "varchar"),
                    ("comment".into(), "varchar"),
                ],
                rows,
            })
        }
        "REPAIR_TABLE" => {
            w.expect("msck").map_err(syntax)?;
            w.expect("repair").map_err(syntax)?;
            w.expect("table").map_err(syntax)?;
            let (db, name) = w.qualified().map_err(syntax)?;
            w.end().map_err(syntax)?;
            let rows = repair(engine, region, &db_of(db), &name).await?;
            Ok(TextResult {
                columns: vec![("result".into(), "varchar")],
                rows,
            })
        }
        "ALTER_TABLE_ADD_PARTITION" | "ALTER_TABLE_DROP_PARTITION" => {
            w.expect("alter").map_err(syntax)?;
            w.expect("table").map_err(syntax)?;
            let (db, name) = w.qualified().map_err(syntax)?;
            let db = db_of(db);
            let t = c.get_table(region, &db, &name).map_err(catalog_err)?;
            let add = w.keyword("add");
            if !add {
                w.expect("drop").map_err(syntax)?;
            }
            let guarded = if add {
                w.keywords(&["if", "not", "exists"])
            } else {
                w.keywords(&["if", "exists"])
            };
            let mut specs = Vec::new();
            while w.keyword("partition") {
                let spec = partition_spec(&mut w).map_err(syntax)?;
                let values = t
                    .partition_keys
                    .iter()
                    .map(|k| {
                        spec.get(&k.name.to_lowercase()).cloned().ok_or_else(|| {
                            Failure::user(1300, format!("Partition key {} is missing", k.name))
                        })
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                let location = if add && w.keyword("location") {
                    Some(w.string().map_err(syntax)?)
                } else {
                    None
                };
                specs.push((values, location));
                w.symbol(Token::Comma);
            }
            w.end().map_err(syntax)?;
            if specs.is_empty() {
                return Err(syntax(w.unexpected("'PARTITION'")));
            }
            if add {
                let parts = specs
                    .into_iter()
                    .map(|(values, location)| partition_for(&t, values, location))
                    .collect();
                let errors = c
                    .create_partitions(region, &db, &name, parts)
                    .map_err(catalog_err)?;
                if let Some(e) = errors
                    .into_iter()
                    .find(|e| !guarded || !matches!(e.error, CatalogError::AlreadyExists(_)))
                {
                    return Err(Failure::user(
                        1302,
                        format!(
                            "Partition already exists: {}",
                            partition_name(&t, &e.values)
                        ),
                    ));
                }
            } else {
                let errors = c
                    .delete_partitions(
                        region,
                        &db,
                        &name,
                        specs.into_iter().map(|(v, _)| v).collect(),
                    )
                    .map_err(catalog_err)?;
                if let Some(e) = errors.into_iter().find(|_| !guarded) {
                    return Err(Failure::user(
                        1301,
                        format!(
                            "Partition does not exist: {}",
                            partition_name(&t, &e.values)
                        ),
                    ));
                }
            }
            Ok(TextResult::default())
        }
        other => match crate::show::run(engine, region, default_db, sql, other).await {
            Some(r) => r,
            None => Err(Failure::user(
                1300,
                format!("NOT_SUPPORTED: Weir does not run {other} statements yet"),
            )),
        },
    }
}

/// `dt=2024-01-01/hour=1`
pub fn partition_name(t: &Table, values: &[String]) -> String {
    t.partition_keys
        .iter()
        .zip(values)
        .map(|(k, v)| format!("{}={v}", k.name))
        .collect::<Vec<_>>()
        .join("/")
}

/// A partition of `t` at `location` (default: the `k=v/` folders under the table's location),
/// with the table's storage settings.
pub fn partition_for(t: &Table, values: Vec<String>, location: Option<String>) -> Partition {
    let mut sd = t.storage_descriptor.clone().unwrap_or_default();
    let base = t
        .location()
        .unwrap_or_default()
        .trim_end_matches('/')
        .to_string();
    sd.location =
        Some(location.unwrap_or_else(|| format!("{base}/{}/", partition_name(t, &values))));
    Partition {
        values,
        storage_descriptor: Some(sd),
        ..Default::default()
    }
}

/// `(k = 'v', k2 = 1)`
fn partition_spec(w: &mut Words) -> Result<BTreeMap<String, String>, String> {
    w.expect_symbol(Token::LParen)?;
    let mut out = BTreeMap::new();
    loop {
        let k = w.ident()?;
        w.expect_symbol(Token::Eq)?;
        out.insert(k, w.literal()?);
        if !w.symbol(Token::Comma) {
            break;
        }
    }
    w.expect_symbol(Token::RParen)?;
    Ok(out)
}

/// `('k' = 'v', ...)`
pub(crate) fn properties(w: &mut Words) -> Result<BTreeMap<String, String>, String> {
    w.expect_symbol(Token::LParen)?;
    let mut out = BTreeMap::new();
    loop {
        let k = w.string()?;
        w.expect_symbol(Token::Eq)?;
        out.insert(k, w.string()?);
        if !w.symbol(Token::Comma) {
            break;
        }
    }
    w.expect_symbol(Token::RParen)?;
    Ok(out)
}

/// SHOW's patterns: `*` is any text, `|` separates alternatives.
pub(crate) fn hive_pattern(p: Option<&str>) -> Result<Option<regex::Regex>, Failure> {
    let Some(p) = p else { return Ok(None) };
    let alts: Vec<String> = p
        .split('|')
        .map(|a| {
            a.chars()
                .map(|c| match c {
                    '*' => ".*".to_string(),
                    c if c.is_alphanumeric() || c == '_' => c.to_string(),
                    c => format!("\\{c}"),
                })
                .collect()
        })
        .collect();
    regex::Regex::new(&format!("(?i)^(?:{})$", alts.join("|")))
        .map(Some)
        .map_err(|e| Failure::user(1100, e.to_string()))
}

fn string_value(e: &Expr) -> Option<String> {
    match e {
        Expr::Value(v) => match &v.value {
            Value::SingleQuotedString(s) | Value::DoubleQuotedString(s) => Some(s.clone()),
            Value::Number(n, _) => Some(n.clone()),
            _ => None,
        },
        Expr::Identifier(i) => Some(i.value.clone()),
        _ => None,
    }
}

fn options(o: &[SqlOption]) -> BTreeMap<String, String> {
    o.iter()
        .filter_map(|o| match o {
            SqlOption::KeyValue { key, value } => Some((key.value.clone(), string_value(value)?)),
            _ => None,
        })
        .collect()
}

/// A type as sqlparser prints it (`STRUCT<a INT, b ARRAY<STRING>>`) in Hive's spelling
/// (`struct<a:int,b:array<string>>`).
fn hive_type_text(printed: &str) -> String {
    let mut out = String::new();
    // For each open `<`: whether it is a struct's, and whether its field name is done.
    let mut stack: Vec<(bool, bool)> = Vec::new();
    let mut word = String::new();
    for ch in printed.to_lowercase().chars() {
        match ch {
            '<' | '(' => {
                stack.push((ch == '<' && word == "struct", false));
                out.push(ch);
                word.clear();
            }
            '>' | ')' => {
                stack.pop();
                out.push(ch);
                word.clear();
            }
            ',' => {
                if let Some(top) = stack.last_mut() {
                    top.1 = false;
                }
                out.push(',');
                word.clear();
            }
            ':' => {
                if let Some(top) = stack.last_mut() {
                    top.1 = true;
                }
                out.push(':');
                word.clear();
            }
            c if c.is_whitespace() => {
                if let Some(top) = stack.last_mut() {
                    if top.0 && !top.1 && !word.is_empty() {
                        top.1 = true;
                        out.push(':');
                    }
                }
                word.clear();
            }
            c => {
                word.push(c);
                out.push(c);
            }
        }
    }
    out
}

fn column(c: &ColumnDef) -> Result<Column, Failure> {
    let t = hive_type_text(&c.data_type.to_string());
    if !crate::table::readable_type(&t) {
        return Err(Failure::user(
            1100,
            format!(
                "SYNTAX_ERROR: Unknown type '{t}' for column {}",
                c.name.value
            ),
        ));
    }
    let comment = c.options.iter().find_map(|o| match &o.option {
        ColumnOption::Comment(s) => Some(s.clone()),
        _ => None,
    });
    Ok(Column {
        name: c.name.value.to_lowercase(),
        data_type: Some(t),
        comment,
        ..Default::default()
    })
}

pub(crate) use weir_catalog::hive::{AVRO, ORC, PARQUET, TEXT};

/// CREATE EXTERNAL TABLE as Athena's: a Glue table with the statement's SerDe, formats,
/// location and properties (plus EXTERNAL=TRUE and transient_lastDdlTime).
fn create_external_table(
    engine: &QueryEngine,
    region: &str,
    default_db: &str,
    sql: &str,
) -> Result<(), Failure> {
    let stmts = Parser::parse_sql(&SparkSqlDialect {}, sql).map_err(|e| syntax(e.to_string()))?;
    let Some(Statement::CreateTable(ct)) = stmts.into_iter().next() else {
        return Err(syntax("expected CREATE EXTERNAL TABLE".into()));
    };
    if !ct.external {
        return Err(Failure::user(
            1300,
            "Only external table creation is supported. (Weir: CREATE TABLE AS SELECT is not supported yet.)",
        ));
    }
    let parts: Vec<String> = ct
        .name
        .0
        .iter()
        .map(|p| {
            p.to_string()
                .trim_matches('`')
                .trim_matches('"')
                .to_lowercase()
        })
        .collect();
    let (db, name) = match parts.as_slice() {
        [n] => (default_db.to_string(), n.clone()),
        [.., d, n] => (d.clone(), n.clone()),
        [] => return Err(syntax("a table name is required".into())),
    };
    let columns = ct
        .columns
        .iter()
        .map(column)
        .collect::<Result<Vec<_>, _>>()?;
    let partition_keys = match &ct.hive_distribution {
        HiveDistributionStyle::PARTITIONED { columns } => {
            columns.iter().map(column).collect::<Result<Vec<_>, _>>()?
        }
        _ => Vec::new(),
    };
    let mut serde = SerDeInfo::default();
    let (mut input, mut output) = (None, None);
    let mut location = ct.location.clone();
    if let Some(h) = &ct.hive_formats {
        match &h.row_format {
            Some(HiveRowFormat::SERDE { class }) => {
                serde.serialization_library = Some(class.clone())
            }
            Some(HiveRowFormat::DELIMITED { delimiters }) => {
                serde.serialization_library = Some(TEXT.2.into());
                for d in delimiters {
                    let key = match format!("{:?}", d.delimiter).as_str() {
                        "FieldsTerminatedBy" => "field.delim",
                        "FieldsEscapedBy" => "escape.delim",
                        "CollectionItemsTerminatedBy" => "collection.delim",
                        "MapKeysTerminatedBy" => "mapkey.delim",
                        "LinesTerminatedBy" => "line.delim",
                        _ => "serialization.null.format",
                    };
                    serde.parameters.insert(key.into(), d.char.value.clone());
                }
            }
            None => {}
        }
        if let Some(p) = &h.serde_properties {
            serde.parameters.extend(options(p));
        }
        match &h.storage {
            Some(HiveIOFormat::IOF {
                input_format,
                output_format,
            }) => {
                input = string_value(input_format);
                output = string_value(output_format);
            }
            Some(HiveIOFormat::FileFormat { format }) => {
                let (i, o, s) = match format.to_string().to_uppercase().as_str() {
                    "PARQUET" => PARQUET,
                    "ORC" => ORC,
                    "AVRO" => AVRO,
                    _ => TEXT,
                };
                input = Some(i.into());
                output = Some(o.into());
                serde.serialization_library.get_or_insert_with(|| s.into());
            }
            _ => {}
        }
        if location.is_none() {
            location = h.location.clone();
        }
    }
    if input.is_none() && serde.serialization_library.is_none() {
        input = Some(TEXT.0.into());
        output = Some(TEXT.1.into());
        serde.serialization_library = Some(TEXT.2.into());
    }
    if serde.serialization_library.as_deref() == Some(TEXT.2)
        && !serde.parameters.contains_key("field.delim")
    {
        serde
            .parameters
            .insert("serialization.format".into(), "1".into());
    }
    let mut parameters = match &ct.table_options {
        CreateTableOptions::TableProperties(o) | CreateTableOptions::Options(o) => options(o),
        _ => BTreeMap::new(),
    };
    parameters.insert("EXTERNAL".into(), "TRUE".into());
    parameters.insert("transient_lastDdlTime".into(), now_secs());
    let table = Table {
        name: name.clone(),
        owner: Some("hadoop".into()),
        storage_descriptor: Some(StorageDescriptor {
            columns,
            location,
            input_format: input,
            output_format: output,
            serde_info: Some(serde),
            ..Default::default()
        }),
        partition_keys,
        table_type: Some("EXTERNAL_TABLE".into()),
        parameters,
        ..Default::default()
    };
    match engine.catalog.create_table(region, &db, table) {
        Err(CatalogError::AlreadyExists(_)) if ct.if_not_exists => Ok(()),
        Err(CatalogError::AlreadyExists(_)) => {
            Err(Failure::user(1302, format!("Table {name} already exists")))
        }
        Err(CatalogError::NotFound(_)) => {
            Err(Failure::user(1301, format!("Database {db} does not exist")))
        }
        r => r.map_err(catalog_err),
    }
}

/// MSCK REPAIR TABLE: every `k=v/...` folder under the table's location whose keys are the
/// table's partition keys, in order, becomes a partition (existing ones are left alone).
async fn repair(
    engine: &QueryEngine,
    region: &str,
    db: &str,
    name: &str,
) -> Result<Vec<Vec<String>>, Failure> {
    let c = &engine.catalog;
    let t = c.get_table(region, db, name).map_err(catalog_err)?;
    if t.partition_keys.is_empty() {
        return Err(Failure::user(
            1300,
            format!("Table {name} is not partitioned"),
        ));
    }
    let loc = t.location().unwrap_or_default().to_string();
    let (bucket, prefix) =
        crate::table::split_location(&loc).map_err(|e| Failure::user(1300, e.to_string()))?;
    let listed = engine
        .objects
        .list_objects(&bucket, &prefix)
        .await
        .map_err(|e| Failure::user(1300, e.to_string()))?;
    let mut found: Vec<Vec<String>> = Vec::new();
    for o in listed {
        let rel = &o.key[prefix.len()..];
        let segs: Vec<&str> = rel.split('/').collect();
        if segs.len() <= t.partition_keys.len() {
            continue;
        }
        let mut values = Vec::new();
        for (seg, key) in segs.iter().zip(&t.partition_keys) {
            match seg.split_once('=') {
                Some((k, v)) if k.eq_ignore_ascii_case(&key.name) => values.push(unescape(v)),
                _ => break,
            }
        }
        if values.len() == t.partition_keys.len()
            && found.last() != Some(&values)
            && !found.contains(&values)
        {
            found.push(values);
        }
    }
    let mut rows = Vec::new();
    let mut added = Vec::new();
    for values in found {
        if c.get_partition(region, db, name, &values).is_err() {
            rows.push(vec![format!(
                "Partitions not in metastore:\t{}:{}",
                name,
                partition_name(&t, &values)
            )]);
            added.push(values);
        }
    }
    for chunk in added.chunks(weir_catalog::MAX_BATCH_CREATE_PARTITIONS) {
        let parts = chunk
            .iter()
            .map(|v| {
                let folder = t
                    .partition_keys
                    .iter()
                    .zip(v)
                    .map(|(k, v)| format!("{}={}", k.name, escape(v)))
                    .collect::<Vec<_>>()
                    .join("/");
                partition_for(
                    &t,
                    v.clone(),
                    Some(format!("s3://{bucket}/{prefix}{folder}/")),
                )
            })
            .collect();
        c.create_partitions(region, db, name, parts)
            .map_err(catalog_err)?;
    }
    for r in rows.clone() {
        if let Some(line) = r.first() {
            rows.push(vec![line.replace(
                "Partitions not in metastore:\t",
                "Repair: Added partition to metastore ",
            )]);
        }
    }
    Ok(rows)
}

/// Hive's escaping of partition values in folder names (`%3A` for `:` and so on).
fn unescape(v: &str) -> String {
    let b = v.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() + 1 && i + 3 <= b.len() {
            if let Ok(x) = u8::from_str_radix(&v[i + 1..i + 3], 16) {
                out.push(x);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn escape(v: &str) -> String {
    v.chars()
        .map(|c| match c {
            '"' | '#' | '%' | '\'' | '*' | '/' | ':' | '=' | '?' | '\\' | '{' | '[' | ']' | '^' => {
                format!("%{:02X}", c as u32)
            }
            c if (c as u32) < 0x20 => format!("%{:02X}", c as u32),
            c => c.to_string(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn hive_spelling() {
        assert_eq!(
            super::hive_type_text("STRUCT<a INT, b ARRAY<STRUCT<c STRING>>>"),
            "struct<a:int,b:array<struct<c:string>>>"
        );
        assert_eq!(super::hive_type_text("struct<k:int>"), "struct<k:int>");
        assert_eq!(super::hive_type_text("DECIMAL(10, 2)"), "decimal(10,2)");
        assert_eq!(
            super::hive_type_text("MAP<STRING, BIGINT>"),
            "map<string,bigint>"
        );
    }
}
