//! Riskmiljöer: point-marked places where young people risk being drawn into crime.

use serde::{Deserialize, Serialize};
use time::Date;

use super::error::Checks;
use super::text::{check_label, check_text};

str_enum! {
    /// What kind of place it is.
    pub enum RiskKind {
        /// Samlingsplats (a place where young people gather).
        GatheringPlace = "gathering_place",
        /// Öppen narkotikahandel.
        OpenDrugScene = "open_drug_scene",
        /// Rekryteringsmiljö.
        RecruitmentSite = "recruitment_site",
        /// Otrygg plats (lighting, hidden corners).
        UnsafePlace = "unsafe_place",
        /// Övrigt.
        Other = "other",
    }
}

str_enum! {
    /// How serious the risk is judged to be.
    pub enum RiskLevel {
        /// Låg.
        Low = "low",
        /// Medel.
        Medium = "medium",
        /// Hög.
        High = "high",
    }
}

str_enum! {
    /// Whether the marking is in force.
    pub enum RiskStatus {
        /// Aktiv.
        Active = "active",
        /// Avslutad (no longer a risk environment).
        Closed = "closed",
    }
}

/// A risk environment's own properties.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RiskEnvironment {
    /// What kind of place.
    pub kind: RiskKind,
    /// Risk level.
    pub level: RiskLevel,
    /// Marked since (date).
    pub since: Date,
    /// Last assessed (date).
    pub last_assessed: Date,
    /// Which organisation or function made the last assessment (never a person's name).
    #[schema(schema_with = crate::domain::text::label_schema)]
    pub assessed_by: Box<str>,
    /// When it must be re-assessed; after this date the marking is stale.
    pub next_review: Date,
    /// Active or closed.
    #[serde(default = "default_status")]
    pub status: RiskStatus,
    /// What is seen at the place; patterns, never persons.
    #[serde(default)]
    #[schema(schema_with = crate::domain::text::text_schema)]
    pub description: Box<str>,
}

fn default_status() -> RiskStatus {
    RiskStatus::Active
}

impl RiskEnvironment {
    /// Checks the rules serde cannot express.
    pub fn check(&self, checks: &mut Checks) {
        checks.require(self.last_assessed >= self.since, "/last_assessed", || {
            format!(
                "({}) is before 'since' ({})",
                self.last_assessed, self.since
            )
        });
        checks.require(
            self.next_review >= self.last_assessed,
            "/next_review",
            || {
                format!(
                    "({}) is before 'last_assessed' ({})",
                    self.next_review, self.last_assessed
                )
            },
        );
        check_label(checks, "/assessed_by", &self.assessed_by);
        check_text(checks, "/description", &self.description);
    }

    /// A marking not re-assessed by its review date is stale and must look stale.
    #[must_use]
    pub fn is_stale(&self, today: Date) -> bool {
        self.status == RiskStatus::Active && self.next_review < today
    }
}
