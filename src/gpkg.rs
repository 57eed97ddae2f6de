//! GeoPackage files (OGC 12-128r19, version 1.3): reading a feature table for import, writing
//! one for export. A GeoPackage is an SQLite file; its geometries are a small header (`GP`,
//! version, flags, SRS id, optional envelope) before ordinary WKB, which geozero reads and
//! writes. (geozero's own GeoPackage support is tied to another sqlx than ours.)

use std::path::Path;

use geo::{BoundingRect, Geometry};
use geozero::{CoordDimensions, ToGeo, ToWkb};
use serde_json::{Map, Value};
use sqlx::sqlite::{SqliteConnectOptions, SqliteRow};
use sqlx::{Column, ConnectOptions, Connection, Row, SqliteConnection, TypeInfo, ValueRef};

/// EPSG:4326 in the WKT GeoPackage readers expect in `gpkg_spatial_ref_sys`.
const WKT_4326: &str = r#"GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563,AUTHORITY["EPSG","7030"]],AUTHORITY["EPSG","6326"]],PRIMEM["Greenwich",0,AUTHORITY["EPSG","8901"]],UNIT["degree",0.0174532925199433,AUTHORITY["EPSG","9122"]],AXIS["Latitude",NORTH],AXIS["Longitude",EAST],AUTHORITY["EPSG","4326"]]"#;
/// EPSG:3006 (SWEREF 99 TM).
const WKT_3006: &str = r#"PROJCS["SWEREF99 TM",GEOGCS["SWEREF99",DATUM["SWEREF99",SPHEROID["GRS 1980",6378137,298.257222101,AUTHORITY["EPSG","7019"]],AUTHORITY["EPSG","6619"]],PRIMEM["Greenwich",0,AUTHORITY["EPSG","8901"]],UNIT["degree",0.0174532925199433,AUTHORITY["EPSG","9122"]],AUTHORITY["EPSG","4619"]],PROJECTION["Transverse_Mercator"],PARAMETER["latitude_of_origin",0],PARAMETER["central_meridian",15],PARAMETER["scale_factor",0.9996],PARAMETER["false_easting",500000],PARAMETER["false_northing",0],UNIT["metre",1,AUTHORITY["EPSG","9001"]],AXIS["Northing",NORTH],AXIS["Easting",EAST],AUTHORITY["EPSG","3006"]]"#;

/// A GeoPackage problem, in words.
#[derive(Debug, thiserror::Error)]
pub enum GpkgError {
    /// Not a GeoPackage, or not one we can read.
    #[error("{0}")]
    Format(String),
    /// SQLite failed.
    #[error("the GeoPackage: {0}")]
    Sql(#[from] sqlx::Error),
}

/// The CRS of a feature table, by EPSG code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GpkgCrs {
    /// EPSG:4326 (longitude, latitude in the file, as GeoPackage orders them).
    Wgs84,
    /// EPSG:3006 (easting, northing).
    Sweref99Tm,
}

/// One feature row: its fid, its columns as JSON, its geometry.
#[derive(Debug)]
pub struct GpkgRow {
    /// The table's primary key.
    pub fid: i64,
    /// The other columns (NULLs left out; BLOBs left out).
    pub properties: Map<String, Value>,
    /// The geometry, in the table's CRS; `None` for NULL or empty.
    pub geometry: Option<Geometry<f64>>,
}

/// A feature table read whole.
#[derive(Debug)]
pub struct GpkgTable {
    /// Its name.
    pub name: String,
    /// Its CRS.
    pub crs: GpkgCrs,
    /// Its rows, by fid.
    pub rows: Vec<GpkgRow>,
}

/// Decodes a GeoPackage geometry blob.
///
/// # Errors
/// Not a GeoPackage blob, or WKB geozero cannot read.
pub fn decode_geometry(blob: &[u8]) -> Result<Option<Geometry<f64>>, String> {
    if blob.len() < 8 || &blob[..2] != b"GP" {
        return Err("not a GeoPackage geometry (no 'GP' header)".into());
    }
    let flags = blob[3];
    if flags & 0b0010_0000 != 0 {
        return Err("an extended GeoPackage geometry, which is not supported".into());
    }
    let empty = flags & 0b0001_0000 != 0;
    let envelope = match (flags >> 1) & 0b111 {
        0 => 0,
        1 => 32,
        2 | 3 => 48,
        4 => 64,
        other => return Err(format!("an unknown envelope kind {other}")),
    };
    let start = 8 + envelope;
    if empty || blob.len() <= start {
        return Ok(None);
    }
    geozero::wkb::Wkb(blob[start..].to_vec())
        .to_geo()
        .map(Some)
        .map_err(|e| format!("its WKB cannot be read: {e}"))
}

