//! ISO 8601 timestamps with a UTC offset, as the gateway sends them.
//!
//! `sessiontimestamp` and `sessiontimeout` look like
//! `2015-10-24T18:56:52-07:00`. The offset is the one in force at that
//! moment in the company's time zone, so it can differ between the two
//! values across a daylight-saving change; converting each with its own
//! literal offset gives the right UTC instant either way.

use core::fmt;

/// The failure to read a timestamp.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct TimestampError {
    /// Byte offset within the value where reading failed.
    pub offset: usize,
    /// The text expected at that offset.
    pub expected: &'static str,
}

impl fmt::Display for TimestampError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid ISO 8601 timestamp: expected {} at byte {}",
            self.expected, self.offset
        )
    }
}

impl core::error::Error for TimestampError {}

/// Converts `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM|±HHMM)` to Unix
/// seconds (UTC). Fractions of a second are dropped; a leap second `:60`
/// counts as the next second. A timestamp without an offset is rejected,
/// because its instant is unknown.
pub fn parse_unix_seconds(value: &str) -> Result<i64, TimestampError> {
    let mut reader = Reader {
        bytes: value.as_bytes(),
        pos: 0,
    };

    let year = reader.digits(4, "a four-digit year")?;
    reader.expect(b'-', "'-' after the year")?;
    let month = reader.digits(2, "a two-digit month")?;
    reader.expect(b'-', "'-' after the month")?;
    let day = reader.digits(2, "a two-digit day")?;
    if !reader.eat(b'T') && !reader.eat(b't') && !reader.eat(b' ') {
        return Err(reader.error("'T' between date and time"));
    }
    let hour = reader.digits(2, "a two-digit hour")?;
    reader.expect(b':', "':' after the hour")?;
    let minute = reader.digits(2, "two-digit minutes")?;
    reader.expect(b':', "':' after the minutes")?;
    let second = reader.digits(2, "two-digit seconds")?;
    if reader.eat(b'.') || reader.eat(b',') {
        let start = reader.pos;
        while reader.peek().is_some_and(|b| b.is_ascii_digit()) {
            reader.pos += 1;
        }
        if reader.pos == start {
            return Err(reader.error("digits after the decimal point"));
        }
    }

    let offset_start = reader.pos;
    let offset_seconds = match reader.peek() {
        Some(b'Z' | b'z') => {
            reader.pos += 1;
            0
        }
        Some(sign @ (b'+' | b'-')) => {
            reader.pos += 1;
            let hours = reader.digits(2, "a two-digit offset hour")?;
            reader.eat(b':');
            let minutes = reader.digits(2, "two-digit offset minutes")?;
            if hours > 23 || minutes > 59 {
                return Err(TimestampError {
                    offset: offset_start,
                    expected: "a UTC offset within ±23:59",
                });
            }
            let seconds = i64::from(hours * 3600 + minutes * 60);
            if sign == b'-' { -seconds } else { seconds }
        }
        _ => return Err(reader.error("a UTC offset ('Z' or ±HH:MM)")),
    };
    if reader.pos != reader.bytes.len() {
        return Err(reader.error("the end of the value"));
    }

    if !(1..=12).contains(&month) {
        return Err(TimestampError {
            offset: 5,
            expected: "a month from 01 to 12",
        });
    }
    if day < 1 || day > days_in_month(year, month) {
        return Err(TimestampError {
            offset: 8,
            expected: "a day that exists in that month",
        });
    }
    if hour > 23 || minute > 59 || second > 60 {
        return Err(TimestampError {
            offset: 11,
            expected: "a time from 00:00:00 to 23:59:60",
        });
    }

    let days = days_from_civil(i64::from(year), month, day);
    let local = days * 86_400 + i64::from(hour * 3600 + minute * 60 + second);
    Ok(local - offset_seconds)
}

/// Splits Unix seconds into a UTC calendar date and time:
/// `(year, month, day, hour, minute, second)`.
pub fn civil_from_unix(seconds: i64) -> (i64, u32, u32, u32, u32, u32) {
    let days = seconds.div_euclid(86_400);
    let in_day = seconds.rem_euclid(86_400) as u32;
    let (year, month, day) = civil_from_days(days);
    (
        year,
        month,
        day,
        in_day / 3600,
        in_day / 60 % 60,
        in_day % 60,
    )
}

/// Formats Unix seconds as `YYYY-MM-DDTHH:MM:SSZ`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Utc(pub i64);

