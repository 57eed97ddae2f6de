//! Nattvandringsrutter: routes walked by night walkers, field workers or police.

use serde::{Deserialize, Serialize};

use super::error::Checks;
use super::text::{check_label, check_text};

str_enum! {
    /// Who walks the route.
    pub enum RouteKind {
        /// Nattvandrare (civil society).
        NightWalkers = "night_walkers",
        /// Fältarbetare.
        FieldWorkers = "field_workers",
        /// Polis.
        Police = "police",
    }
}

str_enum! {
    /// Whether the route is walked.
    pub enum RouteStatus {
        /// Aktiv.
        Active = "active",
        /// Pausad.
        Paused = "paused",
        /// Avvecklad.
        Retired = "retired",
    }
}

str_enum! {
    /// A day of the week (ISO order).
    pub enum Weekday {
        /// Måndag.
        Mon = "mon",
        /// Tisdag.
        Tue = "tue",
        /// Onsdag.
        Wed = "wed",
        /// Torsdag.
        Thu = "thu",
        /// Fredag.
        Fri = "fri",
        /// Lördag.
        Sat = "sat",
        /// Söndag.
        Sun = "sun",
    }
}

/// A patrol route's own properties.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatrolRoute {
    /// The route's name, e.g. "Alby centrum – Albyberget".
    #[schema(schema_with = crate::domain::text::label_schema)]
    pub name: Box<str>,
    /// Who walks it.
    pub kind: RouteKind,
    /// Days it is walked.
    #[schema(min_items = 1)]
    pub weekdays: Vec<Weekday>,
    /// Start time of day, "HH:MM" (local time).
    #[schema(pattern = "^([01][0-9]|2[0-3]):[0-5][0-9]$", example = "19:00")]
    pub start_time: Box<str>,
    /// End time of day, "HH:MM" (local time; may be after midnight, before `start_time`).
    #[schema(pattern = "^([01][0-9]|2[0-3]):[0-5][0-9]$", example = "23:30")]
    pub end_time: Box<str>,
    /// Active, paused or retired.
    #[serde(default = "default_status")]
    pub status: RouteStatus,
    /// Notes on the route.
    #[serde(default)]
    #[schema(schema_with = crate::domain::text::text_schema)]
    pub description: Box<str>,
}

fn default_status() -> RouteStatus {
    RouteStatus::Active
}

/// Parses "HH:MM" into minutes after midnight.
#[must_use]
pub fn parse_hhmm(s: &str) -> Option<u16> {
    let (h, m) = s.split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
    (h < 24 && m < 60).then_some(h * 60 + m)
}

impl PatrolRoute {
    /// Checks the rules serde cannot express.
    pub fn check(&self, checks: &mut Checks) {
        check_label(checks, "/name", &self.name);
        checks.require(!self.weekdays.is_empty(), "/weekdays", || {
            "must name at least one day (mon, tue, wed, thu, fri, sat, sun)".into()
        });
        for (field, value) in [
            ("/start_time", &self.start_time),
            ("/end_time", &self.end_time),
        ] {
            checks.require(parse_hhmm(value).is_some(), field, || {
                format!("'{value}' is not a time of day; write HH:MM, e.g. 21:30")
            });
        }
        check_text(checks, "/description", &self.description);
    }
}

/// When a route is walked: its days and its hours in Swedish local time. A session that ends
/// at or before it starts runs past midnight and belongs to the day it starts on; a start
/// equal to the end is a whole day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schedule {
    /// Monday first.
    days: [bool; 7],
    /// Minutes after midnight.
    start: u16,
    /// Minutes after midnight.
    end: u16,
}

impl Schedule {
    /// The schedule of `days` from `start` to `end` ("HH:MM"), or `None` for a time that is not
    /// one or no day.
    #[must_use]
    pub fn new(days: &[Weekday], start: &str, end: &str) -> Option<Self> {
        let mut d = [false; 7];
        for w in days {
            d[w.index()] = true;
        }
        (d.iter().any(|x| *x)).then_some(())?;
        Some(Self {
            days: d,
            start: parse_hhmm(start)?,
            end: parse_hhmm(end)?,
        })
    }

