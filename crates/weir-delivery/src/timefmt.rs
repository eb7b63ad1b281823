//! Java `DateTimeFormatter` patterns, the subset Firehose prefixes use: `y u M L d D H h k K m s
//! S a E`, quoted literals (`'…'`, `''` for a quote), and any other non-letter as itself.
//! Times are shown in UTC or a configured IANA time zone (CustomTimeZone). The same patterns
//! (Joda-Time's letters are the same) read times back for the Hive JSON SerDe's
//! TimestampFormats, with `Z`/`X` for a zone offset.

use jiff::tz::TimeZone;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Item {
    Literal(String),
    Field(char, usize),
}

/// A parsed pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern(Vec<Item>);

const LETTERS: &str = "yuMLdDHhkKmsSaEZX";

impl Pattern {
    pub fn parse(pattern: &str) -> Result<Pattern, String> {
        let mut items = Vec::new();
        let chars: Vec<char> = pattern.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            if c == '\'' {
                // '' is a quote; otherwise text up to the closing quote.
                if chars.get(i + 1) == Some(&'\'') {
                    items.push(Item::Literal("'".into()));
                    i += 2;
                    continue;
                }
                let mut text = String::new();
                i += 1;
                loop {
                    match chars.get(i) {
                        None => return Err(format!("unterminated quote in '{pattern}'")),
                        Some('\'') if chars.get(i + 1) == Some(&'\'') => {
                            text.push('\'');
                            i += 2;
                        }
                        Some('\'') => {
                            i += 1;
                            break;
                        }
                        Some(ch) => {
                            text.push(*ch);
                            i += 1;
                        }
                    }
                }
                items.push(Item::Literal(text));
            } else if c.is_ascii_alphabetic() {
                if !LETTERS.contains(c) {
                    return Err(format!("unknown pattern letter '{c}' in '{pattern}'"));
                }
                let mut n = 1;
                while chars.get(i + n) == Some(&c) {
                    n += 1;
                }
                items.push(Item::Field(c, n));
                i += n;
            } else {
                items.push(Item::Literal(c.to_string()));
                i += 1;
            }
        }
        Ok(Pattern(items))
    }

    /// The pattern applied to an instant (epoch milliseconds) in `tz`.
    pub fn format(&self, ms: i64, tz: &TimeZone) -> String {
        let t = jiff::Timestamp::from_millisecond(ms).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
        let z = t.to_zoned(tz.clone());
        let mut out = String::new();
        for item in &self.0 {
            match item {
                Item::Literal(s) => out.push_str(s),
                Item::Field(c, n) => field(&mut out, &z, *c, *n),
            }
        }
        out
    }
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const DAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

fn field(out: &mut String, z: &jiff::Zoned, c: char, n: usize) {
    let num = |out: &mut String, v: i64| out.push_str(&format!("{v:0n$}"));
    match c {
        'y' | 'u' => {
            let y = i64::from(z.year());
            if n == 2 {
                out.push_str(&format!("{:02}", y.rem_euclid(100)));
            } else {
                num(out, y);
            }
        }
        'M' | 'L' => {
            let m = z.month() as usize;
            match n {
                1 | 2 => num(out, m as i64),
                3 => out.push_str(&MONTHS[m - 1][..3]),
                _ => out.push_str(MONTHS[m - 1]),
            }
        }
        'd' => num(out, i64::from(z.day())),
        'D' => num(out, i64::from(z.day_of_year())),
        'H' => num(out, i64::from(z.hour())),
        'k' => num(
            out,
            if z.hour() == 0 {
                24
            } else {
                i64::from(z.hour())
            },
        ),
        'h' => {
            let h = i64::from(z.hour()) % 12;
            num(out, if h == 0 { 12 } else { h });
        }
        'K' => num(out, i64::from(z.hour()) % 12),
        'm' => num(out, i64::from(z.minute())),
        's' => num(out, i64::from(z.second())),
        'S' => {
            let nanos = format!("{:09}", z.subsec_nanosecond());
            out.push_str(&nanos[..n.min(9)]);
            for _ in 9..n {
                out.push('0');
            }
        }
        'a' => out.push_str(if z.hour() < 12 { "AM" } else { "PM" }),
        'E' => {
            let d = DAYS[z.weekday().to_monday_zero_offset() as usize];
            out.push_str(if n >= 4 { d } else { &d[..3] });
        }
        'Z' | 'X' => {
            let secs = z.offset().seconds();
            if secs == 0 && c == 'X' {
                out.push('Z');
            } else {
                let sign = if secs < 0 { '-' } else { '+' };
                let (h, m) = (secs.abs() / 3600, secs.abs() % 3600 / 60);
                out.push_str(&format!("{sign}{h:02}{m:02}"));
            }
        }
        _ => {}
    }
}

