//! Calendar arithmetic for capture times.
//!
//! Hand-rolled instead of `chrono`/`time` because the organizer needs only four things: parse
//! EXIF's `YYYY:MM:DD HH:MM:SS` and `+HH:MM`, turn a wall-clock time into a day, order photos on
//! one absolute time line, and format dates. Howard Hinnant's `days_from_civil` algorithm does
//! the proleptic-Gregorian part exactly in a dozen lines, and it keeps the dependency tree
//! small on 2-core builds. Local time zones of the *machine* are deliberately not consulted:
//! a photo's day is the camera's wall-clock day, which is what the photographer lived.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A calendar day (proleptic Gregorian).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Day {
    pub year: i32,
    pub month: u8,
    pub day: u8,
}

impl Day {
    /// Days since 1970-01-01 (negative before).
    pub fn days_since_epoch(self) -> i64 {
        days_from_civil(self.year, self.month, self.day)
    }

    pub fn from_days_since_epoch(days: i64) -> Day {
        let (year, month, day) = civil_from_days(days);
        Day { year, month, day }
    }
}

impl fmt::Display for Day {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// A wall-clock time as the camera recorded it, with the UTC offset when the camera knew it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct WallClock {
    pub day: Day,
    /// Seconds since local midnight.
    pub seconds_of_day: u32,
    /// Offset from UTC in minutes (EXIF OffsetTimeOriginal), when present.
    pub utc_offset_minutes: Option<i32>,
}

impl WallClock {
    /// Seconds on one time line used to order photos and measure gaps. With an offset this is
    /// true UTC; without one the wall clock is taken as UTC, which is exact for photos of one
    /// trip in one zone (the common case) and off by the zone difference otherwise.
    pub fn timeline_seconds(&self) -> i64 {
        let local = self.day.days_since_epoch() * 86_400 + i64::from(self.seconds_of_day);
        local - i64::from(self.utc_offset_minutes.unwrap_or(0)) * 60
    }

    /// From seconds since the Unix epoch (UTC), e.g. a file's modification time.
    pub fn from_unix_utc(seconds: i64) -> WallClock {
        let days = seconds.div_euclid(86_400);
        let seconds_of_day = seconds.rem_euclid(86_400) as u32;
        WallClock {
            day: Day::from_days_since_epoch(days),
            seconds_of_day,
            utc_offset_minutes: Some(0),
        }
    }
}

impl fmt::Display for WallClock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.seconds_of_day;
        write!(
            f,
            "{} {:02}:{:02}:{:02}",
            self.day,
            s / 3600,
            s / 60 % 60,
            s % 60
        )?;
        if let Some(off) = self.utc_offset_minutes {
            let sign = if off < 0 { '-' } else { '+' };
            write!(f, "{}{:02}:{:02}", sign, off.abs() / 60, off.abs() % 60)?;
        }
        Ok(())
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Hinnant, "chrono-Compatible Low-Level
/// Date Algorithms").
pub fn days_from_civil(year: i32, month: u8, day: u8) -> i64 {
    let y = i64::from(year) - i64::from(month <= 2);
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Inverse of [`days_from_civil`].
pub fn civil_from_days(days: i64) -> (i32, u8, u8) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u8;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y as i32, m, d)
}

fn days_in_month(year: i32, month: u8) -> u8 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        _ => 28,
    }
}

fn digits(s: &[u8]) -> Option<u32> {
    if s.is_empty() || !s.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(
        s.iter()
            .fold(0u32, |acc, &c| acc * 10 + u32::from(c - b'0')),
    )
}

/// Parses EXIF `YYYY:MM:DD HH:MM:SS` (also accepts `-` as the date separator and `T` between
/// date and time, which some phone apps write). Rejects the all-zero "unknown" date cameras
/// write and any out-of-range field.
pub fn parse_exif_datetime(text: &str) -> Option<(Day, u32)> {
    let b = text.trim().trim_end_matches('\0').as_bytes();
    if b.len() < 19 {
        return None;
    }
    let sep_ok = |c: u8| c == b':' || c == b'-';
    if !sep_ok(b[4]) || !sep_ok(b[7]) || !(b[10] == b' ' || b[10] == b'T') {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let year = digits(&b[0..4])? as i32;
    let month = digits(&b[5..7])? as u8;
    let day = digits(&b[8..10])? as u8;
    let (h, mi, s) = (
        digits(&b[11..13])?,
        digits(&b[14..16])?,
        digits(&b[17..19])?,
    );
    if year < 1800 || !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
        return None;
    }
    // 60 allows a leap second.
    if h > 23 || mi > 59 || s > 60 {
        return None;
    }
    Some((Day { year, month, day }, h * 3600 + mi * 60 + s.min(59)))
}

/// Parses EXIF OffsetTime `+HH:MM` / `-HH:MM` into minutes.
pub fn parse_exif_offset(text: &str) -> Option<i32> {
    let b = text.trim().trim_end_matches('\0').as_bytes();
    if b.len() != 6 || b[3] != b':' {
        return None;
    }
    let sign = match b[0] {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let h = digits(&b[1..3])? as i32;
    let m = digits(&b[4..6])? as i32;
    if h > 14 || m > 59 {
        return None;
    }
    Some(sign * (h * 60 + m))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_and_known_dates() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        // 2003-11-23: 33 years of 365 days + 8 leap days (72..2000) + 326 days into 2003.
        assert_eq!(days_from_civil(2003, 11, 23), 33 * 365 + 8 + 326);
        assert_eq!(days_from_civil(1969, 12, 31), -1);
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
    }

    #[test]
    fn civil_round_trip_over_four_centuries() {
        let start = days_from_civil(1800, 1, 1);
        let mut prev = civil_from_days(start - 1);
        for d in start..start + 146_097 {
            let (y, m, dd) = civil_from_days(d);
            assert_eq!(days_from_civil(y, m, dd), d);
            assert!((y, m, dd) > prev);
            prev = (y, m, dd);
        }
    }

    #[test]
    fn parses_exif_datetimes() {
        let (day, s) = parse_exif_datetime("2003:11:23 18:07:37").unwrap();
        assert_eq!(day.to_string(), "2003-11-23");
        assert_eq!(s, 18 * 3600 + 7 * 60 + 37);
        assert!(parse_exif_datetime("0000:00:00 00:00:00").is_none());
        assert!(parse_exif_datetime("2019:02:29 10:00:00").is_none());
        assert!(parse_exif_datetime("2020:02:29 10:00:00").is_some());
        assert!(parse_exif_datetime("    :  :     :  :  ").is_none());
        assert!(parse_exif_datetime("2014-06-01T09:00:00").is_some());
    }

    #[test]
    fn parses_offsets() {
        assert_eq!(parse_exif_offset("+08:00"), Some(480));
        assert_eq!(parse_exif_offset("-03:30"), Some(-210));
        assert_eq!(parse_exif_offset("08:00"), None);
    }

    #[test]
    fn timeline_uses_offset() {
        let (day, s) = parse_exif_datetime("2020:01:01 08:00:00").unwrap();
        let tokyo = WallClock {
            day,
            seconds_of_day: s,
            utc_offset_minutes: Some(540),
        };
        let utc = WallClock::from_unix_utc(tokyo.timeline_seconds());
        assert_eq!(utc.to_string(), "2019-12-31 23:00:00+00:00");
    }
}