/// Encodes a geometry as a GeoPackage blob (little-endian, with its XY envelope).
///
/// # Errors
/// WKB encoding failures.
pub fn encode_geometry(g: &Geometry<f64>, srs_id: i32) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(64);
    out.extend_from_slice(b"GP");
    out.push(0); // version 1
    out.push(0b0000_0011); // little-endian, envelope [minx, maxx, miny, maxy]
    out.extend_from_slice(&srs_id.to_le_bytes());
    let r = g
        .bounding_rect()
        .ok_or_else(|| "an empty geometry".to_owned())?;
    for v in [r.min().x, r.max().x, r.min().y, r.max().y] {
        out.extend_from_slice(&v.to_le_bytes());
    }
    let wkb = g.to_wkb(CoordDimensions::xy()).map_err(|e| e.to_string())?;
    out.extend_from_slice(&wkb);
    Ok(out)
}

fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// The feature tables of a GeoPackage, by name.
///
/// # Errors
/// Not a GeoPackage.
async fn feature_tables(
    conn: &mut SqliteConnection,
) -> Result<Vec<(String, String, i64)>, GpkgError> {
    let rows = sqlx::query(
        "SELECT c.table_name, g.column_name, g.srs_id FROM gpkg_contents c \
         JOIN gpkg_geometry_columns g ON g.table_name = c.table_name \
         WHERE c.data_type = 'features' ORDER BY c.table_name",
    )
    .fetch_all(&mut *conn)
    .await
    .map_err(|_| {
        GpkgError::Format(
            "is not a GeoPackage (no gpkg_contents and gpkg_geometry_columns tables)".into(),
        )
    })?;
    Ok(rows
        .iter()
        .map(|r| {
            (
                r.get::<String, _>(0),
                r.get::<String, _>(1),
                r.get::<i64, _>(2),
            )
        })
        .collect())
}

/// Which EPSG code a table's SRS is.
async fn crs_of(conn: &mut SqliteConnection, srs_id: i64) -> Result<GpkgCrs, GpkgError> {
    let row = sqlx::query(
        "SELECT organization, organization_coordsys_id, srs_name FROM gpkg_spatial_ref_sys WHERE srs_id = ?",
    )
    .bind(srs_id)
    .fetch_optional(&mut *conn)
    .await?;
    let (org, code, name) = match &row {
        Some(r) => (
            r.get::<String, _>(0),
            r.get::<i64, _>(1),
            r.get::<String, _>(2),
        ),
        None => (String::new(), srs_id, String::new()),
    };
    match (org.to_ascii_uppercase().as_str(), code) {
        ("EPSG" | "", 4326) => Ok(GpkgCrs::Wgs84),
        ("EPSG" | "", 3006) => Ok(GpkgCrs::Sweref99Tm),
        _ => Err(GpkgError::Format(format!(
            "the table's coordinates are in {org}:{code} ({name}); lagesbild reads EPSG:4326 and EPSG:3006 — reproject with `ogr2ogr -t_srs EPSG:3006 out.gpkg in.gpkg`"
        ))),
    }
}

fn cell(row: &SqliteRow, i: usize) -> Option<Value> {
    let raw = row.try_get_raw(i).ok()?;
    if raw.is_null() {
        return None;
    }
    match raw.type_info().name() {
        "INTEGER" | "BOOLEAN" => row.try_get::<i64, _>(i).ok().map(Value::from),
        "REAL" => row
            .try_get::<f64, _>(i)
            .ok()
            .and_then(|f| serde_json::Number::from_f64(f).map(Value::Number)),
        "TEXT" | "DATETIME" | "DATE" => row.try_get::<String, _>(i).ok().map(Value::from),
        _ => None,
    }
}

