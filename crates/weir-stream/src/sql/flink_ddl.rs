//! Flink's `CREATE [TEMPORARY] TABLE [IF NOT EXISTS] name (...) [COMMENT '...']
//! [PARTITIONED BY (...)] WITH ('key' = 'value', ...)`: physical columns (`name TYPE`, with
//! `METADATA [FROM 'key'] [VIRTUAL]`, `NOT NULL`, `COMMENT '...'`), computed columns
//! (`name AS expr`), `WATERMARK FOR column AS expr`, `[CONSTRAINT c] PRIMARY KEY (...) NOT
//! ENFORCED`, and the connector options. Types and expressions are kept as SQL text, to be
//! planned by DataFusion with the table's columns in scope.

use std::collections::BTreeMap;

use sqlparser::dialect::GenericDialect;
use sqlparser::keywords::Keyword;
use sqlparser::tokenizer::{Token, Tokenizer, Word};

use super::SqlError;

/// A Flink table definition.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FlinkTable {
    pub name: String,
    pub temporary: bool,
    pub if_not_exists: bool,
    pub columns: Vec<Column>,
    pub watermark: Option<Watermark>,
    pub primary_key: Vec<String>,
    pub partitioned_by: Vec<String>,
    pub comment: Option<String>,
    /// The `WITH` options, as written (`connector`, `stream`, `format`, ...).
    pub options: BTreeMap<String, String>,
}

/// A column of a Flink table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Column {
    /// Stored in the record: its name and SQL type; `metadata` names the connector's metadata
    /// key for `METADATA [FROM 'key']` columns (the column name when no key is given).
    Physical {
        name: String,
        data_type: String,
        not_null: bool,
        metadata: Option<String>,
    },
    /// Computed from other columns: `name AS expr`.
    Computed { name: String, expr: String },
}

impl Column {
    pub fn name(&self) -> &str {
        match self {
            Column::Physical { name, .. } | Column::Computed { name, .. } => name,
        }
    }
}

/// `WATERMARK FOR column AS expr`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Watermark {
    pub column: String,
    pub expr: String,
}

/// Reads a Flink `CREATE TABLE` statement.
pub fn parse_create_table(sql: &str) -> Result<FlinkTable, SqlError> {
    let tokens = Tokenizer::new(&GenericDialect {}, sql)
        .tokenize()
        .map_err(|e| SqlError::Parse(e.to_string()))?;
    let mut p = Tokens::new(tokens);
    let mut t = FlinkTable::default();
    p.expect_keyword(Keyword::CREATE)?;
    t.temporary = p.keyword(Keyword::TEMPORARY);
    p.expect_keyword(Keyword::TABLE)?;
    if p.keyword(Keyword::IF) {
        p.expect_keyword(Keyword::NOT)?;
        p.expect_keyword(Keyword::EXISTS)?;
        t.if_not_exists = true;
    }
    t.name = p.object_name()?;
    p.expect(&Token::LParen)?;
    for item in p.items()? {
        read_item(&mut t, item)?;
    }
    loop {
        if p.keyword(Keyword::COMMENT) {
            t.comment = Some(p.string()?);
        } else if p.keyword(Keyword::PARTITIONED) {
            p.expect_keyword(Keyword::BY)?;
            p.expect(&Token::LParen)?;
            t.partitioned_by = p.identifier_list()?;
        } else if p.keyword(Keyword::WITH) {
            p.expect(&Token::LParen)?;
            t.options = p.options()?;
        } else {
            break;
        }
    }
    p.keyword_token(&Token::SemiColon);
    match p.peek() {
        None => Ok(t),
        Some(tok) => Err(SqlError::Parse(format!(
            "Expected: end of statement, found: {tok}"
        ))),
    }
}

