//! Kinesis Data Analytics SQL (the SQLstream dialect of KDA's SQL applications) turned into the
//! Flink form the engine plans: in-application streams become tables, pumps become `INSERT INTO`
//! statements of one statement set.
//!
//! What changes, token by token (never by editing strings):
//! - unquoted identifiers are upper-cased (KDA folds them so), quoted ones keep their case;
//! - `SELECT STREAM` loses `STREAM`;
//! - `STEP(t BY INTERVAL ...)` and `FLOOR(t TO unit)` in a GROUP BY become `TUMBLE(t, ...)`; in
//!   the select list they become the window's start, and a bare `ROWTIME` its end (the time KDA
//!   gives an aggregate's row); `FLOOR(t TO unit)` elsewhere truncates (`DATE_TRUNC`);
//! - a sliding window (`OVER (... RANGE INTERVAL ... PRECEDING)`, `WINDOW w AS (...)`) without
//!   ORDER BY is ordered by `ROWTIME`, as KDA orders it;
//! - `SIMILAR TO` patterns become anchored regular expressions (the planner matches them as
//!   regular expressions anywhere in the text).

use sqlparser::dialect::GenericDialect;
use sqlparser::tokenizer::{Token, Tokenizer};

use super::{token_sql, SqlError};

/// An in-application stream: `CREATE OR REPLACE STREAM name (columns)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InAppStream {
    pub name: String,
    /// Column names and their types as Flink DDL text.
    pub columns: Vec<(String, String)>,
}

/// A pump: `CREATE OR REPLACE PUMP name AS INSERT INTO ...`, as a Flink `INSERT INTO`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pump {
    pub name: String,
    pub target: String,
    pub insert: String,
    /// Views the statement reads (name, query text).
    pub views: Vec<(String, String)>,
}

/// An application's code, read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KdaCode {
    pub streams: Vec<InAppStream>,
    pub pumps: Vec<Pump>,
}

pub(super) fn fail(what: impl Into<String>) -> SqlError {
    SqlError::Parse(what.into())
}

/// Reads application code: its streams and pumps, in order. A join with one of the `lookups`
/// (the reference tables) becomes a lookup join.
/// `inputs` are the input streams (their columns, for a cursor's `*`).
pub fn translate(
    code: &str,
    lookups: &[String],
    inputs: &[InAppStream],
) -> Result<KdaCode, SqlError> {
    let tokens: Vec<Token> = tokens(code)?.into_iter().map(normalize).collect();
    let mut out = KdaCode::default();
    let mut known: Vec<InAppStream> = inputs.to_vec();
    let mut functions: Vec<super::kda_function::SqlFunction> = Vec::new();
    for statement in tokens.split(|t| *t == Token::SemiColon) {
        if statement.is_empty() {
            continue;
        }
        let mut at = 0;
        if !is(statement, 0, "CREATE") {
            return Err(fail(format!(
                "Weir reads CREATE STREAM and CREATE PUMP statements in application code, found: {}",
                text(&statement[..statement.len().min(6)])
            )));
        }
        at += 1;
        if is(statement, at, "OR") && is(statement, at + 1, "REPLACE") {
            at += 2;
        }
        if is(statement, at, "STREAM") {
            let created = stream(statement, at + 1)?;
            known.push(created.clone());
            out.streams.push(created);
        } else if is(statement, at, "PUMP") {
            let statement = super::kda_function::expand(statement, &functions)?;
            out.pumps.push(pump(&statement, at + 1, lookups, &known)?);
        } else if is(statement, at, "FUNCTION") {
            let f = super::kda_function::function(statement, at + 1, &functions)?;
            functions.push(f);
        } else {
            return Err(fail(format!(
                "Weir runs CREATE STREAM, CREATE PUMP and CREATE FUNCTION statements (no {} yet)",
                text(&statement[..(at + 1).min(statement.len())])
            )));
        }
    }
    for p in &out.pumps {
        if !out.streams.iter().any(|s| s.name == p.target) {
            return Err(fail(format!(
                "Pump {} inserts into {}, which is not a stream created in the application code",
                p.name, p.target
            )));
        }
    }
    Ok(out)
}

/// Unquoted words upper-cased; double-quoted identifiers written with backticks.
fn normalize(t: Token) -> Token {
    match t {
        Token::Word(w) if w.quote_style.is_none() => {
            Token::make_word(&w.value.to_ascii_uppercase(), None)
        }
        Token::Word(w) if w.quote_style == Some('"') => Token::make_word(&w.value, Some('`')),
        other => other,
    }
}