/// A text being read by a pattern.
struct Scan<'a> {
    s: &'a [u8],
    at: usize,
}

impl Scan<'_> {
    /// Up to `max` digits (at least one), optionally signed.
    fn number(&mut self, max: usize) -> Option<i64> {
        let start = self.at;
        while self.at < self.s.len() && self.at - start < max && self.s[self.at].is_ascii_digit() {
            self.at += 1;
        }
        std::str::from_utf8(&self.s[start..self.at])
            .ok()
            .filter(|d| !d.is_empty())?
            .parse()
            .ok()
    }
    /// One of `names` (any case, full or three letters); its index.
    fn name(&mut self, names: &[&str]) -> Option<usize> {
        let rest = &self.s[self.at..];
        for (i, n) in names.iter().enumerate() {
            for candidate in [*n, n.get(..3).unwrap_or(n)] {
                if rest
                    .get(..candidate.len())
                    .is_some_and(|r| r.eq_ignore_ascii_case(candidate.as_bytes()))
                {
                    self.at += candidate.len();
                    return Some(i);
                }
            }
        }
        None
    }
}

impl Pattern {
    /// Reads a time written with this pattern, as epoch milliseconds (UTC unless the text
    /// carries an offset). `None` when the text does not match.
    pub fn parse_time(&self, text: &str) -> Option<i64> {
        let mut sc = Scan {
            s: text.trim().as_bytes(),
            at: 0,
        };
        let (mut y, mut mo, mut d, mut h, mut mi, mut se, mut ms) = (1970, 1, 1, 0, 0, 0, 0);
        let mut day_of_year: Option<i64> = None;
        let mut pm: Option<bool> = None;
        let mut offset_s = 0i64;
        // A numeric field runs to the next literal unless the next item is also numeric.
        let items = &self.0;
        for (idx, item) in items.iter().enumerate() {
            let adjacent = matches!(items.get(idx + 1), Some(Item::Field(..)));
            match item {
                Item::Literal(l) => {
                    if !sc.s[sc.at..].starts_with(l.as_bytes()) {
                        return None;
                    }
                    sc.at += l.len();
                }
                Item::Field(c, n) => {
                    let width = if adjacent { *n } else { 10 };
                    match c {
                        'y' | 'u' => {
                            let start = sc.at;
                            y = sc.number(if adjacent { *n } else { 4 })?;
                            // Two digits are a year of 1970–2069 (Joda's pivot around now).
                            if *n == 2 {
                                if sc.at - start != 2 {
                                    return None;
                                }
                                y += if y < 70 { 2000 } else { 1900 };
                            }
                        }
                        'M' | 'L' if *n >= 3 => mo = sc.name(&MONTHS)? as i64 + 1,
                        'M' | 'L' => mo = sc.number(width.max(2))?,
                        'd' => d = sc.number(width.max(2))?,
                        'D' => day_of_year = Some(sc.number(3)?),
                        'H' => h = sc.number(width.max(2)).filter(|v| *v < 24)?,
                        'k' => h = sc.number(width.max(2)).filter(|v| (1..=24).contains(v))? % 24,
                        'h' => h = sc.number(width.max(2)).filter(|v| (1..=12).contains(v))? % 12,
                        'K' => h = sc.number(width.max(2)).filter(|v| *v < 12)?,
                        'm' => mi = sc.number(width.max(2)).filter(|v| *v < 60)?,
                        's' => se = sc.number(width.max(2)).filter(|v| *v < 60)?,
                        'S' => {
                            let start = sc.at;
                            let digits = sc.number(if adjacent { *n } else { 9 })?;
                            let len = (sc.at - start) as u32;
                            ms = if len >= 3 {
                                digits / 10i64.pow(len - 3)
                            } else {
                                digits * 10i64.pow(3 - len)
                            };
                        }
                        'a' => pm = Some(sc.name(&["AM", "PM"])? == 1),
                        'E' => {
                            sc.name(&DAYS)?;
                        }
                        'Z' | 'X' => {
                            if sc.s.get(sc.at) == Some(&b'Z') {
                                sc.at += 1;
                            } else {
                                let sign = match sc.s.get(sc.at) {
                                    Some(b'+') => 1,
                                    Some(b'-') => -1,
                                    _ => return None,
                                };
                                sc.at += 1;
                                let hh = sc.number(2)?;
                                if sc.s.get(sc.at) == Some(&b':') {
                                    sc.at += 1;
                                }
                                let mm = sc.number(2).unwrap_or(0);
                                offset_s = sign * (hh * 3600 + mm * 60);
                            }
                        }
                        _ => return None,
                    }
                }
            }
        }
        if sc.at != sc.s.len() {
            return None;
        }
        if pm == Some(true) {
            h += 12;
        }
        let days = match day_of_year {
            Some(doy) => {
                let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
                if !(1..=if leap { 366 } else { 365 }).contains(&doy) {
                    return None;
                }
                days_from_civil(y, 1, 1)? + doy - 1
            }
            None => days_from_civil(y, mo, d)?,
        };
        Some((days * 86_400 + h * 3600 + mi * 60 + se - offset_s) * 1000 + ms)
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date of years 0–9999 (`None` when it does
/// not exist).
pub fn days_from_civil(y: i64, m: i64, d: i64) -> Option<i64> {
    if !(0..=9999).contains(&y) || !(1..=12).contains(&m) || d < 1 {
        return None;
    }
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let month_days = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    if d > month_days[(m - 1) as usize] {
        return None;
    }
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some(era * 146_097 + doe - 719_468)
}

/// The time zone a CustomTimeZone names (UTC when unset or empty).
pub fn time_zone(name: Option<&str>) -> Result<TimeZone, String> {
    match name.filter(|n| !n.is_empty()) {
        None => Ok(TimeZone::UTC),
        Some("UTC") => Ok(TimeZone::UTC),
        Some(n) => TimeZone::get(n).map_err(|_| format!("unknown time zone '{n}'")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // 2018-08-27T10:30:05.123Z, a Monday.
    const T: i64 = 1_535_365_805_123;

    fn f(p: &str) -> String {
        Pattern::parse(p).expect("valid").format(T, &TimeZone::UTC)
    }

    #[test]
    fn java_patterns() {
        assert_eq!(f("yyyy/MM/dd/HH/"), "2018/08/27/10/");
        assert_eq!(f("'year='yyyy'/month='MM"), "year=2018/month=08");
        assert_eq!(f("yy-M-d H:mm:ss.SSS"), "18-8-27 10:30:05.123");
        assert_eq!(
            f("EEE EEEE MMM MMMM D a hh"),
            "Mon Monday Aug August 239 AM 10"
        );
        assert_eq!(f("''yyyy''"), "'2018'");
        assert!(Pattern::parse("yyyy-QQ").is_err());
        assert!(Pattern::parse("'open").is_err());
    }

    #[test]
    fn patterns_read_times_back() {
        let p = |pat: &str, text: &str| Pattern::parse(pat).expect("valid").parse_time(text);
        assert_eq!(
            p("yyyy-MM-dd'T'HH:mm:ss.SSSZ", "2018-08-27T10:30:05.123Z"),
            Some(T)
        );
        assert_eq!(
            p(
                "yyyy-MM-dd'T'HH:mm:ss.SSSZ",
                "2018-08-27T12:30:05.123+02:00"
            ),
            Some(T)
        );
        assert_eq!(
            p("dd/MM/yyyy HH:mm:ss", "27/08/2018 10:30:05"),
            Some(T - 123)
        );
        assert_eq!(p("yyyyMMddHHmmss", "20180827103005"), Some(T - 123));
        assert_eq!(
            p("MMM d, yyyy h:mm:ss a", "Aug 27, 2018 10:30:05 AM"),
            Some(T - 123)
        );
        assert_eq!(p("yyyy-MM-dd", "2018-02-30"), None);
        assert_eq!(p("yyyy-MM-dd", "2018-08-27x"), None);
        assert_eq!(p("yyyy-MM-dd", "2018-01-45"), None);
        assert_eq!(p("yyyy-MM-dd HH:mm", "2018-01-05 10:75"), None);
        assert_eq!(p("dd/MM/yy", "27/08/18"), p("dd/MM/yyyy", "27/08/2018"));
        assert_eq!(p("dd/MM/yy", "27/08/2018"), None);
        assert_eq!(
            p("yyyy-D", "2018-239"),
            Some(T - 123 - (10 * 3600 + 30 * 60 + 5) * 1000)
        );
        assert_eq!(p("MMM d, yyyy", "éé 27, 2018"), None);
        assert_eq!(p("yyyy-MM-dd", "123456789-01-01"), None);
        assert_eq!(days_from_civil(1970, 1, 1), Some(0));
        assert_eq!(days_from_civil(2000, 3, 1), Some(11_017));
    }

    #[test]
    fn custom_time_zone() {
        let tokyo = time_zone(Some("Asia/Tokyo")).expect("zone");
        let p = Pattern::parse("yyyy-MM-dd HH").expect("valid");
        assert_eq!(p.format(T, &tokyo), "2018-08-27 19");
        assert!(time_zone(Some("Mars/Olympus")).is_err());
        assert_eq!(time_zone(None).expect("utc"), TimeZone::UTC);
    }
}
