//! Händelser: incidents reported on the ground.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::error::Checks;
use super::text::{check_label, check_text};

str_enum! {
    /// What happened.
    pub enum IncidentCategory {
        /// Bilbrand.
        CarFire = "car_fire",
        /// Skottlossning.
        Shooting = "shooting",
        /// Explosion / sprängning.
        Explosion = "explosion",
        /// Narkotikagömma.
        DrugCache = "drug_cache",
        /// Vapengömma.
        WeaponCache = "weapon_cache",
        /// Skadegörelse.
        Vandalism = "vandalism",
        /// Hot / våld.
        ThreatViolence = "threat_violence",
        /// Ordningsstörning / samling.
        DisorderGathering = "disorder_gathering",
        /// Övrigt.
        Other = "other",
    }
}

str_enum! {
    /// Whether the incident is still being acted on.
    pub enum IncidentStatus {
        /// Pågående / öppen.
        Open = "open",
        /// Avslutad.
        Closed = "closed",
    }
}

/// An incident's own properties.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Incident {
    /// What happened.
    pub category: IncidentCategory,
    /// When it happened (RFC 3339).
    #[serde(with = "time::serde::rfc3339")]
    pub occurred_at: OffsetDateTime,
    /// 1 (minor) to 5 (most severe).
    #[schema(minimum = 1, maximum = 5)]
    pub severity: u8,
    /// Open or closed.
    #[serde(default = "default_status")]
    pub status: IncidentStatus,
    /// The reporting organisation's reference number (police information).
    #[serde(default)]
    #[schema(schema_with = crate::domain::text::optional_label_schema)]
    pub reference: Option<Box<str>>,
    /// A short description of what happened; places and patterns, never persons.
    #[serde(default)]
    #[schema(schema_with = crate::domain::text::text_schema)]
    pub description: Box<str>,
}

fn default_status() -> IncidentStatus {
    IncidentStatus::Open
}

impl Incident {
    /// Checks the rules serde cannot express.
    pub fn check(&self, checks: &mut Checks) {
        checks.require((1..=5).contains(&self.severity), "/severity", || {
            format!(
                "is {}; must be a whole number from 1 (minor) to 5 (most severe)",
                self.severity
            )
        });
        // Not in the future (a day's slack for clocks and time zones), not before 1900.
        let latest = crate::domain::time::now_utc() + time::Duration::days(1);
        checks.require(
            self.occurred_at <= latest && self.occurred_at.year() >= 1900,
            "/occurred_at",
            || {
                format!(
                    "is {}; an incident's time must be in the past (at most a day ahead) and after 1900",
                    self.occurred_at.date()
                )
            },
        );
        if let Some(r) = &self.reference {
            check_label(checks, "/reference", r);
        }
        check_text(checks, "/description", &self.description);
    }
}
