//! Reading features: `/collections/{id}/items` and `/collections/{id}/items/{featureId}`.

use std::io::Write as _;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::auth::{Caller, audit_refusal};
use super::error::ApiError;
use super::extract::{StrictQuery, collection, feature_id};
use super::format::Format;
use super::{AppState, GEOJSON, base_url};
use crate::domain::Layer;
use crate::domain::crs::Crs;
use crate::domain::geojson_out::Shape;
use crate::service::visibility::Shown;

pub use crate::index::params::{ItemsRequest, MAX_DISTANCE_M, QueryParams};

/// Query parameters of `/collections/{collectionId}/items`.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ItemsQuery {
    /// `min_lon,min_lat,max_lon,max_lat` in WGS84 degrees: features intersecting the box.
    pub bbox: Option<String>,
    /// An RFC 3339 instant, a date, or an interval `start/end` with `..` for an open end;
    /// matches the layer's time (incidents: `occurred_at`; risk environments: from `since`;
    /// walks: `started_at`–`ended_at`). Timeless layers ignore it.
    pub datetime: Option<String>,
    /// Page size, 1 to `max_limit` (default 100, max 10 000 unless configured).
    pub limit: Option<String>,
    /// How many matching features to skip (default 0).
    pub offset: Option<String>,
    /// Comma-separated categories (see the collection's `categories`).
    pub category: Option<String>,
    /// Comma-separated statuses (see the collection's `statuses`).
    pub status: Option<String>,
    /// `lon,lat,metres`: features within that many metres of the point (at most 50 000).
    pub near: Option<String>,
    /// A GeoJSON geometry (URL-encoded): features intersecting it, or within `distance` of it.
    pub intersects: Option<String>,
    /// With `intersects`: metres (at most 50 000) around the geometry, e.g. 100 m of a route.
    pub distance: Option<String>,
    /// The CRS of the answer's coordinates (OGC API – Features Part 2): CRS84 (default) or
    /// SWEREF 99 TM, `http://www.opengis.net/def/crs/EPSG/0/3006` (northing, easting in metres).
    pub crs: Option<String>,
    /// The CRS of `bbox`: CRS84 (default) or SWEREF 99 TM (then
    /// `min_northing,min_easting,max_northing,max_easting`).
    #[serde(rename = "bbox-crs")]
    #[param(rename = "bbox-crs")]
    pub bbox_crs: Option<String>,
    /// Comma-separated property names: only these in each feature's `properties` (OGC API –
    /// Features Part 3); names the role does not see are refused like unknown ones.
    pub properties: Option<String>,
    /// `true`: features without their geometry (`null`), e.g. for a table.
    #[serde(rename = "skipGeometry")]
    #[param(rename = "skipGeometry")]
    pub skip_geometry: Option<String>,
    /// A CQL2 filter (OGC API – Features Part 3) over the properties your role sees (see
    /// `/collections/{id}/queryables`), e.g. `severity >= 3 AND title LIKE 'Bil%'`.
    pub filter: Option<String>,
    /// `cql2-text` (default) or `cql2-json`.
    #[serde(rename = "filter-lang")]
    #[param(rename = "filter-lang")]
    pub filter_lang: Option<String>,
    /// The CRS of the filter's geometries: CRS84 only (the default).
    #[serde(rename = "filter-crs")]
    #[param(rename = "filter-crs")]
    pub filter_crs: Option<String>,
    /// Comma-separated queryables to order by, each `+` (ascending, default) or `-`
    /// (descending), e.g. `-severity,occurred_at`; missing values last.
    pub sortby: Option<String>,
}