/// Whether token `at` is the unquoted keyword `k`.
pub(super) fn is(tokens: &[Token], at: usize, k: &str) -> bool {
    matches!(tokens.get(at), Some(Token::Word(w)) if w.quote_style.is_none() && w.value == k)
}

pub(super) fn text(tokens: &[Token]) -> String {
    tokens.iter().map(token_sql).collect::<Vec<_>>().join(" ")
}

fn name_at(tokens: &[Token], at: usize) -> Result<String, SqlError> {
    match tokens.get(at) {
        Some(Token::Word(w)) => Ok(w.value.clone()),
        other => Err(fail(format!(
            "Expected a name, found: {}",
            other.map_or_else(|| "end of statement".into(), token_sql)
        ))),
    }
}

/// The index of the `)` closing the `(` at `open`.
pub(super) fn closing(tokens: &[Token], open: usize) -> Result<usize, SqlError> {
    let mut depth = 0usize;
    for (i, t) in tokens.iter().enumerate().skip(open) {
        match t {
            Token::LParen => depth += 1,
            Token::RParen => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return Ok(i);
                }
            }
            _ => {}
        }
    }
    Err(fail("A parenthesis is not closed"))
}

/// Splits tokens at depth-0 commas.
pub(super) fn split_commas(tokens: &[Token]) -> Vec<&[Token]> {
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0usize, 0);
    for (i, t) in tokens.iter().enumerate() {
        match t {
            Token::LParen => depth += 1,
            Token::RParen => depth = depth.saturating_sub(1),
            Token::Comma if depth == 0 => {
                parts.push(&tokens[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&tokens[start..]);
    parts
}

fn stream(s: &[Token], at: usize) -> Result<InAppStream, SqlError> {
    let name = name_at(s, at)?;
    if s.get(at + 1) != Some(&Token::LParen) {
        return Err(fail(format!(
            "Stream {name} needs its columns: (name type, ...)"
        )));
    }
    let end = closing(s, at + 1)?;
    let mut columns = Vec::new();
    for part in split_commas(&s[at + 2..end]) {
        let column = name_at(part, 0)?;
        if part.len() < 2 {
            return Err(fail(format!(
                "Column {column} of stream {name} has no type"
            )));
        }
        if column == "ROWTIME" {
            return Err(fail(format!(
                "ROWTIME is a column of every stream; stream {name} cannot declare it"
            )));
        }
        columns.push((column, flink_type(&part[1..])));
    }
    // `DESCRIPTION '...'` may follow; nothing else.
    let rest = &s[end + 1..];
    if !(rest.is_empty() || (is(rest, 0, "DESCRIPTION") && rest.len() == 2)) {
        return Err(fail(format!(
            "Unexpected text after the columns of stream {name}: {}",
            text(rest)
        )));
    }
    Ok(InAppStream { name, columns })
}

/// A KDA column type as Flink DDL text (TIMESTAMP is KDA's millisecond timestamp).
pub(super) fn flink_type(tokens: &[Token]) -> String {
    match tokens {
        [Token::Word(w)] if w.quote_style.is_none() && w.value == "TIMESTAMP" => {
            "TIMESTAMP(3)".into()
        }
        // Words apart (`DOUBLE PRECISION`), punctuation close (`VARCHAR(4)`).
        _ => {
            let mut out = String::new();
            let mut word_before = false;
            for t in tokens {
                let word = matches!(t, Token::Word(_) | Token::Number(..));
                if word && word_before {
                    out.push(' ');
                }
                out.push_str(&token_sql(t));
                word_before = word;
            }
            out
        }
    }
}

fn pump(
    s: &[Token],
    at: usize,
    lookups: &[String],
    streams: &[InAppStream],
) -> Result<Pump, SqlError> {
    // First: the other passes would read `FROM LAST` as a relation.
    let s = &nth_from(s)?;
    let name = name_at(s, at)?;
    let mut at = at + 1;
    if is(s, at, "STOPPED") || is(s, at, "STARTED") {
        at += 1;
    }
    if !(is(s, at, "AS") && is(s, at + 1, "INSERT") && is(s, at + 2, "INTO")) {
        return Err(fail(format!(
            "Pump {name} must be AS INSERT INTO a stream SELECT ..."
        )));
    }
    let target = name_at(s, at + 3)?;
    // `INSERT INTO "S" (a, b) SELECT ...`: the query's columns go to the listed columns.
    let (query_at, listed) = match s.get(at + 4) {
        Some(Token::LParen) => {
            let end = closing(s, at + 4)?;
            let mut listed = Vec::new();
            for part in split_commas(&s[at + 5..end]) {
                listed.push(name_at(part, 0)?);
            }
            (end + 1, Some(listed))
        }
        _ => (at + 4, None),
    };
    let (body, cursor_views) = super::kda_cursor::table_functions(&s[query_at..], streams, &name)?;
    let body = super::kda_cursor::star(super::kda_cursor::time_order(body), streams);
    let (query, stagger_views) = super::kda_stagger::stagger(
        rewrite(&super::kda_join::stream_windows(&body)?, lookups)?,
        &name,
    )?;
    let views: Vec<(String, String)> = cursor_views.into_iter().chain(stagger_views).collect();
    let head = text(&s[at + 1..at + 4]);
    let insert = match listed {
        None => format!("{head} {}", text(&query)),
        Some(listed) => {
            let stream = streams.iter().find(|x| x.name == target).ok_or_else(|| {
                fail(format!(
                    "Pump {name} inserts into {target}, which is not created before it"
                ))
            })?;
            let all: Vec<&String> = stream.columns.iter().map(|(c, _)| c).collect();
            if listed.iter().collect::<Vec<_>>() == all {
                format!("{head} {}", text(&query))
            } else {
                placed(&head, &query, &listed, stream, &name)?
            }
        }
    };
    Ok(Pump {
        name,
        target,
        insert,
        views,
    })
}

/// `INSERT INTO s SELECT ...` with the query's columns placed as `listed` names them among the
/// stream's columns (the others null).
fn placed(
    head: &str,
    query: &[Token],
    listed: &[String],
    stream: &InAppStream,
    pump: &str,
) -> Result<String, SqlError> {
    if let Some(unknown) = listed
        .iter()
        .find(|l| !stream.columns.iter().any(|(c, _)| c == *l))
    {
        return Err(fail(format!(
            "Pump {pump} inserts into column {unknown}, which stream {} does not have",
            stream.name
        )));
    }
    let columns: Vec<String> = stream
        .columns
        .iter()
        .map(|(c, t)| match listed.iter().position(|l| l == c) {
            Some(k) => format!("`__weir_pump`.`__weir_c{k}`"),
            None => format!("CAST(NULL AS {t})"),
        })
        .collect();
    let aliases: Vec<String> = (0..listed.len())
        .map(|k| format!("`__weir_c{k}`"))
        .collect();
    Ok(format!(
        "{head} SELECT {} FROM ({}) AS `__weir_pump`({})",
        columns.join(", "),
        text(query),
        aliases.join(", ")
    ))
}

const CLAUSE_ENDS: [&str; 7] = [
    "HAVING",
    "WINDOW",
    "ORDER",
    "LIMIT",
    "UNION",
    "EXCEPT",
    "INTERSECT",
];

/// Where a token stands in its query.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Place {
    Other,
    SelectList,
    GroupBy,
}

/// The KDA forms of a pump's `INSERT INTO ... SELECT` rewritten (see the module's notes).
pub(super) fn rewrite(s: &[Token], lookups: &[String]) -> Result<Vec<Token>, SqlError> {
    // Pass 1: the group windows, as the argument text TUMBLE will get.
    let mut windows = Vec::new();
    {
        let mut places = vec![Place::Other];
        let mut i = 0;
        while i < s.len() {
            track(s, i, &mut places);
            if places.last() == Some(&Place::GroupBy) {
                if let Some((args, end)) = time_floor(s, i)? {
                    windows.push(text(&args));
                    i = end + 1;
                    continue;
                }
            }
            i += 1;
        }
    }
    let mut out = Vec::with_capacity(s.len());
    let mut places = vec![Place::Other];
    // Closing parentheses of UNIX_TIMESTAMP(...) calls, which get a second argument.
    let mut epoch_at = Vec::new();
    let mut i = 0;
    while i < s.len() {
        track(s, i, &mut places);
        let place = *places.last().unwrap_or(&Place::Other);
        // KDA's TO_TIMESTAMP(ms) and UNIX_TIMESTAMP(t) (in ms): other names in the engine.
        if s.get(i + 1) == Some(&Token::LParen) {
            if is(s, i, "TO_TIMESTAMP") {
                out.push(Token::make_word("TO_TIMESTAMP_MILLIS", None));
                i += 1;
                continue;
            }
            if is(s, i, "UNIX_TIMESTAMP") {
                epoch_at.push(closing(s, i + 1)?);
                out.push(Token::make_word("TSDIFF", None));
                i += 1;
                continue;
            }
        }
        // KDA's CURRENT_ROW_TIMESTAMP: when the row is processed.
        if is(s, i, "CURRENT_ROW_TIMESTAMP") && s.get(i + 1) != Some(&Token::LParen) {
            out.push(Token::make_word("PROCTIME", None));
            out.push(Token::LParen);
            out.push(Token::RParen);
            i += 1;
            continue;
        }
        if epoch_at.last() == Some(&i) {
            epoch_at.pop();
            out.push(Token::Comma);
            out.push(Token::make_word("TIMESTAMP", None));
            out.push(Token::SingleQuotedString("1970-01-01 00:00:00".into()));
        }
        // SELECT STREAM
        if is(s, i, "STREAM") && i > 0 && is(s, i - 1, "SELECT") {
            i += 1;
            continue;
        }
        if let Some((args, end)) = time_floor(s, i)? {
            let function = if place == Place::GroupBy {
                "TUMBLE"
            } else if windows.contains(&text(&args)) {
                "TUMBLE_START"
            } else if is(s, i, "FLOOR") {
                let unit = args.last().cloned().unwrap_or(Token::EOF);
                let Token::Word(unit) = unit else {
                    return Err(fail("FLOOR(... TO unit) needs a unit"));
                };
                // The time is what comes before the comma time_floor added.
                let time = &args[..args.len().saturating_sub(4)];
                let n = match args.get(args.len().saturating_sub(2)) {
                    Some(Token::SingleQuotedString(n)) => n.clone(),
                    _ => "1".to_string(),
                };
                if n == "1" {
                    out.push(Token::make_word("DATE_TRUNC", None));
                    out.push(Token::LParen);
                    out.push(Token::SingleQuotedString(unit.value.to_ascii_lowercase()));
                    out.push(Token::Comma);
                    out.extend_from_slice(time);
                } else {
                    // n units from the epoch: DATE_BIN(INTERVAL 'n' unit, t, epoch).
                    out.push(Token::make_word("DATE_BIN", None));
                    out.push(Token::LParen);
                    out.extend_from_slice(&args[args.len().saturating_sub(3)..]);
                    out.push(Token::Comma);
                    out.extend_from_slice(time);
                    out.push(Token::Comma);
                    out.push(Token::make_word("TIMESTAMP", None));
                    out.push(Token::SingleQuotedString("1970-01-01 00:00:00".into()));
                }
                out.push(Token::RParen);
                i = end + 1;
                continue;
            } else {
                return Err(fail(
                    "STEP(...) outside GROUP BY must be the same as a window of the GROUP BY",
                ));
            };
            out.push(Token::make_word(function, None));
            out.push(Token::LParen);
            out.extend(args);
            out.push(Token::RParen);
            i = end + 1;
            continue;
        }
        // A bare ROWTIME in the select list of a windowed aggregate: its window's end.
        if place == Place::SelectList && windows.len() == 1 && is(s, i, "ROWTIME") {
            let args = tokens(&windows[0])?;
            if out.last() == Some(&Token::Period) {
                out.pop();
                out.pop();
            }
            out.push(Token::make_word("TUMBLE_END", None));
            out.push(Token::LParen);
            out.extend(args);
            out.push(Token::RParen);
            i += 1;
            continue;
        }
        if (is(s, i, "OVER") || (is(s, i, "AS") && i >= 2 && is(s, i - 2, "WINDOW")))
            && s.get(i + 1) == Some(&Token::LParen)
        {
            let end = closing(s, i + 1)?;
            out.push(s[i].clone());
            out.push(Token::LParen);
            out.extend(ordered_window(&s[i + 2..end]));
            out.push(Token::RParen);
            i = end + 1;
            continue;
        }
        // A reference table joined: read whole, as of each row (Flink's lookup join).
        if let (true, Some(Token::Word(w))) = (i > 0 && is(s, i - 1, "JOIN"), s.get(i)) {
            if lookups.contains(&w.value) {
                out.push(s[i].clone());
                for k in ["FOR", "SYSTEM_TIME", "AS", "OF", "ROWTIME"] {
                    out.push(Token::make_word(k, None));
                }
                i += 1;
                continue;
            }
        }
        if is(s, i, "SIMILAR") && is(s, i + 1, "TO") {
            if let Some(Token::SingleQuotedString(p)) = s.get(i + 2) {
                out.extend_from_slice(&s[i..i + 2]);
                out.push(Token::SingleQuotedString(similar_regex(p)));
                i += 3;
                continue;
            }
        }
        out.push(s[i].clone());
        i += 1;
    }
    Ok(out)
}

/// `NTH_VALUE(x, n) FROM FIRST | FROM LAST`: the engine's NTH_VALUE counts from the frame's
/// last row when `n` is negative.
fn nth_from(s: &[Token]) -> Result<Vec<Token>, SqlError> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        if !(is(s, i, "NTH_VALUE") && s.get(i + 1) == Some(&Token::LParen)) {
            out.push(s[i].clone());
            i += 1;
            continue;
        }
        let end = closing(s, i + 1)?;
        let last = is(s, end + 1, "FROM") && is(s, end + 2, "LAST");
        let first = is(s, end + 1, "FROM") && is(s, end + 2, "FIRST");
        let args = split_commas(&s[i + 2..end]);
        let positive = |n: &str| n.parse::<u64>().is_ok_and(|n| n > 0);
        match (first || last, args.as_slice()) {
            (false, _) => out.extend_from_slice(&s[i..=end]),
            (true, [x, [Token::Number(n, long)]]) if positive(n) => {
                out.extend_from_slice(&s[i..i + 2]);
                out.extend_from_slice(x);
                out.push(Token::Comma);
                let n = if last { format!("-{n}") } else { n.clone() };
                out.push(Token::Number(n, *long));
                out.push(Token::RParen);
            }
            (true, _) => {
                return Err(fail(
                    "NTH_VALUE(expression, n) FROM FIRST | FROM LAST needs n as a whole number \
                     from 1",
                ))
            }
        }
        i = if first || last { end + 3 } else { end + 1 };
    }
    Ok(out)
}

