//! The catalog statements beyond ddl.rs: views (CREATE/DROP VIEW, SHOW VIEWS, SHOW CREATE
//! VIEW), SHOW CREATE TABLE and SHOW TBLPROPERTIES, and ALTER TABLE SET TBLPROPERTIES / ADD
//! COLUMNS / REPLACE COLUMNS — each a change to (or a reading of) the Glue catalog.

use std::collections::BTreeMap;

use datafusion::sql::sqlparser::tokenizer::Token;
use weir_athena::Failure;
use weir_catalog::{Column, Table};

use crate::ddl::{catalog_err, hive_pattern, now_secs, syntax, TextResult};
use crate::view;
use crate::words::Words;
use crate::QueryEngine;

/// Runs one of this module's statements, or `None` when `sub` is not one of them.
pub async fn run(
    engine: &QueryEngine,
    region: &str,
    default_db: &str,
    sql: &str,
    sub: &str,
) -> Option<Result<TextResult, Failure>> {
    Some(match sub {
        "CREATE_VIEW" => view::create(engine, region, default_db, sql)
            .await
            .map(|_| TextResult::default()),
        "DROP_VIEW" => view::drop(engine, region, default_db, sql).map(|_| TextResult::default()),
        "SHOW_VIEWS" => relations(engine, region, default_db, sql, true),
        "SHOW_CREATE_TABLE" | "SHOW_CREATE_VIEW" => show_create(engine, region, default_db, sql),
        "SHOW_TBLPROPERTIES" => show_tblproperties(engine, region, default_db, sql),
        "ALTER_TABLE_SET_TBLPROPERTIES"
        | "ALTER_TABLE_ADD_COLUMNS"
        | "ALTER_TABLE_REPLACE_COLUMNS" => alter(engine, region, default_db, sql, sub),
        _ => return None,
    })
}

fn get(engine: &QueryEngine, region: &str, db: &str, name: &str) -> Result<Table, Failure> {
    engine.catalog.get_table(region, db, name).map_err(|_| {
        Failure::user(
            1301,
            format!(
                "TABLE_NOT_FOUND: line 1:1: Table '{}.{db}.{name}' does not exist",
                crate::CATALOG_NAME
            ),
        )
    })
}

/// SHOW TABLES / SHOW VIEWS [IN db] [[LIKE] 'pattern'] (`views`: only views).
pub(crate) fn relations(
    engine: &QueryEngine,
    region: &str,
    default_db: &str,
    sql: &str,
    views: bool,
) -> Result<TextResult, Failure> {
    let mut w = Words::new(sql).map_err(syntax)?;
    w.expect("show").map_err(syntax)?;
    w.expect(if views { "views" } else { "tables" })
        .map_err(syntax)?;
    let db = if w.keyword("in") || w.keyword("from") {
        w.ident().map_err(syntax)?
    } else {
        default_db.to_string()
    };
    let pattern = if w.at_end() {
        None
    } else {
        w.keyword("like");
        Some(w.string().map_err(syntax)?)
    };
    let re = hive_pattern(pattern.as_deref())?;
    let tables = engine.catalog.tables(region, &db).map_err(catalog_err)?;
    Ok(TextResult {
        columns: vec![(if views { "views" } else { "tab_name" }.into(), "varchar")],
        rows: tables
            .into_iter()
            .filter(|t| !views || view::is_view(t))
            .filter(|t| re.as_ref().is_none_or(|r| r.is_match(&t.name)))
            .map(|t| vec![t.name])
            .collect(),
    })
}

fn quoted_props(p: &BTreeMap<String, String>) -> String {
    p.iter()
        .map(|(k, v)| format!("  '{k}'='{v}'"))
        .collect::<Vec<_>>()
        .join(", \n")
}

fn column_lines(cols: &[Column]) -> String {
    cols.iter()
        .map(|c| {
            let mut s = format!("  `{}` {}", c.name, c.data_type.clone().unwrap_or_default());
            if let Some(comment) = &c.comment {
                s.push_str(&format!(" COMMENT '{comment}'"));
            }
            s
        })
        .collect::<Vec<_>>()
        .join(", \n")
}

