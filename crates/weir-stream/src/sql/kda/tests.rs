//! The KDA translator's unit tests.

use super::*;

#[test]
fn reads_the_getting_started_filter() {
    let code = r#"
        -- ** Continuous Filter **
        CREATE OR REPLACE STREAM "DESTINATION_SQL_STREAM" (ticker_symbol VARCHAR(4),
            sector VARCHAR(12), change DOUBLE, price DOUBLE);
        /* pump */ CREATE OR REPLACE PUMP "STREAM_PUMP" AS INSERT INTO "DESTINATION_SQL_STREAM"
        SELECT STREAM ticker_symbol, sector, change, price
        FROM "SOURCE_SQL_STREAM_001"
        WHERE sector SIMILAR TO '%TECH%';"#;
    let c = translate(code, &[], &[]).unwrap();
    assert_eq!(c.streams[0].name, "DESTINATION_SQL_STREAM");
    assert_eq!(
        c.streams[0].columns,
        vec![
            ("TICKER_SYMBOL".into(), "VARCHAR(4)".into()),
            ("SECTOR".into(), "VARCHAR(12)".into()),
            ("CHANGE".into(), "DOUBLE".into()),
            ("PRICE".into(), "DOUBLE".into()),
        ]
    );
    assert_eq!(c.pumps[0].target, "DESTINATION_SQL_STREAM");
    assert_eq!(
        c.pumps[0].insert,
        "INSERT INTO `DESTINATION_SQL_STREAM` SELECT TICKER_SYMBOL , SECTOR , CHANGE , \
         PRICE FROM `SOURCE_SQL_STREAM_001` WHERE SECTOR SIMILAR TO '^(?:.*TECH.*)$'"
    );
}

#[test]
fn step_and_floor_become_tumbling_windows() {
    let code = r#"CREATE OR REPLACE STREAM "D" (ts TIMESTAMP, sym VARCHAR(4), n INTEGER);
        CREATE OR REPLACE PUMP "P" AS INSERT INTO "D"
        SELECT STREAM ROWTIME, sym, COUNT(*) FROM "S"
        GROUP BY sym, STEP("S".ROWTIME BY INTERVAL '10' SECOND);"#;
    let c = translate(code, &[], &[]).unwrap();
    assert_eq!(c.streams[0].columns[0].1, "TIMESTAMP(3)");
    assert_eq!(
        c.pumps[0].insert,
        "INSERT INTO `D` SELECT TUMBLE_END ( `S` . ROWTIME , INTERVAL '10' SECOND ) , SYM , \
         COUNT ( * ) FROM `S` GROUP BY SYM , TUMBLE ( `S` . ROWTIME , INTERVAL '10' SECOND )"
    );
    let code = r#"CREATE STREAM "D" (m TIMESTAMP, n INTEGER);
        CREATE PUMP "P" AS INSERT INTO "D"
        SELECT STREAM FLOOR(s.ROWTIME TO MINUTE), COUNT(*) FROM "S" AS s
        GROUP BY FLOOR(s.ROWTIME TO MINUTE);"#;
    let c = translate(code, &[], &[]).unwrap();
    assert_eq!(
        c.pumps[0].insert,
        "INSERT INTO `D` SELECT TUMBLE_START ( S . ROWTIME , INTERVAL '1' MINUTE ) , \
         COUNT ( * ) FROM `S` AS S GROUP BY TUMBLE ( S . ROWTIME , INTERVAL '1' MINUTE )"
    );
}

#[test]
fn sliding_windows_are_ordered_by_rowtime() {
    let code = r#"CREATE STREAM "D" (sym VARCHAR(4), a REAL);
        CREATE PUMP "P" AS INSERT INTO "D"
        SELECT STREAM sym, AVG(price) OVER W1 FROM "S"
        WINDOW W1 AS (PARTITION BY sym RANGE INTERVAL '1' MINUTE PRECEDING);"#;
    let c = translate(code, &[], &[]).unwrap();
    assert!(c.pumps[0].insert.ends_with(
        "WINDOW W1 AS ( PARTITION BY SYM ORDER BY ROWTIME RANGE INTERVAL '1' MINUTE PRECEDING )"
    ));
}

