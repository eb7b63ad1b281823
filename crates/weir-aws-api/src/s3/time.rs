//! The two date formats S3 uses: ISO 8601 in XML, RFC 1123 in HTTP headers.

pub(crate) const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
pub(crate) const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

fn split(ms: i64) -> (i64, i64, i64, i64, i64, i64, i64, i64) {
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = weir_sigv4::civil_from_days(days);
    (
        y,
        m,
        d,
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        ms.rem_euclid(1000),
        days,
    )
}

/// `2025-01-01T00:00:00.000Z`
pub fn iso8601(ms: i64) -> String {
    let (y, m, d, hh, mm, ss, milli, _) = split(ms);
    format!("{y:04}-{m:02}-{d:02}T{hh:02}:{mm:02}:{ss:02}.{milli:03}Z")
}

/// `Wed, 01 Jan 2025 00:00:00 GMT`
pub fn http_date(ms: i64) -> String {
    let (y, m, d, hh, mm, ss, _, days) = split(ms);
    let wd = DAYS[days.rem_euclid(7) as usize];
    let mon = MONTHS[(m - 1).clamp(0, 11) as usize];
    format!("{wd}, {d:02} {mon} {y:04} {hh:02}:{mm:02}:{ss:02} GMT")
}

/// Parses an RFC 1123 date (`If-Modified-Since`) into epoch milliseconds.
pub fn parse_http_date(s: &str) -> Option<i64> {
    let parts: Vec<&str> = s.split_whitespace().collect();
    let [_, d, mon, y, hms, "GMT"] = parts.as_slice() else {
        return None;
    };
    let m = MONTHS.iter().position(|x| x == mon)? as i64 + 1;
    let (d, y): (i64, i64) = (d.parse().ok()?, y.parse().ok()?);
    let t: Vec<i64> = hms
        .split(':')
        .map(|x| x.parse().ok())
        .collect::<Option<_>>()?;
    let [hh, mm, ss] = t.as_slice() else {
        return None;
    };
    let y2 = if m <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let doy = (153 * ((m + 9) % 12) + 2) / 5 + d - 1;
    let days = era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468;
    Some(((days * 24 + hh) * 60 + mm) * 60_000 + ss * 1000)
}

#[cfg(test)]
mod tests {
    #[test]
    fn formats() {
        assert_eq!(
            super::iso8601(1_735_689_600_123),
            "2025-01-01T00:00:00.123Z"
        );
        assert_eq!(
            super::http_date(1_735_689_600_000),
            "Wed, 01 Jan 2025 00:00:00 GMT"
        );
        assert_eq!(
            super::parse_http_date("Wed, 01 Jan 2025 00:00:00 GMT"),
            Some(1_735_689_600_000)
        );
        assert_eq!(super::http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
    }
}
