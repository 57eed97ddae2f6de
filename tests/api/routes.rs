//! Route scores over HTTP: the corridor counts, lengths and areas PostGIS computes for the same
//! lines (and Swedish hours by PostgreSQL's own time-zone database); a role that sees counts is
//! scored from the published counts only, so incidents it may not count do not move its score;
//! bad asks are 400.

use serde_json::{Value, json};

use crate::common::{
    TestApp, assert_problem, client_with_token, fresh_pg_url, fresh_sqlite, get_value, incident,
    pg_admin_url, send_geojson, token_for,
};

const WINDOW: &str = "2026-06-01T00:00:00Z/2026-12-01T00:00:00Z";

/// A line through the demo's Alby (Botkyrka), for a drawn route.
fn drawn_line() -> Value {
    json!({"type": "LineString", "coordinates": [
        [17.8395, 59.2395], [17.8450, 59.2410], [17.8510, 59.2385], [17.8560, 59.2370]
    ]})
}

fn enc(v: &Value) -> String {
    crate::common::enc(&v.to_string())
}

#[tokio::test]
async fn route_scores_match_postgis_for_saved_and_drawn_routes() {
    use sqlx::Connection;
    let Some(admin) = pg_admin_url() else { return };
    let url = fresh_pg_url(&admin).await;
    let app = TestApp::spawn(&url, true).await;
    let police = client_with_token(&token_for(&app.service, "rs-polis", "police", "Polisen").await);
    let routes = get_value(
        &police,
        &app.url("/collections/patrol_routes/items?limit=100"),
    )
    .await;
    let saved: Vec<&Value> = routes["features"]
        .as_array()
        .unwrap()
        .iter()
        .take(3)
        .collect();
    assert!(!saved.is_empty(), "the demo has routes");
    let ids: Vec<&str> = saved.iter().map(|f| f["id"].as_str().unwrap()).collect();
    let line = drawn_line();
    let body = get_value(
        &police,
        &app.url(&format!(
            "/analysis/route-score?routes={}&line={}&weekdays=fri,sat&start_time=21:00&end_time=02:00&datetime={WINDOW}",
            ids.join(","),
            enc(&line)
        )),
    )
    .await;
    assert_eq!(body["input"], "positions", "{body}");
    let scored = body["routes"].as_array().unwrap();
    assert_eq!(scored.len(), saved.len() + 1, "{body}");

    let mut db = sqlx::PgConnection::connect(&url).await.unwrap();
    let (from, to) = WINDOW.split_once('/').unwrap();
    let mut in_corridor_somewhere = 0.0;
    let mut in_hours_somewhere = 0.0;
    for (i, got) in scored.iter().enumerate() {
        // The line and the schedule PostGIS is asked about.
        let (geometry, days, start, end) = match saved.get(i) {
            Some(f) => (
                f["geometry"].clone(),
                f["properties"]["weekdays"].clone(),
                f["properties"]["start_time"].as_str().unwrap().to_owned(),
                f["properties"]["end_time"].as_str().unwrap().to_owned(),
            ),
            None => (
                line.clone(),
                json!(["fri", "sat"]),
                "21:00".into(),
                "02:00".into(),
            ),
        };
        assert_eq!(got["drawn"], saved.get(i).is_none(), "{got}");
        // ISO day numbers of the route's days, and its session in minutes.
        let names = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
        let isodows: Vec<i32> = days
            .as_array()
            .unwrap()
            .iter()
            .map(|d| {
                names
                    .iter()
                    .position(|n| *n == d.as_str().unwrap())
                    .unwrap() as i32
                    + 1
            })
            .collect();
        let minutes = |s: &str| -> i32 {
            let (h, m) = s.split_once(':').unwrap();
            h.parse::<i32>().unwrap() * 60 + m.parse::<i32>().unwrap()
        };
        let (s, e) = (minutes(&start), minutes(&end));
        let row: (f64, f64, i64, i64) = sqlx::query_as(
            "WITH l AS (SELECT ST_Transform(ST_SetSRID(ST_GeomFromGeoJSON($1), 4326), 3006) AS g),
                  i AS (SELECT ST_Transform(geom, 3006) AS g,
                               time_start AT TIME ZONE 'Europe/Stockholm' AS local
                        FROM features
                        WHERE layer = 'incidents' AND deleted_at IS NULL
                          AND time_start >= $2::timestamptz AND time_start <= $3::timestamptz),
                  near AS (SELECT i.local,
                               EXTRACT(ISODOW FROM i.local)::int AS dow,
                               (EXTRACT(HOUR FROM i.local) * 60 + EXTRACT(MINUTE FROM i.local))::int AS minute
                           FROM i, l WHERE ST_DWithin(i.g, l.g, 100))
             SELECT ST_Length(l.g), ST_Area(ST_Buffer(l.g, 100, 'quad_segs=64')),
                    (SELECT count(*) FROM near),
                    (SELECT count(*) FROM near WHERE
                        CASE WHEN $5 > $4
                             THEN dow = ANY($6) AND minute >= $4 AND minute < $5
                             ELSE (dow = ANY($6) AND minute >= $4)
                               OR ((dow + 5) % 7 + 1 = ANY($6) AND minute < $5) END)
             FROM l",
        )
        .bind(geometry.to_string())
        .bind(from)
        .bind(to)
        .bind(s)
        .bind(e)
        .bind(&isodows)
        .fetch_one(&mut db)
        .await
        .unwrap();
        let (length, area, near, in_hours) = row;
        let length_got = got["length_m"].as_f64().unwrap();
        assert!((length_got - length).abs() <= 1.0, "{got}: length {length}");
        let area_got = got["all"]["corridor_m2"].as_f64().unwrap();
        assert!(
            (area_got / area - 1.0).abs() < 0.01,
            "{got}: corridor {area_got} m² against PostGIS's buffer {area} m²"
        );
        assert_eq!(
            got["all"]["incidents"].as_f64().unwrap(),
            near as f64,
            "{got}"
        );
        assert_eq!(
            got["in_hours"]["incidents"].as_f64().unwrap(),
            in_hours as f64,
            "{got}"
        );
        let per_km = near as f64 / (length_got / 1000.0);
        assert!(
            (got["all"]["per_km"].as_f64().unwrap() - per_km).abs() < 0.02 + per_km * 1e-3,
            "{got}"
        );
        in_corridor_somewhere += near as f64;
        in_hours_somewhere += in_hours as f64;
    }
    assert!(
        in_corridor_somewhere > 0.0,
        "some incident lies along a route"
    );
    assert!(
        in_hours_somewhere < in_corridor_somewhere,
        "the hours weigh: not every incident is in a route's hours"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_counted_role_is_scored_from_published_counts_only() {
    // Two incidents (under the publication threshold of 3) in an empty stretch along a drawn
    // line: the police's score rises by two, a night walker's (counts only) does not move and
    // is never weighted by hour.
    let db = fresh_sqlite();
    let app = TestApp::spawn(&db.url, true).await;
    let police =
        client_with_token(&token_for(&app.service, "rs-polis2", "police", "Polisen").await);
    let walker = client_with_token(
        &token_for(&app.service, "rs-natt", "night_walker", "Nattvandrarna").await,
    );
    // Far from the demo's incidents, in Södertälje's outskirts.
    let line =
        json!({"type": "LineString", "coordinates": [[17.5200, 59.1100], [17.5300, 59.1100]]});
    let ask = format!(
        "/analysis/route-score?line={}&weekdays=fri&start_time=20:00&end_time=23:00",
        enc(&line)
    );
    let before_police = get_value(&police, &app.url(&ask)).await;
    let before_walker = get_value(&walker, &app.url(&ask)).await;
    assert_eq!(before_walker["input"], "cell_counts", "{before_walker}");
    assert_eq!(before_walker["time_weighted"], false);
    assert_eq!(before_walker["routes"][0]["in_hours"], Value::Null);
    for lon in [17.5240, 17.5250] {
        // A Friday at 21:30 Swedish time (CET): 20:30 UTC.
        let r = send_geojson(
            police.post(app.url("/collections/incidents/items")),
            &incident(lon, 59.1101, "vandalism", "2026-11-27T20:30:00Z"),
        )
        .await;
        assert_eq!(r.status(), 201);
    }
    let after_police = get_value(&police, &app.url(&ask)).await;
    let after_walker = get_value(&walker, &app.url(&ask)).await;
    let n = |v: &Value, k: &str| v["routes"][0][k]["incidents"].as_f64().unwrap();
    assert_eq!(n(&after_police, "all") - n(&before_police, "all"), 2.0);
    assert_eq!(
        n(&after_police, "in_hours") - n(&before_police, "in_hours"),
        2.0
    );
    assert_eq!(
        after_walker["routes"][0], before_walker["routes"][0],
        "cells under 3 are not published, so they do not score"
    );
    app.stop().await;
}

#[tokio::test]
async fn bad_route_asks_are_400_naming_the_parameter() {
    let db = fresh_sqlite();
    let app = TestApp::spawn(&db.url, true).await;
    let police =
        client_with_token(&token_for(&app.service, "rs-polis3", "police", "Polisen").await);
    let line = enc(&drawn_line());
    let point = enc(&json!({"type": "Point", "coordinates": [17.84, 59.24]}));
    let one_spot =
        enc(&json!({"type": "LineString", "coordinates": [[17.84, 59.24], [17.84, 59.24]]}));
    let far = enc(&json!({"type": "LineString", "coordinates": [[17.0, 59.0], [18.5, 59.9]]}));
    let many: Vec<String> = (0..11).map(|_| uuid::Uuid::new_v4().to_string()).collect();
    // 400 for what the OpenAPI document already rules out; 422 for rules between parameters
    // and lines no schema can judge (positions that do not make a line, a line too long).
    for (q, param, status) in [
        (String::new(), "routes", 422),
        (format!("line={point}"), "line", 422),
        ("line=%7Bnope".to_owned(), "line", 400),
        (format!("line={one_spot}"), "line", 422),
        (format!("line={far}"), "line", 422),
        ("routes=not-an-id".to_owned(), "routes", 400),
        (format!("routes={}", many.join(",")), "routes", 400),
        (format!("line={line}&weekdays=fri"), "weekdays", 422),
        (
            format!("line={line}&weekdays=fre&start_time=21:00&end_time=23:00"),
            "weekdays",
            400,
        ),
        (
            format!("line={line}&weekdays=fri&start_time=25:00&end_time=23:00"),
            "start_time",
            400,
        ),
        (
            "weekdays=fri&start_time=21:00&end_time=23:00".to_owned(),
            "line",
            422,
        ),
        (format!("line={line}&datetime=igår"), "datetime", 400),
        (format!("line={line}&colour=red"), "", 400),
    ] {
        let r = police
            .get(app.url(&format!("/analysis/route-score?{q}")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), status, "{q}");
        let p = assert_problem(r, status).await;
        assert!(
            param.is_empty() || p.to_string().contains(param),
            "{q}: {p} should name {param}"
        );
    }
    // A route nobody has: 404, like any feature one cannot see.
    let r = police
        .get(app.url(&format!(
            "/analysis/route-score?routes={}",
            uuid::Uuid::new_v4()
        )))
        .send()
        .await
        .unwrap();
    assert_problem(r, 404).await;
    app.stop().await;
}

#[tokio::test]
async fn a_routes_score_does_not_depend_on_the_routes_asked_with_it() {
    let db = fresh_sqlite();
    let app = TestApp::spawn(&db.url, true).await;
    let police =
        client_with_token(&token_for(&app.service, "rs-polis4", "police", "Polisen").await);
    let routes = get_value(
        &police,
        &app.url("/collections/patrol_routes/items?limit=5"),
    )
    .await;
    let ids: Vec<&str> = routes["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap())
        .collect();
    assert!(ids.len() >= 3);
    let ask = |ids: &[&str]| {
        app.url(&format!(
            "/analysis/route-score?routes={}&datetime={WINDOW}",
            ids.join(",")
        ))
    };
    let together = get_value(&police, &ask(&ids)).await;
    for (i, id) in ids.iter().enumerate() {
        let alone = get_value(&police, &ask(&[id])).await;
        assert_eq!(alone["routes"][0], together["routes"][i], "{id}");
    }
}

#[tokio::test]
async fn a_suggested_route_walks_the_paths_and_is_compared_on_held_out_weeks() {
    let db = fresh_sqlite();
    let app = TestApp::spawn(&db.url, true).await;
    let police =
        client_with_token(&token_for(&app.service, "rs-polis5", "police", "Polisen").await);
    // The demo's streets, as segments rounded to the 7 decimals answers carry.
    let key = |c: &[f64]| ((c[0] * 1e7).round() as i64, (c[1] * 1e7).round() as i64);
    let (paths, _) = lagesbild::demo::reference();
    let mut streets = std::collections::BTreeSet::new();
    for p in &paths {
        let geo::Geometry::LineString(l) = p else {
            panic!()
        };
        let (a, b) = (key(&[l.0[0].x, l.0[0].y]), key(&[l.0[1].x, l.0[1].y]));
        streets.insert((a, b));
        streets.insert((b, a));
    }
    // A drawn line from Alby centrum, without a schedule (so every incident counts).
    let line = drawn_line();
    let s = get_value(
        &police,
        &app.url(&format!("/analysis/route-suggestion?line={}", enc(&line))),
    )
    .await;
    assert_eq!(s["input"], "positions", "{s}");
    let coords = s["suggested"]["geometry"]["coordinates"]
        .as_array()
        .unwrap();
    assert!(coords.len() >= 2, "{s}");
    for w in coords.windows(2) {
        let a = key(&[w[0][0].as_f64().unwrap(), w[0][1].as_f64().unwrap()]);
        let b = key(&[w[1][0].as_f64().unwrap(), w[1][1].as_f64().unwrap()]);
        // Rounding may move a vertex by one in the last place.
        let near = streets.iter().any(|(p, q)| {
            (p.0 - a.0).abs() <= 1
                && (p.1 - a.1).abs() <= 1
                && (q.0 - b.0).abs() <= 1
                && (q.1 - b.1).abs() <= 1
        });
        assert!(near, "{w:?} is not a street segment");
    }
    let budget = s["budget_m"].as_f64().unwrap();
    assert!(
        s["held_out"]["suggested"]["length_m"].as_f64().unwrap() <= budget + 1.0,
        "{s}"
    );
    // Held-out counts: what the items answer counts within 100 m of each line in those weeks.
    let window = format!(
        "{}T00:00:00Z/{}T23:59:59Z",
        s["held_out"]["from"].as_str().unwrap(),
        s["held_out"]["to"].as_str().unwrap()
    );
    for (which, geometry) in [("suggested", &s["suggested"]["geometry"]), ("drawn", &line)] {
        let n = get_value(
            &police,
            &app.url(&format!(
                "/collections/incidents/items?limit=0&intersects={}&distance=100&datetime={window}",
                enc(geometry)
            )),
        )
        .await["numberMatched"]
            .as_f64()
            .unwrap();
        let got = s["held_out"][which]["incidents"].as_f64().unwrap();
        // Positions served at 7 decimals may sit a hair either side of 100 m: allow one.
        assert!((got - n).abs() <= 1.0, "{which}: {got} vs {n}");
    }
    let (d, g) = (
        s["held_out"]["drawn"]["incidents"].as_f64().unwrap(),
        s["held_out"]["suggested"]["incidents"].as_f64().unwrap(),
    );
    if d > 0.0 {
        assert!(
            (s["gain"].as_f64().unwrap() - (g / d - 1.0)).abs() < 1e-3,
            "{s}"
        );
    }
    // The search learns only from the weeks before: more there than the drawn line there.
    assert!(
        s["training"]["suggested"]["incidents"].as_f64().unwrap()
            >= s["training"]["drawn"]["incidents"].as_f64().unwrap() * 0.5,
        "{s}"
    );
    for (q, status) in [
        (format!("line={}&budget_m=50", enc(&line)), 400),
        (
            format!("line={}&route={}", enc(&line), uuid::Uuid::new_v4()),
            422,
        ),
        (String::new(), 422),
    ] {
        let r = police
            .get(app.url(&format!("/analysis/route-suggestion?{q}")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), status, "{q}");
        assert_problem(r, status).await;
    }
    // Far from every street: said.
    let far = json!({"type": "LineString", "coordinates": [[18.30, 59.50], [18.31, 59.50]]});
    let r = police
        .get(app.url(&format!("/analysis/route-suggestion?line={}", enc(&far))))
        .send()
        .await
        .unwrap();
    let p = assert_problem(r, 422).await;
    assert!(p.to_string().contains("nearest imported path"), "{p}");
    app.stop().await;

    // Without a path network: said, with the command that imports one.
    let db = fresh_sqlite();
    let app = TestApp::spawn(&db.url, false).await;
    let police =
        client_with_token(&token_for(&app.service, "rs-polis6", "police", "Polisen").await);
    let r = police
        .get(app.url(&format!("/analysis/route-suggestion?line={}", enc(&line))))
        .send()
        .await
        .unwrap();
    let p = assert_problem(r, 422).await;
    assert!(p.to_string().contains("reference import paths"), "{p}");
    app.stop().await;
}

#[tokio::test]
async fn a_route_above_the_callers_ceiling_does_not_exist_for_it() {
    // The demo's police routes are internal; a night walker's ceiling is open: such a route
    // is 404 to it on every route endpoint, as any feature above its ceiling is.
    let db = fresh_sqlite();
    let app = TestApp::spawn(&db.url, true).await;
    let police =
        client_with_token(&token_for(&app.service, "rs-polis7", "police", "Polisen").await);
    let walker = client_with_token(
        &token_for(&app.service, "rs-natt2", "night_walker", "Nattvandrarna").await,
    );
    let routes = get_value(
        &police,
        &app.url("/collections/patrol_routes/items?limit=100"),
    )
    .await;
    let internal = routes["features"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["properties"]["classification"] == "internal")
        .expect("the demo has internal routes");
    let id = internal["id"].as_str().unwrap();
    for path in [
        format!("/analysis/route-score?routes={id}"),
        format!("/analysis/route-suggestion?route={id}"),
        format!("/analysis/patrol-plan?route={id}"),
    ] {
        let r = walker.get(app.url(&path)).send().await.unwrap();
        assert_problem(r, 404).await;
        let r = police.get(app.url(&path)).send().await.unwrap();
        assert_ne!(r.status().as_u16(), 404, "{path}: police see it");
    }
    app.stop().await;
}
