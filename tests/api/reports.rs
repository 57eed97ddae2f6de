//! The lägesbild document's stored text per period: written new, changed at the version read,
//! refused when stale or without a version, read back; on SQLite and PostGIS.

use serde_json::{Value, json};

use crate::common::{
    TestApp, assert_problem, client_with_token, fresh_pg_url, fresh_sqlite, pg_admin_url, token_for,
};

async fn check(url: &str) {
    let app = TestApp::spawn(url, false).await;
    let coord = client_with_token(
        &token_for(
            &app.service,
            "rt-coord",
            "security_coordinator",
            "Botkyrka kommun",
        )
        .await,
    );
    let police =
        client_with_token(&token_for(&app.service, "rt-police", "police", "Polisen").await);
    let item = app.url("/reports/lagesbild/2026-H2");
    let put = |body: Value, version: Option<&str>| {
        let mut r = coord
            .put(&item)
            .header("content-type", "application/json")
            .body(body.to_string());
        if let Some(v) = version {
            r = r.header("if-match", v);
        }
        r.send()
    };
    assert_problem(coord.get(&item).send().await.unwrap(), 404).await;
    let r = put(json!({"analysis": "Första versionen."}), None)
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{url}");
    assert_eq!(r.headers()["etag"], "\"1\"");
    // A second "new" text for the same period is a conflict, not an overwrite.
    assert_problem(put(json!({"analysis": "x"}), None).await.unwrap(), 428).await;
    let r = put(
        json!({"analysis": "Andra versionen.", "classification": "open"}),
        Some("\"1\""),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 200, "{url}");
    assert_problem(
        put(json!({"analysis": "y"}), Some("\"1\"")).await.unwrap(),
        409,
    )
    .await;
    let p = assert_problem(
        put(
            json!({"analysis": "z", "classification": "restricted"}),
            Some("\"2\""),
        )
        .await
        .unwrap(),
        422,
    )
    .await;
    assert!(p.to_string().contains("/classification"), "{p}");
    let p = assert_problem(
        put(json!({"analys": "z"}), Some("\"2\"")).await.unwrap(),
        422,
    )
    .await;
    assert!(p.to_string().contains("analys"), "{p}");
    let got: Value = coord.get(&item).send().await.unwrap().json().await.unwrap();
    assert_eq!(got["analysis"], "Andra versionen.", "{url}");
    assert_eq!(got["version"], 2);
    assert_eq!(got["updated_by"], "rt-coord");
    // A restricted text of another period, written by an administrator (restricted ceiling): a
    // writer with a lower ceiling gets the same answer as for a period with no text at all,
    // and nothing is overwritten.
    let admin = client_with_token(&token_for(&app.service, "rt-admin", "admin", "Polisen").await);
    let secret = app.url("/reports/lagesbild/2026-H1");
    let r = admin
        .put(&secret)
        .header("content-type", "application/json")
        .body(json!({"analysis": "Begränsad analys.", "classification": "restricted"}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{url}");
    let probe = |path: String| {
        coord
            .put(app.url(&path))
            .header("content-type", "application/json")
            .header("if-match", "\"1\"")
            .body(json!({"analysis": "x"}).to_string())
            .send()
    };
    let hidden = assert_problem(
        probe("/reports/lagesbild/2026-H1".into()).await.unwrap(),
        409,
    )
    .await;
    let absent = assert_problem(probe("/reports/lagesbild/1999".into()).await.unwrap(), 409).await;
    assert_eq!(
        hidden["detail"].as_str().unwrap().replace("2026-H1", "P"),
        absent["detail"].as_str().unwrap().replace("1999", "P"),
        "{url}: the same answer whether a restricted text exists or not"
    );
    assert_problem(coord.get(&secret).send().await.unwrap(), 404).await;
    let kept: Value = admin
        .get(&secret)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(kept["analysis"], "Begränsad analys.");

    // The police read it (open) but do not write it.
    assert_eq!(police.get(&item).send().await.unwrap().status(), 200);
    let r = police
        .put(&item)
        .header("content-type", "application/json")
        .header("if-match", "\"2\"")
        .body(json!({"analysis": "w"}).to_string())
        .send()
        .await
        .unwrap();
    assert_problem(r, 403).await;
    app.stop().await;
}

#[tokio::test]
async fn report_texts_are_versioned_on_sqlite() {
    let db = fresh_sqlite();
    check(&db.url).await;
}

#[tokio::test]
async fn report_texts_are_versioned_on_postgis() {
    let Some(admin) = pg_admin_url() else { return };
    check(&fresh_pg_url(&admin).await).await;
}
