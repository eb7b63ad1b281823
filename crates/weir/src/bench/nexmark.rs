//! `weir bench nexmark`: Nexmark bids (the generator's shapes and distributions: hot auctions,
//! log-uniform prices, channels, URLs, padding) written as JSON into a Weir stream (the durable
//! log), then Nexmark's queries run over it as Flink SQL jobs into `blackhole` sinks, each
//! timed from submission until it has processed every event; events per second and per CPU
//! second (the job is one task) are printed. A latency run then measures put-to-result time of
//! a one-second tumbling window fed live.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use bytes::Bytes;
use clap::Args;
use rand::{Rng, SeedableRng};
use weir_log::{CreateStream, IteratorStart, Log, LogConfig, PutEntry, StreamKey, StreamMode};
use weir_stream::{Engine, EngineConfig, Outcome, Session};

/// Options of `weir bench nexmark`.
#[derive(Args, Debug, Clone)]
pub struct NexmarkBench {
    /// Bids written before the queries run.
    #[arg(long, default_value_t = 2_000_000)]
    pub events: usize,
    /// Bids per second of event time (how many events a window holds).
    #[arg(long, default_value_t = 10_000)]
    pub event_rate: u64,
    /// Queries to run (comma-separated).
    #[arg(long, default_value = "q0,q1,q2,q5,q7,q8,q19")]
    pub queries: String,
    /// Where the log and jobs live (a temporary directory by default).
    #[arg(long)]
    pub data_dir: Option<std::path::PathBuf>,
    /// Shards of the bid stream (bids spread over them by partition key): a job reads and
    /// decodes its shards on up to one core each.
    #[arg(long, default_value_t = 1)]
    pub shards: u32,
    /// Windows measured by the latency run (0 skips it).
    #[arg(long, default_value_t = 10)]
    pub latency_windows: usize,
}

const BID_TABLE: &str = "CREATE TABLE bid (
    auction BIGINT, bidder BIGINT, price BIGINT, channel STRING, url STRING,
    dateTime TIMESTAMP(3), extra STRING,
    WATERMARK FOR dateTime AS dateTime - INTERVAL '4' SECOND
) WITH ('connector' = 'kinesis', 'stream' = 'nexmark-bid',
        'scan.stream.initpos' = 'TRIM_HORIZON', 'format' = 'json')";

const PERSON_TABLE: &str = "CREATE TABLE person (
    id BIGINT, name STRING, emailAddress STRING, creditCard STRING, city STRING, state STRING,
    dateTime TIMESTAMP(3), extra STRING,
    WATERMARK FOR dateTime AS dateTime - INTERVAL '4' SECOND
) WITH ('connector' = 'kinesis', 'stream' = 'nexmark-person',
        'scan.stream.initpos' = 'TRIM_HORIZON', 'format' = 'json')";

const AUCTION_TABLE: &str = "CREATE TABLE auction (
    id BIGINT, itemName STRING, description STRING, initialBid BIGINT, reserve BIGINT,
    dateTime TIMESTAMP(3), expires TIMESTAMP(3), seller BIGINT, category BIGINT, extra STRING,
    WATERMARK FOR dateTime AS dateTime - INTERVAL '4' SECOND
) WITH ('connector' = 'kinesis', 'stream' = 'nexmark-auction',
        'scan.stream.initpos' = 'TRIM_HORIZON', 'format' = 'json')";

/// Nexmark's q8 (its Flink SQL as published: group windows), over the person and auction
/// tables.
const Q8: (&str, &str) = (
    "CREATE TABLE discard_sink (id BIGINT, name STRING, stime TIMESTAMP(3))
        WITH ('connector' = 'blackhole')",
    "INSERT INTO discard_sink
     SELECT P.id, P.name, P.starttime
     FROM (
       SELECT P.id, P.name,
              TUMBLE_START(P.dateTime, INTERVAL '10' SECOND) AS starttime,
              TUMBLE_END(P.dateTime, INTERVAL '10' SECOND) AS endtime
       FROM person P
       GROUP BY P.id, P.name, TUMBLE(P.dateTime, INTERVAL '10' SECOND)
     ) P
     JOIN (
       SELECT A.seller,
              TUMBLE_START(A.dateTime, INTERVAL '10' SECOND) AS starttime,
              TUMBLE_END(A.dateTime, INTERVAL '10' SECOND) AS endtime
       FROM auction A
       GROUP BY A.seller, TUMBLE(A.dateTime, INTERVAL '10' SECOND)
     ) A
     ON P.id = A.seller AND P.starttime = A.starttime AND P.endtime = A.endtime",
);

