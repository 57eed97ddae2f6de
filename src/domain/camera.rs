//! Kameror: camera positions with their viewing sector, and the register a municipality keeps
//! of them since the law change of 1 April 2025 (no permit any more; the camera's own
//! documented balancing of interests, *intresseavvägning*, with a purpose and a date for the
//! next review).

use serde::{Deserialize, Serialize};
use time::Date;

use super::error::Checks;
use super::text::check_label;

/// Longest camera range accepted, in metres.
pub const MAX_RANGE_M: f64 = 2000.0;
/// Fewest and most horizontal pixels accepted for a camera's resolution.
pub const RESOLUTION_PX: std::ops::RangeInclusive<u32> = 160..=16_384;
/// Highest mounting accepted, in metres.
pub const MAX_MOUNTING_HEIGHT_M: f64 = 100.0;

str_enum! {
    /// Who owns and runs the camera.
    pub enum CameraOwner {
        /// Kommunen.
        Municipality = "municipality",
        /// Polisen.
        Police = "police",
        /// Bostadsbolag.
        HousingCompany = "housing_company",
        /// Annan.
        Other = "other",
    }
}

str_enum! {
    /// Whether the camera records.
    pub enum CameraStatus {
        /// I drift.
        Active = "active",
        /// Planerad.
        Planned = "planned",
        /// Ur funktion.
        OutOfOrder = "out_of_order",
    }
}

/// A camera's own properties.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Camera {
    /// Viewing direction in degrees clockwise from north, 0 ≤ d < 360.
    #[schema(minimum = 0, exclusive_maximum = 360)]
    pub direction: f64,
    /// Horizontal field of view in degrees, 0 < f ≤ 360.
    #[schema(exclusive_minimum = 0, maximum = 360)]
    pub field_of_view: f64,
    /// Useful range in metres, 0 < r ≤ 2000.
    #[schema(exclusive_minimum = 0, maximum = 2000)]
    pub range_m: f64,
    /// Who owns it.
    pub owner: CameraOwner,
    /// Active, planned or out of order.
    pub status: CameraStatus,
    /// What the camera is for (*syfte*), as the documented assessment states it.
    #[serde(default)]
    #[schema(schema_with = crate::domain::text::optional_label_schema)]
    pub purpose: Option<Box<str>>,
    /// When the balancing of interests (*intresseavvägning*) was documented.
    #[serde(default)]
    pub assessment_date: Option<Date>,
    /// The documented assessment's reference (*diarienummer*). A camera permit's reference from
    /// before 1 April 2025 (`permit_reference`, still accepted) is kept here.
    #[serde(default, alias = "permit_reference")]
    #[schema(schema_with = crate::domain::text::optional_label_schema)]
    pub assessment_reference: Option<Box<str>>,
    /// When the assessment must be reviewed; after this date the camera is stale.
    #[serde(default)]
    pub next_review: Option<Date>,
    /// The organisation that runs the camera day to day (*ansvarig verksamhet*), when not the
    /// owner.
    #[serde(default)]
    #[schema(schema_with = crate::domain::text::optional_label_schema)]
    pub operator: Option<Box<str>>,
    /// When the camera was last checked to work and point where registered.
    #[serde(default)]
    pub last_checked: Option<Date>,
    /// Horizontal resolution in pixels (decides the image detail at each distance, IEC 62676-4).
    #[serde(default)]
    #[schema(minimum = 160, maximum = 16384)]
    pub resolution_px: Option<u32>,
    /// Mounting height above the ground in metres.
    #[serde(default)]
    #[schema(exclusive_minimum = 0, maximum = 100)]
    pub mounting_height_m: Option<f64>,
}

