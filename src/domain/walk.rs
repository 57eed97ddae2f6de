//! Genomförda vandringar: walks done on a patrol route.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use super::error::Checks;
use super::text::check_text;

/// A walk's own properties.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Walk {
    /// The patrol route walked.
    pub route_id: Uuid,
    /// When the walk started.
    #[serde(with = "time::serde::rfc3339")]
    pub started_at: OffsetDateTime,
    /// When it ended.
    #[serde(with = "time::serde::rfc3339")]
    pub ended_at: OffsetDateTime,
    /// How many walked (a count, never names).
    #[schema(minimum = 1)]
    pub walkers: u16,
    /// A short report of what was seen; places and patterns, never persons.
    #[serde(default)]
    #[schema(schema_with = crate::domain::text::text_schema)]
    pub report: Box<str>,
    /// Stops made at hot cells: which 250 m cell, when and for how long. Never a trail of
    /// positions: a walk's dosage is told by cells and minutes only.
    #[serde(default)]
    #[schema(max_items = 48)]
    pub stops: Vec<Stop>,
}

/// A stop at a 250 m cell during a walk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Stop {
    /// The cell, as counts and hot spots name it: `E2648_N26280` (SWEREF 99 TM easting and
    /// northing over 250 m).
    #[schema(pattern = "^E-?[0-9]{1,6}_N-?[0-9]{1,6}$", example = "E2648_N26280")]
    pub cell: Box<str>,
    /// When the walkers arrived.
    #[serde(with = "time::serde::rfc3339")]
    pub arrived_at: OffsetDateTime,
    /// Minutes they stayed.
    #[schema(minimum = 1, maximum = 240)]
    pub minutes: u16,
}

/// The most stops one walk may log.
pub const MAX_STOPS: usize = 48;

/// A cell key (`E2648_N26280`) as (easting, northing) over 250 m.
#[must_use]
pub fn parse_cell(key: &str) -> Option<(i64, i64)> {
    let (e, n) = key.strip_prefix('E')?.split_once("_N")?;
    let ok = |s: &str| {
        let digits = s.strip_prefix('-').unwrap_or(s);
        !digits.is_empty() && digits.len() <= 6 && digits.bytes().all(|b| b.is_ascii_digit())
    };
    (ok(e) && ok(n)).then_some(())?;
    Some((e.parse().ok()?, n.parse().ok()?))
}

impl Walk {
    /// Checks the rules serde cannot express.
    pub fn check(&self, checks: &mut Checks) {
        checks.require(self.ended_at >= self.started_at, "/ended_at", || {
            "is before 'started_at'; a walk must end after it starts".into()
        });
        let latest = crate::domain::time::now_utc() + time::Duration::days(1);
        checks.require(
            self.ended_at <= latest && self.started_at.year() >= 1900,
            "/ended_at",
            || "a walk is logged after it is done: its times must be in the past (at most a day ahead) and after 1900".into(),
        );
        checks.require(self.walkers >= 1, "/walkers", || {
            "must be at least 1".into()
        });
        check_text(checks, "/report", &self.report);
        checks.require(self.stops.len() <= MAX_STOPS, "/stops", || {
            format!(
                "{} stops; a walk logs at most {MAX_STOPS}",
                self.stops.len()
            )
        });
        let mut free_from = self.started_at;
        for (i, s) in self.stops.iter().enumerate() {
            let at = |f: &str| format!("/stops/{i}/{f}");
            checks.require(parse_cell(&s.cell).is_some(), &at("cell"), || {
                format!(
                    "'{}' is not a 250 m cell; write it as counts name it, e.g. E2648_N26280",
                    s.cell
                )
            });
            checks.require((1..=240).contains(&s.minutes), &at("minutes"), || {
                format!("is {}; a stop lasts 1 to 240 minutes", s.minutes)
            });
            // Checked: an arrival at the end of time has no "after".
            let leaves = s
                .arrived_at
                .checked_add(time::Duration::minutes(i64::from(s.minutes)))
                .unwrap_or(time::PrimitiveDateTime::MAX.assume_utc());
            checks.require(
                s.arrived_at >= free_from && leaves <= self.ended_at,
                &at("arrived_at"),
                || {
                    "a stop lies within the walk, after the one before it ends (arrival plus minutes no later than ended_at)".into()
                },
            );
            free_from = free_from.max(leaves);
        }
    }
}
