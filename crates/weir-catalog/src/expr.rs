//! Glue's partition filter `Expression` (GetPartitions, GetTables' filters): comparisons of
//! partition keys with literals, `AND`/`OR`/`NOT`, parentheses, `IN`, `BETWEEN`, `LIKE`,
//! `IS [NOT] NULL`. Values are compared as the key's type says: numbers for the integer and
//! decimal types, text otherwise (dates and timestamps in their ISO forms order as text).

use crate::error::{CatalogError, Result};
use crate::model::Column;

#[derive(Debug, Clone)]
pub enum Expr {
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    Cmp(usize, Op, String),
    In(usize, Vec<String>),
    Between(usize, String, String),
    Like(usize, regex_lite::Regex),
    IsNull(usize),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Str(String),
    Num(String),
    Sym(&'static str),
    LParen,
    RParen,
    Comma,
}

fn invalid(msg: impl Into<String>) -> CatalogError {
    CatalogError::InvalidInput(msg.into())
}

fn lex(s: &str) -> Result<Vec<Tok>> {
    let c: Vec<char> = s.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < c.len() {
        let ch = c[i];
        match ch {
            ' ' | '\t' | '\n' | '\r' => i += 1,
            '(' => {
                out.push(Tok::LParen);
                i += 1
            }
            ')' => {
                out.push(Tok::RParen);
                i += 1
            }
            ',' => {
                out.push(Tok::Comma);
                i += 1
            }
            '\'' => {
                let mut v = String::new();
                i += 1;
                loop {
                    match c.get(i) {
                        None => return Err(invalid("Unterminated string literal in expression")),
                        Some('\'') if c.get(i + 1) == Some(&'\'') => {
                            v.push('\'');
                            i += 2
                        }
                        Some('\'') => {
                            i += 1;
                            break;
                        }
                        Some(x) => {
                            v.push(*x);
                            i += 1
                        }
                    }
                }
                out.push(Tok::Str(v));
            }
            '"' | '`' => {
                let close = ch;
                let mut v = String::new();
                i += 1;
                loop {
                    match c.get(i) {
                        None => return Err(invalid("Unterminated identifier in expression")),
                        Some(x) if *x == close => {
                            i += 1;
                            break;
                        }
                        Some(x) => {
                            v.push(*x);
                            i += 1
                        }
                    }
                }
                out.push(Tok::Ident(v));
            }
            '=' => {
                out.push(Tok::Sym("="));
                i += 1
            }
            '<' | '>' | '!' => {
                let two: String = c[i..(i + 2).min(c.len())].iter().collect();
                let sym = match two.as_str() {
                    "<=" => "<=",
                    ">=" => ">=",
                    "<>" => "<>",
                    "!=" => "<>",
                    _ if ch == '<' => "<",
                    _ if ch == '>' => ">",
                    _ => {
                        return Err(invalid(format!(
                            "Unexpected character '{ch}' in expression"
                        )))
                    }
                };
                i += if sym.len() == 2 || two == "!=" { 2 } else { 1 };
                out.push(Tok::Sym(sym));
            }
            _ if ch.is_ascii_digit()
                || (ch == '-' && c.get(i + 1).is_some_and(char::is_ascii_digit)) =>
            {
                let start = i;
                i += 1;
                while i < c.len() && (c[i].is_ascii_digit() || c[i] == '.') {
                    i += 1;
                }
                out.push(Tok::Num(c[start..i].iter().collect()));
            }
            _ if ch.is_alphanumeric() || ch == '_' => {
                let start = i;
                while i < c.len() && (c[i].is_alphanumeric() || c[i] == '_' || c[i] == '.') {
                    i += 1;
                }
                out.push(Tok::Ident(c[start..i].iter().collect()));
            }
            _ => {
                return Err(invalid(format!(
                    "Unexpected character '{ch}' in expression"
                )))
            }
        }
    }
    Ok(out)
}

struct Parser<'a> {
    toks: Vec<Tok>,
    at: usize,
    keys: &'a [Column],
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.at)
    }
    fn keyword(&self, kw: &str) -> bool {
        matches!(self.peek(), Some(Tok::Ident(w)) if w.eq_ignore_ascii_case(kw))
    }
    fn eat_keyword(&mut self, kw: &str) -> bool {
        let yes = self.keyword(kw);
        if yes {
            self.at += 1;
        }
        yes
    }
    fn or(&mut self) -> Result<Expr> {
        let mut left = self.and()?;
        while self.eat_keyword("or") {
            left = Expr::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }
    fn and(&mut self) -> Result<Expr> {
        let mut left = self.not()?;
        while self.eat_keyword("and") {
            left = Expr::And(Box::new(left), Box::new(self.not()?));
        }
        Ok(left)
    }
    fn not(&mut self) -> Result<Expr> {
        if self.eat_keyword("not") {
            return Ok(Expr::Not(Box::new(self.not()?)));
        }
        if self.peek() == Some(&Tok::LParen) {
            self.at += 1;
            let e = self.or()?;
            if self.peek() != Some(&Tok::RParen) {
                return Err(invalid("Missing ')' in expression"));
            }
            self.at += 1;
            return Ok(e);
        }
        self.predicate()
    }
    fn literal(&mut self) -> Result<String> {
        match self.toks.get(self.at).cloned() {
            Some(Tok::Str(s)) | Some(Tok::Num(s)) => {
                self.at += 1;
                Ok(s)
            }
            // Typed literals: date '2024-01-01', timestamp '...'.
            Some(Tok::Ident(w))
                if ["date", "timestamp"]
                    .iter()
                    .any(|k| w.eq_ignore_ascii_case(k)) =>
            {
                self.at += 1;
                self.literal()
            }
            other => Err(invalid(format!(
                "Expected a literal value in expression, found {}",
                describe(other.as_ref())
            ))),
        }
    }
    fn predicate(&mut self) -> Result<Expr> {
        let key = match self.toks.get(self.at).cloned() {
            Some(Tok::Ident(name)) => name,
            other => {
                return Err(invalid(format!(
                    "Expected a partition key in expression, found {}",
                    describe(other.as_ref())
                )))
            }
        };
        self.at += 1;
        let k = self
            .keys
            .iter()
            .position(|c| c.name.eq_ignore_ascii_case(&key))
            .ok_or_else(|| invalid(format!("Unknown column '{key}' in expression")))?;
        let negated = self.eat_keyword("not");
        let e = if self.eat_keyword("in") {
            if self.peek() != Some(&Tok::LParen) {
                return Err(invalid("Expected '(' after IN in expression"));
            }
            self.at += 1;
            let mut vals = vec![self.literal()?];
            while self.peek() == Some(&Tok::Comma) {
                self.at += 1;
                vals.push(self.literal()?);
            }
            if self.peek() != Some(&Tok::RParen) {
                return Err(invalid("Missing ')' in expression"));
            }
            self.at += 1;
            Expr::In(k, vals)
        } else if self.eat_keyword("between") {
            let lo = self.literal()?;
            if !self.eat_keyword("and") {
                return Err(invalid("Expected AND in BETWEEN in expression"));
            }
            Expr::Between(k, lo, self.literal()?)
        } else if self.eat_keyword("like") {
            if !is_text(&self.keys[k]) {
                return Err(invalid(format!(
                    "LIKE is only supported on string partition keys; '{}' is {}",
                    self.keys[k].name,
                    self.keys[k].data_type.as_deref().unwrap_or("untyped")
                )));
            }
            Expr::Like(k, like_regex(&self.literal()?)?)
        } else if !negated && self.eat_keyword("is") {
            let not = self.eat_keyword("not");
            if !self.eat_keyword("null") {
                return Err(invalid("Expected NULL after IS in expression"));
            }
            let e = Expr::IsNull(k);
            return Ok(if not { Expr::Not(Box::new(e)) } else { e });
        } else if negated {
            return Err(invalid(
                "Expected IN, BETWEEN or LIKE after NOT in expression",
            ));
        } else {
            let op = match self.toks.get(self.at) {
                Some(Tok::Sym("=")) => Op::Eq,
                Some(Tok::Sym("<>")) => Op::Ne,
                Some(Tok::Sym("<")) => Op::Lt,
                Some(Tok::Sym("<=")) => Op::Le,
                Some(Tok::Sym(">")) => Op::Gt,
                Some(Tok::Sym(">=")) => Op::Ge,
                other => {
                    return Err(invalid(format!(
                        "Expected a comparison after '{key}' in expression, found {}",
                        describe(other)
                    )))
                }
            };
            self.at += 1;
            Expr::Cmp(k, op, self.literal()?)
        };
        Ok(if negated { Expr::Not(Box::new(e)) } else { e })
    }
}

