//! Every query parameter typed as its parser reads it (`index::params`, `api::analysis`,
//! `briefing::request`, …): the value lists from the domain's enums, the ranges from the
//! constants the parsers check. Rules between parameters, or between values of one parameter
//! (a south edge north of the north edge), are said in the description: no schema can state
//! them, and breaking one is 400 naming the parameter.

use serde_json::{Value, json};

use crate::config::Settings;
use crate::domain::Layer;
use crate::domain::crs::Crs;
use crate::domain::geometry::GeometryKind;
use crate::domain::incident::IncidentCategory;
use crate::index::params::MAX_DISTANCE_M;

/// A comma-separated list of `values` (OpenAPI `style: form, explode: false`).
fn list(values: &[&str], min_items: u64, description: &str) -> (Value, Option<&'static str>) {
    (
        json!({"type": "array", "minItems": min_items, "items": {"type": "string", "enum": values}, "description": description}),
        Some("list"),
    )
}

fn integer(min: i64, max: Option<i64>, default: Option<i64>) -> Value {
    let mut s = json!({"type": "integer", "minimum": min});
    if let Some(m) = max {
        s["maximum"] = json!(m);
    }
    if let Some(d) = default {
        s["default"] = json!(d);
    }
    s
}

fn number(min: f64, max: f64, default: Option<f64>) -> Value {
    let mut s = json!({"type": "number", "minimum": min, "maximum": max});
    if let Some(d) = default {
        s["default"] = json!(d);
    }
    s
}

fn rfc3339() -> Value {
    json!({"type": "string", "format": "date-time", "description": "An RFC 3339 instant, e.g. 2026-11-23T08:00:00Z (write + as %2B)"})
}

fn date() -> Value {
    json!({"type": "string", "format": "date", "description": "A day, YYYY-MM-DD"})
}

fn bbox() -> (Value, Option<&'static str>) {
    (
        json!({
            "type": "array", "minItems": 4, "maxItems": 4,
            "prefixItems": [
                {"type": "number", "minimum": -180, "maximum": 180},
                {"type": "number", "minimum": -90, "maximum": 90},
                {"type": "number", "minimum": -180, "maximum": 180},
                {"type": "number", "minimum": -90, "maximum": 90},
            ],
            "items": {"type": "number"},
            "description": "min_lon,min_lat,max_lon,max_lat in WGS84 degrees; the west edge not east of the east edge, the south edge not north of the north edge (a box across the antimeridian is not offered)",
        }),
        Some("list"),
    )
}

/// A calendar day: months of 28, 30 and 31 days (29 February is read in leap years too; this
/// pattern leaves it out).
const DAY: &str = "[0-9]{4}-((0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])|(0[13-9]|1[0-2])-(29|30)|(0[13578]|1[02])-31)";

/// An RFC 3339 instant as the server reads it.
fn instant() -> String {
    format!(
        "{DAY}[Tt ]([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\\.[0-9]+)?([Zz]|[+-]([01][0-9]|2[0-3]):[0-5][0-9])"
    )
}

/// `bbox` where `bbox-crs` is offered: the CRS84 form or the SWEREF 99 TM one (northing,
/// easting in metres, in Sweden), which `bbox-crs` names.
fn bbox_either_crs() -> (Value, Option<&'static str>) {
    use crate::domain::crs::{SWEREF_EASTING as E, SWEREF_NORTHING as N};
    let (mut crs84, style) = bbox();
    let n = json!({"type": "number", "minimum": N.0, "maximum": N.1});
    let e = json!({"type": "number", "minimum": E.0, "maximum": E.1});
    let sweref = json!({"prefixItems": [n, e, n, e]});
    let lonlat = json!({"prefixItems": crs84["prefixItems"].take()});
    if let Some(o) = crs84.as_object_mut() {
        o.remove("prefixItems");
    }
    crs84["oneOf"] = json!([lonlat, sweref]);
    crs84["description"] = json!(
        "min_lon,min_lat,max_lon,max_lat in WGS84 degrees; or, with bbox-crs=http://www.opengis.net/def/crs/EPSG/0/3006, min_northing,min_easting,max_northing,max_easting in metres. The first corner not east or north of the second"
    );
    (crs84, style)
}

