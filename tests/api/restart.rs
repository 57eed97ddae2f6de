//! What was written is there after a restart, on SQLite and on PostGIS.

use serde_json::{Value, json};

use crate::common::{TestApp, fresh_pg_url, fresh_sqlite, incident, pg_admin_url};

async fn write_stop_and_read_back(url: &str) {
    let app = TestApp::spawn(url, false).await;
    let kept: Value = app
        .post(
            "/collections/incidents/items",
            &incident(17.60, 59.20, "vandalism", "2026-11-01T22:00:00Z"),
        )
        .await
        .json()
        .await
        .unwrap();
    let gone: Value = app
        .post(
            "/collections/incidents/items",
            &incident(17.61, 59.21, "vandalism", "2026-11-02T22:00:00Z"),
        )
        .await
        .json()
        .await
        .unwrap();
    let kept_url = app.url(&format!(
        "/collections/incidents/items/{}",
        kept["id"].as_str().unwrap()
    ));
    let gone_url = app.url(&format!(
        "/collections/incidents/items/{}",
        gone["id"].as_str().unwrap()
    ));
    let mut edit = kept.clone();
    edit["properties"]["severity"] = json!(4);
    let r = app
        .client
        .put(&kept_url)
        .header("if-match", "\"1\"")
        .header("content-type", "application/geo+json")
        .body(edit.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let before: Value = r.json().await.unwrap();
    assert_eq!(
        app.client
            .delete(&gone_url)
            .header("if-match", "\"1\"")
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
    app.stop().await;

    let app = TestApp::spawn(url, false).await;
    let after: Value = app
        .get_json(&format!(
            "/collections/incidents/items/{}",
            kept["id"].as_str().unwrap()
        ))
        .await
        .1;
    let strip = |mut v: Value| {
        v.as_object_mut().unwrap().remove("links");
        v
    };
    assert_eq!(
        strip(after),
        strip(before),
        "the feature reads back exactly as it was last written"
    );
    let (status, _) = app
        .get_json(&format!(
            "/collections/incidents/items/{}",
            gone["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(status, 404);
    let (_, page) = app.get_json("/collections/incidents/items").await;
    assert_eq!(page["numberMatched"], 1);
    app.stop().await;
}

#[tokio::test]
async fn sqlite_keeps_writes_across_a_restart() {
    let db = fresh_sqlite();
    write_stop_and_read_back(&db.url).await;
}

#[tokio::test]
async fn postgis_keeps_writes_across_a_restart() {
    let Some(admin) = pg_admin_url() else { return };
    write_stop_and_read_back(&fresh_pg_url(&admin).await).await;
}

#[tokio::test]
async fn demo_seeding_happens_once() {
    let db = fresh_sqlite();
    let app = TestApp::spawn(&db.url, true).await;
    let (_, page) = app.get_json("/collections/incidents/items?limit=1").await;
    assert_eq!(page["numberMatched"], 3_600);
    app.stop().await;
    let app = TestApp::spawn(&db.url, true).await;
    let (_, page) = app.get_json("/collections/incidents/items?limit=1").await;
    assert_eq!(
        page["numberMatched"], 3_600,
        "a second --demo start does not seed again"
    );
    app.stop().await;
}
