//! Patrol dosage over HTTP: an evening's plan stops only at the hot cells the hot spot analysis
//! finds along the route, by the Koper rule, the same every time; walks log stops by cell and
//! minutes (checked); the weekly report adds up exactly the plans and the logged stops.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};
use time::macros::format_description;
use time::{Date, Duration, OffsetDateTime};

use crate::common::{
    TestApp, assert_problem, client_with_token, fresh_sqlite, get_value, pointers, send_geojson,
    token_for,
};

const DAY: &[time::format_description::BorrowedFormatItem<'static>] =
    format_description!("[year]-[month]-[day]");

fn rfc(t: &str) -> OffsetDateTime {
    OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339).unwrap()
}

/// The last date before `today` that falls on one of `days` (`mon`…`sun`).
fn last_walked(today: Date, days: &Value) -> Date {
    let names = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
    (1..=7)
        .map(|k| today - Duration::days(k))
        .find(|d| {
            let n = names[usize::from(d.weekday().number_days_from_monday())];
            days.as_array().unwrap().iter().any(|x| x == n)
        })
        .unwrap()
}

#[tokio::test]
async fn an_evening_plan_stops_at_the_hot_cells_along_the_route_by_the_koper_rule() {
    let db = fresh_sqlite();
    let app = TestApp::spawn(&db.url, true).await;
    let police =
        client_with_token(&token_for(&app.service, "dos-polis", "police", "Polisen").await);
    let today = app.service.clock().now().date();
    let routes = get_value(
        &police,
        &app.url("/collections/patrol_routes/items?limit=100"),
    )
    .await;
    let mut planned_somewhere = 0;
    for route in routes["features"].as_array().unwrap() {
        if route["properties"]["status"] != "active" {
            continue;
        }
        let id = route["id"].as_str().unwrap();
        let date = last_walked(today, &route["properties"]["weekdays"]);
        let url = app.url(&format!(
            "/analysis/patrol-plan?route={id}&date={}",
            date.format(DAY).unwrap()
        ));
        let plan = get_value(&police, &url).await;
        assert!(plan["stops"].is_object(), "{plan}");
        assert_eq!(
            plan,
            get_value(&police, &url).await,
            "the same evening, the same plan"
        );
        // The hot cells along it are hot cells of the four weeks before (Gi*, class above 0).
        // The four weeks before the evening, midnight to midnight in Sweden.
        let sweden = |d: Date| {
            lagesbild::domain::time::from_swedish_local(d.midnight())
                .to_offset(time::UtcOffset::UTC)
        };
        let rfc3339 = time::format_description::well_known::Rfc3339;
        let window = format!(
            "{}/{}",
            sweden(date - Duration::days(28)).format(&rfc3339).unwrap(),
            (sweden(date) - Duration::seconds(1))
                .format(&rfc3339)
                .unwrap()
        );
        let hot = get_value(
            &police,
            &app.url(&format!("/analysis/hotspots?datetime={window}")),
        )
        .await;
        let hot: BTreeSet<String> = hot["features"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["properties"]["class"].as_i64().unwrap() > 0)
            .map(|f| f["id"].as_str().unwrap().to_owned())
            .collect();
        let along: BTreeSet<String> = plan["hot_cells_along"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["cell"].as_str().unwrap().to_owned())
            .collect();
        assert!(along.is_subset(&hot), "{along:?} ⊄ {hot:?}");
        let planned: BTreeSet<String> = plan["cells"]
            .as_array()
            .unwrap()
            .iter()
            .chain(plan["left_out"].as_array().unwrap())
            .map(|c| c.as_str().unwrap().to_owned())
            .collect();
        assert_eq!(
            planned, along,
            "every hot cell along it planned or said left out"
        );
        // Stops: 10–15 minutes, in order, inside the evening, back within two hours.
        let (starts, ends) = (
            rfc(plan["starts"].as_str().unwrap()),
            rfc(plan["ends"].as_str().unwrap()),
        );
        let mut free = starts;
        let mut last_at: BTreeMap<String, OffsetDateTime> = BTreeMap::new();
        for s in plan["stops"]["features"].as_array().unwrap() {
            let p = &s["properties"];
            let cell = p["cell"].as_str().unwrap().to_owned();
            let minutes = p["minutes"].as_i64().unwrap();
            let at = rfc(p["arrive"].as_str().unwrap());
            assert!((10..=15).contains(&minutes), "{s}");
            assert!(at >= free && at + Duration::minutes(minutes) <= ends, "{s}");
            assert!(along.contains(&cell), "{s}");
            if let Some(before) = last_at.insert(cell, at) {
                assert!(at - before <= Duration::minutes(120), "{s}");
            }
            free = at + Duration::minutes(minutes);
            planned_somewhere += 1;
        }
        // Not walked that day: said, by name.
        let off = (1..=7).map(|k| today - Duration::days(k)).find(|d| {
            d.weekday() != date.weekday() && {
                let names = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
                let n = names[usize::from(d.weekday().number_days_from_monday())];
                !route["properties"]["weekdays"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|x| x == n)
            }
        });
        if let Some(off) = off {
            let r = police
                .get(app.url(&format!(
                    "/analysis/patrol-plan?route={id}&date={}",
                    off.format(DAY).unwrap()
                )))
                .send()
                .await
                .unwrap();
            let p = assert_problem(r, 422).await;
            assert!(p.to_string().contains("date"), "{p}");
        }
    }
    assert!(planned_somewhere > 0, "some route passes hot cells");
    for (q, status) in [
        (
            "route=6f1c2a4e-0000-4000-8000-000000000000&date=9999-12-31",
            400,
        ),
        (
            "route=6f1c2a4e-0000-4000-8000-000000000000&date=1899-12-29",
            400,
        ),
        ("route=nope", 400),
        (
            "route=6f1c2a4e-0000-4000-8000-000000000000&date=2026-12-01",
            404,
        ),
        ("route=6f1c2a4e-0000-4000-8000-000000000000&date=igår", 400),
        ("date=2026-12-01", 400),
    ] {
        let r = police
            .get(app.url(&format!("/analysis/patrol-plan?{q}")))
            .send()
            .await
            .unwrap();
        assert_problem(r, status).await;
    }
    app.stop().await;
}

