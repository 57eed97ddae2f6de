//! The OGC API – Features discovery resources: landing page, conformance, API document,
//! collections.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{Html, IntoResponse, Response};
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::auth::Caller;
use super::error::ApiError;
use super::extract::collection as parse_collection;
use super::format::Format;
use super::{AppState, GEOJSON, base_url};
use crate::domain::Layer;
use crate::domain::access::{Precision, Viewer};

/// The conformance classes this server implements.
pub const CONFORMANCE: &[&str] = &[
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
    "http://www.opengis.net/spec/cql2/1.0/conf/advanced-comparison-operators",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions-plus",
    "http://www.opengis.net/spec/cql2/1.0/conf/temporal-functions",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-json",
    "http://www.opengis.net/spec/ogcapi-records-1/1.0/conf/sorting",
    "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/create-replace-delete",
    "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/update",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/tileset",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/tilesets-list",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/geodata-tilesets",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/mvt",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/oas30",
];

/// The link relation to a collection's vector tilesets.
const TILESETS_VECTOR: &str = "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector";

/// The media type of JSON Schema documents.
pub const SCHEMA_JSON: &str = "application/schema+json";

const CRS84: &str = "http://www.opengis.net/def/crs/OGC/1.3/CRS84";

fn json_response(value: &Value) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        value.to_string(),
    )
        .into_response()
}

/// The landing page: JSON links for GIS clients, the map for browsers.
#[utoipa::path(get, path = "/", tag = "Capabilities", security(()),
    params(("f" = Option<String>, Query, description = "json or html; default by Accept")),
    responses((status = 200, description = "Links to the API document, conformance and collections (JSON), or the map (HTML)")))]
pub async fn landing(
    State(state): State<AppState>,
    headers: HeaderMap,
    format: Format,
) -> Response {
    if format == Format::Html
        && let Some(page) = state.web.text("index.html")
    {
        return Html(page).into_response();
    }
    let base = base_url(&state, &headers);
    json_response(&json!({
        "title": "lagesbild",
        "description": "Gemensam lägesbild: incidents, risk environments, cameras, night-patrol routes and areas.",
        "links": [
            {"rel": "self", "type": "application/json", "title": "This document", "href": format!("{base}/?f=json")},
            {"rel": "alternate", "type": "text/html", "title": "The map", "href": format!("{base}/?f=html")},
            {"rel": "service-desc", "type": super::openapi::MEDIA_TYPE, "title": "The API definition (OpenAPI 3.0)", "href": format!("{base}/api")},
            {"rel": "service-desc", "type": super::openapi::MEDIA_TYPE_31, "title": "The API definition (OpenAPI 3.1)", "href": format!("{base}/api/3.1")},
            {"rel": "conformance", "type": "application/json", "title": "Conformance classes", "href": format!("{base}/conformance")},
            {"rel": "data", "type": "application/json", "title": "The layers", "href": format!("{base}/collections")},
            {"rel": "http://www.opengis.net/def/rel/ogc/1.0/tiling-schemes", "type": "application/json", "title": "The tile matrix sets of the vector tiles", "href": format!("{base}/tileMatrixSets")},
        ]
    }))
}

/// The conformance classes implemented.
#[utoipa::path(get, path = "/conformance", tag = "Capabilities", security(()), responses((status = 200, description = "conformsTo")))]
pub async fn conformance(format: Format) -> Response {
    if format == Format::Html {
        return super::html::conformance(CONFORMANCE);
    }
    json_response(&json!({ "conformsTo": CONFORMANCE }))
}

/// The OpenAPI document, in 3.0 (what GDAL, OWSLib and the `oas30` conformance class read).
#[utoipa::path(get, path = "/api", tag = "Capabilities", security(()), responses((status = 200, description = "OpenAPI 3.0 document", content_type = "application/vnd.oai.openapi+json;version=3.0")))]
pub async fn openapi(State(state): State<AppState>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static(super::openapi::MEDIA_TYPE),
        )],
        super::openapi::document_30(&state.config).to_string(),
    )
        .into_response()
}

/// The same OpenAPI document in 3.1 (JSON Schema 2020-12: tuple positions, `const`, type lists).
#[utoipa::path(get, path = "/api/3.1", tag = "Capabilities", security(()), responses((status = 200, description = "OpenAPI 3.1 document", content_type = "application/vnd.oai.openapi+json;version=3.1")))]
pub async fn openapi_31(State(state): State<AppState>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static(super::openapi::MEDIA_TYPE_31),
        )],
        super::openapi::document(&state.config).to_string(),
    )
        .into_response()
}

