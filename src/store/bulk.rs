//! A bulk insert fed as a stream: batches of new features written as they arrive, in one
//! transaction that commits only when the sender finishes it — all or nothing, with memory
//! bounded by the batches in flight rather than by the file (issue 17). SQLite takes
//! multi-row INSERTs on a connection with a bulk-sized page cache; PostGIS takes binary `COPY`.
//!
//! Each batch is encoded for the database (SQL values, `COPY` data) on its own thread while the
//! previous one is written ([`Encoder`]).
//!
//! Every batch's ids chosen by the file are first looked up in the same transaction: once one
//! is taken, nothing more is written (the transaction will be rolled back), but the rest are
//! still looked up so the report can count them all.
//!
//! Into an empty table (a first load), the secondary indexes are set aside in the same
//! transaction and built again over all rows before the commit: one sorted build instead of a
//! million inserts at random places (PostGIS's GiST most of all). The ids' key is set aside
//! too — PostGIS's primary key (its B-tree on random UUIDs cost a third of a first load), and
//! SQLite's unique index on `id` (a million-row first load 1 s faster); a first load's ids can
//! only collide among themselves, which the reader finds, and the key's rebuild would refuse
//! any it missed. Meanwhile the chosen ids are not looked up (nothing can be taken). Their
//! definitions are read from the catalogue, so they come back exactly as the migrations made
//! them, and a rollback brings them back untouched. On PostGIS
//! this holds the table's exclusive lock until the commit, so other sessions wait for a first
//! load rather than reading it half-done.
//!
//! On SQLite, every writing bulk insert also sets aside the trigger that logs each inserted
//! row in `changes` (a trigger program per row, a quarter of SQLite's time) and logs all the
//! new rows in one statement before the commit, in the order they were inserted. It holds
//! SQLite's write lock from its first statement, so no other writer's row can come between:
//! the rows it logs are exactly the rows it wrote, in the same transaction as before.
//!
//! A command-line import ([`BulkMode::Load`]) that finds nothing else holding an SQLite
//! database open writes it through a rollback journal instead of the write-ahead log, and turns
//! the log back on after: each page is written once rather than twice (a million-row first load
//! spent over a second checkpointing its log into the file). See `sqlite::journal_alone`.

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
    /// Whether it had the database to itself ([`BulkMode::Load`] on SQLite with no other
    /// connection), writing it through a rollback journal.
    pub alone: bool,
}

/// Whether a bulk insert writes, or only checks (a dry run).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BulkMode {
    /// Write the rows, commit at [`BulkMessage::Commit`].
    Write,
    /// As [`BulkMode::Write`], and on SQLite hold the database alone when nothing else has it
    /// open, writing it through a rollback journal rather than the write-ahead log (each page
    /// once, not twice). Meanwhile other processes that open the database wait for the commit,
    /// so only a command-line import, whose process does nothing else, asks for it.
    Load,
    /// Look up the chosen ids only.
    Check,
}

impl BulkMode {
    /// Whether the rows are written (not a dry run).
    #[must_use]
    pub fn writes(self) -> bool {
        !matches!(self, BulkMode::Check)
    }
}

impl Store {
    /// How many rows a bulk insert is best fed per batch. PostGIS ends a `COPY` statement per
    /// batch, and each end is a hand-off — the writer waits for the server, then the server for
    /// the writer's next statement — that waits on a busy scheduler while the reader and the
    /// encoder run: 200 of them were 1.5–2 s of a million-row first load on 2 cores (7.6–8.0 s
    /// at 5 000 rows, 5.8–6.0 s at 20 000, no better at 100 000). SQLite has no such hand-off,
    /// and larger batches only hold more rows in memory (peak 366 → 470 MB at 20 000).
    #[must_use]
    pub fn bulk_batch_rows(&self) -> usize {
        match self {
            Store::Sqlite(_) => 5_000,
            Store::Postgres(_) => 20_000,
        }
    }

