//! Time in the domain: the OGC `datetime` parameter and feature time spans.
//!
//! Times are compared as whole seconds since the Unix epoch (UTC); an open end is `i64::MIN`
//! or `i64::MAX`.

use time::format_description::well_known::Rfc3339;
use time::{Date, OffsetDateTime, Time};

use super::error::ValidationError;

/// A closed time span `[start, end]` in Unix seconds; open ends are `i64::MIN` / `i64::MAX`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeSpan {
    /// First second included.
    pub start: i64,
    /// Last second included.
    pub end: i64,
}

impl TimeSpan {
    /// Everything: a feature without time, or no filter.
    pub const ALL: TimeSpan = TimeSpan {
        start: i64::MIN,
        end: i64::MAX,
    };

    /// A single instant.
    #[must_use]
    pub const fn instant(t: i64) -> Self {
        Self { start: t, end: t }
    }

    /// True when the two spans share at least one second.
    #[must_use]
    pub const fn overlaps(&self, other: &TimeSpan) -> bool {
        self.start <= other.end && other.start <= self.end
    }
}

/// Parses the OGC API – Features `datetime` parameter: an instant (`2026-03-01T18:00:00Z` or a
/// date, meaning the whole day in UTC) or an interval `start/end` where either end may be `..` or
/// empty for open.
///
/// # Errors
/// A message naming the `datetime` parameter and the accepted forms.
pub fn parse_datetime(s: &str) -> Result<TimeSpan, ValidationError> {
    let err = |m: &str| {
        ValidationError::new(
            "datetime",
            format!(
                "'{s}': {m}; write an RFC 3339 instant (2026-03-01T18:00:00Z), a date (2026-03-01) or an interval start/end with '..' for an open end"
            ),
        )
    };
    if let Some((a, b)) = s.split_once('/') {
        let start = match a {
            "" | ".." => i64::MIN,
            _ => parse_point(a)
                .map(|(s, _)| s)
                .ok_or_else(|| err("the start is not a time"))?,
        };
        let end = match b {
            "" | ".." => i64::MAX,
            _ => parse_point(b)
                .map(|(_, e)| e)
                .ok_or_else(|| err("the end is not a time"))?,
        };
        if start == i64::MIN && end == i64::MAX && a.is_empty() && b.is_empty() {
            return Err(err("both ends are empty"));
        }
        if start > end {
            return Err(err("the interval ends before it starts"));
        }
        Ok(TimeSpan { start, end })
    } else {
        let (start, end) = parse_point(s).ok_or_else(|| err("not a time"))?;
        Ok(TimeSpan { start, end })
    }
}

/// An instant → (t, t); a date → (first, last second of that UTC day).
fn parse_point(s: &str) -> Option<(i64, i64)> {
    if let Ok(t) = OffsetDateTime::parse(s, &Rfc3339) {
        let t = t.unix_timestamp();
        return Some((t, t));
    }
    let date = Date::parse(s, time::macros::format_description!("[year]-[month]-[day]")).ok()?;
    let start = date.with_time(Time::MIDNIGHT).assume_utc().unix_timestamp();
    Some((start, start + 86_399))
}

/// The current time, truncated to whole microseconds: the precision both back-ends store, so a
/// feature reads back exactly as it was indexed.
#[must_use]
pub fn now_utc() -> time::OffsetDateTime {
    let now = time::OffsetDateTime::now_utc();
    now.replace_nanosecond(now.nanosecond() / 1_000 * 1_000)
        .unwrap_or(now)
}

/// The Monday 00:00 UTC of the ISO week holding `t` (Unix seconds).
#[must_use]
pub fn week_start(t: i64) -> i64 {
    const DAY: i64 = 86_400;
    // 1970-01-01 was a Thursday: shift so that weeks start on Monday.
    let days = t.div_euclid(DAY);
    let monday = days - (days + 3).rem_euclid(7);
    monday * DAY
}

/// The ISO week label (`2026-W48`) of a week start.
#[must_use]
pub fn week_label(week_start: i64) -> String {
    OffsetDateTime::from_unix_timestamp(week_start).map_or_else(
        |_| String::new(),
        |t| {
            let (y, w, _) = t.date().to_iso_week_date();
            format!("{y:04}-W{w:02}")
        },
    )
}

