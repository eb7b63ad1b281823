//! `cargo bench -p weir-delivery --bench convert`: record format conversion alone — 64 MiB of
//! 1 KiB JSON events (shaped like `weir bench firehose`'s) decoded by the OpenX JSON SerDe into
//! a Glue table's columns and written as Snappy Parquet, and as ORC; one core.

use std::time::Instant;

use weir_delivery::convert::{convert, Plan};
use weir_delivery::{
    DeserializerConfig, FormatConversion, OpenXJsonSerDe, OrcSerDe, ParquetSerDe, SerializerConfig,
};

fn record(i: usize) -> String {
    const ACTIONS: [&str; 6] = [
        "view",
        "click",
        "add_to_cart",
        "purchase",
        "search",
        "logout",
    ];
    const WORDS: [&str; 8] = [
        "order", "shipped", "customer", "payment", "retry", "timeout", "ok", "cache",
    ];
    let mut s = format!(
        "{{\"event_id\":\"{:016x}\",\"ts\":{},\"user_id\":{},\"action\":\"{}\",\"page\":\"/p/{}\",\
         \"amount\":{}.{:02},\"currency\":\"EUR\",\"agent\":\"Mozilla/5.0 (X11; Linux x86_64) Chrome/124.0\",\
         \"ip\":\"10.0.{}.{}\",\"message\":\"",
        (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15),
        1_700_000_000_000u64 + i as u64 * 13,
        (i * 7919) % 100_003,
        ACTIONS[i % 6],
        i % 5,
        (i * 31) % 10_000,
        i % 100,
        i % 256,
        (i / 256) % 256,
    );
    let mut x = i | 1;
    while s.len() < 1022 {
        x = x
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        s.push_str(WORDS[(x >> 33) % 8]);
        s.push(' ');
    }
    s.truncate(1022);
    s.push_str("\"}");
    s
}

fn main() {
    let columns: Vec<(String, String)> = [
        ("event_id", "string"),
        ("ts", "timestamp"),
        ("user_id", "int"),
        ("action", "string"),
        ("page", "string"),
        ("amount", "decimal(10,2)"),
        ("currency", "string"),
        ("agent", "string"),
        ("ip", "string"),
        ("message", "string"),
    ]
    .iter()
    .map(|(n, t)| (n.to_string(), t.to_string()))
    .collect();
    let records: Vec<String> = (0..65_536).map(record).collect();
    let bytes: usize = records.iter().map(String::len).sum();
    for (label, ser) in [
        (
            "Snappy Parquet",
            SerializerConfig {
                parquet: Some(ParquetSerDe::default()),
                orc: None,
            },
        ),
        (
            "Snappy ORC",
            SerializerConfig {
                parquet: None,
                orc: Some(OrcSerDe::default()),
            },
        ),
        (
            "Snappy Parquet, no dictionary",
            SerializerConfig {
                parquet: Some(ParquetSerDe {
                    enable_dictionary_compression: Some(false),
                    ..Default::default()
                }),
                orc: None,
            },
        ),
    ] {
        let conv = FormatConversion {
            enabled: Some(true),
            schema: None,
            input: Some(Some(DeserializerConfig {
                openx: Some(OpenXJsonSerDe::default()),
                hive: None,
            })),
            output: Some(Some(ser)),
        };
        // ORC output takes primitive columns only: the amount as a double there.
        let columns: Vec<(String, String)> = columns
            .iter()
            .map(|(n, t)| {
                let orc = label.contains("ORC") && t.starts_with("decimal");
                (n.clone(), if orc { "double".into() } else { t.clone() })
            })
            .collect();
        let plan = Plan::new(&conv, &columns).unwrap_or_else(|e| panic!("{e:?}"));
        for round in 0..3 {
            let started = Instant::now();
            let out = convert(&plan, records.iter().map(|r| r.as_bytes()))
                .unwrap_or_else(|e| panic!("{e}"));
            let secs = started.elapsed().as_secs_f64();
            let size = out.object.map_or(0, |o| o.len());
            println!(
                "{label}, round {round}: {} records ({:.1} MB) in {secs:.3} s: {:.0} MB/s, {:.0} records/s; object {:.1} MB",
                out.records,
                bytes as f64 / 1e6,
                bytes as f64 / secs / 1e6,
                out.records as f64 / secs,
                size as f64 / 1e6
            );
        }
    }
}
