//! Views as Athena keeps them in the Glue catalog: a table of type VIRTUAL_VIEW whose
//! ViewOriginalText is `/* Presto View: <base64 of a JSON document> */` holding the SQL, its
//! catalog and schema and the output columns with Trino type names; ViewExpandedText is
//! `/* Presto View */`. A query reads a view by planning its SQL in the view's schema.

use std::collections::BTreeMap;
use std::sync::Arc;

use base64::Engine as _;
use datafusion::catalog::view::ViewTable;
use datafusion::catalog::TableProvider;
use datafusion::error::{DataFusionError, Result};
use datafusion::prelude::{SessionConfig, SessionContext};
use serde_json::{json, Value};
use weir_athena::Failure;
use weir_catalog::{CatalogError, Column, SerDeInfo, StorageDescriptor, Table};

use crate::ddl::{catalog_err, syntax};
use crate::table::GlueCatalog;
use crate::types::{athena_type, hive_name};
use crate::words::Words;
use crate::{user_failure, QueryEngine, CATALOG_NAME};

const PREFIX: &str = "/* Presto View: ";
const SUFFIX: &str = " */";
/// Views within views deeper than this are taken for a cycle.
const MAX_DEPTH: usize = 10;

/// Whether a Glue table is a view.
pub fn is_view(t: &Table) -> bool {
    t.table_type.as_deref() == Some("VIRTUAL_VIEW")
}

/// ViewOriginalText for a view of `sql` in schema `db` with these (name, Trino type) columns.
pub fn encode(sql: &str, db: &str, columns: &[(String, String)]) -> String {
    let doc = json!({
        "originalSql": sql,
        "catalog": CATALOG_NAME,
        "schema": db,
        "columns": columns.iter().map(|(n, t)| json!({"name": n, "type": t})).collect::<Vec<_>>(),
        "owner": "weir",
        "runAsInvoker": false,
        "properties": {},
    });
    format!(
        "{PREFIX}{}{SUFFIX}",
        base64::engine::general_purpose::STANDARD.encode(doc.to_string())
    )
}

/// The SQL and schema of a view's ViewOriginalText.
pub fn decode(text: &str) -> Option<(String, String)> {
    let b64 = text.trim().strip_prefix(PREFIX)?.strip_suffix(SUFFIX)?;
    let raw = base64::engine::general_purpose::STANDARD
        .decode(b64.trim())
        .ok()?;
    let doc: Value = serde_json::from_slice(&raw).ok()?;
    Some((
        doc.get("originalSql")?.as_str()?.to_string(),
        doc.get("schema")
            .and_then(Value::as_str)
            .unwrap_or("default")
            .to_string(),
    ))
}

/// The view as a DataFusion table: its SQL planned in its own schema.
pub async fn provider(glue: &GlueCatalog, t: &Table) -> Result<Arc<dyn TableProvider>> {
    if glue.view_depth >= MAX_DEPTH {
        return Err(DataFusionError::Plan(format!(
            "View is recursive: {}.{} (views nest more than {MAX_DEPTH} deep)",
            t.database_name, t.name
        )));
    }
    let (sql, schema) = t
        .view_original_text
        .as_deref()
        .and_then(decode)
        .ok_or_else(|| {
            DataFusionError::Plan(format!(
                "View {}.{} has no Presto view definition",
                t.database_name, t.name
            ))
        })?;
    let config = SessionConfig::new()
        .with_default_catalog_and_schema(CATALOG_NAME, &schema)
        .with_create_default_catalog_and_schema(false)
        .with_information_schema(false);
    let ctx = SessionContext::new_with_config(config);
    ctx.register_catalog(
        CATALOG_NAME,
        Arc::new(GlueCatalog {
            catalog: glue.catalog.clone(),
            region: glue.region.clone(),
            objects: glue.objects.clone(),
            view_depth: glue.view_depth + 1,
        }),
    );
    crate::functions::register(&ctx);
    let plan = crate::trino::logical_plan(&ctx, &sql).await?;
    Ok(Arc::new(ViewTable::new(plan, Some(sql))))
}