/// Liveness, the back-end, and whether the database answers: `status` is `ok`, or `degraded`
/// while the database cannot be reached (reads of the picture go on; writes answer 503). The
/// answer is 200 either way: the server is alive and serving.
#[utoipa::path(get, path = "/health", tag = "Capabilities", security(()), responses((status = 200, description = "`{\"status\": \"ok\" | \"degraded\", \"store\": \"sqlite\" | \"postgis\", \"database\": \"reachable\" | \"unreachable\"}` (public, so it tells nothing about the data)")))]
pub async fn health(State(state): State<AppState>) -> Response {
    let down = state.service.database_down();
    json_response(&json!({
        "status": if down { "degraded" } else { "ok" },
        "store": state.service.store().kind(),
        "database": if down { "unreachable" } else { "reachable" },
    }))
}

fn collection_json(state: &AppState, viewer: &Viewer, base: &str, layer: Layer) -> Value {
    let precision = viewer.precision(layer);
    // Computed over what the viewer sees (a feature above its ceiling must not widen it), and
    // rounded below exact (see Service::layer_summary).
    let summary = state.service.layer_summary(viewer, layer);
    let bbox = summary.bbox.unwrap_or([-180.0, -90.0, 180.0, 90.0]);
    let visible = summary.count;
    let fmt = |t: i64| {
        OffsetDateTime::from_unix_timestamp(t)
            .ok()
            .and_then(|t| t.format(&Rfc3339).ok())
    };
    let mut c = json!({
        "id": layer.as_str(),
        "title": layer.title(),
        "description": layer.description(),
        "itemType": "feature",
        "crs": crate::domain::crs::Crs::URIS,
        "storageCrs": CRS84,
        "extent": {"spatial": {"bbox": [bbox], "crs": CRS84}},
        "links": [
            {"rel": "self", "type": "application/json", "href": format!("{base}/collections/{layer}")},
            {"rel": "items", "type": GEOJSON, "title": layer.title(), "href": format!("{base}/collections/{layer}/items")},
            {"rel": "http://www.opengis.net/def/rel/ogc/1.0/schema", "type": SCHEMA_JSON, "title": "The features' properties (JSON Schema)", "href": format!("{base}/collections/{layer}/schema")},
            {"rel": "describedby", "type": SCHEMA_JSON, "title": "The features' properties (JSON Schema)", "href": format!("{base}/collections/{layer}/schema")},
            {"rel": "http://www.opengis.net/def/rel/ogc/1.0/queryables", "type": SCHEMA_JSON, "title": "What filter and sortby may name", "href": format!("{base}/collections/{layer}/queryables")},
            // The draft's relation, which GDAL up to 3.6 follows.
            {"rel": "queryables", "type": "application/json", "title": "What filter and sortby may name", "href": format!("{base}/collections/{layer}/queryables")},
            {"rel": TILESETS_VECTOR, "type": "application/json", "title": "Vector tiles (OGC API – Tiles)", "href": format!("{base}/collections/{layer}/tiles")},
        ],
        "geometryTypes": layer.allowed_geometries().iter().map(|k| k.as_str()).collect::<Vec<_>>(),
        "numberOfFeatures": visible,
        "precision": precision,
    });
    if precision == Precision::Aggregate {
        c["itemType"] = json!("aggregate");
        c["links"] = json!([
            c["links"][0].clone(),
            {"rel": "aggregate", "type": GEOJSON, "href": format!("{base}/collections/{layer}/aggregate")},
            {"rel": TILESETS_VECTOR, "type": "application/json", "title": "Counted cells as vector tiles", "href": format!("{base}/collections/{layer}/tiles")},
        ]);
    }
    if let Some((start, end)) = layer.temporal_properties().and(summary.time) {
        c["extent"]["temporal"] = json!({"interval": [[fmt(start), fmt(end)]], "trs": "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian"});
    }
    if let Some(p) = layer.category_property() {
        c["categories"] = json!({"property": p, "values": layer.category_names()});
    }
    if !layer.status_names().is_empty() {
        c["statuses"] = json!(layer.status_names());
    }
    c
}

