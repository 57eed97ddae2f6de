//! Start-up from the index snapshot (issue 17, item 3): the picture after a restart equals the
//! table, whether it came from the snapshot and the change log or from the table, and a
//! snapshot that cannot be trusted is never used.

use std::collections::BTreeSet;

use lagesbild::domain::Layer;
use lagesbild::service::Service;
use lagesbild::service::snapshot::Loaded;
use lagesbild::store::Store;

use crate::common::{TestApp, fresh_sqlite, incident};

/// Every live feature as (layer, id, version): in the index, and in the table.
async fn picture_and_table(service: &Service) -> (BTreeSet<String>, BTreeSet<String>) {
    let all = service.unrestricted();
    let picture = Layer::ALL
        .iter()
        .flat_map(|l| all.all(*l))
        .map(|f| format!("{} {} {}", f.layer(), f.id, f.meta.version))
        .collect();
    let mut table = BTreeSet::new();
    service
        .store()
        .for_each_live(&mut |f| {
            table.insert(format!("{} {} {}", f.layer(), f.id, f.meta.version));
        })
        .await
        .unwrap();
    (picture, table)
}

async fn assert_true_to_the_table(service: &Service) {
    let (picture, table) = picture_and_table(service).await;
    assert!(!table.is_empty());
    assert_eq!(
        picture
            .symmetric_difference(&table)
            .take(5)
            .collect::<Vec<_>>(),
        Vec::<&String>::new(),
        "the picture differs from the table"
    );
}

/// Writes through the API, stops (the snapshot is written), writes behind the server's back as
/// an import on the command line would, and starts again.
#[tokio::test]
async fn a_restart_starts_from_the_snapshot_and_replays_what_came_after() {
    let db = fresh_sqlite();
    let app = TestApp::spawn(&db.url, true).await;
    assert!(matches!(
        app.service.loaded(),
        Some(Loaded::Table { why: None })
    ));
    let created: serde_json::Value = app
        .post(
            "/collections/incidents/items",
            &incident(17.83, 59.24, "vandalism", "2026-11-01T22:00:00Z"),
        )
        .await
        .json()
        .await
        .unwrap();
    let id = created["id"].as_str().unwrap().to_owned();
    let r = app
        .client
        .delete(app.url(&format!("/collections/incidents/items/{id}")))
        .header("if-match", "\"1\"")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let snapshot = app.service.store().snapshot_path().unwrap();
    app.stop().await;
    assert!(snapshot.exists(), "a snapshot is written at shutdown");

    // Behind the server's back: one feature added, one deleted, one edited.
    let store = Store::connect(&db.url).await.unwrap();
    let offline = Service::open(store.clone()).await.unwrap();
    assert!(
        matches!(offline.loaded(), Some(Loaded::Snapshot { replayed: 0 })),
        "{:?}",
        offline.loaded()
    );
    let viewer = lagesbild::startup::local_viewer(&offline).unwrap();
    let draft = lagesbild::domain::FeatureDraft::from_geojson(
        Layer::Incidents,
        incident(17.84, 59.25, "car_fire", "2026-11-02T22:00:00Z"),
    )
    .unwrap();
    let added = offline
        .create_many(vec![draft], &viewer, &|_| {})
        .await
        .unwrap();
    let victims: Vec<_> = offline
        .unrestricted()
        .all(Layer::Incidents)
        .into_iter()
        .filter(|f| f.id != added[0].id)
        .collect();
    offline
        .delete(
            &viewer,
            Layer::Incidents,
            victims[0].id,
            victims[0].meta.version,
        )
        .await
        .unwrap();
    assert!(
        snapshot.exists(),
        "a command reads the snapshot and leaves it"
    );
    store.close().await;

    let app = TestApp::spawn(&db.url, false).await;
    assert!(
        matches!(app.service.loaded(), Some(Loaded::Snapshot { replayed: 2 })),
        "{:?}",
        app.service.loaded()
    );
    assert_true_to_the_table(&app.service).await;
    assert!(
        !snapshot.exists(),
        "the server removes the snapshot it started from (a new one is written at the stop)"
    );
    assert!(
        app.service
            .unrestricted()
            .get(Layer::Incidents, added[0].id)
            .is_some()
    );
    assert!(
        app.service
            .unrestricted()
            .get(Layer::Incidents, victims[0].id)
            .is_none()
    );
    let (status, _) = app
        .get_json(&format!("/collections/incidents/items/{id}"))
        .await;
    assert_eq!(status, 404, "deleted before the snapshot, still deleted");
    app.stop().await;
}

