//! Flink's window table-valued functions, which sqlparser cannot read:
//! `TABLE(TUMBLE(TABLE t, DESCRIPTOR(ts), size [, offset]))`, `HOP(..., slide, size [, offset])`,
//! `CUMULATE(..., step, size [, offset])`, `SESSION(TABLE t [PARTITION BY (k, ...)],
//! DESCRIPTOR(ts), gap)`, with positional or named arguments (`DATA => TABLE t`, `TIMECOL =>
//! DESCRIPTOR(ts)`, `SIZE =>`, `SLIDE =>`, `STEP =>`, `GAP =>`, `OFFSET =>`). Each call is taken
//! out of the query and replaced by a relation name the planner resolves to the windowed table.

use sqlparser::dialect::GenericDialect;
use sqlparser::keywords::Keyword;
use sqlparser::tokenizer::{Token, Tokenizer};

use super::SqlError;

/// Which window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WindowKind {
    Tumble,
    Hop,
    Cumulate,
    Session,
}

/// One window TVF call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WindowTvf {
    pub kind: WindowKind,
    /// The relation the call stands for in the rewritten query.
    pub relation: String,
    pub table: String,
    /// SESSION's `PARTITION BY` columns.
    pub partition_by: Vec<String>,
    pub time_column: String,
    /// TUMBLE's size, HOP's and CUMULATE's size, SESSION's gap (SQL text).
    pub size: String,
    /// HOP's slide, CUMULATE's step.
    pub step: Option<String>,
    pub offset: Option<String>,
    /// Weir's `STAGGER(...)` (KDA's stagger windows): a SESSION whose window lasts its gap
    /// from its first row, however rows keep coming.
    pub fixed: bool,
}

/// The query with each window TVF replaced by `__weir_window_<n>` (numbered from `first`),
/// and the calls.
pub fn extract_window_tvfs(sql: &str, first: usize) -> Result<(String, Vec<WindowTvf>), SqlError> {
    let tokens = Tokenizer::new(&GenericDialect {}, sql)
        .tokenize()
        .map_err(|e| SqlError::Parse(e.to_string()))?;
    let mut out = String::new();
    let mut calls = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        if let Some((call, end)) = window_call(&tokens, i, first + calls.len())? {
            out.push_str(&call.relation);
            calls.push(call);
            i = end;
            continue;
        }
        out.push_str(&super::token_sql(&tokens[i]));
        i += 1;
    }
    Ok((out, calls))
}

/// Index of the next non-whitespace token at or after `i`.
fn skip(tokens: &[Token], mut i: usize) -> usize {
    while matches!(tokens.get(i), Some(Token::Whitespace(_))) {
        i += 1;
    }
    i
}

fn is_word(t: Option<&Token>, name: &str) -> bool {
    matches!(t, Some(Token::Word(w)) if w.quote_style.is_none() && w.value.eq_ignore_ascii_case(name))
}

/// `TABLE ( KIND ( args ) )` starting at `i`: the call and the index after it.
fn window_call(
    tokens: &[Token],
    i: usize,
    n: usize,
) -> Result<Option<(WindowTvf, usize)>, SqlError> {
    if !matches!(tokens.get(i), Some(Token::Word(w)) if w.keyword == Keyword::TABLE && w.quote_style.is_none())
    {
        return Ok(None);
    }
    let open = skip(tokens, i + 1);
    if tokens.get(open) != Some(&Token::LParen) {
        return Ok(None);
    }
    let name_at = skip(tokens, open + 1);
    let kind = match tokens.get(name_at) {
        t if is_word(t, "TUMBLE") => WindowKind::Tumble,
        t if is_word(t, "HOP") => WindowKind::Hop,
        t if is_word(t, "CUMULATE") => WindowKind::Cumulate,
        t if is_word(t, "SESSION") || is_word(t, "STAGGER") => WindowKind::Session,
        _ => return Ok(None),
    };
    let fixed = is_word(tokens.get(name_at), "STAGGER");
    let args_open = skip(tokens, name_at + 1);
    if tokens.get(args_open) != Some(&Token::LParen) {
        return Ok(None);
    }
    let (args, after_args) = split_args(tokens, args_open + 1)?;
    let close = skip(tokens, after_args);
    if tokens.get(close) != Some(&Token::RParen) {
        return Err(SqlError::Parse(
            "Expected: ) after the window function".into(),
        ));
    }
    let mut call = window_from_args(kind, args, format!("__weir_window_{n}"))?;
    call.fixed = fixed;
    Ok(Some((call, close + 1)))
}

