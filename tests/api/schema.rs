//! `/collections/{id}/schema`: every feature a role receives is valid against the schema the
//! same role is served, and carries every property it names (GDAL makes its columns from the
//! first features it reads, so a property left out when empty loses the column).

use std::collections::BTreeSet;

use crate::common::{TestApp, client_with_token, fetch, fresh_sqlite, token_for};

const LAYERS: &[&str] = &[
    "incidents",
    "risk_environments",
    "cameras",
    "patrol_routes",
    "walks",
    "areas",
    "measures",
];

async fn json(client: &reqwest::Client, url: &str) -> (u16, String, serde_json::Value) {
    let (status, ct, body) = fetch(client, url, None).await;
    (status, ct, serde_json::from_str(&body).unwrap())
}

#[tokio::test]
async fn every_feature_is_valid_against_its_roles_schema_and_has_every_property() {
    let db = fresh_sqlite();
    let app = TestApp::spawn(&db.url, true).await;
    let mut checked = 0;
    for (name, role) in [
        ("s-admin", "admin"),
        ("s-coordinator", "security_coordinator"),
        ("s-social", "social_services"),
        ("s-walker", "night_walker"),
    ] {
        let client =
            client_with_token(&token_for(&app.service, name, role, "Botkyrka kommun").await);
        for layer in LAYERS {
            let (status, ct, schema) =
                json(&client, &app.url(&format!("/collections/{layer}/schema"))).await;
            let (items_status, _, page) = json(
                &client,
                &app.url(&format!("/collections/{layer}/items?limit=10000")),
            )
            .await;
            assert_eq!(
                status, items_status,
                "{role} {layer}: schema and items agree"
            );
            if status != 200 {
                assert_eq!(ct, "application/problem+json", "{role} {layer}");
                continue;
            }
            assert_eq!(ct, "application/schema+json", "{role} {layer}");
            let validator = jsonschema::validator_for(&schema)
                .unwrap_or_else(|e| panic!("{role} {layer}: the schema compiles: {e}"));
            let required: BTreeSet<String> = schema["properties"]["properties"]["required"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap().to_owned())
                .collect();
            let features = page["features"].as_array().unwrap();
            for f in features {
                let errors: Vec<String> = validator
                    .iter_errors(f)
                    .map(|e| format!("{} at {}", e, e.instance_path()))
                    .collect();
                assert!(errors.is_empty(), "{role} {layer}: {errors:?}\n{f}");
                let keys: BTreeSet<String> = f["properties"]
                    .as_object()
                    .unwrap()
                    .keys()
                    .cloned()
                    .collect();
                assert_eq!(keys, required, "{role} {layer}: every property, no other");
                checked += 1;
            }
            // The schema says what the role sees: a hidden property is not in it.
            if role == "security_coordinator" && *layer == "incidents" {
                assert!(!required.contains("reference"), "{required:?}");
            }
            if role == "admin" && *layer == "incidents" {
                assert!(required.contains("reference"), "{required:?}");
                // Some demo incidents have no reference: it is there, as null.
                assert!(
                    features
                        .iter()
                        .any(|f| f["properties"]["reference"].is_null()),
                    "the demo has incidents without a reference"
                );
            }
            if role == "social_services" && *layer == "incidents" {
                assert!(required.contains("cell_m") && !required.contains("severity"));
            }
        }
    }
    assert!(checked > 1000, "{checked} features checked");
    app.stop().await;
}

#[tokio::test]
async fn a_collection_links_its_schema_and_an_unknown_one_is_404() {
    let db = fresh_sqlite();
    let app = TestApp::spawn(&db.url, true).await;
    let (_, c) = app.get_json("/collections/cameras").await;
    let link = c["links"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["rel"] == "http://www.opengis.net/def/rel/ogc/1.0/schema")
        .expect("a schema link");
    assert!(
        link["href"]
            .as_str()
            .unwrap()
            .ends_with("/collections/cameras/schema")
    );
    let (status, schema) = app.get_json("/collections/cameras/schema").await;
    assert_eq!(status, 200);
    assert_eq!(schema["$id"], link["href"]);
    assert_eq!(schema["properties"]["geometry"]["format"], "geometry-point");
    let (status, _) = app.get_json("/collections/nope/schema").await;
    assert_eq!(status, 404);
    let r = app
        .anonymous
        .get(app.url("/collections/cameras/schema"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
    app.stop().await;
}
