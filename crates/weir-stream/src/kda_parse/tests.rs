use datafusion::arrow::util::pretty::pretty_format_batches;

async fn rows(sql: &str) -> String {
    let ctx = crate::plan::session();
    let batches = ctx.sql(sql).await.unwrap().collect().await.unwrap();
    pretty_format_batches(&batches).unwrap().to_string()
}

async fn fails(sql: &str) -> String {
    let ctx = crate::plan::session();
    match ctx.sql(sql).await {
        Err(e) => e.to_string(),
        Ok(df) => match df.collect().await {
            Err(e) => e.to_string(),
            Ok(b) => panic!("{sql} gave {}", pretty_format_batches(&b).unwrap()),
        },
    }
}

#[tokio::test]
async fn regex_log_parse_reads_groups_by_path() {
    let text = rows(
        "SELECT T.S, T.REC.COLUMN1 AS A, T.REC.COLUMN2 AS B FROM (SELECT S, \
         REGEX_LOG_PARSE(S, '.*([E].).*([R].*)') AS REC FROM (VALUES ('HEALTHCARE'), \
         ('ENERGY'), ('TECHNOLOGY')) AS V(S)) AS T ORDER BY T.S",
    )
    .await;
    assert!(text.contains("| ENERGY     | EN | RGY |"), "{text}");
    assert!(text.contains("| HEALTHCARE | EA | RE  |"), "{text}");
    assert!(text.contains("| TECHNOLOGY |    |     |"), "{text}");
    let log = r#"203.0.113.24 - - [25/Mar/2018:15:25:37 -0700] "GET /index.php HTTP/1.1" 200 125 "-" "Mozilla/5.0 [en] Gecko/20100101 Firefox/52.0""#;
    let text = rows(&format!(
        "SELECT R.COLUMN3, R.COLUMN4 FROM (SELECT REGEX_LOG_PARSE('{log}', \
         '(\\w.+) (\\d.+) (\\w.+) (\\w.+)') AS R) AS T"
    ))
    .await;
    assert!(
        text.contains("| Gecko/20100101 | Firefox/52.0\" |"),
        "{text}"
    );
    // A column list names and types the groups.
    let text = rows(
        "SELECT R.N + 1 AS N, R.\"w\" AS W FROM (SELECT REGEX_LOG_PARSE('41 x', \
         '(\\d+) (\\w)', 'N INTEGER, \"w\" VARCHAR(4)') AS R) AS T",
    )
    .await;
    assert!(text.contains("| 42 | x |"), "{text}");
    let e = fails("SELECT REGEX_LOG_PARSE('a', '(')").await;
    assert!(e.contains("not a valid pattern"), "{e}");
}

#[tokio::test]
async fn fast_regex_is_lazy_and_never_backtracks() {
    let q = |pattern: &str, input: &str| {
        format!(
            "SELECT R.COLUMN1 AS A, R.COLUMN2 AS B, R IS NULL AS NONE FROM \
             (SELECT FAST_REGEX_LOG_PARSE('{input}', '{pattern}') AS R) AS T"
        )
    };
    let text = rows(&q("(.*)_(._.*)_.*", "Mary_had_a_little_lamb")).await;
    assert!(text.contains("| Mary_had | a_little | false |"), "{text}");
    let text = rows(&q("(.*)_+(._.*)", "Mary_had_a_little_lamb")).await;
    assert!(text.contains("|   |   | true |"), "{text}");
    let text = rows(&q("(.*)_+(.*)", "Mary____had_a_little_lamb")).await;
    assert!(
        text.contains("| Mary | had_a_little_lamb | false |"),
        "{text}"
    );
    let text = rows(&q("(.*)_+(<Alpha>.*)", "Mary____had_a_little_lamb")).await;
    assert!(
        text.contains("| Mary | had_a_little_lamb | false |"),
        "{text}"
    );
    let text = rows(&q("(@)_(.*)", "a_b_c")).await;
    assert!(text.contains("| a | b_c | false |"), "{text}");
    let e = fails(&q("(a|b", "a")).await;
    assert!(e.contains("unclosed"), "{e}");
    let e = fails(&q("(a&b)(c)", "x")).await;
    assert!(e.contains("not supported"), "{e}");
}

