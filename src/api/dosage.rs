//! `GET /analysis/patrol-plan`: an evening's stops at the hot cells along a route;
//! `GET /analysis/dosage`: minutes per hot cell logged against the plans in a week, per
//! organisation.

use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use time::format_description::well_known::Rfc3339;
use time::{Date, Duration};

use super::AppState;
use super::auth::{Caller, audit_refusal};
use super::error::ApiError;
use super::extract::StrictQuery;
use crate::analysis::dosage::{MAX_RETURN, MAX_STOP, MIN_STOP};
use crate::analysis::getis::Cell;
use crate::service::ServiceError;

/// Query parameters of `GET /analysis/patrol-plan`.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PlanQuery {
    /// The saved route's id.
    pub route: String,
    /// The evening, `YYYY-MM-DD` (default: today); one of the route's days.
    pub date: Option<String>,
}

/// A day plans can be made for: from 1900 to a year ahead (400 naming `name` otherwise).
fn check_day(state: &AppState, name: &str, day: Date) -> Result<(), ApiError> {
    let latest = state.service.clock().now().date() + Duration::days(366);
    if day.year() < crate::domain::time::FIRST_WEEK_YEAR || day > latest {
        return Err(ApiError::bad_param(
            name,
            format!("{day} is out of range; plans are made from 1900 to a year ahead ({latest})"),
        ));
    }
    Ok(())
}

fn key(c: Cell) -> String {
    format!("E{}_N{}", c.0, c.1)
}

fn json_response(body: &Value) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body.to_string(),
    )
        .into_response()
}

/// The plan of stops for one evening on a saved route, after Koper: stops of 10 to 15 minutes
/// at the hot cells within 100 m of the route (Gi*, 500 m band, from the four weeks of
/// incidents before the evening as the caller may count them), in a random order each round,
/// returning to each cell within two hours; as many cells as allow that, hottest first, the
/// rest listed in `left_out`. The same route and evening always give the same plan.
#[utoipa::path(get, path = "/analysis/patrol-plan", tag = "Analysis", params(PlanQuery),
    responses(
        (status = 200, description = "The plan (JSON): `stops` (GeoJSON cells with `arrive`, `arrive_local`, `minutes`, `round`), `left_out`, `hot_cells_along`, `starts`, `ends`", content_type = "application/json"),
        (status = 400, description = "A parameter is invalid, or the route is not walked that day", body = super::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = super::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "The role has no access to incidents, or does not see routes' lines", body = super::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "A route the caller cannot see", body = super::error::Problem, content_type = "application/problem+json"),
    ))]
pub async fn get_patrol_plan(
    State(state): State<AppState>,
    caller: Caller,
    StrictQuery(q): StrictQuery<PlanQuery>,
) -> Result<Response, ApiError> {
    let id =
        q.route.trim().parse().map_err(|_| {
            ApiError::bad_param("route", format!("'{}' is not a route id", q.route))
        })?;
    let date = match &q.date {
        Some(d) => Date::parse(
            d,
            &time::macros::format_description!("[year]-[month]-[day]"),
        )
        .map_err(|_| {
            ApiError::bad_param("date", format!("'{d}' is not a date; write YYYY-MM-DD"))
        })?,
        // Today in Sweden (just after midnight it is already tomorrow there).
        None => crate::domain::time::swedish_local(state.service.clock().now()).date(),
    };
    check_day(&state, "date", date)?;
    let p = match state.service.patrol_plan(&caller.viewer, id, date).await {
        Ok(p) => p,
        Err(ServiceError::Invalid(v)) => return Err(ApiError::invalid(v)),
        Err(e) => {
            return Err(audit_refusal(&state, &caller, "GET /analysis/patrol-plan", e).await);
        }
    };
    let grid = state.service.grid();
    let stops: Vec<Value> = p
        .plan
        .visits
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let arrive = p.starts + Duration::minutes(i64::from(v.at));
            let local = crate::domain::time::swedish_local(arrive);
            json!({"type": "Feature", "id": i + 1,
                "geometry": grid.square(v.cell).map(|s| geojson::Geometry::from(&s)),
                "properties": {"order": i + 1, "cell": key(v.cell),
                    "arrive": arrive.format(&Rfc3339).unwrap_or_default(),
                    "arrive_local": format!("{:02}:{:02}", local.hour(), local.minute()),
                    "minutes": v.minutes, "round": v.round + 1}})
        })
        .collect();
    let body = json!({
        "route": {"id": p.route.id, "name": p.route.name},
        "date": p.date.to_string(),
        "starts": p.starts.format(&Rfc3339).unwrap_or_default(),
        "ends": p.ends.format(&Rfc3339).unwrap_or_default(),
        "stops": {"type": "FeatureCollection", "features": stops},
        "cells": p.plan.cells.iter().map(|c| key(*c)).collect::<Vec<_>>(),
        "left_out": p.plan.left_out.iter().map(|c| key(*c)).collect::<Vec<_>>(),
        "hot_cells_along": p.hot_along.iter().map(|(c, z)| json!({"cell": key(*c), "z": (z * 100.0).round() / 100.0})).collect::<Vec<_>>(),
        "note": p.note,
        "rule": format!("Stops of {MIN_STOP}–{MAX_STOP} minutes in a random order each round, back at each cell within {MAX_RETURN} minutes (Koper 1995)."),
    });
    Ok(json_response(&body))
}

