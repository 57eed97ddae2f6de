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
use crate::domain::access::{RoleBook, Viewer};
use crate::service::accounts::{NewUser, generated_password};
use crate::service::clock::Clock;
use crate::service::retention::Retention;
use crate::service::{Options, Service, ServiceError};
use crate::store::{Store, StoreError};

/// Start-up failed.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    /// The database could not be opened, migrated, seeded or loaded.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The role file could not be read.
    #[error("{0}")]
    Roles(String),
    /// Demo accounts could not be made.
    #[error(transparent)]
    Service(#[from] ServiceError),
    /// The web client's folder (the `web_dir` setting) does not hold it, or the basemap file
    /// is not one.
    #[error("{0}")]
    Web(String),
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

/// The service options the settings name: the role file, session length and retention.
///
/// # Errors
/// A role file that cannot be read or is invalid.
pub fn service_options(settings: &Settings, clock: Clock) -> Result<Options, StartupError> {
    let roles = match &settings.roles_file {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| StartupError::Roles(format!("cannot read {}: {e}", path.display())))?;
            RoleBook::from_toml(&text)
                .map_err(|e| StartupError::Roles(format!("{}: {e}", path.display())))?
        }
        None => RoleBook::defaults().map_err(|e| StartupError::Roles(e.to_string()))?,
    };
    Ok(Options {
        roles,
        clock,
        session_ttl: time::Duration::hours(i64::from(settings.session_hours.max(1))),
        retention: Retention {
            incidents_months: settings.retention_incidents_months,
        },
        use_snapshot: settings.index_snapshot,
        tile_cache: settings.tile_cache,
        credential_recheck: std::time::Duration::from_millis(settings.credential_recheck_ms),
        // A tenth of the request timeout is left for the answer to be written before the
        // timeout's own 408 (which could not say how far the work got).
        work_limit: Some(
            std::time::Duration::from_secs(settings.request_timeout_secs.max(1))
                .checked_mul(9)
                .map_or(std::time::Duration::MAX, |d| d / 10),
        ),
    })
}

/// The viewer for commands run on the server itself: the first administrator role.
///
/// # Errors
/// Only if no role is an administrator (the role file check refuses that).
pub fn local_viewer(service: &Service) -> Result<Viewer, ServiceError> {
    service
        .roles()
        .iter()
        .find(|(_, r)| r.admin)
        .map(|(id, r)| Viewer::local(id, Arc::clone(r)))
        .ok_or_else(|| ServiceError::Internal("no administrator role in the role file".into()))
}

/// Organisations of the demo accounts, by role.
fn demo_organisation(role: &str) -> &'static str {
    match role {
        "police" => "Polisen",
        "night_walker" => "Nattvandrarna i Botkyrka",
        _ => "Botkyrka kommun",
    }
}

/// Makes one demo account per role, named after the role, if there are no accounts yet;
/// returns the (name, password) pairs to show once.
///
/// # Errors
/// Store failures.
pub async fn create_demo_accounts(
    service: &Service,
) -> Result<Vec<(String, String)>, ServiceError> {
    if !service.store().users().await?.is_empty() {
        return Ok(Vec::new());
    }
    let admin = local_viewer(service)?;
    let mut made = Vec::new();
    let roles: Vec<(String, String)> = service
        .roles()
        .iter()
        .map(|(id, r)| (id.to_owned(), r.label.clone()))
        .collect();
    for (role, label) in roles {
        let password = generated_password();
        service
            .add_user(
                NewUser {
                    name: role.replace('_', "-"),
                    display_name: format!("Demo {label}"),
                    organisation: demo_organisation(&role).to_owned(),
                    role: role.clone(),
                    password: password.clone(),
                },
                &admin,
            )
            .await?;
        made.push((role.replace('_', "-"), password));
    }
    Ok(made)
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
    if store.reference_sources().await?.is_empty() {
        use crate::store::reference::ReferenceKind;
        let (paths, buildings) = crate::demo::reference();
        let source = "the demo (fictitious streets and buildings)";
        store
            .replace_reference(ReferenceKind::Paths, &paths, source, as_of)
            .await?;
        store
            .replace_reference(ReferenceKind::Buildings, &buildings, source, as_of)
            .await?;
    }
    Ok(features.len())
}

