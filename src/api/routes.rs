//! `GET /analysis/route-score`: saved and drawn routes scored side by side against the
//! incidents the caller may count.

use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

use super::AppState;
use super::auth::{Caller, audit_refusal};
use super::error::ApiError;
use super::extract::StrictQuery;
use crate::analysis::route_score::{CORRIDOR_M, Score, WALKING_KMH};
use crate::domain::error::Checks;
use crate::domain::geometry;
use crate::domain::geometry::{Accepts, GeometryKind};
use crate::domain::patrol_route::{Schedule, Weekday};
use crate::service::ServiceError;
use crate::service::analysis::InputKind;
use crate::service::routes::{MAX_ROUTES, RouteAsk, RouteScore};

/// Query parameters of `GET /analysis/route-score`.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RouteScoreQuery {
    /// Comma-separated ids of saved patrol routes (at most 10 routes in all).
    pub routes: Option<String>,
    /// A drawn route: a GeoJSON LineString or MultiLineString (WGS 84).
    pub line: Option<String>,
    /// The drawn route's days, comma-separated (`mon`…`sun`); with `start_time` and
    /// `end_time` its score is also weighted by when incidents happen.
    pub weekdays: Option<String>,
    /// The drawn route's start, `HH:MM` Swedish time.
    pub start_time: Option<String>,
    /// The drawn route's end, `HH:MM` (before the start: past midnight).
    pub end_time: Option<String>,
    /// The time window of incidents (RFC 3339 interval, as for items; default: all).
    pub datetime: Option<String>,
    /// Comma-separated incident categories (default: all).
    pub category: Option<String>,
}

/// Scores saved routes (`routes`) and a drawn one (`line`) side by side: per route its length
/// and walking time (4.5 km/h), the incidents within 100 m of it and per km, the corridor's PAI
/// (its share of the incidents in the counted areas it passes over its share of their area),
/// and the Gi* hot cells (500 m band, over every counted area the caller sees, as the hot spot
/// map) it passes, per hour of walking. A route's score does not depend on the routes asked
/// with it.
/// Roles that read incidents exactly also get `in_hours`: the same figures counting only
/// incidents that happened, in Swedish time, on the route's days and hours. Other roles are
/// scored from the published counts per 250 m cell (under 3 suppressed), each spread over its
/// cell, and never by hour.
#[utoipa::path(get, path = "/analysis/route-score", tag = "Analysis", params(RouteScoreQuery),
    responses(
        (status = 200, description = "The scores (JSON): `routes` with `length_m`, `walking_minutes`, `all` and `in_hours` (each `incidents`, `per_km`, `pai`, `hot_cells_passed`, `hot_cells_per_hour`), `input`, `hot_cells`, `areas`", content_type = "application/json"),
        (status = 400, description = "A parameter is invalid", body = super::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = super::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "The role has no access to incidents, or does not see routes' lines", body = super::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "A saved route the caller cannot see", body = super::error::Problem, content_type = "application/problem+json"),
    ))]