/// Reads `filter`, `filter-lang`, `filter-crs` and `sortby` against the caller's queryables.
fn refinement(
    q: &ItemsQuery,
    queryables: &crate::filter::Queryables,
) -> Result<crate::filter::Refine, ApiError> {
    let lang = match q.filter_lang.as_deref() {
        None => crate::filter::Lang::Text,
        Some(l) => {
            crate::filter::Lang::parse(l).map_err(|e| ApiError::bad_param("filter-lang", e))?
        }
    };
    if let Some(c) = q.filter_crs.as_deref()
        && c != crate::domain::crs::CRS84_URI
    {
        return Err(ApiError::bad_param(
            "filter-crs",
            format!(
                "is '{c}'; filters take CRS84 longitude, latitude ({})",
                crate::domain::crs::CRS84_URI
            ),
        ));
    }
    if q.filter.is_none() && (q.filter_lang.is_some() || q.filter_crs.is_some()) {
        return Err(ApiError::bad_param(
            if q.filter_lang.is_some() {
                "filter-lang"
            } else {
                "filter-crs"
            },
            "goes with filter",
        ));
    }
    let filter = match &q.filter {
        None => None,
        Some(text) => {
            let e = crate::filter::Expr::parse(text, lang)
                .map_err(|e| ApiError::bad_param("filter", e))?;
            queryables
                .check(&e)
                .map_err(|e| ApiError::bad_param("filter", e))?;
            Some(e)
        }
    };
    let sort = match &q.sortby {
        None => Vec::new(),
        Some(s) => crate::filter::parse_sortby(s, queryables)
            .map_err(|e| ApiError::bad_param("sortby", e))?,
    };
    let text = q.filter.as_ref().map(|t| t.chars().take(500).collect());
    Ok(crate::filter::Refine { filter, text, sort })
}

/// What of each feature a request keeps (`properties`, `skipGeometry`).
#[derive(Debug, Default)]
struct Select {
    properties: Option<Vec<String>>,
    skip_geometry: bool,
}

impl Select {
    /// Reads the two parameters; `visible` are the property names the caller receives.
    fn read(q: &ItemsQuery, visible: &[String]) -> Result<Self, ApiError> {
        let skip_geometry = match q.skip_geometry.as_deref() {
            None | Some("false") => false,
            Some("true") => true,
            Some(other) => {
                return Err(ApiError::bad_param(
                    "skipGeometry",
                    format!("is '{other}'; write true or false"),
                ));
            }
        };
        let properties = match &q.properties {
            None => None,
            Some(list) => {
                let names: Vec<String> = list
                    .split(',')
                    .map(str::trim)
                    .filter(|n| !n.is_empty())
                    .map(str::to_owned)
                    .collect();
                if let Some(unknown) = names.iter().find(|n| !visible.contains(n)) {
                    return Err(ApiError::bad_param(
                        "properties",
                        format!(
                            "'{unknown}' is not a property you see in this collection; choose from {}",
                            visible.join(", ")
                        ),
                    ));
                }
                Some(names)
            }
        };
        Ok(Self {
            properties,
            skip_geometry,
        })
    }

    fn apply(&self, v: &mut serde_json::Value) {
        if self.skip_geometry {
            v["geometry"] = serde_json::Value::Null;
        }
        if let Some(keep) = &self.properties
            && let Some(props) = v
                .get_mut("properties")
                .and_then(serde_json::Value::as_object_mut)
        {
            props.retain(|k, _| keep.contains(k));
        }
    }
}

/// Query parameters of `/collections/{collectionId}/items/{featureId}`.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ItemQuery {
    /// The CRS of the answer's coordinates, as for items.
    pub crs: Option<String>,
}

/// The CRS asked by `crs`, CRS84 when absent.
///
/// # Errors
/// 400 naming `crs`.
pub fn output_crs(crs: Option<&str>) -> Result<Crs, ApiError> {
    crs.map_or(Ok(Crs::Crs84), |u| {
        Crs::from_uri(u).map_err(|e| ApiError::bad_param("crs", e))
    })
}

/// A feature's JSON in `crs`.
fn in_crs(shown: &Shown, crs: Crs, today: time::Date) -> Result<String, ApiError> {
    shaped(shown, crs, &Select::default(), today)
}