fn datetime() -> Value {
    let one = format!("({}|{DAY})", instant());
    let end = format!("({one}|\\.\\.)");
    json!({
        "type": "string",
        "pattern": format!("^({one}|{end}/{end}?|/{end})$"),
        "description": "An RFC 3339 instant, a date (YYYY-MM-DD: that whole UTC day), or an interval start/end of those, with '..' or nothing for an open end; the start not after the end",
    })
}

fn since() -> Value {
    let bounded = format!("({}|{DAY})", instant());
    json!({
        "type": "string",
        "pattern": format!("^{bounded}(/({bounded}|\\.\\.)?)?$"),
        "description": "From this instant or day on (an interval's start is used; its end, if any, not before it)",
    })
}

/// The schema of query parameter `name` of `method path` (for one collection's paths,
/// `layer`), and whether it is a comma list; `None` leaves the generated one.
fn schema_for(
    name: &str,
    path: &str,
    layer: Option<Layer>,
    settings: &Settings,
) -> Option<(Value, Option<&'static str>)> {
    let analysis = path.starts_with("/analysis/");
    let one = |v: Value| Some((v, None));
    match (name, path) {
        ("f", _) => {
            let values: &[&str] = if super::super::format::has_html(path) {
                &["json", "geojson", "html"]
            } else {
                &["json", "geojson"]
            };
            one(
                json!({"type": "string", "enum": values, "description": "json (or geojson) or html; without it, browsers get HTML where there is a page"}),
            )
        }
        ("bbox", p) if p.ends_with("/items") || p.ends_with("/aggregate") => {
            Some(bbox_either_crs())
        }
        ("bbox", _) => Some(bbox()),
        ("crs", _) => one(
            json!({"type": "string", "enum": Crs::URIS, "default": crate::domain::crs::CRS84_URI, "description": "The CRS of the answer's coordinates: CRS84 (longitude, latitude) or SWEREF 99 TM (EPSG:3006: northing, easting in metres, as EPSG orders them); Content-Crs says which"}),
        ),
        ("bbox-crs", _) => one(
            json!({"type": "string", "enum": Crs::URIS, "default": crate::domain::crs::CRS84_URI, "description": "The CRS of bbox; with SWEREF 99 TM the box is min_northing,min_easting,max_northing,max_easting in metres (only with bbox)"}),
        ),
        ("datetime", _) => one(datetime()),
        ("category", "/analysis/near-repeat-zones") => Some(list(
            IncidentCategory::NAMES,
            1,
            "Incident categories whose events open zones (default shooting,explosion)",
        )),
        ("category", p) if analysis || p.starts_with("/exports/") => Some(list(
            IncidentCategory::NAMES,
            0,
            "Incident categories, comma-separated",
        )),
        ("category", _) => layer.map(|l| {
            list(
                l.category_names(),
                0,
                &format!(
                    "Values of `{}`, comma-separated",
                    l.category_property().unwrap_or("category")
                ),
            )
        }),
        ("status", _) => layer.map(|l| list(l.status_names(), 0, "Statuses, comma-separated")),
        ("properties", _) => layer.map(|l| {
            let names = crate::domain::schema::exact_properties(l);
            let names: Vec<&str> = names.keys().map(String::as_str).collect();
            list(
                &names,
                0,
                "Only these properties in each feature (OGC API – Features Part 3); a name your role does not see is refused like an unknown one (see /collections/{id}/schema)",
            )
        }),
        ("filter", _) => one(json!({
            "type": "string", "minLength": 1,
            "description": "A CQL2 filter over the properties your role sees (see /collections/{id}/queryables): comparisons, LIKE, BETWEEN, IN, IS NULL, AND/OR/NOT, S_INTERSECTS and the other S_ functions on WKT, GeoJSON or BBOX, T_INTERSECTS and the other T_ functions on TIMESTAMP, DATE and INTERVAL; 400 naming the place of a mistake",
        })),
        ("filter-lang", _) => one(json!({"type": "string", "enum": ["cql2-text", "cql2-json", "cql-text"], "default": "cql2-text", "description": "The filter's encoding (only with filter); cql-text is the draft's name for cql2-text, which GDAL up to 3.6 (and QGIS with it) looks for before it sends a -where to the server"})),
        ("filter-crs", _) => one(json!({"type": "string", "enum": [crate::domain::crs::CRS84_URI], "default": crate::domain::crs::CRS84_URI, "description": "The CRS of the filter's geometries (only with filter)"})),
        ("sortby", _) => layer.map(|l| {
            let q = crate::filter::Queryables::from_schema(&crate::domain::schema::feature_schema(
                l,
                false,
                &[],
                "",
            ));
            let names: Vec<String> = q
                .names()
                .into_iter()
                .filter(|n| q.sortable(n))
                .flat_map(|n| [n.to_owned(), format!("-{n}")])
                .collect();
            let names: Vec<&str> = names.iter().map(String::as_str).collect();
            list(
                &names,
                1,
                "Queryables to order by, each optionally prefixed - (descending) or + (ascending, the default); missing values last, ties newest first",
            )
        }),
        ("skipGeometry", _) => one(json!({"type": "boolean", "default": false, "description": "true: features without geometry (null)"})),
        ("limit", p) if p.contains("/items") => one(json!({
            "type": "integer", "minimum": 0, "default": settings.default_limit,
            "description": format!("Page size; above {} the maximum is used (not an error); 0 answers only numberMatched, a count without features", settings.max_limit),
        })),
        ("limit", "/audit") => one(integer(
            1,
            Some(super::super::audit::MAX_AUDIT_LIMIT),
            Some(100),
        )),
        ("limit", "/meetings") => one(integer(
            1,
            Some(crate::service::meetings::MAX_MEETINGS),
            Some(50),
        )),
        ("offset", _) => one(integer(0, Some(100_000_000), Some(0))),
        ("near", _) => Some((
            json!({
                "type": "array", "minItems": 3, "maxItems": 3,
                "prefixItems": [
                    {"type": "number", "minimum": -180, "maximum": 180},
                    {"type": "number", "minimum": -90, "maximum": 90},
                    {"type": "number", "exclusiveMinimum": 0, "maximum": MAX_DISTANCE_M},
                ],
                "items": {"type": "number"},
                "description": "lon,lat,metres: features within that many metres of the point; not with bbox or intersects",
            }),
            Some("list"),
        )),
        ("intersects", _) => Some((
            {
                let mut g = crate::domain::schema::geometry_write_schema(
                    &[
                        GeometryKind::Point,
                        GeometryKind::LineString,
                        GeometryKind::MultiLineString,
                        GeometryKind::Polygon,
                        GeometryKind::MultiPolygon,
                    ],
                    crate::domain::geometry::GeometryLimits::default().max_positions,
                );
                g["description"] = json!(
                    "A GeoJSON geometry (URL-encoded JSON): features intersecting it; not with bbox or near. Rings must close and not cross themselves, a line needs two different positions (400 naming the place otherwise)"
                );
                g
            },
            Some("json"),
        )),
        ("distance", _) => one(
            json!({"type": "number", "exclusiveMinimum": 0, "maximum": MAX_DISTANCE_M, "description": "With intersects: metres around the geometry"}),
        ),
        ("by", "/analysis/hotspots") | ("by", _) => {
            one(json!({"type": "string", "enum": ["grid", "area"], "default": "grid"}))
        }
        ("area", _) => one(
            json!({"type": "string", "minLength": 1, "description": "The name of an area the role sees (see /collections/areas/items; 404 for another name); not with bbox"}),
        ),
        ("as_of", _) => one(rfc3339()),
        ("bandwidth", _) => one(number(50.0, 5000.0, None)),
        ("error_m", _) => one(number(0.0, 500.0, Some(83.0))),
        ("reach_m", _) => one(number(5.0, 500.0, Some(50.0))),
        ("sites", _) => one(integer(0, Some(20), Some(5))),
        ("cell", _) => one(number(10.0, 1000.0, None)),
        ("width", _) => one(integer(64, Some(2048), Some(1024))),
        ("band", "/analysis/emerging") => one(number(250.0, 5000.0, Some(500.0))),
        ("band", _) => one(
            json!({"type": "number", "minimum": 100, "maximum": 50000, "description": "Neighbourhood distance in metres: 250–5000 for by=grid (default 500), 100–50000 for by=area"}),
        ),
        ("permutations", _) => one(integer(0, Some(9999), Some(0))),
        ("seed", _) => {
            one(json!({"type": "integer", "minimum": 0, "maximum": u64::MAX, "default": 1}))
        }
        ("weeks", "/analysis/emerging") => one(integer(4, Some(26), Some(12))),
        ("weeks", "/analysis/backtest") => one(integer(4, Some(52), Some(52))),
        ("weeks", _) => one(integer(1, Some(26), Some(4))),
        ("week", _) => one(
            json!({"type": "string", "pattern": "^(19[0-9]{2}|[2-9][0-9]{3})-W(0[1-9]|[1-4][0-9]|5[0-3])$", "description": "An ISO week from 1900, e.g. 2026-W49 (W53 only in years that have one)"}),
        ),
        ("space", _) => one(number(10.0, 1000.0, Some(100.0))),
        ("space_bands" | "time_bands", _) => one(integer(1, Some(10), Some(3))),
        ("time", _) => one(number(1.0, 60.0, Some(14.0))),
        ("iterations", _) => one(integer(0, Some(9999), Some(999))),
        ("radius", _) => one(number(25.0, 1000.0, Some(100.0))),
        ("days", _) => one(integer(1, Some(60), Some(14))),
        ("since", _) => one(since()),
        ("from" | "to", _) => one(date()),
        ("period", _) => {
            one(json!({"type": "string", "pattern": crate::service::reports::PERIOD_PATTERN}))
        }
        ("layers", _) => Some(list(Layer::NAMES, 0, "Layers to draw, comma-separated")),
        ("pack", _) => Some((
            json!({"type": "array", "minItems": 1, "maxItems": 30, "items": {"type": "string", "minLength": 1}, "description": "Area names, one page each (PDF only; not with area or bbox)"}),
            Some("list"),
        )),
        ("paper", _) => one(json!({"type": "string", "enum": ["a4", "a3"], "default": "a4"})),
        ("orientation", _) => one(
            json!({"type": "string", "enum": ["landscape", "portrait"], "default": "landscape"}),
        ),
        ("dpi", _) => one(json!({"type": "string", "enum": ["150", "300"], "default": "150"})),
        ("routes", _) => Some((
            json!({"type": "array", "minItems": 1, "maxItems": crate::service::routes::MAX_ROUTES, "items": {"type": "string", "format": "uuid"}, "description": "Saved patrol routes' ids, comma-separated (with a drawn line, at most 10 routes in all)"}),
            Some("list"),
        )),
        ("route", _) => one(
            json!({"type": "string", "format": "uuid", "description": "A saved patrol route's id (404 for one your role cannot see)"}),
        ),
        ("line", _) => Some((
            {
                let mut g = crate::domain::schema::geometry_write_schema(
                    &[GeometryKind::LineString, GeometryKind::MultiLineString],
                    crate::domain::geometry::GeometryLimits::default().max_positions,
                );
                g["description"] = json!(
                    "A drawn route: a GeoJSON LineString (URL-encoded JSON) with two different positions at least, at most 50 km"
                );
                g
            },
            Some("json"),
        )),
        ("weekdays", _) => Some(list(
            crate::domain::patrol_route::Weekday::NAMES,
            1,
            "The drawn route's days, comma-separated (with start_time and end_time)",
        )),
        ("start_time" | "end_time", _) => one(
            json!({"type": "string", "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9]$", "description": "HH:MM, Swedish time (an end before the start runs past midnight); with weekdays"}),
        ),
        ("budget_m", _) => one(number(100.0, crate::service::suggestion::MAX_BUDGET_M, None)),
        ("date", _) => one(date()),
        _ => None,
    }
}

