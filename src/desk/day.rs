//! Calendar days in the shop's time zone (`shop.time_zone`), as the desk's filters, the
//! summary and the export count them: `YYYY-MM-DD`, days since 1970-01-01.

const DAY_MS: i64 = 86_400_000;

/// A day: days since 1970-01-01 in the shop's time zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Day(pub i64);

impl Day {
    /// `YYYY-MM-DD` (a real date between 1970 and 9999).
    pub fn parse(s: &str) -> Option<Day> {
        let b = s.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return None;
        }
        let num = |r: std::ops::Range<usize>| -> Option<i64> {
            let part = &s[r];
            part.bytes()
                .all(|c| c.is_ascii_digit())
                .then(|| part.parse().ok())
                .flatten()
        };
        let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
        if !(1970..=9999).contains(&y) || !(1..=12).contains(&m) || d < 1 || d > days_in(y, m) {
            return None;
        }
        Some(Day(days_from_civil(y, m, d)))
    }

    /// The day a moment (unix ms) falls on, `offset_ms` east of UTC.
    pub fn of(ms: i64, offset_ms: i64) -> Day {
        Day((ms + offset_ms).div_euclid(DAY_MS))
    }

    /// The first millisecond of the day (unix ms).
    pub fn start_ms(self, offset_ms: i64) -> i64 {
        self.0 * DAY_MS - offset_ms
    }

    pub fn next(self) -> Day {
        Day(self.0 + 1)
    }

    /// (year, month, day).
    pub fn civil(self) -> (i64, i64, i64) {
        civil_from_days(self.0)
    }
}

impl std::fmt::Display for Day {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (y, m, d) = self.civil();
        write!(f, "{y:04}-{m:02}-{d:02}")
    }
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in(y: i64, m: i64) -> i64 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

// Howard Hinnant's civil calendar algorithms (public domain).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_round_trip() {
        assert_eq!(Day::parse("1970-01-01"), Some(Day(0)));
        assert_eq!(
            Day::parse("2024-02-29").map(|d| d.to_string()).as_deref(),
            Some("2024-02-29")
        );
        for s in ["2026-12-01", "2000-03-01", "2100-12-31"] {
            assert_eq!(Day::parse(s).unwrap().to_string(), s);
        }
        for bad in [
            "2023-02-29",
            "2026-13-01",
            "2026-1-01",
            "26-12-01",
            "2026-12-0x",
            "",
            "+026-12-01",
            "1969-12-31",
        ] {
            assert_eq!(Day::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn days_follow_the_shop_time_zone() {
        let msk = 3 * 3600 * 1000;
        let day = Day::parse("2026-12-01").unwrap();
        // 2026-11-30 21:00 UTC is midnight in Moscow.
        let start = day.start_ms(msk);
        assert_eq!(Day::of(start, msk), day);
        assert_eq!(Day::of(start - 1, msk), Day(day.0 - 1));
        assert_eq!(Day::of(start, 0), Day(day.0 - 1));
    }
}