/// One comma-separated item of the column list.
fn read_item(t: &mut FlinkTable, item: Vec<Token>) -> Result<(), SqlError> {
    let mut p = Tokens::new(item);
    if p.keyword_named("WATERMARK") {
        p.expect_keyword(Keyword::FOR)?;
        let column = p.identifier()?;
        p.expect_keyword(Keyword::AS)?;
        t.watermark = Some(Watermark {
            column,
            expr: p.rest_text()?,
        });
        return Ok(());
    }
    if p.keyword(Keyword::CONSTRAINT) {
        p.identifier()?;
    }
    if p.keyword(Keyword::PRIMARY) {
        p.expect_keyword(Keyword::KEY)?;
        p.expect(&Token::LParen)?;
        t.primary_key = p.identifier_list()?;
        p.expect_keyword(Keyword::NOT)?;
        p.expect_keyword(Keyword::ENFORCED)?;
        return p.end();
    }
    let name = p.identifier()?;
    if p.keyword(Keyword::AS) {
        let expr = p.text_until_keyword(Keyword::COMMENT)?;
        if p.keyword(Keyword::COMMENT) {
            p.string()?;
        }
        p.end()?;
        t.columns.push(Column::Computed { name, expr });
        return Ok(());
    }
    // The type runs until a column modifier.
    let modifiers = [
        Keyword::METADATA,
        Keyword::NOT,
        Keyword::NULL,
        Keyword::COMMENT,
        Keyword::PRIMARY,
    ];
    let data_type = p.text_until(
        true,
        |tok| matches!(tok, Token::Word(w) if modifiers.contains(&w.keyword)),
    )?;
    if data_type.is_empty() {
        return Err(SqlError::Parse(format!(
            "Expected: a data type for column {name}"
        )));
    }
    let (mut not_null, mut metadata) = (false, None);
    loop {
        if p.keyword(Keyword::METADATA) {
            metadata = Some(if p.keyword(Keyword::FROM) {
                p.string()?
            } else {
                name.clone()
            });
            p.keyword_named("VIRTUAL");
        } else if p.keyword(Keyword::NOT) {
            p.expect_keyword(Keyword::NULL)?;
            not_null = true;
        } else if p.keyword(Keyword::NULL) {
        } else if p.keyword(Keyword::COMMENT) {
            p.string()?;
        } else if p.keyword(Keyword::PRIMARY) {
            p.expect_keyword(Keyword::KEY)?;
            p.expect_keyword(Keyword::NOT)?;
            p.expect_keyword(Keyword::ENFORCED)?;
            t.primary_key = vec![name.clone()];
        } else {
            break;
        }
    }
    p.end()?;
    t.columns.push(Column::Physical {
        name,
        data_type,
        not_null,
        metadata,
    });
    Ok(())
}

/// A cursor over tokens; whitespace is skipped when looking, kept when copying text.
struct Tokens {
    tokens: Vec<Token>,
    at: usize,
}

impl Tokens {
    fn new(tokens: Vec<Token>) -> Tokens {
        Tokens { tokens, at: 0 }
    }

    fn skip_ws(&mut self) {
        while matches!(self.tokens.get(self.at), Some(Token::Whitespace(_))) {
            self.at += 1;
        }
    }

    fn peek(&mut self) -> Option<&Token> {
        self.skip_ws();
        self.tokens.get(self.at)
    }

    fn next(&mut self) -> Option<Token> {
        self.skip_ws();
        let t = self.tokens.get(self.at).cloned();
        self.at += usize::from(t.is_some());
        t
    }

    fn found(&mut self) -> String {
        self.peek()
            .map_or_else(|| "EOF".to_string(), ToString::to_string)
    }

    fn keyword(&mut self, k: Keyword) -> bool {
        match self.peek() {
            Some(Token::Word(w)) if w.keyword == k && w.quote_style.is_none() => {
                self.at += 1;
                true
            }
            _ => false,
        }
    }

    /// A word that sqlparser has no keyword for.
    fn keyword_named(&mut self, name: &str) -> bool {
        match self.peek() {
            Some(Token::Word(w))
                if w.quote_style.is_none() && w.value.eq_ignore_ascii_case(name) =>
            {
                self.at += 1;
                true
            }
            _ => false,
        }
    }

