//! Item 5: a property the grant hides cannot be changed by PUT or PATCH, and is kept.

use serde_json::json;

use super::common::{TestApp, assert_problem, incident, send_geojson, send_patch};
use super::{as_role, backends, create};
use lagesbild::domain::{Layer, Properties};

fn reference_of(app: &TestApp, id: &str) -> Option<String> {
    let f = app
        .service
        .unrestricted()
        .get(Layer::Incidents, id.parse().unwrap())
        .unwrap();
    match &f.properties {
        Properties::Incident(p) => p.reference.as_deref().map(str::to_owned),
        _ => unreachable!(),
    }
}

#[tokio::test]
async fn patch_and_put_cannot_write_a_hidden_property_and_leaving_it_out_keeps_it() {
    let (urls, _db) = backends().await;
    for url in urls {
        let app = TestApp::spawn(&url, false).await;
        let coordinator = as_role(&app, "security_coordinator").await;
        let mut body = incident(17.84, 59.24, "vandalism", "2026-11-20T21:00:00Z");
        body["properties"]["organisation"] = json!("Botkyrka kommun");
        body["properties"]["reference"] = json!("BK-2026-17");
        let created = create(&app, &coordinator, "incidents", &body).await;
        let id = created["id"].as_str().unwrap().to_owned();
        let item = app.url(&format!("/collections/incidents/items/{id}"));

        // PATCH naming the hidden property: refused, whatever the value (null deletes).
        for value in [json!("GISSNING-1"), json!("BK-2026-17"), json!(null)] {
            let p = assert_problem(
                send_patch(
                    coordinator.patch(&item),
                    1,
                    &json!({"properties": {"reference": value, "severity": 5}}),
                )
                .await,
                422,
            )
            .await;
            assert!(
                p["errors"][0]["pointer"] == "/properties/reference",
                "{url}: {p}"
            );
        }
        // PUT naming it: refused alike.
        let mut replacement = created.clone();
        replacement["properties"]["reference"] = json!("GISSNING-2");
        assert_problem(
            send_geojson(
                coordinator.put(&item).header("if-match", "\"1\""),
                &replacement,
            )
            .await,
            422,
        )
        .await;
        assert_eq!(reference_of(&app, &id).as_deref(), Some("BK-2026-17"));
        // Leaving it out keeps it, on both.
        let r = send_patch(
            coordinator.patch(&item),
            1,
            &json!({"properties": {"severity": 5}}),
        )
        .await;
        assert_eq!(r.status(), 200, "{url}");
        let mut replacement = created.clone();
        replacement["properties"]["severity"] = json!(1);
        let r = send_geojson(
            coordinator.put(&item).header("if-match", "\"2\""),
            &replacement,
        )
        .await;
        assert_eq!(r.status(), 200, "{url}");
        assert_eq!(reference_of(&app, &id).as_deref(), Some("BK-2026-17"));
        app.stop().await;
    }
}
