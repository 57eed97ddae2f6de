//! The query vocabulary as clients write it (`bbox`, `datetime`, `category`, `near`, …), parsed
//! into [`Spatial`], [`Filters`] and [`Page`] without any HTTP: the items endpoint, the counts
//! endpoint and later analyses all read their parameters here.

use super::Page;
use super::query::{Filters, Spatial};
use crate::domain::crs::{Crs, SWEREF_EASTING, SWEREF_NORTHING};
use crate::domain::time::parse_datetime;
use crate::domain::{Layer, ValidationErrors};

/// Longest radius for `near` and `distance`, in metres.
pub const MAX_DISTANCE_M: f64 = 50_000.0;

/// The query parameters as given (each still text).
#[derive(Debug, Default, Clone)]
pub struct QueryParams {
    /// `min_lon,min_lat,max_lon,max_lat`.
    pub bbox: Option<String>,
    /// An instant, a date or an interval.
    pub datetime: Option<String>,
    /// Page size.
    pub limit: Option<String>,
    /// Features to skip.
    pub offset: Option<String>,
    /// Comma-separated categories.
    pub category: Option<String>,
    /// Comma-separated statuses.
    pub status: Option<String>,
    /// `lon,lat,metres`.
    pub near: Option<String>,
    /// A GeoJSON geometry.
    pub intersects: Option<String>,
    /// Metres around `intersects`.
    pub distance: Option<String>,
    /// The CRS of `bbox` (OGC API – Features Part 2), a CRS URI.
    pub bbox_crs: Option<String>,
}

fn bad(name: &str, message: impl Into<String>) -> ValidationErrors {
    ValidationErrors::one(name, message)
}

/// A parsed items request.
pub struct ItemsRequest {
    /// Where.
    pub spatial: Spatial,
    /// Which.
    pub filters: Filters,
    /// Which page.
    pub page: Page,
}

fn number(name: &str, s: &str) -> Result<f64, ValidationErrors> {
    s.trim()
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite())
        .ok_or_else(|| bad(name, format!("'{s}' is not a number")))
}

fn metres(name: &str, s: &str) -> Result<f64, ValidationErrors> {
    let m = number(name, s)?;
    if m <= 0.0 || m > MAX_DISTANCE_M {
        return Err(bad(
            name,
            format!("{m} m is out of range; give metres above 0 and at most {MAX_DISTANCE_M}"),
        ));
    }
    Ok(m)
}

fn codes(
    layer: Layer,
    name: &str,
    value: &str,
    allowed: &[&str],
) -> Result<Vec<u8>, ValidationErrors> {
    if allowed.is_empty() {
        return Err(bad(
            name,
            format!("the collection '{layer}' has no {name} to filter on"),
        ));
    }
    value
        .split(',')
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(|v| {
            allowed
                .iter()
                .position(|a| *a == v)
                .and_then(|p| u8::try_from(p).ok())
                .ok_or_else(|| {
                    bad(
                        name,
                        format!(
                            "unknown {name} '{v}' in '{layer}'; allowed: {}",
                            allowed.join(", ")
                        ),
                    )
                })
        })
        .collect()
}

impl QueryParams {
    /// Checks every parameter and turns them into a query.
    ///
    /// # Errors
    /// Every problem, naming the parameter.
    pub fn parse(
        &self,
        layer: Layer,
        default_limit: usize,
        max_limit: usize,
    ) -> Result<ItemsRequest, ValidationErrors> {
        Ok(ItemsRequest {
            spatial: self.spatial()?,
            filters: self.filters(layer)?,
            page: self.page(default_limit, max_limit)?,
        })
    }

    /// Where: `bbox`, `near`, `intersects` (+ `distance`), one at a time.
    fn spatial(&self) -> Result<Spatial, ValidationErrors> {
        let given = [
            self.bbox.is_some(),
            self.near.is_some(),
            self.intersects.is_some(),
        ]
        .iter()
        .filter(|b| **b)
        .count();
        if given > 1 {
            return Err(bad(
                "bbox",
                "use one of bbox, near and intersects at a time",
            ));
        }
        if self.distance.is_some() && self.intersects.is_none() {
            return Err(bad(
                "distance",
                "goes with intersects (use near=lon,lat,metres around a point)",
            ));
        }
        let bbox_crs = match &self.bbox_crs {
            None => Crs::Crs84,
            Some(_) if self.bbox.is_none() => {
                return Err(bad("bbox-crs", "goes with bbox (it says the box's CRS)"));
            }
            Some(u) => Crs::from_uri(u).map_err(|e| bad("bbox-crs", e))?,
        };
        Ok(if let Some(b) = &self.bbox {
            match bbox_crs {
                Crs::Crs84 => Spatial::Bbox(b.parse().map_err(ValidationErrors::from)?),
                Crs::Sweref99Tm => sweref_box(b)?,
            }
        } else if let Some(n) = &self.near {
            let parts: Vec<&str> = n.split(',').collect();
            let [lon, lat, m] = parts[..] else {
                return Err(bad(
                    "near",
                    format!("'{n}': write lon,lat,metres, e.g. near=17.84,59.24,500"),
                ));
            };
            let (lon, lat, m) = (
                number("near", lon)?,
                number("near", lat)?,
                metres("near", m)?,
            );
            if !(-180.0..=180.0).contains(&lon) || !(-90.0..=90.0).contains(&lat) {
                return Err(bad(
                    "near",
                    format!("'{n}': the point is outside WGS84 (lon -180..180, lat -90..90)"),
                ));
            }
            Spatial::Near {
                point: geo::Point::new(lon, lat),
                metres: m,
            }
        } else if let Some(g) = &self.intersects {
            let value: serde_json::Value = serde_json::from_str(g)
                .map_err(|e| bad("intersects", format!("is not a GeoJSON geometry: {e}")))?;
            let geometry = parse_any_geometry(&value)?;
            match &self.distance {
                Some(d) => Spatial::WithinDistance {
                    geometry,
                    metres: metres("distance", d)?,
                },
                None => Spatial::Intersects(geometry),
            }
        } else {
            Spatial::All
        })
    }

