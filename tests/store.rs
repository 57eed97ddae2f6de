//! One store contract, run against a real SQLite file and a real PostGIS database.

#![allow(clippy::unwrap_used)] // Test code: a failed unwrap is a failed test.

mod common;

use std::sync::Arc;

use lagesbild::domain::{Feature, Layer, Properties};
use lagesbild::store::{Store, StoreError};
use time::macros::datetime;

async fn sqlite_store() -> (common::SqliteDb, Store) {
    let db = common::fresh_sqlite();
    let store = Store::connect(&db.url).await.unwrap();
    store.migrate().await.unwrap();
    (db, store)
}

async fn pg_store() -> Option<Store> {
    let admin = common::pg_admin_url()?;
    let url = common::fresh_pg_url(&admin).await;
    let store = Store::connect(&url).await.unwrap();
    store.migrate().await.unwrap();
    Some(store)
}

fn sample() -> Vec<Feature> {
    lagesbild::demo::demo(datetime!(2026-11-23 12:00 UTC))
}

/// Every layer's features come back exactly as written.
async fn round_trips_every_layer(store: &Store) {
    let features = sample();
    store.insert(&features, &|_| {}).await.unwrap();
    for layer in Layer::ALL {
        let mut expected: Vec<&Feature> = features.iter().filter(|f| f.layer() == *layer).collect();
        let mut loaded = store.load_layer(*layer).await.unwrap();
        assert_eq!(loaded.len(), expected.len(), "{layer}");
        assert_eq!(store.count(*layer).await.unwrap(), expected.len() as i64);
        expected.sort_by_key(|f| f.id);
        loaded.sort_by_key(|f| f.id);
        for (a, b) in loaded.iter().zip(expected) {
            assert_eq!(a, b, "{layer} {}", a.id);
        }
    }
    // And in the one pass over every layer a start-up reads.
    let mut live = Vec::new();
    let n = store.for_each_live(&mut |f| live.push(f)).await.unwrap();
    assert_eq!(n as usize, features.len());
    let mut expected = features.clone();
    expected.sort_by_key(|f| f.id);
    live.sort_by_key(|f| f.id);
    assert_eq!(live, expected);
}

/// An incident's document leaves out what its columns hold, and reads back whole: whatever the
/// time's offset and precision, with or without a reference, and in the whole form rows
/// written before the compact one have (here written by hand).
async fn incident_documents_are_compact_and_whole_ones_still_read(store: &Store) {
    let template = sample()
        .into_iter()
        .find(|f| f.layer() == Layer::Incidents)
        .unwrap();
    let variant = |f: &dyn Fn(&mut lagesbild::domain::incident::Incident)| {
        let mut g = template.clone();
        g.id = uuid::Uuid::new_v4();
        let Properties::Incident(p) = &mut g.properties else {
            unreachable!()
        };
        f(p);
        g
    };
    let whole_second = variant(&|p| {
        p.occurred_at = datetime!(2026-11-20 21:14:00 UTC);
        p.reference = None;
    });
    let features = vec![
        whole_second.clone(),
        // Another offset, and a fraction of a second: the time column cannot hold them.
        variant(&|p| p.occurred_at = datetime!(2026-11-20 22:14:00 +01:00)),
        variant(&|p| p.occurred_at = datetime!(2026-11-20 21:14:00.25 UTC)),
        variant(&|p| {
            p.reference = Some("K-123456-26".into());
            p.description = "".into();
            p.status = lagesbild::domain::incident::IncidentStatus::Closed;
            p.category = lagesbild::domain::incident::IncidentCategory::Shooting;
        }),
    ];
    store.insert(&features, &|_| {}).await.unwrap();
    for f in &features {
        let back = store.get(f.id).await.unwrap().map(|(g, _)| g);
        assert_eq!(back.as_ref(), Some(f), "{:?}", f.properties);
    }
    let keys = |doc: &str| -> Vec<String> {
        let v: serde_json::Value = serde_json::from_str(doc).unwrap();
        let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
        k.sort();
        k
    };
    let document = |id: uuid::Uuid| async move {
        match store {
            Store::Sqlite(p) => {
                sqlx::query_scalar::<_, String>("SELECT properties FROM features WHERE id = ?")
                    .bind(id)
                    .fetch_one(p)
                    .await
                    .unwrap()
            }
            Store::Postgres(p) => sqlx::query_scalar::<_, String>(
                "SELECT properties::text FROM features WHERE id = $1",
            )
            .bind(id)
            .fetch_one(p)
            .await
            .unwrap(),
        }
    };
    assert_eq!(
        keys(&document(features[0].id).await),
        ["description", "severity"],
        "the columns hold the rest"
    );
    assert_eq!(
        keys(&document(features[1].id).await),
        ["description", "occurred_at", "severity"]
    );
    assert_eq!(
        keys(&document(features[3].id).await),
        ["description", "reference", "severity"]
    );
    // A row whose document is whole (as every row written before this form) reads as before,
    // and its document wins over its columns.
    let whole = whole_second.properties.to_json();
    match store {
        Store::Sqlite(p) => {
            sqlx::query("UPDATE features SET properties = ?, category = 'other', status = 'closed' WHERE id = ?")
                .bind(&whole)
                .bind(whole_second.id)
                .execute(p)
                .await
                .unwrap();
        }
        Store::Postgres(p) => {
            sqlx::query("UPDATE features SET properties = $1::jsonb, category = 'other', status = 'closed' WHERE id = $2")
                .bind(&whole)
                .bind(whole_second.id)
                .execute(p)
                .await
                .unwrap();
        }
    }
    assert!(keys(&document(whole_second.id).await).contains(&"category".to_owned()));
    let back = store.get(whole_second.id).await.unwrap().map(|(g, _)| g);
    assert_eq!(back, Some(whole_second.clone()));
    // A compact document whose column is gone by a hand's edit is refused, saying what lacks.
    match store {
        Store::Sqlite(p) => {
            sqlx::query("UPDATE features SET time_start = NULL WHERE id = ?")
                .bind(features[3].id)
                .execute(p)
                .await
                .unwrap();
        }
        Store::Postgres(p) => {
            sqlx::query("UPDATE features SET time_start = NULL WHERE id = $1")
                .bind(features[3].id)
                .execute(p)
                .await
                .unwrap();
        }
    }
    let e = store.get(features[3].id).await.unwrap_err().to_string();
    assert!(
        e.contains("occurred_at") && e.contains(&features[3].id.to_string()),
        "{e}"
    );
    // So is a start-up's whole-table read, and the store goes on answering.
    let e = store
        .for_each_live(&mut |_| {})
        .await
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("occurred_at") && e.contains(&features[3].id.to_string()),
        "{e}"
    );
    for _ in 0..4 {
        assert!(store.get(features[0].id).await.unwrap().is_some());
    }
}