    fn keyword_token(&mut self, t: &Token) -> bool {
        if self.peek() == Some(t) {
            self.at += 1;
            return true;
        }
        false
    }

    fn expect_keyword(&mut self, k: Keyword) -> Result<(), SqlError> {
        if self.keyword(k) {
            return Ok(());
        }
        Err(SqlError::Parse(format!(
            "Expected: {k:?}, found: {}",
            self.found()
        )))
    }

    fn expect(&mut self, t: &Token) -> Result<(), SqlError> {
        if self.keyword_token(t) {
            return Ok(());
        }
        Err(SqlError::Parse(format!(
            "Expected: {t}, found: {}",
            self.found()
        )))
    }

    fn end(&mut self) -> Result<(), SqlError> {
        match self.peek() {
            None => Ok(()),
            Some(_) => Err(SqlError::Parse(format!(
                "Expected: , or ), found: {}",
                self.found()
            ))),
        }
    }

    /// An identifier as written: quoted ones keep their case, unquoted ones too (Flink's
    /// identifiers are case-sensitive).
    fn identifier(&mut self) -> Result<String, SqlError> {
        match self.next() {
            Some(Token::Word(Word { value, .. })) => Ok(value),
            other => Err(SqlError::Parse(format!(
                "Expected: an identifier, found: {}",
                other.map_or_else(|| "EOF".to_string(), |t| t.to_string())
            ))),
        }
    }

    /// `a.b.c`, joined with dots.
    fn object_name(&mut self) -> Result<String, SqlError> {
        let mut parts = vec![self.identifier()?];
        while self.keyword_token(&Token::Period) {
            parts.push(self.identifier()?);
        }
        Ok(parts.join("."))
    }

    /// `a, b, c)` (the opening parenthesis already read).
    fn identifier_list(&mut self) -> Result<Vec<String>, SqlError> {
        let mut names = vec![self.identifier()?];
        while self.keyword_token(&Token::Comma) {
            names.push(self.identifier()?);
        }
        self.expect(&Token::RParen)?;
        Ok(names)
    }

    fn string(&mut self) -> Result<String, SqlError> {
        match self.next() {
            Some(Token::SingleQuotedString(s)) => Ok(s),
            other => Err(SqlError::Parse(format!(
                "Expected: a string literal, found: {}",
                other.map_or_else(|| "EOF".to_string(), |t| t.to_string())
            ))),
        }
    }

    /// `'k' = 'v', ...)` (the opening parenthesis already read).
    fn options(&mut self) -> Result<BTreeMap<String, String>, SqlError> {
        let mut options = BTreeMap::new();
        if self.keyword_token(&Token::RParen) {
            return Ok(options);
        }
        loop {
            let key = self.string()?;
            self.expect(&Token::Eq)?;
            let value = self.string()?;
            if options.insert(key.clone(), value).is_some() {
                return Err(SqlError::Parse(format!("Option '{key}' is given twice")));
            }
            if self.keyword_token(&Token::RParen) {
                return Ok(options);
            }
            self.expect(&Token::Comma)?;
        }
    }

