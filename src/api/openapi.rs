//! The OpenAPI 3.1 document at `/api`, generated from the handlers (utoipa) and the layers'
//! Rust types, then made precise where a generic description would mislead a client or a
//! fuzzer:
//!
//! - one path per collection (`/collections/incidents/items`, …) as ldproxy and pygeoapi
//!   publish them, each with its own `category`/`status` values and its features' schemas for
//!   the bodies it takes and the answers it gives;
//! - every query parameter typed from the parser's rules ([`params`]);
//! - every status an operation can answer, with the problem body for errors.
//!
//! Rules between parameters (one of `bbox`/`near`/`intersects`; a south edge not north of the
//! north edge; an interval that ends after it starts) and the layers' rules JSON Schema cannot
//! state (a ring that closes; a date in the past; no personal data) are in the descriptions;
//! breaking them is 400 for parameters, 422 for bodies.

use serde_json::{Value, json};
use utoipa::OpenApi;

use crate::config::Settings;
use crate::domain::Layer;
use crate::domain::schema::{
    coarse_properties, exact_properties, feature_write_schema, geometry_schema,
};

mod params;

/// The media type of `/api`: OpenAPI 3.0, as OGC API – Features 1.0 (class `oas30`), GDAL and
/// OWSLib expect.
pub const MEDIA_TYPE: &str = "application/vnd.oai.openapi+json;version=3.0";

/// The media type of `/api/3.1`, the same document in OpenAPI 3.1 (JSON Schema 2020-12).
pub const MEDIA_TYPE_31: &str = "application/vnd.oai.openapi+json;version=3.1";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "lagesbild",
        description = "A shared situational picture (gemensam lägesbild) for municipalities and police, served as OGC API – Features. Errors are RFC 9457 application/problem+json. Every data endpoint needs a session (POST /auth/login sets an HttpOnly cookie; writes then need the X-CSRF-Token header from the login answer) or an API token (Authorization: Bearer lgb_…, made with `lagesbild token create`). What each role sees is decided by its grant per layer: none, aggregate (counts only), coarse (250 m cells; category, week, area) or exact.",
    ),
    paths(
        super::ogc::landing, super::ogc::conformance, super::ogc::openapi, super::ogc::openapi_31, super::ogc::health, super::ogc::collections, super::ogc::collection, super::ogc::collection_schema, super::ogc::collection_queryables,
        super::items::get_items, super::items::get_item,
        super::write::create_item, super::write::replace_item, super::write::patch_item, super::write::delete_item,
        super::aggregate::get_aggregate, super::analysis::get_density, super::analysis::get_density_png, super::analysis::get_hot_spots, super::analysis::get_emerging, super::analysis::get_near_repeat, super::analysis::get_zones, super::cameras::get_camera_views, super::cameras::get_camera_coverage, super::routes::get_route_score, super::routes::get_route_suggestion, super::dosage::get_patrol_plan, super::dosage::get_dosage, super::analysis::get_back_test, super::followup::get_follow_up, super::meetings::list, super::meetings::last, super::meetings::agenda, super::meetings::get_one, super::meetings::create, super::meetings::patch, super::meetings::close, super::events::events, super::briefing::get_briefing, super::briefing::get_lagesbild, super::reports::get_text, super::reports::put_text,
        super::tiles::tilesets, super::tiles::tileset, super::tiles::tile, super::tiles::tile_matrix_sets, super::tiles::tile_matrix_set,
        super::auth::login, super::auth::session, super::auth::logout, super::audit::get_audit, super::picture::get_picture,
    ),
    components(schemas(super::error::Problem, super::error::InvalidParam)),
    modifiers(&SecuritySchemes),
    security(("token" = []), ("session" = [])),
    tags(
        (name = "Capabilities", description = "What the server offers"),
        (name = "Data", description = "The layers' features, as the caller's grant allows"),
        (name = "Tiles", description = "OGC API – Tiles: each layer as Mapbox Vector Tiles in WebMercatorQuad, cut per request under the caller's grant"),
        (name = "Access", description = "Signing in and out; the audit log; the picture's digest"),
        (name = "Meetings", description = "The chiefs' meetings' records: open while held, then closed for good"),
        (name = "Analysis", description = "Kernel density, Getis-Ord Gi* hot spots and emerging hot spots of what the caller may see"),
    )
)]
struct ApiDoc;

