//! Item 2: a POST cannot tell a taken id from a free one (ids are the server's to give).

use serde_json::json;
use uuid::Uuid;

use super::common::{TestApp, assert_problem, incident, send_geojson};
use super::{as_role, backends, create};

#[tokio::test]
async fn a_client_chosen_id_answers_the_same_whether_taken_hidden_deleted_or_free() {
    let (urls, _db) = backends().await;
    for url in urls {
        let app = TestApp::spawn(&url, false).await;
        let police = as_role(&app, "police").await;
        // Taken by a restricted feature (above the field worker's ceiling)...
        let mut secret = incident(17.84, 59.24, "shooting", "2026-11-20T21:00:00Z");
        secret["properties"]["classification"] = json!("restricted");
        let restricted = create(&app, &police, "incidents", &secret).await["id"]
            .as_str()
            .unwrap()
            .to_owned();
        // ... by a feature of another layer, and by a deleted one.
        let camera = create(
            &app,
            &app.client,
            "cameras",
            &json!({"type": "Feature", "geometry": {"type": "Point", "coordinates": [17.85, 59.25]},
                "properties": {"owner": "municipality", "status": "active", "direction": 90.0, "field_of_view": 60.0, "range_m": 50.0, "organisation": "Botkyrka kommun"}}),
        )
        .await["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let gone = create(
            &app,
            &police,
            "incidents",
            &incident(17.83, 59.23, "car_fire", "2026-11-20T21:00:00Z"),
        )
        .await["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let r = police
            .delete(app.url(&format!("/collections/incidents/items/{gone}")))
            .header("if-match", "\"1\"")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 204);

        let walker = as_role(&app, "field_worker").await;
        let mut answers = Vec::new();
        for id in [restricted.clone(), camera, gone, Uuid::new_v4().to_string()] {
            let mut body = incident(17.84, 59.24, "vandalism", "2026-11-20T21:00:00Z");
            body["id"] = json!(id);
            body["properties"]["organisation"] = json!("Botkyrka kommun");
            let p = assert_problem(
                send_geojson(walker.post(app.url("/collections/incidents/items")), &body).await,
                422,
            )
            .await;
            answers.push(p);
        }
        assert!(
            answers.windows(2).all(|w| w[0] == w[1]),
            "{url}: every id answers alike: {answers:?}"
        );
        assert!(answers[0]["detail"].as_str().unwrap().contains("/id"));
        // Without an id the server assigns one.
        let mut body = incident(17.84, 59.24, "vandalism", "2026-11-20T21:00:00Z");
        body["properties"]["organisation"] = json!("Botkyrka kommun");
        let made = create(&app, &walker, "incidents", &body).await;
        assert_ne!(made["id"].as_str().unwrap(), restricted);
        app.stop().await;
    }
}
