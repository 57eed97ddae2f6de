//! JSON Schemas of the layers' features, generated from the Rust types (OGC API – Features
//! Part 5 style): what a client will find in `properties`, with types, enums, limits and which
//! geometry kinds a layer holds. Served at `/collections/{id}/schema` and used in the OpenAPI
//! document, so GIS clients can make their columns before they read a feature.

use serde_json::{Map, Value, json};
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::Schema;
use utoipa::{PartialSchema, ToSchema};

use super::area::Area;
use super::camera::Camera;
use super::geometry::GeometryKind;
use super::incident::Incident;
use super::layer::Layer;
use super::measure::Measure;
use super::patrol_route::PatrolRoute;
use super::risk_environment::RiskEnvironment;
use super::walk::Walk;

/// The JSON Schema dialect of the documents.
pub const DIALECT: &str = "https://json-schema.org/draft/2020-12/schema";

/// The properties of a layer's features as served at exact precision: the layer's own fields,
/// then the bookkeeping every feature carries, by name. Every one is
/// present in every feature (`null` when empty), so clients that infer columns from the first
/// features see them all.
#[must_use]
pub fn exact_properties(layer: Layer) -> Map<String, Value> {
    let mut props = own_properties(layer);
    for (name, schema) in bookkeeping(layer) {
        props.insert(name.to_owned(), schema);
    }
    props
}

/// The properties of a coarse feature (cell centre, category, ISO week, area).
#[must_use]
pub fn coarse_properties(layer: Layer) -> Map<String, Value> {
    let category = match layer.category_property() {
        Some(_) if !layer.category_names().is_empty() => json!({
            "type": ["string", "null"], "enum": with_null(layer.category_names()),
            "description": "The feature's category",
        }),
        _ => json!({"type": "null", "description": "This layer has no categories"}),
    };
    let week = if layer.temporal_properties().is_some() {
        json!({"type": ["string", "null"], "pattern": "^[0-9]{4}-W[0-9]{2}$", "description": "The ISO week it happened or began (e.g. 2026-W49)", "x-ogc-role": "primary-instant"})
    } else {
        json!({"type": "null", "description": "This layer has no time"})
    };
    let mut m = Map::new();
    m.insert("category".into(), category);
    m.insert("week".into(), week);
    m.insert(
        "area".into(),
        json!({"type": ["string", "null"], "description": "The area holding the cell's centre"}),
    );
    m.insert(
        "precision".into(),
        json!({"type": "string", "const": "coarse", "description": "The geometry is the centre of a grid cell, not a place"}),
    );
    m.insert(
        "cell_m".into(),
        json!({"type": "number", "description": "The grid cell's side in metres (SWEREF 99 TM)"}),
    );
    m
}

/// The JSON Schema (2020-12) of features as a caller sees them: `properties` (from
/// [`exact_properties`] less `hidden`, or [`coarse_properties`]), plus the geometry and id
/// with their OGC roles. `coarse` views always have Point geometries.
#[must_use]
pub fn feature_schema(layer: Layer, coarse: bool, hidden: &[String], id: &str) -> Value {
    let mut props = if coarse {
        coarse_properties(layer)
    } else {
        exact_properties(layer)
    };
    props.retain(|k, _| !hidden.iter().any(|h| h == k));
    let kinds: &[GeometryKind] = if coarse {
        &[GeometryKind::Point]
    } else {
        layer.allowed_geometries()
    };
    let required: Vec<&String> = props.keys().collect();
    json!({
        "$schema": DIALECT,
        "$id": id,
        "title": layer.title(),
        "description": layer.description(),
        "type": "object",
        "x-ogc-geometry-types": kinds.iter().map(|k| k.as_str()).collect::<Vec<_>>(),
        "properties": {
            "id": {"type": "string", "format": "uuid", "x-ogc-role": "id", "readOnly": true},
            "geometry": geometry_schema(kinds),
            "properties": {
                "type": "object",
                "properties": props,
                "required": required,
            },
        },
    })
}

/// The geometry member's schema: its kinds as Part 5 formats (`geometry-point`, …), one
/// alternative per kind when a layer mixes them.
#[must_use]
pub fn geometry_schema(kinds: &[GeometryKind]) -> Value {
    let one = |k: &GeometryKind| {
        json!({
            "format": format!("geometry-{}", k.as_str().to_ascii_lowercase()),
            "type": "object",
            "required": ["type", "coordinates"],
            "properties": {"type": {"const": k.as_str()}, "coordinates": {"type": "array"}},
        })
    };
    let mut g = if let [k] = kinds {
        one(k)
    } else {
        json!({"oneOf": kinds.iter().map(one).collect::<Vec<_>>()})
    };
    g["x-ogc-role"] = json!("primary-geometry");
    g["description"] = json!(format!(
        "GeoJSON geometry in WGS84 (CRS84) unless another crs is asked: {}",
        kinds
            .iter()
            .map(|k| k.as_str())
            .collect::<Vec<_>>()
            .join(" or ")
    ));
    g
}

