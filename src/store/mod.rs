//! Persistence: PostGIS when `DATABASE_URL` is `postgres://…`, otherwise an embedded SQLite file.
//!
//! Only this module touches sqlx. Both back-ends use runtime-checked queries (one crate cannot
//! check SQL against two databases at compile time) and are held to one contract by
//! `tests/store.rs`. Every write is one transaction.

/// Runs the same query text on whichever pool the store holds.
macro_rules! on_pool {
    ($store:expr, $pool:ident => $body:expr) => {
        match $store {
            Store::Sqlite($pool) => $body,
            Store::Postgres($pool) => $body,
        }
    };
}

pub mod accounts;
pub mod audit;
pub mod audit_journal;
pub mod backtests;
pub mod bulk;
pub mod changes;
pub mod codec;
pub mod meetings;
mod pgcopy;
mod pgcopy_out;
mod postgis;
mod read;
pub mod reference;
pub mod reports;
pub mod retention;
pub mod snapshot;
mod sqlite;
pub mod wal;

use sqlx::{PgPool, SqlitePool};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::domain::{Feature, Layer};

/// What can go wrong in the store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// No live feature with this id in this layer.
    #[error("no feature {1} in layer '{0}'")]
    NotFound(Layer, Uuid),
    /// The feature changed since the caller read it (optimistic concurrency).
    #[error("feature {id} is at version {current}, not {expected}")]
    VersionConflict {
        /// The feature.
        id: Uuid,
        /// The version the caller expected.
        expected: i64,
        /// The version stored.
        current: i64,
    },
    /// A unique name is taken (an account name).
    #[error("{0}")]
    Conflict(String),
    /// A feature with this id exists already (live or deleted).
    #[error("a feature with id {0} exists already")]
    DuplicateId(Uuid),
    /// The URL is not one we can use.
    #[error(
        "unsupported database URL '{0}': use sqlite://path/to/file.db or postgres://user@host/db"
    )]
    UnsupportedUrl(String),
    /// A stored value no longer reads.
    #[error("stored data cannot be read: {0}")]
    Corrupt(String),
    /// The database said no.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// A migration failed.
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The database cannot be reached (a lost connection, a refused one, none free in time,
    /// a server shutting down): worth trying again shortly.
    #[error("the database cannot be reached: {0}")]
    Unavailable(String),
    /// A local file problem (creating the SQLite directory).
    #[error("cannot prepare {1}: {0}")]
    Io(#[source] std::io::Error, String),
}

/// Whole seconds, so that times sort as text in SQLite.
#[must_use]
pub fn whole_seconds(t: OffsetDateTime) -> OffsetDateTime {
    t.replace_nanosecond(0).unwrap_or(t)
}

/// The database behind the picture.
#[derive(Clone, Debug)]
pub enum Store {
    /// Embedded SQLite file (the default).
    Sqlite(SqlitePool),
    /// PostgreSQL with PostGIS.
    Postgres(PgPool),
}

/// Progress callback for long writes: called with the number of rows done so far.
pub type Progress<'a> = &'a (dyn Fn(u64) + Sync);

/// Receives features one at a time from [`Store::for_each_in_layer`] and [`Store::for_each_live`].
pub type Sink<'a> = &'a mut (dyn FnMut(Feature) + Send);

impl StoreError {
    /// Whether the database could not be reached, rather than refusing the request: a lost
    /// or refused connection, no connection free in time, a server shutting down or starting
    /// (SQLSTATE class 08, 57P01–57P03).
    #[must_use]
    pub fn is_unavailable(&self) -> bool {
        match self {
            StoreError::Unavailable(_) => true,
            StoreError::Database(e) => match e {
                sqlx::Error::Io(_)
                | sqlx::Error::Tls(_)
                | sqlx::Error::PoolTimedOut
                | sqlx::Error::PoolClosed
                | sqlx::Error::WorkerCrashed => true,
                sqlx::Error::Database(d) => d.code().is_some_and(|c| {
                    c.starts_with("08") || matches!(&*c, "57P01" | "57P02" | "57P03")
                }),
                _ => false,
            },
            _ => false,
        }
    }
}

impl Store {
    /// Connects to `url`; an SQLite file (and its directory) is created on first use.
    ///
    /// # Errors
    /// An unsupported URL, or the database cannot be reached.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Store::Postgres(postgis::connect(url).await?))
        } else if url.starts_with("sqlite:") {
            Ok(Store::Sqlite(sqlite::connect(url).await?))
        } else {
            Err(StoreError::UnsupportedUrl(url.to_owned()))
        }
    }

    /// Which back-end this is, for logs.
    #[must_use]
    pub const fn kind(&self) -> &'static str {
        match self {
            Store::Sqlite(_) => "sqlite",
            Store::Postgres(_) => "postgis",
        }
    }

    /// Brings the schema up to date.
    ///
    /// # Errors
    /// When a migration fails (e.g. PostGIS is not installed on the server).
    pub async fn migrate(&self) -> Result<(), StoreError> {
        match self {
            Store::Sqlite(p) => sqlx::migrate!("./migrations/sqlite").run(p).await?,
            Store::Postgres(p) => sqlx::migrate!("./migrations/postgres").run(p).await?,
        }
        Ok(())
    }

    /// Hands every live feature of a layer to `sink`, one at a time, without collecting them
    /// (start-up and export of millions of rows); returns how many.
    ///
    /// # Errors
    /// Database errors, or a stored row that no longer reads.
    pub async fn for_each_in_layer(&self, layer: Layer, sink: Sink<'_>) -> Result<u64, StoreError> {
        read::for_each(self, Some(layer), sink).await
    }

    /// Hands every live feature of every layer to `sink` in one sequential pass over the table:
    /// much faster at start-up than a query per layer, which seeks rows one by one.
    ///
    /// # Errors
    /// Database errors, or a stored row that no longer reads.
    pub async fn for_each_live(&self, sink: Sink<'_>) -> Result<u64, StoreError> {
        read::for_each(self, None, sink).await
    }

    /// Every live feature of a layer, collected.
    ///
    /// # Errors
    /// As [`Store::for_each_in_layer`].
    pub async fn load_layer(&self, layer: Layer) -> Result<Vec<Feature>, StoreError> {
        let mut out = Vec::new();
        self.for_each_in_layer(layer, &mut |f| out.push(f)).await?;
        Ok(out)
    }

    /// One feature by id, live or not (`None` if it never existed); with its deletion time.
    ///
    /// # Errors
    /// Database errors.
    pub async fn get(
        &self,
        id: Uuid,
    ) -> Result<Option<(Feature, Option<OffsetDateTime>)>, StoreError> {
        read::get(self, id).await
    }

    /// The features with these ids that exist, live or not, with their deletion times, in no
    /// particular order (for bringing many features of the picture up to date at once).
    ///
    /// # Errors
    /// Database errors; a stored row that no longer reads.
    pub async fn get_many(
        &self,
        ids: &[Uuid],
    ) -> Result<Vec<(Feature, Option<OffsetDateTime>)>, StoreError> {
        read::get_many(self, ids).await
    }

    /// Inserts new features in one transaction: all or none.
    ///
    /// # Errors
    /// [`StoreError::DuplicateId`] if an id exists already; database errors.
    pub async fn insert(
        &self,
        features: &[Feature],
        progress: Progress<'_>,
    ) -> Result<(), StoreError> {
        self.insert_audited(features, None, progress).await
    }

    /// Inserts new features and appends `audit` in one transaction: the features and their
    /// audit record commit together, or neither does.
    ///
    /// # Errors
    /// As [`Store::insert`].
    pub async fn insert_audited(
        &self,
        features: &[Feature],
        audit: Option<&audit::AuditRow>,
        progress: Progress<'_>,
    ) -> Result<(), StoreError> {
        let result = match self {
            Store::Sqlite(p) => sqlite::insert(p, features, audit, progress).await,
            Store::Postgres(p) => postgis::insert(p, features, audit, progress).await,
        };
        match result {
            Err(StoreError::Database(sqlx::Error::Database(e))) if e.is_unique_violation() => {
                let fallback = StoreError::Database(sqlx::Error::Database(e));
                Err(self.name_duplicate(features).await.unwrap_or(fallback))
            }
            other => other,
        }
    }

    /// After a unique violation (the transaction is rolled back): which id was taken, either
    /// twice within the batch or by a stored feature.
    async fn name_duplicate(&self, features: &[Feature]) -> Option<StoreError> {
        let mut seen = std::collections::HashSet::new();
        if let Some(f) = features.iter().find(|f| !seen.insert(f.id)) {
            return Some(StoreError::DuplicateId(f.id));
        }
        for f in features {
            if let Ok(Some(_)) = self.get(f.id).await {
                return Some(StoreError::DuplicateId(f.id));
            }
        }
        None
    }

    /// Replaces a live feature whose stored version is `feature.meta.version - 1`.
    ///
    /// # Errors
    /// [`StoreError::NotFound`], [`StoreError::VersionConflict`], database errors.
    pub async fn update(&self, feature: &Feature) -> Result<(), StoreError> {
        self.update_audited(feature, None).await
    }

    /// [`Store::update`] with its audit record in the same transaction.
    ///
    /// # Errors
    /// As [`Store::update`]; then neither is written.
    pub async fn update_audited(
        &self,
        feature: &Feature,
        audit: Option<&audit::AuditRow>,
    ) -> Result<(), StoreError> {
        let done = match self {
            Store::Sqlite(p) => sqlite::update(p, feature, audit).await?,
            Store::Postgres(p) => postgis::update(p, feature, audit).await?,
        };
        if done {
            Ok(())
        } else {
            Err(self
                .why_not(feature.layer(), feature.id, feature.meta.version - 1)
                .await)
        }
    }

    /// Soft-deletes a live feature at `expected_version`.
    ///
    /// # Errors
    /// [`StoreError::NotFound`], [`StoreError::VersionConflict`], database errors.
    pub async fn delete(
        &self,
        layer: Layer,
        id: Uuid,
        expected_version: i64,
        by: &str,
    ) -> Result<(), StoreError> {
        self.delete_audited(layer, id, expected_version, by, None)
            .await
    }

    /// [`Store::delete`] with its audit record in the same transaction.
    ///
    /// # Errors
    /// As [`Store::delete`]; then neither is written.
    pub async fn delete_audited(
        &self,
        layer: Layer,
        id: Uuid,
        expected_version: i64,
        by: &str,
        audit: Option<&audit::AuditRow>,
    ) -> Result<(), StoreError> {
        let now = crate::domain::time::now_utc();
        let done = match self {
            Store::Sqlite(p) => {
                sqlite::delete(p, layer, id, expected_version, by, now, audit).await?
            }
            Store::Postgres(p) => {
                postgis::delete(p, layer, id, expected_version, by, now, audit).await?
            }
        };
        if done {
            Ok(())
        } else {
            Err(self.why_not(layer, id, expected_version).await)
        }
    }

    /// Explains why a conditional write changed nothing.
    async fn why_not(&self, layer: Layer, id: Uuid, expected: i64) -> StoreError {
        match self.get(id).await {
            Ok(Some((f, None))) if f.layer() == layer => StoreError::VersionConflict {
                id,
                expected,
                current: f.meta.version,
            },
            Ok(_) => StoreError::NotFound(layer, id),
            Err(e) => e,
        }
    }

    /// How many live features a layer holds.
    ///
    /// # Errors
    /// Database errors.
    pub async fn count(&self, layer: Layer) -> Result<i64, StoreError> {
        match self {
            Store::Sqlite(p) => sqlite::count(p, layer).await,
            Store::Postgres(p) => postgis::count(p, layer).await,
        }
    }

    /// Keeps an SQLite store's write-ahead log under `limit` bytes while the store is open
    /// (see [`wal`]); `None` on PostGIS, which manages its own log.
    #[must_use]
    pub fn bound_wal(&self, limit: u64) -> Option<tokio::task::JoinHandle<()>> {
        match self {
            Store::Sqlite(p) => Some(wal::spawn_bound(p.clone(), limit)),
            Store::Postgres(_) => None,
        }
    }

    /// The size of an SQLite store's write-ahead log in bytes (`None` on PostGIS).
    #[must_use]
    pub fn wal_bytes(&self) -> Option<u64> {
        match self {
            Store::Sqlite(p) => Some(wal::wal_size(p)),
            Store::Postgres(_) => None,
        }
    }

    /// Whether [`Store::close`] was called.
    #[must_use]
    pub fn is_closed(&self) -> bool {
        match self {
            Store::Sqlite(p) => p.is_closed(),
            Store::Postgres(p) => p.is_closed(),
        }
    }

    /// Asks the database whether it answers, on a connection of its own (a pool busy with
    /// imports is not a database out of reach). An SQLite file is always there.
    ///
    /// # Errors
    /// When it cannot be reached.
    pub async fn ping(&self) -> Result<(), StoreError> {
        use sqlx::Connection;
        if let Store::Postgres(p) = self {
            let mut conn = sqlx::PgConnection::connect_with(&p.connect_options()).await?;
            sqlx::query("SELECT 1").execute(&mut conn).await?;
            conn.close().await?;
        }
        Ok(())
    }

    /// Closes the pool, waiting for work in flight.
    pub async fn close(&self) {
        match self {
            Store::Sqlite(p) => p.close().await,
            Store::Postgres(p) => p.close().await,
        }
    }
}
