//! The sample events Weir's benchmarks send (`weir bench firehose`, the conversion bench), and
//! the Glue columns that describe them, so every benchmark measures the same records.

/// The events' columns as a Glue table declares them (name, Hive type).
pub const EVENT_COLUMNS: [(&str, &str); 10] = [
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
];

/// A JSON event of about `size` bytes shaped like application logs: repeated keys, values
/// from small vocabularies, ids, numbers and a free-text message (compresses roughly as such
/// data does, several times, not as a run of one byte would).
pub fn event(i: usize, size: usize) -> String {
    const ACTIONS: [&str; 6] = [
        "view",
        "click",
        "add_to_cart",
        "purchase",
        "search",
        "logout",
    ];
    const PAGES: [&str; 5] = ["/home", "/product", "/cart", "/checkout", "/search"];
    const AGENTS: [&str; 3] = [
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/124.0",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) Safari/604.1",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Firefox/125.0",
    ];
    const WORDS: [&str; 12] = [
        "order",
        "shipped",
        "customer",
        "payment",
        "retry",
        "timeout",
        "inventory",
        "ok",
        "warehouse",
        "latency",
        "cache",
        "session",
    ];
    let h = (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    let mut s = format!(
        "{{\"event_id\":\"{h:016x}-{:08x}\",\"ts\":{},\"user_id\":{},\"action\":\"{}\",\
         \"page\":\"{}\",\"amount\":{}.{:02},\"currency\":\"EUR\",\"agent\":\"{}\",\
         \"ip\":\"10.{}.{}.{}\",\"message\":\"",
        h >> 32,
        1_700_000_000_000u64 + i as u64 * 13,
        (i * 7919) % 100_003,
        ACTIONS[i % 6],
        PAGES[(i / 3) % 5],
        (i * 31) % 10_000,
        i % 100,
        AGENTS[(i / 7) % 3],
        (h >> 8) % 256,
        (h >> 16) % 256,
        (h >> 24) % 256,
    );
    let fixed = s.len();
    let mut x = h | 1;
    while s.len() + 2 < size {
        x = x
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        s.push_str(WORDS[((x >> 33) % 12) as usize]);
        s.push(' ');
    }
    s.truncate(size.saturating_sub(2).max(fixed));
    s.push_str("\"}");
    s
}