fn translate_(code: &str) -> Result<KdaCode, SqlError> {
    translate(code, &[], &[])
}

#[test]
fn reference_tables_are_looked_up() {
    let code = r#"CREATE STREAM "D" (sym VARCHAR(4), "Company" VARCHAR(20));
        CREATE PUMP "P" AS INSERT INTO "D"
        SELECT STREAM ticker_symbol, "c"."Company" FROM "SOURCE_SQL_STREAM_001"
        LEFT JOIN "CompanyName" AS "c" ON "SOURCE_SQL_STREAM_001".ticker_symbol = "c"."Ticker";"#;
    let c = translate(code, &["CompanyName".to_string()], &[]).unwrap();
    assert!(c.pumps[0]
        .insert
        .contains("LEFT JOIN `CompanyName` FOR SYSTEM_TIME AS OF ROWTIME AS `c` ON"));
}

#[test]
fn windowed_stream_joins_become_interval_joins() {
    let code = r#"CREATE STREAM "D" (id INTEGER, amount DOUBLE);
        CREATE PUMP "P" AS INSERT INTO "D"
        SELECT STREAM o.orderId, t.amount FROM "Orders" AS o
        JOIN "Trades" OVER (RANGE INTERVAL '1' MINUTE PRECEDING) AS t
        ON o.orderId = t.orderId WHERE t.amount > 0;"#;
    let c = translate_(code).unwrap();
    assert_eq!(
        c.pumps[0].insert,
        "INSERT INTO `D` SELECT O . ORDERID , T . AMOUNT FROM `Orders` AS O JOIN `Trades` AS \
         T ON ( O . ORDERID = T . ORDERID ) AND `T` . ROWTIME BETWEEN `O` . ROWTIME - \
         INTERVAL '1' MINUTE AND `O` . ROWTIME WHERE T . AMOUNT > 0"
    );
    // Without a join ON a condition, a window on a stream means nothing.
    assert!(translate_(
        r#"CREATE STREAM "D" (a INTEGER); CREATE PUMP "P" AS INSERT INTO "D"
           SELECT STREAM a FROM "S" OVER (RANGE INTERVAL '1' MINUTE PRECEDING);"#
    )
    .is_err());
}

#[test]
fn epoch_functions_take_the_engine_names() {
    let code = r#"CREATE STREAM "D" (t TIMESTAMP, ms BIGINT);
        CREATE PUMP "P" AS INSERT INTO "D"
        SELECT STREAM TO_TIMESTAMP(x), UNIX_TIMESTAMP(FLOOR(ROWTIME TO SECOND)) FROM "S";"#;
    let c = translate_(code).unwrap();
    assert_eq!(
        c.pumps[0].insert,
        "INSERT INTO `D` SELECT TO_TIMESTAMP_MILLIS ( X ) , TSDIFF ( DATE_TRUNC ( 'second' , \
         ROWTIME ) , TIMESTAMP '1970-01-01 00:00:00' ) FROM `S`"
    );
}

#[test]
fn analytic_table_functions_become_window_queries() {
    let code = r#"CREATE OR REPLACE STREAM DESTINATION_SQL_STREAM ("TICKER_SYMBOL" VARCHAR(4),
            "MOST_FREQUENT_VALUES" BIGINT);
        CREATE OR REPLACE PUMP "STREAM_PUMP" AS INSERT INTO "DESTINATION_SQL_STREAM"
        SELECT STREAM * FROM TABLE (TOP_K_ITEMS_TUMBLING(
            CURSOR(SELECT STREAM * FROM "SOURCE_SQL_STREAM_001"), 'TICKER_SYMBOL', 5, 60));"#;
    let c = translate_(code).unwrap();
    assert!(
        c.pumps[0].insert.contains(
            "FROM TABLE ( TUMBLE ( TABLE `SOURCE_SQL_STREAM_001` , DESCRIPTOR ( ROWTIME ) , \
             INTERVAL '60' SECOND ) ) GROUP BY window_start , window_end , `TICKER_SYMBOL`"
        ),
        "{}",
        c.pumps[0].insert
    );
    assert!(translate_(
        r#"CREATE STREAM "D" (n BIGINT); CREATE PUMP "P" AS INSERT INTO "D" SELECT STREAM *
           FROM TABLE(COUNT_DISTINCT_ITEMS_TUMBLING(CURSOR(SELECT STREAM * FROM "S"), 'X', 0));"#
    )
    .is_err());
}

