//! `kill -9` under load: every acknowledged record survives, intact and in order.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_sdk_kinesis::primitives::Blob;
use aws_sdk_kinesis::types::PutRecordsRequestEntry;

use crate::harness::{create_active, kinesis_client, read_shard};

pub(crate) struct Child9 {
    pub child: Child,
    pub endpoint: String,
}

pub(crate) fn spawn_server(dir: &std::path::Path) -> Child9 {
    let mut child = Command::new(env!("CARGO_BIN_EXE_weir"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir)
        .env("NO_COLOR", "1")
        .env("WEIR_KINESIS__CREATE_DELAY_MS", "0")
        .env("WEIR_FIREHOSE__CREATE_DELAY_MS", "0")
        // Servers of tests running at once cannot all have the gateway's default port.
        .env("WEIR_FLINK__LISTEN", "127.0.0.1:0")
        .env("WEIR_KAFKA__LISTEN", "127.0.0.1:0")
        .env("WEIR_KINESIS__SEGMENT_BYTES", "65536")
        // Checkpoints (saved segment indexes) happen under load too.
        .env("WEIR_HOUSEKEEPING_INTERVAL_MS", "20")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn weir");
    let stderr = child.stderr.take().expect("stderr");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut tx = Some(tx);
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(rest) = line.split("listening on http://").nth(1) {
                let addr = rest.split_whitespace().next().unwrap_or("").to_string();
                if let Some(tx) = tx.take() {
                    let _ = tx.send(addr);
                }
            }
        }
    });
    let addr = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("server reports its address");
    Child9 {
        child,
        endpoint: format!("http://{addr}"),
    }
}

type Acked = Arc<Mutex<HashMap<String, Vec<(String, Vec<u8>)>>>>;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_records_survive_sigkill() {
    let dir = tempfile::tempdir().expect("tmp");
    let acked: Acked = Arc::new(Mutex::new(HashMap::new()));
    let mut server = spawn_server(dir.path());
    create_active(&kinesis_client(&server.endpoint, "us-east-1"), "crash", 3).await;
    let started = Instant::now();
    for cycle in 0..4u32 {
        let client = kinesis_client(&server.endpoint, "us-east-1");
        let mut writers = Vec::new();
        for w in 0..6u32 {
            let client = client.clone();
            let acked = acked.clone();
            writers.push(tokio::spawn(async move {
                for n in 0u32.. {
                    let entries: Vec<_> = (0..20u32)
                        .map(|i| {
                            let data = format!(
                                "c{cycle}-w{w}-n{n}-i{i}-{}",
                                "x".repeat((i * 37 % 400) as usize)
                            );
                            PutRecordsRequestEntry::builder()
                                .data(Blob::new(data))
                                .partition_key(format!("w{w}-{i}"))
                                .build()
                                .expect("entry")
                        })
                        .collect();
                    let datas: Vec<Vec<u8>> =
                        entries.iter().map(|e| e.data().as_ref().to_vec()).collect();
                    match client
                        .put_records()
                        .stream_name("crash")
                        .set_records(Some(entries))
                        .send()
                        .await
                    {
                        Ok(out) => {
                            let mut a = acked.lock().expect("lock");
                            for (r, d) in out.records().iter().zip(datas) {
                                if let (Some(shard), Some(seq)) =
                                    (r.shard_id(), r.sequence_number())
                                {
                                    a.entry(shard.to_string())
                                        .or_default()
                                        .push((seq.to_string(), d));
                                }
                            }
                        }
                        Err(_) => return,
                    }
                }
            }));
        }
        // Kill at a random moment while the writers are busy.
        let wait = 50 + (rand::random::<u64>() % 250);
        tokio::time::sleep(Duration::from_millis(wait)).await;
        server.child.kill().expect("SIGKILL");
        let _ = server.child.wait();
        for w in writers {
            let _ = w.await;
        }
        server = spawn_server(dir.path());
        let client = kinesis_client(&server.endpoint, "us-east-1");
        let acked_now = acked.lock().expect("lock").clone();
        for (shard, records) in &acked_now {
            let stored = read_shard(&client, "crash", shard).await;
            let by_seq: HashMap<&str, &[u8]> = stored
                .iter()
                .map(|r| (r.sequence_number(), r.data().as_ref()))
                .collect();
            for w in stored.windows(2) {
                assert!(
                    w[0].sequence_number() < w[1].sequence_number(),
                    "order within {shard}"
                );
            }
            for (seq, data) in records {
                let got = by_seq
                    .get(seq.as_str())
                    .unwrap_or_else(|| panic!("cycle {cycle}: acknowledged {seq} in {shard} lost"));
                assert_eq!(*got, data.as_slice(), "record {seq} intact");
            }
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "crash test stays bounded"
        );
    }
    let total: usize = acked.lock().expect("lock").values().map(Vec::len).sum();
    assert!(total > 0, "some writes were acknowledged");
    server.child.kill().expect("kill");
    let _ = server.child.wait();
}