/// Updates need the current version; deletes hide the feature but keep it.
async fn versions_guard_updates_and_deletes(store: &Store) {
    let mut f = sample()
        .into_iter()
        .find(|f| f.layer() == Layer::Cameras)
        .unwrap();
    store
        .insert(std::slice::from_ref(&f), &|_| {})
        .await
        .unwrap();

    f.meta.version = 2;
    if let Properties::Camera(c) = &mut f.properties {
        c.direction = 123.0;
    }
    store.update(&f).await.unwrap();
    let (got, deleted) = store.get(f.id).await.unwrap().unwrap();
    assert_eq!(got, f);
    assert!(deleted.is_none());

    // A second writer still holding version 1 is refused and told the current version.
    let mut stale = f.clone();
    stale.meta.version = 2;
    match store.update(&stale).await {
        Err(StoreError::VersionConflict {
            expected: 1,
            current: 2,
            ..
        }) => {}
        other => panic!("expected a version conflict, got {other:?}"),
    }

    assert!(matches!(
        store.delete(Layer::Cameras, f.id, 1, "t").await,
        Err(StoreError::VersionConflict { .. })
    ));
    store.delete(Layer::Cameras, f.id, 2, "t").await.unwrap();
    assert!(
        store
            .load_layer(Layer::Cameras)
            .await
            .unwrap()
            .iter()
            .all(|x| x.id != f.id)
    );
    let (_, deleted) = store.get(f.id).await.unwrap().expect("kept after delete");
    assert!(deleted.is_some());
    assert!(matches!(
        store.delete(Layer::Cameras, f.id, 3, "t").await,
        Err(StoreError::NotFound(..))
    ));
    // The wrong layer is not found either.
    assert!(matches!(
        store.delete(Layer::Incidents, f.id, 3, "t").await,
        Err(StoreError::NotFound(..))
    ));
}

/// A batch with one duplicate id stores nothing.
async fn batches_are_all_or_nothing(store: &Store) {
    let features: Vec<Feature> = sample()
        .into_iter()
        .filter(|f| f.layer() == Layer::Incidents)
        .take(2500)
        .collect();
    store.insert(&features[..1], &|_| {}).await.unwrap();
    // The duplicate sits in the third chunk of 1000, after two chunks were written in the transaction.
    let mut batch: Vec<Feature> = features[1..].to_vec();
    let mut dup = features[0].clone();
    dup.meta.organisation = Arc::from("Someone else");
    batch.insert(2200, dup);
    match store.insert(&batch, &|_| {}).await {
        Err(StoreError::DuplicateId(id)) => assert_eq!(id, features[0].id),
        other => panic!("expected a duplicate id error, got {other:?}"),
    }
    assert_eq!(
        store.count(Layer::Incidents).await.unwrap(),
        1,
        "nothing of the failed batch is stored"
    );
}

