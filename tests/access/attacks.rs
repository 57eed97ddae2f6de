//! Attempts beyond a role's grant: each gets the right status and problem body, nothing leaks,
//! nothing changes, and the attempt is audited.

use serde_json::{Value, json};

use super::common::{
    TestApp, assert_problem, client_with_token, fresh_sqlite, incident, send_geojson, send_patch,
    token_for,
};
use super::organisation_of;
use lagesbild::domain::Layer;
use lagesbild::store::audit::AuditFilter;

async fn audit_of(app: &TestApp, user: &str) -> Vec<lagesbild::store::audit::AuditRow> {
    app.service
        .audit_records(&AuditFilter {
            actor: Some(user.into()),
            limit: 1000,
            ..Default::default()
        })
        .await
        .unwrap()
}

async fn as_role(app: &TestApp, role: &str) -> (String, reqwest::Client) {
    let name = format!("x-{}", role.replace('_', "-"));
    let token = token_for(&app.service, &name, role, organisation_of(role)).await;
    (name, client_with_token(&token))
}

#[tokio::test]
async fn a_night_walker_asking_for_incident_items_gets_403_and_is_audited() {
    let db = fresh_sqlite();
    let app = TestApp::spawn(&db.url, true).await;
    let (name, walker) = as_role(&app, "night_walker").await;
    let r = walker
        .get(app.url("/collections/incidents/items"))
        .send()
        .await
        .unwrap();
    let p = assert_problem(r, 403).await;
    assert!(p["detail"].as_str().unwrap().contains("only counts"), "{p}");
    assert!(
        !p.to_string().contains("59."),
        "no coordinates in the refusal: {p}"
    );
    let some_id = app.service.unrestricted().all(Layer::Incidents)[0].id;
    assert_problem(
        walker
            .get(app.url(&format!("/collections/incidents/items/{some_id}")))
            .send()
            .await
            .unwrap(),
        403,
    )
    .await;
    // Cameras do not exist for night walkers.
    assert_problem(
        walker
            .get(app.url("/collections/cameras"))
            .send()
            .await
            .unwrap(),
        403,
    )
    .await;
    let rows = audit_of(&app, &name).await;
    assert!(
        rows.iter()
            .filter(|r| r.action == "denied" && r.outcome == "denied")
            .count()
            >= 3,
        "{rows:?}"
    );
    app.stop().await;
}

#[tokio::test]
async fn editing_another_organisations_feature_is_refused_and_nothing_changes() {
    let db = fresh_sqlite();
    let app = TestApp::spawn(&db.url, false).await;
    // A police incident, made by police.
    let (_, police) = as_role(&app, "police").await;
    let created: Value = police
        .post(app.url("/collections/incidents/items"))
        .header("content-type", "application/geo+json")
        .body(incident(17.84, 59.24, "shooting", "2026-11-20T21:00:00Z").to_string())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = created["id"].as_str().unwrap().to_owned();
    let url = app.url(&format!("/collections/incidents/items/{id}"));

    // Social services see incidents coarsely: they may not change them.
    let (name, social) = as_role(&app, "social_services").await;
    let patch = send_patch(
        social.patch(&url),
        1,
        &json!({"properties": {"status": "closed"}}),
    )
    .await;
    assert_problem(patch, 403).await;
    assert_problem(
        social
            .delete(&url)
            .header("if-match", "\"1\"")
            .send()
            .await
            .unwrap(),
        403,
    )
    .await;
    let rows = audit_of(&app, &name).await;
    assert!(
        rows.iter()
            .any(|r| r.action == "edit" && r.outcome == "denied"),
        "{rows:?}"
    );
    assert!(
        rows.iter()
            .any(|r| r.action == "delete" && r.outcome == "denied"),
        "{rows:?}"
    );

    // The security coordinator sees it exactly but it is not the municipality's own.
    let (_, coordinator) = as_role(&app, "security_coordinator").await;
    let shown: Value = coordinator
        .get(&url)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(shown["properties"].get("reference").is_none());
    let p = assert_problem(
        send_patch(
            coordinator.patch(&url),
            1,
            &json!({"properties": {"status": "closed"}}),
        )
        .await,
        403,
    )
    .await;
    assert!(
        p["detail"].as_str().unwrap().contains("own organisation"),
        "{p}"
    );
    let now = app
        .service
        .unrestricted()
        .get(Layer::Incidents, id.parse().unwrap())
        .unwrap();
    assert_eq!(now.meta.version, 1, "nothing changed");

    // Nor may anyone write above their ceiling, or for another organisation.
    let mut restricted = incident(17.84, 59.24, "vandalism", "2026-11-20T21:00:00Z");
    restricted["properties"]["organisation"] = json!("Botkyrka kommun");
    restricted["properties"]["classification"] = json!("restricted");
    let p = assert_problem(
        send_geojson(
            coordinator.post(app.url("/collections/incidents/items")),
            &restricted,
        )
        .await,
        403,
    )
    .await;
    assert!(
        p["detail"].as_str().unwrap().contains("at most 'internal'"),
        "{p}"
    );
    let (_, field) = as_role(&app, "field_worker").await;
    let mut other_org = incident(17.84, 59.24, "vandalism", "2026-11-20T21:00:00Z");
    other_org["properties"]["organisation"] = json!("Polisen");
    assert_problem(
        send_geojson(
            field.post(app.url("/collections/incidents/items")),
            &other_org,
        )
        .await,
        403,
    )
    .await;
    assert_eq!(app.service.unrestricted().len(Layer::Incidents), 1);

    // A field worker reports for their own organisation (the default) and gets the coarse view.
    let mut own = incident(17.84, 59.24, "vandalism", "2026-11-20T21:00:00Z");
    own["properties"]
        .as_object_mut()
        .unwrap()
        .remove("organisation");
    let r = send_geojson(field.post(app.url("/collections/incidents/items")), &own).await;
    assert_eq!(r.status(), 201);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["properties"]["precision"], "coarse");
    let stored = app
        .service
        .unrestricted()
        .get(
            Layer::Incidents,
            body["id"].as_str().unwrap().parse().unwrap(),
        )
        .unwrap();
    assert_eq!(&*stored.meta.organisation, "Botkyrka kommun");
    assert_eq!(&*stored.meta.created_by, "x-field-worker");
    app.stop().await;
}

