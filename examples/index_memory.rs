//! Memory of the index with 1 000 000 synthetic incidents, stage by stage (jemalloc statistics).
//!
//! Run: `cargo run --release --example index_memory`. See docs/PERFORMANCE.md.

#![allow(clippy::unwrap_used, clippy::print_stdout)]

#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() {
    use std::time::Instant;
    let report = |stage: &str| {
        tikv_jemalloc_ctl::epoch::advance().unwrap();
        println!(
            "{stage:<32} resident {:>5} MB (jemalloc: allocated {:>5} MB)",
            lagesbild::startup::resident_bytes().unwrap_or(0) / 1_048_576,
            tikv_jemalloc_ctl::stats::allocated::read().unwrap() / 1_048_576,
        );
    };
    let features = lagesbild::demo::synthetic_incidents(
        1,
        time::macros::datetime!(2026-11-23 12:00 UTC),
        1_000_000,
    );
    report("1M features generated");
    let mut load = lagesbild::index::LayerLoad::with_capacity(0);
    for f in features {
        load.push(f);
    }
    report("features in the slab");
    let started = Instant::now();
    let index = lagesbild::index::FeatureIndex::new();
    index.install(lagesbild::domain::Layer::Incidents, load);
    let took = started.elapsed();
    report("R-tree bulk-loaded");
    println!("bulk load took {took:?}");
}