fn describe(t: Option<&Tok>) -> String {
    match t {
        None => "the end".into(),
        Some(Tok::Ident(s)) => format!("'{s}'"),
        Some(Tok::Str(s)) => format!("'{s}'"),
        Some(Tok::Num(s)) => s.clone(),
        Some(Tok::Sym(s)) => format!("'{s}'"),
        Some(Tok::LParen) => "'('".into(),
        Some(Tok::RParen) => "')'".into(),
        Some(Tok::Comma) => "','".into(),
    }
}

fn like_regex(pat: &str) -> Result<regex_lite::Regex> {
    let mut re = String::from("^(?s:");
    for ch in pat.chars() {
        match ch {
            '%' => re.push_str(".*"),
            '_' => re.push('.'),
            c => re.push_str(&regex_lite::escape(&c.to_string())),
        }
    }
    re.push_str(")$");
    regex_lite::Regex::new(&re).map_err(|e| invalid(e.to_string()))
}

fn is_numeric(c: &Column) -> bool {
    let t = c
        .data_type
        .as_deref()
        .unwrap_or("string")
        .to_ascii_lowercase();
    [
        "int", "integer", "bigint", "long", "tinyint", "smallint", "decimal", "double", "float",
    ]
    .iter()
    .any(|n| t == *n || t.starts_with("decimal("))
}

fn is_text(c: &Column) -> bool {
    let t = c
        .data_type
        .as_deref()
        .unwrap_or("string")
        .to_ascii_lowercase();
    t == "string" || t.starts_with("varchar") || t.starts_with("char")
}

