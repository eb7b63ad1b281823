//! Flink and KDA SQL that sqlparser cannot read, taken apart from sqlparser's tokens (never by
//! editing strings, so quoting cannot fool it).

mod flink_ddl;

pub use flink_ddl::{parse_create_table, Column, FlinkTable, Watermark};

/// A statement that is not what it should be.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SqlError {
    #[error("SQL parse error: {0}")]
    Parse(String),
}
