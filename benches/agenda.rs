//! The chiefs' meeting's weekly agenda (issue 11 target: ≤ 2 s for a year of 50 000
//! incidents), for the security coordinator (exact counts) and the meeting's screen (counts
//! below exact, with suppression), each computed cold: the picture changes before every
//! iteration, so no cached counts are reused. The rest of the demo picture (areas, routes,
//! walks, measures, risk environments, cameras) is loaded as it ships.
//!
//! Run: `cargo bench --bench agenda`.

#![allow(missing_docs, clippy::unwrap_used)]

mod common;

use std::hint::black_box;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use lagesbild::domain::{Feature, Layer};
use time::macros::datetime;

fn benches(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let as_of = datetime!(2026-12-02 12:00 UTC);
    // A year of 50 000 incidents around the demo's hotspots in the districts.
    let (_dir, service, picture) = common::demo_service(&rt, as_of, 7, 50_000);
    let walks: Vec<Feature> = picture
        .into_iter()
        .filter(|f| f.layer() == Layer::Walks)
        .collect();
    let viewer = |role: &str| common::viewer(&service, role);
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
