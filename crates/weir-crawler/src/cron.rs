//! Glue's schedule expressions: `cron(Minutes Hours Day-of-month Month Day-of-week Year)`, in
//! UTC, with `, - * /` in every field, `?` in one of the day fields, `L` (last day of the month,
//! or `5L` the last Thursday), `W` (the weekday nearest a day of the month), `#` (`6#3`: the
//! third Friday), and month and weekday names. Days of the week run 1 (SUN) to 7 (SAT).

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Timelike, Utc, Weekday};

/// A parsed schedule.
#[derive(Debug, Clone, PartialEq)]
pub struct Cron {
    minutes: Vec<bool>,
    hours: Vec<bool>,
    months: Vec<bool>,
    years: Vec<bool>,
    days: Days,
}

#[derive(Debug, Clone, PartialEq)]
enum Days {
    /// Days of the month (1..=31), the last day, the weekday nearest a day.
    Month {
        set: Vec<bool>,
        last: bool,
        nearest_weekday: Vec<u32>,
    },
    /// Days of the week (1 = Sunday), the last `d` of the month, the `n`th `d` of the month.
    Week {
        set: Vec<bool>,
        last: Vec<u32>,
        nth: Vec<(u32, u32)>,
    },
}

const MONTHS: [&str; 12] = [
    "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
];
const WEEKDAYS: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];
const FIRST_YEAR: u32 = 1970;
const LAST_YEAR: u32 = 2199;

fn bad(expr: &str) -> String {
    format!("Invalid schedule expression: {expr}")
}

/// One value of a field: a number or a name (`JAN`, `MON`).
fn value(s: &str, names: &[&str], min: u32, max: u32) -> Option<u32> {
    let v = match s.parse::<u32>() {
        Ok(v) => v,
        Err(_) => {
            let i = names.iter().position(|n| n.eq_ignore_ascii_case(s))? as u32;
            i + min
        }
    };
    (min..=max).contains(&v).then_some(v)
}

/// A field of `, - * /` terms as a set over `min..=max` (index = value).
fn set(field: &str, names: &[&str], min: u32, max: u32) -> Option<Vec<bool>> {
    let mut out = vec![false; max as usize + 1];
    for term in field.split(',') {
        let (range, step) = match term.split_once('/') {
            Some((r, s)) => (r, s.parse::<u32>().ok().filter(|s| *s > 0)?),
            None => (term, 1),
        };
        let (lo, hi) = if range == "*" {
            (min, max)
        } else if let Some((a, b)) = range.split_once('-') {
            (value(a, names, min, max)?, value(b, names, min, max)?)
        } else {
            let v = value(range, names, min, max)?;
            // `5/15`: from 5 to the end of the range by 15.
            (v, if term.contains('/') { max } else { v })
        };
        if lo > hi {
            return None;
        }
        let mut v = lo;
        while v <= hi {
            out[v as usize] = true;
            match v.checked_add(step) {
                Some(n) => v = n,
                None => break,
            }
        }
    }
    Some(out)
}

impl Cron {
    /// Parses `cron(...)` (the wrapper is optional).
    pub fn parse(expr: &str) -> Result<Cron, String> {
        let inner = expr
            .trim()
            .strip_prefix("cron(")
            .and_then(|s| s.strip_suffix(')'))
            .ok_or_else(|| bad(expr))?;
        let f: Vec<&str> = inner.split_whitespace().collect();
        let [min, hour, dom, month, dow, year] = f.as_slice() else {
            return Err(bad(expr));
        };
        let e = || bad(expr);
        let minutes = set(min, &[], 0, 59).ok_or_else(e)?;
        let hours = set(hour, &[], 0, 23).ok_or_else(e)?;
        let months = set(month, &MONTHS, 1, 12).ok_or_else(e)?;
        let years = set(year, &[], FIRST_YEAR, LAST_YEAR).ok_or_else(e)?;
        let days = match (*dom, *dow) {
            ("?", "?") => return Err(bad(expr)),
            ("?", w) => {
                let (mut last, mut nth, mut plain) = (Vec::new(), Vec::new(), Vec::new());
                for term in w.split(',') {
                    if let Some(d) = term.strip_suffix('L').filter(|d| !d.is_empty()) {
                        last.push(value(d, &WEEKDAYS, 1, 7).ok_or_else(e)?);
                    } else if term == "L" {
                        last.push(7);
                    } else if let Some((d, n)) = term.split_once('#') {
                        let d = value(d, &WEEKDAYS, 1, 7).ok_or_else(e)?;
                        let n = n.parse::<u32>().ok().filter(|n| (1..=5).contains(n));
                        nth.push((d, n.ok_or_else(e)?));
                    } else {
                        plain.push(term);
                    }
                }
                let set = if plain.is_empty() {
                    vec![false; 8]
                } else {
                    set(&plain.join(","), &WEEKDAYS, 1, 7).ok_or_else(e)?
                };
                Days::Week { set, last, nth }
            }
            (d, "?") => {
                let (mut last, mut nearest, mut plain) = (false, Vec::new(), Vec::new());
                for term in d.split(',') {
                    if term == "L" {
                        last = true;
                    } else if let Some(n) = term.strip_suffix('W') {
                        let n = n.parse::<u32>().ok().filter(|n| (1..=31).contains(n));
                        nearest.push(n.ok_or_else(e)?);
                    } else {
                        plain.push(term);
                    }
                }
                let set = if plain.is_empty() {
                    vec![false; 32]
                } else {
                    set(&plain.join(","), &[], 1, 31).ok_or_else(e)?
                };
                Days::Month {
                    set,
                    last,
                    nearest_weekday: nearest,
                }
            }
            // One of the two day fields must be `?`.
            _ => return Err(bad(expr)),
        };
        Ok(Cron {
            minutes,
            hours,
            months,
            years,
            days,
        })
    }