/// Updates the place stack for token `i` (before it is handled).
fn track(s: &[Token], i: usize, places: &mut Vec<Place>) {
    match &s[i] {
        Token::LParen => places.push(Place::Other),
        Token::RParen => {
            if places.len() > 1 {
                places.pop();
            }
        }
        _ => {
            let top = places.last_mut();
            let Some(top) = top else { return };
            if is(s, i, "SELECT") {
                *top = Place::SelectList;
            } else if is(s, i, "FROM") {
                *top = Place::Other;
            } else if is(s, i, "BY") && i > 0 && is(s, i - 1, "GROUP") {
                *top = Place::GroupBy;
            } else if CLAUSE_ENDS.iter().any(|k| is(s, i, k)) {
                *top = Place::Other;
            }
        }
    }
}

/// `STEP(t BY INTERVAL ...)` or `FLOOR(t TO unit)` at `i`: TUMBLE's arguments (`t, INTERVAL
/// ...`) and the index of the closing parenthesis.
fn time_floor(s: &[Token], i: usize) -> Result<Option<(Vec<Token>, usize)>, SqlError> {
    let step = is(s, i, "STEP");
    if !(step || is(s, i, "FLOOR")) || s.get(i + 1) != Some(&Token::LParen) {
        return Ok(None);
    }
    let end = closing(s, i + 1)?;
    let inner = &s[i + 2..end];
    let split = if step { "BY" } else { "TO" };
    let mut depth = 0usize;
    let mut at = None;
    for (k, t) in inner.iter().enumerate() {
        match t {
            Token::LParen => depth += 1,
            Token::RParen => depth = depth.saturating_sub(1),
            _ if depth == 0 && is(inner, k, split) => at = Some(k),
            _ => {}
        }
    }
    let Some(at) = at else {
        // A numeric FLOOR(x).
        return if step {
            Err(fail("STEP needs (time BY INTERVAL ...)"))
        } else {
            Ok(None)
        };
    };
    let (time, unit) = (&inner[..at], &inner[at + 1..]);
    if !step {
        if let Some(args) = epoch_floor(time, unit) {
            return Ok(Some((args, end)));
        }
        let column = time
            .iter()
            .all(|t| matches!(t, Token::Word(_) | Token::Period));
        if !column {
            return Err(fail(format!(
                "FLOOR(... TO unit) over {} is not a window Weir reads: floor a time column, or \
                 write FLOOR((t - TIMESTAMP '1970-01-01 00:00:00') SECOND / n TO SECOND)",
                text(time)
            )));
        }
    }
    let mut args = time.to_vec();
    args.push(Token::Comma);
    if step {
        args.extend_from_slice(&inner[at + 1..]);
    } else {
        let [Token::Word(unit)] = &inner[at + 1..] else {
            return Err(fail("FLOOR(time TO unit) needs one unit"));
        };
        args.push(Token::make_word("INTERVAL", None));
        args.push(Token::SingleQuotedString("1".into()));
        args.push(Token::Word(unit.clone()));
    }
    Ok(Some((args, end)))
}

