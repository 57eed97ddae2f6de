//! Keeping SQLite's write-ahead log small under sustained load (issue 17, item 5).
//!
//! SQLite's automatic checkpoint is PASSIVE: it copies what it can into the database file but
//! never waits for readers, and the log is only rewound when no reader still uses it. Under a
//! steady stream of overlapping reads (token look-ups while audited reads are committed) that
//! moment never comes, and the log grew to 2.9 GB. Here a background task watches the log's
//! size and, past half the limit, runs a TRUNCATE checkpoint: it waits (through the busy
//! timeout) for the readers that started before it — short, as every read here is — while new
//! readers find the log fully copied and read the database file alone, so readers cannot starve
//! it. The log is then cut to zero bytes. `journal_size_limit` (set on every connection) is the
//! second line: whenever SQLite rewinds the log on its own, it cuts the file to the limit.

use std::path::PathBuf;
use std::time::Duration;

use sqlx::{ConnectOptions, Connection, SqliteConnection, SqlitePool};

use super::StoreError;

/// The default ceiling on the write-ahead log, in bytes (64 MiB).
pub const DEFAULT_WAL_LIMIT: u64 = 64 * 1024 * 1024;

/// How often the log's size is looked at (a `stat`, nothing more). At the fastest audited load
/// measured here the log grows by well under a megabyte in this time.
const WATCH_EVERY: Duration = Duration::from_millis(50);

/// The longest the checkpoint waits for a reader to finish (holding the write lock meanwhile).
const PATIENCE: Duration = Duration::from_millis(250);
/// How long writers are left alone after a checkpoint that could not finish.
const BACK_OFF: Duration = Duration::from_secs(1);

/// What a TRUNCATE checkpoint did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Checkpoint {
    /// The log's size before, in bytes.
    pub before: u64,
    /// The log's size after, in bytes (0 when it was cut).
    pub after: u64,
    /// Whether a reader or writer kept it from finishing (the log is then left as it was and
    /// tried again at the next look).
    pub busy: bool,
}

/// The write-ahead log file of the database `pool` opens.
fn wal_path(pool: &SqlitePool) -> PathBuf {
    let mut path = pool.connect_options().get_filename().as_os_str().to_owned();
    path.push("-wal");
    PathBuf::from(path)
}

/// The log's size in bytes (0 when there is none).
#[must_use]
pub fn wal_size(pool: &SqlitePool) -> u64 {
    std::fs::metadata(wal_path(pool)).map_or(0, |m| m.len())
}

/// Checkpoints and cuts the log of `pool`'s database, through `conn`, when it is larger than
/// `threshold` bytes; `None` when it was not.
///
/// # Errors
/// Database errors.
pub async fn truncate_if_over(
    pool: &SqlitePool,
    conn: &mut SqliteConnection,
    threshold: u64,
) -> Result<Option<Checkpoint>, StoreError> {
    let before = wal_size(pool);
    if before <= threshold {
        return Ok(None);
    }
    let (busy, _, _): (i64, i64, i64) = sqlx::query_as("PRAGMA wal_checkpoint(TRUNCATE)")
        .fetch_one(&mut *conn)
        .await?;
    Ok(Some(Checkpoint {
        before,
        after: wal_size(pool),
        busy: busy != 0,
    }))
}

/// Watches the log of `pool` until the pool is closed, keeping it under `limit` bytes.
///
/// The checkpoint runs on a connection of its own that waits at most [`PATIENCE`] for a reader:
/// while it waits it holds the write lock, so a long reader in another process (an export)
/// must cost writers a moment, never the pool's 10-second busy timeout. After a busy attempt it
/// leaves the writers be for [`BACK_OFF`].
pub fn spawn_bound(pool: SqlitePool, limit: u64) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let options = (*pool.connect_options()).clone().busy_timeout(PATIENCE);
        let mut tick = tokio::time::interval(WATCH_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        while !pool.is_closed() {
            tick.tick().await;
            if wal_size(&pool) <= limit / 2 {
                continue;
            }
            // Opened for each checkpoint (they are rare) and closed at once, so it never keeps
            // the database open after the pool has closed.
            let mut conn = match options.connect().await {
                Ok(c) => c,
                Err(e) => {
                    tracing::warn!("cannot open a connection to checkpoint the log: {e}");
                    tokio::time::sleep(BACK_OFF).await;
                    continue;
                }
            };
            let done = truncate_if_over(&pool, &mut conn, limit / 2).await;
            let _ = conn.close().await;
            match done {
                Ok(Some(c)) if c.busy => {
                    tracing::debug!(
                        wal_bytes = c.before,
                        "the write-ahead log could not be checkpointed yet (a reader); trying again"
                    );
                    tokio::time::sleep(BACK_OFF).await;
                }
                Ok(Some(c)) => tracing::debug!(
                    before = c.before,
                    after = c.after,
                    "write-ahead log checkpointed"
                ),
                Ok(None) => {}
                Err(e) => {
                    // Busy past the patience: the writers go first.
                    tracing::debug!("write-ahead log checkpoint not done: {e}");
                    tokio::time::sleep(BACK_OFF).await;
                }
            }
        }
    })
}
