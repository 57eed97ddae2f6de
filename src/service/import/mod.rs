//! Reading GeoJSON, JSON and CSV files into validated drafts, with a report of every rejected
//! row, every problem in it, and a summary per problem.
//!
//! Import is all-or-nothing: the caller stores the drafts only when no row was rejected.
//! Sources are read as real ones are written: times in the forms of [`parse_written_instant`],
//! CSV as Excel and GDAL write it ([`csv`]), foreign schemas through a [`Mapping`].

mod csv;
mod gpkg;
mod json;
pub mod mapping;
pub mod summary;
mod text;

use std::io::Read;

use serde_json::{Map, Value};

use crate::domain::crs::Sweref99Tm;
use crate::domain::time::parse_written_instant;
use crate::domain::{FeatureDraft, Layer, ValidationError, ValidationErrors};

pub use self::csv::{Delimiter, read_csv, read_csv_with, stream_csv};
pub use self::gpkg::read_gpkg;
pub use self::json::{read_geojson, read_json_with, stream_json};
pub use mapping::Mapping;
pub use summary::{ProblemCount, summarise};

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

/// How to read a file.
#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    /// The coordinates' CRS (a GeoJSON `crs` member overrides it).
    pub crs: InputCrs,
    /// A mapping from a foreign schema.
    pub mapping: Option<Mapping>,
    /// CSV: the separator (detected from the header when `None`).
    pub delimiter: Option<Delimiter>,
}

/// One rejected row of an input file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    /// Where: `line 12` (CSV) or `feature 3` (GeoJSON, counted from 1).
    pub row: String,
    /// Everything that is wrong with it.
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
    /// Rows a mapping left out (`unmapped = "skip"`), by the value that had no entry.
    pub skipped: std::collections::BTreeMap<String, usize>,
    /// Times written without an offset, read as Swedish time.
    pub swedish_times: usize,
    /// Source fields that went nowhere (not a property, not mapped).
    pub ignored_fields: std::collections::BTreeSet<String>,
    /// How the CSV was read (separator, encoding), when it was CSV.
    pub csv_dialect: Option<String>,
    /// Which table of a multi-table source was read (GeoPackage), and in which CRS.
    pub source: Option<String>,
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

/// What a property holds, for reading cells written as text (CSV) or in other types
/// (GeoPackage integers for booleans, JSON text for lists).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Text,
    Number,
    Bool,
    List,
    Other,
}

/// The names a layer's features may carry in `properties` on import (its own fields and the
/// bookkeeping a client may set), with what each holds.
fn property_kinds(layer: Layer) -> Vec<(String, Kind)> {
    let schema = crate::domain::schema::feature_write_schema(layer, 0);
    let mut out: Vec<(String, Kind)> = schema["properties"]["properties"]["properties"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, s)| {
                    let ty = match &s["type"] {
                        Value::String(t) => Some(t.as_str()),
                        Value::Array(a) => {
                            a.iter().filter_map(Value::as_str).find(|t| *t != "null")
                        }
                        _ => None,
                    };
                    let kind = match ty {
                        Some("integer" | "number") => Kind::Number,
                        Some("boolean") => Kind::Bool,
                        Some("array") => Kind::List,
                        Some("string") => Kind::Text,
                        // Enums of strings carry no type of their own.
                        None if s["enum"].is_array() => Kind::Text,
                        _ => Kind::Other,
                    };
                    (k.clone(), kind)
                })
                .collect()
        })
        .unwrap_or_default();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// A cell as the property's kind, when it reads as one (else as it was: validation names it).
