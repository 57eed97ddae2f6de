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

/// The OGC URI of WGS84 longitude, latitude (the default of OGC API – Features).
pub const CRS84_URI: &str = "http://www.opengis.net/def/crs/OGC/1.3/CRS84";
/// The OGC URI of SWEREF 99 TM.
pub const EPSG_3006_URI: &str = "http://www.opengis.net/def/crs/EPSG/0/3006";

/// Where SWEREF 99 TM is meant to be used (EPSG's area of use, rounded out): eastings and
/// northings outside are refused in a `bbox-crs` box.
pub const SWEREF_EASTING: (f64, f64) = (100_000.0, 1_200_000.0);
/// See [`SWEREF_EASTING`].
pub const SWEREF_NORTHING: (f64, f64) = (6_000_000.0, 7_800_000.0);

/// A coordinate reference system a client may ask for (OGC API – Features Part 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Crs {
    /// WGS84 longitude, latitude in degrees (CRS84).
    #[default]
    Crs84,
    /// SWEREF 99 TM (EPSG:3006) in metres, in the axis order EPSG defines: northing, easting.
    Sweref99Tm,
}

impl Crs {
    /// Every CRS offered, by URI.
    pub const URIS: &'static [&'static str] = &[CRS84_URI, EPSG_3006_URI];

    /// The CRS of an OGC URI (`crs=` and `bbox-crs=` take exactly these).
    ///
    /// # Errors
    /// A message listing the URIs offered.
    pub fn from_uri(uri: &str) -> Result<Self, String> {
        match uri {
            CRS84_URI => Ok(Crs::Crs84),
            EPSG_3006_URI => Ok(Crs::Sweref99Tm),
            other => Err(format!(
                "'{other}' is not offered; use {CRS84_URI} (WGS84, the default) or {EPSG_3006_URI} (SWEREF 99 TM)"
            )),
        }
    }

    /// The CRS's OGC URI.
    #[must_use]
    pub const fn uri(self) -> &'static str {
        match self {
            Crs::Crs84 => CRS84_URI,
            Crs::Sweref99Tm => EPSG_3006_URI,
        }
    }
}

/// The one SWEREF 99 TM transformation of the process (built once).
#[must_use]
pub fn sweref() -> Option<&'static Sweref99Tm> {
    static T: std::sync::OnceLock<Option<Sweref99Tm>> = std::sync::OnceLock::new();
    T.get_or_init(|| Sweref99Tm::new().ok()).as_ref()
}

impl Sweref99Tm {
    /// A geometry from WGS84 (lon, lat) to SWEREF 99 TM in the GIS order (easting, northing) that
    /// files such as GeoPackage and Shapefile use.
    ///
    /// # Errors
    /// A position that does not transform.
    pub fn geometry_from_wgs84(
        &self,
        g: &geo::Geometry<f64>,
    ) -> Result<geo::Geometry<f64>, TransformError> {
        use geo::MapCoords;
        g.try_map_coords(|c| {
            let (e, n) = self.from_wgs84(c.x, c.y)?;
            Ok(geo::coord! {x: e, y: n})
        })
    }

    /// Rewrites every position of a GeoJSON geometry from WGS84 (lon, lat) to SWEREF 99 TM in
    /// EPSG's axis order (northing, easting), rounded to the millimetre.
    ///
    /// # Errors
    /// A position that does not transform.
    pub fn geometry_to_sweref(
        &self,
        geometry: &mut serde_json::Value,
    ) -> Result<(), TransformError> {
        fn walk(t: &Sweref99Tm, v: &mut serde_json::Value) -> Result<(), TransformError> {
            let Some(a) = v.as_array_mut() else {
                return Ok(());
            };
            if let [x, y, ..] = a.as_slice()
                && let (Some(lon), Some(lat)) = (x.as_f64(), y.as_f64())
            {
                let (n, e) = t.answer_position(lon, lat)?;
                a[0] = serde_json::json!(n);
                a[1] = serde_json::json!(e);
                return Ok(());
            }
            a.iter_mut().try_for_each(|c| walk(t, c))
        }
        match geometry.get_mut("coordinates") {
            Some(c) => walk(self, c),
            None => Ok(()),
        }
    }

