//! KDA's machine-learning table functions as queries over the stateful functions of
//! `kda_analytic`: `TABLE(RANDOM_CUT_FOREST(CURSOR(...)[, trees, sample, decay, shingle]))`,
//! `RANDOM_CUT_FOREST_WITH_EXPLANATION(..., withDirectionality)` and `HOTSPOTS(CURSOR(...),
//! windowSize, scanRadius, minimumNumberOfPointsInAHotspot)` return the cursor's columns and
//! `ANOMALY_SCORE` (+ `ANOMALY_EXPLANATION`) or `HOTSPOTS_RESULT`. The cursor is `SELECT
//! STREAM * FROM "S"` (columns of an input or in-application stream) or `SELECT STREAM "a",
//! "b" FROM "S"`.

use sqlparser::tokenizer::Token;

use super::kda::{fail, InAppStream};
use super::SqlError;

pub const FUNCTIONS: [&str; 3] = [
    "RANDOM_CUT_FOREST",
    "RANDOM_CUT_FOREST_WITH_EXPLANATION",
    "HOTSPOTS",
];

fn quoted(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}

fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// `TABLE(F(CURSOR(...), ...))`'s arguments → the query in parentheses. `site` names the
/// call's model.
pub fn expand(
    name: &str,
    args: &[Token],
    streams: &[InAppStream],
    site: &str,
    view: &str,
) -> Result<super::kda_cursor::Expanded, SqlError> {
    let c = super::kda_cursor::cursor(args, streams, name, view)?;
    let (relation, columns, end) = (c.relation, c.columns, c.end);
    let rest: Vec<&Token> = args[end + 1..]
        .iter()
        .filter(|t| **t != Token::Comma)
        .collect();
    let value = |t: &Token| -> Result<String, SqlError> {
        match t {
            Token::Number(n, _) => Ok(n.clone()),
            Token::Word(w)
                if w.quote_style.is_none() && (w.value == "TRUE" || w.value == "FALSE") =>
            {
                Ok(w.value.clone())
            }
            other => Err(fail(format!(
                "{name}: {other} is not a number or TRUE/FALSE"
            ))),
        }
    };
    let mut given = rest
        .iter()
        .map(|t| value(t))
        .collect::<Result<Vec<_>, _>>()?;
    let pairs: Vec<String> = columns
        .iter()
        .map(|c| format!("{}, {}", literal(c), quoted(c)))
        .collect();
    // Every output column is read from the call's ROW (so no filter moves below the call).
    let selected: Vec<String> = columns
        .iter()
        .map(|c| format!("`WEIR_MODEL`.{} AS {}", quoted(c), quoted(c)))
        .collect();
    let rel = super::token_sql(&relation);
    let site = literal(site);
    let sql = if name == "HOTSPOTS" {
        if given.len() != 3 {
            return Err(fail(
                "HOTSPOTS takes CURSOR(...), windowSize, scanRadius, minimumNumberOfPointsInAHotspot",
            ));
        }
        format!(
            "(SELECT {}, `WEIR_MODEL`.HOTSPOTS_RESULT AS HOTSPOTS_RESULT FROM (SELECT \
             KDA_HOTSPOTS({site}, {}, {}) AS `WEIR_MODEL` FROM {rel}))",
            selected.join(", "),
            given.join(", "),
            pairs.join(", ")
        )
    } else {
        let explain = name == "RANDOM_CUT_FOREST_WITH_EXPLANATION";
        let most = if explain { 5 } else { 4 };
        if given.len() > most {
            return Err(fail(format!("{name} takes at most {} arguments", most + 1)));
        }
        let defaults = ["100", "256", "100000", "1", "FALSE"];
        for d in &defaults[given.len()..most] {
            given.push(d.to_string());
        }
        if !explain {
            given.push("FALSE".into());
        }
        let outputs = if explain {
            "`WEIR_MODEL`.ANOMALY_SCORE AS ANOMALY_SCORE, `WEIR_MODEL`.ANOMALY_EXPLANATION AS \
             ANOMALY_EXPLANATION"
        } else {
            "`WEIR_MODEL`.ANOMALY_SCORE AS ANOMALY_SCORE"
        };
        let (numbers, directions) = given.split_at(4);
        format!(
            "(SELECT {cols}, {outputs} FROM (SELECT KDA_RANDOM_CUT_FOREST({site}, {}, {}, {}, {}) \
             AS `WEIR_MODEL` FROM {rel}))",
            numbers.join(", "),
            if explain { "TRUE" } else { "FALSE" },
            directions.join(", "),
            pairs.join(", "),
            cols = selected.join(", "),
        )
    };
    Ok((super::kda::tokens(&sql)?, c.view))
}