fn coerce(kind: Kind, v: &Value) -> Option<Value> {
    match (kind, v) {
        (Kind::Number, Value::String(s)) => {
            let n: f64 = s.trim().replace(',', ".").parse().ok()?;
            if n.fract() == 0.0 && n.abs() < 1e15 {
                #[allow(clippy::cast_possible_truncation)]
                Some(Value::from(n as i64))
            } else {
                serde_json::Number::from_f64(n).map(Value::Number)
            }
        }
        (Kind::Bool, Value::String(s)) => match s.trim().to_lowercase().as_str() {
            "true" | "ja" | "yes" | "1" | "sant" => Some(Value::Bool(true)),
            "false" | "nej" | "no" | "0" | "falskt" => Some(Value::Bool(false)),
            _ => None,
        },
        (Kind::Bool, Value::Number(n)) => match n.as_i64() {
            Some(0) => Some(Value::Bool(false)),
            Some(1) => Some(Value::Bool(true)),
            _ => None,
        },
        (Kind::List, Value::String(s)) => {
            let t = s.trim();
            if t.starts_with('[') {
                serde_json::from_str(t).ok()
            } else {
                Some(Value::Array(
                    t.split([';', ',', ' '])
                        .filter(|p| !p.is_empty())
                        .map(|p| Value::from(p.to_lowercase()))
                        .collect(),
                ))
            }
        }
        (Kind::Text, Value::Number(n)) => Some(Value::String(n.to_string())),
        _ => None,
    }
}

/// The time properties of a layer (`format: date-time`).
fn time_fields(layer: Layer) -> Vec<String> {
    crate::domain::schema::exact_properties(layer)
        .iter()
        .filter(|(_, s)| s["format"] == "date-time" && s["readOnly"] != true)
        .map(|(k, _)| k.clone())
        .collect()
}

/// What every row goes through, whatever the file format.
struct RowReader<'a> {
    layer: Layer,
    options: &'a ImportOptions,
    names: Vec<String>,
    kinds: Vec<(String, Kind)>,
    times: Vec<String>,
    transform: Option<Sweref99Tm>,
}

impl<'a> RowReader<'a> {
    fn new(layer: Layer, options: &'a ImportOptions, crs: InputCrs) -> Result<Self, ImportError> {
        let kinds = property_kinds(layer);
        let names: Vec<String> = kinds.iter().map(|(n, _)| n.clone()).collect();
        if let Some(m) = &options.mapping {
            m.check_targets(&names).map_err(ImportError::Format)?;
        }
        let transform = match crs {
            InputCrs::Wgs84 => None,
            InputCrs::Sweref99Tm => {
                Some(Sweref99Tm::new().map_err(|e| ImportError::Format(e.to_string()))?)
            }
        };
        Ok(Self {
            layer,
            options,
            names,
            kinds,
            times: time_fields(layer),
            transform,
        })
    }

    /// Source properties → the layer's, through the mapping; `None` when the mapping skips
    /// the row (counted in `report`).
    fn properties(
        &self,
        source: Map<String, Value>,
        report: &mut ImportReport,
    ) -> Result<Option<Map<String, Value>>, Vec<ValidationError>> {
        let Some(m) = &self.options.mapping else {
            return Ok(Some(source));
        };
        let mapped = m.apply(&source, &self.names)?;
        let used: Vec<&str> = m
            .fields
            .values()
            .flat_map(mapping::Source::names)
            .map(|s| s.split('.').next().unwrap_or(s))
            .chain(m.position.iter().flat_map(|p| {
                [&p.lat_lon, &p.lon, &p.lat]
                    .into_iter()
                    .flatten()
                    .map(|s| s.split('.').next().unwrap_or(s))
            }))
            .collect();
        for k in source.keys() {
            if !used.contains(&k.as_str()) && !self.names.contains(k) {
                report.ignored_fields.insert(k.clone());
            }
        }
        match mapped {
            mapping::Mapped::Row(props) => Ok(Some(props)),
            mapping::Mapped::Skipped(why) => {
                *report.skipped.entry(why).or_default() += 1;
                Ok(None)
            }
        }
    }

    /// Times in the forms sources write become RFC 3339; numbers and text are coerced to what
    /// the property holds.
    fn normalise(&self, props: &mut Map<String, Value>, report: &mut ImportReport) {
        for name in &self.times {
            if let Some(Value::String(s)) = props.get(name)
                && let Ok(w) = parse_written_instant(s)
                && time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
                    .is_err()
            {
                if w.assumed_swedish_time {
                    report.swedish_times += 1;
                }
                if let Ok(text) = w.at.format(&time::format_description::well_known::Rfc3339) {
                    props.insert(name.clone(), Value::String(text));
                }
            }
        }
        for (name, kind) in &self.kinds {
            if let Some(v) = props.get_mut(name)
                && let Some(c) = coerce(*kind, v)
            {
                *v = c;
            }
        }
    }

