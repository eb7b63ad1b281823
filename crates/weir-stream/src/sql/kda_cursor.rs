//! KDA's analytic table functions over a stream pointer, `TABLE(F(CURSOR(SELECT STREAM * FROM
//! "S"), ...))`, as the windowed queries they compute (Top-K exactly, where KDA approximates):
//! - `TOP_K_ITEMS_TUMBLING(cursor, 'col', k, seconds)`: per tumbling window, the `k` most
//!   frequent values of `col` and their counts (columns `col`, `ITEM_COUNT`), a window Top-N
//!   over a window count;
//! - `COUNT_DISTINCT_ITEMS_TUMBLING(cursor, 'col', seconds)`: per tumbling window, the number
//!   of distinct values (`NUMBER_OF_DISTINCT_ITEMS`), exact up to 10,000 items and
//!   HyperLogLog past that, as KDA's (`crate::kda_distinct`).

use sqlparser::tokenizer::Token;

use super::kda::{closing, fail, split_commas, InAppStream};
use super::kda_stagger::Views;
use super::SqlError;

/// The first token outside parentheses for which `f` holds.
fn at_top(tokens: &[Token], mut f: impl FnMut(&Token) -> bool) -> Option<usize> {
    let mut depth = 0i32;
    tokens.iter().position(|t| {
        match t {
            Token::LParen => depth += 1,
            Token::RParen => depth -= 1,
            _ => {}
        }
        depth == 0 && f(t)
    })
}

pub(super) fn word(t: Option<&Token>) -> Option<&str> {
    match t {
        Some(Token::Word(w)) if w.quote_style.is_none() => Some(w.value.as_str()),
        _ => None,
    }
}

/// The statement with its `TABLE(F(CURSOR(...), ...))` calls replaced by their queries.
/// `streams` are the streams whose columns a cursor's `*` may stand for; `site` (the pump's
/// name) names the statement's models (machine-learning functions, `kda_models`) and the
/// views of its cursors that are more than a stream.
pub fn table_functions(
    s: &[Token],
    streams: &[InAppStream],
    site: &str,
) -> Result<(Vec<Token>, Views), SqlError> {
    let mut out = Vec::with_capacity(s.len());
    let mut views = Views::new();
    let mut i = 0;
    let mut calls = 0;
    while i < s.len() {
        let call = word(s.get(i + 2)).unwrap_or_default();
        let model = super::kda_models::FUNCTIONS.contains(&call);
        let is_call = word(s.get(i)) == Some("TABLE")
            && s.get(i + 1) == Some(&Token::LParen)
            && s.get(i + 3) == Some(&Token::LParen)
            && (model
                || matches!(
                    call,
                    "TOP_K_ITEMS_TUMBLING" | "COUNT_DISTINCT_ITEMS_TUMBLING"
                ));
        if !is_call {
            out.push(s[i].clone());
            i += 1;
            continue;
        }
        let end = closing(s, i + 1)?;
        let args_end = closing(s, i + 3)?;
        let args = &s[i + 4..args_end];
        calls += 1;
        // Named by the pump (its hash keeps "A-B" and "A_B" apart).
        let view = format!(
            "weir_cursor_{}_{:08x}_{calls}",
            site.replace(|c: char| !c.is_ascii_alphanumeric(), "_"),
            site.bytes().fold(0x811c_9dc5u32, |h, b| (h ^ u32::from(b))
                .wrapping_mul(0x0100_0193))
        );
        let (tokens, cursor_view) = if model {
            let site = format!("{site}#{calls}");
            super::kda_models::expand(call, args, streams, &site, &view)?
        } else {
            expand(call, args, streams, &view)?
        };
        out.extend(tokens);
        views.extend(cursor_view);
        i = end + 1;
    }
    Ok((out, views))
}

/// A table function's query, and the view its cursor needs (name, query).
pub(super) type Expanded = (Vec<Token>, Option<(String, String)>);

/// A cursor's relation: the stream it reads, or a view of its query (with `ROWTIME`).
pub(super) struct Cursor {
    pub relation: Token,
    /// The columns it returns (`*`: the stream's, when known).
    pub columns: Vec<String>,
    /// Where the cursor's `)` is in the arguments.
    pub end: usize,
    pub view: Option<(String, String)>,
}