/// Reads one feature table of the GeoPackage at `path`: `table` names it, or the file must hold
/// exactly one.
///
/// # Errors
/// Not a GeoPackage, no such table (the tables are named), an SRS other than EPSG:4326 or
/// EPSG:3006; a geometry that cannot be read is reported per row by the caller instead.
pub async fn read_table(
    path: &Path,
    table: Option<&str>,
) -> Result<(GpkgTable, Vec<(i64, String)>), GpkgError> {
    let mut conn = SqliteConnectOptions::new()
        .filename(path)
        .read_only(true)
        .connect()
        .await?;
    let tables = feature_tables(&mut conn).await?;
    let names: Vec<&str> = tables.iter().map(|t| t.0.as_str()).collect();
    let chosen = match table {
        Some(t) => tables.iter().find(|x| x.0 == t).ok_or_else(|| {
            GpkgError::Format(format!(
                "has no feature table '{t}'; its feature tables are {}",
                names.join(", ")
            ))
        })?,
        None => match tables.as_slice() {
            [one] => one,
            [] => return Err(GpkgError::Format("has no feature tables".into())),
            _ => {
                return Err(GpkgError::Format(format!(
                    "has several feature tables ({}); name one with --source-layer",
                    names.join(", ")
                )));
            }
        },
    };
    let (name, geom_col, srs_id) = chosen.clone();
    let crs = crs_of(&mut conn, srs_id).await?;
    // The table name comes from the file; it is quoted as an identifier.
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT rowid AS \"__fid\", * FROM {}",
        quoted(&name)
    )))
    .fetch_all(&mut conn)
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    let mut bad = Vec::new();
    for row in &rows {
        let fid: i64 = row.try_get(0).unwrap_or_default();
        let mut properties = Map::new();
        let mut geometry = None;
        for (i, col) in row.columns().iter().enumerate().skip(1) {
            let n = col.name();
            if n == geom_col {
                if let Ok(blob) = row.try_get::<Option<Vec<u8>>, _>(i) {
                    match blob.as_deref().map(decode_geometry) {
                        Some(Ok(g)) => geometry = g,
                        Some(Err(e)) => bad.push((fid, e)),
                        None => {}
                    }
                }
            } else if n.eq_ignore_ascii_case("fid") || n.eq_ignore_ascii_case("ogc_fid") {
                // The table's own key, not a property.
            } else if let Some(v) = cell(row, i) {
                properties.insert(n.to_ascii_lowercase(), v);
            }
        }
        out.push(GpkgRow {
            fid,
            properties,
            geometry,
        });
    }
    conn.close().await?;
    Ok((
        GpkgTable {
            name,
            crs,
            rows: out,
        },
        bad,
    ))
}

/// A column of a table to write: its name and SQLite type.
#[derive(Debug, Clone)]
pub struct OutColumn {
    /// The name.
    pub name: String,
    /// `TEXT`, `INTEGER`, `REAL`, `BOOLEAN`, `DATETIME` or `DATE`.
    pub sql_type: &'static str,
}

/// The column type for a property's JSON Schema.
#[must_use]
pub fn sql_type(schema: &Value) -> &'static str {
    let ty = match &schema["type"] {
        Value::String(s) => Some(s.as_str()),
        Value::Array(a) => a.iter().filter_map(Value::as_str).find(|t| *t != "null"),
        _ => None,
    };
    match (ty, schema["format"].as_str()) {
        (Some("integer"), _) => "INTEGER",
        (Some("number"), _) => "REAL",
        (Some("boolean"), _) => "BOOLEAN",
        (Some("string"), Some("date-time")) => "DATETIME",
        (Some("string"), Some("date")) => "DATE",
        _ => "TEXT",
    }
}

