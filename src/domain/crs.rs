//! Coordinate reference systems: WGS84 (EPSG:4326) for storage and the wire, SWEREF 99 TM
//! (EPSG:3006, the Swedish national grid, metres) for metric work and municipal data.

use proj4rs::Proj;

/// Metres per degree of latitude (mean, WGS84), used for quick metric bounds.
pub const METRES_PER_DEGREE: f64 = 111_320.0;

/// Converts between SWEREF 99 TM and WGS84.
pub struct Sweref99Tm {
    sweref: Proj,
    wgs84: Proj,
}

/// A coordinate could not be transformed.
#[derive(Debug, thiserror::Error)]
#[error("cannot transform ({0}, {1}) between SWEREF 99 TM and WGS84: {2}")]
pub struct TransformError(pub f64, pub f64, pub String);

impl Sweref99Tm {
    /// Builds the two projections from their EPSG definitions.
    ///
    /// # Errors
    /// Only if the bundled CRS definitions are broken.
    pub fn new() -> Result<Self, TransformError> {
        let make =
            |code| Proj::from_epsg_code(code).map_err(|e| TransformError(0.0, 0.0, e.to_string()));
        Ok(Self {
            sweref: make(3006)?,
            wgs84: make(4326)?,
        })
    }

    /// SWEREF 99 TM (easting, northing in metres) → WGS84 (longitude, latitude in degrees).
    ///
    /// # Errors
    /// When the position is outside what the projection can handle.
    pub fn to_wgs84(&self, easting: f64, northing: f64) -> Result<(f64, f64), TransformError> {
        let mut p = (easting, northing, 0.0);
        proj4rs::transform::transform(&self.sweref, &self.wgs84, &mut p)
            .map_err(|e| TransformError(easting, northing, e.to_string()))?;
        let (lon, lat) = (p.0.to_degrees(), p.1.to_degrees());
        if lon.is_finite() && lat.is_finite() {
            Ok((lon, lat))
        } else {
            Err(TransformError(
                easting,
                northing,
                "result is not finite".into(),
            ))
        }
    }

    /// WGS84 (longitude, latitude in degrees) → SWEREF 99 TM (easting, northing in metres).
    ///
    /// # Errors
    /// When the position is outside what the projection can handle.
    pub fn from_wgs84(&self, lon: f64, lat: f64) -> Result<(f64, f64), TransformError> {
        let mut p = (lon.to_radians(), lat.to_radians(), 0.0);
        proj4rs::transform::transform(&self.wgs84, &self.sweref, &mut p)
            .map_err(|e| TransformError(lon, lat, e.to_string()))?;
        Ok((p.0, p.1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reference values cross-checked with PROJ 9.5.1 (see shared/design/DEPENDENCIES.md).
    #[test]
    fn matches_proj_reference_points() {
        let t = Sweref99Tm::new().unwrap();
        let (lon, lat) = t.to_wgs84(674_032.357, 6_580_821.991).unwrap();
        assert!(
            (lon - 18.059_195_99).abs() < 1e-7 && (lat - 59.330_231_00).abs() < 1e-7,
            "{lon} {lat}"
        );
        let (e, n) = t.from_wgs84(18.0, 59.3).unwrap();
        assert!(
            (e - 670_817.916).abs() < 0.01 && (n - 6_577_304.567).abs() < 0.01,
            "{e} {n}"
        );
    }
}
