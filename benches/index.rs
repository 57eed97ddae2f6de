//! Index benchmarks on 1 000 000 incidents clustered over Botkyrka/Södertälje (the demo
//! generator with a fixed seed, so numbers are comparable across runs).
//!
//! Run: `cargo bench --bench index` (results: target/criterion; summary in docs/PERFORMANCE.md).
//! Targets (issue 2): bulk load ≤ 1.5 s; 1 km × 1 km bbox in a hotspot ≤ 0.5 ms; k = 10 nearest ≤ 20 µs.

#![allow(missing_docs, clippy::unwrap_used)]

use std::hint::black_box;
use std::time::Duration;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use geo::Point;
use lagesbild::domain::Layer;
use lagesbild::index::{FeatureIndex, Filters, Page, Spatial};
use time::macros::datetime;

const N: usize = 1_000_000;
/// Alby centrum, the densest demo hotspot.
const HOTSPOT: (f64, f64) = (17.8448, 59.2385);

/// A 1 km × 1 km box centred on the hotspot (WGS84 degrees at 59.24° N).
fn km_box() -> [f64; 4] {
    let dlat = 500.0 / 111_320.0;
    let dlon = 500.0 / (111_320.0 * HOTSPOT.1.to_radians().cos());
    [
        HOTSPOT.0 - dlon,
        HOTSPOT.1 - dlat,
        HOTSPOT.0 + dlon,
        HOTSPOT.1 + dlat,
    ]
}

fn benches(c: &mut Criterion) {
    let features = lagesbild::demo::synthetic_incidents(1, datetime!(2026-11-23 12:00 UTC), N);
    let index = FeatureIndex::new();
    index.load(Layer::Incidents, features.clone());
    let hits = index
        .query(
            Layer::Incidents,
            &Spatial::Bbox(lagesbild::domain::Bbox::clamped(km_box())),
            &Filters::default(),
            Page {
                offset: 0,
                limit: 0,
            },
        )
        .matched;
    eprintln!("1 km × 1 km hotspot box holds {hits} of {N} incidents");

    let mut g = c.benchmark_group("index_1m");
    g.sample_size(10).measurement_time(Duration::from_secs(40));
    g.bench_function("bulk_load", |b| {
        b.iter_batched(
            || features.clone(),
            |f| {
                let ix = FeatureIndex::new();
                ix.load(Layer::Incidents, f);
                ix
            },
            BatchSize::PerIteration,
        );
    });
    g.finish();

    let mut g = c.benchmark_group("index_1m_query");
    g.bench_function("bbox_1km_hotspot_count_and_page_1000", |b| {
        b.iter(|| {
            black_box(index.query(
                Layer::Incidents,
                &Spatial::Bbox(lagesbild::domain::Bbox::clamped(km_box())),
                &Filters::default(),
                Page {
                    offset: 0,
                    limit: 1000,
                },
            ))
        });
    });
    let week = Filters {
        time: Some(lagesbild::domain::time::parse_datetime("2026-11-16/2026-11-23").unwrap()),
        categories: Some(vec![0, 1, 2]),
        statuses: None,
        max_classification: None,
    };
    g.bench_function("bbox_1km_hotspot_last_week_3_categories", |b| {
        b.iter(|| {
            black_box(index.query(
                Layer::Incidents,
                &Spatial::Bbox(lagesbild::domain::Bbox::clamped(km_box())),
                &week,
                Page {
                    offset: 0,
                    limit: 1000,
                },
            ))
        });
    });
    g.bench_function("knn_10", |b| {
        b.iter(|| {
            black_box(index.nearest(
                Layer::Incidents,
                Point::new(HOTSPOT.0, HOTSPOT.1),
                10,
                &Filters::default(),
            ))
        });
    });
    g.bench_function("knn_10_outside_hotspots", |b| {
        b.iter(|| {
            black_box(index.nearest(
                Layer::Incidents,
                Point::new(17.75, 59.22),
                10,
                &Filters::default(),
            ))
        });
    });
    g.bench_function("near_500m", |b| {
        let near = Spatial::Near {
            point: Point::new(HOTSPOT.0, HOTSPOT.1),
            metres: 500.0,
        };
        b.iter(|| {
            black_box(index.query(
                Layer::Incidents,
                &near,
                &Filters::default(),
                Page {
                    offset: 0,
                    limit: 1000,
                },
            ))
        });
    });
    g.finish();
}

criterion_group!(index_benches, benches);
criterion_main!(index_benches);