pub async fn get_route_score(
    State(state): State<AppState>,
    caller: Caller,
    StrictQuery(q): StrictQuery<RouteScoreQuery>,
) -> Result<Response, ApiError> {
    let (_, filters) = super::analysis::where_and_which(
        &state,
        &caller,
        None,
        None,
        q.datetime.clone(),
        q.category.clone(),
    )?;
    let mut asks = Vec::new();
    for id in saved_ids(q.routes.as_deref())? {
        match state.service.saved_route(&caller.viewer, id).await {
            Ok(a) => asks.push(a),
            Err(ServiceError::Invalid(v)) => return Err(ApiError::invalid(v)),
            Err(e) => {
                return Err(audit_refusal(&state, &caller, "GET /analysis/route-score", e).await);
            }
        }
    }
    if let Some(drawn) = drawn(&q)? {
        asks.push(drawn);
    }
    if asks.is_empty() {
        return Err(rule(
            "routes",
            "give saved routes' ids in `routes`, a drawn `line`, or both",
        ));
    }
    let scores = match state
        .service
        .route_scores(&caller.viewer, asks, &filters)
        .await
    {
        Ok(s) => s,
        Err(ServiceError::Invalid(v)) => return Err(ApiError::invalid(v)),
        Err(e) => {
            return Err(audit_refusal(&state, &caller, "GET /analysis/route-score", e).await);
        }
    };
    let body = json!({
        "routes": scores.routes.iter().map(route_json).collect::<Vec<_>>(),
        "input": match scores.input {
            InputKind::Positions => "positions",
            InputKind::CellCounts => "cell_counts",
        },
        "time_weighted": scores.input == InputKind::Positions,
        "hot_cells": scores.hot_cells,
        "areas": scores.areas,
        "note": scores.note,
        "corridor_m": CORRIDOR_M,
        "walking_kmh": WALKING_KMH,
        "method": "Incidents within 100 m of the line (positions), or published 250 m cell counts times the share of the cell inside the corridor. PAI: the corridor's share of the incidents in the counted areas it passes over its share of their area. Hot cells: Gi* (500 m band) over the cells of every counted area, class above 0.",
    });
    Ok((
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body.to_string(),
    )
        .into_response())
}

/// A rule between parameters no schema can state: 422 naming the parameter.
fn rule(name: &str, detail: &str) -> ApiError {
    ApiError::invalid_with(
        axum::http::StatusCode::UNPROCESSABLE_ENTITY,
        crate::domain::ValidationErrors::one(name, detail),
    )
}

/// The ids in `routes`.
fn saved_ids(routes: Option<&str>) -> Result<Vec<Uuid>, ApiError> {
    let Some(list) = routes else {
        return Ok(Vec::new());
    };
    let ids: Vec<Uuid> = list
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse()
                .map_err(|_| ApiError::bad_param("routes", format!("'{s}' is not a route id")))
        })
        .collect::<Result<_, _>>()?;
    if ids.len() > MAX_ROUTES {
        return Err(ApiError::bad_param(
            "routes",
            format!("{} ids; at most {MAX_ROUTES} routes at a time", ids.len()),
        ));
    }
    Ok(ids)
}

/// The drawn route, when `line` is given.
fn drawn(q: &RouteScoreQuery) -> Result<Option<RouteAsk>, ApiError> {
    let Some(line) = &q.line else {
        if q.weekdays.is_some() || q.start_time.is_some() || q.end_time.is_some() {
            return Err(rule(
                "line",
                "weekdays, start_time and end_time describe a drawn line: give it",
            ));
        }
        return Ok(None);
    };
    const LINES: Accepts = Accepts {
        name: "line",
        kinds: &[GeometryKind::LineString, GeometryKind::MultiLineString],
    };
    let value: Value = serde_json::from_str(line)
        .map_err(|e| ApiError::bad_param("line", format!("is not a GeoJSON geometry: {e}")))?;
    // A geometry's own rules (two different positions, finite, in range) are 422, like a
    // feature's: the OpenAPI schema can say the shape, not these.
    let parts = match geometry::parse_geometry(LINES, &value, "line")
        .map_err(|e| ApiError::invalid_with(axum::http::StatusCode::UNPROCESSABLE_ENTITY, e))?
    {
        geo::Geometry::LineString(l) => vec![l],
        geo::Geometry::MultiLineString(m) => m.0,
        _ => return Err(ApiError::bad_param("line", "must be a LineString")),
    };
    let schedule = match (&q.weekdays, &q.start_time, &q.end_time) {
        (None, None, None) => None,
        (Some(days), Some(start), Some(end)) => {
            let days: Vec<Weekday> = days
                .split(',')
                .map(|d| {
                    d.trim().parse().map_err(|_| {
                        ApiError::bad_param(
                            "weekdays",
                            format!("'{d}' is not a day; use mon, tue, wed, thu, fri, sat, sun"),
                        )
                    })
                })
                .collect::<Result<_, _>>()?;
            let mut checks = Checks::default();
            for (name, v) in [("start_time", start), ("end_time", end)] {
                checks.require(
                    crate::domain::patrol_route::parse_hhmm(v).is_some(),
                    name,
                    || format!("'{v}' is not a time of day; write HH:MM, e.g. 21:30"),
                );
            }
            checks.finish().map_err(ApiError::invalid)?;
            Some(
                Schedule::new(&days, start, end)
                    .ok_or_else(|| ApiError::bad_param("weekdays", "name at least one day"))?,
            )
        }
        _ => {
            return Err(rule(
                "weekdays",
                "give weekdays, start_time and end_time together, or none of them",
            ));
        }
    };
    Ok(Some(RouteAsk {
        id: None,
        name: String::new(),
        parts,
        schedule,
    }))
}

