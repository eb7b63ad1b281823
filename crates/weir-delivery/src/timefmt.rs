//! Java `DateTimeFormatter` patterns, the subset Firehose prefixes use: `y u M L d D H h k K m s
//! S a E`, quoted literals (`'…'`, `''` for a quote), and any other non-letter as itself.
//! Times are shown in UTC or a configured IANA time zone (CustomTimeZone).

use jiff::tz::TimeZone;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Item {
    Literal(String),
    Field(char, usize),
}

/// A parsed pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern(Vec<Item>);

const LETTERS: &str = "yuMLdDHhkKmsSaE";

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
        _ => {}
    }
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
    fn custom_time_zone() {
        let tokyo = time_zone(Some("Asia/Tokyo")).expect("zone");
        let p = Pattern::parse("yyyy-MM-dd HH").expect("valid");
        assert_eq!(p.format(T, &tokyo), "2018-08-27 19");
        assert!(time_zone(Some("Mars/Olympus")).is_err());
        assert_eq!(time_zone(None).expect("utc"), TimeZone::UTC);
    }
}
