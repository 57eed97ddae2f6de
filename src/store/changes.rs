//! The change log: which feature rows changed, written by triggers in the same transaction as
//! the change (migrations `…_changes`), whoever wrote it.
//!
//! - **SQLite** has one writer at a time, so the log's sequence is the commit order: a reader
//!   takes the entries after the last sequence number it applied.
//! - **PostGIS** draws sequence numbers before commit, so a later number can commit first. Each
//!   entry also holds its transaction's id (xid), and a reader's position is a pair (xid, seq):
//!   entries of transactions older than the oldest one still running (the snapshot's `xmin`)
//!   can no longer appear, so the position moves past them for good ("settled"). Entries of
//!   newer transactions that have already committed are handed out too ("unsettled"), so one
//!   long transaction (an import) does not hold back everyone else's changes; they come again
//!   once settled, and applying one twice is harmless.

use sqlx::{PgPool, SqlitePool};
use uuid::Uuid;

use super::{Store, StoreError};
use crate::domain::Layer;

/// Where the log stands (SQLite, for the index snapshot).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogPosition {
    /// Which database this is (random, made by the migration).
    pub identity: [u8; 16],
    /// The last sequence number handed out (0 before the first change).
    pub last: i64,
    /// How many entries the log holds after `since`, when asked.
    pub held_after: i64,
}

/// A reader's position in the log: every entry at or before it has been applied. On SQLite
/// `xid` is always 0; positions order as (xid, seq).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, Hash, serde::Serialize)]
pub struct LogCursor {
    /// The writing transaction's id (PostGIS).
    pub xid: i64,
    /// The entry's sequence number.
    pub seq: i64,
}

/// The id an entry names when the rows changed wholesale rather than one by one: a first load
/// into an empty table logs this once instead of every row (on PostGIS a million per-row
/// entries cost 1.7 s of a 9 s import), and a reader reads its whole picture again — which,
/// for a million new rows, is also faster than fetching them by id.
pub const WHOLESALE: Uuid = Uuid::nil();

/// One entry: the feature that changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Changed {
    /// Its place in the log.
    pub at: LogCursor,
    /// The feature.
    pub id: Uuid,
    /// Its layer.
    pub layer: Layer,
}

impl Changed {
    /// Whether this entry says the rows changed wholesale ([`WHOLESALE`]): the picture is to
    /// be read again whole.
    #[must_use]
    pub fn is_wholesale(&self) -> bool {
        self.id == WHOLESALE
    }
}

/// What the log holds after a position.
#[derive(Debug, Clone, Default)]
pub struct ChangePage {
    /// Settled entries after the position, oldest first.
    pub entries: Vec<Changed>,
    /// Where a reader stands once it has applied `entries` (past the last of them, or the
    /// horizon when the page was not full).
    pub settled: LogCursor,
    /// Committed entries beyond the horizon (PostGIS): apply them now; they come again in
    /// `entries` once settled.
    pub unsettled: Vec<Changed>,
    /// Entries after the position were pruned before this reader applied them: the log cannot
    /// bring its picture up to date.
    pub pruned: bool,
}

type EntryRow = (i64, i64, Uuid, String);

fn entries(rows: Vec<EntryRow>) -> Result<Vec<Changed>, StoreError> {
    rows.into_iter()
        .map(|(xid, seq, id, layer)| {
            Ok(Changed {
                at: LogCursor { xid, seq },
                id,
                layer: layer
                    .parse()
                    .map_err(|e| StoreError::Corrupt(format!("change {seq}: {e}")))?,
            })
        })
        .collect()
}

