//! Reading GeoJSON and CSV files into validated drafts, with a report of every rejected row.
//!
//! Import is all-or-nothing: the caller stores the drafts only when no row was rejected.

use std::io::Read;

use serde_json::{Map, Value};

use crate::domain::crs::Sweref99Tm;
use crate::domain::{FeatureDraft, Layer, ValidationError, ValidationErrors};

/// The coordinate reference system of an input file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum InputCrs {
    /// WGS84 longitude/latitude (EPSG:4326, GeoJSON's CRS).
    #[default]
    Wgs84,
    /// SWEREF 99 TM easting/northing in metres (EPSG:3006).
    Sweref99Tm,
}

impl std::str::FromStr for InputCrs {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_uppercase().replace("::", ":").as_str() {
            "EPSG:4326" | "WGS84" | "CRS84" | "OGC:CRS84" => Ok(InputCrs::Wgs84),
            "EPSG:3006" | "SWEREF99TM" | "SWEREF 99 TM" => Ok(InputCrs::Sweref99Tm),
            _ => Err(format!(
                "unknown CRS '{s}'; use EPSG:4326 (WGS84 lon/lat) or EPSG:3006 (SWEREF 99 TM)"
            )),
        }
    }
}

/// One rejected row of an input file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    /// Where: `line 12` (CSV) or `feature 3` (GeoJSON, counted from 1).
    pub row: String,
    /// What is wrong with it.
    pub errors: ValidationErrors,
}

impl std::fmt::Display for RowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.row, self.errors)
    }
}

/// What a file held: the drafts that passed and every row that did not.
#[derive(Debug, Default)]
pub struct ImportReport {
    /// Valid drafts, in file order.
    pub drafts: Vec<FeatureDraft>,
    /// Rejected rows, in file order.
    pub rejected: Vec<RowError>,
}

/// A whole file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// Not readable at all.
    #[error("cannot read the input: {0}")]
    Io(#[from] std::io::Error),
    /// Not JSON, or not a GeoJSON Feature / FeatureCollection.
    #[error("{0}")]
    Format(String),
}

/// Properties that CSV cells must turn into numbers, booleans or lists.
const NUMBER_FIELDS: &[&str] = &[
    "severity",
    "direction",
    "field_of_view",
    "range_m",
    "walkers",
    "classification_year",
];

/// Reads a GeoJSON FeatureCollection (or one Feature) for `layer`.
///
/// # Errors
/// When the text is not JSON or not GeoJSON; row problems go into the report instead.
pub fn read_geojson(
    layer: Layer,
    mut input: impl Read,
    crs: InputCrs,
) -> Result<ImportReport, ImportError> {
    let mut text = String::new();
    input.read_to_string(&mut text)?;
    let doc: Value = serde_json::from_str(&text).map_err(|e| {
        ImportError::Format(format!(
            "not valid JSON (line {}, column {}): {e}",
            e.line(),
            e.column()
        ))
    })?;
    let crs = match crs_member(&doc) {
        Some(declared) => declared,
        None => crs,
    };
    let features = match doc {
        Value::Object(mut o) => match o.get("type").and_then(Value::as_str) {
            Some("FeatureCollection") => match o.remove("features") {
                Some(Value::Array(a)) => a,
                _ => {
                    return Err(ImportError::Format(
                        "the FeatureCollection has no 'features' array".into(),
                    ));
                }
            },
            Some("Feature") => vec![Value::Object(o)],
            other => {
                return Err(ImportError::Format(format!(
                    "expected a GeoJSON FeatureCollection or Feature, found type {}",
                    other.map_or_else(|| "(none)".into(), |t| format!("'{t}'"))
                )));
            }
        },
        _ => return Err(ImportError::Format("expected a GeoJSON object".into())),
    };
    let transform = match crs {
        InputCrs::Wgs84 => None,
        InputCrs::Sweref99Tm => {
            Some(Sweref99Tm::new().map_err(|e| ImportError::Format(e.to_string()))?)
        }
    };
    let mut report = ImportReport::default();
    for (i, mut f) in features.into_iter().enumerate() {
        let row = format!("feature {}", i + 1);
        if let Some(t) = &transform
            && let Some(coords) = f.get_mut("geometry").and_then(|g| g.get_mut("coordinates"))
            && let Err(e) = reproject(coords, t)
        {
            report.rejected.push(RowError {
                row,
                errors: ValidationErrors::one("/geometry/coordinates", e),
            });
            continue;
        }
        match FeatureDraft::from_geojson(layer, f) {
            Ok(d) => report.drafts.push(d),
            Err(errors) => report.rejected.push(RowError { row, errors }),
        }
    }
    Ok(report)
}