/// Reads `CURSOR(SELECT [STREAM] list FROM "S" [...])` at the start of `args`: a plain `*` of
/// a stream is the stream; anything else (columns, expressions named with AS, WHERE) becomes
/// view `view`.
pub(super) fn cursor(
    args: &[Token],
    streams: &[InAppStream],
    name: &str,
    view: &str,
) -> Result<Cursor, SqlError> {
    let usage = || {
        fail(format!(
            "{name} reads CURSOR(SELECT STREAM columns FROM \"stream\" ...), its columns named \
             (a column, or an expression AS a name)"
        ))
    };
    if word(args.first()) != Some("CURSOR") || args.get(1) != Some(&Token::LParen) {
        return Err(usage());
    }
    let end = closing(args, 1).map_err(|_| usage())?;
    let mut q: Vec<Token> = args[2..end].to_vec();
    if word(q.first()) != Some("SELECT") {
        return Err(usage());
    }
    if word(q.get(1)) == Some("STREAM") {
        q.remove(1);
    }
    let from = at_top(&q, |t| word(Some(t)) == Some("FROM")).ok_or_else(usage)?;
    let Some(Token::Word(rel)) = q.get(from + 1) else {
        return Err(usage());
    };
    let rel_columns = || -> Vec<String> {
        streams
            .iter()
            .find(|s| s.name == rel.value)
            .map(|s| s.columns.iter().map(|(c, _)| c.clone()).collect())
            // Not known yet (code checked before its input is added): refused at start.
            .unwrap_or_default()
    };
    let list = &q[1..from];
    let star = list == [Token::Mul];
    if star && q.len() == from + 2 {
        return Ok(Cursor {
            relation: Token::Word(rel.clone()),
            columns: rel_columns(),
            end,
            view: None,
        });
    }
    let columns = if star {
        rel_columns()
    } else {
        let mut out = Vec::new();
        for item in split_commas(list) {
            match item {
                [.., Token::Word(w)]
                    if item.len() == 1
                        || (item.len() >= 3 && word(item.get(item.len() - 2)) == Some("AS"))
                        || item[..item.len() - 1].iter().enumerate().all(|(k, t)| {
                            matches!((k % 2, t), (0, Token::Word(_)) | (1, Token::Period))
                        }) =>
                {
                    out.push(w.value.clone())
                }
                _ => return Err(usage()),
            }
        }
        out
    };
    let mut select: Vec<Token> = q.clone();
    if !star && !columns.iter().any(|c| c == "ROWTIME") {
        // The view keeps the rows' time for the window after it.
        select.splice(
            from..from,
            [Token::Comma, Token::make_word("ROWTIME", None)],
        );
    }
    // The view's query is KDA's too (TO_TIMESTAMP, FLOOR(t TO unit), SIMILAR TO, ...).
    let select = super::kda::rewrite(&select, &[])?;
    let text = select
        .iter()
        .map(super::token_sql)
        .collect::<Vec<_>>()
        .join(" ");
    Ok(Cursor {
        relation: Token::make_word(view, Some('`')),
        columns,
        end,
        view: Some((view.to_string(), text)),
    })
}

/// `CURSOR(...), 'col', [k,] seconds` → the function's query in parentheses.
fn expand(
    name: &str,
    args: &[Token],
    streams: &[InAppStream],
    view: &str,
) -> Result<Expanded, SqlError> {
    let usage = || {
        fail(format!(
            "{name} takes CURSOR(SELECT STREAM * FROM \"stream\"), 'column'{}, window seconds",
            if name == "TOP_K_ITEMS_TUMBLING" {
                ", K"
            } else {
                ""
            }
        ))
    };
    let c = cursor(args, streams, name, view)?;
    let (relation, cursor_end) = (c.relation, c.end);
    let rest: Vec<&Token> = args[cursor_end + 1..]
        .iter()
        .filter(|t| **t != Token::Comma)
        .collect();
    let number = |t: &Token| match t {
        Token::Number(n, _) => n.parse::<u64>().ok(),
        _ => None,
    };
    let (column, k, seconds) = match (name, rest.as_slice()) {
        ("TOP_K_ITEMS_TUMBLING", [Token::SingleQuotedString(c), k, w]) => {
            (c.clone(), number(k), number(w))
        }
        ("COUNT_DISTINCT_ITEMS_TUMBLING", [Token::SingleQuotedString(c), w]) => {
            (c.clone(), Some(1), number(w))
        }
        _ => return Err(usage()),
    };
    let (Some(k), Some(seconds)) = (k, seconds) else {
        return Err(usage());
    };
    if !(1..=100_000).contains(&k) || !(1..=3600).contains(&seconds) {
        return Err(fail(format!(
            "{name}: K must be 1 to 100000 and the window 1 to 3600 seconds"
        )));
    }
    let col = format!("`{}`", column.replace('`', "``"));
    let rel = super::token_sql(&relation);
    let window =
        format!("TABLE(TUMBLE(TABLE {rel}, DESCRIPTOR(ROWTIME), INTERVAL '{seconds}' SECOND))");
    let sql = if name == "TOP_K_ITEMS_TUMBLING" {
        format!(
            "(SELECT {col}, ITEM_COUNT FROM (SELECT {col}, ITEM_COUNT, ROW_NUMBER() OVER \
             (PARTITION BY window_start, window_end ORDER BY ITEM_COUNT DESC) AS WEIR_RANK \
             FROM (SELECT window_start, window_end, {col}, COUNT(*) AS ITEM_COUNT FROM \
             {window} GROUP BY window_start, window_end, {col})) WHERE WEIR_RANK <= {k})"
        )
    } else {
        format!(
            "(SELECT {f}({col}) AS NUMBER_OF_DISTINCT_ITEMS FROM {window} GROUP BY \
             window_start, window_end)",
            f = crate::kda_distinct::NAME
        )
    };
    Ok((super::kda::tokens(&sql)?, c.view))
}

