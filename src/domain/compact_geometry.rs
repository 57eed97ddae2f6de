//! How a stored feature keeps its geometry: a point in place, anything else behind a box.
//!
//! `geo::Geometry<f64>` is 56 bytes, sized for its largest kind (a polygon's two vectors), while
//! nearly every feature in the picture is a point of 16 bytes. Kept in place, a million
//! incidents carried 40 MB of nothing. A [`CompactGeometry`] is 24 bytes, which brings a shared
//! feature from jemalloc's 224-byte size class to its 192-byte one. Areas, routes and other
//! non-point features pay one small allocation more.

use std::borrow::Cow;

use geo::{Geometry, Point};

/// A feature's geometry as the index keeps it (WGS84 longitude, latitude). Made only from a
/// `geo` geometry or point, so a point is always held in place and equal geometries are equal.
#[derive(Debug, Clone, PartialEq)]
pub struct CompactGeometry(Repr);

#[derive(Debug, Clone, PartialEq)]
enum Repr {
    /// A point, held in place.
    Point(Point<f64>),
    /// Any other geometry.
    Other(Box<Geometry<f64>>),
}

const _: () = assert!(
    size_of::<CompactGeometry>() <= 24,
    "a compact geometry must stay small: every feature in the index holds one"
);

impl CompactGeometry {
    /// The geometry, borrowed where it is boxed and built in place for a point.
    #[must_use]
    pub fn geometry(&self) -> Cow<'_, Geometry<f64>> {
        match &self.0 {
            Repr::Point(p) => Cow::Owned(Geometry::Point(*p)),
            Repr::Other(g) => Cow::Borrowed(g),
        }
    }

    /// The point, when the geometry is one.
    #[must_use]
    pub const fn point(&self) -> Option<Point<f64>> {
        match &self.0 {
            Repr::Point(p) => Some(*p),
            Repr::Other(_) => None,
        }
    }

    /// The geometry by value.
    #[must_use]
    pub fn into_geometry(self) -> Geometry<f64> {
        match self.0 {
            Repr::Point(p) => Geometry::Point(p),
            Repr::Other(g) => *g,
        }
    }
}

impl From<Geometry<f64>> for CompactGeometry {
    fn from(g: Geometry<f64>) -> Self {
        Self(match g {
            Geometry::Point(p) => Repr::Point(p),
            other => Repr::Other(Box::new(other)),
        })
    }
}

impl From<Point<f64>> for CompactGeometry {
    fn from(p: Point<f64>) -> Self {
        Self(Repr::Point(p))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{LineString, Polygon, point};

    #[test]
    fn every_kind_round_trips_and_only_points_are_held_in_place() {
        let p = point!(x: 17.8, y: 59.2);
        let square = Geometry::Polygon(Polygon::new(
            LineString::from(vec![(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 0.0)]),
            vec![],
        ));
        let multi = Geometry::MultiPoint(vec![p, p].into());
        for g in [Geometry::Point(p), square, multi] {
            let compact = CompactGeometry::from(g.clone());
            assert_eq!(compact.point().is_some(), matches!(g, Geometry::Point(_)));
            assert_eq!(
                matches!(compact.geometry(), Cow::Borrowed(_)),
                !matches!(g, Geometry::Point(_))
            );
            assert_eq!(*compact.geometry(), g);
            assert_eq!(compact.into_geometry(), g);
        }
    }

    #[test]
    fn a_shared_feature_fits_the_192_byte_size_class() {
        // An `Arc<Feature>` allocates two counters (16 bytes) and the feature.
        assert!(size_of::<crate::domain::Feature>() + 16 <= 192);
    }
}