#[tokio::test]
async fn the_weekly_report_adds_up_the_plans_and_the_logged_stops() {
    let db = fresh_sqlite();
    let app = TestApp::spawn(&db.url, true).await;
    let coord = client_with_token(
        &token_for(
            &app.service,
            "dos-samordnare",
            "security_coordinator",
            "Botkyrka kommun",
        )
        .await,
    );
    let today = app.service.clock().now().date();
    let monday = today
        - Duration::days(i64::from(today.weekday().number_days_from_monday()))
        - Duration::weeks(1);
    let (y, w, _) = monday.to_iso_week_date();
    let week = format!("{y:04}-W{w:02}");
    let report = |c: reqwest::Client| {
        let url = app.url(&format!("/analysis/dosage?week={week}"));
        async move { get_value(&c, &url).await }
    };
    let before = report(coord.clone()).await;
    assert_eq!(before["week"], week.as_str(), "{before}");

    // Planned minutes: every active route's plans for its evenings of the week, summed by the
    // route's organisation and cell.
    let routes = get_value(
        &coord,
        &app.url("/collections/patrol_routes/items?limit=100"),
    )
    .await;
    let names = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
    let mut planned: BTreeMap<(String, String), i64> = BTreeMap::new();
    let mut sessions = 0;
    for route in routes["features"].as_array().unwrap() {
        if route["properties"]["status"] != "active" {
            continue;
        }
        for k in 0..7 {
            let date = monday + Duration::days(k);
            let n = names[usize::from(date.weekday().number_days_from_monday())];
            if !route["properties"]["weekdays"]
                .as_array()
                .unwrap()
                .iter()
                .any(|x| x == n)
            {
                continue;
            }
            sessions += 1;
            let plan = get_value(
                &coord,
                &app.url(&format!(
                    "/analysis/patrol-plan?route={}&date={}",
                    route["id"].as_str().unwrap(),
                    date.format(DAY).unwrap()
                )),
            )
            .await;
            for s in plan["stops"]["features"].as_array().unwrap() {
                *planned
                    .entry((
                        route["properties"]["organisation"]
                            .as_str()
                            .unwrap()
                            .to_owned(),
                        s["properties"]["cell"].as_str().unwrap().to_owned(),
                    ))
                    .or_default() += s["properties"]["minutes"].as_i64().unwrap();
            }
        }
    }
    assert_eq!(before["sessions"], sessions);
    let mut got: BTreeMap<(String, String), i64> = BTreeMap::new();
    for o in before["organisations"].as_array().unwrap() {
        for c in o["cells"].as_array().unwrap() {
            let p = c["planned"].as_i64().unwrap();
            if p > 0 {
                got.insert(
                    (
                        o["organisation"].as_str().unwrap().to_owned(),
                        c["cell"].as_str().unwrap().to_owned(),
                    ),
                    p,
                );
            }
        }
    }
    assert_eq!(got, planned);
    assert!(!planned.is_empty(), "the week has plans");

    // A walk with two stops at one cell: the coordinator's organisation logs 25 more minutes
    // and two more stops there.
    let route = &routes["features"][0];
    let started = OffsetDateTime::new_utc(
        monday + Duration::days(2),
        time::Time::from_hms(20, 0, 0).unwrap(),
    );
    let at = |m: i64| {
        (started + Duration::minutes(m))
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap()
    };
    let cell = "E2648_N26280";
    let walk = json!({"type": "Feature", "geometry": route["geometry"], "properties": {
        "route_id": route["id"], "started_at": at(0), "ended_at": at(150), "walkers": 3,
        "stops": [{"cell": cell, "arrived_at": at(10), "minutes": 12},
                  {"cell": cell, "arrived_at": at(90), "minutes": 13}]}});
    let r = send_geojson(coord.post(app.url("/collections/walks/items")), &walk).await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let after = report(coord.clone()).await;
    let cell_of = |v: &Value| -> (i64, i64) {
        v["organisations"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|o| o["organisation"] == "Botkyrka kommun")
            .flat_map(|o| o["cells"].as_array().unwrap())
            .filter(|c| c["cell"] == cell)
            .map(|c| (c["logged"].as_i64().unwrap(), c["stops"].as_i64().unwrap()))
            .fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1))
    };
    let (m0, s0) = cell_of(&before);
    let (m1, s1) = cell_of(&after);
    assert_eq!((m1 - m0, s1 - s0), (25, 2), "{after}");

    // Stops that are not stops: each named by its pointer.
    let bad = json!({"type": "Feature", "geometry": route["geometry"], "properties": {
        "route_id": route["id"], "started_at": at(0), "ended_at": at(60), "walkers": 3,
        "stops": [{"cell": "59.24,17.84", "arrived_at": at(10), "minutes": 12},
                  {"cell": cell, "arrived_at": at(15), "minutes": 10},
                  {"cell": cell, "arrived_at": at(55), "minutes": 30},
                  {"cell": cell, "arrived_at": at(20), "minutes": 0}]}});
    let r = send_geojson(coord.post(app.url("/collections/walks/items")), &bad).await;
    let p = assert_problem(r, 422).await;
    let named = pointers(&p);
    for want in [
        "/properties/stops/0/cell",
        "/properties/stops/1/arrived_at",
        "/properties/stops/2/arrived_at",
        "/properties/stops/3/minutes",
    ] {
        assert!(named.iter().any(|n| n == want), "{want} in {named:?}");
    }
    // A stop with a position is refused: cells and minutes only.
    let trail = json!({"type": "Feature", "geometry": route["geometry"], "properties": {
        "route_id": route["id"], "started_at": at(0), "ended_at": at(60), "walkers": 3,
        "stops": [{"cell": cell, "arrived_at": at(10), "minutes": 12, "position": [17.84, 59.24]}]}});
    let r = send_geojson(coord.post(app.url("/collections/walks/items")), &trail).await;
    let p = assert_problem(r, 422).await;
    assert!(p.to_string().contains("position"), "{p}");

    // A week out of range: said, not a failure of the server.
    let r = coord
        .get(app.url("/analysis/dosage?week=9999-W52"))
        .send()
        .await
        .unwrap();
    let p = assert_problem(r, 400).await;
    assert!(p.to_string().contains("week"), "{p}");
    // A stop at the end of time is refused by its pointer, not by a crash.
    let end = json!({"type": "Feature", "geometry": route["geometry"], "properties": {
        "route_id": route["id"], "started_at": at(0), "ended_at": at(60), "walkers": 3,
        "stops": [{"cell": cell, "arrived_at": "9999-12-31T23:59:00Z", "minutes": 30}]}});
    let r = send_geojson(coord.post(app.url("/collections/walks/items")), &end).await;
    let p = assert_problem(r, 422).await;
    assert!(
        pointers(&p)
            .iter()
            .any(|n| n == "/properties/stops/0/arrived_at"),
        "{p}"
    );
    let r = coord
        .get(app.url("/analysis/dosage?week=2026-49"))
        .send()
        .await
        .unwrap();
    let p = assert_problem(r, 400).await;
    assert!(p.to_string().contains("week"), "{p}");
    app.stop().await;
}