/// A feature's JSON in `crs`, with only what `select` keeps.
fn shaped(shown: &Shown, crs: Crs, select: &Select, today: time::Date) -> Result<String, ApiError> {
    let mut out = Vec::with_capacity(512);
    shaped_into(&mut out, shown, crs, select, today)?;
    String::from_utf8(out).map_err(ApiError::internal)
}

/// [`shaped`] appended to `out`.
fn shaped_into(
    out: &mut Vec<u8>,
    shown: &Shown,
    crs: Crs,
    select: &Select,
    today: time::Date,
) -> Result<(), ApiError> {
    let sweref = match crs {
        Crs::Crs84 => None,
        Crs::Sweref99Tm => Some(
            crate::domain::crs::sweref()
                .ok_or_else(|| ApiError::internal("SWEREF 99 TM is not available"))?,
        ),
    };
    let shape = Shape {
        sweref,
        skip_geometry: select.skip_geometry,
        keep: select.properties.as_deref(),
        hide: &[],
    };
    if shown
        .write_shaped(out, today, shape)
        .map_err(ApiError::internal)?
    {
        return Ok(());
    }
    shaped_value_into(out, shown, crs, select, today)
}

/// [`shaped_into`] the general way: the feature's JSON value, transformed and cut.
fn shaped_value_into(
    out: &mut Vec<u8>,
    shown: &Shown,
    crs: Crs,
    select: &Select,
    today: time::Date,
) -> Result<(), ApiError> {
    let mut v = shown.to_value(today).map_err(ApiError::internal)?;
    if crs == Crs::Sweref99Tm && !select.skip_geometry {
        let t = crate::domain::crs::sweref()
            .ok_or_else(|| ApiError::internal("SWEREF 99 TM is not available"))?;
        t.geometry_to_sweref(&mut v["geometry"])
            .map_err(ApiError::internal)?;
    }
    select.apply(&mut v);
    serde_json::to_writer(out, &v).map_err(ApiError::internal)
}

/// Features a page writes on the async thread; past this, it writes off it, in parts.
const PART: usize = 2_048;
/// Most features in one part: at about 470 bytes each, a part stays under jemalloc's 8 MiB
/// `oversize_threshold`, so its buffer comes from memory already mapped, not fresh pages
/// (faulting in 18 MB afresh was a fifth of a 40 000-feature page's time).
const MAX_PART: usize = 8_192;

/// Features whose texts a page's writer reads ahead together, before writing them.
const TOUCH_AHEAD: usize = 32;

/// Parts of a page with their places in it.
type Numbered = Vec<(usize, Vec<u8>)>;

/// `prefix`, then the page's features as comma-separated JSON, in one or more parts to be sent
/// one after another. A page of tens of thousands of features takes tens of milliseconds to
/// write: past [`PART`] features it is written off the async threads, cut into parts written
/// at once on the machine's cores. The parts are sent as they are, never copied into one buffer.
async fn features_json(
    prefix: &'static [u8],
    features: Vec<Shown>,
    crs: Crs,
    select: Select,
    today: time::Date,
) -> Result<Vec<Vec<u8>>, ApiError> {
    if features.len() <= PART {
        return Ok(vec![features_part(prefix, &features, crs, &select, today)?]);
    }
    tokio::task::spawn_blocking(move || {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(4));
        let per = features.len().div_ceil(threads).clamp(PART, MAX_PART);
        let chunks: Vec<&[Shown]> = features.chunks(per).collect();
        let threads = threads.min(chunks.len());
        // Thread t writes parts t, t + threads, t + 2 × threads, …
        let written: Vec<Result<Numbered, ApiError>> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..threads)
                .map(|t| {
                    let (chunks, select) = (&chunks, &select);
                    s.spawn(move || {
                        (t..chunks.len())
                            .step_by(threads)
                            .map(|i| {
                                let prefix: &[u8] = if i == 0 { prefix } else { b"," };
                                features_part(prefix, chunks[i], crs, select, today).map(|p| (i, p))
                            })
                            .collect()
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join()
                        .unwrap_or_else(|_| Err(ApiError::internal("a page's writer failed")))
                })
                .collect()
        });
        let mut parts: Vec<(usize, Vec<u8>)> = Vec::with_capacity(chunks.len());
        for w in written {
            parts.extend(w?);
        }
        parts.sort_unstable_by_key(|(i, _)| *i);
        Ok(parts.into_iter().map(|(_, p)| p).collect())
    })
    .await
    .map_err(ApiError::internal)?
}

