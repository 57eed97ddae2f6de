//! Shared set-up of the benches over the demo picture.

use lagesbild::domain::access::Viewer;
use lagesbild::domain::{Feature, Layer};
use lagesbild::service::Service;
use time::OffsetDateTime;

/// A service over the demo picture as of `as_of` (stored in a temporary SQLite file) with its
/// incidents replaced by `n` generated around the demo's hotspots over the year before
/// (`seed`). Returns the directory (keep it), the service and the picture without incidents.
#[allow(dead_code)] // Each bench uses what it needs.
pub fn demo_service(
    rt: &tokio::runtime::Runtime,
    as_of: OffsetDateTime,
    seed: u64,
    n: usize,
) -> (tempfile::TempDir, Service, Vec<Feature>) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("bench.db").display());
    let (service, picture) = rt.block_on(async {
        let store = lagesbild::store::Store::connect(&url).await.unwrap();
        store.migrate().await.unwrap();
        let picture: Vec<Feature> = lagesbild::demo::demo(as_of)
            .into_iter()
            .filter(|f| f.layer() != Layer::Incidents)
            .collect();
        store.insert(&picture, &|_| {}).await.unwrap();
        let service = Service::open(store).await.unwrap();
        service
            .unrestricted()
            .load(Layer::Incidents, lagesbild::demo::incidents(seed, as_of, n));
        (service, picture)
    });
    (dir, service, picture)
}

/// A local viewer with `role` from the service's role file.
#[allow(dead_code)]
pub fn viewer(service: &Service, role: &str) -> Viewer {
    Viewer::local(role, service.roles().get(role).unwrap().clone())
}