/// CREATE [OR REPLACE] VIEW name AS query.
pub async fn create(
    engine: &QueryEngine,
    region: &str,
    default_db: &str,
    sql: &str,
) -> Result<(), Failure> {
    let mut w = Words::new(sql).map_err(syntax)?;
    w.expect("create").map_err(syntax)?;
    let replace = w.keywords(&["or", "replace"]);
    w.expect("view").map_err(syntax)?;
    let (db, name) = w.qualified().map_err(syntax)?;
    let db = db.unwrap_or_else(|| default_db.to_string());
    w.expect("as").map_err(syntax)?;
    let query = w
        .rest()
        .trim_end()
        .trim_end_matches(';')
        .trim_end()
        .to_string();
    let ctx = engine.session(region, &db);
    let df = crate::trino::plan(&ctx, &query)
        .await
        .map_err(|e| user_failure(&e))?;
    let schema = df.schema().as_arrow().clone();
    let mut trino = Vec::new();
    let mut columns = Vec::new();
    for (i, f) in schema.fields().iter().enumerate() {
        if crate::column_name(i, f.name()) != *f.name() {
            return Err(Failure::user(
                1100,
                format!(
                    "SYNTAX_ERROR: Column name not specified at position {}",
                    i + 1
                ),
            ));
        }
        trino.push((
            f.name().to_lowercase(),
            athena_type(f.data_type()).0.to_string(),
        ));
        columns.push(Column {
            name: f.name().to_lowercase(),
            data_type: Some(hive_name(f.data_type())),
            ..Default::default()
        });
    }
    let table = Table {
        name: name.clone(),
        owner: Some("weir".into()),
        table_type: Some("VIRTUAL_VIEW".into()),
        view_original_text: Some(encode(&query, &db, &trino)),
        view_expanded_text: Some("/* Presto View */".into()),
        parameters: BTreeMap::from([
            ("presto_view".to_string(), "true".to_string()),
            ("comment".to_string(), "Presto View".to_string()),
        ]),
        storage_descriptor: Some(StorageDescriptor {
            columns,
            serde_info: Some(SerDeInfo::default()),
            location: Some(String::new()),
            ..Default::default()
        }),
        ..Default::default()
    };
    let c = &engine.catalog;
    match c.get_table(region, &db, &name) {
        Ok(old) if replace && is_view(&old) => c
            .update_table(region, &db, table, false, None)
            .map_err(catalog_err),
        Ok(old) if is_view(&old) => Err(Failure::user(
            1302,
            format!("line 1:1: View '{CATALOG_NAME}.{db}.{name}' already exists"),
        )),
        Ok(_) => Err(Failure::user(
            1302,
            format!("line 1:1: Table '{CATALOG_NAME}.{db}.{name}' already exists"),
        )),
        Err(_) => match c.create_table(region, &db, table) {
            Err(CatalogError::NotFound(_)) => Err(Failure::user(
                1301,
                format!("SCHEMA_NOT_FOUND: line 1:1: Schema '{db}' does not exist"),
            )),
            r => r.map_err(catalog_err),
        },
    }
}

/// DROP VIEW [IF EXISTS] name.
pub fn drop(
    engine: &QueryEngine,
    region: &str,
    default_db: &str,
    sql: &str,
) -> Result<(), Failure> {
    let mut w = Words::new(sql).map_err(syntax)?;
    w.expect("drop").map_err(syntax)?;
    w.expect("view").map_err(syntax)?;
    let if_exists = w.keywords(&["if", "exists"]);
    let (db, name) = w.qualified().map_err(syntax)?;
    w.end().map_err(syntax)?;
    let db = db.unwrap_or_else(|| default_db.to_string());
    let c = &engine.catalog;
    match c.get_table(region, &db, &name) {
        Ok(t) if is_view(&t) => c.delete_table(region, &db, &name).map_err(catalog_err),
        Err(_) if if_exists => Ok(()),
        _ => Err(Failure::user(
            1301,
            format!("line 1:1: View '{CATALOG_NAME}.{db}.{name}' does not exist"),
        )),
    }
}

/// The view's SQL as SHOW CREATE VIEW prints it.
pub fn show_create(t: &Table) -> Option<String> {
    let (sql, schema) = decode(t.view_original_text.as_deref()?)?;
    Some(format!(
        "CREATE VIEW {CATALOG_NAME}.{schema}.{} AS\n{sql}",
        t.name
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presto_view_text_round_trips() {
        let text = encode("SELECT a FROM t", "db", &[("a".into(), "integer".into())]);
        assert!(text.starts_with("/* Presto View: ") && text.ends_with(" */"));
        assert_eq!(
            decode(&text),
            Some(("SELECT a FROM t".to_string(), "db".to_string()))
        );
        assert_eq!(decode("select 1"), None);
    }
}