/// The KDA guide's n-unit tumbling idiom `FLOOR((t - TIMESTAMP '1970-01-01 00:00:00') SECOND /
/// n TO SECOND)` as TUMBLE's arguments `t, INTERVAL 'n' SECOND`.
fn epoch_floor(time: &[Token], unit: &[Token]) -> Option<Vec<Token>> {
    let [Token::LParen, rest @ ..] = time else {
        return None;
    };
    let close = rest.iter().position(|t| *t == Token::RParen)?;
    let (diff, after) = (&rest[..close], &rest[close + 1..]);
    let [t @ .., Token::Minus, Token::Word(ts), Token::SingleQuotedString(epoch)] = diff else {
        return None;
    };
    let epoch_ok =
        ts.value == "TIMESTAMP" && epoch.trim_end_matches([' ', ':', '0', '.']) == "1970-01-01";
    let [Token::Word(u1), Token::Div, Token::Number(n, _)] = after else {
        return None;
    };
    let [Token::Word(u2)] = unit else {
        return None;
    };
    if !epoch_ok || t.is_empty() || u1.value != u2.value {
        return None;
    }
    let mut args = t.to_vec();
    args.push(Token::Comma);
    args.push(Token::make_word("INTERVAL", None));
    args.push(Token::SingleQuotedString(n.clone()));
    args.push(Token::Word(u1.clone()));
    Some(args)
}