/// Declares the two ways to sign in: an API token, or the session cookie.
struct SecuritySchemes;

impl utoipa::Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{
            ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme,
        };
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("An API token from `lagesbild token create` (lgb_…)"))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                super::auth::SESSION_COOKIE,
                "Set by POST /auth/login; writes also need the X-CSRF-Token header",
            ))),
        );
    }
}

/// The whole document, as served.
#[must_use]
pub fn document(settings: &Settings) -> Value {
    let mut doc = serde_json::to_value(ApiDoc::openapi()).unwrap_or(Value::Null);
    per_collection(&mut doc, settings);
    params::type_all(&mut doc, settings);
    type_path_params(&mut doc);
    complete_statuses(&mut doc);
    doc
}

/// The same document in OpenAPI 3.0 (what OGC API – Features 1.0's `oas30` class, GDAL and
/// OWSLib read): type lists become `nullable`, `const` a one-value `enum`, numeric exclusive
/// bounds the 3.0 booleans, and tuple positions (`prefixItems`) a plain list of numbers.
#[must_use]
pub fn document_30(settings: &Settings) -> Value {
    let mut doc = document(settings);
    doc["openapi"] = json!("3.0.3");
    if let Some(info) = doc.get_mut("info").and_then(Value::as_object_mut)
        && let Some(license) = info.get_mut("license").and_then(Value::as_object_mut)
    {
        license.remove("identifier");
    }
    for key in ["paths", "components"] {
        if let Some(v) = doc.get_mut(key) {
            downgrade(v);
        }
    }
    doc
}

/// Rewrites JSON Schema 2020-12 keywords OpenAPI 3.0 does not know, everywhere below `v`.
fn downgrade(v: &mut Value) {
    match v {
        Value::Object(m) => {
            if let Some(Value::Array(types)) = m.get("type").cloned() {
                let real: Vec<Value> = types.iter().filter(|t| *t != "null").cloned().collect();
                if real.len() < types.len() {
                    m.insert("nullable".into(), json!(true));
                }
                match real.as_slice() {
                    [one] => {
                        m.insert("type".into(), one.clone());
                    }
                    _ => {
                        m.remove("type");
                    }
                }
            } else if m.get("type") == Some(&json!("null")) {
                m.remove("type");
                m.insert("nullable".into(), json!(true));
                m.insert("enum".into(), json!([null]));
            }
            if let Some(c) = m.remove("const") {
                m.insert("enum".into(), json!([c]));
            }
            for (exclusive, bound) in [
                ("exclusiveMinimum", "minimum"),
                ("exclusiveMaximum", "maximum"),
            ] {
                if let Some(n) = m.get(exclusive).filter(|n| n.is_number()).cloned() {
                    m.insert(bound.into(), n);
                    m.insert(exclusive.into(), json!(true));
                }
            }
            if m.remove("prefixItems").is_some() {
                m.insert("items".into(), json!({"type": "number"}));
            }
            if let Some(Value::Array(examples)) = m.get("examples").cloned()
                && m.contains_key("type")
            {
                m.remove("examples");
                if let Some(first) = examples.into_iter().next() {
                    m.insert("example".into(), first);
                }
            }
            for k in ["$schema", "$id", "$comment"] {
                m.remove(k);
            }
            for (_, child) in m.iter_mut() {
                downgrade(child);
            }
        }
        Value::Array(a) => a.iter_mut().for_each(downgrade),
        _ => {}
    }
}

/// Path parameters: ids are UUIDs, report periods short codes.
fn type_path_params(doc: &mut Value) {
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    for item in paths.values_mut() {
        for op in item
            .as_object_mut()
            .into_iter()
            .flat_map(|o| o.values_mut())
        {
            for p in op
                .get_mut("parameters")
                .and_then(Value::as_array_mut)
                .into_iter()
                .flatten()
            {
                if p["in"] != "path" {
                    continue;
                }
                match p["name"].as_str() {
                    Some("featureId" | "meetingId") => {
                        p["schema"] = json!({"type": "string", "format": "uuid"});
                    }
                    Some("period") => {
                        p["schema"] = json!({"type": "string", "pattern": crate::service::reports::PERIOD_PATTERN});
                    }
                    Some("file") => {
                        p["schema"] =
                            json!({"type": "string", "enum": ["briefing.pdf", "briefing.png"]});
                    }
                    _ => {}
                }
            }
        }
    }
}

