//! End-to-end benchmark: `GET /collections/incidents/items?bbox=…&limit=1000` over real HTTP on
//! 127.0.0.1, against a server whose index holds 1 000 000 clustered incidents.
//!
//! Run: `cargo bench --bench api`. Target (issue 2): ≤ 5 ms p50 on this machine. Also the
//! k-anonymous counts a night walker gets (issue 9): a 30-day window by grid and by area, and
//! the same 1 km window with a CQL2 filter and a sortby (issue 13).

#![allow(missing_docs, clippy::unwrap_used)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use lagesbild::config::Settings;
use lagesbild::domain::Layer;
use lagesbild::startup::App;
use time::macros::datetime;

fn benches(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let settings = Settings {
        database_url: format!("sqlite://{}", dir.path().join("bench.db").display()),
        bind: "127.0.0.1:0".parse().unwrap(),
        ..Settings::default()
    };
    let (base, token, walker_token, _stop) = rt.block_on(async {
        let app = App::build(settings, false).await.unwrap();
        // Reads go through the access rules and the audit log like any client's: a police
        // account with an API token.
        let service = app.service();
        let admin = lagesbild::startup::local_viewer(&service).unwrap();
        // An account of `role` with an API token.
        let token_for = async |name: &str, role: &str, organisation: &str| {
            service
                .add_user(
                    lagesbild::service::accounts::NewUser {
                        name: name.into(),
                        display_name: name.into(),
                        organisation: organisation.into(),
                        role: role.into(),
                        password: "bench-password-123".into(),
                    },
                    &admin,
                )
                .await
                .unwrap();
            service
                .create_token(name, "bench", None, &admin)
                .await
                .unwrap()
                .1
        };
        let token = token_for("bench", "police", "Polisen").await;
        let walker_token = token_for("walker", "night_walker", "Nattvandrarna").await;
        app.service().unrestricted().load(
            Layer::Areas,
            lagesbild::demo::areas(datetime!(2026-11-23 12:00 UTC)),
        );
        // The read path never touches the store: fill the index directly.
        app.service().unrestricted().load(
            Layer::Incidents,
            lagesbild::demo::synthetic_incidents(1, datetime!(2026-11-23 12:00 UTC), 1_000_000),
        );
        let base = format!("http://{}", app.local_addr());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(app.run_until_stopped(async move {
            let _ = rx.await;
        }));
        (base, token, walker_token, tx)
    });
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        reqwest::header::AUTHORIZATION,
        format!("Bearer {token}").parse().unwrap(),
    );
    let client = reqwest::Client::builder()
        .default_headers(headers)
        .build()
        .unwrap();
    // 1 km × 1 km around Alby centrum.
    let url = format!(
        "{base}/collections/incidents/items?bbox=17.8360,59.2340,17.8536,59.2430&limit=1000"
    );
    let first: serde_json::Value =
        rt.block_on(async { client.get(&url).send().await.unwrap().json().await.unwrap() });
    eprintln!(
        "numberMatched {} numberReturned {}",
        first["numberMatched"], first["numberReturned"]
    );

    let mut g = c.benchmark_group("http_1m");
    g.bench_function("items_bbox_1km_limit_1000", |b| {
        b.iter(|| black_box(fetch(&rt, &client, &url)));
    });
    let small = format!(
        "{base}/collections/incidents/items?bbox=17.8360,59.2340,17.8536,59.2430&limit=100"
    );
    g.bench_function("items_bbox_1km_limit_100", |b| {
        b.iter(|| black_box(fetch(&rt, &client, &small)));
    });
    // CQL2 filter and sortby (issue 13): every feature of the window is shown, tested and
    // sorted before the page is cut.
    for (name, query) in [
        (
            "items_bbox_1km_filter_severity",
            "filter=severity%20%3E%3D%204",
        ),
        (
            "items_bbox_1km_filter_and_sortby",
            "filter=severity%20%3E%3D%204%20AND%20category%20IN%20('shooting'%2C'explosion'%2C'car_fire')&sortby=-occurred_at",
        ),
    ] {
        let url = format!(
            "{base}/collections/incidents/items?bbox=17.8360,59.2340,17.8536,59.2430&limit=100&{query}"
        );
        let first: serde_json::Value =
            rt.block_on(async { client.get(&url).send().await.unwrap().json().await.unwrap() });
        eprintln!("{name}: numberMatched {}", first["numberMatched"]);
        g.bench_function(name, |b| {
            b.iter(|| black_box(fetch(&rt, &client, &url)));
        });
    }
    // Counts only: every bucket of the window over the whole layer, then suppression.
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        reqwest::header::AUTHORIZATION,
        format!("Bearer {walker_token}").parse().unwrap(),
    );
    let walker = reqwest::Client::builder()
        .default_headers(headers)
        .build()
        .unwrap();
    for by in ["grid", "area"] {
        let url = format!(
            "{base}/collections/incidents/aggregate?by={by}&datetime=2026-10-24/2026-11-23"
        );
        // The first answer computes the published buckets; later ones (until the next write)
        // come from the cache, which is what the bench below measures.
        let started = std::time::Instant::now();
        let first: serde_json::Value =
            rt.block_on(async { walker.get(&url).send().await.unwrap().json().await.unwrap() });
        eprintln!(
            "night walker by {by}: {} buckets shown; first (uncached) answer {:?}",
            first["features"].as_array().map_or(0, Vec::len),
            started.elapsed()
        );
        g.bench_function(format!("aggregate_30_days_by_{by}_counts_only"), |b| {
            b.iter(|| black_box(fetch(&rt, &walker, &url)));
        });
    }
    g.finish();
}

/// One GET, its whole body read; its length.
fn fetch(rt: &tokio::runtime::Runtime, client: &reqwest::Client, url: &str) -> usize {
    rt.block_on(async {
        client
            .get(url)
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap()
            .len()
    })
}

criterion_group!(api_benches, benches);
criterion_main!(api_benches);