/// Types every query parameter of the document, and documents `f` on every read.
pub fn type_all(doc: &mut Value, settings: &Settings) {
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    for (path, item) in paths.iter_mut() {
        let Some(ops) = item.as_object_mut() else {
            continue;
        };
        for (method, op) in ops.iter_mut() {
            if method == "get" {
                let ps = op
                    .as_object_mut()
                    .map(|o| o.entry("parameters").or_insert_with(|| json!([])));
                if let Some(Value::Array(ps)) = ps
                    && !ps.iter().any(|p| p["name"] == "f")
                {
                    ps.push(json!({"name": "f", "in": "query", "required": false}));
                }
            }
            let Some(ps) = op.get_mut("parameters").and_then(Value::as_array_mut) else {
                continue;
            };
            for p in ps.iter_mut() {
                if p["in"] != "query" {
                    continue;
                }
                let layer = p["x-lagesbild-layer"]
                    .as_str()
                    .and_then(|l| l.parse::<Layer>().ok());
                let name = p["name"].as_str().unwrap_or_default().to_owned();
                if let Some((schema, style)) = schema_for(&name, path, layer, settings) {
                    if p.get("description").is_none()
                        && let Some(d) = schema.get("description")
                    {
                        p["description"] = d.clone();
                    }
                    if name == "bbox" && path == "/analysis/density.png" {
                        p["required"] = json!(true);
                    }
                    match style {
                        // A JSON value in the parameter (OpenAPI `content`, not `schema`).
                        Some("json") => {
                            if let Some(o) = p.as_object_mut() {
                                o.remove("schema");
                            }
                            p["content"] = json!({"application/json": {"schema": schema}});
                        }
                        Some(_) => {
                            p["schema"] = schema;
                            p["style"] = json!("form");
                            p["explode"] = json!(false);
                        }
                        None => p["schema"] = schema,
                    }
                }
                if let Some(o) = p.as_object_mut() {
                    o.remove("x-lagesbild-layer");
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_query_parameter_of_the_document_is_typed() {
        let doc = super::super::document(&Settings::default());
        for (path, item) in doc["paths"].as_object().expect("paths") {
            for (method, op) in item.as_object().expect("ops") {
                for p in op["parameters"].as_array().into_iter().flatten() {
                    if p["in"] == "query" {
                        let s = if p["content"].is_object() {
                            &p["content"]["application/json"]["schema"]
                        } else {
                            &p["schema"]
                        };
                        assert!(
                            s["type"].is_string() || s["enum"].is_array() || s["oneOf"].is_array(),
                            "{method} {path} {}: {s}",
                            p["name"]
                        );
                    }
                }
            }
        }
    }

    /// The patterns say what the parsers say: checked with a JSON Schema validator against
    /// the parsers on the edges.
    #[test]
    fn patterns_agree_with_the_parsers() {
        let s = Settings::default();
        let check = |name: &str, path: &str, value: &str| {
            let (schema, _) = schema_for(name, path, None, &s).expect("a schema");
            jsonschema::is_valid(&schema, &json!(value))
        };
        // (W53 in a year without one matches the pattern and is refused: a rule of the
        // calendar, said in the description.)
        for week in ["1899-W01", "1900-W01", "2026-W49", "2026-W54", "2020-W53"] {
            let parsed = crate::domain::time::parse_iso_week(week).is_ok();
            assert_eq!(check("week", "/meetings/agenda", week), parsed, "{week}");
        }
        for dt in [
            "2026-11-23T08:00:00Z",
            "2026-11-23",
            "2026-11-23/..",
            "../2026-11-23T08:00:00+01:00",
            "/2026-11-23",
            "..",
            "/",
            "2026-13-01",
            "2026-02-30",
            "yesterday",
        ] {
            let parsed = crate::domain::time::parse_datetime(dt).is_ok();
            assert_eq!(
                check("datetime", "/collections/incidents/items", dt),
                parsed,
                "{dt}"
            );
        }
        for p in ["2026", "2026-H2", "", "x".repeat(21).as_str(), "20 26"] {
            let parsed = crate::service::reports::check_period(p).is_ok();
            assert_eq!(check("period", "/x", p), parsed, "{p:?}");
        }
    }

    #[test]
    fn collection_paths_offer_their_own_values() {
        let doc = super::super::document(&Settings::default());
        let cat = |layer: &str| {
            doc["paths"][format!("/collections/{layer}/items")]["get"]["parameters"]
                .as_array()
                .expect("parameters")
                .iter()
                .find(|p| p["name"] == "category")
                .map(|p| p["schema"]["items"]["enum"].clone())
        };
        assert_eq!(cat("incidents").expect("incidents")[0], "car_fire");
        assert_eq!(cat("cameras").expect("cameras")[0], "municipality");
        assert!(cat("walks").is_none(), "walks have no categories");
    }
}
