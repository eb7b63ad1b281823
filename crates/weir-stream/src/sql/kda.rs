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
mod tests;
