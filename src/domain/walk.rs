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
    }
}