async fn position(pool: &SqlitePool, since: i64) -> Result<LogPosition, StoreError> {
    let mut tx = pool.begin().await?;
    let identity: Vec<u8> = sqlx::query_scalar("SELECT id FROM store_identity LIMIT 1")
        .fetch_one(&mut *tx)
        .await?;
    let last: Option<i64> =
        sqlx::query_scalar("SELECT seq FROM sqlite_sequence WHERE name = 'changes'")
            .fetch_optional(&mut *tx)
            .await?;
    let held_after: i64 = sqlx::query_scalar("SELECT count(*) FROM changes WHERE seq > ?")
        .bind(since)
        .fetch_one(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(LogPosition {
        identity: identity
            .try_into()
            .map_err(|_| StoreError::Corrupt("store_identity is not 16 bytes".into()))?,
        last: last.unwrap_or(0),
        held_after,
    })
}

async fn sqlite_page(
    pool: &SqlitePool,
    after: LogCursor,
    limit: i64,
) -> Result<ChangePage, StoreError> {
    // One read transaction: the entries and the last number handed out agree.
    let mut tx = pool.begin().await?;
    let rows: Vec<EntryRow> =
        sqlx::query_as("SELECT 0, seq, id, layer FROM changes WHERE seq > ? ORDER BY seq LIMIT ?")
            .bind(after.seq)
            .bind(limit)
            .fetch_all(&mut *tx)
            .await?;
    let last: Option<i64> =
        sqlx::query_scalar("SELECT seq FROM sqlite_sequence WHERE name = 'changes'")
            .fetch_optional(&mut *tx)
            .await?;
    tx.commit().await?;
    let entries = entries(rows)?;
    // One writer at a time and no rolled-back numbers: the next entry is always seq + 1,
    // unless it was pruned — and when none is left, the last number handed out says whether
    // any came after.
    let pruned = match entries.first() {
        Some(c) => c.at.seq != after.seq + 1,
        None => last.unwrap_or(0) > after.seq,
    };
    let settled = entries.last().map_or(after, |c| c.at);
    Ok(ChangePage {
        entries,
        settled,
        unsettled: Vec::new(),
        pruned,
    })
}

/// Unsettled entries handed out at most per page: beyond that many commits behind one long
/// transaction, later ones wait for it to end.
const UNSETTLED_PAGE: i64 = 10_000;

/// The oldest transaction still running (every older one has committed or rolled back).
const HORIZON: &str = "SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint";

async fn postgres_page(
    pool: &PgPool,
    after: LogCursor,
    limit: i64,
) -> Result<ChangePage, StoreError> {
    let horizon: i64 = sqlx::query_scalar(HORIZON).fetch_one(pool).await?;
    // Read after the horizon: every entry below it is visible to this statement.
    let rows: Vec<EntryRow> = sqlx::query_as(
        "SELECT xid, seq, id, layer FROM changes
         WHERE (xid, seq) > ($1, $2) AND xid < $3 ORDER BY xid, seq LIMIT $4",
    )
    .bind(after.xid)
    .bind(after.seq)
    .bind(horizon)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    let entries = entries(rows)?;
    // Read after the entries: a prune between the two is seen (at worst one that came after
    // the read is taken for one before it, and the picture is read again for nothing).
    let (pxid, pseq): (i64, i64) = sqlx::query_as("SELECT xid, seq FROM changes_pruned")
        .fetch_one(pool)
        .await?;
    let pruned = LogCursor {
        xid: pxid,
        seq: pseq,
    } > after;
    let full = i64::try_from(entries.len()).unwrap_or(i64::MAX) >= limit;
    let (settled, unsettled) = if full {
        (entries.last().map_or(after, |c| c.at), Vec::new())
    } else {
        let ahead: Vec<EntryRow> = sqlx::query_as(
            "SELECT xid, seq, id, layer FROM changes
             WHERE xid >= $1 AND (xid, seq) > ($2, $3) ORDER BY xid, seq LIMIT $4",
        )
        .bind(horizon)
        .bind(after.xid)
        .bind(after.seq)
        .bind(UNSETTLED_PAGE)
        .fetch_all(pool)
        .await?;
        let horizon = LogCursor {
            xid: horizon,
            seq: 0,
        };
        (horizon.max(after), super::changes::entries(ahead)?)
    };
    Ok(ChangePage {
        entries,
        settled,
        unsettled,
        pruned,
    })
}

impl Store {
    /// Where the change log stands, counting the entries after `since` (SQLite, whose index
    /// snapshot is checked against it); `None` on PostGIS.
    ///
    /// # Errors
    /// Database errors.
    pub async fn log_position(&self, since: i64) -> Result<Option<LogPosition>, StoreError> {
        match self {
            Store::Sqlite(p) => Ok(Some(position(p, since).await?)),
            Store::Postgres(_) => Ok(None),
        }
    }

    /// The position to follow the log from when the whole table is read next: every change
    /// at or before it is in that read; later ones may be too (applying them again is
    /// harmless).
    ///
    /// # Errors
    /// Database errors.
    pub async fn log_start(&self) -> Result<LogCursor, StoreError> {
        match self {
            Store::Sqlite(p) => Ok(LogCursor {
                xid: 0,
                seq: position(p, i64::MAX).await?.last,
            }),
            Store::Postgres(p) => Ok(LogCursor {
                xid: sqlx::query_scalar(HORIZON).fetch_one(p).await?,
                seq: 0,
            }),
        }
    }

    /// The log after `after`: at most `limit` settled entries, and the committed ones beyond
    /// the horizon (see the module).
    ///
    /// # Errors
    /// Database errors; an entry naming no known layer.
    pub async fn changes_after(
        &self,
        after: LogCursor,
        limit: i64,
    ) -> Result<ChangePage, StoreError> {
        match self {
            Store::Sqlite(p) => sqlite_page(p, after, limit).await,
            Store::Postgres(p) => postgres_page(p, after, limit).await,
        }
    }

    /// Forgets the entries up to and including `seq` (SQLite: a snapshot holds them, or no
    /// one will read them).
    ///
    /// # Errors
    /// Database errors.
    pub async fn prune_changes_through(&self, seq: i64) -> Result<u64, StoreError> {
        let Store::Sqlite(p) = self else {
            return Ok(0);
        };
        Ok(sqlx::query("DELETE FROM changes WHERE seq <= ?")
            .bind(seq)
            .execute(p)
            .await?
            .rows_affected())
    }

    /// Forgets the settled entries older than `keep` (PostGIS, where several instances read
    /// the log and none knows how far the others are): an instance that had not applied them
    /// is told by [`ChangePage::pruned`] and reloads its picture. Returns how many went.
    ///
    /// # Errors
    /// Database errors.
    pub async fn prune_changes_older_than(&self, keep: time::Duration) -> Result<u64, StoreError> {
        let Store::Postgres(p) = self else {
            return Ok(0);
        };
        let mut tx = p.begin().await?;
        let horizon: i64 = sqlx::query_scalar(HORIZON).fetch_one(&mut *tx).await?;
        let cutoff = time::OffsetDateTime::now_utc() - keep;
        // The last entry going, so the marker says exactly how far pruning reached.
        let last: Option<(i64, i64)> = sqlx::query_as(
            "SELECT xid, seq FROM changes WHERE at < $1 AND xid < $2 ORDER BY xid DESC, seq DESC LIMIT 1",
        )
        .bind(cutoff)
        .bind(horizon)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((xid, seq)) = last else {
            return Ok(0);
        };
        let gone = sqlx::query("DELETE FROM changes WHERE (xid, seq) <= ($1, $2)")
            .bind(xid)
            .bind(seq)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        sqlx::query("UPDATE changes_pruned SET xid = $1, seq = $2 WHERE (xid, seq) < ($1, $2)")
            .bind(xid)
            .bind(seq)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(gone)
    }
}

/// The channel instances listen on for a wake-up on PostGIS ([`Store::signal_changes`]).
const CHANNEL: &str = "lagesbild_changes";

/// A wake-up when the log may hold something new: PostgreSQL's `LISTEN` on PostGIS (the
/// notification only says "look"; the log says what), nothing on SQLite (its log is polled).
pub struct ChangeSignal(Option<sqlx::postgres::PgListener>);

/// Why [`ChangeSignal::wait`] returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Woken {
    /// A notification came.
    Notified,
    /// The connection was lost and is made again: notifications in between are lost, so
    /// look now.
    Reconnected,
    /// The time ran out (or there is nothing to listen to).
    TimedOut,
}