/// A streamed insert the database itself refuses — a repeated id the reader did not name, in
/// a later batch — stores nothing, logs nothing, and leaves the store as it was: its key, its
/// change-log trigger (set aside during a bulk insert on SQLite) and its pooled connections.
/// Once on a first load (PostGIS sets the key aside: its rebuild refuses) and once into a
/// table that has rows (the insert itself refuses; SQLite's `INSERT OR ROLLBACK`).
async fn a_refused_stream_stores_nothing(store: &Store) {
    use lagesbild::store::bulk::{BulkMessage, BulkMode};
    let features: Vec<Feature> = sample()
        .into_iter()
        .filter(|f| f.layer() == Layer::Incidents)
        .take(3400)
        .collect();
    assert_eq!(features.len(), 3400);
    let changes = || async {
        let sql = "SELECT count(*) FROM changes";
        let n: i64 = match store {
            Store::Sqlite(p) => sqlx::query_scalar(sql).fetch_one(p).await.unwrap(),
            Store::Postgres(p) => sqlx::query_scalar(sql).fetch_one(p).await.unwrap(),
        };
        n
    };
    // Each round its own 1 700 features: two batches (1 000 written before the refused one),
    // then six for the checks after.
    for (round, own) in features.chunks(1700).enumerate() {
        let first_load = round == 0;
        if !first_load {
            // A row already stored, which the second batch repeats.
            store.insert(&own[1699..], &|_| {}).await.unwrap();
        }
        let before = store.count(Layer::Incidents).await.unwrap();
        let logged = changes().await;
        let mut later = own[1000..1600].to_vec();
        let mut dup = if first_load {
            own[3].clone()
        } else {
            own[1699].clone()
        };
        dup.meta.organisation = Arc::from("Someone else");
        later.insert(300, dup);
        let (tx, rx) = tokio::sync::mpsc::channel(4);
        for batch in [own[..1000].to_vec(), later] {
            tx.send(BulkMessage::Batch {
                features: batch,
                chosen: vec![],
            })
            .await
            .unwrap();
        }
        tx.send(BulkMessage::Commit(None)).await.unwrap();
        drop(tx);
        let outcome = store.insert_stream(rx, BulkMode::Write, &|_| {}).await;
        assert!(
            outcome.as_ref().map_or(true, |o| !o.committed),
            "round {round}: {outcome:?}"
        );
        assert_eq!(store.count(Layer::Incidents).await.unwrap(), before);
        assert_eq!(changes().await, logged, "round {round}");
        // The key is back (or never left): the same id twice is refused.
        let twice = vec![own[1600].clone(), own[1600].clone()];
        assert!(
            matches!(
                store.insert(&twice, &|_| {}).await,
                Err(StoreError::DuplicateId(_))
            ),
            "round {round}"
        );
        // The trigger is back, and the pool's connections still begin transactions.
        for i in 1601..1607 {
            store.insert(&own[i..=i], &|_| {}).await.unwrap();
        }
        assert_eq!(changes().await, logged + 6, "round {round}");
        assert_eq!(store.count(Layer::Incidents).await.unwrap(), before + 6);
    }
}

#[tokio::test]
async fn sqlite_a_refused_stream_stores_nothing() {
    let (_db, store) = sqlite_store().await;
    a_refused_stream_stores_nothing(&store).await;
}

#[tokio::test]
async fn postgis_a_refused_stream_stores_nothing() {
    let Some(store) = pg_store().await else {
        return;
    };
    a_refused_stream_stores_nothing(&store).await;
}

/// The journal an SQLite file's header names: 1 for a rollback journal, 2 for the write-ahead
/// log (bytes 18 and 19 of the header, the file format's write and read versions).
fn header_journal(db: &common::SqliteDb) -> (u8, u8) {
    let bytes = std::fs::read(db.dir.path().join("lagesbild.db")).unwrap();
    (bytes[18], bytes[19])
}