/// Shows the demo accounts' passwords once, on the console (never in the log file).
fn print_demo_accounts(accounts: &[(String, String)]) {
    use std::io::Write as _;
    let mut err = std::io::stderr().lock();
    let _ = writeln!(
        err,
        "\nDemo accounts (passwords are shown only now; change them with 'lagesbild user passwd NAME'):"
    );
    for (name, password) in accounts {
        let _ = writeln!(err, "  {name:<22} {password}");
    }
    let _ = writeln!(err);
}

/// How often a server looks for changes other writers made to its database (another
/// instance on the same PostGIS, an import on the command line into its SQLite file) when
/// nothing wakes it: a change is in the picture and on the live event stream within this, plus
/// the time to read it. On PostGIS a notification wakes it at once; this is the safety net.
pub const FOLLOW_INTERVAL: std::time::Duration = std::time::Duration::from_millis(500);

/// How long PostGIS keeps change-log entries: an instance cut off from the database for longer
/// reads its whole picture again when it is back.
const LOG_KEEP: time::Duration = time::Duration::hours(1);
/// How often an instance prunes the PostGIS change log.
const PRUNE_EVERY: std::time::Duration = std::time::Duration::from_secs(600);

/// The longest pause between attempts while following keeps failing, in rounds.
const FOLLOW_BACK_OFF_MAX: u32 = 120;

/// Follows the store's change log while the service lives: woken by PostgreSQL's notification
/// on PostGIS (a lost one costs at most [`FOLLOW_INTERVAL`]; a lost connection means a look at
/// once when it is back), polling on SQLite. A failure is logged once; the attempts then back
/// off (1, 2, 4 … up to 60 s apart) so a lasting one does not take the write lock twice a
/// second.
fn spawn_follower(service: &Arc<Service>) {
    let weak = Arc::downgrade(service);
    tokio::spawn(async move {
        let mut signal = None;
        let (mut failures, mut wait) = (0u32, 0u32);
        let mut last_prune = std::time::Instant::now();
        loop {
            let woken = match &mut signal {
                Some(s) => crate::store::changes::ChangeSignal::wait(s, FOLLOW_INTERVAL).await,
                None => {
                    tokio::time::sleep(FOLLOW_INTERVAL).await;
                    Ok(crate::store::changes::Woken::TimedOut)
                }
            };
            let Some(service) = weak.upgrade() else { break };
            if service.store().is_closed() {
                break;
            }
            if woken.is_err() {
                // Listened no more: polling until it can be made again.
                signal = None;
            }
            if signal.is_none() {
                signal = service.store().change_signal().await.ok();
            }
            if service.database_down() {
                // Nothing to read; the health probe says when it is back, and then the log
                // brings the picture up to date from where it stood.
                wait = 0;
                continue;
            }
            if wait > 0 {
                wait -= 1;
                continue;
            }
            match service.follow_log().await {
                Ok(n) => {
                    if failures > 0 {
                        tracing::info!("following the change log again");
                    }
                    failures = 0;
                    if n > 0 {
                        tracing::info!(features = n, "applied changes made by other writers");
                    }
                }
                // The store closed under it: the server is stopping.
                Err(_) if service.store().is_closed() => break,
                Err(e) => {
                    if failures == 0 {
                        tracing::error!(
                            "cannot follow the change log (changes by other writers reach the picture when it works again): {e}"
                        );
                    }
                    failures = failures.saturating_add(1);
                    wait = (1u32 << failures.min(7)).min(FOLLOW_BACK_OFF_MAX);
                }
            }
            if last_prune.elapsed() >= PRUNE_EVERY {
                last_prune = std::time::Instant::now();
                if let Err(e) = service.store().prune_changes_older_than(LOG_KEEP).await {
                    tracing::warn!("cannot prune the change log: {e}");
                }
            }
        }
    });
}

/// How often a server asks its database whether it answers.
pub const PROBE_INTERVAL: std::time::Duration = std::time::Duration::from_secs(1);

