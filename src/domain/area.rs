//! Områden: district outlines used to aggregate and compare.

use serde::{Deserialize, Serialize};

use super::error::Checks;
use super::text::{check_label, check_text};

str_enum! {
    /// The police classification of vulnerable areas (utsatta områden).
    pub enum PoliceClassification {
        /// Utsatt område.
        Utsatt = "utsatt",
        /// Riskområde.
        Riskomrade = "riskomrade",
        /// Särskilt utsatt område.
        SarskiltUtsatt = "sarskilt_utsatt",
    }
}

str_enum! {
    /// What an outline is: counts, the agenda, briefings and coarse labels use districts (and
    /// other areas); a municipality's outline frames maps and windows, and is never counted, so
    /// nothing is counted twice and no coarse feature is labelled by a whole municipality.
    pub enum AreaLevel {
        /// Kommun: the whole municipality.
        Municipality = "municipality",
        /// Stadsdel / kommundel: the unit the meeting follows.
        District = "district",
        /// Another outline (a school's surroundings, a centre).
        Other = "other",
    }
}

fn default_level() -> AreaLevel {
    AreaLevel::District
}

/// An area's own properties.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Area {
    /// District name, e.g. "Alby".
    #[schema(schema_with = crate::domain::text::label_schema)]
    pub name: Box<str>,
    /// Municipality, e.g. "Botkyrka".
    #[schema(schema_with = crate::domain::text::label_schema)]
    pub municipality: Box<str>,
    /// What the outline is (default: a district). Municipality outlines are not counted.
    #[serde(default = "default_level")]
    pub level: AreaLevel,
    /// Police classification where it applies.
    #[serde(default)]
    pub police_classification: Option<PoliceClassification>,
    /// The year of the police list the classification comes from.
    #[serde(default)]
    #[schema(minimum = 2015, maximum = 2100)]
    pub classification_year: Option<u16>,
    /// True when the outline is drawn approximately, not an official boundary.
    #[serde(default)]
    pub approximate: bool,
    /// Where the outline comes from.
    #[serde(default)]
    #[schema(schema_with = crate::domain::text::text_schema)]
    pub source: Box<str>,
    /// Its place on the chiefs' meeting's weekly agenda (lowest first; areas without one come
    /// after, by name). The security coordinator sets it.
    #[serde(default)]
    pub agenda_order: Option<u16>,
}

impl Area {
    /// Whether counts, the agenda, briefings and coarse labels use this outline.
    #[must_use]
    pub fn is_counted(&self) -> bool {
        self.level != AreaLevel::Municipality
    }

    /// Checks the rules serde cannot express.
    pub fn check(&self, checks: &mut Checks) {
        check_label(checks, "/name", &self.name);
        check_label(checks, "/municipality", &self.municipality);
        if let Some(y) = self.classification_year {
            checks.require((2015..=2100).contains(&y), "/classification_year", || {
                format!("is {y}; the police lists start in 2015")
            });
        }
        check_text(checks, "/source", &self.source);
    }
}