/// The schema of the layer's own properties type (`Incident`, `Camera`, …), references inlined.
fn own_schema(layer: Layer) -> Value {
    match layer {
        Layer::Incidents => inlined::<Incident>(),
        Layer::RiskEnvironments => inlined::<RiskEnvironment>(),
        Layer::Cameras => inlined::<Camera>(),
        Layer::PatrolRoutes => inlined::<PatrolRoute>(),
        Layer::Walks => inlined::<Walk>(),
        Layer::Areas => inlined::<Area>(),
        Layer::Measures => inlined::<Measure>(),
    }
}

/// The layer's own fields, from the Rust type's schema with references inlined.
fn own_properties(layer: Layer) -> Map<String, Value> {
    let schema = own_schema(layer);
    let mut props = match schema.get("properties") {
        Some(Value::Object(m)) => m.clone(),
        _ => Map::new(),
    };
    if let Some((start, _)) = layer.temporal_properties()
        && let Some(p) = props.get_mut(start)
    {
        p["x-ogc-role"] = json!("primary-instant");
    }
    props
}

/// The schema of `T` as JSON, with every `$ref` to another component replaced by its schema.
#[must_use]
pub fn inlined<T: ToSchema>() -> Value {
    let mut refs: Vec<(String, RefOr<Schema>)> = Vec::new();
    T::schemas(&mut refs);
    let components: Map<String, Value> = refs
        .into_iter()
        .filter_map(|(name, s)| serde_json::to_value(s).ok().map(|v| (name, v)))
        .collect();
    let mut root = serde_json::to_value(T::schema()).unwrap_or(Value::Null);
    inline_refs(&mut root, &components, 0);
    root
}

fn inline_refs(v: &mut Value, components: &Map<String, Value>, depth: usize) {
    const PREFIX: &str = "#/components/schemas/";
    match v {
        Value::Object(m) => {
            if let Some(Value::String(r)) = m.get("$ref")
                && let Some(target) = r.strip_prefix(PREFIX).and_then(|n| components.get(n))
                && depth < 16
            {
                let mut target = target.clone();
                inline_refs(&mut target, components, depth + 1);
                m.remove("$ref");
                if let Value::Object(t) = target {
                    for (k, val) in t {
                        m.entry(k).or_insert(val);
                    }
                }
                return;
            }
            for val in m.values_mut() {
                inline_refs(val, components, depth);
            }
        }
        Value::Array(a) => {
            for val in a {
                inline_refs(val, components, depth);
            }
        }
        _ => {}
    }
}

/// The bookkeeping properties every exact feature carries (see `feature::PropertiesOut`).
fn bookkeeping(layer: Layer) -> Vec<(&'static str, Value)> {
    let mut b = vec![
        (
            "organisation",
            serde_json::to_value(super::text::label_schema()).unwrap_or(Value::Null),
        ),
        ("classification", {
            let mut c = serde_json::to_value(super::feature::Classification::schema())
                .unwrap_or(Value::Null);
            c["default"] = json!("internal");
            c["description"] = json!("How sensitive the feature is; a role's grant has a ceiling");
            c
        }),
        (
            "created_at",
            json!({"type": "string", "format": "date-time", "readOnly": true, "description": "When it was first stored"}),
        ),
        (
            "updated_at",
            json!({"type": "string", "format": "date-time", "readOnly": true, "description": "When it was last changed"}),
        ),
        (
            "created_by",
            json!({"type": "string", "readOnly": true, "description": "Who stored it first (account or integration)"}),
        ),
        (
            "version",
            json!({"type": "integer", "minimum": 1, "readOnly": true, "description": "Increases by one on every change; the ETag"}),
        ),
    ];
    if matches!(layer, Layer::RiskEnvironments | Layer::Cameras) {
        b.push((
            "stale",
            json!({"type": "boolean", "readOnly": true, "description": "Past its next review date"}),
        ));
    }
    b
}

fn with_null(names: &[&str]) -> Vec<Value> {
    names
        .iter()
        .map(|n| Value::String((*n).to_owned()))
        .chain([Value::Null])
        .collect()
}