fn round(v: f64, places: i32) -> f64 {
    let k = 10f64.powi(places);
    (v * k).round() / k
}

fn score_json(s: &Score) -> Value {
    json!({
        "incidents": round(s.incidents, 2),
        "per_km": round(s.per_km, 2),
        "pai": s.pai.map(|p| round(p, 2)),
        "corridor_m2": s.corridor_total_m2.round(),
        "corridor_in_region_m2": s.corridor_m2.round(),
        "region": s.region.map(|(n, a)| json!({"incidents": round(n, 2), "area_m2": a})),
        "hot_cells_passed": s.hot_cells_passed,
        "hot_cells_per_hour": round(s.hot_cells_per_hour(), 2),
    })
}

fn route_json(r: &RouteScore) -> Value {
    json!({
        "id": r.ask.id,
        "name": if r.ask.id.is_some() { Some(&r.ask.name) } else { None },
        "drawn": r.ask.id.is_none(),
        "length_m": r.all.length_m.round(),
        "walking_minutes": (r.all.walking_hours * 60.0).round(),
        "hours_per_week": r.ask.schedule.map(|s| round(s.hours_per_week(), 2)),
        "all": score_json(&r.all),
        "in_hours": r.in_hours.as_ref().map(score_json),
        "in_hours_share": r.in_hours.as_ref().and_then(|h| {
            (r.all.incidents > 0.0).then(|| round(h.incidents / r.all.incidents, 3))
        }),
    })
}

/// Query parameters of `GET /analysis/route-suggestion`.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SuggestionQuery {
    /// A saved route's id; or give `line`.
    pub route: Option<String>,
    /// A drawn route: a GeoJSON LineString (WGS 84).
    pub line: Option<String>,
    /// The drawn route's days (`mon`…`sun`, comma-separated).
    pub weekdays: Option<String>,
    /// The drawn route's start, `HH:MM`.
    pub start_time: Option<String>,
    /// The drawn route's end, `HH:MM`.
    pub end_time: Option<String>,
    /// The most metres the suggestion may walk, 100–15 000 (default: the route's length).
    pub budget_m: Option<f64>,
    /// Comma-separated incident categories (default: all).
    pub category: Option<String>,
}

/// A suggested route over the imported walkable path network (`lagesbild reference import
/// paths`): from the route's start (snapped to the nearest path node, at most 250 m away),
/// at most `budget_m` long, the walk whose 100 m corridor held the most incidents in the twelve
/// weeks before the last four whole weeks (in the route's days and hours for roles that read
/// incidents exactly; published cell counts for the others). The drawn and the suggested route
/// are then compared on those four held-out weeks, which the search never saw: `gain` is the
/// suggested route's share more incidents in its corridor there.
#[utoipa::path(get, path = "/analysis/route-suggestion", tag = "Analysis", params(SuggestionQuery),
    responses(
        (status = 200, description = "The suggestion (JSON): `suggested` (a GeoJSON Feature), `training` and `held_out` (each `drawn` and `suggested` with `incidents`, `per_km`, `length_m`), `gain`", content_type = "application/json"),
        (status = 400, description = "A parameter is invalid", body = super::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = super::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "The role has no access to incidents, or does not see routes' lines", body = super::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "A saved route the caller cannot see", body = super::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "No path network imported, or the route starts far from it", body = super::error::Problem, content_type = "application/problem+json"),
    ))]