    /// Minutes a session lasts.
    #[must_use]
    pub const fn minutes(&self) -> u16 {
        if self.end > self.start {
            self.end - self.start
        } else {
            24 * 60 - self.start + self.end
        }
    }

    /// Hours walked in a week.
    #[must_use]
    pub fn hours_per_week(&self) -> f64 {
        let days = self.days.iter().filter(|d| **d).count();
        #[allow(clippy::cast_precision_loss)]
        let h = days as f64 * f64::from(self.minutes()) / 60.0;
        h
    }

    /// Whether a session starts on `day`.
    #[must_use]
    pub const fn walks_on(&self, day: time::Weekday) -> bool {
        self.days[day.number_days_from_monday() as usize]
    }

    /// Whether the instant falls in a session (read in Swedish local time).
    #[must_use]
    pub fn covers(&self, at: time::OffsetDateTime) -> bool {
        let local = super::time::swedish_local(at);
        let minute = u16::from(local.hour()) * 60 + u16::from(local.minute());
        let today = usize::from(local.weekday().number_days_from_monday());
        let yesterday = (today + 6) % 7;
        if self.end > self.start {
            self.days[today] && minute >= self.start && minute < self.end
        } else {
            (self.days[today] && minute >= self.start)
                || (self.days[yesterday] && minute < self.end)
        }
    }
}

impl Weekday {
    /// Monday 0 … Sunday 6.
    #[must_use]
    pub const fn index(self) -> usize {
        match self {
            Weekday::Mon => 0,
            Weekday::Tue => 1,
            Weekday::Wed => 2,
            Weekday::Thu => 3,
            Weekday::Fri => 4,
            Weekday::Sat => 5,
            Weekday::Sun => 6,
        }
    }
}

impl PatrolRoute {
    /// When the route is walked (`None` only for a route that failed its checks).
    #[must_use]
    pub fn schedule(&self) -> Option<Schedule> {
        Schedule::new(&self.weekdays, &self.start_time, &self.end_time)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn an_evening_past_midnight_belongs_to_the_day_it_starts() {
        // Fridays and Saturdays 21:00–02:00 Swedish time.
        let s = Schedule::new(&[Weekday::Fri, Weekday::Sat], "21:00", "02:00").unwrap();
        assert_eq!(s.minutes(), 300);
        assert!((s.hours_per_week() - 10.0).abs() < 1e-12);
        // 2026-12-04 is a Friday; winter time is UTC+1.
        assert!(s.covers(datetime!(2026-12-04 20:00 UTC))); // Fri 21:00
        assert!(!s.covers(datetime!(2026-12-04 19:59 UTC))); // Fri 20:59
        assert!(s.covers(datetime!(2026-12-05 00:59 UTC))); // Sat 01:59, Friday's night
        assert!(!s.covers(datetime!(2026-12-05 01:00 UTC))); // Sat 02:00, over
        assert!(s.covers(datetime!(2026-12-06 00:30 UTC))); // Sun 01:30, Saturday's night
        assert!(!s.covers(datetime!(2026-12-06 20:30 UTC))); // Sun 21:30
        assert!(!s.covers(datetime!(2026-12-04 00:30 UTC))); // Fri 01:30, Thursday's night
        // Summer time: Fri 2026-06-05 21:00 is 19:00 UTC.
        assert!(s.covers(datetime!(2026-06-05 19:00 UTC)));
        assert!(!s.covers(datetime!(2026-06-05 18:59 UTC)));
    }

    #[test]
    fn a_daytime_session_and_a_whole_day() {
        let s = Schedule::new(&[Weekday::Wed], "09:00", "17:00").unwrap();
        assert!(s.covers(datetime!(2026-12-02 08:00 UTC))); // Wed 09:00
        assert!(!s.covers(datetime!(2026-12-02 16:00 UTC))); // Wed 17:00
        let all = Schedule::new(&[Weekday::Mon], "00:00", "00:00").unwrap();
        assert_eq!(all.minutes(), 1440);
        assert!(all.covers(datetime!(2026-11-30 22:59 UTC))); // Mon 23:59
        assert!(!all.covers(datetime!(2026-11-30 23:00 UTC))); // Tue 00:00
        assert!(Schedule::new(&[], "09:00", "10:00").is_none());
        assert!(Schedule::new(&[Weekday::Mon], "9:00", "10:00").is_none());
    }
}
