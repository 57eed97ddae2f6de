//! Use cases: read the picture, write features, import and export.
//!
//! Every write goes to the store first, in one transaction; only after the commit is it applied
//! to the in-memory index and announced on the change feed. A single write lock orders the
//! commits and their application to the index, so the index never shows an older version after
//! a newer one. Readers never take that lock.

pub mod accounts;
pub mod agenda;
pub mod analysis;
pub mod audit;
mod audit_queue;
pub mod availability;
pub mod bulk_import;
pub mod cameras;
pub mod clock;
pub mod dosage;
pub mod edits;
pub mod export;
pub mod features;
pub mod followup;
pub mod import;
pub mod meetings;
pub mod near_repeat;
pub mod picture;
pub mod reference;
pub mod reports;
pub mod retention;
pub mod routes;
mod signal;
pub mod snapshot;
pub mod suggestion;
pub mod visibility;

use std::sync::Arc;

use tokio::sync::{Mutex, broadcast};
use uuid::Uuid;

use crate::domain::access::{RoleBook, RoleFileError};
use crate::domain::{Feature, Layer, ValidationErrors};
use crate::index::FeatureIndex;
use crate::store::{Store, StoreError};
use clock::Clock;

/// A committed change, as announced on the change feed.
#[derive(Debug, Clone)]
pub enum Change {
    /// A feature was created.
    Upserted(Arc<Feature>),
    /// A feature was replaced: both versions, so that each subscriber hears of it only when its
    /// own view changed.
    Replaced {
        /// The version before.
        before: Arc<Feature>,
        /// The version after.
        after: Arc<Feature>,
    },
    /// A feature was deleted (its last version, so that visibility can be decided).
    Deleted(Arc<Feature>),
}

/// The index with no grant applied ([`Service::unrestricted`]).
pub struct Unrestricted<'a>(
    &'a FeatureIndex,
    &'a std::sync::atomic::AtomicU64,
    &'a visibility::TileCache,
);

impl Unrestricted<'_> {
    /// A live feature by id, whatever its classification.
    #[must_use]
    pub fn get(&self, layer: Layer, id: Uuid) -> Option<Arc<Feature>> {
        self.0.get(layer, id)
    }

    /// How many live features a layer holds.
    #[must_use]
    pub fn len(&self, layer: Layer) -> usize {
        self.0.len(layer)
    }

    /// Whether no layer holds anything.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The box around every feature of a layer.
    #[must_use]
    pub fn extent(&self, layer: Layer) -> Option<[f64; 4]> {
        self.0.extent(layer)
    }

    /// Every live feature of a layer, in no particular order.
    #[must_use]
    pub fn all(&self, layer: Layer) -> Vec<Arc<Feature>> {
        self.0.matching(
            layer,
            &crate::index::Spatial::All,
            &crate::index::Filters::default(),
        )
    }

    /// Replaces a layer's features in the index without the store (benchmarks of the read
    /// path; nothing is persisted).
    pub fn load(&self, layer: Layer, features: Vec<Feature>) {
        self.0.load(layer, features);
        self.1.fetch_add(1, std::sync::atomic::Ordering::Release);
        self.2.clear();
    }
}

