//! `/analysis/…`: kernel density, Gi* hot spots and emerging hot spots of the incidents the
//! caller may see, as GeoJSON cells (see `service::analysis`).

use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::auth::{Caller, audit_refusal};
use super::error::ApiError;
use super::extract::StrictQuery;
use super::items::ItemsQuery;
use super::{AppState, GEOJSON};
use crate::domain::Layer;
use crate::index::{Filters, Spatial};
use crate::service::ServiceError;
use crate::service::analysis::InputKind;

/// What positions lagesbild's incidents carry, in words (shown in every analysis's legend).
pub const POSITION_NOTE: &str = "Police positions are approximate: a Swedish study found a median error of 83 m (Gerell 2018), so read cells, not points.";

/// Query parameters of `GET /analysis/density`.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DensityQuery {
    /// `min_lon,min_lat,max_lon,max_lat` (default: everything the caller sees).
    pub bbox: Option<String>,
    /// Or an area's name (e.g. `Alby`): its outline.
    pub area: Option<String>,
    /// An instant, a date or an interval, as for items.
    pub datetime: Option<String>,
    /// Comma-separated incident categories.
    pub category: Option<String>,
    /// Bandwidth in metres, 50–5000 (default: the mean distance to the 5th nearest neighbour).
    pub bandwidth: Option<f64>,
    /// Cell size in metres, 10–1000 (default: a third of the bandwidth, in steps of 25 m).
    pub cell: Option<f64>,
}

/// Query parameters of `GET /analysis/hotspots`.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct HotSpotsQuery {
    /// `grid` (250 m cells, the default) or `area` (the areas, by their centres).
    pub by: Option<String>,
    /// `min_lon,min_lat,max_lon,max_lat`: the areas meeting it make the study region.
    pub bbox: Option<String>,
    /// Or an area's name (e.g. `Alby`): its outline.
    pub area: Option<String>,
    /// An instant, a date or an interval, as for items.
    pub datetime: Option<String>,
    /// Comma-separated incident categories.
    pub category: Option<String>,
    /// Distance band in metres, 250–5000 (default 500).
    pub band: Option<f64>,
    /// Conditional permutations for pseudo p-values, 0–9999 (default 0: analytical).
    pub permutations: Option<usize>,
    /// The permutations' seed (default 1), reported so a result can be made again.
    pub seed: Option<u64>,
}

/// Query parameters of `GET /analysis/emerging`.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct EmergingQuery {
    /// `min_lon,min_lat,max_lon,max_lat`: the areas meeting it make the study region.
    pub bbox: Option<String>,
    /// Or an area's name (e.g. `Alby`): its outline.
    pub area: Option<String>,
    /// Comma-separated incident categories.
    pub category: Option<String>,
    /// ISO weeks, 4–26 (default 12): the whole weeks before the week of `as_of`.
    pub weeks: Option<u8>,
    /// Distance band in metres, 250–5000 (default 500).
    pub band: Option<f64>,
    /// The series ends with the last whole week before this instant (RFC 3339; default now).
    pub as_of: Option<String>,
}

pub(super) fn where_and_which(
    state: &AppState,
    caller: &Caller,
    bbox: Option<String>,
    area: Option<&str>,
    datetime: Option<String>,
    category: Option<String>,
) -> Result<(Spatial, Filters), ApiError> {
    if bbox.is_some() && area.is_some() {
        return Err(ApiError::bad_param("area", "give area or bbox, not both"));
    }
    let req = ItemsQuery {
        bbox,
        datetime,
        category,
        ..ItemsQuery::default()
    }
    .parse(Layer::Incidents, 1, 1)?;
    let Some(name) = area else {
        return Ok((req.spatial, req.filters));
    };
    // An area the caller sees, by name: the analysis covers its outline.
    let areas = state.service.visible_areas(&caller.viewer);
    let found = areas.iter().find(|a| {
        matches!(&a.properties, crate::domain::Properties::Area(p) if p.name.eq_ignore_ascii_case(name))
    });
    match found {
        Some(a) => Ok((Spatial::Intersects(a.geometry().into_owned()), req.filters)),
        None => {
            let mut names: Vec<String> = areas
                .iter()
                .filter_map(|a| match &a.properties {
                    crate::domain::Properties::Area(p) => Some(p.name.to_string()),
                    _ => None,
                })
                .collect();
            names.sort();
            // As for briefings: an area the caller cannot see is not there (404), like a
            // feature it cannot see.
            Err(ApiError::not_found(format!(
                "no area named '{name}'; areas: {}",
                names.join(", ")
            )))
        }
    }
}