/// The JSON Schema of a GeoJSON geometry of `kinds` as a client writes it: positions of two
/// or three numbers, longitude −180…180 and latitude −90…90, lines of two positions or more,
/// rings of four or more. (That a ring closes and does not cross itself, or that a line has two
/// different positions, no schema can say: those are 422 naming the place.)
#[must_use]
pub fn geometry_write_schema(kinds: &[GeometryKind], max_positions: usize) -> Value {
    let position = json!({
        "type": "array", "minItems": 2, "maxItems": 3,
        "prefixItems": [
            {"type": "number", "minimum": -180, "maximum": 180, "description": "longitude (WGS84)"},
            {"type": "number", "minimum": -90, "maximum": 90, "description": "latitude (WGS84)"},
        ],
        "items": {"type": "number"},
    });
    let line =
        json!({"type": "array", "minItems": 2, "maxItems": max_positions, "items": position});
    let ring =
        json!({"type": "array", "minItems": 4, "maxItems": max_positions, "items": position});
    let polygon = json!({"type": "array", "minItems": 1, "items": ring});
    let one = |k: &GeometryKind| {
        let coordinates = match k {
            GeometryKind::Point => position.clone(),
            GeometryKind::LineString => line.clone(),
            GeometryKind::MultiLineString => json!({"type": "array", "minItems": 1, "items": line}),
            GeometryKind::Polygon => polygon.clone(),
            GeometryKind::MultiPolygon => json!({"type": "array", "minItems": 1, "items": polygon}),
        };
        json!({
            "type": "object",
            "required": ["type", "coordinates"],
            "properties": {"type": {"const": k.as_str()}, "coordinates": coordinates},
        })
    };
    if let [k] = kinds {
        one(k)
    } else {
        json!({"oneOf": kinds.iter().map(one).collect::<Vec<_>>()})
    }
}

/// The JSON Schema of a feature of `layer` as a client sends it (POST and PUT): the layer's
/// own fields with what is required and nothing unknown, `organisation` and
/// `classification`. (The server-written properties a client read may be sent back and are
/// ignored; they are left out here, as a client need not send them.)
#[must_use]
pub fn feature_write_schema(layer: Layer, max_positions: usize) -> Value {
    let own = own_schema(layer);
    let mut props = match own.get("properties") {
        Some(Value::Object(m)) => m.clone(),
        _ => Map::new(),
    };
    let required: Vec<Value> = own
        .get("required")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for (name, mut schema) in bookkeeping(layer) {
        if name == "organisation" {
            schema["description"] =
                json!("The reporting organisation; default: the caller's (on PUT: the stored one)");
        }
        if name == "organisation" || name == "classification" {
            props.insert(name.to_owned(), schema);
        }
    }
    json!({
        "type": "object",
        "required": ["type", "geometry", "properties"],
        "properties": {
            "type": {"const": "Feature"},
            "id": {"type": ["string", "null"], "format": "uuid", "description": "Only administrators may choose the id"},
            "geometry": geometry_write_schema(layer.allowed_geometries(), max_positions),
            "properties": {
                "type": "object",
                "required": required,
                "properties": props,
                "additionalProperties": false,
            },
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_layer_has_typed_properties_without_dangling_references() {
        for layer in Layer::ALL {
            let props = exact_properties(*layer);
            assert!(props.len() > 6, "{layer}: {props:?}");
            let text = Value::Object(props.clone()).to_string();
            assert!(!text.contains("$ref"), "{layer}: {text}");
            for (name, schema) in &props {
                assert!(
                    schema.get("type").is_some() || schema.get("oneOf").is_some(),
                    "{layer}.{name} has no type: {schema}"
                );
            }
        }
    }

    #[test]
    fn incident_schema_says_what_the_rules_say() {
        let p = exact_properties(Layer::Incidents);
        assert_eq!(p["severity"]["minimum"], 1);
        assert_eq!(p["severity"]["maximum"], 5);
        assert_eq!(p["category"]["enum"].as_array().map(Vec::len), Some(9));
        assert_eq!(p["occurred_at"]["format"], "date-time");
        assert_eq!(p["occurred_at"]["x-ogc-role"], "primary-instant");
        let reference = p["reference"]["type"].as_array().expect("nullable");
        assert!(reference.contains(&json!("null")), "{reference:?}");
        assert_eq!(p["description"]["maxLength"], 2000);
    }

    #[test]
    fn mixed_geometry_kinds_are_declared_one_by_one() {
        let s = feature_schema(Layer::Incidents, false, &[], "x");
        let alts = s["properties"]["geometry"]["oneOf"]
            .as_array()
            .expect("oneOf");
        assert_eq!(alts.len(), 2);
        assert_eq!(s["x-ogc-geometry-types"], json!(["Point", "Polygon"]));
        let coarse = feature_schema(Layer::Incidents, true, &[], "x");
        assert_eq!(coarse["properties"]["geometry"]["format"], "geometry-point");
    }

    #[test]
    fn hidden_properties_are_left_out() {
        let s = feature_schema(Layer::Incidents, false, &["reference".to_owned()], "x");
        assert!(s["properties"]["properties"]["properties"]["reference"].is_null());
        assert!(
            !s["properties"]["properties"]["required"]
                .as_array()
                .expect("required")
                .contains(&json!("reference"))
        );
    }

    #[test]
    fn labels_match_what_the_rules_accept() {
        let label = serde_json::to_value(super::super::text::label_schema()).expect("json");
        let pattern = label["pattern"].as_str().expect("pattern");
        assert!(
            pattern.starts_with('^') && pattern.ends_with('$'),
            "{pattern}"
        );
        assert_eq!(label["minLength"], 1);
        assert_eq!(label["maxLength"], 200);
    }
}