/// Asks the database every [`PROBE_INTERVAL`] whether it answers, for `/health`, for refusing
/// writes at once while it does not, and for following the log again when it is back.
fn spawn_health_probe(service: &Arc<Service>) {
    let weak = Arc::downgrade(service);
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(PROBE_INTERVAL);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let Some(service) = weak.upgrade() else { break };
            if service.store().is_closed() {
                break;
            }
            if service.probe_database().await {
                if service.database_down() {
                    tracing::error!(
                        "the database cannot be reached: serving the picture as it stands, refusing writes with 503"
                    );
                } else {
                    tracing::info!("the database answers again: catching up with the change log");
                }
            }
        }
    });
}

/// Runs retention now and then every `hours` hours (0: never) in the background.
fn spawn_retention(service: &Arc<Service>, hours: u32) {
    if hours == 0 {
        return;
    }
    let Some((role_id, role)) = service
        .roles()
        .iter()
        .find(|(_, r)| r.admin)
        .map(|(id, r)| (id.to_owned(), Arc::clone(r)))
    else {
        return;
    };
    let weak = Arc::downgrade(service);
    tokio::spawn(async move {
        let viewer = Viewer::system("system:retention", &role_id, role);
        let mut tick =
            tokio::time::interval(std::time::Duration::from_secs(u64::from(hours) * 3600));
        loop {
            tick.tick().await;
            let Some(service) = weak.upgrade() else { break };
            if let Err(e) = service.purge(&viewer).await {
                tracing::error!("retention run failed: {e}");
            }
        }
    });
}

/// Resident memory of this process in bytes (Linux), for start-up logs and measurements.
#[must_use]
pub fn resident_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Hands the pages the allocator keeps of freed memory back to the system at once. Loading the
/// picture frees a great deal (rows, decoded batches, sort buffers), and jemalloc returns freed
/// pages only over its decay time (10 s): a million incidents from the index snapshot answered
/// first at 431 MiB resident and settled at 396 MiB. Each arena's decay time is set to nothing,
/// which purges it, and back. Without jemalloc as the allocator (tests) it touches an idle heap.
pub fn return_freed_memory() {
    use tikv_jemalloc_ctl::{Access, AsName};
    let Ok(arenas) = tikv_jemalloc_ctl::arenas::narenas::read() else {
        return;
    };
    for i in 0..arenas {
        let key = format!("arena.{i}.dirty_decay_ms\0");
        let name = key.as_str().name();
        // Arenas never used have no state to read: nothing to purge there.
        let Ok(decay) = Access::<isize>::read(name) else {
            continue;
        };
        if name.write(0_isize).is_ok() {
            let _ = name.write(decay);
        }
    }
}

impl App {
    /// Connects, migrates, seeds the demo data when asked and the store is empty, loads every
    /// layer into the index and binds the listener (port 0 picks a free port).
    ///
    /// # Errors
    /// Store and bind failures.
    pub async fn build(settings: Settings, demo: bool) -> Result<Self, StartupError> {
        Self::build_with(settings, demo, Clock::system()).await
    }