impl Expr {
    /// Parses an expression over a table's partition keys.
    pub fn parse(text: &str, keys: &[Column]) -> Result<Expr> {
        let toks = lex(text)?;
        let mut p = Parser { toks, at: 0, keys };
        let e = p.or()?;
        if p.at != p.toks.len() {
            return Err(invalid(format!(
                "Unexpected {} in expression",
                describe(p.peek())
            )));
        }
        // Literals of numeric keys must be numbers.
        e.check_numbers(keys)?;
        Ok(e)
    }

    fn check_numbers(&self, keys: &[Column]) -> Result<()> {
        let num = |k: usize, v: &str| -> Result<()> {
            if is_numeric(&keys[k]) && v.parse::<f64>().is_err() {
                return Err(invalid(format!(
                    "Value '{v}' is not a valid {} for partition key '{}'",
                    keys[k].data_type.as_deref().unwrap_or(""),
                    keys[k].name
                )));
            }
            Ok(())
        };
        match self {
            Expr::And(a, b) | Expr::Or(a, b) => {
                a.check_numbers(keys)?;
                b.check_numbers(keys)
            }
            Expr::Not(a) => a.check_numbers(keys),
            Expr::Cmp(k, _, v) => num(*k, v),
            Expr::In(k, vs) => vs.iter().try_for_each(|v| num(*k, v)),
            Expr::Between(k, a, b) => {
                num(*k, a)?;
                num(*k, b)
            }
            Expr::Like(..) | Expr::IsNull(_) => Ok(()),
        }
    }

    /// Whether a partition with these values (in key order) matches.
    pub fn matches(&self, keys: &[Column], values: &[String]) -> bool {
        let cmp = |k: usize, lit: &str| -> Option<std::cmp::Ordering> {
            let v = values.get(k)?;
            if is_numeric(&keys[k]) {
                let a: f64 = v.parse().ok()?;
                let b: f64 = lit.parse().ok()?;
                a.partial_cmp(&b)
            } else {
                Some(v.as_str().cmp(lit))
            }
        };
        use std::cmp::Ordering::*;
        match self {
            Expr::And(a, b) => a.matches(keys, values) && b.matches(keys, values),
            Expr::Or(a, b) => a.matches(keys, values) || b.matches(keys, values),
            Expr::Not(a) => !a.matches(keys, values),
            Expr::Cmp(k, op, lit) => match (op, cmp(*k, lit)) {
                (_, None) => false,
                (Op::Eq, Some(o)) => o == Equal,
                (Op::Ne, Some(o)) => o != Equal,
                (Op::Lt, Some(o)) => o == Less,
                (Op::Le, Some(o)) => o != Greater,
                (Op::Gt, Some(o)) => o == Greater,
                (Op::Ge, Some(o)) => o != Less,
            },
            Expr::In(k, lits) => lits.iter().any(|l| cmp(*k, l) == Some(Equal)),
            Expr::Between(k, lo, hi) => {
                cmp(*k, lo).is_some_and(|o| o != Less) && cmp(*k, hi).is_some_and(|o| o != Greater)
            }
            Expr::Like(k, re) => values.get(*k).is_some_and(|v| re.is_match(v)),
            Expr::IsNull(k) => values.get(*k).is_none(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> Vec<Column> {
        vec![
            Column {
                name: "year".into(),
                data_type: Some("int".into()),
                ..Default::default()
            },
            Column {
                name: "region".into(),
                data_type: Some("string".into()),
                ..Default::default()
            },
        ]
    }

    fn m(e: &str, vals: &[&str]) -> bool {
        let k = keys();
        let vals: Vec<String> = vals.iter().map(|s| s.to_string()).collect();
        Expr::parse(e, &k)
            .map(|e| e.matches(&k, &vals))
            .unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn grammar() {
        assert!(m("year = 2024", &["2024", "eu"]));
        assert!(m("year > 999", &["2024", "eu"]), "numeric, not text, order");
        assert!(!m("year < 999", &["2024", "eu"]));
        assert!(m(
            "year between 2020 and 2024 and region = 'eu'",
            &["2024", "eu"]
        ));
        assert!(m("region in ('us', 'eu')", &["2024", "eu"]));
        assert!(m("region not in ('us')", &["2024", "eu"]));
        assert!(m("region like 'e%'", &["2024", "eu"]));
        assert!(m(
            "(year = 1 or region = 'eu') and not year = 3",
            &["2024", "eu"]
        ));
        assert!(m("year <> 1 AND region != 'x'", &["2024", "eu"]));
        assert!(m("region = 'it''s'", &["1", "it's"]));
        assert!(m("\"region\" = 'eu'", &["1", "eu"]));
    }

    #[test]
    fn errors() {
        let k = keys();
        for bad in [
            "nope = 1",
            "year = 'abc'",
            "year like '1%'",
            "region = ",
            "(region = 'a'",
            "region = 'a' extra",
        ] {
            assert!(
                matches!(Expr::parse(bad, &k), Err(CatalogError::InvalidInput(_))),
                "{bad}"
            );
        }
    }
}