/// "As of" from the parameter (RFC 3339), else the server's clock.
fn as_of(state: &AppState, t: Option<&str>) -> Result<time::OffsetDateTime, ApiError> {
    match t {
        Some(t) => time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339)
            .map_err(|_| ApiError::bad_param("as_of", format!("'{t}' is not an RFC 3339 time"))),
        None => Ok(state.service.clock().now()),
    }
}

async fn refused(state: &AppState, caller: &Caller, what: &str, e: ServiceError) -> ApiError {
    match e {
        // Bad parameters are 400; a valid question the data cannot answer is 422.
        ServiceError::Invalid(v) => ApiError::invalid(v),
        ServiceError::Unanswerable(v) => {
            ApiError::invalid_with(axum::http::StatusCode::UNPROCESSABLE_ENTITY, v)
        }
        e => audit_refusal(state, caller, what, e).await,
    }
}

/// A GeoJSON answer.
pub(super) fn geojson(body: &Value) -> Response {
    (
        [(header::CONTENT_TYPE, HeaderValue::from_static(GEOJSON))],
        body.to_string(),
    )
        .into_response()
}

const fn input_words(i: InputKind) -> &'static str {
    match i {
        InputKind::Positions => "the incidents' positions",
        InputKind::CellCounts => {
            "published counts per 250 m cell (cells under 3 suppressed), at the cells' centres"
        }
    }
}

/// Kernel density of the incidents the caller may see: a quartic kernel with a bandwidth in
/// metres on a metric grid in SWEREF 99 TM, as GeoJSON cells with `density` (incidents per km²).
/// The same surface at every zoom, on screen and on paper. Roles below exact get the surface of
/// the published cell counts.
#[utoipa::path(get, path = "/analysis/density", tag = "Analysis", params(DensityQuery),
    responses(
        (status = 200, description = "A FeatureCollection of cells with `density`; `bandwidth_m`, `bandwidth_rule`, `cell_m`, `kernel`, `input`", content_type = "application/geo+json"),
        (status = 400, description = "A parameter is invalid (named)", body = super::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "The role has no access to incidents", body = super::error::Problem, content_type = "application/problem+json"),
    ))]
pub async fn get_density(
    State(state): State<AppState>,
    caller: Caller,
    StrictQuery(q): StrictQuery<DensityQuery>,
) -> Result<Response, ApiError> {
    let (spatial, filters) = where_and_which(
        &state,
        &caller,
        q.bbox,
        q.area.as_deref(),
        q.datetime,
        q.category,
    )?;
    let s = match state
        .service
        .density_surface(&caller.viewer, &spatial, &filters, q.bandwidth, q.cell)
        .await
    {
        Ok(s) => s,
        Err(e) => return Err(refused(&state, &caller, "GET /analysis/density", e).await),
    };
    let max = s.cells.iter().map(|c| c.1).fold(0.0_f64, f64::max);
    let features: Vec<Value> = s
        .cells
        .iter()
        .map(|(square, d)| {
            json!({"type": "Feature", "geometry": geojson::Geometry::from(square),
                "properties": {"density": (d * 1000.0).round() / 1000.0,
                    "share": if max > 0.0 { (d / max * 1000.0).round() / 1000.0 } else { 0.0 }}})
        })
        .collect();
    Ok(geojson(&json!({
        "type": "FeatureCollection",
        "features": features,
        "kernel": "quartic",
        "bandwidth_m": s.bandwidth_m.round(),
        "bandwidth_rule": s.bandwidth_rule,
        "cell_m": s.cell_m,
        "coarsened": s.coarsened,
        "unit": "incidents per km²",
        "max_density": max,
        "incidents": s.incidents,
        "input": s.input,
        "input_note": input_words(s.input),
        "position_note": POSITION_NOTE,
    })))
}