    fn day_matches(&self, d: NaiveDate) -> bool {
        let last_day = last_day_of_month(d);
        match &self.days {
            Days::Month {
                set,
                last,
                nearest_weekday,
            } => {
                set[d.day() as usize]
                    || (*last && d.day() == last_day)
                    || nearest_weekday
                        .iter()
                        .any(|n| nearest_weekday_of(d, *n) == Some(d.day()))
            }
            Days::Week { set, last, nth } => {
                let dow = d.weekday().number_from_sunday();
                set[dow as usize]
                    || last.iter().any(|w| *w == dow && d.day() + 7 > last_day)
                    || nth
                        .iter()
                        .any(|(w, n)| *w == dow && (d.day() - 1) / 7 + 1 == *n)
            }
        }
    }

    /// The first time strictly after `after` the schedule fires; `None` past 2199.
    pub fn next_after(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let start = after + Duration::minutes(1);
        let mut day = start.date_naive();
        let mut first = true;
        while day.year() as u32 <= LAST_YEAR {
            let year_ok = (day.year() as u32) >= FIRST_YEAR && self.years[day.year() as usize];
            if year_ok && self.months[day.month() as usize] && self.day_matches(day) {
                let (h0, m0) = if first {
                    (start.hour(), start.minute())
                } else {
                    (0, 0)
                };
                for h in h0..24 {
                    if !self.hours[h as usize] {
                        continue;
                    }
                    let from = if h == h0 { m0 } else { 0 };
                    if let Some(m) = (from..60).find(|m| self.minutes[*m as usize]) {
                        let t = day.and_hms_opt(h, m, 0)?;
                        return Some(Utc.from_utc_datetime(&t));
                    }
                }
            }
            day = day.succ_opt()?;
            first = false;
        }
        None
    }
}

fn last_day_of_month(d: NaiveDate) -> u32 {
    let (y, m) = if d.month() == 12 {
        (d.year() + 1, 1)
    } else {
        (d.year(), d.month() + 1)
    };
    NaiveDate::from_ymd_opt(y, m, 1)
        .and_then(|n| n.pred_opt())
        .map_or(28, |n| n.day())
}

/// The day of `d`'s month that is the weekday nearest day `n` (not crossing the month).
fn nearest_weekday_of(d: NaiveDate, n: u32) -> Option<u32> {
    let last = last_day_of_month(d);
    let n = n.min(last);
    let target = d.with_day(n)?;
    Some(match target.weekday() {
        Weekday::Sat if n == 1 => 3,
        Weekday::Sat => n - 1,
        Weekday::Sun if n == last => n - 2,
        Weekday::Sun => n + 1,
        _ => n,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_default()
    }

    fn next(expr: &str, after: &str) -> String {
        Cron::parse(expr)
            .ok()
            .and_then(|c| c.next_after(at(after)))
            .map(|t| t.to_rfc3339())
            .unwrap_or_default()
    }

    #[test]
    fn glue_examples() {
        assert_eq!(
            next("cron(15 12 * * ? *)", "2024-03-05T12:15:00Z"),
            "2024-03-06T12:15:00+00:00"
        );
        assert_eq!(
            next("cron(0 18 ? * MON-FRI *)", "2024-03-08T19:00:00Z"),
            "2024-03-11T18:00:00+00:00"
        );
        assert_eq!(
            next("cron(0/15 * * * ? *)", "2024-03-05T10:16:00Z"),
            "2024-03-05T10:30:00+00:00"
        );
        assert_eq!(
            next("cron(0 10 L * ? *)", "2024-02-01T00:00:00Z"),
            "2024-02-29T10:00:00+00:00"
        );
        assert_eq!(
            next("cron(0 10 ? * 6#3 *)", "2024-03-01T00:00:00Z"),
            "2024-03-15T10:00:00+00:00"
        );
        assert_eq!(
            next("cron(0 10 ? * 2L *)", "2024-03-01T00:00:00Z"),
            "2024-03-25T10:00:00+00:00"
        );
        // The 1st is a Saturday in June 2024: the nearest weekday in the month is Monday the 3rd.
        assert_eq!(
            next("cron(0 8 1W * ? *)", "2024-05-31T00:00:00Z"),
            "2024-06-03T08:00:00+00:00"
        );
        // A valid expression whose years are past never fires again.
        let past = Cron::parse("cron(0 0 1 1 ? 2020)").map_err(|e| e.to_string());
        assert!(
            past.as_ref()
                .is_ok_and(|c| c.next_after(at("2024-01-01T00:00:00Z")).is_none()),
            "{:?}",
            past.map(|_| ())
        );
        for bad in [
            "cron(0 0 * * * *)",
            "cron(0 0 ? * ? *)",
            "cron(61 0 * * ? *)",
            "rate(5 minutes)",
            "cron(0 0 * *)",
            "cron(0 0 32 * ? *)",
        ] {
            assert!(Cron::parse(bad).is_err(), "{bad}");
        }
    }
}
