//! GeoPackage (`.gpkg`) import: one feature table, in EPSG:4326 or EPSG:3006, through the same
//! row checks, time forms and mappings as every other source.

use std::path::Path;

use serde_json::Value;

use super::{ImportError, ImportOptions, ImportReport, InputCrs, RowError, RowReader};
use crate::domain::{Layer, ValidationErrors};
use crate::gpkg::{GpkgCrs, read_table};

/// A single-member multi-geometry as its member (GDAL writes Shapefile polygons as
/// MultiPolygons), when the layer takes the member's kind and not the multi kind.
fn simplest(layer: Layer, g: geo::Geometry<f64>) -> geo::Geometry<f64> {
    use crate::domain::geometry::GeometryKind;
    let takes = |k: GeometryKind| layer.allowed_geometries().contains(&k);
    match g {
        geo::Geometry::MultiPoint(mut m) if m.0.len() == 1 => geo::Geometry::Point(m.0.remove(0)),
        geo::Geometry::MultiPolygon(mut m)
            if m.0.len() == 1 && !takes(GeometryKind::MultiPolygon) =>
        {
            geo::Geometry::Polygon(m.0.remove(0))
        }
        geo::Geometry::MultiLineString(mut m)
            if m.0.len() == 1 && !takes(GeometryKind::MultiLineString) =>
        {
            geo::Geometry::LineString(m.0.remove(0))
        }
        other => other,
    }
}

/// Reads the feature table `table` (or the only one) of the GeoPackage at `path` for `layer`.
///
/// # Errors
/// Not a GeoPackage, no such table, an SRS other than EPSG:4326 or EPSG:3006; row problems go
/// into the report.
pub async fn read_gpkg(
    layer: Layer,
    path: &Path,
    table: Option<&str>,
    options: &ImportOptions,
) -> Result<ImportReport, ImportError> {
    let (t, unreadable) = read_table(path, table)
        .await
        .map_err(|e| ImportError::Format(e.to_string()))?;
    let crs = match t.crs {
        GpkgCrs::Wgs84 => InputCrs::Wgs84,
        GpkgCrs::Sweref99Tm => InputCrs::Sweref99Tm,
    };
    let reader = RowReader::new(layer, options, crs)?;
    let mut report = ImportReport {
        csv_dialect: None,
        source: Some(format!(
            "GeoPackage table '{}' in {}",
            t.name,
            match crs {
                InputCrs::Wgs84 => "EPSG:4326",
                InputCrs::Sweref99Tm => "EPSG:3006",
            }
        )),
        ..ImportReport::default()
    };
    for (fid, why) in &unreadable {
        report.rejected.push(RowError {
            row: format!("feature {fid}"),
            errors: ValidationErrors::one("geometry", why.clone()),
        });
    }
    for mut row in t.rows {
        if unreadable.iter().any(|(f, _)| *f == row.fid) {
            continue;
        }
        let label = format!("feature {}", row.fid);
        let geometry = match row.geometry {
            Some(g) => serde_json::to_value(geojson::Geometry::from(&simplest(layer, g)))
                .unwrap_or(Value::Null),
            None => Value::Null,
        };
        // Our own export's ids come back; another table's `id` column is a property.
        let id = match row.properties.get("id") {
            Some(Value::String(s)) if uuid::Uuid::parse_str(s).is_ok() => {
                row.properties.remove("id")
            }
            _ => None,
        };
        let props = match reader.properties(std::mem::take(&mut row.properties), &mut report) {
            Ok(Some(p)) => p,
            Ok(None) => continue,
            Err(e) => {
                report.rejected.push(RowError {
                    row: label,
                    errors: ValidationErrors(e),
                });
                continue;
            }
        };
        match reader.draft(geometry, props, id, &mut report) {
            Ok(d) => report.drafts.push(d),
            Err(errors) => report.rejected.push(RowError { row: label, errors }),
        }
    }
    Ok(report)
}