/// A stream's `ORDER BY FLOOR(s.ROWTIME TO unit), ...` (or `ORDER BY ROWTIME, ...`) at the
/// end of a query: KDA sorts the rows of each time unit by the other keys. Weir's rows keep
/// their arrival order (time order already), so the clause goes; any other ORDER BY stays (and
/// is refused by the engine).
pub fn time_order(s: Vec<Token>) -> Vec<Token> {
    let mut depth = 0i32;
    let mut order_at = None;
    for (i, t) in s.iter().enumerate() {
        match t {
            Token::LParen => depth += 1,
            Token::RParen => depth -= 1,
            _ if depth == 0
                && word(Some(t)) == Some("ORDER")
                && word(s.get(i + 1)) == Some("BY") =>
            {
                order_at = Some(i);
            }
            _ => {}
        }
    }
    let Some(at) = order_at else {
        return s;
    };
    let key = &s[at + 2..];
    // The first key: everything up to a comma outside parentheses.
    let first_end = at_top(key, |t| *t == Token::Comma).unwrap_or(key.len());
    let first = &key[..first_end];
    let rowtime = |ts: &[Token]| {
        ts.iter()
            .rposition(|t| word(Some(t)) == Some("ROWTIME"))
            .is_some_and(|k| {
                ts[..k]
                    .iter()
                    .all(|t| matches!(t, Token::Word(_) | Token::Period))
            })
    };
    let by_time = match first {
        [f, Token::LParen, inner @ .., Token::RParen] if word(Some(f)) == Some("FLOOR") => inner
            .iter()
            .position(|t| word(Some(t)) == Some("TO"))
            .is_some_and(|to| rowtime(&inner[..to])),
        plain => {
            rowtime(plain) && matches!(plain.last(), Some(Token::Word(w)) if w.value == "ROWTIME")
        }
    };
    if by_time {
        s[..at].to_vec()
    } else {
        s
    }
}

/// `SELECT [STREAM] * FROM "S" ...`: KDA's `*` is the stream's columns, without `ROWTIME`
/// (and an input's `APPROXIMATE_ARRIVAL_TIME`), which Weir's tables carry as columns.
pub fn star(s: Vec<Token>, streams: &[InAppStream]) -> Vec<Token> {
    let at = if word(s.get(1)) == Some("STREAM") {
        2
    } else {
        1
    };
    if word(s.first()) != Some("SELECT")
        || s.get(at) != Some(&Token::Mul)
        || word(s.get(at + 1)) != Some("FROM")
    {
        return s;
    }
    let Some(Token::Word(rel)) = s.get(at + 2) else {
        return s;
    };
    let Some(stream) = streams.iter().find(|st| st.name == rel.value) else {
        return s;
    };
    // Only a query of the one stream: a join's `*` holds the other side's columns too.
    let joined = at_top(&s[at + 3..], |t| {
        *t == Token::Comma || word(Some(t)) == Some("JOIN")
    })
    .is_some();
    if joined {
        return s;
    }
    let mut out = s[..at].to_vec();
    for (k, (c, _)) in stream.columns.iter().enumerate() {
        if k > 0 {
            out.push(Token::Comma);
        }
        out.push(Token::make_word(c, Some('`')));
    }
    out.extend_from_slice(&s[at + 1..]);
    out
}