/// Query parameters of `GET /analysis/density.png`.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DensityImageQuery {
    /// `min_lon,min_lat,max_lon,max_lat`: the image's extent (required).
    pub bbox: Option<String>,
    /// An instant, a date or an interval, as for items.
    pub datetime: Option<String>,
    /// Comma-separated incident categories.
    pub category: Option<String>,
    /// Bandwidth in metres, 50–5000 (default as for the grid).
    pub bandwidth: Option<f64>,
    /// Cell size in metres, 10–1000.
    pub cell: Option<f64>,
    /// Width in pixels, 64–2048 (default 1024); the height follows the box in Web Mercator.
    pub width: Option<u32>,
}

/// Web Mercator northing of a latitude (unitless), for placing an overlay on a web map.
fn mercator_y(lat: f64) -> f64 {
    let r = lat.to_radians();
    (std::f64::consts::FRAC_PI_4 + r / 2.0).tan().ln()
}

/// The density surface as a PNG overlay in Web Mercator for the box asked (transparent where
/// there is nothing), coloured as the web client's: put it on a map as an image with the box's
/// corners. The bandwidth and cell size are in `X-Lagesbild-Bandwidth-M` and
/// `X-Lagesbild-Cell-M`.
#[utoipa::path(get, path = "/analysis/density.png", tag = "Analysis", params(DensityImageQuery),
    responses(
        (status = 200, description = "The PNG", content_type = "image/png"),
        (status = 400, description = "A parameter is invalid or bbox is missing", body = super::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "The role has no access to incidents", body = super::error::Problem, content_type = "application/problem+json"),
    ))]
pub async fn get_density_png(
    State(state): State<AppState>,
    caller: Caller,
    StrictQuery(q): StrictQuery<DensityImageQuery>,
) -> Result<Response, ApiError> {
    use std::fmt::Write as _;
    let Some(bbox) = q.bbox.clone() else {
        return Err(ApiError::bad_param(
            "bbox",
            "give the image's extent: bbox=min_lon,min_lat,max_lon,max_lat",
        ));
    };
    let width = q.width.unwrap_or(1024);
    if !(64..=2048).contains(&width) {
        return Err(ApiError::bad_param("width", "choose 64 to 2048 pixels"));
    }
    let (spatial, filters) =
        where_and_which(&state, &caller, Some(bbox), None, q.datetime, q.category)?;
    let Spatial::Bbox(b) = &spatial else {
        return Err(ApiError::bad_param(
            "bbox",
            "give min_lon,min_lat,max_lon,max_lat",
        ));
    };
    let [x0, y0, x1, y1] = b.to_array();
    let s = match state
        .service
        .density_surface(&caller.viewer, &spatial, &filters, q.bandwidth, q.cell)
        .await
    {
        Ok(s) => s,
        Err(e) => return Err(refused(&state, &caller, "GET /analysis/density.png", e).await),
    };
    let (m0, m1) = (mercator_y(y0), mercator_y(y1));
    let w = f64::from(width);
    let h = (w * (m1 - m0) / (x1 - x0).to_radians())
        .clamp(16.0, 4096.0)
        .round();
    let max = s.cells.iter().map(|c| c.1).fold(0.0_f64, f64::max);
    let mut svg = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}">"#
    );
    for (square, d) in &s.cells {
        let share = if max > 0.0 { d / max } else { 0.0 };
        let colour = match share {
            v if v < 0.05 => continue,
            v if v < 0.3 => "#fde0c5",
            v if v < 0.6 => "#E69F00",
            v if v < 0.85 => "#D55E00",
            _ => "#7a2a00",
        };
        let mut path = String::new();
        for (i, c) in square.exterior().coords().enumerate() {
            let px = (c.x - x0) / (x1 - x0) * w;
            let py = (m1 - mercator_y(c.y)) / (m1 - m0) * h;
            let _ = write!(path, "{}{px:.1},{py:.1}", if i == 0 { "M" } else { "L" });
        }
        let _ = write!(
            svg,
            r#"<path d="{path}Z" fill="{colour}" fill-opacity="0.75"/>"#
        );
    }
    svg.push_str("</svg>");
    let bytes = tokio::task::spawn_blocking(move || crate::briefing::render::png_overlay(&svg))
        .await
        .map_err(|e| ApiError::internal(e.to_string()))?
        .map_err(|e| ApiError::internal(e.to_string()))?;
    let mut res = bytes.into_response();
    let headers = res.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("image/png"));
    for (name, value) in [
        ("x-lagesbild-bandwidth-m", format!("{:.0}", s.bandwidth_m)),
        ("x-lagesbild-cell-m", format!("{:.0}", s.cell_m)),
        ("x-lagesbild-bounds", format!("{x0},{y0},{x1},{y1}")),
    ] {
        if let Ok(v) = HeaderValue::from_str(&value) {
            headers.insert(name, v);
        }
    }
    Ok(res)
}

