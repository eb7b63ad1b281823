//! A statement's type before it runs (GetQueryExecution shows it while QUEUED/RUNNING):
//! Athena's StatementType (DDL, DML, UTILITY) and SubstatementType, from its leading words.

/// `(StatementType, SubstatementType)` of a statement.
pub fn classify(sql: &str) -> (&'static str, &'static str) {
    let words: Vec<String> = leading_words(sql, 6);
    let w = |i: usize| words.get(i).map(String::as_str).unwrap_or("");
    match w(0) {
        "select" | "with" | "values" | "table" | "(" => ("DML", "SELECT"),
        "insert" => ("DML", "INSERT"),
        "update" => ("DML", "UPDATE"),
        "delete" => ("DML", "DELETE"),
        "merge" => ("DML", "MERGE"),
        "unload" => ("DML", "UNLOAD"),
        "execute" => ("DML", "EXECUTE"),
        "explain" => ("UTILITY", "EXPLAIN"),
        "describe" | "desc" => ("UTILITY", "DESCRIBE_TABLE"),
        "show" => match w(1) {
            "databases" | "schemas" => ("UTILITY", "SHOW_DATABASES"),
            "tables" => ("UTILITY", "SHOW_TABLES"),
            "partitions" => ("UTILITY", "SHOW_PARTITIONS"),
            "columns" => ("UTILITY", "SHOW_COLUMNS"),
            "create" if w(2) == "view" => ("UTILITY", "SHOW_CREATE_VIEW"),
            "create" => ("UTILITY", "SHOW_CREATE_TABLE"),
            "tblproperties" => ("UTILITY", "SHOW_TBLPROPERTIES"),
            "views" => ("UTILITY", "SHOW_VIEWS"),
            _ => ("UTILITY", "SHOW"),
        },
        "prepare" => ("UTILITY", "PREPARE"),
        "deallocate" => ("UTILITY", "DEALLOCATE"),
        "msck" => ("DDL", "REPAIR_TABLE"),
        "alter" => match (w(1), w(3)) {
            ("table", "add") if w(4) == "columns" => ("DDL", "ALTER_TABLE_ADD_COLUMNS"),
            ("table", "add") => ("DDL", "ALTER_TABLE_ADD_PARTITION"),
            ("table", "drop") => ("DDL", "ALTER_TABLE_DROP_PARTITION"),
            ("table", "set") => ("DDL", "ALTER_TABLE_SET_TBLPROPERTIES"),
            ("table", "replace") => ("DDL", "ALTER_TABLE_REPLACE_COLUMNS"),
            ("database" | "schema", _) => ("DDL", "ALTER_DATABASE"),
            _ => ("DDL", "ALTER_TABLE"),
        },
        "create" => {
            let kind = words
                .iter()
                .skip(1)
                .find(|x| {
                    !["or", "replace", "external", "protected", "multi_dialect"]
                        .contains(&x.as_str())
                })
                .map(String::as_str)
                .unwrap_or("");
            match kind {
                "database" | "schema" => ("DDL", "CREATE_DATABASE"),
                "view" => ("DDL", "CREATE_VIEW"),
                "table" if is_ctas(sql) => ("DDL", "CREATE_TABLE_AS_SELECT"),
                _ => ("DDL", "CREATE_TABLE"),
            }
        }
        "drop" => match w(1) {
            "database" | "schema" => ("DDL", "DROP_DATABASE"),
            "view" => ("DDL", "DROP_VIEW"),
            _ => ("DDL", "DROP_TABLE"),
        },
        _ => ("DDL", "UNKNOWN"),
    }
}

/// Whether a CREATE TABLE has `AS` followed by a query outside parentheses of a column list.
fn is_ctas(sql: &str) -> bool {
    let lower = strip_comments(sql).to_ascii_lowercase();
    lower
        .split(|c: char| c.is_whitespace() || c == ')')
        .collect::<Vec<_>>()
        .windows(2)
        .any(|w| {
            w[0] == "as"
                && (w[1].starts_with("select")
                    || w[1].starts_with("with")
                    || w[1].starts_with('(')
                    || w[1].is_empty())
        })
}

/// The SQL without `--` line comments and `/* */` block comments (strings left alone).
pub fn strip_comments(sql: &str) -> String {
    let c: Vec<char> = sql.chars().collect();
    let mut out = String::with_capacity(sql.len());
    let mut i = 0;
    let mut quote: Option<char> = None;
    while i < c.len() {
        let ch = c[i];
        if let Some(q) = quote {
            out.push(ch);
            if ch == q {
                quote = None;
            }
            i += 1;
            continue;
        }
        if ch == '\'' || ch == '"' || ch == '`' {
            quote = Some(ch);
            out.push(ch);
            i += 1;
        } else if ch == '-' && c.get(i + 1) == Some(&'-') {
            while i < c.len() && c[i] != '\n' {
                i += 1;
            }
        } else if ch == '/' && c.get(i + 1) == Some(&'*') {
            i += 2;
            while i < c.len() && !(c[i] == '*' && c.get(i + 1) == Some(&'/')) {
                i += 1;
            }
            i += 2;
            out.push(' ');
        } else {
            out.push(ch);
            i += 1;
        }
    }
    out
}

/// The first `n` words (lower case; a leading `(` counts as a word).
pub fn leading_words(sql: &str, n: usize) -> Vec<String> {
    let text = strip_comments(sql);
    let t = text.trim_start();
    if t.starts_with('(') {
        return vec!["(".into()];
    }
    t.split(|c: char| c.is_whitespace() || c == '(' || c == ';')
        .filter(|w| !w.is_empty())
        .take(n)
        .map(|w| w.to_ascii_lowercase())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::classify;

    #[test]
    fn kinds() {
        assert_eq!(classify("-- hi\n SELECT 1"), ("DML", "SELECT"));
        assert_eq!(classify("(select 1)"), ("DML", "SELECT"));
        assert_eq!(
            classify("CREATE EXTERNAL TABLE t (a int)"),
            ("DDL", "CREATE_TABLE")
        );
        assert_eq!(
            classify("CREATE TABLE t WITH (format='PARQUET') AS SELECT 1"),
            ("DDL", "CREATE_TABLE_AS_SELECT")
        );
        assert_eq!(classify("show tables in db"), ("UTILITY", "SHOW_TABLES"));
        assert_eq!(classify("MSCK REPAIR TABLE t"), ("DDL", "REPAIR_TABLE"));
        assert_eq!(
            classify("alter table db.t add columns (b int)"),
            ("DDL", "ALTER_TABLE_ADD_COLUMNS")
        );
        assert_eq!(
            classify("show create view v"),
            ("UTILITY", "SHOW_CREATE_VIEW")
        );
        assert_eq!(
            classify("alter table t add partition (dt='1')"),
            ("DDL", "ALTER_TABLE_ADD_PARTITION")
        );
    }
}