/// `prefix`, then `features` as comma-separated JSON (room left for the page's end).
fn features_part(
    prefix: &[u8],
    features: &[Shown],
    crs: Crs,
    select: &Select,
    today: time::Date,
) -> Result<Vec<u8>, ApiError> {
    let mut out = Vec::with_capacity(prefix.len() + features.len() * 480 + 1024);
    out.extend_from_slice(prefix);
    for (b, block) in features.chunks(TOUCH_AHEAD).enumerate() {
        // The block's texts are fetched together first (see `Feature::touch`).
        std::hint::black_box(block.iter().fold(0u32, |s, f| s.wrapping_add(f.touch())));
        for (i, f) in block.iter().enumerate() {
            if b > 0 || i > 0 {
                out.push(b',');
            }
            shaped_into(&mut out, f, crs, select, today)?;
        }
    }
    Ok(out)
}

/// The `Content-Crs` header (OGC API – Features Part 2).
pub const CONTENT_CRS: HeaderName = HeaderName::from_static("content-crs");

/// `Content-Crs: <uri>` for a GeoJSON answer in `crs`.
#[must_use]
pub fn content_crs(crs: Crs) -> HeaderValue {
    HeaderValue::from_str(&format!("<{}>", crs.uri())).unwrap_or_else(|_| {
        HeaderValue::from_static("<http://www.opengis.net/def/crs/OGC/1.3/CRS84>")
    })
}

impl ItemsQuery {
    /// The parameters as the HTTP-free parser takes them.
    #[must_use]
    pub fn params(&self) -> QueryParams {
        QueryParams {
            bbox: self.bbox.clone(),
            datetime: self.datetime.clone(),
            limit: self.limit.clone(),
            offset: self.offset.clone(),
            category: self.category.clone(),
            status: self.status.clone(),
            near: self.near.clone(),
            intersects: self.intersects.clone(),
            distance: self.distance.clone(),
            bbox_crs: self.bbox_crs.clone(),
        }
    }

    /// Checks every parameter and turns them into a query.
    ///
    /// # Errors
    /// 400 naming the parameter.
    pub fn parse(
        &self,
        layer: Layer,
        default_limit: usize,
        max_limit: usize,
    ) -> Result<ItemsRequest, ApiError> {
        self.params()
            .parse(layer, default_limit, max_limit)
            .map_err(ApiError::invalid)
    }
}

