//! The embedded SQLite back-end: one file, WAL mode, geometry as WKB blobs.

use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{
    SqliteArguments, SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{QueryBuilder, Sqlite, SqlitePool};
use time::OffsetDateTime;
use uuid::Uuid;

use super::audit::AuditRow;
use super::codec::Derived;
use super::{Progress, StoreError};
use crate::domain::{Feature, Layer};

/// Rows per multi-row INSERT (19 columns each, well under SQLite's 32 766 variables).
const CHUNK: usize = 1000;
/// Page cache per connection, in KiB (SQLite's default is 2 MiB). Grows only as used.
const CACHE_KIB: u32 = 32 * 1024;
/// Page cache of a connection writing a bulk insert, in KiB: the indexes on random keys (ids,
/// times) of a million rows fit, so pages are not spilled to the log and read back (that was
/// a third of a million-row import's time at 2 MiB; 160 → 256 MiB took a million-row import
/// from 18–19 s to 17 s, at 428 MB peak).
const BULK_CACHE_KIB: u32 = 256 * 1024;
/// Page cache while a first load builds its indexes, in KiB. SQLite's sorter takes the cache
/// size as the size of the runs it sorts apart (with `temp_store = file`) and hands each run to
/// a helper thread while it reads on: a million-row load's three index builds took 2.8 s
/// sorted whole in memory, 1.5 s in 4 MiB runs on two helper threads (1.7 s on one, 1.6 s in
/// 8 MiB runs; `sqlite3` 3.40 on the same file).
pub(super) const SORT_CACHE_KIB: u32 = 4 * 1024;
/// Helper threads SQLite's sorter may use for a bulk insert's index builds.
const SORT_THREADS: u32 = 2;

pub(super) async fn connect(url: &str) -> Result<SqlitePool, StoreError> {
    let options = SqliteConnectOptions::from_str(url)?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .busy_timeout(Duration::from_secs(10))
        // Statement journals (a multi-row INSERT's undo) in memory, not in temporary files.
        .pragma("temp_store", "memory")
        .pragma("cache_size", format!("-{}", CACHE_KIB))
        // Whenever SQLite rewinds the write-ahead log, it cuts the file back to this size
        // (the active bound is `wal::spawn_bound`).
        .pragma(
            "journal_size_limit",
            super::wal::DEFAULT_WAL_LIMIT.to_string(),
        );
    let path = options.get_filename();
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| StoreError::Io(e, dir.display().to_string()))?;
    }
    // A command-line import that has the file alone (`journal_alone`) refuses every other
    // connection at once, whatever the busy timeout (its first statement turns WAL mode back
    // on, which needs the file to itself): wait for it rather than stop.
    let started = std::time::Instant::now();
    let mut told = false;
    loop {
        match SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options.clone())
            .await
        {
            Ok(pool) => return Ok(pool),
            Err(sqlx::Error::Database(e)) if is_busy(e.code().as_deref()) => {
                if started.elapsed() > HELD_WAIT {
                    return Err(StoreError::Unavailable(format!(
                        "{} is still held by another process after {} s (an import writing it alone?): {e}",
                        path.display(),
                        HELD_WAIT.as_secs()
                    )));
                }
                if !told {
                    tracing::warn!(
                        "{} is held by another process (an import writing it alone?); waiting for it",
                        path.display()
                    );
                    told = true;
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(e) => return Err(e.into()),
        }
    }
}

/// How long opening an SQLite file waits for a process that holds it alone (a large import).
const HELD_WAIT: Duration = Duration::from_secs(600);

/// Whether an SQLite result code (sqlx gives the extended one) is SQLITE_BUSY or SQLITE_LOCKED,
/// in any extended form: another connection holds what this one needs.
fn is_busy(code: Option<&str>) -> bool {
    code.and_then(|c| c.parse::<i32>().ok())
        .is_some_and(|c| matches!(c & 0xff, 5 | 6))
}

pub(super) async fn insert(
    pool: &SqlitePool,
    features: &[Feature],
    audit: Option<&AuditRow>,
    progress: Progress<'_>,
) -> Result<(), StoreError> {
    let mut conn = if features.len() > CHUNK {
        bulk_connection(pool).await?
    } else {
        pool.acquire().await?
    };
    write_features(&mut conn, features, audit, progress).await
}