/// The layers the caller reads as features (coarse or exact), with extent and links; layers it
/// sees only as counts are under `countsOnly` (and linked), not as collections, so GIS clients
/// do not try to read their items.
#[utoipa::path(get, path = "/collections", tag = "Capabilities", responses((status = 200, description = "The collections")))]
pub async fn collections(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    format: Format,
) -> Response {
    let base = base_url(&state, &headers);
    let precision = |l: &&Layer| caller.viewer.precision(**l);
    // Feature collections only: a layer the role sees as counts has no items, and GIS clients
    // (GDAL, owslib, QGIS) fail on a collection they cannot read. Those are linked instead.
    let list: Vec<Value> = Layer::ALL
        .iter()
        .filter(|l| matches!(precision(l), Precision::Coarse | Precision::Exact))
        .map(|l| collection_json(&state, &caller.viewer, &base, *l))
        .collect();
    let counts_only: Vec<Value> = Layer::ALL
        .iter()
        .filter(|l| precision(l) == Precision::Aggregate)
        .map(|l| json!({"id": l.as_str(), "title": l.title(), "href": format!("{base}/collections/{l}/aggregate")}))
        .collect();
    let mut links = vec![
        json!({"rel": "self", "type": "application/json", "href": format!("{base}/collections")}),
    ];
    links.extend(counts_only.iter().map(|c| {
        json!({"rel": "related", "type": GEOJSON, "title": format!(
            "{} ({})",
            c["title"].as_str().unwrap_or_default(),
            crate::labels::value_label("aggregate").to_lowercase()
        ), "href": c["href"]})
    }));
    let doc = json!({
        "collections": list,
        "countsOnly": counts_only,
        "links": links,
    });
    if format == Format::Html {
        return super::html::collections(&doc);
    }
    json_response(&doc)
}

/// One layer's description.
#[utoipa::path(get, path = "/collections/{collectionId}", tag = "Capabilities",
    params(("collectionId" = String, Path, description = "The collection")),
    responses(
        (status = 200, description = "The collection"),
        (status = 404, description = "No such collection", body = super::error::Problem, content_type = "application/problem+json"),
    ))]
pub async fn collection(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    format: Format,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let layer = parse_collection(&id)?;
    if let Err(e) = state.service.precision(&caller.viewer, layer) {
        return Err(super::auth::audit_refusal(
            &state,
            &caller,
            &format!("GET /collections/{layer}"),
            e,
        )
        .await);
    }
    let c = collection_json(&state, &caller.viewer, &base_url(&state, &headers), layer);
    if format == Format::Html {
        return Ok(super::html::collection(&c));
    }
    Ok(json_response(&c))
}

/// The JSON Schema of one layer's features as the caller receives them (OGC API – Features
/// Part 5): every property with its type, enum and limits, which is always present (`null` when
/// empty), and the geometry kinds. Coarse roles get the coarse view's schema; hidden properties
/// are left out.
#[utoipa::path(get, path = "/collections/{collectionId}/schema", tag = "Capabilities",
    params(("collectionId" = String, Path, description = "The collection")),
    responses(
        (status = 200, description = "A JSON Schema (2020-12) of the features", content_type = "application/schema+json"),
        (status = 401, description = "Not signed in", body = super::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "The role has no access to the layer, or only counts", body = super::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such collection", body = super::error::Problem, content_type = "application/problem+json"),
    ))]
pub async fn collection_schema(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    schema_document(&state, &caller, &headers, &id, "schema").await
}

/// What `filter` (CQL2) and `sortby` may name in one layer, as the caller's role sees it (OGC
/// API – Features Part 3): the properties of its feature schema and `geometry`. A hidden
/// property is not there; coarse roles have category, week, area and the cell centre.
#[utoipa::path(get, path = "/collections/{collectionId}/queryables", tag = "Capabilities",
    params(("collectionId" = String, Path, description = "The collection")),
    responses(
        (status = 200, description = "A JSON Schema (2020-12) of the queryable properties", content_type = "application/schema+json"),
        (status = 401, description = "Not signed in", body = super::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "The role has no access to the layer, or only counts", body = super::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such collection", body = super::error::Problem, content_type = "application/problem+json"),
    ))]
pub async fn collection_queryables(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    schema_document(&state, &caller, &headers, &id, "queryables").await
}

/// The `schema` or `queryables` document of a collection for the caller.
async fn schema_document(
    state: &AppState,
    caller: &Caller,
    headers: &HeaderMap,
    id: &str,
    which: &str,
) -> Result<Response, ApiError> {
    let layer = parse_collection(id)?;
    let doc_id = format!("{}/collections/{layer}/{which}", base_url(state, headers));
    match state.service.feature_schema(&caller.viewer, layer, &doc_id) {
        Ok(schema) => {
            let doc = if which == "queryables" {
                crate::filter::Queryables::document(&schema, &doc_id)
            } else {
                schema
            };
            Ok((
                [(header::CONTENT_TYPE, HeaderValue::from_static(SCHEMA_JSON))],
                doc.to_string(),
            )
                .into_response())
        }
        Err(e) => Err(super::auth::audit_refusal(
            state,
            caller,
            &format!("GET /collections/{layer}/{which}"),
            e,
        )
        .await),
    }
}