/// The queries (Nexmark's Flink SQL, sinks swapped for blackhole tables).
fn query(name: &str) -> Option<(&'static str, &'static str)> {
    Some(match name {
        "q8" => Q8,
        "q0" => (
            "CREATE TABLE discard_sink (auction BIGINT, bidder BIGINT, price BIGINT,
                dateTime TIMESTAMP(3), extra STRING) WITH ('connector' = 'blackhole')",
            "INSERT INTO discard_sink SELECT auction, bidder, price, dateTime, extra FROM bid",
        ),
        "q1" => (
            "CREATE TABLE discard_sink (auction BIGINT, bidder BIGINT, price DECIMAL(23, 3),
                dateTime TIMESTAMP(3), extra STRING) WITH ('connector' = 'blackhole')",
            "INSERT INTO discard_sink
             SELECT auction, bidder, 0.908 * price AS price, dateTime, extra FROM bid",
        ),
        "q2" => (
            "CREATE TABLE discard_sink (auction BIGINT, price BIGINT)
                WITH ('connector' = 'blackhole')",
            "INSERT INTO discard_sink SELECT auction, price FROM bid WHERE MOD(auction, 123) = 0",
        ),
        "q5" => (
            "CREATE TABLE discard_sink (auction BIGINT, num BIGINT)
                WITH ('connector' = 'blackhole')",
            "INSERT INTO discard_sink
             SELECT AuctionBids.auction, AuctionBids.num
             FROM (
               SELECT auction, count(*) AS num, window_start AS starttime, window_end AS endtime
               FROM TABLE(HOP(TABLE bid, DESCRIPTOR(dateTime), INTERVAL '2' SECOND, INTERVAL '10' SECOND))
               GROUP BY auction, window_start, window_end
             ) AS AuctionBids
             JOIN (
               SELECT max(CountBids.num) AS maxn, CountBids.starttime, CountBids.endtime
               FROM (
                 SELECT count(*) AS num, window_start AS starttime, window_end AS endtime
                 FROM TABLE(HOP(TABLE bid, DESCRIPTOR(dateTime), INTERVAL '2' SECOND, INTERVAL '10' SECOND))
                 GROUP BY auction, window_start, window_end
               ) AS CountBids
               GROUP BY CountBids.starttime, CountBids.endtime
             ) AS MaxBids
             ON AuctionBids.starttime = MaxBids.starttime
                AND AuctionBids.endtime = MaxBids.endtime
                AND AuctionBids.num >= MaxBids.maxn",
        ),
        "q7" => (
            "CREATE TABLE discard_sink (auction BIGINT, price BIGINT, bidder BIGINT,
                dateTime TIMESTAMP(3), extra STRING) WITH ('connector' = 'blackhole')",
            "INSERT INTO discard_sink
             SELECT B.auction, B.price, B.bidder, B.dateTime, B.extra
             from bid B
             JOIN (
               SELECT MAX(B1.price) AS maxprice,
                      TUMBLE_ROWTIME(B1.dateTime, INTERVAL '10' SECOND) as dateTime
               FROM bid B1
               GROUP BY TUMBLE(B1.dateTime, INTERVAL '10' SECOND)
             ) B1
             ON B.price = B1.maxprice
             WHERE B.dateTime BETWEEN B1.dateTime - INTERVAL '10' SECOND AND B1.dateTime",
        ),
        "q19" => (
            "CREATE TABLE discard_sink (auction BIGINT, bidder BIGINT, price BIGINT,
                channel STRING, url STRING, dateTime TIMESTAMP(3), extra STRING,
                rank_number BIGINT) WITH ('connector' = 'blackhole')",
            "INSERT INTO discard_sink
             SELECT * FROM
             (SELECT *, ROW_NUMBER() OVER (PARTITION BY auction ORDER BY price DESC)
                AS rank_number FROM bid)
             WHERE rank_number <= 10",
        ),
        _ => return None,
    })
}