/// Query parameters of `GET /analysis/dosage`.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DosageQuery {
    /// The ISO week, `2026-W49` (default: the last whole week).
    pub week: Option<String>,
}

/// Minutes per hot cell in a week, per organisation: what the evening plans of every active
/// route gave (`planned`, as `/analysis/patrol-plan` gives them, by the route's organisation)
/// against the stops logged on walks (`logged`, by the walk's organisation; a stop at a cell no
/// plan named counts too). Only roles that read walks and routes exactly.
#[utoipa::path(get, path = "/analysis/dosage", tag = "Analysis", params(DosageQuery),
    responses(
        (status = 200, description = "The report (JSON): `organisations` with `planned_minutes`, `logged_minutes`, `share` and `cells`", content_type = "application/json"),
        (status = 400, description = "A parameter is invalid", body = super::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = super::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "The role does not read walks and routes exactly, or has no access to incidents", body = super::error::Problem, content_type = "application/problem+json"),
    ))]
pub async fn get_dosage(
    State(state): State<AppState>,
    caller: Caller,
    StrictQuery(q): StrictQuery<DosageQuery>,
) -> Result<Response, ApiError> {
    let monday = match &q.week {
        Some(w) => {
            crate::domain::time::parse_iso_week(w).map_err(|e| ApiError::bad_param("week", e))?
        }
        None => {
            let today = crate::domain::time::swedish_local(state.service.clock().now()).date();
            today
                - Duration::days(i64::from(today.weekday().number_days_from_monday()))
                - Duration::weeks(1)
        }
    };
    check_day(&state, "week", monday)?;
    let r = match state.service.dosage_report(&caller.viewer, monday).await {
        Ok(r) => r,
        Err(ServiceError::Invalid(v)) => return Err(ApiError::invalid(v)),
        Err(e) => return Err(audit_refusal(&state, &caller, "GET /analysis/dosage", e).await),
    };
    let organisations: Vec<Value> = r
        .by_organisation
        .iter()
        .map(|(org, cells)| {
            let planned: u32 = cells.values().map(|d| d.planned).sum();
            let logged: u32 = cells.values().map(|d| d.logged).sum();
            json!({
                "organisation": org,
                "planned_minutes": planned,
                "logged_minutes": logged,
                "share": (planned > 0).then(|| (f64::from(logged) / f64::from(planned) * 1000.0).round() / 1000.0),
                "cells": cells.iter().map(|(c, d)| json!({
                    "cell": key(*c), "planned": d.planned, "logged": d.logged, "stops": d.stops,
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    let (y, w, _) = r.monday.to_iso_week_date();
    let body = json!({
        "week": format!("{y:04}-W{w:02}"),
        "monday": r.monday.to_string(),
        "sessions": r.sessions,
        "organisations": organisations,
        "notes": r.notes,
    });
    Ok(json_response(&body))
}