/// A command-line import holds an SQLite database alone, writing it through a rollback journal
/// (each page once, not twice through the write-ahead log), only when no other connection has
/// the database open: with another one open — a server, here a second pool holding a
/// connection — it goes through the log as before, and the other connection reads on. Either
/// way, committed or refused, the file is back in WAL mode after, and the store's pool (whose
/// idle connections the load closed) still works and still enforces the CHECK constraints the
/// load set aside on its own connection.
#[tokio::test]
async fn sqlite_a_load_holds_the_database_alone_only_when_nothing_else_has_it_open() {
    let (db, store) = sqlite_store().await;
    let features: Vec<Feature> = sample()
        .into_iter()
        .filter(|f| f.layer() == Layer::Incidents)
        .take(3000)
        .collect();
    let wal = (2, 2);
    assert_eq!(header_journal(&db), wal);
    // Another process's connection, open for the whole load.
    let other = Store::connect(&db.url).await.unwrap();
    let Store::Sqlite(other_pool) = &other else {
        panic!()
    };
    let mut held = other_pool.acquire().await.unwrap();
    let outcome = common::load_stream(
        &store,
        vec![features[..500].to_vec(), features[500..1000].to_vec()],
    )
    .await
    .unwrap();
    assert!(outcome.committed && !outcome.alone, "{outcome:?}");
    let seen: i64 = sqlx::query_scalar("SELECT count(*) FROM features")
        .fetch_one(&mut *held)
        .await
        .unwrap();
    assert_eq!(seen, 1000, "the other connection reads the committed rows");
    assert_eq!(header_journal(&db), wal);
    drop(held);
    other.close().await;

    // Alone now (the store's own idle connections are closed for it), into a table with rows.
    let outcome = common::load_stream(
        &store,
        vec![features[1000..1500].to_vec(), features[1500..2000].to_vec()],
    )
    .await
    .unwrap();
    assert!(outcome.committed && outcome.alone, "{outcome:?}");
    assert_eq!(outcome.written, 1000);
    assert_eq!(header_journal(&db), wal, "the log is turned back on");
    assert_eq!(store.count(Layer::Incidents).await.unwrap(), 2000);
    assert!(
        !db.dir.path().join("lagesbild.db-journal").exists(),
        "no journal is left"
    );

    // Alone and refused by the database (an id stored already, in the second batch): nothing
    // of it is stored, and the log is back on all the same.
    let mut later = features[2500..3000].to_vec();
    later.insert(100, features[10].clone());
    let outcome = common::load_stream(&store, vec![features[2000..2500].to_vec(), later]).await;
    assert!(
        outcome.as_ref().map_or(true, |o| !o.committed),
        "{outcome:?}"
    );
    assert_eq!(header_journal(&db), wal);
    assert_eq!(store.count(Layer::Incidents).await.unwrap(), 2000);
    store.insert(&features[2000..2010], &|_| {}).await.unwrap();
    assert_eq!(store.count(Layer::Incidents).await.unwrap(), 2010);
    let mode: String = match &store {
        Store::Sqlite(p) => sqlx::query_scalar("PRAGMA journal_mode")
            .fetch_one(p)
            .await
            .unwrap(),
        Store::Postgres(_) => unreachable!(),
    };
    assert_eq!(mode, "wal");
    // The CHECK constraints the load's own connection left aside hold again for everyone
    // else (the connection is closed, not pooled).
    let Store::Sqlite(pool) = &store else {
        unreachable!()
    };
    for _ in 0..4 {
        let refused = sqlx::query("UPDATE features SET layer = 'no_such_layer' WHERE rowid = 1")
            .execute(pool)
            .await;
        assert!(
            refused
                .as_ref()
                .is_err_and(|e| e.to_string().contains("CHECK constraint failed")),
            "{refused:?}"
        );
    }
}

/// A whole-table read on PostGIS is a binary `COPY`, whose unfinished business sqlx does not
/// track. Neither one the database refuses before its first row nor one dropped half-read may
/// leave a connection in the pool that answers the next query with the last one's leftovers:
/// with a pool of one connection, every later read answers its own question.
#[tokio::test]
async fn postgis_a_refused_or_abandoned_whole_table_read_leaves_the_pool_usable() {
    let Some(admin) = common::pg_admin_url() else {
        return;
    };
    let url = common::fresh_pg_url(&admin).await;
    Store::connect(&url).await.unwrap().migrate().await.unwrap();
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .connect(&url)
        .await
        .unwrap();
    let store = Store::Postgres(pool.clone());
    let features = sample();
    store.insert(&features, &|_| {}).await.unwrap();
    let answers = || async {
        for f in features.iter().step_by(97) {
            let back = store.get(f.id).await.unwrap().map(|(g, _)| g);
            assert_eq!(back.as_ref(), Some(f));
        }
        assert_eq!(
            store.count(Layer::Incidents).await.unwrap() as usize,
            features
                .iter()
                .filter(|f| f.layer() == Layer::Incidents)
                .count()
        );
    };
    // Refused before its first row: a column it reads is gone.
    let rename =
        |from: &str, to: &str| format!("ALTER TABLE features RENAME COLUMN {from} TO {to}");
    sqlx::query(sqlx::AssertSqlSafe(rename("created_by", "made_by")))
        .execute(&pool)
        .await
        .unwrap();
    let e = store.for_each_live(&mut |_| {}).await.unwrap_err();
    assert!(e.to_string().contains("created_by"), "{e}");
    sqlx::query(sqlx::AssertSqlSafe(rename("made_by", "created_by")))
        .execute(&pool)
        .await
        .unwrap();
    answers().await;
    // Dropped half-read: the reading task ends at the hundredth row while rows are still coming.
    let reader = store.clone();
    let stopped = tokio::spawn(async move {
        let mut seen = 0;
        reader
            .for_each_live(&mut |_| {
                seen += 1;
                assert!(seen < 100, "the reader stops here on purpose");
            })
            .await
    })
    .await;
    assert!(stopped.is_err_and(|e| e.is_panic()));
    answers().await;
    // And a whole read still gives everything.
    let mut n = 0;
    store.for_each_live(&mut |_| n += 1).await.unwrap();
    assert_eq!(n, features.len());
}

