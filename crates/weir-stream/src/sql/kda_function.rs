//! KDA's SQL functions, `CREATE FUNCTION f(p TYPE, ...) RETURNS TYPE ... CONTAINS SQL ...
//! RETURN expr`, expanded where they are called: `f(a, ...)` becomes `CAST((expr with each
//! parameter replaced by its argument in parentheses) AS TYPE)` (with RETURNS NULL ON NULL
//! INPUT, NULL when an argument is). A function may call those defined before it.

use sqlparser::tokenizer::Token;

use super::kda::{closing, fail, flink_type, is, split_commas};
use super::SqlError;

/// A function read from `CREATE FUNCTION`.
#[derive(Debug, Clone)]
pub struct SqlFunction {
    name: Token,
    /// Each parameter's name and type (Flink DDL text).
    params: Vec<(String, String)>,
    returns: String,
    null_on_null: bool,
    body: Vec<Token>,
}

const CLAUSES: [&str; 9] = [
    "LANGUAGE",
    "SPECIFIC",
    "DETERMINISTIC",
    "NOT",
    "CONTAINS",
    "READS",
    "MODIFIES",
    "CALLED",
    "RETURN",
];

/// Reads `CREATE FUNCTION` from `s[at]` (after FUNCTION), expanding the functions before it.
pub fn function(s: &[Token], at: usize, before: &[SqlFunction]) -> Result<SqlFunction, SqlError> {
    let usage =
        || fail("CREATE FUNCTION name (parameter TYPE, ...) RETURNS TYPE ... RETURN expression");
    let name = match s.get(at) {
        Some(t @ Token::Word(_)) => t.clone(),
        _ => return Err(usage()),
    };
    if s.get(at + 1) != Some(&Token::LParen) {
        return Err(usage());
    }
    let close = closing(s, at + 1)?;
    let mut params = Vec::new();
    for p in split_commas(&s[at + 2..close]) {
        match p {
            [Token::Word(w), ty @ ..] if !ty.is_empty() => {
                params.push((w.value.clone(), flink_type(ty)))
            }
            _ => return Err(usage()),
        }
    }
    if !is(s, close + 1, "RETURNS") {
        return Err(usage());
    }
    let type_end = (close + 2..s.len())
        .find(|&i| CLAUSES.iter().any(|c| is(s, i, c)) || is(s, i, "RETURNS"))
        .ok_or_else(usage)?;
    let returns = flink_type(&s[close + 2..type_end]);
    let ret = (type_end..s.len())
        .find(|&i| is(s, i, "RETURN"))
        .ok_or_else(usage)?;
    let clauses = &s[type_end..ret];
    let null_on_null = (0..clauses.len()).any(|i| {
        is(clauses, i, "RETURNS") && is(clauses, i + 1, "NULL") && is(clauses, i + 2, "ON")
    });
    let body = expand(&s[ret + 1..], before)?;
    if body.is_empty() {
        return Err(usage());
    }
    Ok(SqlFunction {
        name,
        params,
        returns,
        null_on_null,
        body,
    })
}

/// `tokens` with every call of `functions` replaced by its expression.
pub fn expand(tokens: &[Token], functions: &[SqlFunction]) -> Result<Vec<Token>, SqlError> {
    if functions.is_empty() {
        return Ok(tokens.to_vec());
    }
    let mut out = Vec::with_capacity(tokens.len());
    let mut i = 0;
    while i < tokens.len() {
        let called = functions
            .iter()
            .rev()
            .find(|f| f.name == tokens[i] && tokens.get(i + 1) == Some(&Token::LParen));
        let Some(f) = called else {
            out.push(tokens[i].clone());
            i += 1;
            continue;
        };
        let close = closing(tokens, i + 1)?;
        let args: Vec<Vec<Token>> = if close == i + 2 {
            Vec::new()
        } else {
            split_commas(&tokens[i + 2..close])
                .into_iter()
                .map(|a| expand(a, functions))
                .collect::<Result<_, _>>()?
        };
        if args.len() != f.params.len() {
            return Err(fail(format!(
                "Function {} takes {} arguments, not {}",
                super::token_sql(&f.name),
                f.params.len(),
                args.len()
            )));
        }
        // A parameter is a name in the body, not a field (`x.p`) nor a function (`p(`); its
        // argument comes cast to the parameter's type, as KDA passes exact types.
        let mut body = Vec::with_capacity(f.body.len());
        for (k, t) in f.body.iter().enumerate() {
            let param = match t {
                Token::Word(w)
                    if !(k > 0 && f.body[k - 1] == Token::Period)
                        && f.body.get(k + 1) != Some(&Token::LParen) =>
                {
                    f.params.iter().position(|(p, _)| *p == w.value)
                }
                _ => None,
            };
            match param {
                Some(p) => {
                    let cast = format!("CAST(({}) AS {})", tokens_text(&args[p]), f.params[p].1);
                    body.push(Token::LParen);
                    body.extend(super::kda::tokens(&cast)?);
                    body.push(Token::RParen);
                }
                None => body.push(t.clone()),
            }
        }
        let mut sql = format!("CAST(({}) AS {})", tokens_text(&body), f.returns);
        if f.null_on_null && !args.is_empty() {
            let nulls: Vec<String> = args
                .iter()
                .map(|a| format!("({}) IS NULL", tokens_text(a)))
                .collect();
            sql = format!("CASE WHEN {} THEN NULL ELSE {sql} END", nulls.join(" OR "));
        }
        out.extend(super::kda::tokens(&sql)?);
        i = close + 1;
    }
    Ok(out)
}

fn tokens_text(tokens: &[Token]) -> String {
    tokens
        .iter()
        .map(super::token_sql)
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::super::kda::translate;

    #[test]
    fn functions_are_expanded_where_called() {
        let code = r#"CREATE FUNCTION get_fraction( degrees DOUBLE )
                RETURNS DOUBLE
                CONTAINS SQL
                RETURN degrees - FLOOR(degrees);
            CREATE OR REPLACE FUNCTION "twice"(x DOUBLE) RETURNS DOUBLE LANGUAGE SQL
                RETURNS NULL ON NULL INPUT CONTAINS SQL RETURN get_fraction(x) * 2;
            CREATE STREAM "D" (f DOUBLE, t DOUBLE);
            CREATE PUMP "P" AS INSERT INTO "D"
                SELECT STREAM get_fraction(price), "twice"(price + 1) FROM "S";"#;
        let c = translate(code, &[], &[]).unwrap();
        let p = &c.pumps[0].insert;
        assert!(
            p.contains(
                "CAST ( ( ( CAST ( ( PRICE ) AS DOUBLE ) ) - FLOOR ( ( CAST ( ( PRICE ) AS DOUBLE ) \
                 ) ) ) AS DOUBLE )"
            ),
            "{p}"
        );
        // The NULL check, and the inner function's argument cast to its parameter's type.
        assert!(
            p.contains("CASE WHEN ( PRICE + 1 ) IS NULL THEN NULL ELSE CAST ( ( CAST ( ( ( CAST ("),
            "{p}"
        );
        assert!(p.contains("CAST ( ( PRICE + 1 ) AS DOUBLE )"), "{p}");
        let bad = "CREATE FUNCTION f(x DOUBLE) RETURNS DOUBLE CONTAINS SQL RETURN x; \
                   CREATE STREAM \"D\" (f DOUBLE); CREATE PUMP \"P\" AS INSERT INTO \"D\" \
                   SELECT STREAM f(1, 2) FROM \"S\";";
        assert!(translate(bad, &[], &[]).is_err());
    }
}
