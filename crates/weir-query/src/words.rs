//! A statement as tokens (sqlparser's tokenizer: quoting and comments handled as SQL does), and
//! a cursor for the small utility statements Weir parses itself (SHOW, MSCK, ALTER TABLE ...
//! PARTITION, CREATE/DROP DATABASE).

use datafusion::sql::sqlparser::dialect::GenericDialect;
use datafusion::sql::sqlparser::tokenizer::{Token, Tokenizer};

pub struct Words {
    sql: String,
    toks: Vec<Token>,
    /// Byte offset of each token in `sql`.
    offsets: Vec<usize>,
    at: usize,
}

impl Words {
    pub fn new(sql: &str) -> Result<Words, String> {
        // Token positions only move forward: walk the text once with a (line, column) cursor.
        let mut toks = Vec::new();
        let mut offsets = Vec::new();
        let mut chars = sql.char_indices().peekable();
        let (mut line, mut column) = (1u64, 1u64);
        for t in Tokenizer::new(&GenericDialect {}, sql)
            .tokenize_with_location()
            .map_err(|e| e.to_string())?
        {
            if matches!(t.token, Token::Whitespace(_)) {
                continue;
            }
            let want = (t.span.start.line, t.span.start.column);
            while (line, column) < want {
                match chars.next() {
                    Some((_, '\n')) => {
                        line += 1;
                        column = 1;
                    }
                    Some(_) => column += 1,
                    None => break,
                }
            }
            offsets.push(chars.peek().map_or(sql.len(), |(i, _)| *i));
            toks.push(t.token);
        }
        Ok(Words {
            sql: sql.to_string(),
            toks,
            offsets,
            at: 0,
        })
    }

    /// Every token with its byte offset in the statement.
    pub fn tokens(&self) -> impl Iterator<Item = (usize, &Token)> {
        self.offsets.iter().copied().zip(self.toks.iter())
    }

    /// The statement's text from the next token on (for a query inside a statement).
    pub fn rest(&self) -> &str {
        self.offsets.get(self.at).map_or("", |&o| &self.sql[o..])
    }

    /// `( ... )`: the text between balanced parentheses, consumed with them.
    pub fn paren_text(&mut self) -> Result<String, String> {
        self.expect_symbol(Token::LParen)?;
        let start = self.offsets.get(self.at).copied().unwrap_or(self.sql.len());
        let mut depth = 1;
        while let Some(t) = self.peek() {
            match t {
                Token::LParen => depth += 1,
                Token::RParen => {
                    depth -= 1;
                    if depth == 0 {
                        let end = self.offsets[self.at];
                        self.at += 1;
                        return Ok(self.sql[start..end].to_string());
                    }
                }
                _ => {}
            }
            self.at += 1;
        }
        Err(self.unexpected("')'"))
    }

    /// The next token, unconsumed.
    pub fn next_token(&self) -> Option<&Token> {
        self.peek()
    }

    fn peek(&self) -> Option<&Token> {
        self.toks.get(self.at)
    }

    /// Consumes `kw` (case-insensitive, unquoted) if it is next.
    pub fn keyword(&mut self, kw: &str) -> bool {
        match self.peek() {
            Some(Token::Word(w)) if w.quote_style.is_none() && w.value.eq_ignore_ascii_case(kw) => {
                self.at += 1;
                true
            }
            _ => false,
        }
    }

    /// Consumes a sequence of keywords, all or none.
    pub fn keywords(&mut self, kws: &[&str]) -> bool {
        let start = self.at;
        for k in kws {
            if !self.keyword(k) {
                self.at = start;
                return false;
            }
        }
        true
    }

    pub fn expect(&mut self, kw: &str) -> Result<(), String> {
        if self.keyword(kw) {
            Ok(())
        } else {
            Err(self.unexpected(&format!("'{kw}'")))
        }
    }

    pub fn unexpected(&self, wanted: &str) -> String {
        match self.peek() {
            Some(t) => format!("line 1: mismatched input '{t}'. Expecting: {wanted}"),
            None => format!("line 1: mismatched input '<EOF>'. Expecting: {wanted}"),
        }
    }

    /// An identifier (quoted or not); unquoted ones are folded to lower case.
    pub fn ident(&mut self) -> Result<String, String> {
        match self.peek().cloned() {
            Some(Token::Word(w)) => {
                self.at += 1;
                Ok(if w.quote_style.is_some() {
                    w.value
                } else {
                    w.value.to_lowercase()
                })
            }
            _ => Err(self.unexpected("<identifier>")),
        }
    }

    /// `name` or `db.name` (a catalog prefix `awsdatacatalog.db.name` is allowed).
    pub fn qualified(&mut self) -> Result<(Option<String>, String), String> {
        let mut parts = vec![self.ident()?];
        while self.peek() == Some(&Token::Period) {
            self.at += 1;
            parts.push(self.ident()?);
        }
        let name = parts.pop().unwrap_or_default();
        Ok((parts.pop(), name))
    }

    pub fn string(&mut self) -> Result<String, String> {
        match self.peek().cloned() {
            Some(Token::SingleQuotedString(s)) | Some(Token::DoubleQuotedString(s)) => {
                self.at += 1;
                Ok(s)
            }
            _ => Err(self.unexpected("<string>")),
        }
    }

    /// A literal value: a string or a number, as text.
    pub fn literal(&mut self) -> Result<String, String> {
        match self.peek().cloned() {
            Some(Token::SingleQuotedString(s)) => {
                self.at += 1;
                Ok(s)
            }
            Some(Token::Number(n, _)) => {
                self.at += 1;
                Ok(n)
            }
            _ => Err(self.unexpected("<literal>")),
        }
    }

    pub fn symbol(&mut self, t: Token) -> bool {
        if self.peek() == Some(&t) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    pub fn expect_symbol(&mut self, t: Token) -> Result<(), String> {
        let text = t.to_string();
        if self.symbol(t) {
            Ok(())
        } else {
            Err(self.unexpected(&format!("'{text}'")))
        }
    }

    /// Whether only a `;` (or nothing) is left.
    pub fn at_end(&mut self) -> bool {
        while self.symbol(Token::SemiColon) {}
        self.peek().is_none() || self.peek() == Some(&Token::EOF)
    }

    pub fn end(&mut self) -> Result<(), String> {
        if self.at_end() {
            Ok(())
        } else {
            Err(self.unexpected("<EOF>"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rest_and_parentheses_keep_the_source_text() {
        let mut w = Words::new("UNLOAD (SELECT 'é', \"x\"\n  FROM t) TO 's3://b/'")
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(w.keyword("unload"));
        assert_eq!(w.paren_text().as_deref(), Ok("SELECT 'é', \"x\"\n  FROM t"));
        assert!(w.keyword("to"));
        assert_eq!(w.rest(), "'s3://b/'");
    }
}
