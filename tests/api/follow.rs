//! A server follows its SQLite file's change log while serving (issue 14's first step): rows an
//! import on the command line writes into the running server's database reach its picture and
//! its live event stream without a restart; its own writes, which come back through the same
//! log, are not announced twice.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::{
    TestApp, client_with_token, fresh_sqlite, incident, read_events, send_geojson, token_for,
};

async fn matched(http: &reqwest::Client, base: &str) -> u64 {
    let v: Value = http
        .get(format!("{base}/collections/incidents/items?limit=0"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    v["numberMatched"].as_u64().unwrap()
}

#[tokio::test]
async fn an_import_into_the_running_servers_file_reaches_the_picture_and_the_live_stream() {
    let db = fresh_sqlite();
    let app = TestApp::spawn(&db.url, false).await;
    let police =
        client_with_token(&token_for(&app.service, "follow-pol", "police", "Polisen").await);
    let mut stream = police
        .get(app.url("/events"))
        .header("accept", "text/event-stream")
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), 200);
    let before = matched(&police, &app.base).await;

    // An own write: in the picture at once, announced once — not again when the follower
    // meets it in the log (three of its rounds pass while the stream is read).
    let r = send_geojson(
        police.post(app.url("/collections/incidents/items")),
        &incident(17.83, 59.24, "vandalism", "2026-11-01T22:00:00Z"),
    )
    .await;
    assert_eq!(r.status(), 201);
    let own: Value = r.json().await.unwrap();
    let events = read_events(&mut stream, Duration::from_millis(1600)).await;
    let about_own: Vec<&String> = events
        .iter()
        .filter(|(_, d)| d["feature"]["id"] == own["id"])
        .map(|(k, _)| k)
        .collect();
    assert_eq!(about_own, ["upserted"], "{events:?}");

    // Three rows imported on the command line into the running server's file.
    let csv = db.dir.path().join("night.csv");
    std::fs::write(
        &csv,
        "lon,lat,category,occurred_at,severity,organisation\n\
         17.8301,59.2401,car_fire,2026-11-20T21:00:00Z,3,Polisen\n\
         17.8302,59.2402,car_fire,2026-11-20T21:30:00Z,3,Polisen\n\
         17.8303,59.2403,vandalism,2026-11-20T22:00:00Z,2,Polisen\n",
    )
    .unwrap();
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_lagesbild"))
        .args(["import", csv.to_str().unwrap(), "--layer", "incidents"])
        .env("DATABASE_URL", &db.url)
        .env_remove("LAGESBILD_CONFIG")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));

    // Seen without a restart (the follower looks twice a second; the bound here is only so a
    // broken follower fails rather than hangs).
    let deadline = Instant::now() + Duration::from_secs(30);
    while matched(&police, &app.base).await < before + 4 {
        assert!(
            Instant::now() < deadline,
            "the imported rows never reached the picture"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(matched(&police, &app.base).await, before + 4);
    let events = read_events(&mut stream, Duration::from_millis(1600)).await;
    let imported: Vec<&Value> = events
        .iter()
        .filter(|(k, d)| k == "upserted" && d["feature"]["id"] != own["id"])
        .map(|(_, d)| &d["feature"])
        .collect();
    assert_eq!(imported.len(), 3, "{events:?}");
    assert!(
        imported
            .iter()
            .all(|f| f["properties"]["organisation"] == "Polisen"),
        "{imported:?}"
    );
    app.stop().await;
}

/// Two pictures of one file, as a server and a command would hold them: each counts only what
/// the other changed — creates, replacements and deletions — and nothing of its own.
#[tokio::test]
async fn following_counts_what_others_changed_and_nothing_of_its_own() {
    use lagesbild::domain::{FeatureDraft, Layer};
    use lagesbild::service::Service;
    use lagesbild::store::Store;

    let db = fresh_sqlite();
    let store = Store::connect(&db.url).await.unwrap();
    store.migrate().await.unwrap();
    let server = Service::open(store.clone()).await.unwrap();
    let other = Service::open(Store::connect(&db.url).await.unwrap())
        .await
        .unwrap();
    let (sv, ov) = (
        lagesbild::startup::local_viewer(&server).unwrap(),
        lagesbild::startup::local_viewer(&other).unwrap(),
    );
    let draft = |lon: f64| {
        FeatureDraft::from_geojson(
            Layer::Incidents,
            incident(lon, 59.24, "vandalism", "2026-11-01T22:00:00.123456Z"),
        )
        .unwrap()
    };
    let mut events = server.subscribe();

    // Its own create, replacement and deletion: in the picture already, nothing to apply.
    let own = server
        .create_many(vec![draft(17.83), draft(17.84)], &sv, &|_| {})
        .await
        .unwrap();
    let replaced = server
        .replace(&sv, Layer::Incidents, own[0].id, draft(17.8301), 1)
        .await
        .unwrap();
    server
        .delete(&sv, Layer::Incidents, own[1].id, 1)
        .await
        .unwrap();
    while events.try_recv().is_ok() {}
    let generation = server.generation();
    assert_eq!(server.follow_log().await.unwrap(), 0);
    assert_eq!(
        server.generation(),
        generation,
        "own writes changed nothing"
    );
    assert!(
        events.try_recv().is_err(),
        "own writes are not announced again"
    );

    // The other's create, replacement of the server's feature, and deletion: three changes,
    // each announced once.
    let theirs = other
        .create_many(vec![draft(17.85)], &ov, &|_| {})
        .await
        .unwrap();
    // The other sees the server's live feature (the deleted one was never in its picture, its
    // own create is already there).
    assert_eq!(other.follow_log().await.unwrap(), 1);
    other
        .replace(
            &ov,
            Layer::Incidents,
            own[0].id,
            draft(17.8302),
            replaced.meta.version,
        )
        .await
        .unwrap();
    let victim = server.unrestricted().get(Layer::Incidents, theirs[0].id);
    assert!(victim.is_none(), "not seen before following");
    assert_eq!(server.follow_log().await.unwrap(), 2);
    other
        .delete(&ov, Layer::Incidents, theirs[0].id, 1)
        .await
        .unwrap();
    assert_eq!(server.follow_log().await.unwrap(), 1);
    assert_eq!(server.follow_log().await.unwrap(), 0);
    let kinds: Vec<&str> = std::iter::from_fn(|| events.try_recv().ok())
        .map(|c| match c {
            lagesbild::service::Change::Upserted(_) => "upserted",
            lagesbild::service::Change::Replaced { .. } => "replaced",
            lagesbild::service::Change::Deleted(_) => "deleted",
        })
        .collect();
    assert_eq!(kinds, ["upserted", "replaced", "deleted"]);
    let now = server
        .unrestricted()
        .get(Layer::Incidents, own[0].id)
        .unwrap();
    assert_eq!(now.meta.version, replaced.meta.version + 1);
    assert!(
        server
            .unrestricted()
            .get(Layer::Incidents, theirs[0].id)
            .is_none()
    );
    store.close().await;
}