/// Getis-Ord Gi* hot spots on the 250 m cells of the areas the caller sees: z, p and a class
/// ±1/2/3 (90/95/99 %) after the false discovery rate correction, with the distance band
/// reported. Refused below 30 cells holding incidents. Optional seeded permutations.
#[utoipa::path(get, path = "/analysis/hotspots", tag = "Analysis", params(HotSpotsQuery),
    responses(
        (status = 200, description = "A FeatureCollection of cells with `count`, `z`, `p`, `class`", content_type = "application/geo+json"),
        (status = 400, description = "A parameter is invalid", body = super::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "The role has no access to incidents", body = super::error::Problem, content_type = "application/problem+json"),
        (status = 408, description = "The permutations did not finish within the time limit (nine tenths of the request timeout); the body says how far they got. Ask fewer, or narrow the question", body = super::error::Problem, content_type = "application/problem+json"),
    ))]
pub async fn get_hot_spots(
    State(state): State<AppState>,
    caller: Caller,
    StrictQuery(q): StrictQuery<HotSpotsQuery>,
) -> Result<Response, ApiError> {
    let (spatial, filters) = where_and_which(
        &state,
        &caller,
        q.bbox,
        q.area.as_deref(),
        q.datetime,
        q.category,
    )?;
    let seed = q.seed.unwrap_or(1);
    match q.by.as_deref() {
        None | Some("grid") => {}
        Some("area") => {
            if !matches!(spatial, Spatial::All) {
                return Err(ApiError::bad_param(
                    "by",
                    "by=area covers every area you see; leave out bbox and area",
                ));
            }
            let h = match state
                .service
                .area_hot_spots(
                    &caller.viewer,
                    &filters,
                    q.band,
                    q.permutations.unwrap_or(0),
                    seed,
                )
                .await
            {
                Ok(h) => h,
                Err(e) => return Err(refused(&state, &caller, "GET /analysis/hotspots", e).await),
            };
            let features: Vec<Value> = h
                .areas
                .iter()
                .map(|a| {
                    json!({"type": "Feature", "id": a.id, "geometry": geojson::Geometry::from(&a.outline),
                        "properties": {"name": a.name, "count": a.count, "z": a.z, "p": a.p, "class": a.class}})
                })
                .collect();
            return Ok(geojson(&json!({
                "type": "FeatureCollection",
                "features": features,
                "statistic": "Getis-Ord Gi* over the areas (binary distance band between their centres, the area included)",
                "by": "area",
                "band_m": h.band_m,
                "left_out_areas": h.left_out,
                "correction": "false discovery rate (Benjamini-Hochberg) at 90, 95 and 99 %",
                "input": h.input,
            })));
        }
        Some(other) => {
            return Err(ApiError::bad_param(
                "by",
                format!("'{other}' is not offered; use by=grid or by=area"),
            ));
        }
    }
    let h = match state
        .service
        .hot_spots(
            &caller.viewer,
            &spatial,
            &filters,
            q.band,
            q.permutations.unwrap_or(0),
            seed,
        )
        .await
    {
        Ok(h) => h,
        Err(e) => return Err(refused(&state, &caller, "GET /analysis/hotspots", e).await),
    };
    let features: Vec<Value> = h
        .cells
        .iter()
        .map(|c| {
            json!({"type": "Feature", "id": format!("E{}_N{}", c.cell.0, c.cell.1),
                "geometry": geojson::Geometry::from(&c.square),
                "properties": {"count": c.count, "z": c.z, "p": c.p, "class": c.class}})
        })
        .collect();
    Ok(geojson(&json!({
        "type": "FeatureCollection",
        "features": features,
        "statistic": "Getis-Ord Gi* (binary distance band, the cell included)",
        "band_m": h.band_m,
        "cell_m": crate::service::visibility::CELL_M,
        "cells": h.cells.len(),
        "nonempty_cells": h.nonempty,
        "correction": "false discovery rate (Benjamini-Hochberg) at 90, 95 and 99 %",
        "permutations": h.permutations,
        "seed": (h.permutations > 0).then_some(h.seed),
        "input": h.input,
        "input_note": input_words(h.input),
        "position_note": POSITION_NOTE,
    })))
}

