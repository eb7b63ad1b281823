//! Window panes past the state budget move to spill files and still fire as if kept in memory,
//! through a restart from a checkpoint too.

use super::keyed::{check_window_answers, put_rows, window_join_and_top, window_rows};
use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn window_panes_spill_past_the_state_budget_and_fire_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let log = open_log(dir.path());
    for s in ["lefts", "rights", "wjoined", "wtop"] {
        create(&log, s, 1);
    }
    // A budget of one byte: every pane moves to a spill file as soon as it is kept.
    let e = engine_with(dir.path(), &log, 1);
    let mut s = Session::new(e.clone(), BTreeMap::new());
    let (join, top) = window_join_and_top(&mut s).await;
    // The first window's rows in two puts: the second lands in panes already spilled.
    put_rows(&log, window_rows(0, 0..10)).await;
    until(&e, &join, "spilled", |j| j.spilled_bytes > 0).await;
    until(&e, &top, "spilled", |j| j.spilled_bytes > 0).await;
    put_rows(&log, window_rows(0, 10..20)).await;
    until(&e, &join, "all read", |j| j.records_in == 100).await;
    until(&e, &top, "all read", |j| j.records_in == 60).await;
    for id in [&join, &top] {
        until(&e, id, "in memory: nothing", |j| j.state_bytes == 0).await;
    }
    let spill = dir
        .path()
        .join("stream")
        .join("jobs")
        .join(&join)
        .join("spill");
    assert!(std::fs::read_dir(&spill).unwrap().count() > 0);
    // Shutting down saves a last checkpoint: every first-window row in it.
    e.shutdown().await;
    drop(e);
    // Restarted: the checkpoint's panes are read back into spill files, not into memory.
    let e = engine_with(dir.path(), &log, 1);
    e.start().await;
    until(&e, &join, "spilled again", |j| j.spilled_bytes > 0).await;
    put_rows(&log, window_rows(1, 0..20)).await;
    // Exactly the answer: nothing lost, nothing twice (the restart resumed where the
    // checkpoint stood, after every first-window row).
    check_window_answers(&log).await;
    e.shutdown().await;
}