#[tokio::test]
async fn variable_and_fixed_columns() {
    let text = rows(
        "SELECT R.\"COL_1\" AS A, R.\"COL_2\" AS B, R.\"COL_3\" AS C FROM (SELECT \
         VARIABLE_COLUMN_LOG_PARSE('x,y,z', 'COL_1 TYPE VARCHAR(16), COL_2 TYPE \
         VARCHAR(16), COL_3 TYPE VARCHAR(16)', ',') AS R) AS T",
    )
    .await;
    assert!(text.contains("| x | y | z |"), "{text}");
    let text = rows(
        "SELECT R.COLUMN1 AS A, R.COLUMN2 AS B, R.COLUMN3 AS C FROM (SELECT \
         VARIABLE_COLUMN_LOG_PARSE('John Doe,\"514 West Bay, Newport Beach\",$32.16', 3, ',', \
         '\\', '\"') AS R) AS T",
    )
    .await;
    assert!(
        text.contains("| John Doe | 514 West Bay, Newport Beach | $32.16 |"),
        "{text}"
    );
    let text = rows(
        "SELECT R.COLUMN1 AS A, R.COLUMN2 AS B FROM (SELECT \
         VARIABLE_COLUMN_LOG_PARSE('a\\,b', 2, ',', '\\') AS R) AS T",
    )
    .await;
    assert!(text.contains("| a,b |   |"), "{text}");
    let text = rows(
        "SELECT R.A + 1 AS A, R.B AS B FROM (SELECT FIXED_COLUMN_LOG_PARSE('  1   true', \
         'a TYPE Integer START 0 FOR 3, b TYPE boolean START 4') AS R) AS T",
    )
    .await;
    assert!(text.contains("| 2 | true |"), "{text}");
    // A field that does not convert makes the row NULL, its other fields too.
    let text = rows(
        "SELECT R IS NULL AS NONE, R.B IS NULL AS NO_B FROM (SELECT \
         FIXED_COLUMN_LOG_PARSE('  x   true', 'a TYPE Integer START 0 FOR 3, b TYPE boolean \
         START 4') AS R) AS T",
    )
    .await;
    assert!(text.contains("| true | true |"), "{text}");
    // An empty field is NULL, the row is not.
    let text = rows(
        "SELECT R IS NULL AS NONE, R.N IS NULL AS NO_N, R.S AS S FROM (SELECT \
         VARIABLE_COLUMN_LOG_PARSE('|x', 'N TYPE INTEGER, S TYPE VARCHAR(4)', '|') AS R) AS T",
    )
    .await;
    assert!(text.contains("| false | true | x |"), "{text}");
    let text = rows(
        "SELECT R.\"when\" AS W FROM (SELECT FIXED_COLUMN_LOG_PARSE('[24/May/2004:22:01:02]', \
         '\"when\" TYPE TIMESTAMP ''dd/MMM/yyyy:HH:mm:ss'' START 1 FOR 20') AS R) AS T",
    )
    .await;
    assert!(text.contains("2004-05-24T22:01:02"), "{text}");
}

#[tokio::test]
async fn w3c_and_syslog() {
    let line = r#"192.168.254.30 - John [24/May/2004:22:01:02 -0700] "GET /icons/apache_pb.gif HTTP/1.1" 304 0"#;
    let text = rows(&format!(
        "SELECT L.R.COLUMN1 AS A, L.R.COLUMN3 AS U, L.R.COLUMN4 AS T, L.R.COLUMN5 AS Q, \
         L.R.COLUMN6 AS S, L.R.COLUMN7 AS B FROM (SELECT W3C_LOG_PARSE('{line}', 'COMMON')) \
         AS L(R)"
    ))
    .await;
    assert!(
        text.contains(
            "| 192.168.254.30 | John | [24/May/2004:22:01:02 -0700] | GET /icons/apache_pb.gif \
             HTTP/1.1 | 304 | 0 |"
        ),
        "{text}"
    );
    let text = rows(&format!(
        "SELECT R.COLUMN4 AS T FROM (SELECT W3C_LOG_PARSE('{line}', '%h %l %u [%t] \"%r\" %>s \
         %b') AS R) AS X"
    ))
    .await;
    assert!(text.contains("| 24/May/2004:22:01:02 -0700 |"), "{text}");
    let text = rows(
        "SELECT R.COLUMN1 AS T, R.COLUMN2 AS M FROM (SELECT SYS_LOG_PARSE('Jan  3 04:05:06 \
         myhost sshd[12]: ok') AS R) AS X",
    )
    .await;
    assert!(
        text.contains("| 1970-01-03T04:05:06 | myhost sshd[12]: ok |"),
        "{text}"
    );
    let e = fails("SELECT W3C_LOG_PARSE('x', '%Q')").await;
    assert!(e.contains("not a log format specifier"), "{e}");
}
