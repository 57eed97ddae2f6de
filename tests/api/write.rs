//! Creating, replacing, patching and deleting, with ETag / If-Match.

use serde_json::{Value, json};

use crate::common::{TestApp, assert_problem, fresh_sqlite, incident};

async fn create(app: &TestApp) -> (String, Value) {
    let r = app
        .post(
            "/collections/incidents/items",
            &incident(17.8448, 59.2393, "car_fire", "2026-11-20T21:30:00Z"),
        )
        .await;
    assert_eq!(r.status(), 201);
    assert_eq!(r.headers()["etag"], "\"1\"");
    let location = r.headers()["location"].to_str().unwrap().to_owned();
    let body: Value = r.json().await.unwrap();
    assert!(location.ends_with(body["id"].as_str().unwrap()));
    (location, body)
}

fn with_if_match(req: reqwest::RequestBuilder, etag: &str) -> reqwest::RequestBuilder {
    req.header("if-match", etag)
        .header("content-type", "application/geo+json")
}

#[tokio::test]
async fn created_features_are_found_by_id_and_by_query() {
    let db = fresh_sqlite();
    let app = TestApp::spawn(&db.url, false).await;
    let (location, body) = create(&app).await;
    assert_eq!(body["properties"]["created_by"], "test-admin");
    assert_eq!(body["properties"]["classification"], "internal");
    let fetched: Value = app
        .client
        .get(&location)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(fetched["id"], body["id"]);
    let (_, page) = app
        .get_json("/collections/incidents/items?near=17.8448,59.2393,10")
        .await;
    assert_eq!(page["numberMatched"], 1);
    assert_eq!(page["features"][0]["id"], body["id"]);
    app.stop().await;
}

#[tokio::test]
async fn if_match_star_is_refused_on_every_write_and_changes_nothing() {
    // `If-Match: *` would overwrite whatever is stored unseen: 428 with the reason, on PUT,
    // PATCH and DELETE of features, on meetings and on report texts.
    let db = fresh_sqlite();
    let app = TestApp::spawn(&db.url, false).await;
    let (location, mut body) = create(&app).await;
    body["properties"]["severity"] = json!(5);
    let put = with_if_match(app.client.put(&location), "*").body(body.to_string());
    let patch = with_if_match(app.client.patch(&location), "*")
        .header("content-type", "application/merge-patch+json")
        .body(json!({"properties": {"severity": 5}}).to_string());
    let delete = app.client.delete(&location).header("if-match", "*");
    for (what, req) in [("PUT", put), ("PATCH", patch), ("DELETE", delete)] {
        let p = assert_problem(req.send().await.unwrap(), 428).await;
        assert!(
            p["detail"].as_str().unwrap().contains("unseen"),
            "{what}: {p}"
        );
    }
    let (_, now) = app.get_json(&location.replace(&app.url(""), "")).await;
    assert_eq!(now["properties"]["severity"], 2, "nothing changed");
    let r = app
        .client
        .post(app.url("/meetings"))
        .header("content-type", "application/json")
        .body(json!({"week": "2026-W49", "held_on": "2026-12-01"}).to_string())
        .send()
        .await
        .unwrap();
    let m: Value = r.json().await.unwrap();
    let r = app
        .client
        .patch(app.url(&format!("/meetings/{}", m["id"].as_str().unwrap())))
        .header("content-type", "application/json")
        .header("if-match", "*")
        .body(json!({"minutes": "x"}).to_string())
        .send()
        .await
        .unwrap();
    assert_problem(r, 428).await;
    let r = app
        .client
        .put(app.url("/reports/lagesbild/2026"))
        .header("content-type", "application/json")
        .header("if-match", "*")
        .body(json!({"analysis": "x"}).to_string())
        .send()
        .await
        .unwrap();
    assert_problem(r, 428).await;
    app.stop().await;
}

