//! KDA's stream-to-stream joins: a relation windowed `OVER (RANGE INTERVAL ... PRECEDING)`
//! in a join becomes a bound on the other side's ROWTIME, which the engine runs as an
//! interval join.

use sqlparser::tokenizer::Token;

use super::kda::{closing, fail, is, text};
use super::SqlError;

/// What ends a join's ON condition.
const ON_ENDS: [&str; 14] = [
    "WHERE", "GROUP", "HAVING", "WINDOW", "ORDER", "LIMIT", "UNION", "JOIN", "LEFT", "RIGHT",
    "INNER", "FULL", "CROSS", "NATURAL",
];

/// A stream-to-stream join: `FROM L [AS l] JOIN R OVER (RANGE INTERVAL ... PRECEDING) [AS r]
/// ON c` (either side or both windowed) becomes an interval join: `ON (c) AND r.ROWTIME BETWEEN
/// l.ROWTIME - <R's window> AND l.ROWTIME + <L's window>` (a side without a window: none).
pub(super) fn stream_windows(s: &[Token]) -> Result<Vec<Token>, SqlError> {
    // (relation or alias, its window's interval tokens) in FROM order.
    let mut relations: Vec<(String, Option<Vec<Token>>)> = Vec::new();
    let mut out = Vec::with_capacity(s.len());
    let mut on_at = None;
    let mut windowed = false;
    // Only the top query's relations (FROM inside EXTRACT(...), SUBSTRING(...) is not one).
    let mut level = 0usize;
    let mut i = 0;
    while i < s.len() {
        match s[i] {
            Token::LParen => level += 1,
            Token::RParen => level = level.saturating_sub(1),
            _ => {}
        }
        let relation_start = level == 0 && i > 0 && (is(s, i - 1, "FROM") || is(s, i - 1, "JOIN"));
        if let (true, Some(Token::Word(w))) = (relation_start, s.get(i)) {
            let mut name = w.value.clone();
            out.push(s[i].clone());
            i += 1;
            let mut window = None;
            if is(s, i, "OVER") && s.get(i + 1) == Some(&Token::LParen) {
                let end = closing(s, i + 1)?;
                let spec = &s[i + 2..end];
                let ok = is(spec, 0, "RANGE")
                    && is(spec, 1, "INTERVAL")
                    && spec.len() > 3
                    && is(spec, spec.len() - 1, "PRECEDING");
                if !ok {
                    return Err(fail(format!(
                        "A stream's window in a join must be OVER (RANGE INTERVAL ... PRECEDING), \
                         found: {}",
                        text(spec)
                    )));
                }
                window = Some(spec[1..spec.len() - 1].to_vec());
                windowed = true;
                i = end + 1;
            }
            let explicit = is(s, i, "AS");
            if explicit {
                out.push(s[i].clone());
                i += 1;
            }
            if let Some(Token::Word(alias)) = s.get(i) {
                // Without AS, a keyword after the relation is the next clause.
                let keyword = alias.keyword != sqlparser::keywords::Keyword::NoKeyword
                    && alias.quote_style.is_none();
                if explicit || !keyword {
                    name = alias.value.clone();
                    out.push(s[i].clone());
                    i += 1;
                }
            }
            relations.push((name, window));
            continue;
        }
        if is(s, i, "ON") && on_at.is_none() {
            out.push(s[i].clone());
            out.push(Token::LParen);
            on_at = Some(out.len());
            i += 1;
            // The condition runs to the clause after it.
            let mut depth = 0usize;
            while i < s.len() {
                match &s[i] {
                    Token::LParen => depth += 1,
                    Token::RParen if depth == 0 => break,
                    Token::RParen => depth -= 1,
                    _ if depth == 0 && ON_ENDS.iter().any(|k| is(s, i, k)) => break,
                    _ => {}
                }
                out.push(s[i].clone());
                i += 1;
            }
            out.push(Token::RParen);
            out.push(Token::make_word("__WEIR_BOUNDS__", None));
            continue;
        }
        out.push(s[i].clone());
        i += 1;
    }
    let marker = out
        .iter()
        .position(|t| matches!(t, Token::Word(w) if w.value == "__WEIR_BOUNDS__"));
    if !windowed {
        return Ok(s.to_vec());
    }
    let Some(marker) = marker else {
        return Err(fail(
            "A stream's window OVER (...) needs a join ON a condition",
        ));
    };
    let bounds = match relations.as_slice() {
        [(l, lw), (r, rw)] => {
            let time = |name: &str| {
                vec![
                    Token::make_word(name, Some('`')),
                    Token::Period,
                    Token::make_word("ROWTIME", None),
                ]
            };
            let mut b = vec![Token::make_word("AND", None)];
            b.extend(time(r));
            b.push(Token::make_word("BETWEEN", None));
            b.extend(time(l));
            if let Some(w) = rw {
                b.push(Token::Minus);
                b.extend(w.iter().cloned());
            }
            b.push(Token::make_word("AND", None));
            b.extend(time(l));
            if let Some(w) = lw {
                b.push(Token::Plus);
                b.extend(w.iter().cloned());
            }
            b
        }
        _ => {
            return Err(fail(
                "Weir joins two streams with windows (OVER (RANGE ...)); not more",
            ))
        }
    };
    out.splice(marker..=marker, bounds);
    Ok(out)
}