/// Writes a GeoPackage at `path` (which must not exist) with one feature table `table`: the
/// features of a GeoJSON FeatureCollection (WGS84), with `columns` (plus `id`), in `crs`.
///
/// # Errors
/// SQLite failures, a geometry that cannot be encoded or reprojected.
pub async fn write_table(
    path: &Path,
    table: &str,
    title: &str,
    columns: &[OutColumn],
    features: &[Value],
    crs: GpkgCrs,
) -> Result<usize, GpkgError> {
    let mut conn = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .connect()
        .await?;
    let srs_id: i32 = match crs {
        GpkgCrs::Wgs84 => 4326,
        GpkgCrs::Sweref99Tm => 3006,
    };
    let transform = match crs {
        GpkgCrs::Wgs84 => None,
        GpkgCrs::Sweref99Tm => Some(
            crate::domain::crs::Sweref99Tm::new().map_err(|e| GpkgError::Format(e.to_string()))?,
        ),
    };
    let mut tx = conn.begin().await?;
    for stmt in [
        "PRAGMA application_id = 1196444487",
        "PRAGMA user_version = 10300",
        "CREATE TABLE gpkg_spatial_ref_sys (srs_name TEXT NOT NULL, srs_id INTEGER NOT NULL PRIMARY KEY, organization TEXT NOT NULL, organization_coordsys_id INTEGER NOT NULL, definition TEXT NOT NULL, description TEXT)",
        "CREATE TABLE gpkg_contents (table_name TEXT NOT NULL PRIMARY KEY, data_type TEXT NOT NULL, identifier TEXT UNIQUE, description TEXT DEFAULT '', last_change DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')), min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE, srs_id INTEGER, CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id))",
        "CREATE TABLE gpkg_geometry_columns (table_name TEXT NOT NULL, column_name TEXT NOT NULL, geometry_type_name TEXT NOT NULL, srs_id INTEGER NOT NULL, z TINYINT NOT NULL, m TINYINT NOT NULL, CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name), CONSTRAINT fk_gc_tn FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name), CONSTRAINT fk_gc_srs FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys (srs_id))",
    ] {
        sqlx::query(stmt).execute(&mut *tx).await?;
    }
    for (name, id, org_id, def, desc) in [
        (
            "Undefined cartesian SRS",
            -1,
            -1,
            "undefined",
            "undefined cartesian coordinate reference system",
        ),
        (
            "Undefined geographic SRS",
            0,
            0,
            "undefined",
            "undefined geographic coordinate reference system",
        ),
        (
            "WGS 84 geodetic",
            4326,
            4326,
            WKT_4326,
            "longitude/latitude coordinates in decimal degrees on the WGS 84 spheroid",
        ),
        (
            "SWEREF99 TM",
            3006,
            3006,
            WKT_3006,
            "SWEREF 99 TM, the Swedish national grid (metres)",
        ),
    ] {
        let org = if id > 0 { "EPSG" } else { "NONE" };
        sqlx::query("INSERT INTO gpkg_spatial_ref_sys VALUES (?, ?, ?, ?, ?, ?)")
            .bind(name)
            .bind(id)
            .bind(org)
            .bind(org_id)
            .bind(def)
            .bind(desc)
            .execute(&mut *tx)
            .await?;
    }
    let mut defs = vec![
        "fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL".to_owned(),
        "geom GEOMETRY".to_owned(),
        "id TEXT".to_owned(),
    ];
    defs.extend(
        columns
            .iter()
            .map(|c| format!("{} {}", quoted(&c.name), c.sql_type)),
    );
    // Names are the layer's and its properties', quoted as identifiers.
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "CREATE TABLE {} ({})",
        quoted(table),
        defs.join(", ")
    )))
    .execute(&mut *tx)
    .await?;
    let placeholders = vec!["?"; columns.len() + 2].join(", ");
    let names: Vec<String> = std::iter::once("geom".to_owned())
        .chain(std::iter::once("id".to_owned()))
        .chain(columns.iter().map(|c| quoted(&c.name)))
        .collect();
    let insert = format!(
        "INSERT INTO {} ({}) VALUES ({placeholders})",
        quoted(table),
        names.join(", ")
    );
    let mut bounds: Option<[f64; 4]> = None;
    for f in features {
        let geometry = match geojson::Geometry::from_json_value(f["geometry"].clone())
            .ok()
            .and_then(|g| Geometry::<f64>::try_from(g).ok())
        {
            None => None,
            Some(mut g) => {
                if let Some(t) = &transform {
                    g = t
                        .geometry_from_wgs84(&g)
                        .map_err(|e| GpkgError::Format(e.to_string()))?;
                }
                if let Some(r) = g.bounding_rect() {
                    let b = bounds.get_or_insert([f64::MAX, f64::MAX, f64::MIN, f64::MIN]);
                    *b = [
                        b[0].min(r.min().x),
                        b[1].min(r.min().y),
                        b[2].max(r.max().x),
                        b[3].max(r.max().y),
                    ];
                }
                Some(encode_geometry(&g, srs_id).map_err(GpkgError::Format)?)
            }
        };
        let mut q = sqlx::query(sqlx::AssertSqlSafe(insert.clone()))
            .bind(geometry)
            .bind(f["id"].as_str().map(str::to_owned));
        for c in columns {
            let v = &f["properties"][c.name.as_str()];
            q = match (v, c.sql_type) {
                (Value::Null, _) => q.bind(None::<String>),
                (Value::Bool(b), _) => q.bind(i64::from(*b)),
                (Value::Number(n), "INTEGER") => q.bind(n.as_i64()),
                (Value::Number(n), _) => q.bind(n.as_f64()),
                (Value::String(s), _) => q.bind(s.clone()),
                (other, _) => q.bind(other.to_string()),
            };
        }
        q.execute(&mut *tx).await?;
    }
    let b = bounds.unwrap_or([0.0; 4]);
    sqlx::query("INSERT INTO gpkg_contents (table_name, data_type, identifier, description, min_x, min_y, max_x, max_y, srs_id) VALUES (?, 'features', ?, '', ?, ?, ?, ?, ?)")
        .bind(table)
        .bind(title)
        .bind(b[0])
        .bind(b[1])
        .bind(b[2])
        .bind(b[3])
        .bind(srs_id)
        .execute(&mut *tx)
        .await?;
    sqlx::query("INSERT INTO gpkg_geometry_columns VALUES (?, 'geom', 'GEOMETRY', ?, 0, 0)")
        .bind(table)
        .bind(srs_id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    conn.close().await?;
    Ok(features.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blobs_round_trip() {
        let g = Geometry::Point(geo::Point::new(17.84, 59.24));
        let blob = encode_geometry(&g, 4326).unwrap();
        assert_eq!(&blob[..2], b"GP");
        assert_eq!(decode_geometry(&blob).unwrap(), Some(g));
        assert!(decode_geometry(b"XX000000").is_err());
    }
}
