//! The audit trail: a record for each audited action, read by administrators only, and
//! impossible to change.

use serde_json::{Value, json};

use super::common::{
    TestApp, assert_problem, client_with_token, fresh_pg_url, fresh_sqlite, incident, password_of,
    pg_admin_url, token_for,
};
use lagesbild::store::Store;
use lagesbild::store::audit::AuditRow;

#[tokio::test]
async fn every_audited_action_leaves_a_record_that_admins_can_read() {
    let db = fresh_sqlite();
    let app = TestApp::spawn(&db.url, false).await;
    let token = token_for(&app.service, "polis-pia", "police", "Polisen").await;
    let police = client_with_token(&token);
    // login
    let r = app
        .anonymous
        .post(app.url("/auth/login"))
        .json(&json!({"username": "polis-pia", "password": password_of("polis-pia")}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // create, read (exact, restricted), edit, delete
    let mut body = incident(17.84, 59.24, "shooting", "2026-11-20T21:00:00Z");
    body["properties"]["classification"] = json!("restricted");
    let r = police
        .post(app.url("/collections/incidents/items"))
        .header("content-type", "application/geo+json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let location = r.headers()["location"].to_str().unwrap().to_owned();
    let id = location.rsplit('/').next().unwrap().to_owned();
    assert_eq!(
        police
            .get(app.url("/collections/incidents/items?bbox=17.8,59.2,17.9,59.3"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(police.get(&location).send().await.unwrap().status(), 200);
    let r = police
        .patch(&location)
        .header("content-type", "application/merge-patch+json")
        .header("if-match", "\"1\"")
        .body(json!({"properties": {"status": "closed"}}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        police
            .delete(&location)
            .header("if-match", "\"2\"")
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
    // export
    let viewer = super::viewer_of("police");
    app.service
        .export_geojson(&viewer, lagesbild::domain::Layer::Cameras, Vec::new())
        .await
        .unwrap();
    // a refusal: the audit log is not for police
    assert_problem(police.get(app.url("/audit")).send().await.unwrap(), 403).await;

    let all: Value = app
        .client
        .get(app.url("/audit?user=polis-pia&limit=1000"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let records = all["records"].as_array().unwrap();
    let has = |action: &str, outcome: &str| {
        records
            .iter()
            .any(|r| r["action"] == action && r["outcome"] == outcome)
    };
    for (action, outcome) in [
        ("login", "ok"),
        ("create", "ok"),
        ("read", "ok"),
        ("edit", "ok"),
        ("delete", "ok"),
        ("audit.read", "denied"),
    ] {
        assert!(has(action, outcome), "no {action}/{outcome} in {all:#}");
    }
    let read_box = records
        .iter()
        .find(|r| r["action"] == "read" && !r["bbox"].is_null())
        .unwrap();
    assert_eq!(read_box["bbox"], "17.8,59.2,17.9,59.3");
    assert_eq!(read_box["layer"], "incidents");
    assert!(
        read_box["features"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f == id.as_str()),
        "restricted ids are named"
    );
    assert!(
        records
            .iter()
            .all(|r| r["address"].is_string() && r["role"] == "police")
    );
    // The export was recorded (as the viewer the service was given).
    let exports: Value = app
        .client
        .get(app.url("/audit?action=export"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(exports["records"][0]["layer"], "cameras");
    // Filters are checked; the API offers no way to change the log.
    assert_problem(
        app.client
            .get(app.url("/audit?since=yesterday"))
            .send()
            .await
            .unwrap(),
        400,
    )
    .await;
    assert_problem(
        app.client.delete(app.url("/audit")).send().await.unwrap(),
        405,
    )
    .await;
    app.stop().await;
}

async fn audit_log_is_append_only(store: Store) {
    store.migrate().await.unwrap();
    let id = store
        .append_audit(
            &AuditRow::new(
                lagesbild::domain::time::now_utc(),
                lagesbild::domain::audit::AuditAction::Login,
                lagesbild::domain::audit::AuditOutcome::Ok,
            )
            .actor("a"),
        )
        .await
        .unwrap();
    assert!(id > 0);
    let (update, delete) = match &store {
        Store::Sqlite(p) => (
            sqlx::query("UPDATE audit_log SET actor = 'b'")
                .execute(p)
                .await
                .map(|_| ()),
            sqlx::query("DELETE FROM audit_log")
                .execute(p)
                .await
                .map(|_| ()),
        ),
        Store::Postgres(p) => (
            sqlx::query("UPDATE audit_log SET actor = 'b'")
                .execute(p)
                .await
                .map(|_| ()),
            sqlx::query("DELETE FROM audit_log")
                .execute(p)
                .await
                .map(|_| ()),
        ),
    };
    for e in [update.unwrap_err(), delete.unwrap_err()] {
        assert!(e.to_string().contains("append-only"), "{e}");
    }
    let rows = store
        .audit(&lagesbild::store::audit::AuditFilter {
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].actor, "a");
    store.close().await;
}

#[tokio::test]
async fn the_audit_table_refuses_updates_and_deletes_on_sqlite() {
    let db = fresh_sqlite();
    audit_log_is_append_only(Store::connect(&db.url).await.unwrap()).await;
}

#[tokio::test]
async fn the_audit_table_refuses_updates_and_deletes_on_postgis() {
    let Some(admin) = pg_admin_url() else { return };
    let url = fresh_pg_url(&admin).await;
    audit_log_is_append_only(Store::connect(&url).await.unwrap()).await;
}

/// Issue 17, item 4: audit records are committed in groups, and none is lost or answered
/// early: 200 concurrent exact reads of single features by eight clients leave exactly 200
/// read records, one per read, each naming its feature — on SQLite and on PostGIS.
#[tokio::test]
async fn concurrent_audited_reads_each_leave_their_record() {
    use lagesbild::store::audit::AuditFilter;
    let db = fresh_sqlite();
    let mut targets = vec![db.url.clone()];
    if let Some(admin) = pg_admin_url() {
        targets.push(fresh_pg_url(&admin).await);
    }
    for url in targets {
        let app = TestApp::spawn(&url, true).await;
        let token = token_for(&app.service, "polis-gc", "police", "Polisen").await;
        let police = client_with_token(&token);
        let (_, fc) = app.get_json("/collections/incidents/items?limit=200").await;
        let ids: Vec<String> = fc["features"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["id"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(ids.len(), 200);
        let reads = AuditFilter {
            actor: Some("polis-gc".into()),
            action: Some("read".into()),
            limit: 100_000,
            ..AuditFilter::default()
        };
        assert_eq!(app.service.audit_records(&reads).await.unwrap().len(), 0);
        let mut tasks = Vec::new();
        for chunk in ids.chunks(25) {
            let (client, base, chunk) = (police.clone(), app.url(""), chunk.to_vec());
            tasks.push(tokio::spawn(async move {
                for id in chunk {
                    let r = client
                        .get(format!("{base}/collections/incidents/items/{id}"))
                        .send()
                        .await
                        .unwrap();
                    assert_eq!(r.status(), 200);
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        let rows = app.service.audit_records(&reads).await.unwrap();
        assert_eq!(rows.len(), 200, "{url}: one record per read");
        let mut named: Vec<String> = rows
            .iter()
            .filter_map(|r| r.features.as_deref())
            .flat_map(|f| serde_json::from_str::<Vec<String>>(f).unwrap())
            .collect();
        named.sort();
        let mut want = ids.clone();
        want.sort();
        assert!(
            named == want,
            "{url}: each record names its feature ({} named)",
            named.len()
        );
        app.stop().await;
    }
}