/// Emerging hot spots: Gi* per ISO week over the last weeks, the Mann-Kendall trend of each
/// cell's z-scores, and its pattern (new, consecutive, intensifying, persistent, diminishing,
/// sporadic, oscillating, historical). Weeks with too few incidents are named in `refused_weeks`.
#[utoipa::path(get, path = "/analysis/emerging", tag = "Analysis", params(EmergingQuery),
    responses(
        (status = 200, description = "A FeatureCollection of cells with a pattern, their weekly classes and trend", content_type = "application/geo+json"),
        (status = 400, description = "A parameter is invalid", body = super::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "The role has no access to incidents", body = super::error::Problem, content_type = "application/problem+json"),
    ))]
pub async fn get_emerging(
    State(state): State<AppState>,
    caller: Caller,
    StrictQuery(q): StrictQuery<EmergingQuery>,
) -> Result<Response, ApiError> {
    let (spatial, filters) =
        where_and_which(&state, &caller, q.bbox, q.area.as_deref(), None, q.category)?;
    let as_of = as_of(&state, q.as_of.as_deref())?;
    let e = match state
        .service
        .emerging_hot_spots(
            &caller.viewer,
            &spatial,
            &filters,
            q.weeks.unwrap_or(12),
            q.band,
            as_of,
        )
        .await
    {
        Ok(e) => e,
        Err(err) => return Err(refused(&state, &caller, "GET /analysis/emerging", err).await),
    };
    let label = |d: &time::Date| crate::service::meetings::iso_week(*d);
    let features: Vec<Value> = e
        .cells
        .iter()
        .map(|c| {
            json!({"type": "Feature", "id": format!("E{}_N{}", c.cell.0, c.cell.1),
                "geometry": geojson::Geometry::from(&c.square),
                "properties": {"pattern": c.pattern, "classes": c.classes,
                    "trend": {"tau": c.trend.tau, "z": c.trend.z, "p": c.trend.p}}})
        })
        .collect();
    Ok(geojson(&json!({
        "type": "FeatureCollection",
        "features": features,
        "weeks": e.weeks.iter().map(label).collect::<Vec<_>>(),
        "refused_weeks": e.refused.iter().map(|(d, why)| json!({"week": label(d), "reason": why})).collect::<Vec<_>>(),
        "patterns": e.counts,
        "band_m": e.band_m,
        "hot": "a week's class of +1 or more (90 % after the false discovery rate correction)",
        "input": e.input,
        "input_note": input_words(e.input),
        "position_note": POSITION_NOTE,
    })))
}

/// Query parameters of `GET /analysis/near-repeat`.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct KnoxQuery {
    /// `min_lon,min_lat,max_lon,max_lat`.
    pub bbox: Option<String>,
    /// Or an area's name (e.g. `Alby`): its outline.
    pub area: Option<String>,
    /// An instant, a date or an interval, as for items.
    pub datetime: Option<String>,
    /// Comma-separated incident categories.
    pub category: Option<String>,
    /// Space band width, metres (default 100).
    pub space: Option<f64>,
    /// Space bands (default 3).
    pub space_bands: Option<usize>,
    /// Time band width, days (default 14).
    pub time: Option<f64>,
    /// Time bands (default 3).
    pub time_bands: Option<usize>,
    /// Monte Carlo permutations (default 999).
    pub iterations: Option<usize>,
    /// Their seed (default 1), reported.
    pub seed: Option<u64>,
}

/// The Knox test for near repeats over the incidents the caller reads exactly: pairs per space
/// band × time band (half-open, labelled as counted), observed against the mean of seeded Monte
/// Carlo permutations of the times, with p-values.
#[utoipa::path(get, path = "/analysis/near-repeat", tag = "Analysis", params(KnoxQuery),
    responses(
        (status = 200, description = "The Knox table: `bands` with `label`, `observed`, `expected`, `ratio`, `p`; `seed`"),
        (status = 400, description = "A parameter is invalid", body = super::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "The role does not read incidents exactly", body = super::error::Problem, content_type = "application/problem+json"),
        (status = 408, description = "The permutations did not finish within the time limit (nine tenths of the request timeout); the body says how far they got. Ask fewer iterations, or narrow the question", body = super::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Fewer than 20 incidents, or more than 50 000, match; the body says what to change", body = super::error::Problem, content_type = "application/problem+json"),
    ))]