/// The arguments up to the matching `)` (split at depth-0 commas), and the index after it.
fn split_args(tokens: &[Token], mut i: usize) -> Result<(Vec<Vec<Token>>, usize), SqlError> {
    let (mut args, mut arg, mut depth) = (Vec::new(), Vec::new(), 0usize);
    while let Some(t) = tokens.get(i) {
        i += 1;
        match t {
            Token::LParen => depth += 1,
            Token::RParen if depth == 0 => {
                args.push(arg);
                return Ok((args, i));
            }
            Token::RParen => depth -= 1,
            Token::Comma if depth == 0 => {
                args.push(std::mem::take(&mut arg));
                continue;
            }
            _ => {}
        }
        arg.push(t.clone());
    }
    Err(SqlError::Parse("Expected: ), found: EOF".into()))
}

fn text(tokens: &[Token]) -> String {
    tokens
        .iter()
        .map(super::token_sql)
        .collect::<String>()
        .trim()
        .to_string()
}

fn window_from_args(
    kind: WindowKind,
    args: Vec<Vec<Token>>,
    relation: String,
) -> Result<WindowTvf, SqlError> {
    let mut w = WindowTvf {
        kind,
        relation,
        table: String::new(),
        partition_by: Vec::new(),
        time_column: String::new(),
        size: String::new(),
        step: None,
        offset: None,
        fixed: false,
    };
    // Positional parameters after DATA and TIMECOL, by window kind.
    let positional: &[&str] = match kind {
        WindowKind::Tumble => &["SIZE", "OFFSET"],
        WindowKind::Hop => &["SLIDE", "SIZE", "OFFSET"],
        WindowKind::Cumulate => &["STEP", "SIZE", "OFFSET"],
        WindowKind::Session => &["GAP"],
    };
    let mut next_positional = 0;
    for arg in args {
        let toks: Vec<Token> = arg
            .iter()
            .filter(|t| !matches!(t, Token::Whitespace(_)))
            .cloned()
            .collect();
        // `NAME => value`; `raw` keeps the value's whitespace for its text.
        let (name, value, raw) = match (toks.first(), toks.get(1)) {
            (Some(Token::Word(word)), Some(Token::RArrow)) => {
                let after = arg
                    .iter()
                    .position(|t| *t == Token::RArrow)
                    .map_or(0, |p| p + 1);
                (
                    Some(word.value.to_ascii_uppercase()),
                    &toks[2..],
                    &arg[after..],
                )
            }
            _ => (None, &toks[..], &arg[..]),
        };
        match value.first() {
            Some(Token::Word(t)) if t.keyword == Keyword::TABLE && t.quote_style.is_none() => {
                read_table(&mut w, &value[1..])?;
            }
            Some(t) if is_word(Some(t), "DESCRIPTOR") => match value {
                [_, Token::LParen, Token::Word(c), Token::RParen] => {
                    w.time_column = c.value.clone()
                }
                _ => return Err(SqlError::Parse("Expected: DESCRIPTOR(column)".into())),
            },
            Some(_) => {
                let param = match name {
                    Some(n) => n,
                    None => positional
                        .get(next_positional)
                        .map(|p| p.to_string())
                        .ok_or_else(|| {
                            SqlError::Parse(format!("Too many arguments for {kind:?}"))
                        })?,
                };
                next_positional += 1;
                let v = text(raw);
                match (kind, param.as_str()) {
                    (_, "SIZE") | (WindowKind::Session, "GAP") => w.size = v,
                    (WindowKind::Hop, "SLIDE") | (WindowKind::Cumulate, "STEP") => w.step = Some(v),
                    (WindowKind::Session, "OFFSET") => {
                        return Err(SqlError::Parse("SESSION takes no OFFSET".into()))
                    }
                    (_, "OFFSET") => w.offset = Some(v),
                    (_, other) => {
                        return Err(SqlError::Parse(format!(
                            "Unknown parameter {other} for {kind:?}"
                        )))
                    }
                }
            }
            None => return Err(SqlError::Parse(format!("An argument of {kind:?} is empty"))),
        }
    }
    let needs_step = matches!(kind, WindowKind::Hop | WindowKind::Cumulate);
    if w.table.is_empty()
        || w.time_column.is_empty()
        || w.size.is_empty()
        || (needs_step && w.step.is_none())
    {
        return Err(SqlError::Parse(format!(
            "{kind:?} needs a TABLE, a DESCRIPTOR(time column) and its intervals"
        )));
    }
    Ok(w)
}

