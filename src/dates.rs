//! Calendar dates as days since 1970-01-01 (polars' Date representation), without a date crate.

/// Days in a common year: windows that are whole multiples of it read as years (近1年).
pub const DAYS_PER_YEAR: i32 = 365;

/// Days since 1970-01-01 for a proleptic Gregorian date (H. Hinnant's algorithm).
pub fn days_from_civil(y: i32, m: u32, d: u32) -> i32 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let m = m as i32;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i32 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

/// (year, month, day) for days since 1970-01-01.
pub fn civil_from_days(z: i32) -> (i32, u32, u32) {
    let z = z + 719468;
    let era = if z >= 0 { z } else { z - 146096 } / 146097;
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

pub fn format(days: i32) -> String {
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}")
}

/// Parses `YYYY-MM-DD` strictly (the date must exist).
pub fn parse(s: &str) -> Option<i32> {
    let mut it = s.trim().splitn(3, '-');
    let y: i32 = it.next()?.parse().ok()?;
    let m: u32 = it.next()?.parse().ok()?;
    let d: u32 = it.next()?.parse().ok()?;
    if !(1..=12).contains(&m) || d == 0 || d > 31 {
        return None;
    }
    let days = days_from_civil(y, m, d);
    (civil_from_days(days) == (y, m, d)).then_some(days)
}

pub fn year_of(days: i32) -> i32 {
    civil_from_days(days).0
}

/// Today in UTC from the system clock.
pub fn today() -> i32 {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    (secs / 86_400) as i32
}

pub fn earliest() -> i32 {
    let (y, m, d) = crate::contract::EARLIEST_DATE;
    days_from_civil(y, m, d)
}


/// Which days count toward a due date: every day, or working days (Monday–Friday less public
/// holidays, plus the weekend days worked in exchange, 调休). Holidays must be listed in the
/// policy; none is built in.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WorkCalendar {
    pub working_days: bool,
    pub holidays: Vec<i32>,
    pub extra_workdays: Vec<i32>,
}

/// Day of the week, 0 = Monday … 6 = Sunday (1970-01-01 was a Thursday).
pub fn weekday(days: i32) -> u32 {
    (days + 3).rem_euclid(7) as u32
}

impl WorkCalendar {
    pub fn is_working_day(&self, day: i32) -> bool {
        if !self.working_days {
            return true;
        }
        if self.extra_workdays.contains(&day) {
            return true;
        }
        weekday(day) < 5 && !self.holidays.contains(&day)
    }

    /// The day `n` counted days after `start` (the start day itself does not count; n = 0 is `start`).
    pub fn add(&self, start: i32, n: i32) -> i32 {
        if !self.working_days {
            return start + n;
        }
        let (mut day, mut left) = (start, n);
        while left > 0 {
            day += 1;
            if self.is_working_day(day) {
                left -= 1;
            }
        }
        day
    }
}