impl Camera {
    /// Checks the rules serde cannot express.
    pub fn check(&self, checks: &mut Checks) {
        checks.require((0.0..360.0).contains(&self.direction), "/direction", || {
            format!(
                "is {}; must be degrees clockwise from north, at least 0 and below 360",
                self.direction
            )
        });
        checks.require(
            self.field_of_view > 0.0 && self.field_of_view <= 360.0,
            "/field_of_view",
            || {
                format!(
                    "is {}; must be above 0 and at most 360 degrees",
                    self.field_of_view
                )
            },
        );
        checks.require(
            self.range_m > 0.0 && self.range_m <= MAX_RANGE_M,
            "/range_m",
            || {
                format!(
                    "is {}; must be above 0 and at most {MAX_RANGE_M} metres",
                    self.range_m
                )
            },
        );
        for (field, text) in [
            ("/purpose", &self.purpose),
            ("/assessment_reference", &self.assessment_reference),
            ("/operator", &self.operator),
        ] {
            if let Some(t) = text {
                check_label(checks, field, t);
            }
        }
        if let (Some(assessed), Some(review)) = (self.assessment_date, self.next_review) {
            checks.require(review >= assessed, "/next_review", || {
                format!("({review}) is before 'assessment_date' ({assessed})")
            });
        }
        if let Some(px) = self.resolution_px {
            checks.require(RESOLUTION_PX.contains(&px), "/resolution_px", || {
                format!(
                    "is {px}; must be the horizontal pixels, {} to {}",
                    RESOLUTION_PX.start(),
                    RESOLUTION_PX.end()
                )
            });
        }
        if let Some(h) = self.mounting_height_m {
            checks.require(
                h > 0.0 && h <= MAX_MOUNTING_HEIGHT_M,
                "/mounting_height_m",
                || format!("is {h}; must be above 0 and at most {MAX_MOUNTING_HEIGHT_M} metres"),
            );
        }
    }

    /// A camera whose assessment was not reviewed by its review date is stale, and must look
    /// stale, whatever its status.
    #[must_use]
    pub fn is_stale(&self, today: Date) -> bool {
        self.next_review.is_some_and(|d| d < today)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn camera(json: serde_json::Value) -> Result<Camera, serde_json::Error> {
        let mut base = serde_json::json!({"direction": 90, "field_of_view": 60, "range_m": 40,
            "owner": "municipality", "status": "active"});
        if let (Some(b), Some(extra)) = (base.as_object_mut(), json.as_object()) {
            b.extend(extra.clone());
        }
        serde_json::from_value(base)
    }

    fn problems(c: &Camera) -> Vec<String> {
        let mut checks = Checks::default();
        c.check(&mut checks);
        checks
            .finish()
            .err()
            .map(|e| e.to_string())
            .into_iter()
            .collect()
    }

    #[test]
    fn a_permit_reference_from_before_the_law_change_is_the_assessments_reference() {
        let c = camera(serde_json::json!({"permit_reference": "KBT-2023-0042"})).unwrap();
        assert_eq!(c.assessment_reference.as_deref(), Some("KBT-2023-0042"));
        let out = serde_json::to_value(&c).unwrap();
        assert_eq!(out["assessment_reference"], "KBT-2023-0042");
        assert!(out.get("permit_reference").is_none());
    }

    #[test]
    fn the_register_fields_are_checked() {
        let c = camera(serde_json::json!({"assessment_date": "2026-03-01",
            "next_review": "2025-03-01", "resolution_px": 20, "mounting_height_m": -2}))
        .unwrap();
        let p = problems(&c).join(" ");
        for field in ["/next_review", "/resolution_px", "/mounting_height_m"] {
            assert!(p.contains(field), "{field}: {p}");
        }
        let ok = camera(serde_json::json!({"purpose": "Trygghet vid centrum",
            "assessment_date": "2025-06-01", "assessment_reference": "KS 2025/118",
            "next_review": "2027-06-01", "operator": "Botkyrka kommun, säkerhetsenheten",
            "last_checked": "2026-10-12", "resolution_px": 2688, "mounting_height_m": 4.5}))
        .unwrap();
        assert!(problems(&ok).is_empty(), "{:?}", problems(&ok));
        assert!(
            camera(serde_json::json!({"permit": "x"})).is_err(),
            "unknown fields refused"
        );
    }

    #[test]
    fn a_camera_past_its_review_date_is_stale() {
        let c = camera(serde_json::json!({"next_review": "2026-11-30"})).unwrap();
        assert!(!c.is_stale(date!(2026 - 11 - 30)));
        assert!(c.is_stale(date!(2026 - 12 - 01)));
        assert!(
            !camera(serde_json::json!({}))
                .unwrap()
                .is_stale(date!(2030 - 01 - 01))
        );
    }
}
