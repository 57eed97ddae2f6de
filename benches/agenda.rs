//! The chiefs' meeting's weekly agenda (issue 11 target: ≤ 2 s for a year of 50 000
//! incidents), for the security coordinator (exact counts) and the meeting's screen (counts
//! below exact, with suppression), each computed cold: the picture changes before every
//! iteration, so no cached counts are reused. The rest of the demo picture (areas, routes,
//! walks, measures, risk environments, cameras) is loaded as it ships.
//!
//! Run: `cargo bench --bench agenda`.

#![allow(missing_docs, clippy::unwrap_used)]

use std::hint::black_box;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use lagesbild::domain::access::Viewer;
use lagesbild::domain::{Feature, Layer};
use lagesbild::service::Service;
use time::macros::datetime;

fn benches(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("bench.db").display());
    let as_of = datetime!(2026-12-02 12:00 UTC);
    let (service, walks) = rt.block_on(async {
        let store = lagesbild::store::Store::connect(&url).await.unwrap();
        store.migrate().await.unwrap();
        let picture: Vec<Feature> = lagesbild::demo::demo(as_of)
            .into_iter()
            .filter(|f| f.layer() != Layer::Incidents)
            .collect();
        store.insert(&picture, &|_| {}).await.unwrap();
        let service = Service::open(store).await.unwrap();
        // A year of 50 000 incidents around the demo's hotspots in the districts.
        let incidents = lagesbild::demo::incidents(7, as_of, 50_000);
        service.unrestricted().load(Layer::Incidents, incidents);
        let walks: Vec<Feature> = picture
            .into_iter()
            .filter(|f| f.layer() == Layer::Walks)
            .collect();
        (service, walks)
    });
    let viewer = |role: &str| {
        let r = service.roles().get(role).unwrap().clone();
        Viewer::local(role, r)
    };
    let mut g = c.benchmark_group("agenda_50k");
    g.sample_size(10);
    for role in ["security_coordinator", "meeting_viewer"] {
        let v = viewer(role);
        let a = rt
            .block_on(service.agenda(&v, Some("2026-W49"), Some(4)))
            .unwrap();
        let counted: usize = a
            .areas
            .iter()
            .flat_map(|a| &a.counts)
            .filter_map(|c| c.window)
            .sum();
        eprintln!(
            "{role}: {} areas, {counted} incidents counted in the window",
            a.areas.len()
        );
        assert!(counted > 0);
        g.bench_function(role, |b| {
            b.iter_batched(
                // A change to the picture: the next agenda computes every count afresh.
                || service.unrestricted().load(Layer::Walks, walks.clone()),
                |()| {
                    let a = rt
                        .block_on(service.agenda(&v, Some("2026-W49"), Some(4)))
                        .unwrap();
                    black_box(a)
                },
                BatchSize::PerIteration,
            );
        });
    }
    g.finish();
}

criterion_group!(agenda, benches);
criterion_main!(agenda);