/// `name [PARTITION BY (a, b) | PARTITION BY a]` after `TABLE`.
fn read_table(w: &mut WindowTvf, toks: &[Token]) -> Result<(), SqlError> {
    let mut i = 0;
    let mut name = Vec::new();
    while let Some(Token::Word(part)) = toks.get(i) {
        if part.keyword == Keyword::PARTITION && part.quote_style.is_none() {
            break;
        }
        name.push(part.value.clone());
        i += 1;
        if toks.get(i) == Some(&Token::Period) {
            i += 1;
        } else {
            break;
        }
    }
    if name.is_empty() {
        return Err(SqlError::Parse("Expected: a table name after TABLE".into()));
    }
    // Tables live in one catalog and database: `cat.db.t` names `t`.
    w.table = name.pop().unwrap_or_default();
    if is_word(toks.get(i), "PARTITION") && is_word(toks.get(i + 1), "BY") {
        for t in &toks[i + 2..] {
            if let Token::Word(c) = t {
                w.partition_by.push(c.value.clone());
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_are_taken_out_of_the_query() {
        let (sql, calls) = extract_window_tvfs(
            "SELECT window_start, window_end, SUM(price) FROM TABLE(
               TUMBLE(TABLE Bid, DESCRIPTOR(bidtime), INTERVAL '10' MINUTES))
             GROUP BY window_start, window_end",
            0,
        )
        .expect("tumble");
        assert!(sql.contains("FROM __weir_window_0\n"), "{sql}");
        assert_eq!(calls[0].kind, WindowKind::Tumble);
        assert_eq!(
            (calls[0].table.as_str(), calls[0].time_column.as_str()),
            ("Bid", "bidtime")
        );
        assert_eq!(calls[0].size, "INTERVAL '10' MINUTES");

        let (_, calls) = extract_window_tvfs(
            "SELECT * FROM TABLE(HOP(DATA => TABLE db.Bid, TIMECOL => DESCRIPTOR(bidtime),
               SLIDE => INTERVAL '5' MINUTES, SIZE => INTERVAL '10' MINUTES))",
            0,
        )
        .expect("hop");
        assert_eq!(
            (
                calls[0].table.as_str(),
                calls[0].step.as_deref(),
                calls[0].size.as_str()
            ),
            ("Bid", Some("INTERVAL '5' MINUTES"), "INTERVAL '10' MINUTES")
        );

        let (_, calls) = extract_window_tvfs("SELECT * FROM TABLE(CUMULATE(TABLE Bid, DESCRIPTOR(bidtime), INTERVAL '2' MINUTES, INTERVAL '10' MINUTES))
             UNION ALL SELECT * FROM TABLE(SESSION(TABLE Bid PARTITION BY (item, bidder), DESCRIPTOR(bidtime), INTERVAL '5' MINUTES))", 0)
        .expect("cumulate and session");
        assert_eq!(calls.len(), 2);
        assert_eq!(calls[0].step.as_deref(), Some("INTERVAL '2' MINUTES"));
        assert_eq!(calls[1].relation, "__weir_window_1");
        assert_eq!(calls[1].partition_by, ["item", "bidder"]);
        assert_eq!(calls[1].size, "INTERVAL '5' MINUTES");
    }

    #[test]
    fn other_table_functions_and_literals_stay() {
        let q = "SELECT 'TABLE(TUMBLE(TABLE x, DESCRIPTOR(t), INTERVAL ''1'' SECOND))' AS s FROM TABLE(generate_series(1, 3))";
        let (sql, calls) = extract_window_tvfs(q, 0).expect("parse");
        assert!(calls.is_empty());
        assert_eq!(sql, q);
    }

    #[test]
    fn mistakes_are_named() {
        for (q, want) in [
            ("SELECT * FROM TABLE(TUMBLE(TABLE t, DESCRIPTOR(ts)))", "needs a TABLE"),
            ("SELECT * FROM TABLE(HOP(TABLE t, DESCRIPTOR(ts), INTERVAL '1' MINUTE))", "needs a TABLE"),
            ("SELECT * FROM TABLE(SESSION(TABLE t, DESCRIPTOR(ts), INTERVAL '1' MINUTE, INTERVAL '1' MINUTE))", "Too many arguments"),
            ("SELECT * FROM TABLE(TUMBLE(TABLE t, DESCRIPTOR(ts), INTERVAL '1' MINUTE)", "Expected: ) after"),
        ] {
            let e = extract_window_tvfs(q, 0).expect_err(q).to_string();
            assert!(e.contains(want), "{q}: {e}");
        }
    }
}