/// The rows and their audit record in one transaction on `conn`.
async fn write_features(
    conn: &mut sqlx::SqliteConnection,
    features: &[Feature],
    audit: Option<&AuditRow>,
    progress: Progress<'_>,
) -> Result<(), StoreError> {
    let mut tx = sqlx::Connection::begin(conn).await?;
    let mut done = 0u64;
    for chunk in features.chunks(CHUNK) {
        insert_rows(&mut tx, chunk, OnConflict::Abort).await?;
        done += chunk.len() as u64;
        progress(done);
    }
    if let Some(a) = audit {
        super::audit::append_audit_sqlite(&mut tx, a).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// What a failed row takes with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum OnConflict {
    /// Only its own statement (SQLite's default): the transaction stays open.
    Abort,
    /// The whole transaction, at once. Then SQLite needs no statement journal to undo a
    /// multi-row INSERT half-way (5 % of a bulk import's time). Only for a connection closed
    /// when dropped: sqlx would still count the transaction as open.
    Rollback,
}

/// Inserts `features` on `conn` (in the caller's transaction), [`CHUNK`] rows a statement.
pub(super) async fn insert_rows(
    conn: &mut sqlx::SqliteConnection,
    features: &[Feature],
    on_conflict: OnConflict,
) -> Result<(), StoreError> {
    execute_rows(conn, encode_rows(features, on_conflict)?).await
}

/// One multi-row INSERT made ready to run: its text and its values. Encoding needs no
/// connection, so a bulk insert encodes the next batch on another thread while SQLite writes
/// this one ([`super::bulk`]).
pub(super) struct EncodedRows {
    sql: sqlx::SqlStr,
    args: SqliteArguments,
}

/// The INSERTs of `features`, [`CHUNK`] rows a statement.
///
/// # Errors
/// A geometry that cannot be encoded, or a value the driver refuses.
pub(super) fn encode_rows(
    features: &[Feature],
    on_conflict: OnConflict,
) -> Result<Vec<EncodedRows>, StoreError> {
    let verb = match on_conflict {
        OnConflict::Abort => "INSERT",
        OnConflict::Rollback => "INSERT OR ROLLBACK",
    };
    let mut statements = Vec::with_capacity(features.len().div_ceil(CHUNK));
    for chunk in features.chunks(CHUNK) {
        let derived: Vec<Derived> = chunk.iter().map(Derived::of).collect::<Result<_, _>>()?;
        let mut b: QueryBuilder<Sqlite> = QueryBuilder::new(verb);
        b.push(
            " INTO features (id, layer, geom, min_lon, min_lat, max_lon, max_lat, category, status, time_start, time_end, organisation, classification, properties, created_at, updated_at, created_by, version) ",
        );
        b.push_values(chunk.iter().zip(derived), |mut s, (f, d)| {
            s.push_bind(f.id)
                .push_bind(f.layer().as_str())
                .push_bind(d.wkb)
                .push_bind(d.bounds[0])
                .push_bind(d.bounds[1])
                .push_bind(d.bounds[2])
                .push_bind(d.bounds[3])
                .push_bind(d.category)
                .push_bind(d.status)
                .push_bind(d.time_start)
                .push_bind(d.time_end)
                .push_bind(f.meta.organisation.to_string())
                .push_bind(f.meta.classification.as_str())
                .push_bind(d.properties)
                .push_bind(f.meta.created_at)
                .push_bind(f.meta.updated_at)
                .push_bind(f.meta.created_by.to_string())
                .push_bind(f.meta.version);
        });
        let args = {
            let mut query = b.build();
            sqlx::Execute::take_arguments(&mut query).map_err(sqlx::Error::Encode)?
        }
        .unwrap_or_default();
        statements.push(EncodedRows {
            sql: b.into_sql(),
            args,
        });
    }
    Ok(statements)
}

/// Runs INSERTs made by [`encode_rows`] on `conn`, in order.
pub(super) async fn execute_rows(
    conn: &mut sqlx::SqliteConnection,
    statements: Vec<EncodedRows>,
) -> Result<(), StoreError> {
    for s in statements {
        sqlx::query_with(s.sql, s.args).execute(&mut *conn).await?;
    }
    Ok(())
}

/// A connection for a bulk insert: a page cache sized for it, closed (not pooled) when dropped.
///
/// # Errors
/// Database errors.
pub(super) async fn bulk_connection(
    pool: &SqlitePool,
) -> Result<sqlx::pool::PoolConnection<Sqlite>, StoreError> {
    let mut conn = pool.acquire().await?;
    // A connection with a bulk-sized cache never goes back to the pool — not after a
    // failure, nor when the caller gives up half-way: it is closed when dropped.
    conn.close_on_drop();
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "PRAGMA cache_size = -{BULK_CACHE_KIB}"
    )))
    .execute(&mut *conn)
    .await?;
    Ok(conn)
}

