//! KDA's stagger windows (`WINDOWED BY STAGGER`) as the engine's fixed session windows.

use sqlparser::tokenizer::Token;

use super::kda::{closing, fail, is, split_commas, text};
use super::{token_sql, SqlError};

/// Views a statement reads: (name, query text).
pub type Views = Vec<(String, String)>;

/// `WINDOWED BY STAGGER (PARTITION BY e, ... RANGE INTERVAL ...)` (after `rewrite`, which made
/// its FLOORs DATE_TRUNCs) as a `STAGGER(TABLE r PARTITION BY e, ..., DESCRIPTOR(ROWTIME),
/// INTERVAL ...)` window grouped by its bounds and keys: a window per partition that opens with
/// its first row and closes the interval after it, as KDA's does.
pub(super) fn stagger(s: Vec<Token>, pump: &str) -> Result<(Vec<Token>, Views), SqlError> {
    let Some(at) = (0..s.len())
        .find(|&i| is(&s, i, "WINDOWED") && is(&s, i + 1, "BY") && is(&s, i + 2, "STAGGER"))
    else {
        return Ok((s, Vec::new()));
    };
    let usage = || fail("WINDOWED BY STAGGER needs (PARTITION BY ... RANGE INTERVAL ...)");
    if s.get(at + 3) != Some(&Token::LParen) {
        return Err(usage());
    }
    let end = closing(&s, at + 3)?;
    let spec = &s[at + 4..end];
    let range = (0..spec.len()).find(|&k| is(spec, k, "RANGE"));
    let (Some(range), true) = (range, is(spec, 0, "PARTITION") && is(spec, 1, "BY")) else {
        return Err(usage());
    };
    let interval = &spec[range + 1..];
    if !is(interval, 0, "INTERVAL") || range <= 2 {
        return Err(usage());
    }
    // Keys that are expressions become columns of a view over the relation (sessions are
    // partitioned by columns); the query names them by their alias.
    let mut query = s[..at].to_vec();
    let mut keys: Vec<Token> = Vec::new();
    let mut computed = Vec::new();
    for key in split_commas(&spec[2..range]) {
        if !keys.is_empty() {
            keys.push(Token::Comma);
        }
        match key {
            [.., last @ Token::Word(_)]
                if key
                    .iter()
                    .all(|t| matches!(t, Token::Word(_) | Token::Period)) =>
            {
                keys.push(last.clone())
            }
            _ => {
                let alias = Token::make_word(&format!("WEIR_KEY_{}", computed.len()), Some('`'));
                query = replace_run(&query, key, &alias);
                computed.push(format!("{} AS {}", text(key), token_sql(&alias)));
                keys.push(alias);
            }
        }
    }
    // The top query's FROM (not one inside EXTRACT(... FROM ...)).
    let mut depth = 0usize;
    let from = (0..query.len()).find(|&i| {
        match query[i] {
            Token::LParen => depth += 1,
            Token::RParen => depth = depth.saturating_sub(1),
            _ => {}
        }
        depth == 0 && is(&query, i, "FROM")
    });
    let relation = from.and_then(|f| match query.get(f + 1) {
        Some(t @ Token::Word(_)) if !matches!(query.get(f + 2), Some(Token::Period)) => {
            Some((f + 1, t.clone()))
        }
        _ => None,
    });
    let Some((r, relation)) = relation else {
        return Err(fail("WINDOWED BY STAGGER reads one stream"));
    };
    let alias = match query.get(r + 1) {
        Some(Token::Word(_)) if is(&query, r + 1, "AS") => query.get(r + 2).cloned(),
        Some(t @ Token::Word(w))
            if w.keyword == sqlparser::keywords::Keyword::NoKeyword || w.quote_style.is_some() =>
        {
            Some(t.clone())
        }
        _ => None,
    };
    let mut views = Vec::new();
    let read = if computed.is_empty() {
        relation.clone()
    } else {
        let view = format!(
            "weir_stagger_{}",
            pump.replace(|c: char| !c.is_ascii_alphanumeric(), "_")
        );
        views.push((
            view.clone(),
            format!(
                "SELECT *, {} FROM {} AS {}",
                computed.join(", "),
                token_sql(&relation),
                token_sql(alias.as_ref().unwrap_or(&relation))
            ),
        ));
        Token::make_word(&view, Some('`'))
    };
    // FROM TABLE(STAGGER(TABLE r PARTITION BY keys, DESCRIPTOR(ROWTIME), interval)) AS r
    let mut window = vec![
        Token::make_word("TABLE", None),
        Token::LParen,
        Token::make_word("STAGGER", None),
        Token::LParen,
        Token::make_word("TABLE", None),
        read,
        Token::make_word("PARTITION", None),
        Token::make_word("BY", None),
        Token::LParen,
    ];
    window.extend(keys.iter().cloned());
    window.extend([
        Token::RParen,
        Token::Comma,
        Token::make_word("DESCRIPTOR", None),
        Token::LParen,
        Token::make_word("ROWTIME", None),
        Token::RParen,
        Token::Comma,
    ]);
    window.extend_from_slice(interval);
    window.extend([Token::RParen, Token::RParen]);
    let aliased = is(&query, r + 1, "AS")
        || matches!(query.get(r + 1), Some(Token::Word(w))
            if w.keyword == sqlparser::keywords::Keyword::NoKeyword || w.quote_style.is_some());
    if !aliased {
        window.push(Token::make_word("AS", None));
        window.push(relation);
    }
    query.splice(r..=r, window);
    query.push(Token::make_word("GROUP", None));
    query.push(Token::make_word("BY", None));
    query.push(Token::make_word("window_start", None));
    query.push(Token::Comma);
    query.push(Token::make_word("window_end", None));
    query.push(Token::Comma);
    query.extend(keys);
    query.extend_from_slice(&s[end + 1..]);
    Ok((query, views))
}

/// `tokens` with every run equal to `run` replaced by `with`.
fn replace_run(tokens: &[Token], run: &[Token], with: &Token) -> Vec<Token> {
    let mut out = Vec::with_capacity(tokens.len());
    let mut i = 0;
    while i < tokens.len() {
        if !run.is_empty() && tokens[i..].starts_with(run) {
            out.push(with.clone());
            i += run.len();
        } else {
            out.push(tokens[i].clone());
            i += 1;
        }
    }
    out
}
