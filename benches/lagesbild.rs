//! The lägesbild document (issue 11 target: ≤ 5 s for a year of 10 000 incidents): gathering
//! every section as the security coordinator sees it (counts per area for three periods, a
//! 12-month trend, the densest cells, the measures' follow-ups, the map), composing the pages
//! and rendering the PDF, end to end through `make_lagesbild`.
//!
//! Run: `cargo bench --bench lagesbild`.

#![allow(missing_docs, clippy::unwrap_used)]

mod common;

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use lagesbild::briefing::lagesbild::{LagesbildQuery, make_lagesbild};
use time::macros::datetime;

fn benches(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let as_of = datetime!(2026-12-01 08:00 UTC);
    // A year of 10 000 incidents around the demo's hotspots.
    let (_dir, service, _) = common::demo_service(&rt, as_of, 11, 10_000);
    let viewer = common::viewer(&service, "security_coordinator");
    let q = LagesbildQuery {
        as_of: Some("2026-12-01T08:00:00Z".into()),
        ..LagesbildQuery::default()
    };
    let bytes = rt.block_on(make_lagesbild(&service, &viewer, &q)).unwrap();
    eprintln!("lägesbild: {} bytes", bytes.len());
    let mut g = c.benchmark_group("lagesbild_10k");
    g.sample_size(10);
    g.bench_function("security_coordinator_pdf", |b| {
        b.iter(|| black_box(rt.block_on(make_lagesbild(&service, &viewer, &q)).unwrap()));
    });
    g.finish();
}

criterion_group!(lagesbild_bench, benches);
criterion_main!(lagesbild_bench);
