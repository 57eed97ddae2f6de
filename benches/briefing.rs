//! Briefing render times (issue 5 targets): a one-page A4 PDF with 10 000 incidents ≤ 500 ms,
//! and a PNG at 150 dpi ≤ 1 s. The scene is built by the service (grants applied) once; the
//! benchmark measures SVG composition plus PDF or PNG rendering.
//!
//! Run: `cargo bench --bench briefing`.

#![allow(missing_docs, clippy::unwrap_used)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use lagesbild::briefing::{BriefingRequest, Paper, page, render};
use lagesbild::domain::Layer;
use lagesbild::service::Service;
use time::macros::{date, datetime};

fn benches(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("bench.db").display());
    let scene = rt.block_on(async {
        let store = lagesbild::store::Store::connect(&url).await.unwrap();
        store.migrate().await.unwrap();
        let as_of = datetime!(2026-11-23 12:00 UTC);
        store
            .insert(&lagesbild::demo::areas(as_of), &|_| {})
            .await
            .unwrap();
        let service = Service::open(store).await.unwrap();
        // 10 000 incidents inside one month's window around the Botkyrka hotspots.
        let mut incidents = lagesbild::demo::synthetic_incidents(3, as_of, 400_000);
        incidents.retain(|f| {
            let s = f.properties.time_span().start;
            s >= datetime!(2026-10-24 00:00 UTC).unix_timestamp()
        });
        incidents.truncate(10_000);
        assert_eq!(incidents.len(), 10_000);
        service.unrestricted().load(Layer::Incidents, incidents);
        let bbox = service.unrestricted().extent(Layer::Incidents).unwrap();
        let viewer = lagesbild::startup::local_viewer(&service).unwrap();
        let request = BriefingRequest {
            bbox,
            area: None,
            from: date!(2026 - 10 - 24),
            to: date!(2026 - 11 - 23),
            layers: vec![Layer::Incidents],
            categories: Vec::new(),
            title: "Lägesbild".into(),
            audience: "chefssamrådet".into(),
            paper: Paper::A4,
            landscape: true,
            as_of,
        };
        let scene = service
            .briefing_scene(&viewer, request, "pdf")
            .await
            .unwrap();
        assert_eq!(scene.marks.len(), 10_000, "every incident is drawn");
        eprintln!("features drawn: {}", scene.marks.len());
        scene
    });
    let mut g = c.benchmark_group("briefing_10k");
    g.sample_size(20);
    g.bench_function("a4_pdf", |b| {
        b.iter(|| black_box(render::pdf(&[page::svg(&scene)]).unwrap()));
    });
    g.bench_function("a4_png_150dpi", |b| {
        b.iter(|| black_box(render::png(&page::svg(&scene), 150).unwrap()));
    });
    g.finish();
}

criterion_group!(briefing, benches);
criterion_main!(briefing);