    /// A WGS84 position as answers in SWEREF 99 TM give it: northing, easting (EPSG's axis
    /// order), in metres to the millimetre.
    ///
    /// # Errors
    /// A position that does not transform.
    pub fn answer_position(&self, lon: f64, lat: f64) -> Result<(f64, f64), TransformError> {
        let (e, n) = self.from_wgs84(lon, lat)?;
        let mm = |m: f64| (m * 1000.0).round() / 1000.0;
        Ok((mm(n), mm(e)))
    }

    /// A box given in SWEREF 99 TM axis order (min northing, min easting, max northing, max
    /// easting) as a WGS84 polygon, its edges followed every 500 m (a grid line is curved in
    /// degrees), so a query with it matches the box itself.
    ///
    /// # Errors
    /// A corner outside the projection.
    pub fn box_to_wgs84(
        &self,
        min_n: f64,
        min_e: f64,
        max_n: f64,
        max_e: f64,
    ) -> Result<geo::Polygon<f64>, TransformError> {
        let steps = |a: f64, b: f64| {
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let n = (((b - a) / 500.0).ceil() as usize).clamp(1, 400);
            n
        };
        let (ne, nn) = (steps(min_e, max_e), steps(min_n, max_n));
        let mut ring: Vec<(f64, f64)> = Vec::new();
        #[allow(clippy::cast_precision_loss)]
        {
            for i in 0..ne {
                ring.push((min_e + (max_e - min_e) * i as f64 / ne as f64, min_n));
            }
            for i in 0..nn {
                ring.push((max_e, min_n + (max_n - min_n) * i as f64 / nn as f64));
            }
            for i in 0..ne {
                ring.push((max_e - (max_e - min_e) * i as f64 / ne as f64, max_n));
            }
            for i in 0..nn {
                ring.push((min_e, max_n - (max_n - min_n) * i as f64 / nn as f64));
            }
        }
        let mut coords = Vec::with_capacity(ring.len() + 1);
        for (e, n) in ring {
            let (lon, lat) = self.to_wgs84(e, n)?;
            coords.push(geo::coord! { x: lon, y: lat });
        }
        if let Some(first) = coords.first().copied() {
            coords.push(first);
        }
        Ok(geo::Polygon::new(geo::LineString::new(coords), vec![]))
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

    #[test]
    fn geometries_go_to_northing_easting_and_boxes_come_back() {
        let t = Sweref99Tm::new().unwrap();
        let mut g = serde_json::json!({"type": "LineString", "coordinates": [[18.0, 59.3], [18.01, 59.31]]});
        t.geometry_to_sweref(&mut g).unwrap();
        let (e, n) = t.from_wgs84(18.0, 59.3).unwrap();
        assert!((g["coordinates"][0][0].as_f64().unwrap() - n).abs() < 0.001);
        assert!((g["coordinates"][0][1].as_f64().unwrap() - e).abs() < 0.001);
        let b = t
            .box_to_wgs84(6_575_000.0, 670_000.0, 6_580_000.0, 675_000.0)
            .unwrap();
        use geo::Contains;
        let inside = t.to_wgs84(672_000.0, 6_577_000.0).unwrap();
        let outside = t.to_wgs84(676_000.0, 6_577_000.0).unwrap();
        assert!(b.contains(&geo::Point::new(inside.0, inside.1)));
        assert!(!b.contains(&geo::Point::new(outside.0, outside.1)));
        assert_eq!(Crs::from_uri(EPSG_3006_URI), Ok(Crs::Sweref99Tm));
        assert!(Crs::from_uri("EPSG:3006").is_err());
    }
}
