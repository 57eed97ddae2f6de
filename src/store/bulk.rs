//! A bulk insert fed as a stream: batches of new features written as they arrive, in one
//! transaction that commits only when the sender finishes it — all or nothing, with memory
//! bounded by the batches in flight rather than by the file (issue 17). SQLite takes
//! multi-row INSERTs on a connection with a bulk-sized page cache; PostGIS takes binary `COPY`.
//!
//! Every batch's ids chosen by the file are first looked up in the same transaction: once one
//! is taken, nothing more is written (the transaction will be rolled back), but the rest are
//! still looked up so the report can count them all.

use tokio::sync::mpsc;
use uuid::Uuid;

use super::audit::AuditRow;
use super::{Progress, Store, StoreError};
use crate::domain::Feature;

/// What the sender of a bulk insert says.
#[derive(Debug)]
pub enum BulkMessage {
    /// New features, and which of their ids the source chose (to be checked as free).
    Batch {
        /// The features.
        features: Vec<Feature>,
        /// Ids the source chose (not the ones just given).
        chosen: Vec<Uuid>,
    },
    /// Commit, with this audit record, if every batch was written; the channel closing
    /// without it rolls back.
    Commit(Option<AuditRow>),
}

/// What a bulk insert did.
#[derive(Debug, Default)]
pub struct BulkOutcome {
    /// Rows written (in the transaction; stored only if `committed`).
    pub written: u64,
    /// Chosen ids that exist already (live, or deleted and kept).
    pub taken: Vec<Uuid>,
    /// Whether the transaction committed.
    pub committed: bool,
}

/// Whether a bulk insert writes, or only checks (a dry run).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BulkMode {
    /// Write the rows, commit at [`BulkMessage::Commit`].
    Write,
    /// Look up the chosen ids only.
    Check,
}

impl Store {
    /// Runs a bulk insert fed by `batches` (see the module's documentation). `progress` gets
    /// the number of rows written so far.
    ///
    /// # Errors
    /// Database errors (a duplicate id within the stream is a unique violation); then nothing
    /// is stored, and `batches` is dropped, which the sender sees as a closed channel.
    pub async fn insert_stream(
        &self,
        mut batches: mpsc::Receiver<BulkMessage>,
        mode: BulkMode,
        progress: Progress<'_>,
    ) -> Result<BulkOutcome, StoreError> {
        let mut outcome = BulkOutcome::default();
        match self {
            Store::Sqlite(pool) => {
                let mut conn = super::sqlite::bulk_connection(pool).await?;
                let mut tx = sqlx::Connection::begin(&mut *conn).await?;
                while let Some(message) = batches.recv().await {
                    match message {
                        BulkMessage::Batch { features, chosen } => {
                            outcome.taken.extend(sqlite_taken(&mut tx, &chosen).await?);
                            if mode == BulkMode::Write && outcome.taken.is_empty() {
                                super::sqlite::insert_rows(&mut tx, &features).await?;
                                outcome.written += features.len() as u64;
                                progress(outcome.written);
                            }
                        }
                        BulkMessage::Commit(audit) => {
                            if mode == BulkMode::Write && outcome.taken.is_empty() {
                                if let Some(a) = audit {
                                    super::audit::append_audit_sqlite(&mut tx, &a).await?;
                                }
                                tx.commit().await?;
                                outcome.committed = true;
                            }
                            break;
                        }
                    }
                }
            }
            Store::Postgres(pool) => {
                let mut tx = pool.begin().await?;
                while let Some(message) = batches.recv().await {
                    match message {
                        BulkMessage::Batch { features, chosen } => {
                            if !chosen.is_empty() {
                                let found: Vec<Uuid> = sqlx::query_scalar(
                                    "SELECT id FROM features WHERE id = ANY($1)",
                                )
                                .bind(&chosen)
                                .fetch_all(&mut *tx)
                                .await?;
                                outcome.taken.extend(found);
                            }
                            if mode == BulkMode::Write && outcome.taken.is_empty() {
                                outcome.written +=
                                    super::pgcopy::copy_rows(&mut tx, &features).await?;
                                progress(outcome.written);
                            }
                        }
                        BulkMessage::Commit(audit) => {
                            if mode == BulkMode::Write && outcome.taken.is_empty() {
                                if let Some(a) = audit {
                                    super::audit::append_audit_pg(&mut tx, &a).await?;
                                }
                                tx.commit().await?;
                                outcome.committed = true;
                            }
                            break;
                        }
                    }
                }
            }
        }
        Ok(outcome)
    }
}

/// Which of `ids` are taken, asked in the transaction (SQLite allows 32 766 variables).
async fn sqlite_taken(
    conn: &mut sqlx::SqliteConnection,
    ids: &[Uuid],
) -> Result<Vec<Uuid>, StoreError> {
    let mut taken = Vec::new();
    for chunk in ids.chunks(10_000) {
        let mut b =
            sqlx::QueryBuilder::<sqlx::Sqlite>::new("SELECT id FROM features WHERE id IN (");
        let mut list = b.separated(", ");
        for id in chunk {
            list.push_bind(*id);
        }
        b.push(")");
        let found: Vec<Uuid> = b.build_query_scalar().fetch_all(&mut *conn).await?;
        taken.extend(found);
    }
    Ok(taken)
}