/// Nexmark's bid generator (its constants: 50 events = 1 person, 3 auctions, 46 bids; one
/// auction in 100 is hot; prices log-uniform up to $10,000).
struct Bids {
    rng: rand::rngs::StdRng,
    n: u64,
    start_ms: i64,
    rate: u64,
}

impl Bids {
    fn next(&mut self, at_ms: Option<i64>) -> String {
        let i = self.n;
        self.n += 1;
        let epoch = i * 50 / 46;
        let last_auction = 1000 + epoch / 50 * 3;
        let auction = if self.rng.gen_range(0..100) > 0 {
            (last_auction / 100) * 100
        } else {
            last_auction - self.rng.gen_range(0..1000.min(last_auction))
        };
        let last_person = 1000 + epoch / 50;
        let bidder = if self.rng.gen_range(0..100) > 0 {
            (last_person / 100) * 100 + 1
        } else {
            last_person - self.rng.gen_range(0..1000.min(last_person))
        };
        let price = (10f64.powf(self.rng.gen::<f64>() * 6.0) * 100.0).round() as u64;
        let channel = match self.rng.gen_range(0..10) {
            0 => "Google",
            1 => "Facebook",
            2 => "Baidu",
            3 => "Apple",
            _ => "channel",
        };
        let channel_id = self.rng.gen_range(0..10_000);
        let word = |rng: &mut rand::rngs::StdRng| -> String {
            (0..5).map(|_| rng.gen_range(b'a'..=b'z') as char).collect()
        };
        let url = format!(
            "https://www.nexmark.com/{}/{}/{}/item.htm?query=1&channel_id={channel_id}",
            word(&mut self.rng),
            word(&mut self.rng),
            word(&mut self.rng)
        );
        let pad = self.rng.gen_range(0..32);
        let extra: String = (0..pad)
            .map(|_| self.rng.gen_range(b'a'..=b'z') as char)
            .collect();
        let ms = at_ms.unwrap_or(self.start_ms + (i * 1000 / self.rate) as i64);
        let t = chrono::DateTime::from_timestamp_millis(ms).unwrap_or_default();
        format!(
            "{{\"auction\":{auction},\"bidder\":{bidder},\"price\":{price},\"channel\":\"{channel}\",\"url\":\"{url}\",\"dateTime\":\"{}\",\"extra\":\"{extra}\"}}",
            t.format("%Y-%m-%d %H:%M:%S%.3f")
        )
    }
}

/// Nexmark's person and auction generators, in step with the bids: of every 50 events, one
/// person and three auctions (the rest bids); hot sellers are recent persons (3 in 4).
struct People {
    rng: rand::rngs::StdRng,
    start_ms: i64,
    /// Bids per second of event time.
    rate: u64,
}

impl People {
    /// The time of global event `j` (bids keep their rate).
    fn time(&self, j: u64) -> String {
        let ms = self.start_ms + (j * 46 / 50 * 1000 / self.rate) as i64;
        let t = chrono::DateTime::from_timestamp_millis(ms).unwrap_or_default();
        t.format("%Y-%m-%d %H:%M:%S%.3f").to_string()
    }