#[tokio::test]
async fn sqlite_round_trips_every_layer() {
    let (_db, store) = sqlite_store().await;
    round_trips_every_layer(&store).await;
}

#[tokio::test]
async fn postgis_round_trips_every_layer() {
    let Some(store) = pg_store().await else {
        return;
    };
    round_trips_every_layer(&store).await;
}

#[tokio::test]
async fn sqlite_incident_documents_are_compact_and_whole_ones_still_read() {
    let (_db, store) = sqlite_store().await;
    incident_documents_are_compact_and_whole_ones_still_read(&store).await;
}

#[tokio::test]
async fn postgis_incident_documents_are_compact_and_whole_ones_still_read() {
    let Some(store) = pg_store().await else {
        return;
    };
    incident_documents_are_compact_and_whole_ones_still_read(&store).await;
}

#[tokio::test]
async fn sqlite_versions_guard_updates_and_deletes() {
    let (_db, store) = sqlite_store().await;
    versions_guard_updates_and_deletes(&store).await;
}

#[tokio::test]
async fn postgis_versions_guard_updates_and_deletes() {
    let Some(store) = pg_store().await else {
        return;
    };
    versions_guard_updates_and_deletes(&store).await;
}

#[tokio::test]
async fn sqlite_batches_are_all_or_nothing() {
    let (_db, store) = sqlite_store().await;
    batches_are_all_or_nothing(&store).await;
}

#[tokio::test]
async fn postgis_batches_are_all_or_nothing() {
    let Some(store) = pg_store().await else {
        return;
    };
    batches_are_all_or_nothing(&store).await;
}

#[tokio::test]
async fn sqlite_migrations_are_idempotent_and_file_is_created() {
    let db = common::fresh_sqlite();
    let nested = format!("sqlite://{}", db.dir.path().join("a/b/l.db").display());
    let store = Store::connect(&nested).await.unwrap();
    store.migrate().await.unwrap();
    store.migrate().await.unwrap();
    assert!(db.dir.path().join("a/b/l.db").exists());
}

/// Retention's query by time, the only query by time in SQL, as the planner sees it: which
/// index, if any, answers it.
const RETENTION_WHERE: &str = lagesbild::store::retention::EXPIRED_ROWS;

/// Retention reads the incidents' time index (a partial index on `time_start`), not the table.
#[tokio::test]
async fn sqlite_retention_reads_the_incidents_time_index() {
    let (_db, store) = sqlite_store().await;
    let Store::Sqlite(pool) = &store else {
        unreachable!()
    };
    store.insert(&sample(), &|_| {}).await.unwrap();
    let plan: Vec<(i64, i64, i64, String)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "EXPLAIN QUERY PLAN SELECT id {RETENTION_WHERE}"
    )))
    .bind("2026-06-01T00:00:00Z")
    .fetch_all(pool)
    .await
    .unwrap();
    assert!(
        plan.iter()
            .any(|r| r.3.contains("USING INDEX features_incident_time")),
        "{plan:?}"
    );
}

/// The same on PostGIS (with sequential scans priced out, as on a table of a million rows).
#[tokio::test]
async fn postgis_retention_reads_the_incidents_time_index() {
    let Some(store) = pg_store().await else {
        return;
    };
    let Store::Postgres(pool) = &store else {
        unreachable!()
    };
    store.insert(&sample(), &|_| {}).await.unwrap();
    let mut tx = pool.begin().await.unwrap();
    sqlx::query("SET LOCAL enable_seqscan = off")
        .execute(&mut *tx)
        .await
        .unwrap();
    let plan: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "EXPLAIN SELECT id {RETENTION_WHERE}"
    )))
    .bind(time::OffsetDateTime::now_utc())
    .fetch_all(&mut *tx)
    .await
    .unwrap();
    assert!(
        plan.iter().any(|l| l.contains("features_incident_time")),
        "{plan:?}"
    );
}