    /// Names a mapped property's problems by the source field it came from
    /// (`/properties/occurred_at` → `field 'datum'`).
    fn name_sources(&self, errors: ValidationErrors) -> ValidationErrors {
        let Some(m) = &self.options.mapping else {
            return errors;
        };
        ValidationErrors(
            errors
                .0
                .into_iter()
                .map(|mut e| {
                    if let Some(prop) = e.field.strip_prefix("/properties/") {
                        let prop = prop.split('/').next().unwrap_or(prop);
                        if let Some(source) = m.fields.get(prop) {
                            e.field = format!("field {}", source.describe());
                        }
                    }
                    e
                })
                .collect(),
        )
    }

    /// Makes a draft of one row: `geometry` is GeoJSON in the file's CRS.
    fn draft(
        &self,
        mut geometry: Value,
        mut props: Map<String, Value>,
        id: Option<Value>,
        report: &mut ImportReport,
    ) -> Result<FeatureDraft, ValidationErrors> {
        if let Some(t) = &self.transform
            && let Some(coords) = geometry.get_mut("coordinates")
        {
            reproject(coords, t).map_err(|e| ValidationErrors::one("/geometry/coordinates", e))?;
        }
        self.normalise(&mut props, report);
        // Moved in, not copied (`json!` would serialise each part again).
        let mut doc = Map::with_capacity(4);
        doc.insert("type".into(), Value::from("Feature"));
        doc.insert("geometry".into(), geometry);
        doc.insert("properties".into(), Value::Object(props));
        if let Some(id) = id {
            doc.insert("id".into(), id);
        }
        FeatureDraft::from_geojson(self.layer, Value::Object(doc)).map_err(|e| self.name_sources(e))
    }
}

