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

/// An incident as a store keeps it: without the fields its row holds in columns of their own
/// (`category`, `status`, and `occurred_at` when it is a whole second in UTC, as the time column
/// keeps it), and without a missing `reference`. A third of the bytes, and half the keys, that
/// PostgreSQL parses into `jsonb` on every import.
#[derive(Serialize)]
pub(super) struct StoredIncident<'a> {
    #[serde(
        skip_serializing_if = "Option::is_none",
        with = "time::serde::rfc3339::option"
    )]
    occurred_at: Option<OffsetDateTime>,
    severity: u8,
    #[serde(skip_serializing_if = "Option::is_none")]
    reference: Option<&'a str>,
    // Kept when empty: the `incidents` view shows it as '' rather than NULL, as before.
    description: &'a str,
}

impl<'a> From<&'a Incident> for StoredIncident<'a> {
    fn from(i: &'a Incident) -> Self {
        let in_column = i.occurred_at.offset().is_utc() && i.occurred_at.nanosecond() == 0;
        Self {
            occurred_at: (!in_column).then_some(i.occurred_at),
            severity: i.severity,
            reference: i.reference.as_deref(),
            description: &i.description,
        }
    }
}

/// A stored incident read back, in either form: [`StoredIncident`]'s, or the whole one of rows
/// written before it (every field in the document).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct StoredIncidentRead {
    #[serde(default)]
    category: Option<IncidentCategory>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    occurred_at: Option<OffsetDateTime>,
    severity: u8,
    #[serde(default)]
    status: Option<IncidentStatus>,
    #[serde(default)]
    reference: Option<Box<str>>,
    #[serde(default)]
    description: Box<str>,
}

impl StoredIncidentRead {
    /// The incident, with what the document leaves out taken from the row's columns (the
    /// document wins where it has a field: rows written before the compact form).
    ///
    /// # Errors
    /// A field is neither in the document nor in its column, or the column's value is not one.
    pub(super) fn complete(
        self,
        columns: &super::feature::StoredColumns<'_>,
    ) -> Result<Incident, String> {
        let category = match self.category {
            Some(c) => c,
            None => columns
                .category
                .ok_or("no category in the document or its column")?
                .parse()
                .map_err(|e| format!("column category: {e}"))?,
        };
        let status = match self.status {
            Some(s) => s,
            None => match columns.status {
                Some(s) => s.parse().map_err(|e| format!("column status: {e}"))?,
                None => default_status(),
            },
        };
        let occurred_at = self
            .occurred_at
            .or(columns.time_start)
            .ok_or("no occurred_at in the document or time_start in its column")?;
        Ok(Incident {
            category,
            occurred_at,
            severity: self.severity,
            status,
            reference: self.reference,
            description: self.description,
        })
    }
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