/// SHOW CREATE TABLE as Hive prints it (one row per line).
pub fn create_table_text(t: &Table) -> String {
    let sd = t.storage_descriptor.clone().unwrap_or_default();
    let serde = sd.serde_info.clone().unwrap_or_default();
    let mut s = format!(
        "CREATE EXTERNAL TABLE `{}`.`{}`(\n{})\n",
        t.database_name,
        t.name,
        column_lines(&sd.columns)
    );
    if !t.partition_keys.is_empty() {
        s.push_str(&format!(
            "PARTITIONED BY ( \n{})\n",
            column_lines(&t.partition_keys)
        ));
    }
    if let Some(lib) = &serde.serialization_library {
        s.push_str(&format!("ROW FORMAT SERDE \n  '{lib}' \n"));
    }
    if !serde.parameters.is_empty() {
        s.push_str(&format!(
            "WITH SERDEPROPERTIES ( \n{}) \n",
            quoted_props(&serde.parameters)
        ));
    }
    if let (Some(i), Some(o)) = (&sd.input_format, &sd.output_format) {
        s.push_str(&format!(
            "STORED AS INPUTFORMAT \n  '{i}' \nOUTPUTFORMAT \n  '{o}'\n"
        ));
    }
    if let Some(l) = &sd.location {
        s.push_str(&format!("LOCATION\n  '{l}'\n"));
    }
    if !t.parameters.is_empty() {
        s.push_str(&format!(
            "TBLPROPERTIES (\n{})",
            quoted_props(&t.parameters)
        ));
    }
    s
}

fn show_create(
    engine: &QueryEngine,
    region: &str,
    default_db: &str,
    sql: &str,
) -> Result<TextResult, Failure> {
    let mut w = Words::new(sql).map_err(syntax)?;
    w.expect("show").map_err(syntax)?;
    w.expect("create").map_err(syntax)?;
    let want_view = w.keyword("view");
    if !want_view {
        w.expect("table").map_err(syntax)?;
    }
    let (db, name) = w.qualified().map_err(syntax)?;
    w.end().map_err(syntax)?;
    let db = db.unwrap_or_else(|| default_db.to_string());
    let t = get(engine, region, &db, &name)?;
    let text = match (want_view, view::is_view(&t)) {
        (true, true) => view::show_create(&t).unwrap_or_default(),
        (false, false) => create_table_text(&t),
        (true, false) => {
            return Err(Failure::user(
                1300,
                format!(
                    "line 1:1: Relation '{}.{db}.{name}' is a table, not a view",
                    crate::CATALOG_NAME
                ),
            ))
        }
        (false, true) => {
            return Err(Failure::user(
                1300,
                format!(
                    "line 1:1: Relation '{}.{db}.{name}' is a view, not a table",
                    crate::CATALOG_NAME
                ),
            ))
        }
    };
    Ok(TextResult {
        columns: vec![("createtab_stmt".into(), "varchar")],
        rows: text.lines().map(|l| vec![l.to_string()]).collect(),
    })
}

fn show_tblproperties(
    engine: &QueryEngine,
    region: &str,
    default_db: &str,
    sql: &str,
) -> Result<TextResult, Failure> {
    let mut w = Words::new(sql).map_err(syntax)?;
    w.expect("show").map_err(syntax)?;
    w.expect("tblproperties").map_err(syntax)?;
    let (db, name) = w.qualified().map_err(syntax)?;
    let only = if w.symbol(Token::LParen) {
        let k = w.string().map_err(syntax)?;
        w.expect_symbol(Token::RParen).map_err(syntax)?;
        Some(k)
    } else {
        None
    };
    w.end().map_err(syntax)?;
    let t = get(
        engine,
        region,
        &db.unwrap_or_else(|| default_db.to_string()),
        &name,
    )?;
    Ok(TextResult {
        columns: vec![
            ("prpt_name".into(), "varchar"),
            ("prpt_value".into(), "varchar"),
        ],
        rows: t
            .parameters
            .iter()
            .filter(|(k, _)| only.as_ref().is_none_or(|o| o == *k))
            .map(|(k, v)| vec![k.clone(), v.clone()])
            .collect(),
    })
}

