//! RFC 3339 date-times: rendering the core's unix-second deadlines for API responses, and
//! reading the ones an origin or a setting gives.
//!
//! Written out rather than taken from the `time` crate, whose parser and formatter were
//! 10 KB of the wasm (docs/performance.md, "Size"). The rules are `time` 0.3's `Rfc3339`
//! exactly, and `tests/core_timestamp.rs` compares the two on generated input.

use crate::core::UnixSeconds;

/// 0000-01-01T00:00:00Z and 9999-12-31T23:59:59Z: the four-digit years RFC 3339 can write.
const FIRST_RENDERABLE: UnixSeconds = -62_167_219_200;
const LAST_RENDERABLE: UnixSeconds = 253_402_300_799;

const SECS_PER_DAY: i64 = 86_400;

/// `2026-11-22T07:47:00Z`. Deadlines are whole seconds, so no fraction is printed.
pub fn rfc3339(secs: UnixSeconds) -> String {
    if !(FIRST_RENDERABLE..=LAST_RENDERABLE).contains(&secs) {
        // Unreachable for deadlines the policy builds (it bounds every lifetime); a
        // record decoded from storage with an absurd value still renders as something.
        return "1970-01-01T00:00:00Z".to_owned();
    }
    let (days, time_of_day) = (secs.div_euclid(SECS_PER_DAY), secs.rem_euclid(SECS_PER_DAY));
    let (year, month, day) = civil_from_days(days);
    let (hour, minute, second) = (time_of_day / 3600, time_of_day / 60 % 60, time_of_day % 60);
    let mut out = String::with_capacity(20);
    for (value, width, after) in
        [(year, 4, '-'), (month, 2, '-'), (day, 2, 'T'), (hour, 2, ':'), (minute, 2, ':'), (second, 2, 'Z')]
    {
        push_digits(&mut out, value, width);
        out.push(after);
    }
    out
}

/// A date-time with its fraction: whole unix seconds, and the nanoseconds after them
/// (only the first nine digits of a fraction count, as in `time`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Instant {
    pub secs: UnixSeconds,
    pub nanos: u32,
}

/// Reads `YYYY-MM-DD?HH:MM:SS[.fraction](Z|z|±HH:MM)`, where `?` is any one byte, as
/// `time` 0.3's `Rfc3339` does: a real calendar date, hours to 23, an offset of at most
/// 23:59, and a leap second (`:60`) only where one may fall, the last second of a month
/// in UTC, read as the nanosecond before the next minute.
pub fn parse_rfc3339(text: &str) -> Option<Instant> {
    let mut input = Input(text.as_bytes());
    let year = input.digits(4)?;
    input.literal(b'-')?;
    let month = input.digits(2)?;
    input.literal(b'-')?;
    let day = input.digits(2)?;
    input.any_byte()?;
    let hour = input.digits(2)?;
    input.literal(b':')?;
    let minute = input.digits(2)?;
    input.literal(b':')?;
    let mut second = input.digits(2)?;
    let mut nanos = 0;
    if input.literal(b'.').is_some() {
        let mut multiplier = 100_000_000;
        nanos = input.digits(1)? as u32 * multiplier;
        while let Some(digit) = input.digits(1) {
            multiplier /= 10;
            nanos += digit as u32 * multiplier;
        }
    }
    let offset_secs = match input.next()? {
        b'Z' | b'z' => 0,
        sign @ (b'+' | b'-') => {
            let hours = input.digits(2).filter(|h| *h <= 23)?;
            input.literal(b':')?;
            let minutes = input.digits(2).filter(|m| *m <= 59)?;
            let secs = hours * 3600 + minutes * 60;
            if sign == b'-' {
                -secs
            } else {
                secs
            }
        }
        _ => return None,
    };
    if !input.0.is_empty() {
        return None;
    }
    let leap_second = second == 60;
    if leap_second {
        (second, nanos) = (59, 999_999_999);
    }
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    if hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let secs = days_from_civil(year, month, day) * SECS_PER_DAY + hour * 3600 + minute * 60 + second - offset_secs;
    if leap_second && !is_last_second_of_a_month_in_utc(secs) {
        return None;
    }
    Some(Instant { secs, nanos })
}

/// Where a leap second may stand: 23:59:59 UTC on the last day of a month, in a year
/// `time` can represent (±9999).
fn is_last_second_of_a_month_in_utc(secs: UnixSeconds) -> bool {
    let (year, month, day) = civil_from_days(secs.div_euclid(SECS_PER_DAY));
    secs.rem_euclid(SECS_PER_DAY) == SECS_PER_DAY - 1 && year.abs() <= 9999 && day == days_in_month(year, month)
}

fn push_digits(out: &mut String, value: i64, width: u32) {
    for place in (0..width).rev() {
        out.push(char::from(b'0' + (value / 10_i64.pow(place) % 10) as u8));
    }
}

fn is_leap_year(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap_year(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let day_of_year = (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The date `days` after 1970-01-01: the inverse of [`days_from_civil`].
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let days = days + 719_468;
    let era = days.div_euclid(146_097);
    let day_of_era = days - era * 146_097;
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 { month_index + 3 } else { month_index - 9 };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// The bytes left to read.
struct Input<'a>(&'a [u8]);

impl Input<'_> {
    fn next(&mut self) -> Option<u8> {
        let (&first, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(first)
    }

    fn any_byte(&mut self) -> Option<()> {
        self.next().map(drop)
    }

    fn literal(&mut self, expected: u8) -> Option<()> {
        (self.0.first() == Some(&expected)).then(|| self.0 = &self.0[1..])
    }

    /// Exactly `count` ASCII digits, as a number; nothing is consumed when they are not there.
    fn digits(&mut self, count: usize) -> Option<i64> {
        let digits = self.0.get(..count).filter(|d| d.iter().all(u8::is_ascii_digit))?;
        self.0 = &self.0[count..];
        Some(digits.iter().fold(0, |n, d| n * 10 + i64::from(d - b'0')))
    }
}