/// What a use case can fail with.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServiceError {
    /// The input breaks the domain's rules.
    #[error("invalid input: {0}")]
    Invalid(#[from] ValidationErrors),
    /// The request is valid, but what the caller may see cannot answer it (too few events for
    /// the test, no area in the region): 422, naming what to change.
    #[error("cannot answer: {0}")]
    Unanswerable(ValidationErrors),
    /// No such live feature in this layer.
    #[error("no feature {1} in layer '{0}'")]
    NotFound(Layer, Uuid),
    /// Someone else changed the feature first.
    #[error("feature {id} is at version {current}; you sent version {expected}")]
    VersionConflict {
        /// The feature.
        id: Uuid,
        /// The version the caller had.
        expected: i64,
        /// The version now stored.
        current: i64,
    },
    /// The id is taken.
    #[error("a feature with id {0} exists already")]
    DuplicateId(Uuid),
    /// The input is over a size limit (the message names the setting).
    #[error("{0}")]
    TooLarge(String),
    /// An analysis's permutations did not finish within [`Options::work_limit`]; nothing of it
    /// is answered.
    #[error("{0}")]
    Stopped(#[from] crate::analysis::deadline::Stopped),
    /// A change came without the version it was based on (`If-Match`).
    #[error(
        "changing a feature needs an If-Match header with the ETag you read (e.g. If-Match: \"3\"), so nobody overwrites someone else's change unseen"
    )]
    PreconditionRequired,
    /// `If-Match: *`: refused, since it would overwrite whatever is stored, unseen.
    #[error(
        "If-Match: * would overwrite whatever is stored now, unseen; send the ETag you read (e.g. If-Match: \"3\"), so nobody's change is lost"
    )]
    PreconditionWildcard,
    /// `If-Match` names no version.
    #[error(
        "If-Match '{0}' names no version of this feature; send the ETag you read, e.g. If-Match: \"3\""
    )]
    PreconditionUnreadable(String),
    /// The caller is not signed in, or not any more.
    #[error(transparent)]
    Auth(#[from] accounts::AuthError),
    /// The caller's role does not allow this (the message says what the role may do).
    #[error("{0}")]
    Forbidden(String),
    /// No account, token or other named thing.
    #[error("{0}")]
    NotFoundName(String),
    /// A name is taken.
    #[error("{0}")]
    Conflict(String),
    /// Something that should not fail did.
    #[error("internal error: {0}")]
    Internal(String),
    /// The database failed.
    #[error(transparent)]
    Store(StoreError),
    /// This server's picture is behind the database by more than an answer may wait for
    /// (changes made elsewhere are still being applied): 503, try again in a moment.
    #[error("{0}")]
    CatchingUp(String),
}

impl Change {
    /// The feature as it is after the change (the last version, for a deletion).
    #[must_use]
    pub fn feature(&self) -> &Arc<Feature> {
        match self {
            Change::Upserted(f) | Change::Deleted(f) => f,
            Change::Replaced { after, .. } => after,
        }
    }
}

impl From<StoreError> for ServiceError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(l, id) => ServiceError::NotFound(l, id),
            StoreError::VersionConflict {
                id,
                expected,
                current,
            } => ServiceError::VersionConflict {
                id,
                expected,
                current,
            },
            StoreError::DuplicateId(id) => ServiceError::DuplicateId(id),
            StoreError::Conflict(m) => ServiceError::Conflict(m),
            other => ServiceError::Store(other),
        }
    }
}

/// How a service runs beside its store: roles, clock, session length, retention.
#[derive(Debug, Clone)]
pub struct Options {
    /// The roles and their grants.
    pub roles: RoleBook,
    /// Where "now" comes from.
    pub clock: Clock,
    /// How long a web session lasts.
    pub session_ttl: time::Duration,
    /// How long each layer's features are kept, by layer (`None`: for ever).
    pub retention: retention::Retention,
    /// Load the picture from the index snapshot when it can be trusted (SQLite files).
    pub use_snapshot: bool,
    /// Keep cut vector tiles until a change touches them.
    pub tile_cache: bool,
    /// How long a token or session the database confirmed is trusted before it is asked
    /// again ([`DEFAULT_CREDENTIAL_RECHECK`]; zero asks on every request). A revocation made on
    /// another instance, or in the database directly, is refused at most this long after.
    pub credential_recheck: std::time::Duration,
    /// How long an analysis's permutations may compute before they stop and the request is
    /// answered 408 (`None`: to their end). A server sets it under its request timeout: the
    /// permutations run on the request's own thread, where the timeout cannot cut them.
    pub work_limit: Option<std::time::Duration>,
}

/// How long a confirmed credential is trusted by default: the same second within which every
/// instance sees a write.
pub const DEFAULT_CREDENTIAL_RECHECK: std::time::Duration = std::time::Duration::from_secs(1);

impl Options {
    /// The shipped roles, the system clock, 12-hour sessions, 24 months of incidents.
    ///
    /// # Errors
    /// Only if the shipped role file is broken.
    pub fn defaults() -> Result<Self, RoleFileError> {
        Ok(Self {
            roles: RoleBook::defaults()?,
            clock: Clock::system(),
            session_ttl: time::Duration::hours(12),
            retention: retention::Retention::default(),
            use_snapshot: true,
            tile_cache: true,
            credential_recheck: DEFAULT_CREDENTIAL_RECHECK,
            work_limit: None,
        })
    }
}