/// `(a int COMMENT 'x', b array<struct<c:string>>)` as Glue columns.
fn column_list(text: &str) -> Result<Vec<Column>, Failure> {
    let mut parts = Vec::new();
    let (mut depth, mut start, mut quote) = (0i32, 0usize, false);
    for (i, ch) in text.char_indices() {
        match ch {
            '\'' => quote = !quote,
            '<' | '(' if !quote => depth += 1,
            '>' | ')' if !quote => depth -= 1,
            ',' if !quote && depth == 0 => {
                parts.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    let comment_re = regex::Regex::new(r"(?is)\s+comment\s+'((?:[^']|'')*)'\s*$")
        .map_err(|e| Failure::system(e.to_string()))?;
    parts
        .into_iter()
        .map(|p| {
            let p = p.trim();
            let (p, comment) = match comment_re.captures(p) {
                Some(c) => (
                    &p[..c.get(0).map_or(p.len(), |m| m.start())],
                    c.get(1).map(|m| m.as_str().replace("''", "'")),
                ),
                None => (p, None),
            };
            let (name, ty) = p
                .trim()
                .split_once(char::is_whitespace)
                .ok_or_else(|| syntax(format!("a column needs a name and a type: '{p}'")))?;
            let ty = ty.trim().to_lowercase().replace(' ', "");
            if !crate::table::readable_type(&ty) {
                return Err(syntax(format!("Unknown type '{ty}' for column {name}")));
            }
            Ok(Column {
                name: name.trim_matches('`').trim_matches('"').to_lowercase(),
                data_type: Some(ty),
                comment,
                ..Default::default()
            })
        })
        .collect()
}

fn alter(
    engine: &QueryEngine,
    region: &str,
    default_db: &str,
    sql: &str,
    sub: &str,
) -> Result<TextResult, Failure> {
    let mut w = Words::new(sql).map_err(syntax)?;
    w.expect("alter").map_err(syntax)?;
    w.expect("table").map_err(syntax)?;
    let (db, name) = w.qualified().map_err(syntax)?;
    let db = db.unwrap_or_else(|| default_db.to_string());
    let mut t = get(engine, region, &db, &name)?;
    match sub {
        "ALTER_TABLE_SET_TBLPROPERTIES" => {
            w.expect("set").map_err(syntax)?;
            w.expect("tblproperties").map_err(syntax)?;
            let props = crate::ddl::properties(&mut w).map_err(syntax)?;
            t.parameters.extend(props);
        }
        _ => {
            let add = w.keyword("add");
            if !add {
                w.expect("replace").map_err(syntax)?;
            }
            w.expect("columns").map_err(syntax)?;
            let cols = column_list(&w.paren_text().map_err(syntax)?)?;
            let sd = t.storage_descriptor.get_or_insert_with(Default::default);
            if add {
                for c in &cols {
                    if sd
                        .columns
                        .iter()
                        .chain(&t.partition_keys)
                        .any(|o| o.name == c.name)
                    {
                        return Err(Failure::user(
                            1300,
                            format!("Column '{}' already exists", c.name),
                        ));
                    }
                }
                sd.columns.extend(cols);
            } else {
                sd.columns = cols;
            }
        }
    }
    w.end().map_err(syntax)?;
    t.parameters
        .insert("transient_lastDdlTime".into(), now_secs());
    engine
        .catalog
        .update_table(region, &db, t, false, None)
        .map_err(catalog_err)?;
    Ok(TextResult::default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_lists() {
        let cols = column_list(
            "a int COMMENT 'it''s', b array<struct<c:string,d:int>>, `C` decimal(10, 2)",
        )
        .unwrap_or_else(|e| panic!("{}", e.message));
        let names: Vec<_> = cols.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, vec!["a", "b", "c"]);
        assert_eq!(cols[0].comment.as_deref(), Some("it's"));
        assert_eq!(
            cols[1].data_type.as_deref(),
            Some("array<struct<c:string,d:int>>")
        );
        assert_eq!(cols[2].data_type.as_deref(), Some("decimal(10,2)"));
        assert!(column_list("a blob").is_err());
    }
}