/// The features of a collection, filtered and paged (RFC 7946 FeatureCollection).
#[utoipa::path(
    get,
    path = "/collections/{collectionId}/items",
    tag = "Data",
    params(("collectionId" = String, Path, description = "incidents, risk_environments, cameras, patrol_routes, walks, areas or measures"), ItemsQuery),
    responses(
        (status = 200, description = "A GeoJSON FeatureCollection with numberMatched, numberReturned and next/prev links", content_type = "application/geo+json"),
        (status = 400, description = "A parameter is invalid", body = super::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = super::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "The role has no access to the layer, or only counts", body = super::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such collection", body = super::error::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn get_items(
    State(state): State<AppState>,
    caller: Caller,
    Path(collection_id): Path<String>,
    headers: HeaderMap,
    uri: axum::http::Uri,
    format: Format,
    StrictQuery(query): StrictQuery<ItemsQuery>,
) -> Result<Response, ApiError> {
    let layer = collection(&collection_id)?;
    let req = query.parse(layer, state.config.default_limit, state.config.max_limit)?;
    // The pages draw their map in WGS84; the JSON follows `crs`.
    let crs = match format {
        Format::Html => Crs::Crs84,
        Format::Json => output_crs(query.crs.as_deref())?,
    };
    let raw_query = uri.query().unwrap_or("").to_owned();
    // `properties` may name what the caller's view holds (its schema), checked before the
    // read; a layer the role may not read is refused by the read itself, below.
    // `filter` and `sortby` likewise name only the caller's queryables.
    let (select, refine) = match state.service.feature_schema(&caller.viewer, layer, "") {
        Ok(schema) => {
            let visible: Vec<String> = schema["properties"]["properties"]["required"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect();
            (
                Select::read(&query, &visible)?,
                refinement(&query, &crate::filter::Queryables::from_schema(&schema))?,
            )
        }
        Err(_) => (Select::default(), crate::filter::Refine::default()),
    };
    let result = match state
        .service
        .read_items_refined(
            &caller.viewer,
            layer,
            &req.spatial,
            &req.filters,
            &refine,
            req.page,
        )
        .await
    {
        Ok(r) => r,
        Err(e) => {
            return Err(audit_refusal(
                &state,
                &caller,
                &format!("GET /collections/{layer}/items"),
                e,
            )
            .await);
        }
    };
    let now = OffsetDateTime::now_utc();
    let base = base_url(&state, &headers);
    let items_url = format!("{base}/collections/{layer}/items");
    let returned = result.features.len();

    let mut parts = features_json(
        b"{\"type\":\"FeatureCollection\",\"features\":[",
        result.features,
        crs,
        select,
        now.date(),
    )
    .await?;
    let mut body = Vec::with_capacity(1024);
    let _ = write!(
        body,
        "],\"numberMatched\":{},\"numberReturned\":{returned},\"timeStamp\":\"{}\",\"links\":[",
        result.matched,
        now.format(&Rfc3339).unwrap_or_default()
    );
    let link = |rel: &str, offset: usize| -> String {
        let pairs = page_query(&raw_query, offset, req.page.limit);
        let href = serde_json::to_string(&format!("{items_url}?{pairs}")).unwrap_or_default();
        format!("{{\"rel\":\"{rel}\",\"type\":\"application/geo+json\",\"href\":{href}}}")
    };
    let mut links = vec![link("self", req.page.offset)];
    // `limit=0` is a count: no page follows or precedes it.
    if req.page.limit > 0 && req.page.offset + returned < result.matched {
        links.push(link("next", req.page.offset + req.page.limit));
    }
    if req.page.limit > 0 && req.page.offset > 0 {
        links.push(link("prev", req.page.offset.saturating_sub(req.page.limit)));
    }
    links.push(format!(
        "{{\"rel\":\"collection\",\"type\":\"application/json\",\"href\":{}}}",
        serde_json::to_string(&format!("{base}/collections/{layer}")).unwrap_or_default()
    ));
    body.extend_from_slice(links.join(",").as_bytes());
    body.extend_from_slice(b"]}");
    parts.push(body);
    if format == Format::Html {
        let fc: serde_json::Value =
            serde_json::from_slice(&parts.concat()).map_err(ApiError::internal)?;
        // The alternative asks for JSON by name: a browser's Accept would get this page again.
        let json_href = format!(
            "/collections/{layer}/items?{}&f=json",
            page_query(&raw_query, req.page.offset, req.page.limit)
        );
        return Ok(super::html::items(
            layer.title(),
            layer.as_str(),
            &fc,
            req.page.offset as u64,
            &json_href,
        ));
    }
    let length = parts.iter().map(Vec::len).sum::<usize>();
    let body = axum::body::Body::from_stream(futures_util::stream::iter(
        parts
            .into_iter()
            .map(|p| Ok::<_, std::convert::Infallible>(bytes::Bytes::from(p))),
    ));
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(GEOJSON)),
            (CONTENT_CRS, content_crs(crs)),
            (header::CONTENT_LENGTH, HeaderValue::from(length)),
        ],
        body,
    )
        .into_response())
}