pub async fn get_near_repeat(
    State(state): State<AppState>,
    caller: Caller,
    StrictQuery(q): StrictQuery<KnoxQuery>,
) -> Result<Response, ApiError> {
    let (spatial, filters) = where_and_which(
        &state,
        &caller,
        q.bbox,
        q.area.as_deref(),
        q.datetime,
        q.category,
    )?;
    let bands = crate::analysis::knox::Bands {
        space_m: q.space.unwrap_or(100.0),
        space_bands: q.space_bands.unwrap_or(3),
        time_days: q.time.unwrap_or(14.0),
        time_bands: q.time_bands.unwrap_or(3),
    };
    match state
        .service
        .knox_test(
            &caller.viewer,
            &spatial,
            &filters,
            bands,
            q.iterations.unwrap_or(999),
            q.seed.unwrap_or(1),
        )
        .await
    {
        Ok(k) => Ok(axum::Json(json!({
            "test": "Knox, Monte Carlo permutations of the times over the same places",
            "bands_asked": bands,
            "events": k.events,
            "iterations": k.iterations,
            "seed": k.seed,
            "bands": k.bands,
            "position_note": POSITION_NOTE,
        }))
        .into_response()),
        Err(e) => Err(refused(&state, &caller, "GET /analysis/near-repeat", e).await),
    }
}

/// Query parameters of `GET /analysis/near-repeat-zones`.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ZonesQuery {
    /// Comma-separated categories that raise a zone (default `shooting,explosion`).
    pub category: Option<String>,
    /// Radius in metres, 25–1000 (default 100).
    pub radius: Option<f64>,
    /// Days from the incident, 1–60 (default 14).
    pub days: Option<i64>,
    /// The instant the zones are in force (RFC 3339; default now).
    pub as_of: Option<String>,
}

/// Near-repeat zones in force: after a shooting or an explosion, a circle (100 m, 14 days by
/// default) where the risk of another is raised. Exact roles get them around the position until
/// the day plus the period; coarse roles around the cell's centre (wider) until the end of the
/// week plus the period. Counts-only roles get 403.
#[utoipa::path(get, path = "/analysis/near-repeat-zones", tag = "Analysis", params(ZonesQuery),
    responses(
        (status = 200, description = "A FeatureCollection of circles with `category`, `until`, `radius_m`, `exact`", content_type = "application/geo+json"),
        (status = 400, description = "A parameter is invalid", body = super::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "The role sees incidents only as counts", body = super::error::Problem, content_type = "application/problem+json"),
    ))]
pub async fn get_zones(
    State(state): State<AppState>,
    caller: Caller,
    StrictQuery(q): StrictQuery<ZonesQuery>,
) -> Result<Response, ApiError> {
    let mut rule = crate::service::near_repeat::ZoneRule::default();
    if let Some(c) = &q.category {
        rule.categories = c
            .split(',')
            .map(|s| {
                s.trim().parse().map_err(|_| {
                    ApiError::bad_param(
                        "category",
                        format!(
                            "'{s}' is not a category; use {}",
                            crate::domain::incident::IncidentCategory::NAMES.join(", ")
                        ),
                    )
                })
            })
            .collect::<Result<_, _>>()?;
    }
    if let Some(r) = q.radius {
        rule.radius_m = r;
    }
    if let Some(d) = q.days {
        rule.days = d;
    }
    let as_of = as_of(&state, q.as_of.as_deref())?;
    let zones = match state
        .service
        .near_repeat_zones(&caller.viewer, &rule, as_of)
        .await
    {
        Ok(z) => z,
        Err(e) => return Err(refused(&state, &caller, "GET /analysis/near-repeat-zones", e).await),
    };
    let features: Vec<Value> = zones.iter().map(zone_feature).collect();
    Ok(geojson(&json!({
        "type": "FeatureCollection",
        "features": features,
        "rule": {"categories": rule.categories.iter().map(|c| c.as_str()).collect::<Vec<_>>(),
            "radius_m": rule.radius_m, "days": rule.days},
        "source": "Sturup et al. 2018: after a shooting in Sweden, raised risk within 100 m and 14 days",
    })))
}

