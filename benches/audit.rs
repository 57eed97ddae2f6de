//! Audited reads under concurrency (issue 17, item 4): eight clients each read single features
//! over HTTP; exact reads are audited (a record committed before the answer), coarse reads are
//! not. Target: audited throughput ≥ 80 % of unaudited, with records committed in groups.
//!
//! Run: `cargo bench --bench audit`.

#![allow(missing_docs, clippy::unwrap_used)]

use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use lagesbild::domain::Layer;
use time::macros::datetime;

mod common;

const CLIENTS: usize = 8;
const PER_CLIENT: usize = 50;

fn benches(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let features = lagesbild::demo::synthetic_incidents(3, datetime!(2026-11-23 12:00 UTC), 10_000);
    // Features both roles may see (up to `internal`).
    let ids: Vec<uuid::Uuid> = features
        .iter()
        .filter(|f| f.meta.classification != lagesbild::domain::Classification::Restricted)
        .map(|f| f.id)
        .collect();
    let (_dir, base, clients, _stop) = common::http_server(
        &rt,
        &[
            ("police", "police", "Botkyrka kommun"),
            ("social", "social_services", "Botkyrka kommun"),
        ],
        vec![(Layer::Incidents, features)],
    );
    let mut g = c.benchmark_group("audit_8_clients");
    g.sample_size(20);
    for (name, http) in [
        ("exact_audited", &clients[0]),
        ("coarse_unaudited", &clients[1]),
    ] {
        g.bench_function(format!("{name}_{}_reads", CLIENTS * PER_CLIENT), |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let started = Instant::now();
                    rt.block_on(async {
                        let mut tasks = Vec::new();
                        for k in 0..CLIENTS {
                            let (http, base) = (http.clone(), base.clone());
                            let mine: Vec<uuid::Uuid> = ids
                                .iter()
                                .skip(k * PER_CLIENT)
                                .take(PER_CLIENT)
                                .copied()
                                .collect();
                            tasks.push(tokio::spawn(async move {
                                for id in mine {
                                    let r = http
                                        .get(format!("{base}/collections/incidents/items/{id}"))
                                        .send()
                                        .await
                                        .unwrap();
                                    assert_eq!(r.status(), 200);
                                    let _ = r.bytes().await.unwrap();
                                }
                            }));
                        }
                        for t in tasks {
                            t.await.unwrap();
                        }
                    });
                    total += started.elapsed();
                }
                total
            });
        });
    }
    g.finish();
}

criterion_group!(audit_benches, benches);
criterion_main!(audit_benches);
