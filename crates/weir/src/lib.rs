//! The `weir` binary's library half: configuration, server start-up, the load generator.

pub mod bench;
pub mod client;
pub mod config;
mod msk_doors;
pub mod server;
pub mod sql;
pub mod sql_flink;