/// The picture: store, index, change feed, and who may see what.
pub struct Service {
    store: Store,
    index: Arc<FeatureIndex>,
    writes: Mutex<()>,
    changes: broadcast::Sender<Change>,
    roles: RoleBook,
    clock: Clock,
    session_ttl: time::Duration,
    retention: retention::Retention,
    throttle: accounts::SourceThrottle,
    refusals: audit::RefusalCounter,
    grid: visibility::Grid,
    /// Counts every change applied to the index (caches are valid for one generation).
    generation: std::sync::atomic::AtomicU64,
    /// Cut vector tiles, dropped where a change touches them.
    tile_cache: visibility::TileCache,
    /// Kept tiles' reads whose audit records cover the same caller's re-reads for a while.
    read_cover: visibility::ReadCover,
    /// How the picture was loaded (unset without a picture).
    loaded: std::sync::OnceLock<snapshot::Loaded>,
    /// Where the index stands in the change log (none for a service without the picture).
    follow: std::sync::Mutex<snapshot::Follow>,
    /// Whether the database answers, and the credentials it confirmed.
    availability: availability::Availability,
    /// Counts reloads of the whole picture (live-event clients are told to reload too).
    resyncs: tokio::sync::watch::Sender<u64>,
    /// The wake-up due to other instances after own writes.
    signal: std::sync::Arc<signal::Signal>,
    counts_cache: visibility::counts::CountsCache,
    audit_queue: audit_queue::AuditQueue,
    /// How long a confirmed credential is trusted before the database is asked again.
    credential_recheck: std::time::Duration,
    /// See [`Options::work_limit`].
    work_limit: Option<std::time::Duration>,
    /// One answer by id at a time looks at the log; when the last look began, and whether it
    /// found the picture up to date.
    refreshed: tokio::sync::Mutex<Option<(std::time::Instant, bool)>>,
    /// The reference layers (buildings, paths), read on first use.
    reference: reference::ReferenceCache,
    /// The basemap, when one is configured (drawn under briefings' maps, served to browsers).
    basemap: std::sync::OnceLock<std::sync::Arc<crate::basemap::Basemap>>,
}

impl Service {
    /// The 250 m SWEREF 99 TM grid counts, hot spots and plans are made on.
    #[must_use]
    pub const fn grid(&self) -> &visibility::Grid {
        &self.grid
    }
}

impl Service {
    /// Opens the picture on `store` with the default options.
    ///
    /// # Errors
    /// When the store cannot be read.
    pub async fn open(store: Store) -> Result<Self, StoreError> {
        let options = Options::defaults().map_err(|e| StoreError::Corrupt(e.to_string()))?;
        Self::open_with(store, options).await
    }

    /// Opens the picture on `store`: loads every layer into the index.
    ///
    /// # Errors
    /// When the store cannot be read.
    pub async fn open_with(store: Store, options: Options) -> Result<Self, StoreError> {
        let index = Arc::new(FeatureIndex::new());
        let (position, loaded) = snapshot::load(&store, &index, options.use_snapshot).await?;
        let service = Self::assemble(store, index, options)?;
        service.follow_from(position);
        let replayed = service.catch_up().await?;
        let loaded = match loaded {
            snapshot::Loaded::Snapshot { .. } => snapshot::Loaded::Snapshot { replayed },
            table => table,
        };
        tracing::info!(?loaded, "picture loaded");
        let _ = service.loaded.set(loaded);
        Ok(service)
    }

    /// Opens the service on `store` **without the picture**: the index stays empty. For the
    /// commands about accounts, tokens and the audit log, which read no feature and should
    /// not wait for a million of them to load (issue 17); never for serving or exports.
    ///
    /// # Errors
    /// When the options are unusable.
    pub fn open_without_picture(store: Store, options: Options) -> Result<Self, StoreError> {
        // Follows no log: the empty index must never be written as a snapshot.
        Self::assemble(store, Arc::new(FeatureIndex::new()), options)
    }

    fn assemble(
        store: Store,
        index: Arc<FeatureIndex>,
        options: Options,
    ) -> Result<Self, StoreError> {
        let (changes, _) = broadcast::channel(1024);
        let audit_queue = audit_queue::AuditQueue::new(store.clone());
        let signal = signal::Signal::spawn(store.clone());
        Ok(Self {
            store,
            index,
            writes: Mutex::new(()),
            changes,
            roles: options.roles,
            clock: options.clock,
            session_ttl: options.session_ttl,
            retention: options.retention,
            throttle: accounts::SourceThrottle::default(),
            refusals: audit::RefusalCounter::default(),
            generation: std::sync::atomic::AtomicU64::new(0),
            tile_cache: visibility::TileCache::new(options.tile_cache),
            read_cover: visibility::ReadCover::default(),
            follow: std::sync::Mutex::new(snapshot::Follow::default()),
            resyncs: tokio::sync::watch::Sender::new(0),
            signal,
            availability: availability::Availability::default(),
            loaded: std::sync::OnceLock::new(),
            audit_queue,
            credential_recheck: options.credential_recheck,
            work_limit: options.work_limit,
            refreshed: tokio::sync::Mutex::new(None),
            reference: reference::ReferenceCache::default(),
            basemap: std::sync::OnceLock::new(),
            counts_cache: visibility::counts::CountsCache::default(),
            grid: visibility::Grid::new().map_err(|e| StoreError::Corrupt(e.to_string()))?,
        })
    }