/// PostGIS holds real geometries: the per-layer views answer spatial SQL as QGIS would ask it.
#[tokio::test]
async fn postgis_layers_are_usable_from_sql() {
    let Some(store) = pg_store().await else {
        return;
    };
    let features = sample();
    store.insert(&features, &|_| {}).await.unwrap();
    let Store::Postgres(pool) = &store else {
        unreachable!()
    };
    let (srid, kind): (i32, String) =
        sqlx::query_as("SELECT ST_SRID(geom), GeometryType(geom) FROM incidents LIMIT 1")
            .fetch_one(pool)
            .await
            .unwrap();
    assert_eq!((srid, kind.as_str()), (4326, "POINT"));
    // Count incidents inside the Alby outline with PostGIS and with the domain's own test.
    let in_alby: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM incidents i JOIN areas a ON ST_Intersects(a.geom, i.geom) WHERE a.name = 'Alby'",
    )
    .fetch_one(pool)
    .await
    .unwrap();
    let alby = features
        .iter()
        .find(|f| matches!(&f.properties, Properties::Area(a) if &*a.name == "Alby"))
        .unwrap();
    let ours = features
        .iter()
        .filter(|f| f.layer() == Layer::Incidents)
        .filter(|f| geo::Intersects::intersects(&*alby.geometry(), &*f.geometry()))
        .count();
    assert_eq!(in_alby as usize, ours);
    assert!(ours > 10, "the demo clusters incidents in Alby ({ours})");
    let stale: i64 = sqlx::query_scalar("SELECT count(*) FROM risk_environments WHERE stale")
        .fetch_one(pool)
        .await
        .unwrap();
    assert!(stale > 0);
}

/// A store migrated up to (not including) `version`.
async fn store_before(url: &str, version: i64) -> Store {
    let store = Store::connect(url).await.unwrap();
    let keep = |mut m: sqlx::migrate::Migrator| {
        m.migrations = m
            .migrations
            .iter()
            .filter(|x| x.version < version)
            .cloned()
            .collect::<Vec<_>>()
            .into();
        m
    };
    match &store {
        Store::Sqlite(p) => keep(sqlx::migrate!("./migrations/sqlite"))
            .run(p)
            .await
            .unwrap(),
        Store::Postgres(p) => keep(sqlx::migrate!("./migrations/postgres"))
            .run(p)
            .await
            .unwrap(),
    }
    store
}

/// The camera register after 1 April 2025: a camera stored with a permit reference before the
/// migration has it as its documented assessment's reference after, and no permit field.
async fn the_camera_register_migration_keeps_the_permit_reference(store: Store) {
    let camera = sample()
        .into_iter()
        .find(|f| f.layer() == Layer::Cameras)
        .unwrap();
    store
        .insert(std::slice::from_ref(&camera), &|_| {})
        .await
        .unwrap();
    // As a camera was stored before: its own fields and a permit reference.
    match &store {
        Store::Sqlite(p) => {
            sqlx::query(
                "UPDATE features SET properties = json_set(json_remove(properties, \
                 '$.assessment_reference', '$.purpose', '$.assessment_date', '$.next_review', \
                 '$.operator', '$.last_checked', '$.resolution_px', '$.mounting_height_m'), \
                 '$.permit_reference', 'KBT-2023-0042') WHERE layer = 'cameras'",
            )
            .execute(p)
            .await
            .unwrap();
        }
        Store::Postgres(p) => {
            sqlx::query(
                "UPDATE features SET properties = (properties - 'assessment_reference' \
                 - 'purpose' - 'assessment_date' - 'next_review' - 'operator' - 'last_checked' \
                 - 'resolution_px' - 'mounting_height_m') \
                 || '{\"permit_reference\": \"KBT-2023-0042\"}' WHERE layer = 'cameras'",
            )
            .execute(p)
            .await
            .unwrap();
        }
    }
    store.migrate().await.unwrap();
    let loaded = store.load_layer(Layer::Cameras).await.unwrap();
    let Properties::Camera(c) = &loaded[0].properties else {
        panic!("not a camera")
    };
    assert_eq!(c.assessment_reference.as_deref(), Some("KBT-2023-0042"));
    assert_eq!(
        loaded[0].meta.version,
        camera.meta.version + 1,
        "a rewritten row is a new version (its ETag changes)"
    );
    assert_eq!((c.purpose.as_ref(), c.next_review), (None, None));
    let permit_left = match &store {
        Store::Sqlite(p) => sqlx::query_scalar::<_, Option<String>>(
            "SELECT json_type(properties, '$.permit_reference') FROM features WHERE layer = 'cameras'",
        )
        .fetch_one(p)
        .await
        .unwrap()
        .is_some(),
        Store::Postgres(p) => {
            let in_view: Option<String> =
                sqlx::query_scalar("SELECT assessment_reference FROM cameras")
                    .fetch_one(p)
                    .await
                    .unwrap();
            assert_eq!(in_view.as_deref(), Some("KBT-2023-0042"));
            sqlx::query_scalar::<_, bool>(
                "SELECT properties ? 'permit_reference' FROM features WHERE layer = 'cameras'",
            )
            .fetch_one(p)
            .await
            .unwrap()
        }
    };
    assert!(!permit_left);
    store.close().await;
}

