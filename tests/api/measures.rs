//! Measures (åtgärder): created and changed through the same paths as every layer, with their
//! own rules refused by field, on SQLite and PostGIS.

use serde_json::{Value, json};

use crate::common::{
    TestApp, assert_problem, client_with_token, fresh_pg_url, fresh_sqlite, pg_admin_url, pointers,
    send_geojson, token_for,
};

fn measure() -> Value {
    json!({"type": "Feature", "geometry": {"type": "Point", "coordinates": [17.8448, 59.2393]},
        "properties": {"title": "Belysning vid gångtunneln", "description": "Nya armaturer",
            "kind": "situational", "cause": {"bone": "place", "text": "Mörk passage"},
            "owner": "Tekniska förvaltningen", "status": "decided", "decided_at": "2026-W49",
            "start": "2026-12-07", "due": "2027-01-31", "horizon": "short",
            "target_categories": ["vandalism", "threat_violence"],
            "organisation": "Botkyrka kommun", "classification": "open"}})
}

async fn check(url: &str) {
    let app = TestApp::spawn(url, false).await;
    let coordinator = client_with_token(
        &token_for(
            &app.service,
            "m-coord",
            "security_coordinator",
            "Botkyrka kommun",
        )
        .await,
    );
    let items = app.url("/collections/measures/items");
    let r = send_geojson(coordinator.post(&items), &measure()).await;
    assert_eq!(r.status(), 201, "{url}");
    let created: Value = r.json().await.unwrap();
    assert_eq!(created["properties"]["status"], "decided");

    // Its own rules, each named by field.
    for (change, pointer) in [
        (json!({"due": "2026-11-01"}), "/properties/due"),
        (json!({"status": "done"}), "/properties/end"),
        (
            json!({"target_categories": []}),
            "/properties/target_categories",
        ),
        (
            json!({"target_categories": ["graffiti"]}),
            "/properties/target_categories",
        ),
        (json!({"decided_at": null}), "/properties/decided_at"),
        (
            json!({"description": "Ring 070-123 45 67"}),
            "/properties/description",
        ),
    ] {
        let mut body = measure();
        for (k, v) in change.as_object().unwrap() {
            if v.is_null() {
                body["properties"].as_object_mut().unwrap().remove(k);
            } else {
                body["properties"][k] = v.clone();
            }
        }
        let p = assert_problem(send_geojson(coordinator.post(&items), &body).await, 422).await;
        assert!(
            pointers(&p).iter().any(|x| x.starts_with(pointer)),
            "{url} {change}: {p}"
        );
    }
    // Filters: kind as category, status, the start–end span as time.
    let page: Value = coordinator
        .get(app.url(
            "/collections/measures/items?category=situational&status=decided&datetime=2026-12-10",
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(page["numberMatched"], 1, "{url}: {page}");
    // Social services make their own, and may not change the coordinator's.
    let social = client_with_token(
        &token_for(
            &app.service,
            "m-social",
            "social_services",
            "Botkyrka kommun",
        )
        .await,
    );
    let mut theirs = measure();
    theirs["properties"]["organisation"] = json!("Polisen");
    assert_problem(send_geojson(social.post(&items), &theirs).await, 403).await;
    // Night walkers see open measures only.
    let walker = client_with_token(
        &token_for(&app.service, "m-walker", "night_walker", "Nattvandrarna").await,
    );
    let mut internal = measure();
    internal["properties"]["classification"] = json!("internal");
    assert_eq!(
        send_geojson(coordinator.post(&items), &internal)
            .await
            .status(),
        201
    );
    let seen: Value = walker
        .get(&items)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(seen["numberMatched"], 1, "{url}: only the open one");
    app.stop().await;
}

#[tokio::test]
async fn measures_follow_their_rules_and_the_grants_on_sqlite() {
    let db = fresh_sqlite();
    check(&db.url).await;
}

#[tokio::test]
async fn measures_follow_their_rules_and_the_grants_on_postgis() {
    let Some(admin) = pg_admin_url() else { return };
    check(&fresh_pg_url(&admin).await).await;
}
