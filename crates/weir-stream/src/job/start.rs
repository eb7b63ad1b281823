//! Where a job starts: its sources' streams and start positions, fixed in checkpoint 0 when
//! the job is submitted.

use std::collections::BTreeMap;

use weir_delivery::{Checkpoint, Resume};
use weir_log::{Log, StreamKey};

use crate::checkpoint::{JobFiles, Meta};
use crate::error::{Result, StreamError};
use crate::functions::now_ms;
use crate::plan::JobPlan;
use crate::table::{Connector, StartPosition, TableDef};

/// A source table's stream, and where shards found without a position start.
pub(super) fn source_key(table: &TableDef) -> Result<(StreamKey, Resume)> {
    let Connector::Kinesis {
        stream,
        region,
        start,
        ..
    } = &table.connector
    else {
        return Err(StreamError::Validation(format!(
            "Table '{}' cannot be read: it is not a Kinesis table",
            table.name()
        )));
    };
    let resume = match start {
        StartPosition::AtTimestamp(ms) => Resume::AtTimestamp(*ms),
        // LATEST positions every open shard at the start; shards found later (children) are
        // read from their beginning.
        StartPosition::Latest | StartPosition::TrimHorizon => Resume::TrimHorizon,
    };
    Ok((StreamKey::new(region.clone(), stream.clone()), resume))
}

/// Fixes where a new job starts reading (LATEST means the streams' ends now, when the job is
/// submitted) by saving checkpoint 0, so the start does not move if the job restarts before
/// its first checkpoint.
pub async fn prepare(plan: &JobPlan, log: &Log, files: &JobFiles) -> Result<()> {
    if files.dir().join("checkpoint.json").exists() {
        return Ok(());
    }
    let mut positions = BTreeMap::new();
    for sp in &plan.sources {
        let (key, _) = source_key(&sp.table)?;
        let mut c = Checkpoint::default();
        if let Connector::Kinesis {
            start: StartPosition::Latest,
            ..
        } = &sp.table.connector
        {
            for (shard, seq) in log.latest_positions(&key)? {
                c.shards.insert(shard, Resume::At(seq));
            }
            // Closed shards hold only what came before the start: read, as far as this is concerned.
            c.finished = log.closed_shards(&key)?;
        }
        positions.insert(sp.table.name().to_string(), c);
    }
    let meta = Meta {
        number: 0,
        saved_ms: now_ms(),
        positions,
        watermark: i64::MIN,
        shard_watermarks: BTreeMap::new(),
        records_in: 0,
        records_out: 0,
    };
    let f = files.clone();
    tokio::task::spawn_blocking(move || f.save(meta, BTreeMap::new(), &[]))
        .await
        .map_err(|e| StreamError::Unsupported(format!("checkpoint: {e}")))?
}