#[tokio::test]
async fn sqlite_the_camera_register_migration_keeps_the_permit_reference() {
    let db = common::fresh_sqlite();
    let store = store_before(&db.url, 20_261_203_000_001).await;
    the_camera_register_migration_keeps_the_permit_reference(store).await;
}

/// Every feature row of a SQLite store, each column as it is stored, under its rowid.
async fn sqlite_rows(pool: &sqlx::SqlitePool) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT json_array(rowid, hex(id), layer, hex(geom), min_lon, min_lat, max_lon, max_lat, \
         category, status, time_start, time_end, organisation, classification, properties, \
         created_at, updated_at, created_by, version, deleted_at, deleted_by) \
         FROM features ORDER BY rowid",
    )
    .fetch_all(pool)
    .await
    .unwrap()
}

/// The migration that gives SQLite's ids a unique index in place of the primary key (so a
/// first import can set it aside) keeps every row as it was, under the same rowid, writes no
/// change-log entry, and leaves the key and the change log's three triggers working.
#[tokio::test]
async fn sqlite_the_id_index_migration_keeps_rows_rowids_key_and_triggers() {
    let db = common::fresh_sqlite();
    let store = store_before(&db.url, 20_261_204_000_002).await;
    let features = sample();
    store.insert(&features, &|_| {}).await.unwrap();
    let gone = features
        .iter()
        .find(|f| f.layer() == Layer::Cameras)
        .unwrap();
    store
        .delete(gone.layer(), gone.id, gone.meta.version, "t")
        .await
        .unwrap();
    let Store::Sqlite(pool) = &store else {
        unreachable!()
    };
    // A row removed for good (as retention does) leaves a gap in the rowids.
    sqlx::query("DELETE FROM features WHERE id = ?")
        .bind(features[5].id)
        .execute(pool)
        .await
        .unwrap();
    let changes = || async {
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM changes")
            .fetch_one(pool)
            .await
            .unwrap()
    };
    let rows = sqlite_rows(pool).await;
    let logged = changes().await;
    assert_eq!(rows.len(), features.len() - 1);

    store.migrate().await.unwrap();
    let after = sqlite_rows(pool).await;
    let differ = rows.iter().zip(&after).filter(|(a, b)| a != b).count();
    assert!(
        after.len() == rows.len() && differ == 0,
        "every row, under the same rowid: {} rows before, {} after, {differ} differ",
        rows.len(),
        after.len()
    );
    assert_eq!(changes().await, logged, "a rebuilt table is no change");
    let unique: Vec<String> =
        sqlx::query_scalar("SELECT name FROM pragma_index_list('features') WHERE \"unique\" = 1")
            .fetch_all(pool)
            .await
            .unwrap();
    assert_eq!(unique, vec!["features_id".to_owned()]);
    // The key: an id that is taken, alive or deleted, is refused.
    for taken in [&features[0], gone] {
        let mut again = taken.clone();
        again.meta.organisation = Arc::from("Someone else");
        assert!(matches!(
            store.insert(std::slice::from_ref(&again), &|_| {}).await,
            Err(StoreError::DuplicateId(id)) if id == taken.id
        ));
    }
    // The triggers: an insert, an update and a delete are each logged.
    let mut new = features[0].clone();
    new.id = uuid::Uuid::new_v4();
    store
        .insert(std::slice::from_ref(&new), &|_| {})
        .await
        .unwrap();
    assert_eq!(changes().await, logged + 1);
    sqlx::query("UPDATE features SET status = status WHERE id = ?")
        .bind(new.id)
        .execute(pool)
        .await
        .unwrap();
    assert_eq!(changes().await, logged + 2);
    store
        .delete(new.layer(), new.id, new.meta.version, "t")
        .await
        .unwrap();
    // A soft delete is an update; a row removed for good (retention) is logged as well.
    sqlx::query("DELETE FROM features WHERE id = ?")
        .bind(new.id)
        .execute(pool)
        .await
        .unwrap();
    assert_eq!(changes().await, logged + 4);
    store.close().await;
}

#[tokio::test]
async fn postgis_the_camera_register_migration_keeps_the_permit_reference() {
    let Some(admin) = common::pg_admin_url() else {
        return;
    };
    let url = common::fresh_pg_url(&admin).await;
    let store = store_before(&url, 20_261_203_000_003).await;
    the_camera_register_migration_keeps_the_permit_reference(store).await;
}

mod audit_journal {
    //! The audit journal (issue 17, item 4): a record appended is in the table after a stop
    //! at any point, exactly once.

    use super::*;
    use lagesbild::store::audit::{AuditFilter, AuditRow};
    use lagesbild::store::audit_journal::{AuditJournal, journal_paths};
    use sqlx::SqlitePool;

