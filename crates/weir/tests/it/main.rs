//! Weir's integration tests: a real server on a loopback port, driven by real clients.

mod crash;
mod harness;
mod kinesis_control;
mod kinesis_errors;
mod kinesis_records;
mod restart;
mod wire;
