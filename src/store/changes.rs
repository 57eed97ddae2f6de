//! The change log: which feature rows changed, in commit order, written by triggers in the
//! same transaction as the change (migration `20261202000005_changes`), whoever wrote it.
//!
//! SQLite only for now: it has one writer at a time, so the log's sequence is the commit
//! order. On PostGIS a sequence number is drawn before commit, so a later number can commit
//! first; following the log there needs commit-ordered reading (issue 14), and until then the
//! PostGIS back-end has no log and always loads the whole picture.

use sqlx::SqlitePool;
use uuid::Uuid;

use super::{Store, StoreError};
use crate::domain::Layer;

/// Where the log stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogPosition {
    /// Which database this is (random, made by the migration).
    pub identity: [u8; 16],
    /// The last sequence number handed out (0 before the first change).
    pub last: i64,
    /// How many entries the log holds after `since`, when asked.
    pub held_after: i64,
}

/// One entry: the feature that changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Changed {
    /// Its place in the log.
    pub seq: i64,
    /// The feature.
    pub id: Uuid,
    /// Its layer.
    pub layer: Layer,
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

impl Store {
    /// Where the change log stands, counting the entries after `since`; `None` on PostGIS
    /// (no log yet, see the module).
    ///
    /// # Errors
    /// Database errors.
    pub async fn log_position(&self, since: i64) -> Result<Option<LogPosition>, StoreError> {
        match self {
            Store::Sqlite(p) => Ok(Some(position(p, since).await?)),
            Store::Postgres(_) => Ok(None),
        }
    }

    /// The log's entries after `since`, oldest first, at most `limit` of them.
    ///
    /// # Errors
    /// Database errors; an entry naming no known layer.
    pub async fn changes_after(&self, since: i64, limit: i64) -> Result<Vec<Changed>, StoreError> {
        let Store::Sqlite(p) = self else {
            return Ok(Vec::new());
        };
        let rows: Vec<(i64, Uuid, String)> =
            sqlx::query_as("SELECT seq, id, layer FROM changes WHERE seq > ? ORDER BY seq LIMIT ?")
                .bind(since)
                .bind(limit)
                .fetch_all(p)
                .await?;
        rows.into_iter()
            .map(|(seq, id, layer)| {
                Ok(Changed {
                    seq,
                    id,
                    layer: layer
                        .parse()
                        .map_err(|e| StoreError::Corrupt(format!("change {seq}: {e}")))?,
                })
            })
            .collect()
    }

    /// Forgets the entries up to and including `seq` (a snapshot holds them).
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
}