#[cfg(test)]
mod tests {
    use super::super::kda::{translate, InAppStream};

    fn input() -> Vec<InAppStream> {
        vec![InAppStream {
            name: "SOURCE_SQL_STREAM_001".into(),
            columns: vec![
                ("heartRate".into(), "INTEGER".into()),
                ("rateType".into(), "VARCHAR(20)".into()),
            ],
        }]
    }

    #[test]
    fn model_functions_become_stateful_calls() {
        let code = r#"CREATE OR REPLACE STREAM "T" ("heartRate" INTEGER, "rateType" varchar(20), "ANOMALY_SCORE" DOUBLE);
CREATE OR REPLACE STREAM "D" ("heartRate" INTEGER, "rateType" varchar(20), "ANOMALY_SCORE" DOUBLE);
CREATE OR REPLACE PUMP "P" AS INSERT INTO "T" SELECT STREAM "heartRate", "rateType", ANOMALY_SCORE
  FROM TABLE(RANDOM_CUT_FOREST(CURSOR(SELECT STREAM * FROM "SOURCE_SQL_STREAM_001")));
CREATE OR REPLACE PUMP "O" AS INSERT INTO "D" SELECT STREAM * FROM "T"
  ORDER BY FLOOR("T".ROWTIME TO SECOND), ANOMALY_SCORE DESC;"#;
        let c = translate(code, &[], &input()).unwrap();
        let p = &c.pumps[0].insert;
        assert!(
            p.contains(
                "KDA_RANDOM_CUT_FOREST ( 'P#1' , 100 , 256 , 100000 , 1 , FALSE , FALSE , \
                 'heartRate' , `heartRate` , 'rateType' , `rateType` ) AS `WEIR_MODEL`"
            ),
            "{p}"
        );
        // `*` is the stream's columns; the time order goes (rows come in time order).
        assert_eq!(
            c.pumps[1].insert,
            "INSERT INTO `D` SELECT `heartRate` , `rateType` , `ANOMALY_SCORE` FROM `T`"
        );
        let code = r#"CREATE OR REPLACE STREAM "D" (CHANGE REAL, PRICE REAL, HOTSPOTS_RESULT VARCHAR(10000));
CREATE OR REPLACE PUMP "P" AS INSERT INTO "D" SELECT "CHANGE", "PRICE", "HOTSPOTS_RESULT"
  FROM TABLE (HOTSPOTS(CURSOR(SELECT STREAM "CHANGE", "PRICE" FROM "SOURCE_SQL_STREAM_001"), 100, 0.013, 20));
CREATE OR REPLACE PUMP "Q" AS INSERT INTO "D" SELECT STREAM 0, 0, ANOMALY_EXPLANATION
  FROM TABLE(RANDOM_CUT_FOREST_WITH_EXPLANATION(CURSOR(SELECT STREAM * FROM "SOURCE_SQL_STREAM_001"), 100, 256, 100000, 1, true));"#;
        let c = translate(code, &[], &input()).unwrap();
        assert!(
            c.pumps[0].insert.contains(
                "KDA_HOTSPOTS ( 'P#1' , 100 , 0.013 , 20 , 'CHANGE' , `CHANGE` , 'PRICE' , `PRICE` )"
            ),
            "{}",
            c.pumps[0].insert
        );
        assert!(
            c.pumps[1].insert.contains("1 , TRUE , TRUE , 'heartRate'"),
            "{}",
            c.pumps[1].insert
        );
        for bad in [
            "TABLE(HOTSPOTS(CURSOR(SELECT STREAM * FROM \"SOURCE_SQL_STREAM_001\"), 100))",
            "TABLE(RANDOM_CUT_FOREST(CURSOR(SELECT STREAM a + 1 FROM \"SOURCE_SQL_STREAM_001\")))",
        ] {
            let code = format!(
                "CREATE STREAM \"D\" (A INTEGER); CREATE PUMP \"P\" AS INSERT INTO \"D\" SELECT \
                 STREAM * FROM {bad};"
            );
            assert!(translate(&code, &[], &input()).is_err(), "{bad}");
        }
    }
}
