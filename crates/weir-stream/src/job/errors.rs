//! Records a source could not decode, written to the stream its table names for them
//! (`'weir.errors.stream' = '<region>:<stream>'`) as rows of Kinesis Data Analytics' `error_stream`: ERROR_TIME,
//! ERROR_LEVEL, ERROR_NAME, MESSAGE, DATA_ROWTIME, DATA_ROW, PUMP_NAME. At least once: a
//! record read again after a restart is reported again.

use bytes::Bytes;
use weir_log::{Log, PutEntry, StreamKey};

use super::lanes::Prepared;
use crate::decode::ERRORS_OPTION;
use crate::error::Result;
use crate::table::TableDef;

/// Each error stream reported to by one part of a statement set: the other parts reading the
/// same table decode the same records and would report them again.
pub(super) fn one_reporter(plans: &mut [crate::plan::JobPlan]) {
    let mut claimed = std::collections::BTreeSet::new();
    for plan in plans {
        for source in &mut plan.sources {
            let options = &mut source.table.flink.options;
            if let Some(target) = options.get(ERRORS_OPTION).cloned() {
                if !claimed.insert(target) {
                    options.remove(ERRORS_OPTION);
                }
            }
        }
    }
}

/// A job's option: a KDA application's pumps by the stream each inserts into, as a JSON
/// object (error_stream's PUMP_NAME for the rows a pump fails on).
pub const PUMPS_OPTION: &str = "weir.kda.pumps";

/// Rows written per put.
const BATCH: usize = 500;

/// `text` cut to at most `chars` characters.
fn cut(text: &str, chars: usize) -> String {
    text.chars().take(chars).collect()
}

/// Lower-case hex of `bytes`.
fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// KDA's timestamp text (`yyyy-MM-dd HH:mm:ss.SSS`, UTC).
fn time(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S%.3f").to_string())
        .unwrap_or_default()
}

/// Takes the prepared shards' rejected records and writes them to the table's errors stream.
pub(super) async fn write(log: &Log, table: &TableDef, prepared: &mut [Prepared]) -> Result<()> {
    let rejected: Vec<_> = prepared
        .iter_mut()
        .flat_map(|p| std::mem::take(&mut p.rejected))
        .collect();
    write_rejected(log, table, rejected).await
}

/// Takes the rows the query failed on and writes them to the table's SQL errors stream
/// (`pump`: the pump whose query it is).
pub(super) async fn write_failed(
    log: &Log,
    table: &TableDef,
    prepared: &mut [Prepared],
    pump: Option<&str>,
) -> Result<()> {
    let failed: Vec<_> = prepared
        .iter_mut()
        .flat_map(|p| std::mem::take(&mut p.failed))
        .map(|mut r| {
            r.pump = pump.map(str::to_string);
            r
        })
        .collect();
    if failed.is_empty() {
        return Ok(());
    }
    tracing::warn!(
        rows = failed.len(),
        table = table.name(),
        "rows the query failed on set apart"
    );
    let target = table.flink.options.get(super::lanes::SQL_ERRORS_OPTION);
    write_to(log, target.map(String::as_str), failed).await
}

/// Writes rejected records to the table's errors stream (when it has one).
pub(super) async fn write_rejected(
    log: &Log,
    table: &TableDef,
    rejected: Vec<crate::decode::Rejected>,
) -> Result<()> {
    let target = table.flink.options.get(ERRORS_OPTION);
    write_to(log, target.map(String::as_str), rejected).await
}

/// Writes rejected records as error_stream rows to `target` (`region:stream`).
async fn write_to(
    log: &Log,
    target: Option<&str>,
    rejected: Vec<crate::decode::Rejected>,
) -> Result<()> {
    let Some((region, stream)) = target.and_then(|o| o.split_once(':')) else {
        return Ok(());
    };
    if rejected.is_empty() {
        return Ok(());
    }
    let now = crate::functions::now_ms();
    let mut entries: Vec<PutEntry> = rejected
        .iter()
        .map(|r| {
            // Cut to the widths of error_stream's columns, so a row always fits a record.
            let row = serde_json::json!({
                "ERROR_TIME": time(now),
                "ERROR_LEVEL": "ERROR",
                "ERROR_NAME": r.name,
                "MESSAGE": cut(&r.message, 4096),
                "DATA_ROWTIME": time(r.arrival_ms),
                // Hex-encoded, as AWS documents it (49,152 characters: 24,576 bytes).
                "DATA_ROW": hex(&r.data[..r.data.len().min(24_576)]),
                "PUMP_NAME": r.pump,
            });
            PutEntry {
                partition_key: format!("error-{}", r.arrival_ms),
                explicit_hash_key: None,
                data: Bytes::from(row.to_string()),
            }
        })
        .collect();
    // Reporting is best effort: a refused write is logged, never the job's failure.
    let key = StreamKey::new(region, stream);
    while !entries.is_empty() {
        let rest = entries.split_off(entries.len().min(BATCH));
        if let Err(e) = log
            .put_all(&key, std::mem::replace(&mut entries, rest))
            .await
        {
            tracing::warn!(error = %e, stream, "error_stream rows not written");
        }
    }
    Ok(())
}
