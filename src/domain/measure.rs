//! Åtgärder: measures the chiefs' meeting decides per area, with an owner, dates, the cause they
//! answer (BRÅ's fishbone: victim, offender, object/place) and the incident categories they aim
//! at, so that their effect can be followed up (`analysis::rates`).

use serde::{Deserialize, Serialize};
use time::Date;

use super::error::Checks;
use super::incident::IncidentCategory;
use super::text::{check_label, check_text};

str_enum! {
    /// What kind of measure (EST's kinds).
    pub enum MeasureKind {
        /// Situationell: lighting, cameras, cleaning, design of the place.
        Situational = "situational",
        /// Social: field work, activities, support for young people and families.
        Social = "social",
        /// Polisiär/tillsyn: presence, controls, inspections.
        Enforcement = "enforcement",
        /// Övrigt.
        Other = "other",
    }
}

str_enum! {
    /// Where a measure stands.
    pub enum MeasureStatus {
        /// Föreslagen.
        Proposed = "proposed",
        /// Beslutad.
        Decided = "decided",
        /// Pågående.
        Ongoing = "ongoing",
        /// Genomförd.
        Done = "done",
        /// Avbruten.
        Cancelled = "cancelled",
    }
}

str_enum! {
    /// The bone of BRÅ's cause fishbone the measure answers.
    pub enum CauseBone {
        /// Brottsutsatt (the victim).
        Victim = "victim",
        /// Gärningsperson (the offender).
        Offender = "offender",
        /// Objekt/plats (the object or the place).
        Place = "place",
    }
}

str_enum! {
    /// When an effect can be expected.
    pub enum Horizon {
        /// Kort sikt (weeks to months).
        Short = "short",
        /// Lång sikt (a year or more).
        Long = "long",
    }
}

/// The cause a measure answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Cause {
    /// Which bone of the fishbone.
    pub bone: CauseBone,
    /// The cause in a few words; places and patterns, never persons.
    #[serde(default)]
    #[schema(schema_with = crate::domain::text::text_schema)]
    pub text: Box<str>,
}

/// A measure's own properties.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Measure {
    /// A short title.
    #[schema(schema_with = crate::domain::text::label_schema)]
    pub title: Box<str>,
    /// What is done; never persons.
    #[serde(default)]
    #[schema(schema_with = crate::domain::text::text_schema)]
    pub description: Box<str>,
    /// What kind of measure.
    pub kind: MeasureKind,
    /// The cause it answers.
    pub cause: Cause,
    /// The organisation that carries it out.
    #[schema(schema_with = crate::domain::text::label_schema)]
    pub owner: Box<str>,
    /// Where it stands.
    #[serde(default = "default_status")]
    pub status: MeasureStatus,
    /// The meeting that decided it (e.g. `2026-W49`), when decided.
    #[serde(default)]
    #[schema(schema_with = crate::domain::text::optional_label_schema)]
    pub decided_at: Option<Box<str>>,
    /// First day it runs.
    pub start: Date,
    /// When it is due to be done.
    #[serde(default)]
    pub due: Option<Date>,
    /// When it ended (done or cancelled).
    #[serde(default)]
    pub end: Option<Date>,
    /// When an effect can be expected.
    pub horizon: Horizon,
    /// The incident categories it aims at (the follow-up counts these).
    #[schema(min_items = 1)]
    pub target_categories: Vec<IncidentCategory>,
    /// The area to compare with in the follow-up, by name; default: every other area.
    #[serde(default)]
    #[schema(schema_with = crate::domain::text::optional_label_schema)]
    pub comparison_area: Option<Box<str>>,
}

fn default_status() -> MeasureStatus {
    MeasureStatus::Proposed
}

impl Measure {
    /// Checks the rules serde cannot express.
    pub fn check(&self, checks: &mut Checks) {
        check_label(checks, "/title", &self.title);
        check_text(checks, "/description", &self.description);
        check_label(checks, "/owner", &self.owner);
        check_text(checks, "/cause/text", &self.cause.text);
        if let Some(d) = &self.decided_at {
            check_label(checks, "/decided_at", d);
        }
        if let Some(a) = &self.comparison_area {
            check_label(checks, "/comparison_area", a);
        }
        if let Some(due) = self.due {
            checks.require(due >= self.start, "/due", || {
                format!(
                    "({due}) is before 'start' ({}); a measure is due after it starts",
                    self.start
                )
            });
        }
        if let Some(end) = self.end {
            checks.require(end >= self.start, "/end", || {
                format!("({end}) is before 'start' ({})", self.start)
            });
        }
        let finished = matches!(self.status, MeasureStatus::Done | MeasureStatus::Cancelled);
        checks.require(!finished || self.end.is_some(), "/end", || {
            format!(
                "is missing; a measure that is '{}' needs the day it ended",
                self.status
            )
        });
        checks.require(
            !self.target_categories.is_empty(),
            "/target_categories",
            || {
                format!(
                    "is empty; name the incident categories it aims at ({})",
                    IncidentCategory::NAMES.join(", ")
                )
            },
        );
        let decided = !matches!(self.status, MeasureStatus::Proposed);
        checks.require(!decided || self.decided_at.is_some(), "/decided_at", || {
            "is missing; a measure past 'proposed' names the meeting that decided it (e.g. 2026-W49)"
                .into()
        });
    }

    /// A measure past its due date and not finished.
    #[must_use]
    pub fn is_overdue(&self, today: Date) -> bool {
        !matches!(self.status, MeasureStatus::Done | MeasureStatus::Cancelled)
            && self.due.is_some_and(|d| d < today)
    }
}
