//! The chiefs' meetings' records: recorded, changed while open, closed for good, corrected by a
//! new record; who may read and write them; bad input by field. SQLite and PostGIS.

use serde_json::{Value, json};

use crate::common::{
    TestApp, assert_problem, client_with_token, fresh_pg_url, fresh_sqlite, pg_admin_url, pointers,
    token_for,
};

async fn send(req: reqwest::RequestBuilder, body: &Value) -> reqwest::Response {
    req.header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap()
}

async fn check(url: &str) {
    let app = TestApp::spawn(url, true).await;
    let coord = client_with_token(
        &token_for(
            &app.service,
            "mt-coord",
            "security_coordinator",
            "Botkyrka kommun",
        )
        .await,
    );
    // A measure to decide on.
    let measures: Value = coord
        .get(app.url("/collections/measures/items?limit=1"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let measure = measures["features"][0]["id"].as_str().unwrap().to_owned();
    let record = json!({"week": "2026-W49", "held_on": "2026-12-01",
        "organisations": ["Botkyrka kommun", "Polisen"], "minutes": "Genomgång av Alby.",
        "decisions": [{"measure": measure, "change": "changed"}]});
    let r = send(coord.post(app.url("/meetings")), &record).await;
    assert_eq!(r.status(), 201, "{url}");
    assert_eq!(r.headers()["etag"], "\"1\"");
    let m: Value = r.json().await.unwrap();
    let id = m["id"].as_str().unwrap().to_owned();
    let item = app.url(&format!("/meetings/{id}"));

    // Changed while open (If-Match required), then closed, then never again.
    assert_problem(
        send(coord.patch(&item), &json!({"minutes": "x"})).await,
        428,
    )
    .await;
    let r = send(
        coord.patch(&item).header("if-match", "\"1\""),
        &json!({"minutes": "Genomgång av Alby och Fittja."}),
    )
    .await;
    assert_eq!(r.status(), 200, "{url}");
    let r = coord
        .post(app.url(&format!("/meetings/{id}/close")))
        .header("if-match", "\"2\"")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let closed: Value = r.json().await.unwrap();
    assert!(closed["closed_at"].is_string(), "{closed}");
    let p = assert_problem(
        send(
            coord.patch(&item).header("if-match", "\"3\""),
            &json!({"minutes": "ändrat i efterhand"}),
        )
        .await,
        409,
    )
    .await;
    assert!(p["detail"].as_str().unwrap().contains("correction"), "{p}");
    let again: Value = coord.get(&item).send().await.unwrap().json().await.unwrap();
    assert_eq!(again["minutes"], "Genomgång av Alby och Fittja.");
    // A correction is a new record naming the closed one.
    let mut correction = record.clone();
    correction["corrects"] = json!(id);
    correction["minutes"] = json!("Rättelse: även Hallunda togs upp.");
    assert_eq!(
        send(coord.post(app.url("/meetings")), &correction)
            .await
            .status(),
        201
    );
    let last: Value = coord
        .get(app.url("/meetings/last"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(last["meeting"]["week"], "2026-W49", "{last}");

    // Bad input, each by field.
    for (change, pointer) in [
        (json!({"held_on": "2026-12-09"}), "/held_on"),
        (json!({"week": "vecka 49"}), "/held_on"),
        (
            json!({"decisions": [{"measure": "00000000-0000-0000-0000-000000000000", "change": "created"}]}),
            "/decisions/0/measure",
        ),
        (
            json!({"decisions": [{"measure": measure, "change": "maybe"}]}),
            "/decisions",
        ),
        (json!({"minutes": "Ring 070-123 45 67"}), "/minutes"),
        (json!({"classification": "restricted"}), "/classification"),
        (
            json!({"corrects": "00000000-0000-0000-0000-000000000000"}),
            "/corrects",
        ),
    ] {
        let mut body = record.clone();
        for (k, v) in change.as_object().unwrap() {
            body[k] = v.clone();
        }
        let p = assert_problem(send(coord.post(app.url("/meetings")), &body).await, 422).await;
        assert!(
            pointers(&p).iter().any(|x| x.starts_with(pointer)),
            "{url} {change}: {p}"
        );
    }
    // Field workers read the records but do not write them; night walkers see only open ones.
    let field = client_with_token(
        &token_for(&app.service, "mt-field", "field_worker", "Botkyrka kommun").await,
    );
    assert_eq!(
        field
            .get(app.url("/meetings"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_problem(send(field.post(app.url("/meetings")), &record).await, 403).await;
    let walker = client_with_token(
        &token_for(&app.service, "mt-walker", "night_walker", "Nattvandrarna").await,
    );
    let seen: Value = walker
        .get(app.url("/meetings"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        seen["meetings"].as_array().unwrap().len(),
        0,
        "{url}: internal records"
    );
    assert_problem(walker.get(&item).send().await.unwrap(), 404).await;
    // Every change is audited.
    for action in ["meeting.create", "meeting.edit", "meeting.close"] {
        let rows = app
            .service
            .audit_records(&lagesbild::store::audit::AuditFilter {
                action: Some(action.into()),
                limit: 100,
                ..Default::default()
            })
            .await
            .unwrap();
        assert!(!rows.is_empty(), "{url}: {action} audited");
    }
    app.stop().await;
}

#[tokio::test]
async fn meetings_are_recorded_closed_and_corrected_on_sqlite() {
    let db = fresh_sqlite();
    check(&db.url).await;
}

#[tokio::test]
async fn meetings_are_recorded_closed_and_corrected_on_postgis() {
    let Some(admin) = pg_admin_url() else { return };
    check(&fresh_pg_url(&admin).await).await;
}