/// The schema of a problem body, by reference.
fn problem() -> Value {
    json!({"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}})
}

/// Replaces each `/collections/{collectionId}/…` path by one per layer.
fn per_collection(doc: &mut Value, settings: &Settings) {
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    let generic: Vec<String> = paths
        .keys()
        .filter(|k| k.contains("{collectionId}"))
        .cloned()
        .collect();
    for key in generic {
        let Some(item) = paths.remove(&key) else {
            continue;
        };
        for layer in Layer::ALL {
            let mut item = item.clone();
            if let Some(ops) = item.as_object_mut() {
                for (method, op) in ops.iter_mut() {
                    specialise(op, method, &key, *layer, settings);
                }
            }
            paths.insert(key.replace("{collectionId}", layer.as_str()), item);
        }
    }
}

/// One generic operation made into `layer`'s.
fn specialise(op: &mut Value, method: &str, path: &str, layer: Layer, settings: &Settings) {
    if let Some(id) = op.get("operationId").and_then(Value::as_str) {
        op["operationId"] = json!(format!("{id}_{layer}"));
    }
    if let Some(ps) = op.get_mut("parameters").and_then(Value::as_array_mut) {
        ps.retain(|p| p["name"] != "collectionId");
        // A layer without categories or statuses has no such filter (the parameter is refused).
        ps.retain(|p| {
            !(p["in"] == "query"
                && ((p["name"] == "category" && layer.category_property().is_none())
                    || (p["name"] == "status" && layer.status_names().is_empty())))
        });
        for p in ps.iter_mut() {
            p["x-lagesbild-layer"] = json!(layer.as_str());
        }
    }
    let title = layer.title();
    if let Some(summary) = op.get("summary").and_then(Value::as_str) {
        op["summary"] = json!(format!("{title}: {summary}"));
    }
    let max = settings.max_geometry_positions;
    let feature_out = json!({
        "type": "object",
        "required": ["type", "id", "geometry", "properties"],
        "properties": {
            "type": {"const": "Feature"},
            "id": {"type": "string", "format": "uuid"},
            "geometry": {"anyOf": [
                geometry_schema(layer.allowed_geometries()),
                {"type": "null", "description": "with skipGeometry=true"},
            ]},
            "properties": {"anyOf": [
                {"type": "object", "properties": exact_properties(layer), "description": "exact: the layer's fields (less those the role's grant hides) and the bookkeeping"},
                {"type": "object", "properties": coarse_properties(layer), "required": ["precision"], "description": "coarse: the centre of a 250 m cell, category, ISO week, area"},
            ]},
            "links": {"type": "array"},
        },
    });
    let is_items = path.ends_with("/items");
    let is_item = path.ends_with("/items/{featureId}");
    match method {
        "get" if is_items => {
            set_body(
                op,
                "200",
                "application/geo+json",
                json!({
                    "type": "object",
                    "required": ["type", "features", "numberMatched", "numberReturned", "links"],
                    "properties": {
                        "type": {"const": "FeatureCollection"},
                        "features": {"type": "array", "items": feature_out},
                        "numberMatched": {"type": "integer", "minimum": 0},
                        "numberReturned": {"type": "integer", "minimum": 0},
                        "timeStamp": {"type": "string", "format": "date-time"},
                        "links": {"type": "array"},
                    },
                }),
            );
        }
        "get" if is_item => set_body(op, "200", "application/geo+json", feature_out),
        "post" if is_items => {
            set_request(op, "application/geo+json", feature_write_schema(layer, max));
            set_body(op, "201", "application/geo+json", feature_out);
            op["responses"]["201"]["links"] =
                item_links(layer, &["get", "replace", "patch", "delete"]);
        }
        "put" if is_item => {
            set_request(op, "application/geo+json", feature_write_schema(layer, max));
            set_body(op, "200", "application/geo+json", feature_out);
            op["responses"]["200"]["links"] = item_links(layer, &["get", "patch", "delete"]);
        }
        "patch" if is_item => {
            set_request(
                op,
                "application/merge-patch+json",
                json!({
                    "type": "object",
                    "description": "A JSON Merge Patch (RFC 7396) of the feature: members to change, null to remove an optional one",
                    "properties": {
                        "geometry": crate::domain::schema::geometry_write_schema(layer.allowed_geometries(), max),
                        "properties": patch_properties(layer, max),
                    },
                    "additionalProperties": false,
                }),
            );
            set_body(op, "200", "application/geo+json", feature_out);
            op["responses"]["200"]["links"] = item_links(layer, &["get", "replace", "delete"]);
        }
        _ => {}
    }
}

/// OpenAPI links from a written feature to what can be done with it next: its id from the
/// answer's body, its version from the answer's `ETag` (so a client, or a fuzzer, can go on
/// to read, replace, patch and delete what it made).
fn item_links(layer: Layer, next: &[&str]) -> Value {
    let mut links = serde_json::Map::new();
    for n in next {
        let (name, operation) = match *n {
            "get" => ("Read", "get_item"),
            "replace" => ("Replace", "replace_item"),
            "patch" => ("Patch", "patch_item"),
            _ => ("Delete", "delete_item"),
        };
        let mut parameters = json!({"featureId": "$response.body#/id"});
        if *n != "get" {
            parameters["If-Match"] = json!("$response.header.ETag");
        }
        links.insert(
            name.to_owned(),
            json!({"operationId": format!("{operation}_{layer}"), "parameters": parameters}),
        );
    }
    Value::Object(links)
}

/// A merge patch's `properties`: any of the fields a feature is written with, none required.
fn patch_properties(layer: Layer, max: usize) -> Value {
    let mut p = feature_write_schema(layer, max)["properties"]["properties"].clone();
    if let Some(o) = p.as_object_mut() {
        o.remove("required");
    }
    p
}

fn set_request(op: &mut Value, media: &str, schema: Value) {
    op["requestBody"] = json!({"required": true, "content": {media: {"schema": schema}}});
}

fn set_body(op: &mut Value, status: &str, media: &str, schema: Value) {
    if op["responses"][status].is_null() {
        op["responses"][status] = json!({"description": "OK"});
    }
    op["responses"][status]["content"] = json!({media: {"schema": schema}});
}

/// The statuses every operation of a kind can answer, added where the handler's own list
/// leaves them out; each error with the problem body.
fn complete_statuses(doc: &mut Value) {
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    let refine_422 = format!(
        "A filter or sortby would be applied to more than {} features: narrow the request with bbox or datetime",
        crate::service::visibility::MAX_REFINED
    );
    for (path, item) in paths.iter_mut() {
        let Some(ops) = item.as_object_mut() else {
            continue;
        };
        for (method, op) in ops.iter_mut() {
            let public = op["security"] == json!([{}]);
            let has_path_param = path.contains('{');
            let has_body = op.get("requestBody").is_some();
            let mut add: Vec<(&str, &str)> = vec![
                (
                    "400",
                    "A query parameter is unknown, repeated with another value, or invalid; `errors` names it",
                ),
                (
                    "408",
                    "The request took too long and was stopped; nothing was changed",
                ),
                (
                    "414",
                    "The request line is over 8 KiB (a long intersects geometry: use a shorter one, or a bbox). Up to 64 KiB the body is problem+json; beyond that the HTTP layer refuses the request before it is read, with no body",
                ),
                (
                    "431",
                    "The request's headers are over 16 KiB (problem+json; over 64 KiB in all, refused by the HTTP layer with no body)",
                ),
                ("500", "Something failed on the server; nothing was changed"),
            ];
            if !public {
                add.push((
                    "401",
                    "Not signed in, or the token or session is no longer valid",
                ));
                add.push(("403", "The role may not do this (or, for writes from a session, the X-CSRF-Token header is missing)"));
            }
            let names_a_thing = op["parameters"].as_array().is_some_and(|ps| {
                ps.iter().any(|p| {
                    p["in"] == "query" && matches!(p["name"].as_str(), Some("area" | "pack"))
                })
            });
            if has_path_param || names_a_thing {
                add.push(("404", "Nothing at this path (or not visible to the role)"));
            }
            if method == "get" && path.ends_with("/items") {
                add.push(("422", refine_422.as_str()));
            }
            if path.starts_with("/analysis/") {
                add.push(("422", "The question is valid, but what the role sees cannot answer it (too few events, no area in the region); the body says what to change"));
            }
            if has_body {
                add.push(("413", "The body is over the size limit"));
                add.push(("415", "The body is not of a JSON media type"));
                add.push(("422", "The body breaks a rule; `errors` names every field"));
            }
            let if_match = op["parameters"]
                .as_array()
                .is_some_and(|ps| ps.iter().any(|p| p["name"] == "If-Match"));
            if if_match {
                add.push((
                    "412",
                    "The If-Match version is not the stored one: read it again",
                ));
                add.push(("428", "If-Match is missing (or *): send the ETag you read"));
            }
            let html_page = method == "get" && super::format::has_html(path);
            let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) else {
                continue;
            };
            if html_page && let Some(ok) = responses.get_mut("200") {
                let has_json = ok["content"]
                    .as_object()
                    .is_some_and(|c| c.keys().any(|k| k.contains("json")));
                if !has_json {
                    ok["content"]["application/json"] = json!({"schema": {"type": "object"}});
                }
                ok["content"]["text/html"] = json!({"schema": {"type": "string", "description": "A readable page (f=html, or a browser's Accept)"}});
            }
            for (status, description) in add {
                responses
                    .entry(status.to_owned())
                    .or_insert_with(|| json!({"description": description}));
            }
            for (status, r) in responses.iter_mut() {
                // 414 and 431 may come from the HTTP layer itself, without a body.
                if (status.starts_with('4') || status.starts_with('5'))
                    && !matches!(status.as_str(), "414" | "431")
                    && r.get("content").is_none()
                {
                    r["content"] = problem();
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_collection_has_its_own_paths_and_no_generic_one_is_left() {
        let doc = document(&Settings::default());
        let paths = doc["paths"].as_object().expect("paths");
        assert!(
            paths.keys().all(|k| !k.contains("{collectionId}")),
            "{:?}",
            paths.keys()
        );
        for layer in Layer::ALL {
            let items = &paths[&format!("/collections/{layer}/items")];
            assert!(
                items["get"].is_object() && items["post"].is_object(),
                "{layer}"
            );
            let body = &items["post"]["requestBody"]["content"]["application/geo+json"]["schema"];
            assert_eq!(body["properties"]["type"]["const"], "Feature", "{layer}");
        }
        assert_eq!(doc["openapi"], "3.1.0");
    }

    #[test]
    fn the_30_document_has_no_31_keywords() {
        let doc = document_30(&Settings::default());
        assert_eq!(doc["openapi"], "3.0.3");
        let text = doc.to_string();
        for keyword in [
            "\"prefixItems\"",
            "\"const\"",
            "\"$schema\"",
            "\"type\":[",
            "\"type\":\"null\"",
        ] {
            assert!(
                !text.contains(keyword),
                "{keyword} left in the 3.0 document"
            );
        }
        // Bounds kept: severity 1–5, a camera's exclusive range.
        assert!(
            text.contains("\"exclusiveMinimum\":true"),
            "exclusive bounds as 3.0 booleans"
        );
    }

    #[test]
    fn every_error_status_has_a_problem_body() {
        let doc = document(&Settings::default());
        for (path, item) in doc["paths"].as_object().expect("paths") {
            for (method, op) in item.as_object().expect("ops") {
                for (status, r) in op["responses"].as_object().expect("responses") {
                    // 414 and 431 may come from the HTTP layer, without a body.
                    if (status.starts_with('4') || status.starts_with('5'))
                        && !matches!(status.as_str(), "414" | "431")
                    {
                        assert!(
                            r["content"]["application/problem+json"].is_object(),
                            "{method} {path} {status}"
                        );
                    }
                }
            }
        }
    }
}