#[test]
fn review_cases() {
    // Two reference joins: the ON conditions are left alone.
    let code = r#"CREATE STREAM "D" (a VARCHAR(4), b VARCHAR(4));
        CREATE PUMP "P" AS INSERT INTO "D" SELECT STREAM x.a, y.b FROM "S"
        LEFT JOIN "R1" AS x ON "S".k = x.k LEFT JOIN "R2" AS y ON "S".k = y.k;"#;
    let c = translate(code, &["R1".into(), "R2".into()], &[]).unwrap();
    assert!(c.pumps[0].insert.ends_with(
        "LEFT JOIN `R1` FOR SYSTEM_TIME AS OF ROWTIME AS X ON `S` . K = X . K LEFT JOIN `R2` \
         FOR SYSTEM_TIME AS OF ROWTIME AS Y ON `S` . K = Y . K"
    ));
    // Types keep their spaces; FLOOR over an expression is refused.
    let code = r#"CREATE STREAM "D" (d DOUBLE PRECISION, t TIMESTAMP);
        CREATE PUMP "P" AS INSERT INTO "D"
        SELECT STREAM 1.0, FLOOR(COALESCE(a, b) TO MINUTE) FROM "S";"#;
    assert!(translate_(code).is_err());
    let c = translate_(&code.replace("COALESCE(a, b)", "s.t")).unwrap();
    assert_eq!(c.streams[0].columns[0].1, "DOUBLE PRECISION");
    assert!(c.pumps[0]
        .insert
        .contains("DATE_TRUNC ( 'minute' , S . T )"));
    // The guide's ten-second idiom, in a GROUP BY and elsewhere.
    let code2 = r#"CREATE STREAM "D" (t TIMESTAMP);
        CREATE PUMP "P" AS INSERT INTO "D" SELECT STREAM
        FLOOR(("S".ROWTIME - TIMESTAMP '1970-01-01 00:00:00') SECOND / 10 TO SECOND) FROM "S";"#;
    assert!(translate_(code2).unwrap().pumps[0].insert.contains(
        "DATE_BIN ( INTERVAL '10' SECOND , `S` . ROWTIME , TIMESTAMP '1970-01-01 00:00:00' )"
    ));
    let code = r#"CREATE STREAM "D" (n BIGINT);
        CREATE PUMP "P" AS INSERT INTO "D" SELECT STREAM COUNT(*) FROM "S"
        GROUP BY FLOOR(("S".ROWTIME - TIMESTAMP '1970-01-01 00:00:00') SECOND / 10 TO SECOND);"#;
    assert!(translate_(code).unwrap().pumps[0]
        .insert
        .ends_with("GROUP BY TUMBLE ( `S` . ROWTIME , INTERVAL '10' SECOND )"));
    // An alias that is a keyword, after AS; FROM inside a function is no relation.
    let code = r#"CREATE STREAM "D" (n INTEGER);
        CREATE PUMP "P" AS INSERT INTO "D" SELECT STREAM EXTRACT(HOUR FROM data.ROWTIME)
        FROM "A" AS data JOIN "B" OVER (RANGE INTERVAL '1' MINUTE PRECEDING) AS b
        ON data.k = b.k;"#;
    assert!(translate_(code).unwrap().pumps[0]
        .insert
        .contains("`B` . ROWTIME BETWEEN `DATA` . ROWTIME - INTERVAL '1' MINUTE"));
}

#[test]
fn insert_column_lists() {
    let code = r#"CREATE STREAM "D" ("a" INTEGER, "b" VARCHAR(4), "c" DOUBLE);
        CREATE PUMP "P1" AS INSERT INTO "D" ("a", "b", "c") SELECT STREAM x, y, z FROM "S";
        CREATE PUMP "P2" AS INSERT INTO "D" ("c", "a") SELECT STREAM z, x FROM "S";"#;
    let c = translate_(code).unwrap();
    assert_eq!(
        c.pumps[0].insert,
        "INSERT INTO `D` SELECT X , Y , Z FROM `S`"
    );
    assert_eq!(
        c.pumps[1].insert,
        "INSERT INTO `D` SELECT `__weir_pump`.`__weir_c1`, CAST(NULL AS VARCHAR(4)), \
         `__weir_pump`.`__weir_c0` FROM (SELECT Z , X FROM `S`) AS `__weir_pump`(`__weir_c0`, \
         `__weir_c1`)"
    );
}

