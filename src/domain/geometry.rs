//! Geometry rules: WGS84 positions in range, the right kind for the layer, closed and simple rings.
//!
//! Geometries arrive as RFC 7946 GeoJSON (longitude, latitude in WGS84 degrees) and are kept as
//! `geo` types in the same CRS.

use geo::{BoundingRect, Geometry, Validation};
use geojson::Value as GjValue;

use super::error::{ValidationError, ValidationErrors};
use super::layer::Layer;

str_enum! {
    /// The kinds of geometry a layer may hold (GeoJSON type names).
    pub enum GeometryKind {
        /// A single position.
        Point = "Point",
        /// A line of two or more positions.
        LineString = "LineString",
        /// Several lines.
        MultiLineString = "MultiLineString",
        /// An area with closed rings.
        Polygon = "Polygon",
        /// Several areas.
        MultiPolygon = "MultiPolygon",
    }
}

impl GeometryKind {
    /// The kind of a `geo` geometry, if it is one we store.
    #[must_use]
    pub fn of(g: &Geometry<f64>) -> Option<Self> {
        match g {
            Geometry::Point(_) => Some(Self::Point),
            Geometry::LineString(_) => Some(Self::LineString),
            Geometry::MultiLineString(_) => Some(Self::MultiLineString),
            Geometry::Polygon(_) => Some(Self::Polygon),
            Geometry::MultiPolygon(_) => Some(Self::MultiPolygon),
            _ => None,
        }
    }
}

/// Parses and checks a GeoJSON geometry object for `layer`; `at` is the JSON pointer of the
/// geometry in the submitted document (e.g. `/geometry`).
///
/// # Errors
/// Every problem found: wrong type for the layer, positions out of WGS84 range, too few
/// positions, unclosed or self-intersecting rings.
pub fn parse_geometry(
    layer: Layer,
    value: &serde_json::Value,
    at: &str,
) -> Result<Geometry<f64>, ValidationErrors> {
    if value.is_null() {
        return Err(ValidationErrors::one(
            at,
            "is missing; every feature needs a geometry",
        ));
    }
    let gj = geojson::Geometry::from_json_value(value.clone())
        .map_err(|e| ValidationErrors::one(at, format!("is not a GeoJSON geometry: {e}")))?;
    let kind = match &gj.value {
        GjValue::Point(_) => GeometryKind::Point,
        GjValue::LineString(_) => GeometryKind::LineString,
        GjValue::MultiLineString(_) => GeometryKind::MultiLineString,
        GjValue::Polygon(_) => GeometryKind::Polygon,
        GjValue::MultiPolygon(_) => GeometryKind::MultiPolygon,
        GjValue::MultiPoint(_) => return Err(wrong_kind(layer, "MultiPoint", at)),
        GjValue::GeometryCollection(_) => return Err(wrong_kind(layer, "GeometryCollection", at)),
    };
    if !layer.allowed_geometries().contains(&kind) {
        return Err(wrong_kind(layer, kind.as_str(), at));
    }
    let mut errors = Vec::new();
    let coords = format!("{at}/coordinates");
    match &gj.value {
        GjValue::Point(p) => check_position(p, &coords, &mut errors),
        GjValue::LineString(l) => check_line(l, &coords, &mut errors),
        GjValue::MultiLineString(ls) => {
            if ls.is_empty() {
                errors.push(ValidationError::new(&coords, "holds no lines"));
            }
            for (i, l) in ls.iter().enumerate() {
                check_line(l, &format!("{coords}/{i}"), &mut errors);
            }
        }
        GjValue::Polygon(rings) => check_polygon(rings, &coords, &mut errors),
        GjValue::MultiPolygon(polys) => {
            if polys.is_empty() {
                errors.push(ValidationError::new(&coords, "holds no polygons"));
            }
            for (i, rings) in polys.iter().enumerate() {
                check_polygon(rings, &format!("{coords}/{i}"), &mut errors);
            }
        }
        _ => {}
    }
    if !errors.is_empty() {
        return Err(ValidationErrors(errors));
    }
    let geometry = Geometry::<f64>::try_from(gj)
        .map_err(|e| ValidationErrors::one(at, format!("cannot be read as a geometry: {e}")))?;
    check_simple(&geometry, at)?;
    Ok(geometry)
}

fn wrong_kind(layer: Layer, given: &str, at: &str) -> ValidationErrors {
    let allowed: Vec<&str> = layer
        .allowed_geometries()
        .iter()
        .map(|k| k.as_str())
        .collect();
    ValidationErrors::one(
        format!("{at}/type"),
        format!(
            "is {given}; the layer '{layer}' takes {}",
            allowed.join(" or ")
        ),
    )
}

fn check_position(p: &[f64], at: &str, errors: &mut Vec<ValidationError>) {
    if p.len() < 2 || p.len() > 3 {
        errors.push(ValidationError::new(
            at,
            format!(
                "has {} numbers; a position is [longitude, latitude]",
                p.len()
            ),
        ));
        return;
    }
    let (lon, lat) = (p[0], p[1]);
    if !lon.is_finite() || !(-180.0..=180.0).contains(&lon) {
        errors.push(ValidationError::new(
            at,
            format!("longitude {lon} is outside WGS84 (-180 to 180); is the data in SWEREF 99 TM? Then import it with --crs EPSG:3006"),
        ));
    }
    if !lat.is_finite() || !(-90.0..=90.0).contains(&lat) {
        errors.push(ValidationError::new(
            at,
            format!(
                "latitude {lat} is outside WGS84 (-90 to 90); positions are [longitude, latitude]"
            ),
        ));
    }
}