    /// Sets the basemap (once, at start; a second call is ignored).
    pub fn set_basemap(&self, basemap: std::sync::Arc<crate::basemap::Basemap>) {
        let _ = self.basemap.set(basemap);
    }

    /// The basemap, when one is configured.
    #[must_use]
    pub fn basemap(&self) -> Option<&crate::basemap::Basemap> {
        self.basemap.get().map(std::convert::AsRef::as_ref)
    }

    /// How the picture was loaded: from the index snapshot (and how many features the log after
    /// it changed) or from the table; `None` for a service opened without the picture.
    #[must_use]
    pub fn loaded(&self) -> Option<&snapshot::Loaded> {
        self.loaded.get()
    }

    /// The in-memory index. Only the service reads it: every read for a caller goes through
    /// [`visibility`], which applies the caller's grant.
    #[must_use]
    pub(crate) fn index(&self) -> &FeatureIndex {
        &self.index
    }

    /// The whole picture with no grant applied: for start-up, the command line's own records,
    /// benchmarks and tests. `api/` never uses it (`tests/architecture.rs` checks).
    #[must_use]
    pub fn unrestricted(&self) -> Unrestricted<'_> {
        Unrestricted(&self.index, &self.generation, &self.tile_cache)
    }

    /// The store behind the picture.
    #[must_use]
    pub const fn store(&self) -> &Store {
        &self.store
    }

    /// The roles and their grants.
    #[must_use]
    pub const fn roles(&self) -> &RoleBook {
        &self.roles
    }

    /// Where "now" comes from.
    #[must_use]
    pub const fn clock(&self) -> &Clock {
        &self.clock
    }

    /// When permutations started now must stop ([`Options::work_limit`]).
    pub(crate) fn work_deadline(&self) -> crate::analysis::deadline::Deadline {
        self.work_limit
            .map_or(crate::analysis::deadline::Deadline::NEVER, |limit| {
                crate::analysis::deadline::Deadline::after(limit)
            })
    }

    /// The retention per layer.
    #[must_use]
    pub const fn retention(&self) -> &retention::Retention {
        &self.retention
    }

    /// Subscribes to committed changes.
    #[must_use]
    pub fn subscribe(&self) -> broadcast::Receiver<Change> {
        self.changes.subscribe()
    }

    /// Subscribes to reloads of the whole picture: after one, a live-event client cannot know
    /// what changed and must read its view again.
    #[must_use]
    pub fn subscribe_resyncs(&self) -> tokio::sync::watch::Receiver<u64> {
        self.resyncs.subscribe()
    }

    fn announce(&self, change: Change) {
        // Every change to the index is announced, after it is applied: caches built on an older
        // generation are stale from here on, and the tiles it touches are dropped.
        self.generation
            .fetch_add(1, std::sync::atomic::Ordering::Release);
        let (layer, envelopes) = match &change {
            Change::Upserted(f) | Change::Deleted(f) => (
                f.layer(),
                vec![crate::domain::geometry::bounds(&f.geometry())],
            ),
            Change::Replaced { before, after } => {
                if before.layer() != after.layer() {
                    self.tile_cache.invalidate(
                        before.layer(),
                        &[crate::domain::geometry::bounds(&before.geometry())],
                    );
                }
                (
                    after.layer(),
                    vec![
                        crate::domain::geometry::bounds(&before.geometry()),
                        crate::domain::geometry::bounds(&after.geometry()),
                    ],
                )
            }
        };
        self.tile_cache.invalidate(layer, &envelopes);
        // No subscriber is fine.
        let _ = self.changes.send(change);
    }

    /// How many live-event subscribers there are.
    #[must_use]
    pub fn subscribers(&self) -> usize {
        self.changes.receiver_count()
    }

    /// How many changes have been applied to the index since start-up.
    #[must_use]
    pub fn generation(&self) -> u64 {
        self.generation.load(std::sync::atomic::Ordering::Acquire)
    }
}
