//! The personal-data guard over HTTP: a 422 naming the field and why, and nothing stored.

use serde_json::json;

use super::common::{TestApp, assert_problem, fresh_sqlite, incident, pointers};
use lagesbild::domain::Layer;

#[tokio::test]
async fn identity_and_phone_numbers_in_free_text_are_refused_with_the_field_named() {
    let db = fresh_sqlite();
    let app = TestApp::spawn(&db.url, false).await;
    for (text, why) in [
        (
            "Pojke 19121212-1212 sågs vid torget",
            "personal identity number",
        ),
        (
            "Pojke 121212-1212 sågs vid torget",
            "personal identity number",
        ),
        ("1212121212 igen", "personal identity number"),
        ("ring 070-123 45 67 vid behov", "phone number"),
        ("+46 70 123 45 67", "phone number"),
    ] {
        let mut body = incident(17.84, 59.24, "other", "2026-11-20T21:00:00Z");
        body["properties"]["description"] = json!(text);
        let p = assert_problem(app.post("/collections/incidents/items", &body).await, 422).await;
        assert_eq!(pointers(&p), vec!["/properties/description"], "{text}: {p}");
        assert!(p["detail"].as_str().unwrap().contains(why), "{text}: {p}");
    }
    assert_eq!(
        app.service.store().count(Layer::Incidents).await.unwrap(),
        0
    );
    assert_eq!(app.service.unrestricted().len(Layer::Incidents), 0);
    // Other text fields are guarded too (a walk report, a route name).
    let mut route = json!({"type": "Feature",
        "geometry": {"type": "LineString", "coordinates": [[17.84, 59.24], [17.85, 59.25]]},
        "properties": {"name": "Runda, kontakt 08-123 456 78", "kind": "night_walkers", "weekdays": ["fri"],
            "start_time": "21:00", "end_time": "01:00", "organisation": "Nattvandrarna"}});
    let p = assert_problem(
        app.post("/collections/patrol_routes/items", &route).await,
        422,
    )
    .await;
    assert_eq!(pointers(&p), vec!["/properties/name"], "{p}");
    // A number with a wrong check digit is not a personal number: stored.
    let mut body = incident(17.84, 59.24, "other", "2026-11-20T21:00:00Z");
    body["properties"]["description"] = json!("ärende 121212-1213, 3 bilar, kl 22-23");
    assert_eq!(
        app.post("/collections/incidents/items", &body)
            .await
            .status(),
        201
    );
    route["properties"]["name"] = json!("Runda Alby");
    assert_eq!(
        app.post("/collections/patrol_routes/items", &route)
            .await
            .status(),
        201
    );
    // The refused attempts are audited as invalid writes.
    let rows = app
        .service
        .audit_records(&lagesbild::store::audit::AuditFilter {
            action: Some("create".into()),
            limit: 100,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(rows.iter().filter(|r| r.outcome == "invalid").count(), 6);
    app.stop().await;
}
