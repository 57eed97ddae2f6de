//! Item 11: a feature and its audit record commit together, or neither does. The audit insert
//! is made to fail (a trigger), and the write must then leave no feature behind.

use serde_json::json;
use sqlx::Connection;

use super::common::{TestApp, assert_problem, send_geojson, send_patch};
use super::{backends, create};
use lagesbild::domain::Layer;

const CAMERA: &str = r#"{"type": "Feature", "geometry": {"type": "Point", "coordinates": [17.85, 59.25]},
    "properties": {"owner": "municipality", "status": "active", "direction": 90.0, "field_of_view": 60.0,
    "range_m": 50.0, "organisation": "Botkyrka kommun"}}"#;

/// Makes every audit record of `action` on cameras fail.
async fn break_audit(url: &str, action: &str) {
    if url.starts_with("sqlite:") {
        let mut c = sqlx::SqliteConnection::connect(url).await.unwrap();
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "CREATE TRIGGER test_break_{action} BEFORE INSERT ON audit_log \
             WHEN NEW.action = '{action}' AND NEW.layer = 'cameras' \
             BEGIN SELECT RAISE(ABORT, 'audit refused by the test'); END"
        )))
        .execute(&mut c)
        .await
        .unwrap();
    } else {
        let mut c = sqlx::PgConnection::connect(url).await.unwrap();
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "CREATE OR REPLACE FUNCTION test_break_{action}() RETURNS trigger AS $$ BEGIN \
             IF NEW.action = '{action}' AND NEW.layer = 'cameras' THEN RAISE EXCEPTION 'audit refused by the test'; END IF; \
             RETURN NEW; END $$ LANGUAGE plpgsql"
        )))
        .execute(&mut c)
        .await
        .unwrap();
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "CREATE TRIGGER test_break_{action} BEFORE INSERT ON audit_log \
             FOR EACH ROW EXECUTE FUNCTION test_break_{action}()"
        )))
        .execute(&mut c)
        .await
        .unwrap();
    }
}

#[tokio::test]
async fn no_feature_change_is_committed_without_its_audit_record() {
    let (urls, _db) = backends().await;
    for url in urls {
        let app = TestApp::spawn(&url, false).await;
        let camera: serde_json::Value = serde_json::from_str(CAMERA).unwrap();
        let kept = create(&app, &app.client, "cameras", &camera).await;
        let kept_id = kept["id"].as_str().unwrap().to_owned();

        break_audit(&url, "create").await;
        let r = send_geojson(
            app.client.post(app.url("/collections/cameras/items")),
            &camera,
        )
        .await;
        assert_problem(r, 500).await;
        assert_eq!(
            app.service.store().count(Layer::Cameras).await.unwrap(),
            1,
            "{url}"
        );
        assert_eq!(app.service.unrestricted().len(Layer::Cameras), 1, "{url}");

        break_audit(&url, "edit").await;
        let item = app.url(&format!("/collections/cameras/items/{kept_id}"));
        let r = send_patch(
            app.client.patch(&item),
            1,
            &json!({"properties": {"range_m": 80.0}}),
        )
        .await;
        assert_problem(r, 500).await;
        let (stored, _) = app
            .service
            .store()
            .get(kept_id.parse().unwrap())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(stored.meta.version, 1, "{url}: the edit was rolled back");

        break_audit(&url, "delete").await;
        let r = app
            .client
            .delete(&item)
            .header("if-match", "\"1\"")
            .send()
            .await
            .unwrap();
        assert_problem(r, 500).await;
        let (_, deleted_at) = app
            .service
            .store()
            .get(kept_id.parse().unwrap())
            .await
            .unwrap()
            .unwrap();
        assert!(deleted_at.is_none(), "{url}: the delete was rolled back");
        app.stop().await;
    }
}
