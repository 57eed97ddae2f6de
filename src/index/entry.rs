//! The compact record the R-tree holds for each feature.

use std::sync::Arc;

use rstar::{AABB, PointDistance, RTreeObject};

use crate::domain::Feature;
use crate::domain::geometry::bounds;

/// Marks "no category" / "no status" in an entry.
pub const NONE_CODE: u8 = u8::MAX;

/// What queries filter on, beside the feature itself.
#[derive(Debug, Clone)]
pub struct IndexEntry {
    envelope: AABB<[f64; 2]>,
    /// First second of the feature's time span.
    pub time_start: i64,
    /// Last second of the feature's time span.
    pub time_end: i64,
    /// Category code (position in the layer's category names) or [`NONE_CODE`].
    pub category: u8,
    /// Status code (position in the layer's status names) or [`NONE_CODE`].
    pub status: u8,
    /// The whole feature, shared with the id map.
    pub feature: Arc<Feature>,
}

impl IndexEntry {
    /// The record for `feature`.
    #[must_use]
    pub fn new(feature: Arc<Feature>) -> Self {
        let [x0, y0, x1, y1] = bounds(&feature.geometry);
        let span = feature.properties.time_span();
        Self {
            envelope: AABB::from_corners([x0, y0], [x1, y1]),
            time_start: span.start,
            time_end: span.end,
            category: feature.properties.category_code().unwrap_or(NONE_CODE),
            status: feature.properties.status_code().unwrap_or(NONE_CODE),
            feature,
        }
    }
}

impl PartialEq for IndexEntry {
    /// Two entries are the same record when they hold the same feature version.
    fn eq(&self, other: &Self) -> bool {
        self.feature.id == other.feature.id
            && self.feature.meta.version == other.feature.meta.version
    }
}

impl RTreeObject for IndexEntry {
    type Envelope = AABB<[f64; 2]>;

    fn envelope(&self) -> Self::Envelope {
        self.envelope
    }
}

impl PointDistance for IndexEntry {
    /// Squared distance in degree space from the envelope; a lower bound of the geometry's.
    fn distance_2(&self, point: &[f64; 2]) -> f64 {
        self.envelope.distance_2(point)
    }
}
