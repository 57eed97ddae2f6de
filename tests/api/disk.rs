//! Bounded disk under load (issue 17, item 5): SQLite's write-ahead log stays under its limit
//! while audited reads (each one a committed record, each request a token look-up) and writes
//! run without pause. Without the bound the log only grows: overlapping readers keep SQLite's
//! own checkpoints from ever rewinding it (2.9 GB in the run).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use lagesbild::domain::Layer;

use crate::common::{TestApp, fresh_sqlite, incident, settings};

/// The limit this test sets, small so that the load passes it many times over.
const LIMIT_MB: u64 = 4;
/// The most requests the load sends before it gives up waiting for the log to be cut.
const MAX_REQUESTS: u64 = 40_000;
/// How many times the log must have been cut (so the load really did need the bound).
const CUTS: u32 = 3;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_write_ahead_log_stays_under_its_limit_under_audited_reads_and_writes() {
    let db = fresh_sqlite();
    let mut s = settings(&db.url);
    s.wal_limit_mb = LIMIT_MB;
    let app = TestApp::spawn_with(s, true).await;
    let ids: Vec<String> = app
        .service
        .unrestricted()
        .all(Layer::Incidents)
        .iter()
        .take(200)
        .map(|f| f.id.to_string())
        .collect();
    let limit = LIMIT_MB * 1024 * 1024;
    let done = Arc::new(AtomicBool::new(false));
    let sent = Arc::new(AtomicU64::new(0));

    // Watches the log as often as the scheduler lets it: the largest size seen, and how many
    // times it shrank (a cut).
    let watcher = {
        let (service, done) = (Arc::clone(&app.service), Arc::clone(&done));
        tokio::spawn(async move {
            let (mut largest, mut cuts, mut last) = (0u64, 0u32, 0u64);
            while !done.load(Ordering::Relaxed) {
                let now = service.store().wal_bytes().expect("an SQLite store");
                largest = largest.max(now);
                if now < last {
                    cuts += 1;
                    if cuts >= CUTS {
                        done.store(true, Ordering::Relaxed);
                    }
                }
                last = now;
                tokio::time::sleep(std::time::Duration::from_millis(2)).await;
            }
            (largest, cuts)
        })
    };

    let mut load = Vec::new();
    for reader in 0..6usize {
        let (client, base, ids) = (app.client.clone(), app.base.clone(), ids.clone());
        let (done, sent) = (Arc::clone(&done), Arc::clone(&sent));
        load.push(tokio::spawn(async move {
            let mut i = reader;
            while !done.load(Ordering::Relaxed)
                && sent.fetch_add(1, Ordering::Relaxed) < MAX_REQUESTS
            {
                let id = &ids[i % ids.len()];
                let r = client
                    .get(format!("{base}/collections/incidents/items/{id}"))
                    .send()
                    .await
                    .expect("request");
                assert_eq!(r.status(), 200, "an audited read");
                i += 7;
            }
        }));
    }
    for _writer in 0..2 {
        let (client, base) = (app.client.clone(), app.base.clone());
        let (done, sent) = (Arc::clone(&done), Arc::clone(&sent));
        load.push(tokio::spawn(async move {
            while !done.load(Ordering::Relaxed)
                && sent.fetch_add(1, Ordering::Relaxed) < MAX_REQUESTS
            {
                let r = client
                    .post(format!("{base}/collections/incidents/items"))
                    .header("content-type", "application/geo+json")
                    .body(incident(17.84, 59.24, "vandalism", "2026-11-30T21:00:00Z").to_string())
                    .send()
                    .await
                    .expect("request");
                assert_eq!(r.status(), 201, "a write");
            }
        }));
    }
    for task in load {
        task.await.expect("the load runs without errors");
    }
    done.store(true, Ordering::Relaxed);
    let (largest, cuts) = watcher.await.expect("watcher");
    eprintln!(
        "write-ahead log: largest {largest} bytes, cut {cuts} times, in {} requests",
        sent.load(Ordering::Relaxed)
    );
    assert!(
        cuts >= CUTS,
        "the log was cut {cuts} times in {} requests (largest {largest} bytes): the load never needed the bound, or the bound never acted",
        sent.load(Ordering::Relaxed)
    );
    assert!(
        largest <= limit,
        "the write-ahead log reached {largest} bytes, over the {limit}-byte limit"
    );
    app.stop().await;
}