    /// Runs a bulk insert fed by `batches` (see the module's documentation). `progress` gets
    /// the number of rows written so far.
    ///
    /// # Errors
    /// Database errors (a duplicate id within the stream is a unique violation), a batch that
    /// cannot be encoded, the encoding thread's failure; then nothing is stored, and the sender
    /// finds `batches` closed at its next batch or commit (the encoding thread, one batch
    /// ahead, drops it when it next has something to hand on).
    pub async fn insert_stream(
        &self,
        batches: mpsc::Receiver<BulkMessage>,
        mode: BulkMode,
        progress: Progress<'_>,
    ) -> Result<BulkOutcome, StoreError> {
        let mut outcome = BulkOutcome::default();
        match self {
            Store::Sqlite(pool) => {
                let mut conn = super::sqlite::bulk_connection(pool).await?;
                if mode.writes() {
                    super::sqlite::sort_in_runs(&mut conn).await?;
                }
                if mode == BulkMode::Load {
                    outcome.alone = super::sqlite::journal_alone(pool, &mut conn).await?;
                }
                let written = sqlite_stream(&mut conn, batches, mode, progress, &mut outcome).await;
                if outcome.alone {
                    // After a commit or a rollback alike (a failed statement's transaction is
                    // rolled back before this runs).
                    let shared = super::sqlite::journal_shared(&mut conn).await;
                    if let Err(e) = &shared {
                        tracing::warn!(
                            "the write-ahead log was not turned back on after the import ({e}); the next connection turns it on"
                        );
                    }
                }
                // Closed here and now, not in the background when dropped: the database is no
                // longer held open once this returns (its pragmas never reach the pool either).
                if let Err(e) = conn.close().await {
                    tracing::debug!("the import's connection did not close cleanly: {e}");
                }
                written?;
            }
            Store::Postgres(pool) => {
                let mut tx = pool.begin().await?;
                let aside = if mode.writes() {
                    pg_set_aside(&mut tx).await?
                } else {
                    Aside::default()
                };
                let mut encoder = Encoder::start(batches, mode, super::pgcopy::encode);
                while let Some(message) = encoder.next().await? {
                    match message {
                        Ready::Batch {
                            rows,
                            count,
                            chosen,
                        } => {
                            // Without the key, a lookup would read the whole table; and with
                            // it set aside, nothing can be taken (see `Aside::key`).
                            if !chosen.is_empty() && !aside.key {
                                let found: Vec<Uuid> = sqlx::query_scalar(
                                    "SELECT id FROM features WHERE id = ANY($1)",
                                )
                                .bind(&chosen)
                                .fetch_all(&mut *tx)
                                .await?;
                                outcome.taken.extend(found);
                            }
                            if let Some(rows) = rows.filter(|_| outcome.taken.is_empty()) {
                                let copied = super::pgcopy::copy_encoded(&mut tx, &rows?).await?;
                                debug_assert_eq!(copied, count);
                                outcome.written += copied;
                                progress(outcome.written);
                            }
                        }
                        Ready::Commit(audit) => {
                            if mode.writes() && outcome.taken.is_empty() {
                                for sql in &aside.restore {
                                    sqlx::query(sqlx::AssertSqlSafe(sql.clone()))
                                        .execute(&mut *tx)
                                        .await?;
                                }
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

/// The SQLite side of [`Store::insert_stream`], on its connection.
async fn sqlite_stream(
    conn: &mut sqlx::SqliteConnection,
    batches: mpsc::Receiver<BulkMessage>,
    mode: BulkMode,
    progress: Progress<'_>,
    outcome: &mut BulkOutcome,
) -> Result<(), StoreError> {
    // A writing import takes SQLite's write lock at once (waiting up to the busy timeout): a
    // transaction that began by reading could not write after a running server's next commit
    // (SQLITE_BUSY_SNAPSHOT).
    let mut tx = if mode.writes() {
        sqlx::Connection::begin_with(&mut *conn, "BEGIN IMMEDIATE").await?
    } else {
        sqlx::Connection::begin(&mut *conn).await?
    };
    let aside = if mode.writes() {
        sqlite_set_aside(&mut tx).await?
    } else {
        Aside::default()
    };
    if mode.writes() {
        checks_of_typed_values(&mut tx, false).await?;
    }
    let mut encoder = Encoder::start(batches, mode, |features| {
        super::sqlite::encode_rows(features, super::sqlite::OnConflict::Rollback)
    });
    while let Some(message) = encoder.next().await? {
        match message {
            Ready::Batch {
                rows,
                count,
                chosen,
            } => {
                // As on PostGIS: with the key set aside nothing can be taken, and a lookup
                // would read the whole table.
                if !aside.key {
                    outcome.taken.extend(sqlite_taken(&mut tx, &chosen).await?);
                }
                if let Some(rows) = rows.filter(|_| outcome.taken.is_empty()) {
                    super::sqlite::execute_rows(&mut tx, rows?).await?;
                    outcome.written += count;
                    progress(outcome.written);
                }
            }
            Ready::Commit(audit) => {
                if mode.writes() && outcome.taken.is_empty() {
                    checks_of_typed_values(&mut tx, true).await?;
                    for sql in &aside.restore {
                        sqlx::query(sqlx::AssertSqlSafe(sql.clone()))
                            .execute(&mut *tx)
                            .await?;
                    }
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
    Ok(())
}

/// Turns SQLite's CHECK constraints off (`on = false`) while a writing bulk insert writes its
/// rows, and back on for what follows (the audit record). Its rows are typed features: the
/// checked columns hold a layer's and a classification's names and a version, written from
/// their Rust types, so the constraints cannot fail there — and each row paid for them, as
/// SQLite looks each `IN (…)` list up in a small index (a fifth of its time in a first load).
/// The pragma expires the connection's compiled statements, so each is compiled again under
/// the setting in force.
async fn checks_of_typed_values(
    conn: &mut sqlx::SqliteConnection,
    on: bool,
) -> Result<(), StoreError> {
    let sql = if on {
        "PRAGMA ignore_check_constraints = OFF"
    } else {
        "PRAGMA ignore_check_constraints = ON"
    };
    sqlx::query(sql).execute(&mut *conn).await?;
    Ok(())
}

/// A batch made ready for the database by [`Encoder`].
enum Ready<T> {
    /// A batch: its rows encoded, or why they could not be (`None` in a dry run, or when it
    /// had none); how many; and the ids to look up. An encoding error counts only if the batch
    /// is written: once an id is taken, the report of taken ids is the answer.
    Batch {
        rows: Option<Result<T, StoreError>>,
        count: u64,
        chosen: Vec<Uuid>,
    },
    /// As [`BulkMessage::Commit`] (boxed: a record is much larger than a batch's handles).
    Commit(Option<Box<AuditRow>>),
}

/// Encodes each batch of a bulk insert on a blocking thread, one batch ahead of the database:
/// the rows of batch n+1 are turned into SQL values or `COPY` data while batch n is written (on
/// a million-row import that encoding was 2 s of the writer's own time). When the writer stops
/// listening, the thread stops at the next batch and drops the sender's channel, which the
/// sender then sees closed.
struct Encoder<T> {
    ready: mpsc::Receiver<Ready<T>>,
    thread: tokio::task::JoinHandle<()>,
}

impl<T: Send + 'static> Encoder<T> {
    /// Starts encoding `batches` with `encode` (only when `mode` writes).
    fn start(
        mut batches: mpsc::Receiver<BulkMessage>,
        mode: BulkMode,
        encode: fn(&[Feature]) -> Result<T, StoreError>,
    ) -> Self {
        let (sender, ready) = mpsc::channel(1);
        let thread = tokio::task::spawn_blocking(move || {
            while let Some(message) = batches.blocking_recv() {
                let next = match message {
                    BulkMessage::Batch { features, chosen } => Ready::Batch {
                        rows: (mode.writes() && !features.is_empty()).then(|| encode(&features)),
                        count: features.len() as u64,
                        chosen,
                    },
                    BulkMessage::Commit(audit) => Ready::Commit(audit.map(Box::new)),
                };
                if sender.blocking_send(next).is_err() {
                    break;
                }
            }
        });
        Self { ready, thread }
    }

    /// The next batch or commit; `None` once the sender finished without a commit.
    ///
    /// # Errors
    /// The encoding thread failed (a panic): then the stream ends in an error, not quietly.
    async fn next(&mut self) -> Result<Option<Ready<T>>, StoreError> {
        if let Some(ready) = self.ready.recv().await {
            return Ok(Some(ready));
        }
        // The thread has ended (its sender is gone): how?
        match (&mut self.thread).await {
            Ok(()) => Ok(None),
            Err(e) => Err(StoreError::Corrupt(format!(
                "the import's encoding thread failed: {e}"
            ))),
        }
    }
}

/// A double-quoted SQL identifier.
fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Sets aside, in the caller's transaction, what a writing bulk insert need not maintain row by
/// row (see the module's documentation): always the change log's insert trigger, and when
/// `features` is empty its indexes, the ids' unique index among them. Returns the statements
/// that make the indexes (after shrinking the page cache, so that SQLite sorts them in small
/// runs on helper threads), log the new rows and make the trigger again, to run before the
/// commit (the unique index first: a repeated id the reader missed stops the commit there).
async fn sqlite_set_aside(conn: &mut sqlx::SqliteConnection) -> Result<Aside, StoreError> {
    let mut restore = Vec::new();
    // New rows get rowids past the last one (SQLite's write lock is held), so they are the
    // rows after `last`, in the order they were inserted.
    let last: i64 = sqlx::query_scalar("SELECT coalesce(max(rowid), 0) FROM features")
        .fetch_one(&mut *conn)
        .await?;
    let trigger: Option<String> = sqlx::query_scalar(
        "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = 'features_changes_insert'",
    )
    .fetch_optional(&mut *conn)
    .await?;
    let empty: bool = sqlx::query_scalar("SELECT NOT EXISTS (SELECT 1 FROM features)")
        .fetch_one(&mut *conn)
        .await?;
    if let Some(sql) = trigger {
        sqlx::query("DROP TRIGGER features_changes_insert")
            .execute(&mut *conn)
            .await?;
        restore.push(if empty {
            // A first load: one entry saying the rows changed wholesale (`changes::WHOLESALE`).
            format!(
                "INSERT INTO changes (id, layer) SELECT X'{}', layer FROM features LIMIT 1",
                super::changes::WHOLESALE.simple()
            )
        } else {
            format!(
                "INSERT INTO changes (id, layer) SELECT id, layer FROM features WHERE rowid > {last} ORDER BY rowid"
            )
        });
        restore.push(sql);
    }
    if !empty {
        return Ok(Aside {
            restore,
            key: false,
        });
    }
    // Indexes a constraint made (a primary key's, in a database made before the ids got their
    // own unique index) have no SQL and stay; unique ones are made again first.
    let indexes: Vec<(String, String)> = sqlx::query_as(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'features' AND sql IS NOT NULL \
         ORDER BY sql NOT LIKE 'CREATE UNIQUE%', name",
    )
    .fetch_all(&mut *conn)
    .await?;
    for (name, _) in &indexes {
        sqlx::query(sqlx::AssertSqlSafe(format!("DROP INDEX {}", quoted(name))))
            .execute(&mut *conn)
            .await?;
    }
    // Whether the ids' unique index is among them (it is, unless a migration is missing).
    let key = indexes
        .iter()
        .any(|(_, sql)| sql.starts_with("CREATE UNIQUE INDEX") && sql.trim_end().ends_with("(id)"));
    // The builds sort in small runs on helper threads (`sqlite::SORT_CACHE_KIB`).
    let mut indexes: Vec<String> = std::iter::once(format!(
        "PRAGMA cache_size = -{}",
        super::sqlite::SORT_CACHE_KIB
    ))
    .chain(indexes.into_iter().map(|(_, sql)| sql))
    .collect();
    indexes.append(&mut restore);
    Ok(Aside {
        restore: indexes,
        key,
    })
}

/// What [`sqlite_set_aside`] or [`pg_set_aside`] set aside.
#[derive(Debug, Default)]
struct Aside {
    /// The statements that make it again, to run before the commit.
    restore: Vec<String>,
    /// Whether the ids' key is among it: the table was empty and is held (SQLite's write lock,
    /// PostGIS's exclusive lock), so no id can be taken but by this insert's own rows (which
    /// the reader finds, and the key's rebuild would refuse).
    key: bool,
}

/// The first load's set-aside on PostGIS (see the module's documentation): the primary key and
/// the secondary indexes. Dropping them needs the table's exclusive lock: when another session
/// holds the table for over 5 s, or something depends on the key, everything stays (the import
/// is slower, nothing else changes) rather than everyone queueing behind it.
async fn pg_set_aside(conn: &mut sqlx::PgConnection) -> Result<Aside, StoreError> {
    let empty: bool = sqlx::query_scalar("SELECT NOT EXISTS (SELECT 1 FROM features)")
        .fetch_one(&mut *conn)
        .await?;
    if !empty {
        return Ok(Aside::default());
    }
    // The key and unique constraints, quoted by the database itself (quote_ident).
    let constraints: Vec<(String, String)> = sqlx::query_as(
        "SELECT quote_ident(conname), pg_get_constraintdef(oid) FROM pg_constraint \
         WHERE conrelid = 'features'::regclass AND contype IN ('p', 'u')",
    )
    .fetch_all(&mut *conn)
    .await?;
    // The table's own other indexes wherever its schema is, named with their schema.
    let indexes: Vec<(String, String)> = sqlx::query_as(
        "SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname), pg_get_indexdef(x.indexrelid) \
         FROM pg_index x JOIN pg_class c ON c.oid = x.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE x.indrelid = 'features'::regclass \
         AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = x.indexrelid)",
    )
    .fetch_all(&mut *conn)
    .await?;
    if indexes.is_empty() && constraints.is_empty() {
        return Ok(Aside::default());
    }
    sqlx::query("SAVEPOINT set_aside")
        .execute(&mut *conn)
        .await?;
    sqlx::query("SET LOCAL lock_timeout = '5s'")
        .execute(&mut *conn)
        .await?;
    let drops = constraints
        .iter()
        .map(|(name, _)| format!("ALTER TABLE features DROP CONSTRAINT {name}"))
        .chain(indexes.iter().map(|(name, _)| format!("DROP INDEX {name}")));
    for sql in drops {
        let dropped = sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(&mut *conn)
            .await;
        if let Err(e) = dropped {
            tracing::warn!("keeping the key and indexes during this first load: {e}");
            sqlx::query("ROLLBACK TO SAVEPOINT set_aside")
                .execute(&mut *conn)
                .await?;
            return Ok(Aside::default());
        }
    }
    sqlx::query("SET LOCAL lock_timeout = 0")
        .execute(&mut *conn)
        .await?;
    sqlx::query("RELEASE SAVEPOINT set_aside")
        .execute(&mut *conn)
        .await?;
    let key = !constraints.is_empty();
    // The key first: a repeated id the reader missed stops the commit there.
    let mut restore: Vec<String> = constraints
        .into_iter()
        .map(|(name, def)| format!("ALTER TABLE features ADD CONSTRAINT {name} {def}"))
        .chain(indexes.into_iter().map(|(_, sql)| sql))
        .collect();
    // The change log's insert trigger too (the table is held exclusively): one entry saying
    // the rows changed wholesale (`changes::WHOLESALE`) instead of one per row.
    let trigger: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = 'features'::regclass \
         AND tgname = 'features_changes_insert' AND tgenabled <> 'D')",
    )
    .fetch_one(&mut *conn)
    .await?;
    if trigger {
        sqlx::query("ALTER TABLE features DISABLE TRIGGER features_changes_insert")
            .execute(&mut *conn)
            .await?;
        restore.push(format!(
            "INSERT INTO changes (id, layer) SELECT '{}', layer FROM features LIMIT 1",
            super::changes::WHOLESALE
        ));
        restore.push("ALTER TABLE features ENABLE TRIGGER features_changes_insert".into());
    }
    Ok(Aside { restore, key })
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