/// The query string for another page of the same request.
/// The client's query as it sent it — same order, same encoding — with `limit` and `offset`
/// set for another page (GDAL repeats its own parameters after ours; they must match).
fn page_query(raw: &str, offset: usize, limit: usize) -> String {
    let mut parts: Vec<String> = Vec::new();
    let (mut has_limit, mut has_offset) = (false, false);
    for pair in raw.split('&').filter(|p| !p.is_empty()) {
        let key = pair.split_once('=').map_or(pair, |(k, _)| k);
        if parts.iter().any(|p| p == pair) {
            continue;
        }
        match key {
            "limit" if !has_limit => {
                parts.push(format!("limit={limit}"));
                has_limit = true;
            }
            "offset" if !has_offset => {
                parts.push(format!("offset={offset}"));
                has_offset = true;
            }
            "limit" | "offset" => {}
            _ => parts.push(pair.to_owned()),
        }
    }
    if !has_limit {
        parts.push(format!("limit={limit}"));
    }
    if !has_offset {
        parts.push(format!("offset={offset}"));
    }
    parts.join("&")
}

/// One feature (RFC 7946 Feature) with its version as ETag.
#[utoipa::path(
    get,
    path = "/collections/{collectionId}/items/{featureId}",
    tag = "Data",
    params(
        ("collectionId" = String, Path, description = "The collection"),
        ("featureId" = String, Path, description = "The feature's UUID"),
        ItemQuery,
    ),
    responses(
        (status = 200, description = "The feature; ETag holds its version", content_type = "application/geo+json"),
        (status = 304, description = "Unchanged since the If-None-Match ETag"),
        (status = 401, description = "Not signed in", body = super::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "The role has no access to the layer, or only counts", body = super::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such collection or feature (a feature above the role's ceiling answers the same)", body = super::error::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn get_item(
    State(state): State<AppState>,
    caller: Caller,
    Path((collection_id, fid)): Path<(String, String)>,
    headers: HeaderMap,
    format: Format,
    StrictQuery(query): StrictQuery<ItemQuery>,
) -> Result<Response, ApiError> {
    let layer = collection(&collection_id)?;
    let id = feature_id(layer, &fid)?;
    let shown = match state.service.read_item(&caller.viewer, layer, id).await {
        Ok(s) => s,
        Err(e) => {
            return Err(audit_refusal(
                &state,
                &caller,
                &format!("GET /collections/{layer}/items/{id}"),
                e,
            )
            .await);
        }
    };
    if let Shown::Exact { feature, .. } = &shown {
        let etag = feature.etag();
        if headers
            .get(header::IF_NONE_MATCH)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.split(',').any(|t| t.trim() == etag))
        {
            return Ok((StatusCode::NOT_MODIFIED, [(header::ETAG, etag)]).into_response());
        }
    }
    if format == Format::Html {
        let value = shown
            .to_value(OffsetDateTime::now_utc().date())
            .map_err(ApiError::internal)?;
        return Ok(super::html::feature(layer.title(), layer.as_str(), &value));
    }
    let crs = output_crs(query.crs.as_deref())?;
    feature_response_in(
        StatusCode::OK,
        layer,
        &shown,
        &base_url(&state, &headers),
        crs,
    )
}

/// A feature as a GeoJSON response (CRS84); an exact one carries its version as ETag.
pub fn feature_response(
    status: StatusCode,
    layer: Layer,
    shown: &Shown,
    base: &str,
) -> Result<Response, ApiError> {
    feature_response_in(status, layer, shown, base, Crs::Crs84)
}

/// [`feature_response`] with coordinates in `crs`.
pub fn feature_response_in(
    status: StatusCode,
    layer: Layer,
    shown: &Shown,
    base: &str,
    crs: Crs,
) -> Result<Response, ApiError> {
    let mut value: serde_json::Value =
        serde_json::from_str(&in_crs(shown, crs, OffsetDateTime::now_utc().date())?)
            .map_err(ApiError::internal)?;
    let id = shown.id();
    value["links"] = serde_json::json!([
        {"rel": "self", "type": GEOJSON, "href": format!("{base}/collections/{layer}/items/{id}")},
        {"rel": "collection", "type": "application/json", "href": format!("{base}/collections/{layer}")},
    ]);
    let body = serde_json::to_vec(&value).map_err(ApiError::internal)?;
    let mut res = (
        status,
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(GEOJSON)),
            (CONTENT_CRS, content_crs(crs)),
        ],
        body,
    )
        .into_response();
    if let Shown::Exact { feature, .. } = shown
        && let Ok(v) = HeaderValue::from_str(&feature.etag())
    {
        res.headers_mut().insert(header::ETAG, v);
    }
    Ok(res)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // Test code: a failed unwrap is a failed test.

    use std::sync::Arc;

    use super::*;

    /// A page of many parts (more parts than threads, each thread writing every n-th) is the
    /// features written one after another, in order, with the prefix once.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_page_in_many_parts_is_the_features_in_order() {
        let as_of = time::macros::datetime!(2026-11-23 12:00 UTC);
        let n = 3 * MAX_PART + 17;
        let shown: Vec<Shown> = crate::demo::synthetic_incidents(3, as_of, n)
            .into_iter()
            .map(|f| Shown::Exact {
                feature: Arc::new(f),
                hide: Arc::from(Vec::<String>::new()),
            })
            .collect();
        let today = as_of.date();
        let whole = features_part(b"[", &shown, Crs::Crs84, &Select::default(), today).unwrap();
        let parts = features_json(b"[", shown, Crs::Crs84, Select::default(), today)
            .await
            .unwrap();
        assert!(parts.len() >= 4, "{} parts", parts.len());
        assert!(parts.iter().all(|p| p.len() < 8 << 20));
        assert!(
            parts.concat() == whole,
            "the parts differ from the page written whole"
        );
        let mut json = parts.concat();
        json.push(b']');
        let v: serde_json::Value = serde_json::from_slice(&json).unwrap();
        assert_eq!(v.as_array().unwrap().len(), n);
    }

    /// The names of an incident's properties, as a page writes them.
    const INCIDENT_PROPERTIES: [&str; 12] = [
        "category",
        "occurred_at",
        "severity",
        "status",
        "reference",
        "description",
        "organisation",
        "classification",
        "created_at",
        "updated_at",
        "created_by",
        "version",
    ];

    fn names() -> impl proptest::strategy::Strategy<Value = Vec<String>> {
        proptest::sample::subsequence(INCIDENT_PROPERTIES.to_vec(), 0..=12)
            .prop_map(|v| v.into_iter().map(str::to_owned).collect())
    }

    use proptest::prelude::*;

    proptest! {
        /// An incident written straight in any shape — SWEREF 99 TM or WGS84, some properties
        /// or all, without geometry, with properties its viewer may not see — holds what the
        /// general path writes (the feature's JSON value, projected and cut), or fails where
        /// it fails.
        #[test]
        fn a_shaped_incident_written_straight_is_what_the_general_path_writes(
            f in crate::domain::geojson_out::tests::incident_feature(),
            sweref in any::<bool>(),
            skip_geometry in any::<bool>(),
            properties in proptest::option::of(names()),
            hide in names(),
        ) {
            let today = time::macros::date!(2026 - 11 - 23);
            let crs = if sweref { Crs::Sweref99Tm } else { Crs::Crs84 };
            let select = Select { properties, skip_geometry };
            let shown = Shown::Exact { feature: Arc::new(f), hide: Arc::from(hide) };
            let mut straight = Vec::new();
            let mut general = Vec::new();
            let a = shaped_into(&mut straight, &shown, crs, &select, today);
            let b = shaped_value_into(&mut general, &shown, crs, &select, today);
            prop_assert_eq!(a.is_ok(), b.is_ok(), "{:?} against {:?}", a.err(), b.err());
            if a.is_ok() {
                let straight: serde_json::Value = serde_json::from_slice(&straight).unwrap();
                let general: serde_json::Value = serde_json::from_slice(&general).unwrap();
                prop_assert_eq!(straight, general);
            } else {
                prop_assert!(straight.is_empty(), "nothing is left of a failed write");
            }
        }
    }
}