/// The CRS named by an old-style GeoJSON `crs` member, if any.
fn crs_member(doc: &Value) -> Option<InputCrs> {
    let name = doc.get("crs")?.get("properties")?.get("name")?.as_str()?;
    if name.contains("3006") {
        Some(InputCrs::Sweref99Tm)
    } else if name.contains("4326") || name.contains("CRS84") {
        Some(InputCrs::Wgs84)
    } else {
        None
    }
}

/// Rewrites every position of a GeoJSON `coordinates` tree from SWEREF 99 TM to WGS84.
fn reproject(v: &mut Value, t: &Sweref99Tm) -> Result<(), String> {
    let Value::Array(items) = v else {
        return Ok(());
    };
    if items.first().is_some_and(Value::is_number) {
        let e = items.first().and_then(Value::as_f64).unwrap_or(f64::NAN);
        let n = items.get(1).and_then(Value::as_f64).unwrap_or(f64::NAN);
        let (lon, lat) = t.to_wgs84(e, n).map_err(|e| e.to_string())?;
        *v = Value::Array(vec![lon.into(), lat.into()]);
        return Ok(());
    }
    items.iter_mut().try_for_each(|i| reproject(i, t))
}

/// Reads a CSV file with a header row for a point layer.
///
/// Coordinates: `lon,lat` (or `longitude,latitude`) in WGS84, or with [`InputCrs::Sweref99Tm`]
/// `e,n` (or `x,y`; when `x` holds the northing, as in Swedish surveying convention, the columns
/// are swapped). Other columns are properties; empty cells are left out; `weekdays` is a list
/// separated by `;`, `,` or spaces.
///
/// # Errors
/// When the header cannot be read or lacks coordinate columns.
pub fn read_csv(
    layer: Layer,
    input: impl Read,
    crs: InputCrs,
) -> Result<ImportReport, ImportError> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(false)
        .from_reader(input);
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| ImportError::Format(format!("cannot read the CSV header: {e}")))?
        .iter()
        .map(|h| h.trim().to_ascii_lowercase())
        .collect();
    let find = |names: &[&str]| headers.iter().position(|h| names.contains(&h.as_str()));
    let (xi, yi) = match crs {
        InputCrs::Wgs84 => (
            find(&["lon", "longitude", "lng"]),
            find(&["lat", "latitude"]),
        ),
        InputCrs::Sweref99Tm => (find(&["e", "easting", "x"]), find(&["n", "northing", "y"])),
    };
    let (Some(xi), Some(yi)) = (xi, yi) else {
        return Err(ImportError::Format(match crs {
            InputCrs::Wgs84 => format!(
                "the CSV header ({}) has no 'lon' and 'lat' columns; for SWEREF 99 TM data with 'e,n' or 'x,y' columns add --crs EPSG:3006",
                headers.join(",")
            ),
            InputCrs::Sweref99Tm => format!(
                "the CSV header ({}) has no 'e' and 'n' (or 'x' and 'y') columns",
                headers.join(",")
            ),
        }));
    };
    let transform = match crs {
        InputCrs::Wgs84 => None,
        InputCrs::Sweref99Tm => {
            Some(Sweref99Tm::new().map_err(|e| ImportError::Format(e.to_string()))?)
        }
    };
    let mut report = ImportReport::default();
    for record in reader.records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(0, csv::Position::line);
                report.rejected.push(RowError {
                    row: format!("line {line}"),
                    errors: ValidationErrors::one("", e.to_string()),
                });
                continue;
            }
        };
        let line = record.position().map_or(0, csv::Position::line);
        let row = format!("line {line}");
        match csv_feature(layer, &headers, &record, (xi, yi), transform.as_ref()) {
            Ok(d) => report.drafts.push(d),
            Err(errors) => report.rejected.push(RowError { row, errors }),
        }
    }
    Ok(report)
}