/// The first year an ISO week may name (the agenda and the analyses read no earlier data).
pub const FIRST_WEEK_YEAR: i32 = 1900;

/// The Monday of an ISO week written `2026-W49`, from [`FIRST_WEEK_YEAR`].
///
/// # Errors
/// A message saying what is wrong with the text.
pub fn parse_iso_week(s: &str) -> Result<time::Date, String> {
    let bad = || format!("'{s}' is not an ISO week; write e.g. 2026-W49");
    let (y, w) = s.split_once("-W").ok_or_else(bad)?;
    if y.len() != 4 || w.len() != 2 {
        return Err(bad());
    }
    if !y.bytes().all(|b| b.is_ascii_digit()) || !w.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let (y, w): (i32, u8) = (y.parse().map_err(|_| bad())?, w.parse().map_err(|_| bad())?);
    if y < FIRST_WEEK_YEAR {
        return Err(format!(
            "'{s}': weeks before 1900 hold no incidents; write e.g. 2026-W49"
        ));
    }
    time::Date::from_iso_week_date(y, w, time::Weekday::Monday)
        .map_err(|_| format!("{y} has no week {w}"))
}

/// A time window widened to whole ISO weeks (what coarse and aggregate viewers filter on).
#[must_use]
pub fn widen_to_weeks(span: TimeSpan) -> TimeSpan {
    const WEEK: i64 = 7 * 86_400;
    TimeSpan {
        start: if span.start == i64::MIN {
            i64::MIN
        } else {
            week_start(span.start)
        },
        end: if span.end == i64::MAX {
            i64::MAX
        } else {
            week_start(span.end).saturating_add(WEEK - 1)
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weeks_start_on_monday_utc() {
        // 2026-11-23 is a Monday; 2026-11-29 23:59:59 the Sunday after.
        let monday = time::macros::datetime!(2026-11-23 00:00 UTC).unix_timestamp();
        let sunday = time::macros::datetime!(2026-11-29 23:59:59 UTC).unix_timestamp();
        assert_eq!(week_start(monday), monday);
        assert_eq!(week_start(sunday), monday);
        assert_eq!(week_start(monday - 1), monday - 7 * 86_400);
        assert_eq!(week_label(monday), "2026-W48");
        let w = widen_to_weeks(TimeSpan {
            start: monday + 3600,
            end: monday + 7200,
        });
        assert_eq!((w.start, w.end), (monday, sunday));
        assert_eq!(widen_to_weeks(TimeSpan::ALL), TimeSpan::ALL);
    }

    #[test]
    fn iso_weeks_parse_to_their_monday() {
        assert_eq!(
            parse_iso_week("2026-W49").unwrap(),
            time::macros::date!(2026 - 11 - 30)
        );
        // 2026 has 53 ISO weeks, 2025 has 52; week 1 of 2026 starts in 2025.
        assert_eq!(
            parse_iso_week("2026-W01").unwrap(),
            time::macros::date!(2025 - 12 - 29)
        );
        assert!(parse_iso_week("2026-W53").is_ok());
        for bad in ["2025-W53", "2026-49", "2026-W9", "26-W49", "2026-W00", "x"] {
            assert!(parse_iso_week(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn instant_interval_and_open_ends() {
        assert_eq!(
            parse_datetime("2026-01-01T00:00:00Z").unwrap(),
            TimeSpan::instant(1_767_225_600)
        );
        let d = parse_datetime("2026-01-01").unwrap();
        assert_eq!((d.start, d.end), (1_767_225_600, 1_767_225_600 + 86_399));
        let open = parse_datetime("../2026-01-01T00:00:00Z").unwrap();
        assert_eq!((open.start, open.end), (i64::MIN, 1_767_225_600));
        let open = parse_datetime("2026-01-01T00:00:00Z/").unwrap();
        assert_eq!(open.end, i64::MAX);
    }

    #[test]
    fn refuses_garbage_and_inverted() {
        for bad in [
            "yesterday",
            "2026-13-01",
            "2026-02-01/2026-01-01",
            "/",
            "2026-01-01T25:00:00Z",
        ] {
            assert_eq!(parse_datetime(bad).unwrap_err().field, "datetime", "{bad}");
        }
    }

    #[test]
    fn overlap_is_inclusive() {
        let a = TimeSpan { start: 0, end: 10 };
        assert!(a.overlaps(&TimeSpan::instant(10)));
        assert!(!a.overlaps(&TimeSpan::instant(11)));
        assert!(TimeSpan::ALL.overlaps(&a));
    }
}

/// How a time written in a source file was read by [`parse_written_instant`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WrittenInstant {
    /// The instant.
    pub at: OffsetDateTime,
    /// True when the text had no offset and Swedish time (CET/CEST) was assumed.
    pub assumed_swedish_time: bool,
}

/// Reads a time as real sources write it: RFC 3339, or a date (`YYYY-MM-DD` or `YYYY/MM/DD`,
/// as GDAL writes CSV) and a time `H:MM[:SS[.fff]]` after `T` or spaces, then an optional offset
/// `Z`, `UTC`, `+HH`, `+HHMM` or `+HH:MM` (with or without a space before it:
/// `2022-09-28 9:05:00 +02:00`, the police's events feed). Without an offset the time is
/// Swedish time (CET, or CEST from the last Sunday of March to the last Sunday of October).
///
/// # Errors
/// A message naming the accepted forms.
pub fn parse_written_instant(s: &str) -> Result<WrittenInstant, String> {
    let s = s.trim();
    if let Ok(at) = OffsetDateTime::parse(s, &Rfc3339) {
        return Ok(WrittenInstant {
            at,
            assumed_swedish_time: false,
        });
    }
    let err = || {
        format!(
            "'{s}' is not a time; write e.g. 2026-11-30T22:15:00+01:00, 2026-11-30 22:15 (Swedish time), 2026-11-30 9:05:00 +0100 or 2026/11/30 22:15:00+01"
        )
    };
    let b = s.as_bytes();
    if b.len() < 10 || !matches!(b[4], b'-' | b'/') || b[7] != b[4] {
        return Err(err());
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        s.get(r)
            .filter(|t| t.bytes().all(|c| c.is_ascii_digit()))
            .and_then(|t| t.parse().ok())
    };
    let (Some(y), Some(mo), Some(d)) = (num(0..4), num(5..7), num(8..10)) else {
        return Err(err());
    };
    let month = time::Month::try_from(u8::try_from(mo).map_err(|_| err())?).map_err(|_| err())?;
    let date = Date::from_calendar_date(
        i32::try_from(y).map_err(|_| err())?,
        month,
        u8::try_from(d).map_err(|_| err())?,
    )
    .map_err(|_| err())?;
    let rest = &s[10..];
    let rest = rest.strip_prefix('T').unwrap_or(rest).trim_start();
    if rest.is_empty() {
        return Err(format!(
            "{}; a date alone does not say when it happened",
            err()
        ));
    }
    // The clock: H:MM[:SS[.fff]].
    let digits = |t: &str| t.bytes().take_while(u8::is_ascii_digit).count();
    let hl = digits(rest);
    if !(1..=2).contains(&hl) || rest.as_bytes().get(hl) != Some(&b':') {
        return Err(err());
    }
    let hour: u8 = rest[..hl].parse().map_err(|_| err())?;
    let rest = &rest[hl + 1..];
    if digits(rest) != 2 {
        return Err(err());
    }
    let minute: u8 = rest[..2].parse().map_err(|_| err())?;
    let mut rest = &rest[2..];
    let mut second = 0u8;
    let mut nano = 0u32;
    if let Some(r) = rest.strip_prefix(':') {
        if digits(r) != 2 {
            return Err(err());
        }
        second = r[..2].parse().map_err(|_| err())?;
        rest = &r[2..];
        if let Some(f) = rest.strip_prefix('.') {
            let n = digits(f);
            if n == 0 {
                return Err(err());
            }
            let frac = &f[..n.min(9)];
            nano = frac.parse::<u32>().map_err(|_| err())?
                * 10u32.pow(9 - u32::try_from(frac.len()).unwrap_or(9));
            rest = &f[n..];
        }
    }
    let clock = Time::from_hms_nano(hour, minute, second, nano).map_err(|_| err())?;
    let local = date.with_time(clock);
    let rest = rest.trim_start();
    let offset_secs: Option<i32> = match rest {
        "" => None,
        "Z" | "z" | "UTC" | "GMT" => Some(0),
        o => {
            let sign = match o.as_bytes()[0] {
                b'+' => 1,
                b'-' => -1,
                _ => return Err(err()),
            };
            let o = o[1..].replace(':', "");
            if !o.bytes().all(|c| c.is_ascii_digit()) {
                return Err(err());
            }
            let (h, m): (i32, i32) = match o.len() {
                2 => (o.parse().map_err(|_| err())?, 0),
                4 => (
                    o[..2].parse().map_err(|_| err())?,
                    o[2..].parse().map_err(|_| err())?,
                ),
                _ => return Err(err()),
            };
            if h > 14 || m > 59 {
                return Err(err());
            }
            Some(sign * (h * 3600 + m * 60))
        }
    };
    let (offset, assumed) = match offset_secs {
        Some(o) => (o, false),
        None => (swedish_offset_at_local(local), true),
    };
    let offset = time::UtcOffset::from_whole_seconds(offset).map_err(|_| err())?;
    Ok(WrittenInstant {
        at: local.assume_offset(offset),
        assumed_swedish_time: assumed,
    })
}

/// The last Sunday of `month` in `year`.
fn last_sunday(year: i32, month: time::Month) -> Option<Date> {
    let first_next = if month == time::Month::December {
        Date::from_calendar_date(year + 1, time::Month::January, 1)
    } else {
        Date::from_calendar_date(year, month.next(), 1)
    }
    .ok()?;
    let mut d = first_next.previous_day()?;
    while d.weekday() != time::Weekday::Sunday {
        d = d.previous_day()?;
    }
    Some(d)
}

/// Sweden's offset from UTC, in seconds, for a local wall-clock time: +2 h (CEST) from 02:00 on
/// the last Sunday of March to 03:00 on the last Sunday of October, +1 h (CET) otherwise (an
/// hour that occurs twice in October is read as summer time).
fn swedish_offset_at_local(local: time::PrimitiveDateTime) -> i32 {
    let year = local.year();
    let (Some(start), Some(end)) = (
        last_sunday(year, time::Month::March),
        last_sunday(year, time::Month::October),
    ) else {
        return 3600;
    };
    let begins = start.with_time(Time::from_hms(2, 0, 0).unwrap_or(Time::MIDNIGHT));
    let ends = end.with_time(Time::from_hms(3, 0, 0).unwrap_or(Time::MIDNIGHT));
    if local >= begins && local < ends {
        7200
    } else {
        3600
    }
}

/// The instant of a Swedish wall-clock time (an hour that occurs twice in October is read as
/// summer time; one skipped in March as if the clocks had not yet changed).
#[must_use]
pub fn from_swedish_local(local: time::PrimitiveDateTime) -> OffsetDateTime {
    let offset = time::UtcOffset::from_whole_seconds(swedish_offset_at_local(local))
        .unwrap_or(time::UtcOffset::UTC);
    local.assume_offset(offset)
}

/// Swedish wall-clock time (CET, or CEST from 01:00 UTC on the last Sunday of March to 01:00
/// UTC on the last Sunday of October: the EU rule Sweden has followed since 1996) of an instant.
#[must_use]
pub fn swedish_local(at: OffsetDateTime) -> time::PrimitiveDateTime {
    let utc = at.to_offset(time::UtcOffset::UTC);
    let year = utc.year();
    let one = Time::from_hms(1, 0, 0).unwrap_or(Time::MIDNIGHT);
    let summer = match (
        last_sunday(year, time::Month::March),
        last_sunday(year, time::Month::October),
    ) {
        (Some(start), Some(end)) => {
            let t = time::PrimitiveDateTime::new(utc.date(), utc.time());
            t >= start.with_time(one) && t < end.with_time(one)
        }
        _ => false,
    };
    let offset = if summer { 7200 } else { 3600 };
    let local = utc.saturating_add(time::Duration::seconds(offset));
    time::PrimitiveDateTime::new(local.date(), local.time())
}

#[cfg(test)]
mod written_tests {
    use super::*;

    fn utc(s: &str) -> String {
        let w = parse_written_instant(s).unwrap_or_else(|e| panic!("{e}"));
        w.at.to_offset(time::UtcOffset::UTC)
            .format(&Rfc3339)
            .unwrap()
    }

    #[test]
    fn the_forms_real_sources_write() {
        assert_eq!(utc("2022-09-28T09:05:00+02:00"), "2022-09-28T07:05:00Z");
        assert_eq!(utc("2022-09-28 9:05:00 +02:00"), "2022-09-28T07:05:00Z");
        assert_eq!(utc("2022-09-28 09:05:00+0100"), "2022-09-28T08:05:00Z");
        assert_eq!(utc("2022-09-28 09:05 +01"), "2022-09-28T08:05:00Z");
        assert_eq!(utc("2022/09/28 09:05:00+02"), "2022-09-28T07:05:00Z");
        assert_eq!(utc("2022/09/28 09:05:00.500+02"), "2022-09-28T07:05:00.5Z");
        assert_eq!(utc("2022-09-28 09:05:00 UTC"), "2022-09-28T09:05:00Z");
        assert_eq!(utc("2022-09-28T09:05:00Z"), "2022-09-28T09:05:00Z");
        // Swedish time without an offset: summer and winter, either side of each change.
        assert_eq!(utc("2022-09-28 09:05"), "2022-09-28T07:05:00Z");
        assert_eq!(utc("2022-12-24 15:00"), "2022-12-24T14:00:00Z");
        assert_eq!(utc("2026-03-29 01:59"), "2026-03-29T00:59:00Z");
        assert_eq!(utc("2026-03-29 03:00"), "2026-03-29T01:00:00Z");
        assert_eq!(utc("2026-10-25 02:30"), "2026-10-25T00:30:00Z");
        assert_eq!(utc("2026-10-25 03:00"), "2026-10-25T02:00:00Z");
        assert!(
            parse_written_instant("2022-09-28 09:05")
                .unwrap()
                .assumed_swedish_time
        );
        assert!(
            !parse_written_instant("2022-09-28 09:05Z")
                .unwrap()
                .assumed_swedish_time
        );
    }

    #[test]
    fn swedish_local_time_follows_the_clock_changes_both_ways() {
        use time::macros::datetime;
        let local = |t: OffsetDateTime| swedish_local(t).to_string();
        // Winter: UTC+1; summer: UTC+2; the changes at 01:00 UTC on the last Sundays.
        assert_eq!(
            local(datetime!(2026-01-15 12:00 UTC)),
            "2026-01-15 13:00:00.0"
        );
        assert_eq!(
            local(datetime!(2026-07-01 22:30 UTC)),
            "2026-07-02 0:30:00.0"
        );
        assert_eq!(
            local(datetime!(2026-03-29 00:59:59 UTC)),
            "2026-03-29 1:59:59.0"
        );
        assert_eq!(
            local(datetime!(2026-03-29 01:00 UTC)),
            "2026-03-29 3:00:00.0"
        );
        assert_eq!(
            local(datetime!(2026-10-25 00:59:59 UTC)),
            "2026-10-25 2:59:59.0"
        );
        assert_eq!(
            local(datetime!(2026-10-25 01:00 UTC)),
            "2026-10-25 2:00:00.0"
        );
        // An offset given is honoured, and the reverse of reading a written Swedish time.
        assert_eq!(
            local(datetime!(2026-07-01 14:00 +02:00)),
            "2026-07-01 14:00:00.0"
        );
        for s in [
            "2026-03-29 03:30",
            "2026-06-01 23:15",
            "2026-12-24 15:00",
            "2026-10-25 04:00",
        ] {
            let w = parse_written_instant(s).unwrap();
            let back = swedish_local(w.at);
            assert_eq!(
                back.format(&time::macros::format_description!(
                    "[year]-[month]-[day] [hour]:[minute]"
                ))
                .unwrap(),
                s
            );
        }
    }

    #[test]
    fn what_is_not_a_time_says_which_forms_are() {
        for bad in [
            "28/09/2022 09:05",
            "2022-09-28",
            "2022-13-01 10:00",
            "2022-09-28 25:00",
            "2022-09-28 9:5",
            "2022-09-28 09:05 +1",
            "2022-09-28 09:05 CET",
            "igår",
        ] {
            let e = parse_written_instant(bad).unwrap_err();
            assert!(e.contains("2026-11-30 22:15"), "{bad}: {e}");
        }
    }
}