    /// The items of a parenthesised, comma-separated list (the opening parenthesis already
    /// read), split at commas outside parentheses and outside `ROW<...>`/`ARRAY<...>`/`MAP<...>`/
    /// `MULTISET<...>` type brackets.
    fn items(&mut self) -> Result<Vec<Vec<Token>>, SqlError> {
        let (mut items, mut item) = (Vec::new(), Vec::new());
        let (mut parens, mut angles) = (0usize, 0usize);
        let mut last_word: Option<String> = None;
        loop {
            let Some(tok) = self.tokens.get(self.at).cloned() else {
                return Err(SqlError::Parse("Expected: ), found: EOF".into()));
            };
            self.at += 1;
            match &tok {
                Token::LParen => parens += 1,
                Token::RParen if parens == 0 => {
                    items.push(std::mem::take(&mut item));
                    return Ok(items.into_iter().filter(|i| !blank(i)).collect());
                }
                Token::RParen => parens -= 1,
                Token::Lt
                    if last_word.as_deref().is_some_and(is_type_constructor) || angles > 0 =>
                {
                    angles += 1
                }
                Token::Gt if angles > 0 => angles -= 1,
                Token::ShiftRight if angles > 0 => angles = angles.saturating_sub(2),
                Token::Comma if parens == 0 && angles == 0 => {
                    items.push(std::mem::take(&mut item));
                    last_word = None;
                    continue;
                }
                _ => {}
            }
            if !matches!(tok, Token::Whitespace(_)) {
                last_word = match &tok {
                    Token::Word(w) if w.quote_style.is_none() => Some(w.value.to_ascii_uppercase()),
                    _ => None,
                };
            }
            item.push(tok);
        }
    }

    /// The rest of the tokens as SQL text.
    fn rest_text(&mut self) -> Result<String, SqlError> {
        self.text_until(false, |_| false)
    }

    fn text_until_keyword(&mut self, k: Keyword) -> Result<String, SqlError> {
        self.text_until(
            false,
            |tok| matches!(tok, Token::Word(w) if w.keyword == k && w.quote_style.is_none()),
        )
    }

    /// The tokens up to (not including) the first at depth 0 that `stop` accepts, as SQL text.
    /// In a type (`type_brackets`) `<...>` nests like parentheses (`ROW<a INT NOT NULL>`); in an
    /// expression `<` and `>` are comparisons.
    fn text_until(
        &mut self,
        type_brackets: bool,
        stop: impl Fn(&Token) -> bool,
    ) -> Result<String, SqlError> {
        let mut text = String::new();
        let mut depth = 0usize;
        self.skip_ws();
        while let Some(tok) = self.tokens.get(self.at) {
            if depth == 0 && stop(tok) {
                break;
            }
            match tok {
                Token::LParen => depth += 1,
                Token::RParen => depth = depth.saturating_sub(1),
                Token::Lt if type_brackets => depth += 1,
                Token::Gt if type_brackets => depth = depth.saturating_sub(1),
                Token::ShiftRight if type_brackets => depth = depth.saturating_sub(2),
                _ => {}
            }
            text.push_str(&super::token_sql(tok));
            self.at += 1;
        }
        Ok(text.trim().to_string())
    }
}

fn blank(tokens: &[Token]) -> bool {
    tokens.iter().all(|t| matches!(t, Token::Whitespace(_)))
}

