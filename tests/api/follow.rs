//! A server follows its database's change log while serving (issue 14): rows another instance
//! on the same PostGIS, or an import on the command line into the running server's SQLite file,
//! writes reach its picture and its live event stream without a restart; its own writes, which
//! come back through the same log, are not announced twice; an entry that commits after a later
//! one is not skipped; a log pruned past a picture makes it read everything again and tell its
//! live clients to reload.

use std::time::{Duration, Instant};

use serde_json::Value;

use lagesbild::domain::{FeatureDraft, Layer};
use lagesbild::service::Service;
use lagesbild::store::Store;

use crate::common::{
    TestApp, client_with_token, fresh_pg_url, fresh_sqlite, incident, pg_admin_url, read_events,
    send_geojson, token_for,
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

fn draft(lon: f64) -> FeatureDraft {
    FeatureDraft::from_geojson(
        Layer::Incidents,
        incident(lon, 59.24, "vandalism", "2026-11-01T22:00:00.123456Z"),
    )
    .unwrap()
}

/// Two pictures of one database (two instances, or a server and a command), freshly migrated.
async fn two_pictures(url: &str) -> (Store, Service, Service) {
    let store = Store::connect(url).await.unwrap();
    store.migrate().await.unwrap();
    let server = Service::open(store.clone()).await.unwrap();
    let other = Service::open(Store::connect(url).await.unwrap())
        .await
        .unwrap();
    (store, server, other)
}

#[tokio::test]
async fn sqlite_following_counts_what_others_changed_and_nothing_of_its_own() {
    let db = fresh_sqlite();
    following_counts_what_others_changed_and_nothing_of_its_own(&db.url).await;
}

#[tokio::test]
async fn postgis_following_counts_what_others_changed_and_nothing_of_its_own() {
    let Some(admin) = pg_admin_url() else { return };
    following_counts_what_others_changed_and_nothing_of_its_own(&fresh_pg_url(&admin).await).await;
}

/// Two pictures of one database: each counts only what the other changed — creates,
/// replacements and deletions — and nothing of its own.
async fn following_counts_what_others_changed_and_nothing_of_its_own(url: &str) {
    let (store, server, other) = two_pictures(url).await;
    let (sv, ov) = (
        lagesbild::startup::local_viewer(&server).unwrap(),
        lagesbild::startup::local_viewer(&other).unwrap(),
    );
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

/// On PostgreSQL a log entry's sequence number is drawn before commit: a transaction that
/// draws first and commits last must not be skipped by a follower that has already applied a
/// later number, and an open transaction must not hold back everyone else's changes.
#[tokio::test]
async fn postgis_an_entry_committed_after_a_later_one_is_neither_skipped_nor_holding_others_back() {
    use sqlx::Connection;

    let Some(admin) = pg_admin_url() else { return };
    let url = fresh_pg_url(&admin).await;
    let (store, server, other) = two_pictures(&url).await;
    let ov = lagesbild::startup::local_viewer(&other).unwrap();
    let seed = other
        .create_many(vec![draft(17.83)], &ov, &|_| {})
        .await
        .unwrap();
    assert_eq!(server.follow_log().await.unwrap(), 1);

    // A slow writer: its entry is numbered now, its commit comes last.
    let mut slow = sqlx::PgConnection::connect(&url).await.unwrap();
    sqlx::query("BEGIN").execute(&mut slow).await.unwrap();
    let late = uuid::Uuid::new_v4();
    sqlx::query(
        "INSERT INTO features (id, layer, geom, category, status, time_start, time_end,
             organisation, classification, properties, created_at, updated_at, created_by, version)
         SELECT $1, layer, geom, category, status, time_start, time_end, organisation,
             classification, properties, created_at, updated_at, created_by, 1
         FROM features WHERE id = $2",
    )
    .bind(late)
    .bind(seed[0].id)
    .execute(&mut slow)
    .await
    .unwrap();

    // A quick writer meanwhile: a later number, committed first — seen at once.
    let quick = other
        .create_many(vec![draft(17.84)], &ov, &|_| {})
        .await
        .unwrap();
    assert_eq!(server.follow_log().await.unwrap(), 1);
    assert!(
        server
            .unrestricted()
            .get(Layer::Incidents, quick[0].id)
            .is_some()
    );
    assert!(server.unrestricted().get(Layer::Incidents, late).is_none());

    // The slow one commits: applied, though its number is below one applied already.
    sqlx::query("COMMIT").execute(&mut slow).await.unwrap();
    assert_eq!(server.follow_log().await.unwrap(), 1);
    assert!(server.unrestricted().get(Layer::Incidents, late).is_some());
    // Nothing is applied twice.
    assert_eq!(server.follow_log().await.unwrap(), 0);
    slow.close().await.unwrap();
    store.close().await;
}

#[tokio::test]
async fn sqlite_a_log_pruned_past_the_picture_reloads_it_and_tells_live_clients() {
    let db = fresh_sqlite();
    a_log_pruned_past_the_picture_reloads_it_and_tells_live_clients(&db.url).await;
}

#[tokio::test]
async fn postgis_a_log_pruned_past_the_picture_reloads_it_and_tells_live_clients() {
    let Some(admin) = pg_admin_url() else { return };
    a_log_pruned_past_the_picture_reloads_it_and_tells_live_clients(&fresh_pg_url(&admin).await)
        .await;
}

/// The log was pruned before this picture applied what it held (an instance cut off for
/// longer than the log is kept): the picture is read again whole, live clients are told to
/// reload, and following goes on from there.
async fn a_log_pruned_past_the_picture_reloads_it_and_tells_live_clients(url: &str) {
    let (store, server, other) = two_pictures(url).await;
    let ov = lagesbild::startup::local_viewer(&other).unwrap();
    let mut resyncs = server.subscribe_resyncs();
    let mut events = server.subscribe();
    let theirs = other
        .create_many(vec![draft(17.83), draft(17.84)], &ov, &|_| {})
        .await
        .unwrap();
    // SQLite: the other prunes through its own position; PostGIS: entries older than now.
    let pruned = other.prune_log().await.unwrap()
        + store
            .prune_changes_older_than(time::Duration::ZERO)
            .await
            .unwrap();
    assert!(pruned >= 2, "{pruned}");
    assert!(!resyncs.has_changed().unwrap());

    // An answer by id does not read the whole picture inside a request: 503, try again in a
    // moment, while the server's follower does it.
    let sv = lagesbild::startup::local_viewer(&server).unwrap();
    assert!(matches!(
        server.read_item(&sv, Layer::Incidents, theirs[0].id).await,
        Err(lagesbild::service::ServiceError::CatchingUp(_))
    ));
    assert!(
        !resyncs.has_changed().unwrap(),
        "no reload inside a request"
    );

    server.follow_log().await.unwrap();
    assert!(
        server
            .read_item(&sv, Layer::Incidents, theirs[0].id)
            .await
            .is_ok()
    );
    assert!(resyncs.has_changed().unwrap(), "live clients are told");
    assert!(
        events.try_recv().is_err(),
        "no per-feature event can say what changed"
    );
    for f in &theirs {
        assert!(server.unrestricted().get(Layer::Incidents, f.id).is_some());
    }
    resyncs.mark_unchanged();

    // Following goes on from where the reload read.
    let more = other
        .create_many(vec![draft(17.85)], &ov, &|_| {})
        .await
        .unwrap();
    assert_eq!(server.follow_log().await.unwrap(), 1);
    assert!(
        server
            .unrestricted()
            .get(Layer::Incidents, more[0].id)
            .is_some()
    );
    assert!(!resyncs.has_changed().unwrap());
    store.close().await;
}

/// Two instances on one PostGIS, as behind a load balancer: a write through one is in the
/// other's answers and on its live event stream without a restart, woken by PostgreSQL's
/// notification.
#[tokio::test]
async fn postgis_two_instances_on_one_database_see_each_others_writes() {
    let Some(admin) = pg_admin_url() else { return };
    let url = fresh_pg_url(&admin).await;
    let a = TestApp::spawn(&url, false).await;
    let b = TestApp::spawn(&url, false).await;
    let token = token_for(&a.service, "two-inst", "police", "Polisen").await;
    let police = client_with_token(&token);
    let mut stream = police
        .get(b.url("/events"))
        .header("accept", "text/event-stream")
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), 200);
    let before = matched(&police, &b.base).await;

    let r = send_geojson(
        police.post(a.url("/collections/incidents/items")),
        &incident(17.83, 59.24, "car_fire", "2026-11-01T22:00:00Z"),
    )
    .await;
    assert_eq!(r.status(), 201);
    let created: Value = r.json().await.unwrap();
    let events = read_events(&mut stream, Duration::from_millis(1500)).await;
    let about: Vec<&String> = events
        .iter()
        .filter(|(_, d)| d["feature"]["id"] == created["id"])
        .map(|(k, _)| k)
        .collect();
    assert_eq!(about, ["upserted"], "{events:?}");
    assert_eq!(matched(&police, &b.base).await, before + 1);
    let id = created["id"].as_str().unwrap();
    let got = police
        .get(b.url(&format!("/collections/incidents/items/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(got.status(), 200);

    // A delete through the other instance reaches the first.
    let etag = got.headers()["etag"].to_str().unwrap().to_owned();
    let d = police
        .delete(b.url(&format!("/collections/incidents/items/{id}")))
        .header("if-match", etag)
        .send()
        .await
        .unwrap();
    assert_eq!(d.status(), 204, "{}", d.text().await.unwrap());
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let s = police
            .get(a.url(&format!("/collections/incidents/items/{id}")))
            .send()
            .await
            .unwrap()
            .status();
        if s == 404 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the delete never reached the other instance"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    a.stop().await;
    b.stop().await;
}

/// PostgreSQL's notification wakes a listening instance when another service has written (sent
/// by the writer after its commit, `service::signal`; only a wake-up: what changed is read from
/// the log).
#[tokio::test]
async fn postgis_a_commit_wakes_a_listening_instance() {
    use lagesbild::store::changes::Woken;

    let Some(admin) = pg_admin_url() else { return };
    let (store, server, other) = two_pictures(&fresh_pg_url(&admin).await).await;
    let mut signal = store.change_signal().await.unwrap();
    assert!(signal.listens());
    // Nothing happened: the wait runs out.
    assert_eq!(
        signal.wait(Duration::from_millis(200)).await.unwrap(),
        Woken::TimedOut
    );
    let ov = lagesbild::startup::local_viewer(&other).unwrap();
    other
        .create_many(vec![draft(17.83)], &ov, &|_| {})
        .await
        .unwrap();
    // The bound is only so a broken signal fails rather than hangs.
    assert_eq!(
        signal.wait(Duration::from_secs(30)).await.unwrap(),
        Woken::Notified
    );
    assert_eq!(server.follow_log().await.unwrap(), 1);
    drop(signal);
    store.close().await;
}

/// The change log's triggers send no notification (a NOTIFY inside every writing transaction
/// serialised all writers' commits): a row written with SQL by hand is logged, heard by nobody,
/// and still found by the next look at the log. A burst of service writes is heard.
#[tokio::test]
async fn postgis_the_logs_triggers_are_quiet_and_a_services_writes_are_heard() {
    use lagesbild::store::changes::Woken;

    let Some(admin) = pg_admin_url() else { return };
    let url = fresh_pg_url(&admin).await;
    let (store, server, other) = two_pictures(&url).await;
    let mut signal = store.change_signal().await.unwrap();
    let ov = lagesbild::startup::local_viewer(&other).unwrap();
    other
        .create_many(vec![draft(17.83)], &ov, &|_| {})
        .await
        .unwrap();
    assert_eq!(
        signal.wait(Duration::from_secs(30)).await.unwrap(),
        Woken::Notified
    );
    assert_eq!(server.follow_log().await.unwrap(), 1);
    // Let any late wake-up of that write arrive and be taken.
    while signal.wait(Duration::from_millis(300)).await.unwrap() != Woken::TimedOut {}
    let pool = sqlx::PgPool::connect(&url).await.unwrap();
    let changed = sqlx::query(
        "UPDATE features SET properties = properties || '{\"severity\": 5}', version = version + 1",
    )
    .execute(&pool)
    .await
    .unwrap();
    assert_eq!(changed.rows_affected(), 1);
    let logged: i64 = sqlx::query_scalar("SELECT count(*) FROM changes")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(logged, 2, "the trigger logs the change by hand");
    // Absence can only be waited for: a notification, if one were sent, would be here long
    // before this runs out.
    assert_eq!(
        signal.wait(Duration::from_millis(500)).await.unwrap(),
        Woken::TimedOut,
        "the trigger notified"
    );
    assert_eq!(server.follow_log().await.unwrap(), 1, "found by looking");
    // Ten writes in a row through a service: heard.
    for i in 0..10 {
        other
            .create_many(vec![draft(17.80 + f64::from(i) * 0.001)], &ov, &|_| {})
            .await
            .unwrap();
    }
    assert_eq!(
        signal.wait(Duration::from_secs(30)).await.unwrap(),
        Woken::Notified
    );
    assert_eq!(server.follow_log().await.unwrap(), 10);
    drop(signal);
    pool.close().await;
    store.close().await;
}

/// Behind a load balancer a client reads and writes through whichever instance it reaches: a
/// feature written through one instance a moment ago is found by id on another, and changed
/// there at the version the client read, though that instance has not followed the log yet
/// (no follower runs here: only the answer by id applies it). An unknown id is still 404.
#[tokio::test]
async fn postgis_a_feature_written_elsewhere_a_moment_ago_is_found_and_changed_by_id() {
    use lagesbild::domain::geometry::GeometryLimits;
    use lagesbild::service::edits::Expected;

    let Some(admin) = pg_admin_url() else { return };
    let (store, server, other) = two_pictures(&fresh_pg_url(&admin).await).await;
    let sv = lagesbild::startup::local_viewer(&server).unwrap();
    let ov = lagesbild::startup::local_viewer(&other).unwrap();
    let created = other
        .create_many(vec![draft(17.83)], &ov, &|_| {})
        .await
        .unwrap()
        .remove(0);
    let id = created.id;
    assert!(server.unrestricted().get(Layer::Incidents, id).is_none());
    assert!(server.read_item(&sv, Layer::Incidents, id).await.is_ok());
    // Changed elsewhere to version 2; changed here at version 2.
    other
        .patch_from_geojson(
            &ov,
            Layer::Incidents,
            id,
            serde_json::json!({"properties": {"severity": 4}}),
            Expected::Version(1),
            GeometryLimits::default(),
        )
        .await
        .unwrap();
    let here = server
        .patch_from_geojson(
            &sv,
            Layer::Incidents,
            id,
            serde_json::json!({"properties": {"severity": 5}}),
            Expected::Version(2),
            GeometryLimits::default(),
        )
        .await
        .unwrap();
    assert_eq!(here.meta.version, 3);
    // Deleted here at version 3 through the other picture, which has not seen version 3.
    other
        .delete_checked(&ov, Layer::Incidents, id, Expected::Version(3))
        .await
        .unwrap();
    let unknown = uuid::Uuid::new_v4();
    assert!(matches!(
        server.read_item(&sv, Layer::Incidents, unknown).await,
        Err(lagesbild::service::ServiceError::NotFound(..))
    ));
    store.close().await;
}

/// Entries applied while a transaction elsewhere held the horizon back settle later; the
/// follower steps past them in one round and applies what came after at once (review: it
/// used to step past one per round).
#[tokio::test]
async fn postgis_entries_applied_early_do_not_hold_back_what_comes_after() {
    use sqlx::Connection;

    let Some(admin) = pg_admin_url() else { return };
    let url = fresh_pg_url(&admin).await;
    let (store, server, other) = two_pictures(&url).await;
    let ov = lagesbild::startup::local_viewer(&other).unwrap();
    // A transaction that writes no feature but holds a transaction id, so the horizon waits.
    let mut idle = sqlx::PgConnection::connect(&url).await.unwrap();
    sqlx::query("BEGIN").execute(&mut idle).await.unwrap();
    sqlx::query("SELECT pg_current_xact_id()")
        .execute(&mut idle)
        .await
        .unwrap();
    let early = other
        .create_many(
            vec![draft(17.83), draft(17.831), draft(17.832)],
            &ov,
            &|_| {},
        )
        .await
        .unwrap();
    assert_eq!(
        server.follow_log().await.unwrap(),
        3,
        "applied while unsettled"
    );
    sqlx::query("COMMIT").execute(&mut idle).await.unwrap();
    let late = other
        .create_many(vec![draft(17.84)], &ov, &|_| {})
        .await
        .unwrap();
    assert_eq!(server.follow_log().await.unwrap(), 1, "one round");
    for f in early.iter().chain(&late) {
        assert!(server.unrestricted().get(Layer::Incidents, f.id).is_some());
    }
    idle.close().await.unwrap();
    store.close().await;
}

/// An answer by id applies a bounded part of the log itself: a large import made elsewhere
/// is left to the follower, and the request answers 503 meanwhile instead of waiting for all.
#[tokio::test]
async fn an_answer_by_id_behind_a_large_import_elsewhere_says_503_instead_of_applying_it() {
    use lagesbild::service::snapshot::{PAGE, REFRESH_PAGES};
    let db = fresh_sqlite();
    let (store, server, other) = two_pictures(&db.url).await;
    let sv = lagesbild::startup::local_viewer(&server).unwrap();
    let ov = lagesbild::startup::local_viewer(&other).unwrap();
    let page = usize::try_from(PAGE).unwrap();
    let n = page * REFRESH_PAGES + 1;
    let drafts: Vec<FeatureDraft> = (0..n)
        .map(|i| draft(17.80 + f64::from(u32::try_from(i).unwrap()) * 1e-6))
        .collect();
    let imported = other.create_many(drafts, &ov, &|_| {}).await.unwrap();
    let last = imported.last().unwrap().id;
    let read = server.read_item(&sv, Layer::Incidents, last).await;
    assert!(
        matches!(read, Err(lagesbild::service::ServiceError::CatchingUp(_))),
        "{:?}",
        read.err().map(|e| e.to_string())
    );
    assert_eq!(
        server.unrestricted().len(Layer::Incidents),
        page * REFRESH_PAGES,
        "the request applied its share of the log, no more"
    );
    // The follower applies the rest; then the answer is there.
    server.follow_log().await.unwrap();
    assert!(server.read_item(&sv, Layer::Incidents, last).await.is_ok());
    assert_eq!(server.unrestricted().len(Layer::Incidents), n);
    store.close().await;
}

#[tokio::test]
async fn sqlite_a_first_load_elsewhere_is_one_entry_and_reloads_the_picture() {
    let db = fresh_sqlite();
    a_first_load_elsewhere_is_one_entry_and_reloads_the_picture(&db.url).await;
}

#[tokio::test]
async fn postgis_a_first_load_elsewhere_is_one_entry_and_reloads_the_picture() {
    let Some(admin) = pg_admin_url() else { return };
    a_first_load_elsewhere_is_one_entry_and_reloads_the_picture(&fresh_pg_url(&admin).await).await;
}

/// A first load into an empty table (a command-line import) logs one entry saying the rows
/// changed wholesale instead of one per row: a follower reads its whole picture again, tells
/// live clients to reload, applies the entry once — on PostGIS also when an older transaction
/// held it unsettled at first — and follows on from there; an answer by id leaves the reading
/// to the follower (503 meanwhile). A later import into the table that now has rows is logged
/// row by row again.
async fn a_first_load_elsewhere_is_one_entry_and_reloads_the_picture(url: &str) {
    // A follower that applied the entry again and again would never return: fail instead.
    async fn bounded<T>(f: impl std::future::Future<Output = T>) -> T {
        tokio::time::timeout(Duration::from_secs(60), f)
            .await
            .expect("following the log did not end")
    }
    use lagesbild::store::changes::LogCursor;
    let (store, server, other) = two_pictures(url).await;
    let sv = lagesbild::startup::local_viewer(&server).unwrap();
    let mut resyncs = server.subscribe_resyncs();
    let mut events = server.subscribe();
    let features: Vec<lagesbild::domain::Feature> =
        lagesbild::demo::demo(time::macros::datetime!(2026-11-23 12:00 UTC))
            .into_iter()
            .filter(|f| f.layer() == Layer::Incidents)
            .take(2600)
            .collect();
    let load = |batches: Vec<Vec<lagesbild::domain::Feature>>| async {
        let outcome = crate::common::load_stream(&store, batches).await.unwrap();
        assert!(outcome.committed, "{outcome:?}");
    };
    let logged = |page: lagesbild::store::changes::ChangePage| {
        page.entries
            .into_iter()
            .chain(page.unsettled)
            .collect::<Vec<_>>()
    };
    // On PostGIS an older transaction, kept open across the load, holds the horizon back: the
    // wholesale entry is handed out unsettled first and settles later; it is applied once.
    let mut older = if url.starts_with("postgres") {
        use sqlx::Connection;
        let mut c = sqlx::PgConnection::connect(url).await.unwrap();
        sqlx::query("BEGIN").execute(&mut c).await.unwrap();
        sqlx::query("SELECT pg_current_xact_id()")
            .execute(&mut c)
            .await
            .unwrap();
        Some(c)
    } else {
        None
    };
    load(vec![
        features[..1200].to_vec(),
        features[1200..2500].to_vec(),
    ])
    .await;
    let entries = logged(
        store
            .changes_after(LogCursor::default(), 10_000)
            .await
            .unwrap(),
    );
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert!(entries[0].is_wholesale(), "{entries:?}");

    // Not read inside a request.
    assert!(matches!(
        server
            .read_item(&sv, Layer::Incidents, features[7].id)
            .await,
        Err(lagesbild::service::ServiceError::CatchingUp(_))
    ));
    assert!(!resyncs.has_changed().unwrap());
    bounded(server.follow_log()).await.unwrap();
    assert_eq!(server.unrestricted().len(Layer::Incidents), 2500);
    assert!(resyncs.has_changed().unwrap(), "live clients are told");
    assert!(
        events.try_recv().is_err(),
        "no per-feature event for a wholesale change"
    );
    assert!(
        server
            .read_item(&sv, Layer::Incidents, features[7].id)
            .await
            .is_ok()
    );
    resyncs.mark_unchanged();
    // Applied once: the next looks find nothing new, also once the entry has settled.
    assert_eq!(bounded(server.follow_log()).await.unwrap(), 0);
    assert!(!resyncs.has_changed().unwrap());
    if let Some(mut c) = older.take() {
        let settled = store
            .changes_after(LogCursor::default(), 10_000)
            .await
            .unwrap();
        assert!(settled.entries.is_empty(), "held back: {settled:?}");
        sqlx::query("COMMIT").execute(&mut c).await.unwrap();
        let settled = store
            .changes_after(LogCursor::default(), 10_000)
            .await
            .unwrap();
        assert_eq!(settled.entries.len(), 1, "{settled:?}");
        assert_eq!(bounded(server.follow_log()).await.unwrap(), 0);
        assert!(
            !resyncs.has_changed().unwrap(),
            "not read again once settled"
        );
    }

    // The table has rows now: the next import is logged row by row and applied so.
    load(vec![features[2500..].to_vec()]).await;
    let entries = logged(
        store
            .changes_after(LogCursor::default(), 10_000)
            .await
            .unwrap(),
    );
    assert_eq!(entries.len(), 101, "{entries:?}");
    assert!(entries[1..].iter().all(|c| !c.is_wholesale()));
    assert_eq!(server.follow_log().await.unwrap(), 100);
    assert_eq!(server.unrestricted().len(Layer::Incidents), 2600);
    assert!(!resyncs.has_changed().unwrap());
    // The other picture, which wrote nothing itself, reads the same.
    other.follow_log().await.unwrap();
    assert_eq!(other.unrestricted().len(Layer::Incidents), 2600);
    store.close().await;
}
