//! What a query asks: where (a spatial predicate) and which (filters).

use geo::{Distance, Euclidean, Geometry, Haversine, Intersects, MapCoords, Point};

use crate::domain::Bbox;
use crate::domain::crs::METRES_PER_DEGREE;
use crate::domain::time::TimeSpan;

/// Where to look. Distances are metres on the ground; geometries are WGS84.
#[derive(Debug, Clone)]
pub enum Spatial {
    /// Everything in the layer.
    All,
    /// Features whose geometry intersects the box.
    Bbox(Bbox),
    /// Features within `metres` of a point.
    Near {
        /// The centre (lon, lat).
        point: Point<f64>,
        /// Radius in metres.
        metres: f64,
    },
    /// Features whose geometry intersects a geometry (e.g. a drawn polygon).
    Intersects(Geometry<f64>),
    /// Features within `metres` of a geometry (e.g. 100 m of a route).
    WithinDistance {
        /// The geometry measured from.
        geometry: Geometry<f64>,
        /// Distance in metres.
        metres: f64,
    },
}

/// Which features pass, beside where they are.
#[derive(Debug, Clone, Default)]
pub struct Filters {
    /// Time span the feature's time must overlap.
    pub time: Option<TimeSpan>,
    /// Category codes accepted (any of them); `None` accepts all.
    pub categories: Option<Vec<u8>>,
    /// Status codes accepted (any of them); `None` accepts all.
    pub statuses: Option<Vec<u8>>,
    /// The highest classification code accepted (a role's ceiling); `None` accepts all.
    pub max_classification: Option<u8>,
}

impl Filters {
    /// Whether an entry's filter fields pass.
    #[must_use]
    pub fn accepts(&self, e: &crate::index::IndexEntry) -> bool {
        let (time_start, time_end, category, status) =
            (e.time_start, e.time_end, e.category, e.status);
        self.max_classification
            .is_none_or(|m| e.classification <= m)
            && self.time.is_none_or(|t| {
                t.overlaps(&TimeSpan {
                    start: time_start,
                    end: time_end,
                })
            })
            && self
                .categories
                .as_ref()
                .is_none_or(|c| c.contains(&category))
            && self.statuses.as_ref().is_none_or(|s| s.contains(&status))
    }
}

/// The box `[min_lon, min_lat, max_lon, max_lat]` that surely holds everything within `metres`
/// of `bounds` (clamped to WGS84).
#[must_use]
pub fn grow_bounds(bounds: [f64; 4], metres: f64) -> [f64; 4] {
    Bbox::clamped(bounds).grown(metres).to_array()
}

/// Metres between two geometries.
///
/// Point to point is the haversine (great-circle) distance. Anything involving a line or
/// polygon is measured in a local equirectangular projection centred on `a`'s first position:
/// accurate to well under 1 % at the distances these queries use (up to tens of kilometres).
#[must_use]
pub fn distance_m(a: &Geometry<f64>, b: &Geometry<f64>) -> f64 {
    if let (Geometry::Point(p), Geometry::Point(q)) = (a, b) {
        return Haversine.distance(*p, *q);
    }
    let origin = first_coord(a);
    let k = origin.y.to_radians().cos();
    let project = |c: geo::Coord<f64>| geo::Coord {
        x: (c.x - origin.x) * k * METRES_PER_DEGREE,
        y: (c.y - origin.y) * METRES_PER_DEGREE,
    };
    let (pa, pb) = (a.map_coords(project), b.map_coords(project));
    if pa.intersects(&pb) {
        0.0
    } else {
        Euclidean.distance(&pa, &pb)
    }
}

fn first_coord(g: &Geometry<f64>) -> geo::Coord<f64> {
    use geo::CoordsIter;
    g.coords_iter()
        .next()
        .unwrap_or(geo::Coord { x: 0.0, y: 0.0 })
}

/// Whether `g` satisfies the spatial predicate.
#[must_use]
pub fn matches_spatial(spatial: &Spatial, g: &Geometry<f64>) -> bool {
    match spatial {
        Spatial::All => true,
        Spatial::Bbox(b) => {
            let [x0, y0, x1, y1] = b.to_array();
            let rect = geo::Rect::new(geo::coord! { x: x0, y: y0 }, geo::coord! { x: x1, y: y1 });
            rect.intersects(g)
        }
        Spatial::Near { point, metres } => distance_m(&Geometry::Point(*point), g) <= *metres,
        Spatial::Intersects(area) => area.intersects(g),
        Spatial::WithinDistance { geometry, metres } => distance_m(geometry, g) <= *metres,
    }
}