#[tokio::test]
async fn replace_needs_the_current_version_and_bumps_it() {
    let db = fresh_sqlite();
    let app = TestApp::spawn(&db.url, false).await;
    let (location, mut body) = create(&app).await;
    body["properties"]["status"] = json!("closed");
    let r = with_if_match(app.client.put(&location), "\"1\"")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["etag"], "\"2\"");
    let replaced: Value = r.json().await.unwrap();
    assert_eq!(replaced["properties"]["status"], "closed");
    assert_eq!(
        replaced["properties"]["created_at"],
        body["properties"]["created_at"]
    );

    // Someone still holding version 1 is stopped and told the current version.
    body["properties"]["severity"] = json!(5);
    let r = with_if_match(app.client.put(&location), "\"1\"")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let problem = assert_problem(r, 412).await;
    assert_eq!(problem["currentVersion"], 2);
    let now: Value = app
        .client
        .get(&location)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        now["properties"]["severity"], 2,
        "the refused change was not stored"
    );

    let r = app
        .client
        .put(&location)
        .header("content-type", "application/geo+json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    assert_problem(r, 428).await;
    let r = with_if_match(app.client.put(&location), "version two")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    assert_problem(r, 412).await;
    app.stop().await;
}

#[tokio::test]
async fn patch_merges_fields_and_keeps_the_rest() {
    let db = fresh_sqlite();
    let app = TestApp::spawn(&db.url, false).await;
    let (location, _) = create(&app).await;
    let r = app
        .client
        .patch(&location)
        .header("if-match", "\"1\"")
        .header("content-type", "application/merge-patch+json")
        .body(json!({"properties": {"status": "closed", "description": null}}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let patched: Value = r.json().await.unwrap();
    assert_eq!(patched["properties"]["status"], "closed");
    assert_eq!(patched["properties"]["description"], "");
    assert_eq!(patched["properties"]["category"], "car_fire");
    assert_eq!(patched["properties"]["version"], 2);
    // A patch that breaks the rules is refused whole.
    let r = app
        .client
        .patch(&location)
        .header("if-match", "\"2\"")
        .header("content-type", "application/merge-patch+json")
        .body(json!({"properties": {"severity": 0}}).to_string())
        .send()
        .await
        .unwrap();
    let problem = assert_problem(r, 422).await;
    assert_eq!(crate::common::pointers(&problem), ["/properties/severity"]);
    app.stop().await;
}

#[tokio::test]
async fn delete_needs_the_version_and_hides_the_feature() {
    let db = fresh_sqlite();
    let app = TestApp::spawn(&db.url, false).await;
    let (location, _) = create(&app).await;
    assert_problem(app.client.delete(&location).send().await.unwrap(), 428).await;
    assert_problem(
        app.client
            .delete(&location)
            .header("if-match", "\"7\"")
            .send()
            .await
            .unwrap(),
        412,
    )
    .await;
    let r = app
        .client
        .delete(&location)
        .header("if-match", "\"1\"")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert_problem(app.client.get(&location).send().await.unwrap(), 404).await;
    let (_, page) = app.get_json("/collections/incidents/items").await;
    assert_eq!(page["numberMatched"], 0);
    assert_problem(
        app.client
            .delete(&location)
            .header("if-match", "\"1\"")
            .send()
            .await
            .unwrap(),
        404,
    )
    .await;
    app.stop().await;
}

#[tokio::test]
async fn of_many_concurrent_edits_of_one_version_exactly_one_wins() {
    let db = fresh_sqlite();
    let app = TestApp::spawn(&db.url, false).await;
    let (location, body) = create(&app).await;
    let mut tasks = Vec::new();
    for severity in 1..=5 {
        for _ in 0..4 {
            let mut edit = body.clone();
            edit["properties"]["severity"] = json!(severity);
            let req = with_if_match(app.client.put(&location), "\"1\"").body(edit.to_string());
            tasks.push(tokio::spawn(async move {
                req.send().await.unwrap().status().as_u16()
            }));
        }
    }
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap());
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 412).count(),
        19,
        "{statuses:?}"
    );
    let now: Value = app
        .client
        .get(&location)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(now["properties"]["version"], 2);
    app.stop().await;
}
