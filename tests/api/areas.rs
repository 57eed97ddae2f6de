//! Issue 13: areas have a level. A municipality's outline around its districts frames maps but
//! is never counted (no bucket, no agenda row, no double count) and never labels a coarse
//! feature; an `other` outline is counted like a district.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::common::{TestApp, client_with_token, fresh_sqlite, get_value, token_for};

fn by_area(fc: &Value) -> BTreeMap<String, u64> {
    fc["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            (
                b["properties"]["name"].as_str().unwrap_or("").to_owned(),
                b["properties"]["count"].as_u64().unwrap(),
            )
        })
        .collect()
}

fn labels(fc: &Value) -> BTreeMap<String, String> {
    fc["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["id"].as_str().unwrap().to_owned(),
                f["properties"]["area"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_municipality_outline_is_neither_counted_nor_a_label() {
    let db = fresh_sqlite();
    let app = TestApp::spawn(&db.url, true).await;
    let social = client_with_token(
        &token_for(&app.service, "a-soc", "social_services", "Botkyrka kommun").await,
    );
    let walker = client_with_token(
        &token_for(&app.service, "a-walk", "night_walker", "Nattvandrarna").await,
    );
    let (_, exact_before) = app
        .get_json("/collections/incidents/aggregate?by=area")
        .await;
    let coarse_before = get_value(
        &social,
        &app.url("/collections/incidents/items?limit=10000"),
    )
    .await;
    let anon_before = get_value(
        &walker,
        &app.url("/collections/incidents/aggregate?by=area"),
    )
    .await;
    let (_, agenda_before) = app.get_json("/meetings/agenda").await;

    // The whole municipality, around every district (open, so every role sees it).
    let r = app
        .post(
            "/collections/areas/items",
            &json!({"type": "Feature",
                "geometry": {"type": "Polygon", "coordinates": [[[17.5, 59.0], [18.3, 59.0], [18.3, 59.5], [17.5, 59.5], [17.5, 59.0]]]},
                "properties": {"name": "Hela kommunen", "municipality": "Botkyrka", "level": "municipality",
                    "organisation": "Botkyrka kommun", "classification": "open", "source": "test"}}),
        )
        .await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());

    let (_, exact_after) = app
        .get_json("/collections/incidents/aggregate?by=area")
        .await;
    assert_eq!(
        by_area(&exact_after),
        by_area(&exact_before),
        "exact counts by area"
    );
    assert!(!by_area(&exact_after).contains_key("Hela kommunen"));
    let coarse_after = get_value(
        &social,
        &app.url("/collections/incidents/items?limit=10000"),
    )
    .await;
    assert_eq!(
        labels(&coarse_after),
        labels(&coarse_before),
        "coarse labels"
    );
    assert!(!labels(&coarse_after).values().any(|a| a == "Hela kommunen"));
    let anon_after = get_value(
        &walker,
        &app.url("/collections/incidents/aggregate?by=area"),
    )
    .await;
    assert_eq!(
        by_area(&anon_after),
        by_area(&anon_before),
        "counts for counts-only roles"
    );
    let (_, agenda_after) = app.get_json("/meetings/agenda").await;
    let names = |a: &Value| -> Vec<String> {
        a["areas"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x["name"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(names(&agenda_after), names(&agenda_before), "agenda areas");
    // It is still an area: listed, and a window by name for analyses and briefings.
    let (_, areas) = app.get_json("/collections/areas/items?limit=1000").await;
    assert!(
        areas["features"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["properties"]["name"] == "Hela kommunen"
                && a["properties"]["level"] == "municipality")
    );
    let r = app.get("/analysis/hotspots?area=Hela%20kommunen").await;
    assert_ne!(r.status(), 404, "a municipality is a window by name");

    // An `other` outline is counted like a district.
    let (_, cells) = app.get_json("/collections/incidents/items?limit=1").await;
    let c = &cells["features"][0]["geometry"]["coordinates"];
    let (x, y) = (c[0].as_f64().unwrap(), c[1].as_f64().unwrap());
    let d = 0.002;
    let r = app
        .post(
            "/collections/areas/items",
            &json!({"type": "Feature",
                "geometry": {"type": "Polygon", "coordinates": [[[x - d, y - d], [x + d, y - d], [x + d, y + d], [x - d, y + d], [x - d, y - d]]]},
                "properties": {"name": "Skolgården", "municipality": "Botkyrka", "level": "other",
                    "organisation": "Botkyrka kommun", "source": "test"}}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let (_, exact) = app
        .get_json("/collections/incidents/aggregate?by=area")
        .await;
    assert!(
        by_area(&exact).get("Skolgården").is_some_and(|n| *n >= 1),
        "{exact}"
    );
    // A level that does not exist is named.
    let r = app
        .post(
            "/collections/areas/items",
            &json!({"type": "Feature",
                "geometry": {"type": "Polygon", "coordinates": [[[x - d, y - d], [x + d, y - d], [x + d, y + d], [x - d, y + d], [x - d, y - d]]]},
                "properties": {"name": "X", "municipality": "Botkyrka", "level": "län", "organisation": "K"}}),
        )
        .await;
    let p = crate::common::assert_problem(r, 422).await;
    assert!(
        p.to_string().contains("municipality, district, other"),
        "{p}"
    );
}
