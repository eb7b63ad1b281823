//! Weir's streaming SQL engine (issues #13 and #14; plan: docs/adr/0007). So far: reading
//! Flink's `CREATE TABLE` — the columns, computed columns, `WATERMARK FOR` and `WITH` options
//! sqlparser cannot parse — from tokens ([`sql::parse_create_table`]).

pub mod sql;