/// A snapshot from another database, a cut-off one, one ahead of the log, and one whose later
/// changes were forgotten are all refused: the table is read and the picture is true to it.
#[tokio::test]
async fn a_snapshot_that_cannot_be_trusted_is_not_used() {
    let (a, b) = (fresh_sqlite(), fresh_sqlite());
    for db in [&a, &b] {
        let app = TestApp::spawn(&db.url, true).await;
        app.stop().await;
    }
    let path_of = |db: &crate::common::SqliteDb| db.dir.path().join("lagesbild.db.index");
    let kept_a = std::fs::read(path_of(&a)).unwrap();

    let restart = |url: String| async move {
        let app = TestApp::spawn(&url, false).await;
        assert_true_to_the_table(&app.service).await;
        let loaded = app.service.loaded().cloned();
        app.stop().await;
        loaded
    };
    let why = |loaded: Option<Loaded>| match loaded {
        Some(Loaded::Table { why: Some(w) }) => w,
        other => panic!("the snapshot was used: {other:?}"),
    };

    // Another database's snapshot.
    std::fs::copy(path_of(&a), path_of(&b)).unwrap();
    assert!(why(restart(b.url.clone()).await).contains("another database"));

    // Cut off in the middle.
    std::fs::write(path_of(&a), &kept_a[..kept_a.len() / 2]).unwrap();
    let said = why(restart(a.url.clone()).await);
    assert!(said.contains("feature") || said.contains("end"), "{said}");

    // An old snapshot after newer changes were written and forgotten: the server writes, stops
    // (a new snapshot, the log pruned), and the old file is put back.
    let app = TestApp::spawn(&a.url, false).await;
    let r = app
        .post(
            "/collections/incidents/items",
            &incident(17.83, 59.24, "vandalism", "2026-11-01T22:00:00Z"),
        )
        .await;
    assert_eq!(r.status(), 201);
    app.stop().await;
    let newer = std::fs::read(path_of(&a)).unwrap();
    std::fs::write(path_of(&a), &kept_a).unwrap();
    assert!(why(restart(a.url.clone()).await).contains("no longer holds"));

    // A snapshot ahead of the log: the database was put back from an older copy.
    let store = Store::connect(&a.url).await.unwrap();
    store.migrate().await.unwrap();
    sqlx_reset_log(&a.url).await;
    store.close().await;
    std::fs::write(path_of(&a), &newer).unwrap();
    assert!(why(restart(a.url.clone()).await).contains("ahead"));

    // And a trusted one is used.
    let app = TestApp::spawn(&a.url, false).await;
    app.stop().await;
    let loaded = restart(a.url.clone()).await;
    assert!(
        matches!(loaded, Some(Loaded::Snapshot { .. })),
        "{loaded:?}"
    );
}

/// Rewinds the change log's counter, as restoring the database from an older copy would.
async fn sqlx_reset_log(url: &str) {
    use sqlx::Connection;
    let mut c = sqlx::SqliteConnection::connect(url).await.unwrap();
    sqlx::query("UPDATE sqlite_sequence SET seq = 0 WHERE name = 'changes'")
        .execute(&mut c)
        .await
        .unwrap();
    sqlx::query("DELETE FROM changes")
        .execute(&mut c)
        .await
        .unwrap();
    c.close().await.unwrap();
}
