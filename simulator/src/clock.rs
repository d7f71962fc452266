//! The simulator clock and the timestamp formats of responses.

use std::sync::Mutex;
use std::sync::atomic::{AtomicI32, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::lock;

/// Simulated time: a start time (the wall clock by default) plus the real
/// time elapsed since then plus every [`Clock::advance`] step.
pub(crate) struct Clock {
    start_unix: Duration,
    started: Instant,
    advanced: Mutex<Duration>,
    utc_offset_minutes: AtomicI32,
}

impl Clock {
    /// Creates a clock that reads `start` now. Times before 1970 read as 1970.
    pub(crate) fn new(start: SystemTime, utc_offset_minutes: i32) -> Self {
        Clock {
            start_unix: start.duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO),
            started: Instant::now(),
            advanced: Mutex::new(Duration::ZERO),
            utc_offset_minutes: AtomicI32::new(utc_offset_minutes),
        }
    }

    /// Moves simulated time forward.
    pub(crate) fn advance(&self, by: Duration) {
        let mut advanced = lock(&self.advanced);
        *advanced = advanced.saturating_add(by);
    }

    /// Simulated time since the Unix epoch.
    pub(crate) fn now(&self) -> Duration {
        let advanced = *lock(&self.advanced);
        self.start_unix
            .saturating_add(self.started.elapsed())
            .saturating_add(advanced)
    }

    /// Simulated time in whole seconds since the Unix epoch.
    pub(crate) fn now_unix_seconds(&self) -> i64 {
        i64::try_from(self.now().as_secs()).unwrap_or(i64::MAX)
    }

    /// Returns the UTC offset of response timestamps, in minutes east of UTC.
    pub(crate) fn utc_offset_minutes(&self) -> i32 {
        self.utc_offset_minutes.load(Ordering::Relaxed)
    }

    /// Changes the UTC offset, as a daylight saving time switch does.
    pub(crate) fn set_utc_offset_minutes(&self, minutes: i32) {
        self.utc_offset_minutes.store(minutes, Ordering::Relaxed);
    }
}

/// Converts days since 1970-01-01 to a proleptic Gregorian (year, month, day).
///
/// This is the "civil from days" algorithm by Howard Hinnant, valid for the
/// whole `i64` range of days the simulator can produce.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    // The ranges above keep day in 1..=31 and month in 1..=12.
    (year, month as u32, day as u32)
}

/// Formats `unix_seconds` as ISO 8601 local time with its offset, as the
/// gateway writes `sessiontimestamp`: `2026-12-04T12:34:56-08:00`.
pub(crate) fn format_iso8601(unix_seconds: i64, utc_offset_minutes: i32) -> String {
    let local = unix_seconds.saturating_add(i64::from(utc_offset_minutes) * 60);
    let (year, month, day) = civil_from_days(local.div_euclid(86_400));
    let second_of_day = local.rem_euclid(86_400);
    let sign = if utc_offset_minutes < 0 { '-' } else { '+' };
    let offset = utc_offset_minutes.unsigned_abs();
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}{sign}{:02}:{:02}",
        second_of_day / 3600,
        second_of_day / 60 % 60,
        second_of_day % 60,
        offset / 60,
        offset % 60,
    )
}

/// Formats `unix_seconds` as an HTTP `Date` value (IMF-fixdate, RFC 9110).
pub(crate) fn format_http_date(unix_seconds: i64) -> String {
    const WEEKDAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let days = unix_seconds.div_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    let second_of_day = unix_seconds.rem_euclid(86_400);
    // 1970-01-01 was a Thursday, the first entry of WEEKDAYS.
    let weekday = WEEKDAYS
        .get(days.rem_euclid(7) as usize)
        .copied()
        .unwrap_or("Thu");
    let month_name = MONTHS.get(month as usize - 1).copied().unwrap_or("Jan");
    format!(
        "{weekday}, {day:02} {month_name} {year:04} {:02}:{:02}:{:02} GMT",
        second_of_day / 3600,
        second_of_day / 60 % 60,
        second_of_day % 60,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso8601_with_negative_offset() {
        // 2026-12-04T20:34:56Z
        assert_eq!(
            format_iso8601(1_796_416_496, -480),
            "2026-12-04T12:34:56-08:00"
        );
    }

    #[test]
    fn iso8601_crosses_day_with_offset() {
        // 2024-03-01T02:00:00Z is still February 29 in -08:00 (leap year).
        assert_eq!(
            format_iso8601(1_709_258_400, -480),
            "2024-02-29T18:00:00-08:00"
        );
    }

    #[test]
    fn iso8601_with_half_hour_offset() {
        assert_eq!(format_iso8601(0, 330), "1970-01-01T05:30:00+05:30");
    }

    #[test]
    fn iso8601_zero_offset_uses_plus() {
        assert_eq!(format_iso8601(951_782_400, 0), "2000-02-29T00:00:00+00:00");
    }

    #[test]
    fn http_date_format() {
        assert_eq!(
            format_http_date(784_111_777),
            "Sun, 06 Nov 1994 08:49:37 GMT"
        );
    }

    #[test]
    fn clock_advances() {
        let clock = Clock::new(UNIX_EPOCH + Duration::from_secs(1000), 0);
        let before = clock.now_unix_seconds();
        clock.advance(Duration::from_secs(3600));
        let after = clock.now_unix_seconds();
        assert!(after - before >= 3600, "{before} -> {after}");
        assert!(after - before < 3660, "{before} -> {after}");
    }
}