fn csv_feature(
    layer: Layer,
    headers: &[String],
    record: &csv::StringRecord,
    (xi, yi): (usize, usize),
    transform: Option<&Sweref99Tm>,
) -> Result<FeatureDraft, ValidationErrors> {
    let number = |i: usize| -> Result<f64, ValidationError> {
        let cell = record.get(i).unwrap_or("");
        cell.replace(',', ".")
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite())
            .ok_or_else(|| {
                ValidationError::new(
                    format!("column '{}'", headers[i]),
                    format!("'{cell}' is not a number"),
                )
            })
    };
    let (x, y) = match (number(xi), number(yi)) {
        (Ok(x), Ok(y)) => (x, y),
        (a, b) => {
            return Err(ValidationErrors(
                [a.err(), b.err()].into_iter().flatten().collect(),
            ));
        }
    };
    let (lon, lat) = match transform {
        None => (x, y),
        Some(t) => {
            // Swedish convention names the northing X; SWEREF 99 TM northings are in the millions.
            let (e, n) = if x > 1_000_000.0 && y < 1_000_000.0 {
                (y, x)
            } else {
                (x, y)
            };
            t.to_wgs84(e, n).map_err(|err| {
                ValidationErrors::one(format!("column '{}'", headers[xi]), err.to_string())
            })?
        }
    };
    let mut props = Map::new();
    for (i, (h, cell)) in headers.iter().zip(record.iter()).enumerate() {
        if i == xi || i == yi || cell.is_empty() {
            continue;
        }
        let value = if NUMBER_FIELDS.contains(&h.as_str()) {
            match cell.replace(',', ".").parse::<f64>() {
                Ok(v) if v.fract() == 0.0 && v.abs() < 1e15 => Value::from(v as i64),
                Ok(v) => Value::from(v),
                Err(_) => {
                    return Err(ValidationErrors::one(
                        format!("column '{h}'"),
                        format!("'{cell}' is not a number"),
                    ));
                }
            }
        } else if h == "weekdays" {
            Value::Array(
                cell.split([';', ',', ' '])
                    .filter(|s| !s.is_empty())
                    .map(|s| Value::from(s.to_ascii_lowercase()))
                    .collect(),
            )
        } else if h == "approximate" {
            Value::Bool(matches!(
                cell.to_ascii_lowercase().as_str(),
                "true" | "ja" | "yes" | "1"
            ))
        } else {
            Value::from(cell)
        };
        props.insert(h.clone(), value);
    }
    let doc = serde_json::json!({
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "properties": props,
    });
    FeatureDraft::from_geojson(layer, doc).map_err(|e| {
        // Point at CSV columns rather than JSON pointers.
        ValidationErrors(
            e.0.into_iter()
                .map(|mut v| {
                    v.field = match v.field.strip_prefix("/properties/") {
                        Some(col) => format!("column '{}'", col.split('/').next().unwrap_or(col)),
                        None if v.field.starts_with("/geometry") => {
                            format!("columns '{}','{}'", headers[xi], headers[yi])
                        }
                        None => v.field,
                    };
                    v
                })
                .collect(),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_rows_are_read_and_bad_rows_named_by_line() {
        let csv = "lon,lat,category,occurred_at,severity,organisation\n\
                   17.84,59.24,car_fire,2026-03-01T21:00:00Z,3,Polisen\n\
                   17.84,95.0,car_fire,2026-03-01T21:00:00Z,3,Polisen\n\
                   17.84,59.24,arson,2026-03-01T21:00:00Z,3,Polisen\n";
        let r = read_csv(Layer::Incidents, csv.as_bytes(), InputCrs::Wgs84).unwrap();
        assert_eq!(r.drafts.len(), 1);
        assert_eq!(r.rejected.len(), 2);
        assert_eq!(r.rejected[0].row, "line 3");
        assert!(
            r.rejected[0].errors.0[0].message.contains("latitude"),
            "{}",
            r.rejected[0]
        );
        assert_eq!(r.rejected[1].row, "line 4");
        assert_eq!(r.rejected[1].errors.0[0].field, "column 'category'");
    }

    #[test]
    fn sweref_csv_accepts_swedish_x_northing_convention() {
        let a = "e,n,direction,field_of_view,range_m,owner,status,organisation\n670817.916,6577304.567,90,60,50,police,active,Polisen\n";
        let b = "x,y,direction,field_of_view,range_m,owner,status,organisation\n6577304.567,670817.916,90,60,50,police,active,Polisen\n";
        for text in [a, b] {
            let r = read_csv(Layer::Cameras, text.as_bytes(), InputCrs::Sweref99Tm).unwrap();
            assert!(r.rejected.is_empty(), "{:?}", r.rejected);
            let geo::Geometry::Point(p) = r.drafts[0].geometry else {
                panic!()
            };
            assert!(
                (p.x() - 18.0).abs() < 1e-6 && (p.y() - 59.3).abs() < 1e-6,
                "{p:?}"
            );
        }
    }

    #[test]
    fn wgs84_csv_without_lon_lat_suggests_the_crs_flag() {
        let err = read_csv(Layer::Cameras, "e,n\n1,2\n".as_bytes(), InputCrs::Wgs84).unwrap_err();
        assert!(err.to_string().contains("--crs EPSG:3006"), "{err}");
    }

    #[test]
    fn geojson_features_are_numbered_from_one() {
        let text = r#"{"type":"FeatureCollection","features":[
            {"type":"Feature","geometry":{"type":"Point","coordinates":[17.8,59.2]},"properties":{"category":"vandalism","occurred_at":"2026-01-01T10:00:00Z","severity":1,"organisation":"Bostadsbolaget"}},
            {"type":"Feature","geometry":{"type":"Point","coordinates":[17.8]},"properties":{"category":"vandalism","occurred_at":"2026-01-01T10:00:00Z","severity":1,"organisation":"B"}}]}"#;
        let r = read_geojson(Layer::Incidents, text.as_bytes(), InputCrs::Wgs84).unwrap();
        assert_eq!(r.drafts.len(), 1);
        assert_eq!(r.rejected[0].row, "feature 2");
    }
}
