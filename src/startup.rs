//! One build path for `main` and every test: connect, migrate, (seed), load the index, bind.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use time::OffsetDateTime;
use tokio::net::TcpListener;

use crate::api::{AppState, router};
use crate::config::{Settings, mask_password};
use crate::domain::Layer;
use crate::service::Service;
use crate::store::{Store, StoreError};

/// Start-up failed.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    /// The database could not be opened, migrated, seeded or loaded.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The address could not be bound.
    #[error(
        "cannot listen on {0}: {1} (is another lagesbild already running? choose another with --bind)"
    )]
    Bind(SocketAddr, #[source] std::io::Error),
}

/// A server ready to run: bound, with its index loaded.
pub struct App {
    listener: TcpListener,
    state: AppState,
    local_addr: SocketAddr,
}

/// Opens the store named by the settings and brings its schema up to date.
///
/// # Errors
/// When the database cannot be reached or migrated.
pub async fn open_store(settings: &Settings) -> Result<Store, StoreError> {
    let store = Store::connect(&settings.database_url).await?;
    store.migrate().await?;
    Ok(store)
}

/// Seeds the demo picture as of `as_of` into an empty store; returns how many features were added
/// (0 if the store already held features).
///
/// # Errors
/// Store failures; nothing is written on error.
pub async fn seed_demo_if_empty(store: &Store, as_of: OffsetDateTime) -> Result<usize, StoreError> {
    for layer in Layer::ALL {
        if store.count(*layer).await? > 0 {
            return Ok(0);
        }
    }
    let features = crate::demo::demo(as_of);
    store.insert(&features, &|_| {}).await?;
    Ok(features.len())
}

/// Resident memory of this process in bytes (Linux), for start-up logs and measurements.
#[must_use]
pub fn resident_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

impl App {
    /// Connects, migrates, seeds the demo data when asked and the store is empty, loads every
    /// layer into the index and binds the listener (port 0 picks a free port).
    ///
    /// # Errors
    /// Store and bind failures.
    pub async fn build(settings: Settings, demo: bool) -> Result<Self, StartupError> {
        tracing::info!(database = %mask_password(&settings.database_url), "opening the store");
        let store = open_store(&settings).await?;
        if demo {
            let n = seed_demo_if_empty(&store, OffsetDateTime::now_utc()).await?;
            if n > 0 {
                tracing::info!(features = n, "seeded the demo picture");
            }
        }
        let started = Instant::now();
        let service = Service::open(store).await?;
        let loaded: usize = Layer::ALL.iter().map(|l| service.index().len(*l)).sum();
        tracing::info!(
            features = loaded,
            seconds = started.elapsed().as_secs_f64(),
            resident_mb = resident_bytes().map(|b| b / 1_048_576),
            "index loaded"
        );
        let listener = TcpListener::bind(settings.bind)
            .await
            .map_err(|e| StartupError::Bind(settings.bind, e))?;
        let local_addr = listener
            .local_addr()
            .map_err(|e| StartupError::Bind(settings.bind, e))?;
        let state = AppState {
            service: Arc::new(service),
            config: Arc::new(settings),
        };
        Ok(Self {
            listener,
            state,
            local_addr,
        })
    }

    /// The address actually bound.
    #[must_use]
    pub const fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The picture this app serves.
    #[must_use]
    pub fn service(&self) -> Arc<Service> {
        Arc::clone(&self.state.service)
    }

    /// Serves until `shutdown` completes, then finishes requests in flight and closes the store.
    ///
    /// # Errors
    /// When the server fails.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let service = Arc::clone(&self.state.service);
        tracing::info!(address = %self.local_addr, "serving: the map at http://{}/", self.local_addr);
        axum::serve(self.listener, router(self.state))
            .with_graceful_shutdown(shutdown)
            .await?;
        service.store().close().await;
        tracing::info!("stopped");
        Ok(())
    }
}
