//! Jobs as Flink's JobManager REST API shows them (`/jobs/overview`, `/jobs/<id>`): `jid`,
//! `name`, `state`, `start-time`, `end-time` (-1 while running), `duration`; Weir's counters
//! (records in and out, late rows dropped, records skipped, watermark, checkpoints and the last
//! one's time, lag per shard) under `weir`.

use serde_json::{json, Value};
use weir_stream::JobInfo;

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

pub fn overview(j: &JobInfo) -> Value {
    let end = j.spec.end_ms.unwrap_or(-1);
    let until = if end < 0 { now_ms() } else { end };
    json!({
        "jid": j.spec.id,
        "name": j.spec.name,
        "state": j.spec.state.as_str(),
        "start-time": j.spec.start_ms,
        "end-time": end,
        "duration": (until - j.spec.start_ms).max(0),
        "last-modification": until,
    })
}

pub fn detail(j: &JobInfo) -> Value {
    let mut v = overview(j);
    if let Value::Object(m) = &mut v {
        m.insert(
            "weir".into(),
            json!({
                "records-in": j.records_in,
                "records-out": j.records_out,
                "late-records-dropped": j.late_dropped,
                "records-skipped": j.skipped,
                "state-bytes": j.state_bytes,
                "state-spilled-bytes": j.spilled_bytes,
                "state-parts": j.state_parts,
                "watermark": j.watermark,
                "checkpoints": j.checkpoints,
                "last-checkpoint-time": j.checkpoint_ms,
                "checkpoint-age-ms": j.checkpoint_ms.map(|c| (now_ms() - c).max(0)),
                "lag": j.lag,
                "error": j.spec.error,
            }),
        );
    }
    v
}
