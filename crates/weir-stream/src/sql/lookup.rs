//! Flink's lookup (temporal) joins: `JOIN dim FOR SYSTEM_TIME AS OF o.proc_time [AS d] ON ...`.
//! The `FOR SYSTEM_TIME AS OF <column>` clause is taken out of the query (from tokens) and the
//! table it follows is named as a lookup table, which the planner reads as a whole.

use sqlparser::dialect::GenericDialect;
use sqlparser::tokenizer::{Token, Tokenizer};

use super::SqlError;

fn is_word(t: Option<&Token>, name: &str) -> bool {
    matches!(t, Some(Token::Word(w)) if w.quote_style.is_none() && w.value.eq_ignore_ascii_case(name))
}

/// The query without its `FOR SYSTEM_TIME AS OF` clauses, and the tables they followed.
pub fn extract_lookups(sql: &str) -> Result<(String, Vec<String>), SqlError> {
    let tokens = Tokenizer::new(&GenericDialect {}, sql)
        .tokenize()
        .map_err(|e| SqlError::Parse(e.to_string()))?;
    // The indexes of non-whitespace tokens.
    let solid: Vec<usize> = (0..tokens.len())
        .filter(|&i| !matches!(tokens[i], Token::Whitespace(_)))
        .collect();
    let mut drop = vec![false; tokens.len()];
    let mut tables = Vec::new();
    let mut k = 0;
    while k < solid.len() {
        let at = |j: usize| solid.get(k + j).map(|&i| &tokens[i]);
        if is_word(at(0), "FOR")
            && is_word(at(1), "SYSTEM_TIME")
            && is_word(at(2), "AS")
            && is_word(at(3), "OF")
        {
            // The table the clause follows: the word before FOR.
            let table = k
                .checked_sub(1)
                .and_then(|p| match &tokens[solid[p]] {
                    Token::Word(w) => Some(w.value.clone()),
                    _ => None,
                })
                .ok_or_else(|| {
                    SqlError::Parse("Expected: a table before FOR SYSTEM_TIME AS OF".into())
                })?;
            // The time attribute: an identifier chain `a.b`.
            let mut end = k + 4;
            if !matches!(solid.get(end).map(|&i| &tokens[i]), Some(Token::Word(_))) {
                return Err(SqlError::Parse(
                    "Expected: a time attribute after FOR SYSTEM_TIME AS OF".into(),
                ));
            }
            end += 1;
            while matches!(solid.get(end).map(|&i| &tokens[i]), Some(Token::Period))
                && matches!(
                    solid.get(end + 1).map(|&i| &tokens[i]),
                    Some(Token::Word(_))
                )
            {
                end += 2;
            }
            for d in &mut drop[solid[k]..=solid[end - 1]] {
                *d = true;
            }
            tables.push(table);
            k = end;
            continue;
        }
        k += 1;
    }
    let out: String = tokens
        .iter()
        .zip(&drop)
        .filter(|(_, d)| !**d)
        .map(|(t, _)| super::token_sql(t))
        .collect();
    Ok((out, tables))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_clauses_are_taken_out() {
        let (sql, tables) = extract_lookups(
            "SELECT o.id, c.name FROM orders AS o JOIN customers FOR SYSTEM_TIME AS OF o.proc_time AS c \
             ON o.cid = c.id WHERE c.name <> 'for system_time as of'",
        )
        .unwrap();
        assert_eq!(tables, vec!["customers".to_string()]);
        assert_eq!(
            sql,
            "SELECT o.id, c.name FROM orders AS o JOIN customers  AS c ON o.cid = c.id WHERE \
             c.name <> 'for system_time as of'"
        );
        assert!(extract_lookups("SELECT * FROM a JOIN b FOR SYSTEM_TIME AS OF").is_err());
        assert_eq!(extract_lookups("SELECT 1").unwrap().1, Vec::<String>::new());
    }
}