    /// Which: time window, categories, statuses.
    fn filters(&self, layer: Layer) -> Result<Filters, ValidationErrors> {
        let time = match &self.datetime {
            Some(d) => Some(parse_datetime(d).map_err(ValidationErrors::from)?),
            None => None,
        };
        let categories = match &self.category {
            Some(c) => Some(codes(layer, "category", c, layer.category_names())?),
            None => None,
        };
        let statuses = match &self.status {
            Some(s) => Some(codes(layer, "status", s, layer.status_names())?),
            None => None,
        };
        Ok(Filters {
            time,
            categories,
            statuses,
            max_classification: None,
        })
    }

    /// Which page: `limit` (0 to `max_limit`; 0 asks only for `numberMatched`, a count
    /// without features) and `offset`.
    fn page(&self, default_limit: usize, max_limit: usize) -> Result<Page, ValidationErrors> {
        let limit = match &self.limit {
            None => default_limit,
            // Above the maximum is not an error: the maximum is used (OGC API – Features 1.0,
            // 7.15.3), and numberMatched with the next link say there is more.
            Some(l) => {
                let t = l.trim();
                if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(bad(
                        "limit",
                        format!(
                            "'{l}' is not a whole number from 0 (0 counts without features; at most {max_limit} are returned)"
                        ),
                    ));
                }
                t.parse::<usize>().map_or(max_limit, |n| n.min(max_limit))
            }
        };
        let offset = match &self.offset {
            None => 0,
            Some(o) => o
                .trim()
                .parse::<usize>()
                .ok()
                .filter(|n| *n <= 100_000_000)
                .ok_or_else(|| bad("offset", format!("'{o}' is not a whole number from 0")))?,
        };
        Ok(Page { offset, limit })
    }
}

/// A `bbox` in SWEREF 99 TM, in EPSG's axis order: `min_northing,min_easting,max_northing,
/// max_easting` (metres), as the WGS84 region it covers.
fn sweref_box(b: &str) -> Result<Spatial, ValidationErrors> {
    let help = "write min_northing,min_easting,max_northing,max_easting in metres (EPSG:3006 axis order), e.g. 6570000,660000,6590000,680000";
    let parts: Vec<&str> = b.split(',').collect();
    let [a, c, d, e] = parts[..] else {
        return Err(bad("bbox", format!("'{b}': {help}")));
    };
    let (min_n, min_e, max_n, max_e) = (
        number("bbox", a)?,
        number("bbox", c)?,
        number("bbox", d)?,
        number("bbox", e)?,
    );
    let within = |v: f64, (lo, hi): (f64, f64)| (lo..=hi).contains(&v);
    if !(within(min_e, SWEREF_EASTING)
        && within(max_e, SWEREF_EASTING)
        && within(min_n, SWEREF_NORTHING)
        && within(max_n, SWEREF_NORTHING))
    {
        return Err(bad(
            "bbox",
            format!(
                "'{b}' is outside Sweden's SWEREF 99 TM (northing 6 000 000–7 800 000, easting 100 000–1 200 000); {help}"
            ),
        ));
    }
    if min_n > max_n || min_e > max_e {
        return Err(bad(
            "bbox",
            format!("'{b}': the first corner must be south-west of the second; {help}"),
        ));
    }
    let polygon = crate::domain::crs::sweref()
        .ok_or_else(|| bad("bbox-crs", "SWEREF 99 TM is not available"))?
        .box_to_wgs84(min_n, min_e, max_n, max_e)
        .map_err(|e| bad("bbox", e.to_string()))?;
    Ok(Spatial::Intersects(geo::Geometry::Polygon(polygon)))
}

/// Reads any GeoJSON geometry with WGS84 positions (for `intersects`).
pub(crate) fn parse_any_geometry(
    value: &serde_json::Value,
) -> Result<geo::Geometry<f64>, ValidationErrors> {
    use crate::domain::geometry::{Accepts, GeometryKind};
    const ANY: Accepts = Accepts {
        name: "intersects",
        kinds: &[
            GeometryKind::Point,
            GeometryKind::LineString,
            GeometryKind::MultiLineString,
            GeometryKind::Polygon,
            GeometryKind::MultiPolygon,
        ],
    };
    crate::domain::geometry::parse_geometry(ANY, value, "intersects")
}