#[test]
fn stagger_windows_become_fixed_session_windows() {
    let code = r#"CREATE STREAM "D" (ticker VARCHAR(4), m TIMESTAMP, n INTEGER);
        CREATE PUMP "P" AS INSERT INTO "D"
        SELECT STREAM ticker_symbol, FLOOR(event_time TO MINUTE), COUNT(*)
        FROM "S"
        WINDOWED BY STAGGER (PARTITION BY FLOOR(event_time TO MINUTE), ticker_symbol
            RANGE INTERVAL '1' MINUTE);"#;
    let c = translate_(code).unwrap();
    assert_eq!(
        c.pumps[0].insert,
        "INSERT INTO `D` SELECT TICKER_SYMBOL , `WEIR_KEY_0` , COUNT ( * ) FROM TABLE ( \
         STAGGER ( TABLE `weir_stagger_P` PARTITION BY ( `WEIR_KEY_0` , TICKER_SYMBOL ) , \
         DESCRIPTOR ( ROWTIME ) , INTERVAL '1' MINUTE ) ) AS `S` GROUP BY window_start , \
         window_end , `WEIR_KEY_0` , TICKER_SYMBOL"
    );
    assert_eq!(
        c.pumps[0].views,
        vec![(
            "weir_stagger_P".to_string(),
            "SELECT *, DATE_TRUNC ( 'minute' , EVENT_TIME ) AS `WEIR_KEY_0` FROM `S` AS `S`"
                .to_string()
        )]
    );
}

#[test]
fn refuses_what_it_cannot_run() {
    assert!(translate_("SELECT 1").is_err());
    assert!(translate_(r#"CREATE PUMP "P" AS INSERT INTO "X" SELECT STREAM * FROM "S""#).is_err());
    assert!(translate_(r#"CREATE STREAM "D" (ROWTIME TIMESTAMP)"#).is_err());
}

#[test]
fn nth_value_from_last_counts_back() {
    let code = r#"CREATE OR REPLACE STREAM "D" (a INTEGER, b INTEGER);
        CREATE OR REPLACE PUMP "P" AS INSERT INTO "D" SELECT STREAM
        NTH_VALUE(x, 2) FROM LAST IGNORE NULLS OVER W, NTH_VALUE(x, 1) FROM FIRST OVER W
        FROM "S" WINDOW W AS (ROWS 3 PRECEDING);"#;
    let sql = &translate(code, &[], &[]).unwrap().pumps[0].insert;
    assert!(
        sql.contains("NTH_VALUE ( X , -2 ) IGNORE NULLS OVER W , NTH_VALUE ( X , 1 ) OVER W"),
        "{sql}"
    );
    // A window written in place (the join pass must not read `FROM LAST` as a relation).
    let inline = code.replace(
        "OVER W,",
        "OVER (PARTITION BY y RANGE INTERVAL '1' MINUTE PRECEDING),",
    );
    let sql = &translate(&inline, &[], &[]).unwrap().pumps[0].insert;
    assert!(
        sql.contains("NTH_VALUE ( X , -2 ) IGNORE NULLS OVER ("),
        "{sql}"
    );
    for bad in ["NTH_VALUE(x, 0) FROM LAST", "NTH_VALUE(x, -2) FROM FIRST"] {
        let code = code.replace("NTH_VALUE(x, 2) FROM LAST", bad);
        assert!(translate(&code, &[], &[]).is_err(), "{bad}");
    }
}

#[test]
fn similar_to_patterns() {
    assert_eq!(similar_regex("%TECH%"), "^(?:.*TECH.*)$");
    assert_eq!(similar_regex("a_b.c"), "^(?:a.b\\.c)$");
    assert_eq!(similar_regex("(x|y)%"), "^(?:(x|y).*)$");
}
