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
