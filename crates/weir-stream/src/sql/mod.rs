//! Flink and KDA SQL that sqlparser cannot read, taken apart from sqlparser's tokens (never by
//! editing strings, so quoting cannot fool it).

mod flink_ddl;
mod group_window;
pub mod kda;
mod kda_cursor;
mod kda_function;
mod kda_join;
mod kda_models;
mod kda_stagger;
mod lookup;
mod window_tvf;

pub use flink_ddl::{parse_create_table, Column, FlinkTable, Watermark};
pub use group_window::rewrite_group_windows;
pub use lookup::extract_lookups;
pub use window_tvf::{extract_window_tvfs, WindowKind, WindowTvf};

/// A token as SQL text. sqlparser's `Display` does not escape quotes inside quoted strings and
/// identifiers, so those are written here (`'it''s'`, `"a""b"`).
pub(crate) fn token_sql(t: &sqlparser::tokenizer::Token) -> String {
    use sqlparser::tokenizer::Token;
    let quote = |q: char, s: &str| format!("{q}{}{q}", s.replace(q, &format!("{q}{q}")));
    match t {
        Token::SingleQuotedString(s) => quote('\'', s),
        Token::NationalStringLiteral(s) => format!("N{}", quote('\'', s)),
        Token::EscapedStringLiteral(s) => format!("E{}", quote('\'', s)),
        Token::Word(w) => match w.quote_style {
            Some(q @ ('"' | '`')) => quote(q, &w.value),
            Some('[') => format!("[{}]", w.value),
            _ => t.to_string(),
        },
        _ => t.to_string(),
    }
}

/// A statement that is not what it should be.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SqlError {
    #[error("SQL parse error: {0}")]
    Parse(String),
}
