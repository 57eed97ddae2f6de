//! Vector tiles over real HTTP on 127.0.0.1, cut from an index of 1 000 000 clustered incidents
//! (issue 14), police reads audited like any client's: group `tiles_1m` with the tile cache off
//! (every request cut afresh under the caller's grant), group `tiles_1m_cached` with it on
//! (the same 9 tiles asked again and again: hits, each still authenticated and audited).
//!
//! Run: `cargo bench --bench tiles`. Targets (issue 14): ≥ 400 tiles/s at z14 over the densest
//! hotspot and ≥ 50 tiles/s at z12, uncached (single connection: ≤ 2.5 ms and ≤ 20 ms a tile);
//! every tile ≤ 500 KB. Results in docs/PERFORMANCE.md.

#![allow(missing_docs, clippy::unwrap_used)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use lagesbild::domain::Layer;
use lagesbild::tiles::TileId;
use time::macros::datetime;

mod common;

/// Alby centrum, the densest demo hotspot.
const HOTSPOT: (f64, f64) = (17.8448, 59.2385);

fn tile_at(z: u32, lon: f64, lat: f64) -> TileId {
    let n = f64::from(1u32 << z);
    let x = ((lon + 180.0) / 360.0 * n).floor() as u32;
    let r = lat.to_radians();
    let y =
        ((1.0 - (r.tan() + 1.0 / r.cos()).ln() / std::f64::consts::PI) / 2.0 * n).floor() as u32;
    TileId::new(z, y, x).unwrap()
}

/// The 3 × 3 tiles around the hotspot at zoom `z`.
fn block(z: u32) -> Vec<TileId> {
    let c = tile_at(z, HOTSPOT.0, HOTSPOT.1);
    let mut out = Vec::new();
    for dy in 0..3 {
        for dx in 0..3 {
            out.push(TileId::new(z, c.y + dy - 1, c.x + dx - 1).unwrap());
        }
    }
    out
}

fn benches(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let as_of = datetime!(2026-11-23 12:00 UTC);
    let accounts = [
        ("bench", "police", "Polisen"),
        ("social", "social_services", "Botkyrka kommun"),
        ("walker", "night_walker", "Nattvandrarna"),
    ];
    let layers = vec![
        (Layer::Areas, lagesbild::demo::areas(as_of)),
        (
            Layer::Incidents,
            lagesbild::demo::synthetic_incidents(1, as_of, 1_000_000),
        ),
    ];
    for (group, cache) in [("tiles_1m", false), ("tiles_1m_cached", true)] {
        let (_dir, base, clients, _stop) =
            common::http_server_with(&rt, |s| s.tile_cache = cache, &accounts, layers.clone());
        let mut g = c.benchmark_group(group);
        run_group(&rt, &mut g, &base, &clients);
        g.finish();
    }
}

fn run_group(
    rt: &tokio::runtime::Runtime,
    g: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    base: &str,
    clients: &[reqwest::Client],
) {
    let names = ["police", "social", "walker"];
    for (z, window) in [(14, ""), (12, ""), (14, "?datetime=2026-10-24/2026-11-23")] {
        let tiles = block(z);
        for (who, client) in names.iter().zip(clients) {
            if *who != "police" && !window.is_empty() {
                continue;
            }
            let urls: Vec<String> = tiles
                .iter()
                .map(|t| {
                    format!(
                        "{base}/collections/incidents/tiles/WebMercatorQuad/{}/{}/{}{window}",
                        t.z, t.y, t.x
                    )
                })
                .collect();
            let sizes: Vec<usize> = urls.iter().map(|u| fetch(rt, client, u)).collect();
            eprintln!(
                "z{z}{window} {who}: tile sizes {:?} bytes (largest {})",
                sizes,
                sizes.iter().max().unwrap()
            );
            assert!(sizes.iter().all(|s| *s <= lagesbild::tiles::MAX_TILE_BYTES));
            let name = format!(
                "z{z}_{who}{}",
                if window.is_empty() { "" } else { "_30_days" }
            );
            let mut i = 0;
            g.bench_function(name, |b| {
                b.iter(|| {
                    i += 1;
                    black_box(fetch(rt, client, &urls[i % urls.len()]))
                });
            });
        }
    }
}

/// One GET, its whole body read; its length.
fn fetch(rt: &tokio::runtime::Runtime, client: &reqwest::Client, url: &str) -> usize {
    rt.block_on(async {
        let r = client.get(url).send().await.unwrap();
        assert_eq!(r.status(), 200, "{url}");
        r.bytes().await.unwrap().len()
    })
}

criterion_group!(tile_benches, benches);
criterion_main!(tile_benches);