pub async fn get_route_suggestion(
    State(state): State<AppState>,
    caller: Caller,
    StrictQuery(q): StrictQuery<SuggestionQuery>,
) -> Result<Response, ApiError> {
    let (_, filters) =
        super::analysis::where_and_which(&state, &caller, None, None, None, q.category.clone())?;
    let as_score = RouteScoreQuery {
        line: q.line.clone(),
        weekdays: q.weekdays.clone(),
        start_time: q.start_time.clone(),
        end_time: q.end_time.clone(),
        ..RouteScoreQuery::default()
    };
    let ask = match (&q.route, drawn(&as_score)?) {
        (Some(_), Some(_)) => {
            return Err(rule("route", "give route or line, not both"));
        }
        (None, None) => {
            return Err(rule("route", "give a saved route's id or a drawn line"));
        }
        (None, Some(d)) => d,
        (Some(id), None) => {
            let id: Uuid = id
                .trim()
                .parse()
                .map_err(|_| ApiError::bad_param("route", format!("'{id}' is not a route id")))?;
            match state.service.saved_route(&caller.viewer, id).await {
                Ok(a) => a,
                Err(ServiceError::Invalid(v)) => return Err(ApiError::invalid(v)),
                Err(e) => {
                    return Err(audit_refusal(
                        &state,
                        &caller,
                        "GET /analysis/route-suggestion",
                        e,
                    )
                    .await);
                }
            }
        }
    };
    let s = match state
        .service
        .suggest_route(&caller.viewer, ask, q.budget_m, &filters)
        .await
    {
        Ok(s) => s,
        Err(ServiceError::Invalid(v)) => return Err(ApiError::invalid(v)),
        Err(e) => {
            return Err(audit_refusal(&state, &caller, "GET /analysis/route-suggestion", e).await);
        }
    };
    let side = |sc: &Score| {
        json!({"incidents": round(sc.incidents, 2), "per_km": round(sc.per_km, 2),
            "length_m": sc.length_m.round()})
    };
    let period = |c: &crate::service::suggestion::Compared| {
        json!({"from": c.from.to_string(), "to": c.to.to_string(),
            "drawn": side(&c.drawn), "suggested": side(&c.suggested)})
    };
    let gain = (s.held_out.drawn.incidents > 0.0).then(|| {
        round(
            s.held_out.suggested.incidents / s.held_out.drawn.incidents - 1.0,
            3,
        )
    });
    let body = json!({
        "route": {"id": s.ask.id, "name": s.ask.id.map(|_| s.ask.name.clone()), "drawn": s.ask.id.is_none()},
        "suggested": {"type": "Feature", "geometry": geojson::Geometry::from(&geo::Geometry::LineString(s.line.clone())),
            "properties": {"length_m": s.training.suggested.length_m.round()}},
        "budget_m": s.budget_m.round(),
        "start_snapped_m": round(s.snap_m, 1),
        "training": period(&s.training),
        "held_out": period(&s.held_out),
        "gain": gain,
        "input": match s.input {
            InputKind::Positions => "positions",
            InputKind::CellCounts => "cell_counts",
        },
        "time_weighted": s.input == InputKind::Positions && s.ask.schedule.is_some(),
        "network_edges": s.network_edges,
        "method": "Beam search (48 walks kept per step) over the path network from the route's start, maximising the incidents within 100 m counted once, learnt on 12 weeks; compared with the drawn route on the 4 whole weeks after them.",
    });
    Ok((
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body.to_string(),
    )
        .into_response())
}
