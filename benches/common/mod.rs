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

/// A server on 127.0.0.1 over a temporary SQLite file, its index filled directly with
/// `layers` (the read path never touches the store), an account with an API token for each
/// `(name, role, organisation)`, and HTTP clients sending those tokens. Keep the directory and
/// the sender: dropping the sender stops the server.
#[allow(dead_code)]
pub fn http_server(
    rt: &tokio::runtime::Runtime,
    accounts: &[(&str, &str, &str)],
    layers: Vec<(Layer, Vec<Feature>)>,
) -> (
    tempfile::TempDir,
    String,
    Vec<reqwest::Client>,
    tokio::sync::oneshot::Sender<()>,
) {
    http_server_with(rt, |_| {}, accounts, layers)
}

/// [`http_server`] with its settings adjusted first (e.g. the tile cache off).
#[allow(dead_code)]
pub fn http_server_with(
    rt: &tokio::runtime::Runtime,
    adjust: impl FnOnce(&mut lagesbild::config::Settings),
    accounts: &[(&str, &str, &str)],
    layers: Vec<(Layer, Vec<Feature>)>,
) -> (
    tempfile::TempDir,
    String,
    Vec<reqwest::Client>,
    tokio::sync::oneshot::Sender<()>,
) {
    let dir = tempfile::tempdir().unwrap();
    let mut settings = lagesbild::config::Settings {
        database_url: format!("sqlite://{}", dir.path().join("bench.db").display()),
        bind: "127.0.0.1:0".parse().unwrap(),
        ..lagesbild::config::Settings::default()
    };
    adjust(&mut settings);
    let (base, tokens, stop) = rt.block_on(async {
        let app = lagesbild::startup::App::build(settings, false)
            .await
            .unwrap();
        let service = app.service();
        let admin = lagesbild::startup::local_viewer(&service).unwrap();
        let mut tokens = Vec::new();
        for (name, role, organisation) in accounts {
            service
                .add_user(
                    lagesbild::service::accounts::NewUser {
                        name: (*name).into(),
                        display_name: (*name).into(),
                        organisation: (*organisation).into(),
                        role: (*role).into(),
                        password: "bench-password-123".into(),
                    },
                    &admin,
                )
                .await
                .unwrap();
            tokens.push(
                service
                    .create_token(name, "bench", None, &admin)
                    .await
                    .unwrap()
                    .1,
            );
        }
        for (layer, features) in layers {
            service.unrestricted().load(layer, features);
        }
        let base = format!("http://{}", app.local_addr());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(app.run_until_stopped(async move {
            let _ = rx.await;
        }));
        (base, tokens, tx)
    });
    let clients = tokens
        .iter()
        .map(|token| {
            let mut headers = reqwest::header::HeaderMap::new();
            headers.insert(
                reqwest::header::AUTHORIZATION,
                format!("Bearer {token}").parse().unwrap(),
            );
            reqwest::Client::builder()
                .default_headers(headers)
                .build()
                .unwrap()
        })
        .collect();
    (dir, base, clients, stop)
}