    fn pool(store: &Store) -> &SqlitePool {
        match store {
            Store::Sqlite(p) => p,
            Store::Postgres(_) => unreachable!(),
        }
    }

    fn row(actor: &str, n: usize) -> AuditRow {
        AuditRow {
            id: 0,
            at: datetime!(2026-12-03 20:00:00 UTC) + time::Duration::seconds(n as i64),
            actor: actor.to_owned(),
            role: Some("police".into()),
            action: "read".into(),
            layer: Some("incidents".into()),
            features: Some(format!("[\"{n}\"]")),
            bbox: None,
            address: Some("127.0.0.1".into()),
            outcome: "ok".into(),
            detail: Some("ett \"citat\"\noch en rad".into()),
        }
    }

    async fn table(store: &Store) -> Vec<AuditRow> {
        let mut rows = store
            .audit(&AuditFilter {
                limit: 1_000_000,
                ..Default::default()
            })
            .await
            .unwrap();
        rows.reverse();
        rows
    }

    fn without_ids(rows: Vec<AuditRow>) -> Vec<AuditRow> {
        rows.into_iter().map(|r| AuditRow { id: 0, ..r }).collect()
    }

    #[tokio::test]
    async fn records_left_by_a_killed_process_are_moved_once_in_order() {
        let (_db, store) = sqlite_store().await;
        let journal = AuditJournal::open(pool(&store)).await.unwrap().unwrap();
        let written: Vec<AuditRow> = (0..300).map(|n| row("a", n)).collect();
        for r in &written[..100] {
            journal.append(r.clone()).unwrap();
        }
        journal.flush().await.unwrap();
        for r in &written[100..] {
            journal.append(r.clone()).unwrap();
        }
        assert_eq!(table(&store).await.len(), 100);
        // Dropped without a flush: as if the process were killed (the files stay as written).
        drop(journal);
        AuditJournal::recover(pool(&store)).await.unwrap();
        assert_eq!(without_ids(table(&store).await), written);
        // Opened again: nothing is moved twice.
        let again = AuditJournal::open(pool(&store)).await.unwrap().unwrap();
        assert_eq!(again.waiting(), 0);
        drop(again);
        AuditJournal::recover(pool(&store)).await.unwrap();
        assert_eq!(table(&store).await.len(), 300);
    }

    #[tokio::test]
    async fn a_stop_between_the_commit_and_the_cut_moves_nothing_twice_and_a_torn_line_is_skipped()
    {
        let (_db, store) = sqlite_store().await;
        let journal = AuditJournal::open(pool(&store)).await.unwrap().unwrap();
        for n in 0..3 {
            journal.append(row("b", n)).unwrap();
        }
        let db_file = pool(&store).connect_options().get_filename().to_path_buf();
        let [a, _] = journal_paths(&db_file);
        let lines = std::fs::read(&a).unwrap();
        journal.flush().await.unwrap();
        drop(journal);
        // The file as it was before its cut (the commit happened, the cut did not), and a
        // last line cut short by a write that failed.
        let mut file = lines.clone();
        file.extend_from_slice(b"{\"seq\":4,\"at\":17");
        std::fs::write(&a, &file).unwrap();
        AuditJournal::recover(pool(&store)).await.unwrap();
        let rows = table(&store).await;
        assert_eq!(
            without_ids(rows),
            (0..3).map(|n| row("b", n)).collect::<Vec<_>>()
        );
        assert_eq!(
            std::fs::metadata(&a).unwrap().len(),
            0,
            "cut after the move"
        );
    }

    #[tokio::test]
    async fn one_process_owns_the_journal_and_its_files_stay_small_under_load() {
        let (_db, store) = sqlite_store().await;
        let journal = AuditJournal::open(pool(&store)).await.unwrap().unwrap();
        assert!(
            AuditJournal::open(pool(&store)).await.unwrap().is_none(),
            "a second owner"
        );
        let mover = journal.spawn_mover();
        let mut largest = 0;
        for n in 0..20_000 {
            journal.append(row("c", n)).unwrap();
            if n % 500 == 0 {
                largest = largest.max(journal.bytes());
                tokio::task::yield_now().await;
            }
        }
        journal.flush().await.unwrap();
        assert_eq!(journal.bytes(), 0, "every record moved, every file cut");
        assert_eq!(table(&store).await.len(), 20_000);
        let every = journal_paths(pool(&store).connect_options().get_filename())
            .iter()
            .map(|p| std::fs::metadata(p).unwrap().len())
            .sum::<u64>();
        assert_eq!(every, 0);
        // Appends never waited for the table: the files held at most what came in between
        // moves, far less than all 20 000 records (each line is about 250 bytes).
        assert!(largest > 0 && largest < 20_000 * 250, "{largest}");
        drop(journal);
        mover.await.unwrap();
    }
}