    fn word(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| self.rng.gen_range(b'a'..=b'z') as char)
            .collect()
    }

    /// Person `k` (global event 50k).
    fn person(&mut self, k: u64) -> String {
        const NAMES: [&str; 8] = [
            "Peter", "Paul", "Luke", "John", "Saul", "Vicky", "Kate", "Julie",
        ];
        const CITIES: [&str; 6] = [
            "Phoenix",
            "Los Angeles",
            "San Francisco",
            "Boise",
            "Portland",
            "Seattle",
        ];
        const STATES: [&str; 6] = ["AZ", "CA", "ID", "OR", "WA", "WY"];
        let name = format!(
            "{} {}",
            NAMES[self.rng.gen_range(0..NAMES.len())],
            NAMES[self.rng.gen_range(0..NAMES.len())]
        );
        let email = format!("{}@{}.com", self.word(7), self.word(5));
        let card = format!(
            "{:04} {:04} {:04} {:04}",
            self.rng.gen_range(0..10_000),
            self.rng.gen_range(0..10_000),
            self.rng.gen_range(0..10_000),
            self.rng.gen_range(0..10_000)
        );
        let city = CITIES[self.rng.gen_range(0..CITIES.len())];
        let state = STATES[self.rng.gen_range(0..STATES.len())];
        let pad = self.rng.gen_range(0..32);
        let extra = self.word(pad);
        format!(
            "{{\"id\":{},\"name\":\"{name}\",\"emailAddress\":\"{email}\",\"creditCard\":\"{card}\",\"city\":\"{city}\",\"state\":\"{state}\",\"dateTime\":\"{}\",\"extra\":\"{extra}\"}}",
            1000 + k,
            self.time(50 * k)
        )
    }

    /// Auction `3k + r` (global event 50k + 1 + r).
    fn auction(&mut self, k: u64, r: u64) -> String {
        let last_person = 1000 + k;
        let seller = if self.rng.gen_range(0..4) > 0 {
            (last_person / 100) * 100
        } else {
            last_person - self.rng.gen_range(0..1000.min(last_person - 999))
        };
        let initial = (10f64.powf(self.rng.gen::<f64>() * 6.0) * 100.0).round() as u64;
        let reserve = initial + (10f64.powf(self.rng.gen::<f64>() * 6.0) * 100.0).round() as u64;
        let item = self.word(12);
        let description = self.word(30);
        let category = 10 + self.rng.gen_range(0..5);
        let pad = self.rng.gen_range(0..32);
        let extra = self.word(pad);
        let at = self.time(50 * k + 1 + r);
        format!(
            "{{\"id\":{},\"itemName\":\"{item}\",\"description\":\"{description}\",\"initialBid\":{initial},\"reserve\":{reserve},\"dateTime\":\"{at}\",\"expires\":\"{at}\",\"seller\":{seller},\"category\":{category},\"extra\":\"{extra}\"}}",
            1000 + 3 * k + r
        )
    }
}

/// Writes the persons and auctions that go with `bids` bids; returns how many records.
async fn write_people(log: &Log, bids: usize, rate: u64) -> anyhow::Result<usize> {
    create(log, "nexmark-person")?;
    create(log, "nexmark-auction")?;
    let mut gen = People {
        rng: rand::rngs::StdRng::seed_from_u64(7),
        start_ms: 1_767_225_600_000,
        rate: rate.max(1),
    };
    let people = (bids as u64) / 46;
    let mut written = 0;
    let mut k = 0;
    while k < people {
        let n = (people - k).min(500);
        let entry = |data: String| PutEntry {
            partition_key: "nexmark".into(),
            explicit_hash_key: None,
            data: Bytes::from(data),
        };
        let persons: Vec<PutEntry> = (k..k + n).map(|i| entry(gen.person(i))).collect();
        let auctions: Vec<PutEntry> = (k..k + n)
            .flat_map(|i| (0..3).map(move |r| (i, r)))
            .map(|(i, r)| entry(gen.auction(i, r)))
            .collect();
        written += persons.len() + auctions.len();
        log.put_all(&key("nexmark-person"), persons).await?;
        log.put_all(&key("nexmark-auction"), auctions).await?;
        k += n;
    }
    Ok(written)
}

/// CPU seconds this process has used (user + system).
pub(super) fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    // Fields after the command name (which may hold spaces) end with ')'.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // utime and stime are fields 14 and 15 of the whole line: 12 and 13 after ')'.
    (ticks(11) + ticks(12)) / 100.0
}

pub(super) fn key(name: &str) -> StreamKey {
    StreamKey::new("us-east-1", name)
}

fn create(log: &Log, name: &str) -> anyhow::Result<()> {
    create_sharded(log, name, 1)
}

pub(super) fn create_sharded(log: &Log, name: &str, shards: u32) -> anyhow::Result<()> {
    log.create_stream(CreateStream {
        key: key(name),
        shard_count: Some(shards.max(1)),
        mode: StreamMode::Provisioned,
        tags: BTreeMap::new(),
        max_record_kib: None,
        retention_hours: None,
    })?;
    Ok(())
}