impl ChangeSignal {
    /// Waits at most `timeout` for a wake-up.
    ///
    /// # Errors
    /// The listening connection cannot be made again (the caller goes on polling; a closed
    /// store ends the wait too).
    pub async fn wait(&mut self, timeout: std::time::Duration) -> Result<Woken, StoreError> {
        let Some(listener) = &mut self.0 else {
            tokio::time::sleep(timeout).await;
            return Ok(Woken::TimedOut);
        };
        match tokio::time::timeout(timeout, listener.try_recv()).await {
            Err(_) => Ok(Woken::TimedOut),
            Ok(Ok(Some(_))) => {
                // A burst of commits is one look: take every notification already here.
                while let Ok(Ok(Some(_))) =
                    tokio::time::timeout(std::time::Duration::ZERO, listener.try_recv()).await
                {
                }
                Ok(Woken::Notified)
            }
            Ok(Ok(None)) => Ok(Woken::Reconnected),
            Ok(Err(e)) => Err(e.into()),
        }
    }

    /// Whether this signal listens (PostGIS) rather than only waiting (SQLite).
    #[must_use]
    pub fn listens(&self) -> bool {
        self.0.is_some()
    }
}

impl Store {
    /// Wakes every instance listening on the database (PostGIS; nothing on SQLite, whose log
    /// is polled): one `NOTIFY` in a transaction of its own, after the writes it announces
    /// have committed, so no writer's commit waits for the notification queue's lock.
    ///
    /// # Errors
    /// The database cannot be reached.
    pub async fn signal_changes(&self) -> Result<(), StoreError> {
        if let Store::Postgres(p) = self {
            sqlx::query("SELECT pg_notify($1, '')")
                .bind(CHANNEL)
                .execute(p)
                .await?;
        }
        Ok(())
    }

    /// A wake-up for changes to the log (see [`ChangeSignal`]).
    ///
    /// # Errors
    /// The listening connection cannot be made.
    pub async fn change_signal(&self) -> Result<ChangeSignal, StoreError> {
        match self {
            Store::Sqlite(_) => Ok(ChangeSignal(None)),
            Store::Postgres(p) => {
                let mut listener = sqlx::postgres::PgListener::connect_with(p).await?;
                listener.listen(CHANNEL).await?;
                Ok(ChangeSignal(Some(listener)))
            }
        }
    }
}
