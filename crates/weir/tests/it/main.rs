//! Weir's integration tests: a real server on a loopback port, driven by real clients.
#![allow(clippy::expect_used, clippy::unwrap_used)] // tests may panic on failure

mod auth;
mod crash;
mod firehose;
mod harness;
mod kinesis_cases;
mod kinesis_control;
mod kinesis_errors;
mod kinesis_fanout;
mod kinesis_limits;
mod kinesis_records;
mod kinesis_reshard;
mod restart;
mod routing;
mod s3;
mod s3_remote;
mod wire;