pub async fn run(b: NexmarkBench) -> anyhow::Result<()> {
    let tmp = tempfile_dir()?;
    let dir = b.data_dir.clone().unwrap_or_else(|| tmp.clone());
    let log = open_log(&dir)?;
    create_sharded(&log, "nexmark-bid", b.shards)?;
    let mut gen = Bids {
        rng: rand::rngs::StdRng::seed_from_u64(42),
        n: 0,
        start_ms: 1_767_225_600_000,
        rate: b.event_rate.max(1),
    };
    let started = Instant::now();
    let mut bytes = 0usize;
    let mut left = b.events;
    while left > 0 {
        let n = left.min(500);
        let entries: Vec<PutEntry> = (0..n)
            .map(|i| {
                let data = gen.next(None);
                bytes += data.len();
                PutEntry {
                    partition_key: format!("nexmark-{}", (left + i) % 256),
                    explicit_hash_key: None,
                    data: Bytes::from(data),
                }
            })
            .collect();
        log.put_all(&key("nexmark-bid"), entries).await?;
        left -= n;
    }
    let ingest = started.elapsed();
    println!(
        "nexmark: {} bids ({:.0} bytes each) written to the log ({} shards) in {:.2} s ({:.0}/s)",
        b.events,
        bytes as f64 / b.events.max(1) as f64,
        b.shards.max(1),
        ingest.as_secs_f64(),
        b.events as f64 / ingest.as_secs_f64()
    );
    let people = if b.queries.split(',').any(|q| q.trim() == "q8") {
        let n = write_people(&log, b.events, b.event_rate).await?;
        println!("nexmark: {n} persons and auctions written for q8");
        n
    } else {
        0
    };
    let engine = open_engine(&dir, &log)?;
    println!("| query | events | seconds | events/s | events per CPU second | rows out |");
    println!("|---|---:|---:|---:|---:|---:|");
    for name in b
        .queries
        .split(',')
        .map(str::trim)
        .filter(|q| !q.is_empty())
    {
        let Some((sink, insert)) = query(name) else {
            bail!("unknown query {name} (q0, q1, q2, q5, q7, q8, q19)");
        };
        let mut s = Session::new(engine.clone(), BTreeMap::new());
        // q8 reads persons and auctions; the others, bids.
        let events = if name == "q8" {
            s.execute(PERSON_TABLE).await?;
            s.execute(AUCTION_TABLE).await?;
            people
        } else {
            s.execute(BID_TABLE).await?;
            b.events
        };
        // q7 reads the bids twice (its window aggregate is a part of its own) and the
        // windows that fire: each 10 s window the watermark (4 s behind) has passed.
        let reads = match name {
            "q7" => {
                let last_ms =
                    (b.events.saturating_sub(1) as u64 * 1000 / b.event_rate.max(1)) as i64;
                let fired = ((last_ms - 4000 + 1) / 10_000).max(0) as usize;
                2 * events + fired
            }
            _ => events,
        };
        s.execute(sink).await?;
        let cpu0 = cpu_seconds();
        let t0 = Instant::now();
        let Outcome::Job(id) = s.execute(insert).await.with_context(|| name.to_string())? else {
            bail!("{name} did not start a job");
        };
        let deadline = Instant::now() + Duration::from_secs(600);
        loop {
            let j = engine.job(&id).context("job gone")?;
            if j.records_in >= reads as u64 {
                break;
            }
            if Instant::now() > deadline {
                bail!(
                    "{name} read {} of {reads} records in 10 minutes",
                    j.records_in
                );
            }
            if let Some(e) = j.spec.error {
                bail!("{name} failed: {e}");
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let secs = t0.elapsed().as_secs_f64();
        let cpu = cpu_seconds() - cpu0;
        // Windows still open hold rows back: drained, they count in the rows out.
        engine.stop_job(&id, true).await?;
        let out = engine.job(&id).map_or(0, |j| j.records_out);
        println!(
            "| {name} | {events} | {secs:.2} | {:.0} | {:.0} | {out} |",
            events as f64 / secs,
            events as f64 / cpu.max(1e-9)
        );
    }
    if b.latency_windows > 0 {
        latency(&log, &engine, &mut gen, b.latency_windows).await?;
    }
    engine.shutdown().await;
    let _ = std::fs::remove_dir_all(&tmp);
    Ok(())
}

/// Bids put live (event time = the wall clock) into a fresh stream; a one-second tumbling
/// count writes each window to a stream; how long after its window's end each result is
/// readable.
async fn latency(log: &Log, engine: &Engine, gen: &mut Bids, windows: usize) -> anyhow::Result<()> {
    create(log, "nexmark-live")?;
    create(log, "nexmark-counts")?;
    let mut s = Session::new(engine.clone(), BTreeMap::new());
    s.execute(
        "CREATE TABLE live (auction BIGINT, dateTime TIMESTAMP(3),
            WATERMARK FOR dateTime AS dateTime)
         WITH ('connector' = 'kinesis', 'stream' = 'nexmark-live', 'format' = 'json')",
    )
    .await?;
    s.execute(
        "CREATE TABLE counts (window_end TIMESTAMP(3), n BIGINT)
         WITH ('connector' = 'kinesis', 'stream' = 'nexmark-counts', 'format' = 'json')",
    )
    .await?;
    let Outcome::Job(id) = s
        .execute(
            "INSERT INTO counts SELECT window_end, COUNT(*) FROM
             TABLE(TUMBLE(TABLE live, DESCRIPTOR(dateTime), INTERVAL '1' SECOND))
             GROUP BY window_start, window_end",
        )
        .await?
    else {
        bail!("the latency job did not start");
    };
    let producer_log = log.clone();
    let now_ms = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0)
    };
    let end_at = Instant::now() + Duration::from_secs(windows as u64 + 2);
    let bids: Vec<String> = (0..4096).map(|_| gen.next(Some(0))).collect();
    let producer = tokio::spawn(async move {
        let mut i = 0usize;
        while Instant::now() < end_at {
            // 1,000 bids per second, stamped with the wall clock.
            let t = now_ms();
            let time = chrono::DateTime::from_timestamp_millis(t).unwrap_or_default();
            let stamp = time.format("%Y-%m-%d %H:%M:%S%.3f").to_string();
            let data = bids[i % bids.len()].replace("1970-01-01 00:00:00.000", &stamp);
            i += 1;
            let _ = producer_log
                .put_all(
                    &key("nexmark-live"),
                    vec![PutEntry {
                        partition_key: "p".into(),
                        explicit_hash_key: None,
                        data: Bytes::from(data),
                    }],
                )
                .await;
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    });
    let mut it = log.shard_iterator(
        &key("nexmark-counts"),
        "shardId-000000000000",
        &IteratorStart::TrimHorizon,
    )?;
    let mut delays = Vec::new();
    while delays.len() < windows && Instant::now() < end_at + Duration::from_secs(5) {
        let out = log.get_records(&it, None)?;
        let seen = now_ms();
        for r in &out.records {
            let v: serde_json::Value = serde_json::from_slice(&r.data)?;
            let end = v["window_end"].as_str().unwrap_or_default();
            let end = chrono::NaiveDateTime::parse_from_str(end, "%Y-%m-%d %H:%M:%S%.f")
                .map(|t| t.and_utc().timestamp_millis())
                .unwrap_or(seen);
            // Results readable at `seen` (polled every millisecond); the first window is partial.
            delays.push(seen - end);
        }
        if let Some(n) = out.next_iterator {
            it = n;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    producer.abort();
    engine.stop_job(&id, false).await?;
    if delays.len() > 1 {
        delays.remove(0);
    }
    delays.sort_unstable();
    let pct = |p: f64| delays[((delays.len() - 1) as f64 * p).round() as usize];
    if !delays.is_empty() {
        println!(
            "latency: {} one-second windows, result readable after the window's end: p50 {} ms, p99 {} ms, max {} ms",
            delays.len(),
            pct(0.5),
            pct(0.99),
            delays[delays.len() - 1]
        );
    }
    Ok(())
}

/// The durable log of an in-process bench, under `dir/log` (streams active at once).
pub(super) fn open_log(dir: &std::path::Path) -> anyhow::Result<Log> {
    Ok(Log::open(
        LogConfig {
            data_dir: dir.join("log"),
            create_delay_ms: 0,
            ..LogConfig::default()
        },
        Arc::new(weir_log::SystemClock),
    )?)
}

/// The streaming engine of an in-process bench, under `dir/stream`.
pub(super) fn open_engine(dir: &std::path::Path, log: &Log) -> anyhow::Result<Engine> {
    Ok(Engine::open(
        EngineConfig {
            dir: dir.join("stream"),
            default_region: "us-east-1".into(),
            checkpoint_interval: Duration::from_secs(10),
            state_memory_bytes: 0,
        },
        log.clone(),
        None,
        None,
    )?)
}

pub(super) fn tempfile_dir() -> anyhow::Result<std::path::PathBuf> {
    let base = std::env::temp_dir().join(format!("weir-nexmark-{}", std::process::id()));
    std::fs::create_dir_all(&base)?;
    Ok(base)
}
