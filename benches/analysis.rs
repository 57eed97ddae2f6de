//! The analyses (issue 12 targets): a kernel density grid for 100 000 incidents over a
//! municipality ≤ 200 ms; Gi* for 10 000 cells ≤ 100 ms analytically and ≤ 1 s with 999
//! permutations; emerging hot spots over 12 weeks ≤ 1 s (through the service, a year of 50 000
//! incidents, as the security coordinator).
//!
//! Run: `cargo bench --bench analysis`.

#![allow(missing_docs, clippy::unwrap_used)]

mod common;

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use lagesbild::analysis::getis::gi_star;
use lagesbild::analysis::kde::{default_bandwidth, density};
use lagesbild::index::{Filters, Spatial};
use lagesbild::service::visibility::Grid;
use time::macros::datetime;

fn benches(c: &mut Criterion) {
    let as_of = datetime!(2026-12-02 12:00 UTC);
    let grid = Grid::new().unwrap();
    // 100 000 incidents around the Botkyrka and Södertälje hotspots, in SWEREF 99 TM.
    let points: Vec<(f64, f64, f64)> = lagesbild::demo::synthetic_incidents(5, as_of, 100_000)
        .iter()
        .filter_map(|f| {
            f.geom
                .point()
                .and_then(|p| grid.project(p))
                .map(|(e, n)| (e, n, 1.0))
        })
        .collect();
    let (h, _) = default_bandwidth(&points).unwrap();
    eprintln!("KDE: {} points, bandwidth {h:.0} m", points.len());
    let mut g = c.benchmark_group("analysis");
    g.sample_size(10);
    g.bench_function("kde_100k_bandwidth_and_grid_50m", |b| {
        b.iter(|| {
            let (h, _) = default_bandwidth(&points).unwrap();
            black_box(density(&points, h, 50.0))
        });
    });
    // 10 000 cells (100 × 100) with Poisson-like counts and hot spots.
    let cells: Vec<((i64, i64), f64)> = (0..100)
        .flat_map(|c| (0..100).map(move |r| (c, r)))
        .map(|(c, r)| {
            let d2 = f64::from((c - 30) * (c - 30) + (r - 60) * (r - 60));
            let v = (5.0 * (-d2 / 50.0).exp() + f64::from((c * 13 + r * 7) % 3)).floor();
            ((i64::from(c), i64::from(r)), v)
        })
        .collect();
    g.bench_function("gi_star_10k_cells_analytic", |b| {
        b.iter(|| black_box(gi_star(&cells, 250.0, 500.0, 0, 1).unwrap()));
    });
    g.bench_function("gi_star_10k_cells_999_permutations", |b| {
        b.iter(|| black_box(gi_star(&cells, 250.0, 500.0, 999, 1).unwrap()));
    });

    // Knox: 1 000 events over a year in a municipality-sized square, 999 permutations.
    let events: Vec<lagesbild::analysis::knox::Event> = points
        .iter()
        .step_by(100)
        .enumerate()
        .map(|(i, p)| lagesbild::analysis::knox::Event {
            x: p.0,
            y: p.1,
            #[allow(clippy::cast_precision_loss)]
            t: (i * 7919 % 365) as f64,
        })
        .collect();
    assert_eq!(events.len(), 1_000);
    let bands = lagesbild::analysis::knox::Bands {
        space_m: 100.0,
        space_bands: 5,
        time_days: 14.0,
        time_bands: 4,
    };
    g.bench_function("knox_1000_events_999_permutations", |b| {
        b.iter(|| {
            black_box(lagesbild::analysis::knox::knox(
                &events,
                bands,
                999,
                1,
                lagesbild::analysis::deadline::Deadline::NEVER,
            ))
        });
    });

    // Emerging hot spots through the service.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let (_dir, service, _) = common::demo_service(&rt, as_of, 7, 50_000);
    let viewer = common::viewer(&service, "security_coordinator");
    let e = rt
        .block_on(service.emerging_hot_spots(
            &viewer,
            &Spatial::All,
            &Filters::default(),
            12,
            None,
            as_of,
        ))
        .unwrap();
    eprintln!(
        "emerging: {} cells with a pattern, {:?}",
        e.cells.len(),
        e.counts
    );
    g.bench_function("backtest_52_weeks_50k_incidents", |b| {
        b.iter(|| {
            black_box(
                rt.block_on(service.back_test(&viewer, &Filters::default(), 52, as_of))
                    .unwrap(),
            )
        });
    });
    g.bench_function("emerging_12_weeks_50k_incidents", |b| {
        b.iter(|| {
            black_box(
                rt.block_on(service.emerging_hot_spots(
                    &viewer,
                    &Spatial::All,
                    &Filters::default(),
                    12,
                    None,
                    as_of,
                ))
                .unwrap(),
            )
        });
    });

    // Camera coverage: the demo's 60 cameras spread to 500 around the same places.
    let cameras: Vec<lagesbild::domain::Feature> = service
        .unrestricted()
        .all(lagesbild::domain::Layer::Cameras)
        .iter()
        .cycle()
        .take(500)
        .enumerate()
        .map(|(i, f)| {
            let mut f = (**f).clone();
            f.id = uuid::Uuid::from_u128(0xca4e_0000 + i as u128);
            if let Some(p) = f.geom.point() {
                #[allow(clippy::cast_precision_loss)]
                let k = (i / 60) as f64;
                f.geom = geo::Point::new(p.x() + 0.0011 * k, p.y() - 0.0007 * k).into();
            }
            f
        })
        .collect();
    service
        .unrestricted()
        .load(lagesbild::domain::Layer::Cameras, cameras);
    let police = common::viewer(&service, "police");
    let ask = lagesbild::service::cameras::CoverageAsk::default();
    let report = rt
        .block_on(service.camera_coverage(&police, &Spatial::All, &Filters::default(), ask))
        .unwrap();
    eprintln!(
        "coverage: {} incidents, {} working cameras, {:.0} seen ({:.0}–{:.0}), {} sites",
        report.incidents,
        report.working,
        report.any.point,
        report.any.lower,
        report.any.upper,
        report.sites.len()
    );
    g.bench_function("camera_coverage_500_cameras_50k_incidents", |b| {
        b.iter(|| {
            black_box(
                rt.block_on(service.camera_coverage(
                    &police,
                    &Spatial::All,
                    &Filters::default(),
                    ask,
                ))
                .unwrap(),
            )
        });
    });

    // A suggested 5 km evening route over the demo's street grid (120 m blocks within a
    // kilometre of every hotspot), claiming the 100 000 incidents within 100 m.
    let (paths, _) = lagesbild::demo::reference();
    let lines: Vec<Vec<(f64, f64)>> = paths
        .iter()
        .filter_map(|g| match g {
            geo::Geometry::LineString(l) => l.points().map(|p| grid.project(p)).collect(),
            _ => None,
        })
        .collect();
    let network = lagesbild::analysis::paths::Network::new(&lines);
    let alby = grid.project(geo::Point::new(17.8448, 59.2385)).unwrap();
    let (start, _) = network.nearest_node(alby).unwrap();
    let found =
        lagesbild::analysis::paths::suggest(&network, start, 5_000.0, &points, 100.0).unwrap();
    eprintln!(
        "suggestion: {} edges, {:.0} m walked, {:.0} incidents within 100 m",
        network.edges(),
        found.length_m,
        found.weight
    );
    g.bench_function("route_suggestion_5km_100k_incidents", |b| {
        b.iter(|| {
            black_box(lagesbild::analysis::paths::suggest(
                &network, start, 5_000.0, &points, 100.0,
            ))
        });
    });
    // The suggested route scored as a drawn one is (a new line each time: its corridor worked
    // out, then the incidents, PAI and hot cells).
    g.bench_function("route_score_5km_100k_incidents", |b| {
        b.iter(|| {
            let walked = lagesbild::analysis::route_score::Walked::new(&found.line).unwrap();
            black_box(lagesbild::analysis::route_score::score(
                &walked,
                lagesbild::analysis::route_score::Incidents::Positions(&points),
                100.0,
                250.0,
                None,
                &std::collections::BTreeSet::new(),
            ))
        });
    });
    g.finish();
}

criterion_group!(analysis, benches);
criterion_main!(analysis);
