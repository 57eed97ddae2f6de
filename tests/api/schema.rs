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

/// `properties=` and `skipGeometry` (OGC API – Features Part 3): only what is asked, and only
/// from what the role sees — a hidden name is refused exactly like one that does not exist.
#[tokio::test]
async fn properties_and_skip_geometry_keep_to_the_roles_view() {
    let db = fresh_sqlite();
    let app = TestApp::spawn(&db.url, true).await;
    let (_, all) = app.get_json("/collections/incidents/items?limit=50").await;
    let (status, some) = app
        .get_json(
            "/collections/incidents/items?limit=50&properties=category,severity&skipGeometry=true",
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(some["numberMatched"], all["numberMatched"]);
    let features = some["features"].as_array().unwrap();
    assert_eq!(features.len(), 50);
    for (f, full) in features.iter().zip(all["features"].as_array().unwrap()) {
        assert_eq!(f["id"], full["id"]);
        assert!(f["geometry"].is_null());
        let keys: BTreeSet<&str> = f["properties"]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(keys, BTreeSet::from(["category", "severity"]));
        assert_eq!(f["properties"]["severity"], full["properties"]["severity"]);
    }
    // The coordinator's grant hides `reference`: asking for it is the same refusal as asking
    // for a name that does not exist.
    let coord = client_with_token(
        &token_for(
            &app.service,
            "p-coord",
            "security_coordinator",
            "Botkyrka kommun",
        )
        .await,
    );
    let refusal = |name: &'static str| {
        let coord = coord.clone();
        let url = app.url(&format!("/collections/incidents/items?properties={name}"));
        async move {
            let (status, _, body) = fetch(&coord, &url, None).await;
            let p: serde_json::Value = serde_json::from_str(&body).unwrap();
            (status, p["detail"].as_str().unwrap().replace(name, "NAME"))
        }
    };
    let hidden = refusal("reference").await;
    let unknown = refusal("nosuchthing").await;
    assert_eq!(hidden.0, 400);
    assert_eq!(hidden, unknown);
    assert!(!hidden.1.contains("reference"), "{}", hidden.1);
    // A coarse role chooses among the coarse view's properties only.
    let social = client_with_token(
        &token_for(
            &app.service,
            "p-social",
            "social_services",
            "Botkyrka kommun",
        )
        .await,
    );
    let (status, _, _) = fetch(
        &social,
        &app.url("/collections/incidents/items?properties=severity"),
        None,
    )
    .await;
    assert_eq!(status, 400);
    let (status, _, body) = fetch(
        &social,
        &app.url("/collections/incidents/items?limit=5&properties=week,area"),
        None,
    )
    .await;
    assert_eq!(status, 200);
    let fc: serde_json::Value = serde_json::from_str(&body).unwrap();
    for f in fc["features"].as_array().unwrap() {
        assert_eq!(f["properties"].as_object().unwrap().len(), 2, "{f}");
    }
    let (status, _, body) = fetch(
        &app.client,
        &app.url("/collections/incidents/items?skipGeometry=yes"),
        None,
    )
    .await;
    assert_eq!(status, 400);
    assert!(body.contains("skipGeometry"), "{body}");
    app.stop().await;
}