/// Rewrites every position of a GeoJSON `coordinates` tree from SWEREF 99 TM to WGS84.
pub(crate) fn reproject(v: &mut Value, t: &Sweref99Tm) -> Result<(), String> {
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

/// Reads a whole input as text: UTF-8 (a byte-order mark is dropped), or — when it is not
/// UTF-8 — Windows-1252, as Swedish Excel saves "CSV (semikolonavgränsad)".
fn read_text(mut input: impl Read) -> Result<(String, &'static str), ImportError> {
    let mut bytes = Vec::new();
    input.read_to_end(&mut bytes)?;
    let bytes = bytes
        .strip_prefix(b"\xEF\xBB\xBF".as_slice())
        .map(<[u8]>::to_vec)
        .unwrap_or(bytes);
    match String::from_utf8(bytes) {
        Ok(s) => Ok((s, "UTF-8")),
        Err(e) => Ok((
            e.into_bytes()
                .iter()
                .map(|&b| text::windows_1252(b))
                .collect(),
            "Windows-1252",
        )),
    }
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
    fn many_rows_come_out_in_file_order_with_what_they_add_to_the_report() {
        // Many chunks' worth of rows: every 7th row is bad, the severity counts the rows, and
        // a time without an offset is counted once per row that has one.
        let mut csv = String::from("lon,lat,category,occurred_at,severity,organisation\n");
        let mut bad = Vec::new();
        let mut good = Vec::new();
        for i in 0..10_000u32 {
            let line = i + 2;
            if i % 7 == 3 {
                csv.push_str("17.84,95.0,car_fire,2026-03-01T21:00:00Z,3,Polisen\n");
                bad.push(format!("line {line}"));
            } else {
                let at = if i % 2 == 0 {
                    "2026-03-01 21:00"
                } else {
                    "2026-03-01T21:00:00Z"
                };
                csv.push_str(&format!(
                    "{},59.24,car_fire,{at},{},Polisen\n",
                    17.0 + f64::from(i) * 1e-5,
                    i % 5 + 1
                ));
                good.push(i);
            }
        }
        let r = read_csv(Layer::Incidents, csv.as_bytes(), InputCrs::Wgs84).unwrap();
        let rows: Vec<String> = r.rejected.iter().map(|e| e.row.clone()).collect();
        assert_eq!(rows, bad, "rejected rows, in file order");
        let lons: Vec<f64> = r
            .drafts
            .iter()
            .map(|d| match &d.geometry {
                geo::Geometry::Point(p) => p.x(),
                other => panic!("{other:?}"),
            })
            .collect();
        let want: Vec<f64> = good.iter().map(|i| 17.0 + f64::from(*i) * 1e-5).collect();
        assert_eq!(lons.len(), want.len());
        assert!(
            lons.iter().zip(&want).all(|(a, b)| (a - b).abs() < 1e-9),
            "drafts in file order"
        );
        assert_eq!(r.swedish_times, good.iter().filter(|i| *i % 2 == 0).count());
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

#[cfg(test)]
mod source_tests {
    use super::*;
    use crate::domain::Properties;

    fn incident(d: &FeatureDraft) -> &crate::domain::incident::Incident {
        match &d.properties {
            Properties::Incident(i) => i,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn swedish_excel_csv_with_semicolons_decimal_commas_and_windows_1252() {
        // "Klotter på vägg" in Windows-1252: å is 0xE5.
        let mut bytes =
            b"lon;lat;category;occurred_at;severity;organisation;description\r\n".to_vec();
        bytes.extend_from_slice(b"17,8448;59,2393;vandalism;2026-11-30 22:15;2;Botkyrka kommun;Klotter p\xE5 v\xE4gg\r\n");
        bytes.extend_from_slice(
            b"17,85;59,24;car_fire;2026-07-01 09:05:00 +0200;3;Botkyrka kommun;\r\n",
        );
        let r = read_csv(Layer::Incidents, bytes.as_slice(), InputCrs::Wgs84).unwrap();
        assert!(r.rejected.is_empty(), "{:?}", r.rejected);
        assert_eq!(
            r.csv_dialect.as_deref(),
            Some("separator ';', Windows-1252")
        );
        assert_eq!(r.drafts.len(), 2);
        let a = incident(&r.drafts[0]);
        assert_eq!(&*a.description, "Klotter på vägg");
        // Winter: 22:15 Swedish time is 21:15 UTC.
        assert_eq!(
            a.occurred_at.unix_timestamp(),
            time::macros::datetime!(2026-11-30 21:15 UTC).unix_timestamp()
        );
        assert_eq!(
            incident(&r.drafts[1]).occurred_at.unix_timestamp(),
            time::macros::datetime!(2026-07-01 07:05 UTC).unix_timestamp()
        );
        assert_eq!(r.swedish_times, 1);
        let geo::Geometry::Point(p) = r.drafts[0].geometry else {
            panic!()
        };
        assert!((p.x() - 17.8448).abs() < 1e-9 && (p.y() - 59.2393).abs() < 1e-9);
    }

    #[test]
    fn gdal_csv_with_a_wkt_column_takes_any_geometry_kind() {
        let text = "WKT,category,occurred_at,severity,organisation\n\
            \"POINT (17.84 59.24)\",shooting,2026/11/30 22:15:00+01,4,Polisen\n\
            \"POLYGON ((17.84 59.24,17.85 59.24,17.85 59.25,17.84 59.24))\",vandalism,2026/11/30 22:15:00+01,1,Polisen\n";
        let r = read_csv(Layer::Incidents, text.as_bytes(), InputCrs::Wgs84).unwrap();
        assert!(r.rejected.is_empty(), "{:?}", r.rejected);
        assert!(matches!(r.drafts[1].geometry, geo::Geometry::Polygon(_)));
        assert_eq!(r.swedish_times, 0);
        // GDAL's X,Y columns (GEOMETRY=AS_XY) in WGS84.
        let text = "X,Y,category,occurred_at,severity,organisation\n17.84,59.24,shooting,2026-11-30T22:15:00Z,4,Polisen\n";
        let r = read_csv(Layer::Incidents, text.as_bytes(), InputCrs::Wgs84).unwrap();
        assert!(r.rejected.is_empty(), "{:?}", r.rejected);
    }

    #[test]
    fn a_row_reports_every_problem_in_words() {
        let text = "lon,lat,category,occurred_at,severity,colour\n17.84,59.24,skottlossning,igår,hög,röd\n";
        let r = read_csv(Layer::Incidents, text.as_bytes(), InputCrs::Wgs84).unwrap();
        assert_eq!(r.rejected.len(), 1);
        let said = r.rejected[0].to_string();
        for part in [
            "column 'category'",
            "column 'severity': is 'hög' (text); it must be a whole number from 1 to 5",
            "column 'occurred_at'",
            "2026-11-30 22:15",
            "column 'colour': is not a field of",
            "organisation",
        ] {
            assert!(said.contains(part), "{part} in {said}");
        }
        assert!(
            !said.contains("u8") && !said.contains("OffsetDateTime"),
            "{said}"
        );
    }

    #[test]
    fn the_police_events_feed_through_the_shipped_mapping() {
        let mapping = Mapping::load(std::path::Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/geodata/mappings/polisen-events.toml"
        )))
        .unwrap();
        let feed = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/polisen_events.json"
        ))
        .unwrap();
        let options = ImportOptions {
            mapping: Some(mapping),
            ..ImportOptions::default()
        };
        let r = read_json_with(Layer::Incidents, feed.as_slice(), &options).unwrap();
        assert!(r.rejected.is_empty(), "{:?}", r.rejected);
        assert_eq!(r.drafts.len(), 5);
        assert_eq!(r.skipped.values().sum::<usize>(), 2);
        assert!(
            r.skipped.contains_key("type = Trafikolycka"),
            "{:?}",
            r.skipped
        );
        let first = incident(&r.drafts[0]);
        assert_eq!(first.category.as_str(), "shooting");
        assert_eq!(first.severity, 5);
        assert_eq!(first.reference.as_deref(), Some("575101"));
        assert_eq!(
            first.occurred_at.unix_timestamp(),
            time::macros::datetime!(2026-11-28 21:41:07 UTC).unix_timestamp()
        );
        assert_eq!(r.drafts[0].organisation, "Polisen");
        let geo::Geometry::Point(p) = r.drafts[0].geometry else {
            panic!()
        };
        assert!(
            (p.x() - 17.830979).abs() < 1e-9 && (p.y() - 59.203475).abs() < 1e-9,
            "lat,lon read as lon,lat: {p:?}"
        );
        // "Brand" is kept as other with the default severity; the detonation at 2:05.
        assert_eq!(incident(&r.drafts[1]).category.as_str(), "other");
        assert_eq!(incident(&r.drafts[1]).severity, 2);
        assert_eq!(incident(&r.drafts[4]).category.as_str(), "explosion");
        assert!(
            r.ignored_fields.contains("url") && r.ignored_fields.contains("name"),
            "{:?}",
            r.ignored_fields
        );
    }

    #[test]
    fn a_mapping_with_unknown_targets_or_values_is_refused_with_names() {
        let m: Mapping = figment::Figment::from(figment::providers::Serialized::defaults(
            serde_json::json!({"fields": {"colour": "färg"}}),
        ))
        .extract()
        .unwrap();
        let err = read_csv_with(
            Layer::Incidents,
            "lon,lat\n1,2\n".as_bytes(),
            &ImportOptions {
                mapping: Some(m),
                ..ImportOptions::default()
            },
        )
        .unwrap_err();
        assert!(
            err.to_string()
                .contains("'colour', which is not a property"),
            "{err}"
        );
        let m: Mapping = figment::Figment::from(figment::providers::Serialized::defaults(
            serde_json::json!({"fields": {"category": "typ"}, "values": {"category": {"Brand": "other"}}, "constants": {"organisation": "K", "severity": 1}}),
        ))
        .extract()
        .unwrap();
        let r = read_csv_with(
            Layer::Incidents,
            "lon;lat;typ;occurred_at\n17,8;59,2;Klotter;2026-11-30 10:00\n".as_bytes(),
            &ImportOptions {
                mapping: Some(m),
                ..ImportOptions::default()
            },
        )
        .unwrap();
        let said = r.rejected[0].to_string();
        assert!(
            said.contains("field 'typ': 'Klotter' has no entry in [values.category]"),
            "{said}"
        );
    }
}