/// Tokens of SQL text, without whitespace and comments.
pub(super) fn tokens(sql: &str) -> Result<Vec<Token>, SqlError> {
    Ok(Tokenizer::new(&GenericDialect {}, sql)
        .tokenize()
        .map_err(|e| fail(e.to_string()))?
        .into_iter()
        .filter(|t| !matches!(t, Token::Whitespace(_)))
        .collect())
}

/// A window specification with `ORDER BY ROWTIME` before its frame when it has none.
fn ordered_window(spec: &[Token]) -> Vec<Token> {
    let ordered = spec.iter().enumerate().any(|(k, _)| is(spec, k, "ORDER"));
    let frame = spec
        .iter()
        .enumerate()
        .position(|(k, _)| is(spec, k, "RANGE") || is(spec, k, "ROWS"));
    match (ordered, frame) {
        (false, Some(f)) => {
            let mut out = spec[..f].to_vec();
            out.push(Token::make_word("ORDER", None));
            out.push(Token::make_word("BY", None));
            out.push(Token::make_word("ROWTIME", None));
            out.extend_from_slice(&spec[f..]);
            out
        }
        _ => spec.to_vec(),
    }
}

/// A SQL `SIMILAR TO` pattern as an anchored regular expression: `%` is any text, `_` any
/// character, `\` escapes; `| * + ? { } ( ) [ ]` mean what they mean in both.
fn similar_regex(pattern: &str) -> String {
    let mut out = String::from("^(?:");
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        match c {
            '%' => out.push_str(".*"),
            '_' => out.push('.'),
            '\\' => {
                if let Some(n) = chars.next() {
                    out.push_str(&regex_escape(n));
                }
            }
            '|' | '*' | '+' | '?' | '{' | '}' | '(' | ')' | '[' | ']' => out.push(c),
            other => out.push_str(&regex_escape(other)),
        }
    }
    out.push_str(")$");
    out
}

fn regex_escape(c: char) -> String {
    if c.is_ascii_punctuation() {
        format!("\\{c}")
    } else {
        c.to_string()
    }
}

#[cfg(test)]
mod tests {
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
        assert!(
            translate_(r#"CREATE PUMP "P" AS INSERT INTO "X" SELECT STREAM * FROM "S""#).is_err()
        );
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
}