fn check_line(l: &[Vec<f64>], at: &str, errors: &mut Vec<ValidationError>) {
    for (i, p) in l.iter().enumerate() {
        check_position(p, &format!("{at}/{i}"), errors);
    }
    let distinct = l.windows(2).filter(|w| w[0] != w[1]).count();
    if l.len() < 2 || distinct == 0 {
        errors.push(ValidationError::new(
            at,
            "a line needs at least two different positions",
        ));
    }
}

fn check_polygon(rings: &[Vec<Vec<f64>>], at: &str, errors: &mut Vec<ValidationError>) {
    if rings.is_empty() {
        errors.push(ValidationError::new(at, "a polygon needs an outer ring"));
    }
    for (r, ring) in rings.iter().enumerate() {
        let ring_at = format!("{at}/{r}");
        for (i, p) in ring.iter().enumerate() {
            check_position(p, &format!("{ring_at}/{i}"), errors);
        }
        if ring.len() < 4 {
            errors.push(ValidationError::new(
                &ring_at,
                format!("a ring needs at least 4 positions (3 corners and the first repeated); it has {}", ring.len()),
            ));
        } else if ring.first() != ring.last() {
            errors.push(ValidationError::new(
                &ring_at,
                "the ring is not closed: its last position must equal its first",
            ));
        }
    }
}

fn check_simple(g: &Geometry<f64>, at: &str) -> Result<(), ValidationErrors> {
    let problems: Vec<String> = match g {
        Geometry::Polygon(p) => p
            .validation_errors()
            .iter()
            .map(ToString::to_string)
            .collect(),
        Geometry::MultiPolygon(p) => p
            .validation_errors()
            .iter()
            .map(ToString::to_string)
            .collect(),
        _ => Vec::new(),
    };
    if problems.is_empty() {
        Ok(())
    } else {
        Err(ValidationErrors(
            problems
                .into_iter()
                .map(|p| {
                    ValidationError::new(
                        format!("{at}/coordinates"),
                        format!("invalid polygon: {p}"),
                    )
                })
                .collect(),
        ))
    }
}

/// The bounding box of a geometry as `[min_lon, min_lat, max_lon, max_lat]`.
#[must_use]
pub fn bounds(g: &Geometry<f64>) -> [f64; 4] {
    g.bounding_rect()
        .map_or([0.0; 4], |r| [r.min().x, r.min().y, r.max().x, r.max().y])
}

/// Validates a geometry already in `geo` form (from CSV import or the store) the same way.
///
/// # Errors
/// As [`parse_geometry`].
pub fn check_geometry(layer: Layer, g: &Geometry<f64>, at: &str) -> Result<(), ValidationErrors> {
    let value = serde_json::to_value(geojson::Geometry::from(g))
        .map_err(|e| ValidationErrors::one(at, format!("cannot be written as GeoJSON: {e}")))?;
    parse_geometry(layer, &value, at).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn errs(layer: Layer, v: serde_json::Value) -> Vec<ValidationError> {
        parse_geometry(layer, &v, "/geometry").unwrap_err().0
    }

    #[test]
    fn point_out_of_range_names_the_position() {
        let e = errs(
            Layer::Incidents,
            json!({"type": "Point", "coordinates": [674032.0, 6580821.0]}),
        );
        assert_eq!(e[0].field, "/geometry/coordinates");
        assert!(e[0].message.contains("EPSG:3006"), "{e:?}");
    }

    #[test]
    fn wrong_kind_for_layer_is_refused() {
        let e = errs(
            Layer::Cameras,
            json!({"type": "LineString", "coordinates": [[17.8, 59.2], [17.9, 59.3]]}),
        );
        assert_eq!(e[0].field, "/geometry/type");
        assert!(e[0].message.contains("takes Point"));
    }

    #[test]
    fn unclosed_ring_is_refused() {
        let e = errs(
            Layer::Areas,
            json!({"type": "Polygon", "coordinates": [[[17.8, 59.2], [17.9, 59.2], [17.9, 59.3], [17.8, 59.3]]]}),
        );
        assert!(e[0].message.contains("not closed"), "{e:?}");
        assert_eq!(e[0].field, "/geometry/coordinates/0");
    }

    #[test]
    fn self_intersecting_polygon_is_refused() {
        let e = errs(
            Layer::Areas,
            json!({"type": "Polygon", "coordinates": [[[17.8, 59.2], [17.9, 59.3], [17.9, 59.2], [17.8, 59.3], [17.8, 59.2]]]}),
        );
        assert!(e[0].message.contains("self-intersection"), "{e:?}");
    }

    #[test]
    fn one_point_line_is_refused() {
        let e = errs(
            Layer::PatrolRoutes,
            json!({"type": "LineString", "coordinates": [[17.8, 59.2]]}),
        );
        assert!(e[0].message.contains("two different positions"), "{e:?}");
        let e = errs(
            Layer::PatrolRoutes,
            json!({"type": "LineString", "coordinates": [[17.8, 59.2], [17.8, 59.2]]}),
        );
        assert!(e[0].message.contains("two different positions"), "{e:?}");
    }

    #[test]
    fn valid_polygon_is_accepted() {
        let g = parse_geometry(
            Layer::Areas,
            &json!({"type": "Polygon", "coordinates": [[[17.8, 59.2], [17.9, 59.2], [17.9, 59.3], [17.8, 59.2]]]}),
            "/geometry",
        )
        .unwrap();
        assert_eq!(GeometryKind::of(&g), Some(GeometryKind::Polygon));
    }
}