/// A zone as a GeoJSON Feature (also sent on `/events` as `near_repeat_zone`).
#[must_use]
pub fn zone_feature(z: &crate::service::near_repeat::Zone) -> Value {
    json!({"type": "Feature", "id": z.incident,
        "geometry": geojson::Geometry::from(&z.outline),
        "properties": {"category": z.category, "radius_m": z.radius_m, "exact": z.exact,
            "until": z.until.format(&time::format_description::well_known::Rfc3339).unwrap_or_default()}})
}

/// Query parameters of `GET /analysis/backtest`.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct BackTestQuery {
    /// Comma-separated incident categories (default: all).
    pub category: Option<String>,
    /// Weeks scored, 4–52 (default 52): the whole weeks before the week of `as_of`.
    pub weeks: Option<u8>,
    /// RFC 3339 (default now).
    pub as_of: Option<String>,
}

/// The weekly back-test: each week, every method's map of the 4 weeks before (the naive counts,
/// kernel density, Gi*) is scored on the incidents that followed — hit rate and PAI on the 3 %
/// of the area it marks, PEI*, stability between weeks — with means, the best method, and the
/// methods that lose to the naive map flagged. `last_week` is the sentence the map shows.
/// Every run's weekly scores are kept; `history` holds those kept for weeks before the ones
/// computed now (for the caller's own scope: precision, ceiling and categories).
#[utoipa::path(get, path = "/analysis/backtest", tag = "Analysis", params(BackTestQuery),
    responses(
        (status = 200, description = "Per method: weekly scores and means; `best`; `last_week`"),
        (status = 400, description = "A parameter is invalid", body = super::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "The role has no access to incidents", body = super::error::Problem, content_type = "application/problem+json"),
    ))]
pub async fn get_back_test(
    State(state): State<AppState>,
    caller: Caller,
    StrictQuery(q): StrictQuery<BackTestQuery>,
) -> Result<Response, ApiError> {
    let (_, filters) = where_and_which(&state, &caller, None, None, None, q.category)?;
    let as_of = as_of(&state, q.as_of.as_deref())?;
    let b = match state
        .service
        .back_test(&caller.viewer, &filters, q.weeks.unwrap_or(52), as_of)
        .await
    {
        Ok(b) => b,
        Err(e) => return Err(refused(&state, &caller, "GET /analysis/backtest", e).await),
    };
    let label = |i: usize| {
        b.all_weeks
            .get(i)
            .map(|d| crate::service::meetings::iso_week(*d))
    };
    let best = b.result.methods.iter().find(|m| m.method == b.result.best);
    #[allow(clippy::cast_precision_loss)]
    let share = b.result.hot_cells as f64 / b.result.cells.max(1) as f64;
    let last_week = best.and_then(|m| m.weeks.last()).map(|w| {
        json!({"week": label(w.week), "method": b.result.best, "hit_rate": w.hit_rate,
            "area_share": share, "pai": w.pai})
    });
    let methods: Vec<Value> = b
        .result
        .methods
        .iter()
        .map(|m| {
            json!({"method": m.method, "hit_rate": m.hit_rate, "pai": m.pai, "pei_star": m.pei_star,
                "stability": m.stability, "loses_to_naive": m.loses_to_naive,
                "weeks": m.weeks.iter().map(|w| json!({"week": label(w.week), "incidents": w.incidents,
                    "hit_rate": w.hit_rate, "pai": w.pai, "pei_star": w.pei_star, "stability": w.stability}))
                    .collect::<Vec<_>>()})
        })
        .collect();
    Ok(axum::Json(json!({
        "methods": methods,
        "best": b.result.best,
        "baseline": "naive: the last 4 weeks' counts per 250 m cell",
        "hot_cells": b.result.hot_cells,
        "cells": b.result.cells,
        "area_share": share,
        "lookback_weeks": crate::analysis::backtest::LOOKBACK_WEEKS,
        "last_week": last_week,
        "history": b.history.iter().map(|r| json!({"week": r.week, "method": r.method,
            "incidents": r.incidents, "hit_rate": r.hit_rate, "pai": r.pai, "pei_star": r.pei_star,
            "stability": r.stability})).collect::<Vec<_>>(),
        "input": b.input,
        "input_note": input_words(b.input),
    }))
    .into_response())
}
