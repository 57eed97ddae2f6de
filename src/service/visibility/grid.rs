//! The 250 m grid in SWEREF 99 TM: the cell of a position, its centre and its square.

use geo::{Point, Polygon};

use super::CELL_M;
use crate::domain::crs::Sweref99Tm;

/// Grid cells in SWEREF 99 TM.
pub struct Grid {
    crs: Sweref99Tm,
}

impl Grid {
    /// The 250 m grid.
    ///
    /// # Errors
    /// Only if the bundled projection definitions are broken.
    pub fn new() -> Result<Self, crate::domain::crs::TransformError> {
        Ok(Self {
            crs: Sweref99Tm::new()?,
        })
    }

    /// The cell holding a WGS84 position (stable: depends on the position only).
    #[must_use]
    pub fn cell_of(&self, p: Point<f64>) -> Option<(i64, i64)> {
        let (e, n) = self.crs.from_wgs84(p.x(), p.y()).ok()?;
        #[allow(clippy::cast_possible_truncation)]
        Some(((e / CELL_M).floor() as i64, (n / CELL_M).floor() as i64))
    }

    /// A WGS84 position in SWEREF 99 TM metres (easting, northing).
    #[must_use]
    pub fn project(&self, p: Point<f64>) -> Option<(f64, f64)> {
        self.crs.from_wgs84(p.x(), p.y()).ok()
    }

    /// A SWEREF 99 TM position in WGS84.
    #[must_use]
    pub fn unproject(&self, easting: f64, northing: f64) -> Option<Point<f64>> {
        self.crs
            .to_wgs84(easting, northing)
            .ok()
            .map(|(x, y)| Point::new(x, y))
    }

    /// A square of `size` metres with its lower-left corner at (`easting`, `northing`), in
    /// WGS84.
    #[must_use]
    pub fn square_at(&self, easting: f64, northing: f64, size: f64) -> Option<Polygon<f64>> {
        let corners = [
            (easting, northing),
            (easting + size, northing),
            (easting + size, northing + size),
            (easting, northing + size),
            (easting, northing),
        ];
        let ring: Option<Vec<(f64, f64)>> = corners
            .iter()
            .map(|(e, n)| self.crs.to_wgs84(*e, *n).ok())
            .collect();
        ring.map(|r| Polygon::new(r.into(), Vec::new()))
    }

    /// The centre of a cell (lon, lat).
    #[must_use]
    pub fn centre(&self, cell: (i64, i64)) -> Option<Point<f64>> {
        #[allow(clippy::cast_precision_loss)]
        let (e, n) = (
            (cell.0 as f64 + 0.5) * CELL_M,
            (cell.1 as f64 + 0.5) * CELL_M,
        );
        self.crs.to_wgs84(e, n).ok().map(|(x, y)| Point::new(x, y))
    }

    /// The cell's square in WGS84.
    #[must_use]
    pub fn square(&self, cell: (i64, i64)) -> Option<Polygon<f64>> {
        #[allow(clippy::cast_precision_loss)]
        self.square_at(cell.0 as f64 * CELL_M, cell.1 as f64 * CELL_M, CELL_M)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::visibility::CELL_REACH_M;
    use geo::Geometry;

    #[test]
    fn a_position_always_lands_in_the_same_cell_whose_centre_is_near() {
        let grid = Grid::new().unwrap();
        let p = Point::new(17.8453, 59.2412);
        let cell = grid.cell_of(p).unwrap();
        assert_eq!(grid.cell_of(p), Some(cell));
        let c = grid.centre(cell).unwrap();
        assert_eq!(grid.cell_of(c), Some(cell), "the centre is in its own cell");
        let d = crate::index::query::distance_m(&Geometry::Point(p), &Geometry::Point(c));
        assert!(d <= CELL_REACH_M, "{d} m");
        // Nearby positions in the same cell share the centre exactly.
        let q = Point::new(p.x() + 0.00001, p.y() + 0.00001);
        if grid.cell_of(q) == Some(cell) {
            assert_eq!(grid.centre(grid.cell_of(q).unwrap()), Some(c));
        }
    }
}