#[tokio::test]
async fn sql_and_script_in_text_fields_are_stored_and_returned_as_plain_text() {
    let db = fresh_sqlite();
    let app = TestApp::spawn(&db.url, false).await;
    let nasty =
        "'); DROP TABLE features; -- <script>alert('x')</script> \" & <img src=x onerror=alert(1)>";
    let mut body = incident(17.84, 59.24, "other", "2026-11-20T21:00:00Z");
    body["properties"]["description"] = json!(nasty);
    body["properties"]["reference"] = json!("5000-K1'; DELETE FROM users;--");
    let r = app.post("/collections/incidents/items", &body).await;
    assert_eq!(r.status(), 201);
    let location = r.headers()["location"].to_str().unwrap().to_owned();
    let back: Value = app
        .client
        .get(&location)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(back["properties"]["description"], nasty);
    assert_eq!(
        back["properties"]["reference"],
        "5000-K1'; DELETE FROM users;--"
    );
    // The tables are all still there and still answer.
    assert_eq!(
        app.service.store().count(Layer::Incidents).await.unwrap(),
        1
    );
    assert!(
        app.service
            .store()
            .user("test-admin")
            .await
            .unwrap()
            .is_some()
    );
    // And it survives a restart unchanged.
    app.stop().await;
    let app = TestApp::spawn(&db.url, false).await;
    let path = &location[location.find("/collections").unwrap()..];
    let back: Value = app
        .client
        .get(app.url(path))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(back["properties"]["description"], nasty);
    app.stop().await;
}

#[tokio::test]
async fn a_replacement_keeps_the_properties_the_role_does_not_see() {
    let db = fresh_sqlite();
    let app = TestApp::spawn(&db.url, false).await;
    let (_, coordinator) = as_role(&app, "security_coordinator").await;
    let mut body = incident(17.84, 59.24, "vandalism", "2026-11-20T21:00:00Z");
    body["properties"]["organisation"] = json!("Botkyrka kommun");
    body["properties"]["reference"] = json!("BK-2026-17");
    let created: Value = send_geojson(
        coordinator.post(app.url("/collections/incidents/items")),
        &body,
    )
    .await
    .json()
    .await
    .unwrap();
    assert!(
        created["properties"].get("reference").is_none(),
        "hidden from its own author's role"
    );
    let id = created["id"].as_str().unwrap().to_owned();
    let mut replacement = created.clone();
    replacement["properties"]["severity"] = json!(4);
    // Naming no organisation keeps the stored one.
    replacement["properties"]
        .as_object_mut()
        .unwrap()
        .remove("organisation");
    let r = coordinator
        .put(app.url(&format!("/collections/incidents/items/{id}")))
        .header("content-type", "application/geo+json")
        .header("if-match", "\"1\"")
        .body(replacement.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let stored = app
        .service
        .unrestricted()
        .get(Layer::Incidents, id.parse().unwrap())
        .unwrap();
    match &stored.properties {
        lagesbild::domain::Properties::Incident(p) => {
            assert_eq!(p.severity, 4);
            assert_eq!(p.reference.as_deref(), Some("BK-2026-17"));
            assert_eq!(&*stored.meta.organisation, "Botkyrka kommun");
        }
        _ => unreachable!(),
    }
    app.stop().await;
}
