//! The compact record the R-tree holds for each feature.

use rstar::{AABB, PointDistance, RTreeNode, RTreeObject};

use crate::domain::Feature;
use crate::domain::geometry::bounds;

/// Marks "no category" / "no status" in an entry.
pub const NONE_CODE: u8 = u8::MAX;

/// What queries filter and sort on; the feature itself sits in its layer's slab at `slot`.
///
/// The entry deliberately holds no pointer. A pointer's niche would let rstar's leaf node enum
/// be exactly as large as the entry, and Rust's in-place `collect` would then reuse each bulk-load
/// partition's oversized buffer for a leaf of at most six entries: measured, 739 MB instead of
/// 93 MB of tree for 1 000 000 entries. The assertion below keeps it that way.
#[derive(Debug, Clone, PartialEq)]
pub struct IndexEntry {
    envelope: AABB<[f64; 2]>,
    /// First second of the feature's time span.
    pub time_start: i64,
    /// Last second of the feature's time span.
    pub time_end: i64,
    /// The high 64 bits of the feature's id: orders features of equal time like their ids.
    pub id_high: u64,
    /// The low 64 bits of the feature's id (with `id_high`, the whole id: answers that list
    /// thousands of features, such as vector tiles, need not touch them).
    pub id_low: u64,
    /// Where the feature sits in the layer's slab.
    pub slot: u32,
    /// Category code (position in the layer's category names) or [`NONE_CODE`].
    pub category: u8,
    /// Status code (position in the layer's status names) or [`NONE_CODE`].
    pub status: u8,
    /// Classification code (open < internal < restricted), for a role's ceiling.
    pub classification: u8,
    /// The owning organisation's code in the layer's [`Organisations`], or [`NONE_CODE`] when
    /// the layer has more organisations than codes (then read it from the feature).
    pub organisation: u8,
}

/// A layer's organisations, numbered as they are first met (for [`IndexEntry::organisation`]).
#[derive(Debug, Default, Clone)]
pub struct Organisations(Vec<std::sync::Arc<str>>);

impl Organisations {
    /// The code of `name`, added if new; [`NONE_CODE`] once the codes run out.
    pub fn code(&mut self, name: &std::sync::Arc<str>) -> u8 {
        if let Some(i) = self
            .0
            .iter()
            .position(|o| std::sync::Arc::ptr_eq(o, name) || o == name)
        {
            return u8::try_from(i).unwrap_or(NONE_CODE);
        }
        if self.0.len() >= usize::from(NONE_CODE) {
            return NONE_CODE;
        }
        self.0.push(std::sync::Arc::clone(name));
        u8::try_from(self.0.len() - 1).unwrap_or(NONE_CODE)
    }

    /// The organisation with code `code`.
    #[must_use]
    pub fn name(&self, code: u8) -> Option<&std::sync::Arc<str>> {
        self.0.get(usize::from(code))
    }
}

const _: () = assert!(
    size_of::<RTreeNode<IndexEntry>>() > size_of::<IndexEntry>(),
    "an R-tree leaf must be larger than its entry, or bulk loading keeps oversized buffers alive"
);

impl IndexEntry {
    /// The record for `feature`, held at `slot`, its organisation numbered in `organisations`.
    #[must_use]
    pub fn new(feature: &Feature, slot: u32, organisations: &mut Organisations) -> Self {
        let [x0, y0, x1, y1] = bounds(&feature.geometry());
        let span = feature.properties.time_span();
        Self {
            envelope: AABB::from_corners([x0, y0], [x1, y1]),
            time_start: span.start,
            time_end: span.end,
            id_high: feature.id.as_u64_pair().0,
            id_low: feature.id.as_u64_pair().1,
            slot,
            category: feature.properties.category_code().unwrap_or(NONE_CODE),
            status: feature.properties.status_code().unwrap_or(NONE_CODE),
            classification: feature.meta.classification.code(),
            organisation: organisations.code(&feature.meta.organisation),
        }
    }
}

impl IndexEntry {
    /// The feature's id.
    #[must_use]
    pub fn id(&self) -> uuid::Uuid {
        uuid::Uuid::from_u64_pair(self.id_high, self.id_low)
    }

    /// The position when the feature is a point (its envelope is degenerate), so point tests need
    /// not touch the feature; `None` for lines and polygons.
    #[must_use]
    pub fn point(&self) -> Option<geo::Point<f64>> {
        let (lo, hi) = (self.envelope.lower(), self.envelope.upper());
        (lo == hi).then(|| geo::Point::new(lo[0], lo[1]))
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
