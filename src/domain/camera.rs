//! Kameror: camera positions with their viewing sector.

use serde::{Deserialize, Serialize};

use super::error::Checks;
use super::text::check_label;

/// Longest camera range accepted, in metres.
pub const MAX_RANGE_M: f64 = 2000.0;

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
    /// Camera permit reference (kamerabevakningstillstånd), if any.
    #[serde(default)]
    #[schema(schema_with = crate::domain::text::optional_label_schema)]
    pub permit_reference: Option<Box<str>>,
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
        if let Some(p) = &self.permit_reference {
            check_label(checks, "/permit_reference", p);
        }
    }
}
