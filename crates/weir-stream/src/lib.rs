//! Weir's streaming SQL engine (issues #13 and #14; design: docs/adr/0007). Flink SQL sessions
//! ([`session::Session`]) define tables over Weir streams and start jobs with
//! `INSERT INTO ... SELECT ...`; a job ([`job`]) reads every shard of its source, decodes
//! records by the table's format, runs the stateless parts of its query as DataFusion plans
//! ([`stage`]) and its window aggregates through Weir's window state ([`window`]) as watermarks
//! pass, writes to its sink ([`sink`]) and checkpoints positions with state ([`checkpoint`]).

pub mod changelog;
mod checkpoint;
mod decode;
pub mod engine;
pub mod error;
mod functions;
mod glue;
pub mod job;
pub mod kda;
mod kda_analytic;
mod kda_distinct;
mod kda_fast_regex;
mod kda_functions;
mod kda_hotspots;
mod kda_mapping;
mod kda_parse;
mod kda_rcf;
mod kda_w3c;
pub mod plan;
pub mod session;
pub mod sink;
pub mod sql;
mod stage;
pub mod table;
pub mod types;
mod window;

pub use datafusion::arrow;
pub use engine::{Engine, EngineConfig, JobInfo, JobSpec};
pub use error::{Result, StreamError};
pub use session::{Outcome, Session};