    /// As [`App::build`], with a chosen clock (tests set it by hand).
    ///
    /// # Errors
    /// Store and bind failures.
    pub async fn build_with(
        settings: Settings,
        demo: bool,
        clock: Clock,
    ) -> Result<Self, StartupError> {
        let options = service_options(&settings, clock)?;
        let web = crate::api::assets::WebAssets::from_setting(settings.web_dir.as_deref())
            .map_err(StartupError::Web)?;
        let basemap_file = match (&settings.basemap, demo) {
            (Some(path), _) => Some(path.clone()),
            // The demo draws its own overview map when no basemap is named.
            (None, true) => {
                let path = crate::basemap::overview::default_path();
                let started = Instant::now();
                crate::basemap::overview::write(&path).map_err(StartupError::Web)?;
                tracing::info!(
                    file = %path.display(),
                    seconds = started.elapsed().as_secs_f64(),
                    "wrote the demo's overview map"
                );
                Some(path)
            }
            (None, false) => None,
        };
        let basemap = match &basemap_file {
            Some(path) => Some(Arc::new(
                crate::basemap::Basemap::open(path)
                    .await
                    .map_err(StartupError::Web)?,
            )),
            None => None,
        };
        tracing::info!(database = %mask_password(&settings.database_url), "opening the store");
        let store = open_store(&settings).await?;
        if demo {
            // As of the service's clock: a test that sets the clock gets the same demo every day.
            let n = seed_demo_if_empty(&store, options.clock.now()).await?;
            if n > 0 {
                tracing::info!(features = n, "seeded the demo picture");
            }
        }
        let started = Instant::now();
        let service = Service::open_with(store, options).await?;
        return_freed_memory();
        if let Some(b) = basemap {
            service.set_basemap(b);
        }
        if service.open_audit_journal().await? {
            tracing::info!("audited reads are journalled beside the database file");
        }
        let loaded: usize = Layer::ALL
            .iter()
            .map(|l| service.unrestricted().len(*l))
            .sum();
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
        if demo {
            if local_addr.ip().is_loopback() {
                let accounts = create_demo_accounts(&service).await?;
                if !accounts.is_empty() {
                    print_demo_accounts(&accounts);
                }
            } else {
                tracing::warn!(
                    "not creating demo accounts: the server listens on {local_addr}, not only on this machine; add accounts with 'lagesbild user add'"
                );
            }
        }
        // The snapshot it started from (if any) is spent: a new one is written at the stop, and
        // none is left lying about meanwhile (a purge may remove what it holds).
        service.discard_snapshot()?;
        let service = Arc::new(service);
        spawn_retention(&service, settings.retention_interval_hours);
        spawn_follower(&service);
        spawn_health_probe(&service);
        // Ends by itself when the store is closed.
        drop(
            service
                .store()
                .bound_wal(settings.wal_limit_mb.saturating_mul(1024 * 1024)),
        );
        let state = AppState {
            service,
            web: Arc::new(web),
            config: Arc::new(settings),
            streams: Arc::default(),
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
        let limits = crate::api::serve::ConnectionLimits {
            header_read_timeout: std::time::Duration::from_secs(
                self.state.config.header_read_timeout_secs.max(1),
            ),
            max_connections: self.state.config.max_connections,
        };
        let snapshot = self.state.config.index_snapshot;
        crate::api::serve::serve(self.listener, router(self.state), limits, shutdown).await?;
        if !snapshot && let Err(e) = service.prune_log().await {
            tracing::warn!("the change log was not pruned: {e}");
        }
        if snapshot {
            let started = Instant::now();
            match service.save_snapshot().await {
                Ok(Some(head)) => tracing::info!(
                    features = head.count,
                    position = head.position,
                    seconds = started.elapsed().as_secs_f64(),
                    "index snapshot written"
                ),
                Ok(None) => {}
                // The next start reads the table (or the older snapshot and the log).
                Err(e) => tracing::warn!("the index snapshot was not written: {e}"),
            }
        }
        if let Err(e) = service.flush_audit().await {
            // They stay in the journal, and the next start moves them.
            tracing::warn!("audit records were not moved into the table at the stop: {e}");
        }
        service.store().close().await;
        tracing::info!("stopped");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use tikv_jemalloc_ctl::{Access, AsName};

    /// Each arena's decay time, where it has one.
    fn decay_times() -> Vec<Option<isize>> {
        (0..tikv_jemalloc_ctl::arenas::narenas::read().unwrap())
            .map(|i| {
                let key = format!("arena.{i}.dirty_decay_ms\0");
                Access::<isize>::read(key.as_str().name()).ok()
            })
            .collect()
    }

    /// The purge leaves every arena's decay time as it found it: an arena left at nothing would
    /// hand pages back and fault them in again on every allocation.
    #[test]
    fn returning_freed_memory_keeps_each_arenas_decay_time() {
        let before = decay_times();
        assert!(before.iter().any(Option::is_some), "{before:?}");
        super::return_freed_memory();
        assert_eq!(before, decay_times());
    }
}