fn is_type_constructor(word: &str) -> bool {
    matches!(word, "ROW" | "ARRAY" | "MAP" | "MULTISET")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The Kinesis table of the flink-connector-aws docs, with a computed column, a watermark
    /// and metadata columns.
    #[test]
    fn reads_a_kinesis_table() {
        let t = parse_create_table(
            "CREATE TABLE KinesisTable (
                `user_id` BIGINT,
                `item_id` BIGINT,
                `category_id` BIGINT,
                `behavior` STRING,
                `ts` TIMESTAMP(3),
                `arrival` TIMESTAMP(3) METADATA FROM 'timestamp' VIRTUAL,
                shard_id VARCHAR(128) NOT NULL METADATA FROM 'shard-id' VIRTUAL,
                hour_of AS HOUR(ts),
                WATERMARK FOR ts AS ts - INTERVAL '5' SECOND
            )
            PARTITIONED BY (user_id, item_id)
            WITH (
                'connector' = 'kinesis',
                'stream.arn' = 'arn:aws:kinesis:us-east-1:012345678901:stream/user_behavior',
                'aws.region' = 'us-east-1',
                'source.init.position' = 'LATEST',
                'format' = 'csv'
            );",
        )
        .expect("parse");
        assert_eq!(t.name, "KinesisTable");
        let names: Vec<&str> = t.columns.iter().map(Column::name).collect();
        assert_eq!(
            names,
            [
                "user_id",
                "item_id",
                "category_id",
                "behavior",
                "ts",
                "arrival",
                "shard_id",
                "hour_of"
            ]
        );
        assert_eq!(
            t.columns[4],
            Column::Physical {
                name: "ts".into(),
                data_type: "TIMESTAMP(3)".into(),
                not_null: false,
                metadata: None
            }
        );
        assert_eq!(
            t.columns[6],
            Column::Physical {
                name: "shard_id".into(),
                data_type: "VARCHAR(128)".into(),
                not_null: true,
                metadata: Some("shard-id".into())
            }
        );
        assert_eq!(
            t.columns[7],
            Column::Computed {
                name: "hour_of".into(),
                expr: "HOUR(ts)".into()
            }
        );
        assert_eq!(
            t.watermark,
            Some(Watermark {
                column: "ts".into(),
                expr: "ts - INTERVAL '5' SECOND".into()
            })
        );
        assert_eq!(t.partitioned_by, ["user_id", "item_id"]);
        assert_eq!(t.options["connector"], "kinesis");
        assert_eq!(t.options["source.init.position"], "LATEST");
        assert_eq!(t.options.len(), 5);
    }

    /// Nested types keep their commas; a comparison in a computed column is not a type bracket;
    /// keywords inside string literals are text; a primary key is read.
    #[test]
    fn nested_types_literals_and_keys() {
        let t = parse_create_table(
            "CREATE TEMPORARY TABLE IF NOT EXISTS db.orders (
                id STRING,
                items ARRAY<ROW<sku STRING, qty INT>>,
                attrs MAP<STRING, STRING> COMMENT 'free-form, WATERMARK FOR x',
                cheap AS price < 10 AND note <> 'a, b' COMMENT 'under ten',
                flags ROW<a INT NOT NULL, b STRING> NOT NULL,
                price DECIMAL(10, 2),
                note STRING,
                label AS CONCAT(`note`, 'it''s'),
                CONSTRAINT pk PRIMARY KEY (id) NOT ENFORCED
            ) COMMENT 'it''s a table' WITH ('connector' = 'filesystem', 'path' = 's3://lake/orders/')",
        )
        .expect("parse");
        assert!(t.temporary && t.if_not_exists);
        assert_eq!(t.name, "db.orders");
        let types: Vec<String> = t
            .columns
            .iter()
            .map(|c| match c {
                Column::Physical { data_type, .. } => data_type.clone(),
                Column::Computed { expr, .. } => format!("AS {expr}"),
            })
            .collect();
        assert_eq!(
            types,
            [
                "STRING",
                "ARRAY<ROW<sku STRING, qty INT>>",
                "MAP<STRING, STRING>",
                "AS price < 10 AND note <> 'a, b'",
                "ROW<a INT NOT NULL, b STRING>",
                "DECIMAL(10, 2)",
                "STRING",
                "AS CONCAT(`note`, 'it''s')"
            ]
        );
        assert_eq!(t.watermark, None);
        assert_eq!(t.primary_key, ["id"]);
        assert_eq!(t.comment.as_deref(), Some("it's a table"));
        assert_eq!(t.options["path"], "s3://lake/orders/");
    }

    #[test]
    fn mistakes_are_named() {
        for (sql, want) in [
            ("CREATE TABLE t (a INT", "Expected: ), found: EOF"),
            (
                "CREATE TABLE t (a) WITH ()",
                "Expected: a data type for column a",
            ),
            (
                "CREATE TABLE t (a INT) WITH ('k' = 'v', 'k' = 'w')",
                "Option 'k' is given twice",
            ),
            (
                "CREATE TABLE t (a INT) WITH (k = 'v')",
                "Expected: a string literal, found: k",
            ),
            ("CREATE VIEW v AS SELECT 1", "Expected: TABLE, found: VIEW"),
        ] {
            let e = parse_create_table(sql).expect_err(sql).to_string();
            assert!(e.contains(want), "{sql}: {e}");
        }
    }
}
