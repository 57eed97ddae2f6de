//! GeoJSON (a FeatureCollection or one Feature, in WGS84 or — by a `crs` member or `--crs` —
//! SWEREF 99 TM) and plain JSON arrays of records with a mapping that says where the position is
//! (the police's public events feed).

use std::io::Read;

use serde_json::{Map, Value};

use super::{ImportError, ImportOptions, ImportReport, InputCrs, RowError, RowReader, read_text};
use crate::domain::{Layer, ValidationErrors};

/// Reads a GeoJSON FeatureCollection (or one Feature) for `layer`.
///
/// # Errors
/// When the text is not JSON or not GeoJSON; row problems go into the report instead.
pub fn read_geojson(
    layer: Layer,
    input: impl Read,
    crs: InputCrs,
) -> Result<ImportReport, ImportError> {
    read_json_with(
        layer,
        input,
        &ImportOptions {
            crs,
            ..ImportOptions::default()
        },
    )
}

/// Reads GeoJSON, or a JSON array of records (with a mapping's `position`), for `layer`.
///
/// # Errors
/// When the text is not JSON, or neither GeoJSON nor an array of records; row problems go
/// into the report instead.
pub fn read_json_with(
    layer: Layer,
    input: impl Read,
    options: &ImportOptions,
) -> Result<ImportReport, ImportError> {
    let (text, _) = read_text(input)?;
    let doc: Value = serde_json::from_str(&text).map_err(|e| {
        ImportError::Format(format!(
            "not valid JSON (line {}, column {}): {e}",
            e.line(),
            e.column()
        ))
    })?;
    let crs = crs_member(&doc).unwrap_or(options.crs);
    let records = match doc {
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
        Value::Array(a) => {
            let has_position = options
                .mapping
                .as_ref()
                .is_some_and(|m| m.position.is_some());
            if !has_position
                && a.iter()
                    .any(|r| r.get("type") != Some(&Value::from("Feature")))
            {
                return Err(ImportError::Format(
                    "a JSON array of records has no geometry: give a mapping (--map) whose [position] names the position fields (geodata/mappings/polisen-events.toml reads the police's events feed)".into(),
                ));
            }
            a
        }
        _ => return Err(ImportError::Format("expected a GeoJSON object".into())),
    };
    let reader = RowReader::new(layer, options, crs)?;
    let mut report = ImportReport::default();
    for (i, record) in records.into_iter().enumerate() {
        let row = format!("feature {}", i + 1);
        match read_record(&reader, record, &mut report) {
            Ok(Some(d)) => report.drafts.push(d),
            Ok(None) => {}
            Err(errors) => report.rejected.push(RowError { row, errors }),
        }
    }
    Ok(report)
}

/// One Feature, or one plain record placed by the mapping's position.
fn read_record(
    reader: &RowReader<'_>,
    record: Value,
    report: &mut ImportReport,
) -> Result<Option<crate::domain::FeatureDraft>, ValidationErrors> {
    let Value::Object(mut obj) = record else {
        return Err(ValidationErrors::one("", "must be a JSON object"));
    };
    let is_feature = obj.get("type") == Some(&Value::from("Feature"));
    let (source, geometry, id) = if is_feature {
        let props = match obj.remove("properties") {
            Some(Value::Object(m)) => m,
            None | Some(Value::Null) => Map::new(),
            Some(_) => return Err(ValidationErrors::one("/properties", "must be an object")),
        };
        (
            props,
            obj.remove("geometry").unwrap_or(Value::Null),
            obj.remove("id"),
        )
    } else {
        let position = reader
            .options
            .mapping
            .as_ref()
            .and_then(|m| m.position(&obj))
            .unwrap_or_else(|| {
                Err(crate::domain::ValidationError::new(
                    "",
                    "has no position (the mapping's [position] names none)",
                ))
            })
            .map_err(ValidationErrors::from)?;
        (
            obj,
            serde_json::json!({"type": "Point", "coordinates": [position.0, position.1]}),
            None,
        )
    };
    let Some(props) = reader
        .properties(source, report)
        .map_err(ValidationErrors)?
    else {
        return Ok(None);
    };
    // A mapped source's own id is not ours (`reference` may take it); GeoJSON ids are kept.
    let id = if reader.options.mapping.is_some() && !is_feature {
        None
    } else {
        id
    };
    reader.draft(geometry, props, id, report).map(Some)
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