/// Makes a loading bulk insert's connection write the database file through a rollback journal
/// instead of the write-ahead log, when nothing else has the database open: then every page is
/// written once, where the log writes it twice (into the log, then by the checkpoint into the
/// file). A first load into an empty table journals almost nothing (SQLite keeps no undo for
/// pages past the file's old end), and is still all or nothing: a hot journal left by a crash
/// is rolled back by the next connection to open the file. `synchronous = FULL` meanwhile, as
/// SQLite advises for a rollback journal.
///
/// The pool's idle connections are closed first (they keep the database open); any other
/// connection, here or in another process (a running server), keeps SQLite in WAL mode, and
/// SQLite says so at once: then this returns `false` and the insert goes through the log as
/// before. While it holds the database alone, other processes that open it wait (the busy
/// timeout) — which is why only a command-line import asks ([`super::bulk::BulkMode::Load`]).
/// [`journal_shared`] turns the log back on.
///
/// # Errors
/// Database errors other than the database being open elsewhere.
pub(super) async fn journal_alone(
    pool: &SqlitePool,
    conn: &mut sqlx::SqliteConnection,
) -> Result<bool, StoreError> {
    while let Some(idle) = pool.try_acquire() {
        idle.close().await?;
    }
    match sqlx::query_scalar::<_, String>("PRAGMA journal_mode = DELETE")
        .fetch_one(&mut *conn)
        .await
    {
        Ok(mode) if mode.eq_ignore_ascii_case("delete") => {}
        Ok(_) => return Ok(false),
        // Another connection has the database open.
        Err(sqlx::Error::Database(e)) if is_busy(e.code().as_deref()) => return Ok(false),
        Err(e) => return Err(e.into()),
    }
    if let Err(e) = sqlx::query("PRAGMA synchronous = FULL")
        .execute(&mut *conn)
        .await
    {
        // Not alone after all: back to the log before saying why.
        let _ = journal_shared(conn).await;
        return Err(e.into());
    }
    Ok(true)
}

/// Turns the write-ahead log back on after [`journal_alone`] (every new connection would too:
/// WAL mode is in the connect options).
///
/// # Errors
/// Database errors.
pub(super) async fn journal_shared(conn: &mut sqlx::SqliteConnection) -> Result<(), StoreError> {
    sqlx::query("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL")
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Lets a writing bulk insert's index builds sort in runs written to temporary files, on
/// helper threads (see [`SORT_CACHE_KIB`]): with `temp_store = memory` SQLite sorts everything
/// in one list on the writing thread. Only for the streamed import's own connection (made by
/// [`bulk_connection`], closed after it), before its transaction: `temp_store` cannot change
/// once the connection's temporary database is in use, and other bulk inserts, which keep the
/// change log's trigger, should keep their statement journals in memory.
///
/// # Errors
/// Database errors.
pub(super) async fn sort_in_runs(conn: &mut sqlx::SqliteConnection) -> Result<(), StoreError> {
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "PRAGMA temp_store = file; PRAGMA threads = {SORT_THREADS}"
    )))
    .execute(conn)
    .await?;
    Ok(())
}

pub(super) async fn update(
    pool: &SqlitePool,
    f: &Feature,
    audit: Option<&AuditRow>,
) -> Result<bool, StoreError> {
    let d = Derived::of(f)?;
    let mut tx = pool.begin().await?;
    let r = sqlx::query(
        "UPDATE features SET geom = ?, min_lon = ?, min_lat = ?, max_lon = ?, max_lat = ?, category = ?, status = ?, \
         time_start = ?, time_end = ?, organisation = ?, classification = ?, properties = ?, updated_at = ?, version = ? \
         WHERE id = ? AND layer = ? AND version = ? AND deleted_at IS NULL",
    )
    .bind(d.wkb)
    .bind(d.bounds[0])
    .bind(d.bounds[1])
    .bind(d.bounds[2])
    .bind(d.bounds[3])
    .bind(d.category)
    .bind(d.status)
    .bind(d.time_start)
    .bind(d.time_end)
    .bind(f.meta.organisation.to_string())
    .bind(f.meta.classification.as_str())
    .bind(d.properties)
    .bind(f.meta.updated_at)
    .bind(f.meta.version)
    .bind(f.id)
    .bind(f.layer().as_str())
    .bind(f.meta.version - 1)
    .execute(&mut *tx)
    .await?;
    let done = r.rows_affected() == 1;
    if done {
        if let Some(a) = audit {
            super::audit::append_audit_sqlite(&mut tx, a).await?;
        }
        tx.commit().await?;
    }
    Ok(done)
}

pub(super) async fn delete(
    pool: &SqlitePool,
    layer: Layer,
    id: Uuid,
    version: i64,
    by: &str,
    at: OffsetDateTime,
    audit: Option<&AuditRow>,
) -> Result<bool, StoreError> {
    let mut tx = pool.begin().await?;
    let r = sqlx::query(
        "UPDATE features SET deleted_at = ?, deleted_by = ?, version = version + 1 \
         WHERE id = ? AND layer = ? AND version = ? AND deleted_at IS NULL",
    )
    .bind(at)
    .bind(by)
    .bind(id)
    .bind(layer.as_str())
    .bind(version)
    .execute(&mut *tx)
    .await?;
    let done = r.rows_affected() == 1;
    if done {
        if let Some(a) = audit {
            super::audit::append_audit_sqlite(&mut tx, a).await?;
        }
        tx.commit().await?;
    }
    Ok(done)
}

pub(super) async fn count(pool: &SqlitePool, layer: Layer) -> Result<i64, StoreError> {
    Ok(
        sqlx::query_scalar(// The partial index answers without reading the table.
        "SELECT count(*) FROM features INDEXED BY features_live_layer WHERE layer = ? AND deleted_at IS NULL")
            .bind(layer.as_str())
            .fetch_one(pool)
            .await?,
    )
}
