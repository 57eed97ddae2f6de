//! Bounding boxes in WGS84 degrees.

use std::str::FromStr;

use super::error::ValidationError;

/// A bounding box `[min_lon, min_lat, max_lon, max_lat]` that can only hold valid WGS84 values.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bbox {
    min: [f64; 2],
    max: [f64; 2],
}

impl Bbox {
    /// A checked box.
    ///
    /// # Errors
    /// When a value is not finite, outside WGS84 range, or min exceeds max.
    pub fn new(min_lon: f64, min_lat: f64, max_lon: f64, max_lat: f64) -> Result<Self, String> {
        let all = [min_lon, min_lat, max_lon, max_lat];
        if all.iter().any(|v| !v.is_finite()) {
            return Err("all four numbers must be finite".into());
        }
        if !(-180.0..=180.0).contains(&min_lon) || !(-180.0..=180.0).contains(&max_lon) {
            return Err("longitudes must be between -180 and 180 (WGS84 degrees)".into());
        }
        if !(-90.0..=90.0).contains(&min_lat) || !(-90.0..=90.0).contains(&max_lat) {
            return Err("latitudes must be between -90 and 90 (WGS84 degrees)".into());
        }
        if min_lon > max_lon || min_lat > max_lat {
            return Err("the first corner must be south-west of the second: min_lon,min_lat,max_lon,max_lat".into());
        }
        Ok(Self {
            min: [min_lon, min_lat],
            max: [max_lon, max_lat],
        })
    }

    /// South-west corner `[lon, lat]`.
    #[must_use]
    pub const fn min(&self) -> [f64; 2] {
        self.min
    }

    /// North-east corner `[lon, lat]`.
    #[must_use]
    pub const fn max(&self) -> [f64; 2] {
        self.max
    }

    /// A box from any four numbers, clamped into WGS84 and put in order (for boxes the server
    /// computes itself, e.g. around a geometry or grown by a distance). Non-finite numbers
    /// become the whole range.
    #[must_use]
    pub fn clamped(b: [f64; 4]) -> Self {
        let lon = |v: f64, d: f64| {
            if v.is_finite() {
                v.clamp(-180.0, 180.0)
            } else {
                d
            }
        };
        let lat = |v: f64, d: f64| {
            if v.is_finite() {
                v.clamp(-90.0, 90.0)
            } else {
                d
            }
        };
        let (x0, x1) = (lon(b[0], -180.0), lon(b[2], 180.0));
        let (y0, y1) = (lat(b[1], -90.0), lat(b[3], 90.0));
        Self {
            min: [x0.min(x1), y0.min(y1)],
            max: [x0.max(x1), y0.max(y1)],
        }
    }

    /// The box that surely holds everything within `metres` of this one (clamped to WGS84).
    #[must_use]
    pub fn grown(&self, metres: f64) -> Self {
        use super::crs::METRES_PER_DEGREE;
        let dlat = metres / METRES_PER_DEGREE;
        let max_abs_lat = (self.min[1].abs().max(self.max[1].abs()) + dlat).min(89.9);
        let dlon = (metres / (METRES_PER_DEGREE * max_abs_lat.to_radians().cos())).min(360.0);
        Self::clamped([
            self.min[0] - dlon,
            self.min[1] - dlat,
            self.max[0] + dlon,
            self.max[1] + dlat,
        ])
    }

    /// As `[min_lon, min_lat, max_lon, max_lat]`.
    #[must_use]
    pub const fn to_array(&self) -> [f64; 4] {
        [self.min[0], self.min[1], self.max[0], self.max[1]]
    }
}

impl FromStr for Bbox {
    type Err = ValidationError;

    /// Parses the OGC `bbox` parameter: `min_lon,min_lat,max_lon,max_lat` (4 numbers; 6 with
    /// heights, which are ignored).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = |m: String| ValidationError::new("bbox", format!("'{s}': {m}"));
        let nums: Result<Vec<f64>, _> = s.split(',').map(|p| p.trim().parse::<f64>()).collect();
        let nums =
            nums.map_err(|_| err("write four numbers: min_lon,min_lat,max_lon,max_lat".into()))?;
        match nums[..] {
            [a, b, c, d] | [a, b, _, c, d, _] => Bbox::new(a, b, c, d).map_err(err),
            _ => Err(err(format!(
                "has {} numbers; write four: min_lon,min_lat,max_lon,max_lat",
                nums.len()
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_four_numbers() {
        let b: Bbox = "17.8,59.2,17.9,59.3".parse().unwrap();
        assert_eq!(b.to_array(), [17.8, 59.2, 17.9, 59.3]);
    }

    #[test]
    fn refuses_inverted_nan_and_short() {
        for bad in [
            "17.9,59.2,17.8,59.3",
            "NaN,59,18,60",
            "1,2,3",
            "a,b,c,d",
            "17,95,18,96",
            "",
        ] {
            let e = bad.parse::<Bbox>().unwrap_err();
            assert_eq!(e.field, "bbox", "{bad}");
        }
    }
}