impl fmt::Display for Utc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (year, month, day, hour, minute, second) = civil_from_unix(self.0);
        write!(
            f,
            "{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}Z"
        )
    }
}

fn is_leap_year(year: u32) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if is_leap_year(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 in the proleptic Gregorian calendar, counting
/// years from March so that the leap day falls at the end of a year.
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_from_march = (i64::from(month) + 9) % 12;
    let day_of_year = (153 * month_from_march + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// Converts days since 1970-01-01 to a date: the inverse of
/// [`days_from_civil`].
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let days = days + 719_468;
    let era = days.div_euclid(146_097);
    let day_of_era = days - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * month_from_march + 2) / 5 + 1) as u32;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn eat(&mut self, byte: u8) -> bool {
        if self.peek() == Some(byte) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, byte: u8, expected: &'static str) -> Result<(), TimestampError> {
        if self.eat(byte) {
            Ok(())
        } else {
            Err(self.error(expected))
        }
    }

    fn digits(&mut self, count: usize, expected: &'static str) -> Result<u32, TimestampError> {
        let mut value = 0;
        for _ in 0..count {
            match self.peek() {
                Some(b) if b.is_ascii_digit() => {
                    value = value * 10 + u32::from(b - b'0');
                    self.pos += 1;
                }
                _ => return Err(self.error(expected)),
            }
        }
        Ok(value)
    }

    fn error(&self, expected: &'static str) -> TimestampError {
        TimestampError {
            offset: self.pos,
            expected,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::format;

    #[test]
    fn timestamp_with_negative_offset() {
        // 2015-10-24T18:56:52-07:00 is 2015-10-25T01:56:52Z.
        assert_eq!(
            parse_unix_seconds("2015-10-24T18:56:52-07:00"),
            Ok(1_445_738_212)
        );
    }

    #[test]
    fn timestamp_offset_forms_agree() {
        let utc = parse_unix_seconds("2026-03-08T10:00:00Z").unwrap();
        assert_eq!(parse_unix_seconds("2026-03-08T02:00:00-08:00"), Ok(utc));
        assert_eq!(parse_unix_seconds("2026-03-08T15:30:00+0530"), Ok(utc));
        assert_eq!(parse_unix_seconds("2026-03-08T10:00:00.123456Z"), Ok(utc));
        assert_eq!(parse_unix_seconds("1970-01-01T00:00:00+00:00"), Ok(0));
    }

    #[test]
    fn timestamp_across_daylight_saving_change() {
        // US Pacific switched to daylight time at 2026-03-08T02:00-08:00.
        let before = parse_unix_seconds("2026-03-08T01:30:00-08:00").unwrap();
        let after = parse_unix_seconds("2026-03-08T03:30:00-07:00").unwrap();
        assert_eq!(after - before, 3600);
    }

    #[test]
    fn timestamp_leap_day_and_far_dates() {
        assert_eq!(
            parse_unix_seconds("2024-02-29T00:00:00Z"),
            Ok(1_709_164_800)
        );
        assert!(parse_unix_seconds("2023-02-29T00:00:00Z").is_err());
        assert_eq!(parse_unix_seconds("1969-12-31T23:59:59Z"), Ok(-1));
        assert_eq!(
            parse_unix_seconds("9999-12-31T23:59:59Z"),
            Ok(253_402_300_799)
        );
    }

    #[test]
    fn timestamp_rejects_malformed_values() {
        let cases = [
            ("", 0),
            ("2015-10-24", 10),
            ("2015-10-24T18:56:52", 19),
            ("2015-10-24T18:56:52-7:00", 21),
            ("2015-13-24T18:56:52Z", 5),
            ("2015-10-24T24:00:00Z", 11),
            ("2015-10-24T18:56:52+24:00", 19),
            ("2015-10-24T18:56:52Zjunk", 20),
            ("2015-10-24T18:56:52.Z", 20),
            ("２０１５-10-24T18:56:52Z", 0),
        ];
        for (value, offset) in cases {
            let err = parse_unix_seconds(value).unwrap_err();
            assert_eq!(err.offset, offset, "{value:?}: {err}");
        }
    }

    #[test]
    fn civil_round_trip() {
        for seconds in [-86_401, -1, 0, 951_782_400, 1_445_738_212, 4_102_444_800] {
            let text = format!("{}", Utc(seconds));
            assert_eq!(parse_unix_seconds(&text), Ok(seconds), "{text}");
        }
        assert_eq!(format!("{}", Utc(1_445_738_212)), "2015-10-25T01:56:52Z");
    }
}
