//! The audit journal: how an audited read on SQLite gets a durable record without waiting in
//! line for SQLite's single writer (issue 17, item 4).
//!
//! A read's record is appended as one line to a file beside the database (one `write` under a
//! lock: microseconds) before the read is answered, and moved into `audit_log` in batches a
//! few milliseconds later by a background task. The line is then as durable as a commit of
//! the store's SQLite (WAL mode with `synchronous = NORMAL`): it survives the process being
//! killed, as a commit does, and, as a commit does, not the machine losing power before the
//! kernel has written its cache. Records of a process that stopped before moving them are
//! moved by the next one to open the journal (`serve` at start-up, `lagesbild audit`).
//!
//! Two files take turns: appends go to one while the records of the other are moved, and a
//! file is cut to nothing once every record in it is in the table, so the journal holds no
//! more than a few moves' worth of records under any load. Each record carries a sequence
//! number, and the table `audit_journal` holds the highest one moved, written in the same
//! transaction as the records: a record is never moved twice, also when the process stops
//! between the commit and the cut.
//!
//! One process owns the journal (an exclusive lock on its first file); any other process on
//! the same database writes its records through SQLite directly, as before.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use sqlx::SqlitePool;
use time::OffsetDateTime;

use super::StoreError;
use super::audit::AuditRow;

/// How often waiting records are moved into the table when nothing asks sooner.
const MOVE_EVERY: Duration = Duration::from_millis(100);
/// Records waiting at which a move starts at once.
const MOVE_AT: usize = 4_096;
/// Records waiting at which appends are refused: the table has not taken any for a long time,
/// and the process would otherwise hold them all in memory. Reads are then not answered, as
/// when a commit fails.
const MAX_WAITING: usize = 500_000;
/// How long the mover leaves the table alone after a move failed.
const BACK_OFF: Duration = Duration::from_secs(1);

/// A record as written to the journal (borrowing the record's text).
#[derive(Serialize)]
struct LineOut<'a> {
    seq: u64,
    at: i64,
    actor: &'a str,
    role: Option<&'a str>,
    action: &'a str,
    layer: Option<&'a str>,
    features: Option<&'a str>,
    bbox: Option<&'a str>,
    address: Option<&'a str>,
    outcome: &'a str,
    detail: Option<&'a str>,
}

/// A record as read back from the journal.
#[derive(Deserialize)]
struct LineIn {
    seq: u64,
    at: i64,
    actor: String,
    role: Option<String>,
    action: String,
    layer: Option<String>,
    features: Option<String>,
    bbox: Option<String>,
    address: Option<String>,
    outcome: String,
    detail: Option<String>,
}

impl<'a> LineOut<'a> {
    fn of(seq: u64, a: &'a AuditRow) -> Self {
        Self {
            seq,
            at: a.at.unix_timestamp(),
            actor: &a.actor,
            role: a.role.as_deref(),
            action: &a.action,
            layer: a.layer.as_deref(),
            features: a.features.as_deref(),
            bbox: a.bbox.as_deref(),
            address: a.address.as_deref(),
            outcome: &a.outcome,
            detail: a.detail.as_deref(),
        }
    }
}

impl LineIn {
    fn into_row(self) -> Result<AuditRow, String> {
        let at = OffsetDateTime::from_unix_timestamp(self.at).map_err(|e| e.to_string())?;
        Ok(AuditRow {
            id: 0,
            at,
            actor: self.actor,
            role: self.role,
            action: self.action,
            layer: self.layer,
            features: self.features,
            bbox: self.bbox,
            address: self.address,
            outcome: self.outcome,
            detail: self.detail,
        })
    }
}

/// One of the two files.
#[derive(Debug)]
struct Half {
    file: File,
    path: PathBuf,
    /// Bytes written since it was last cut.
    len: u64,
    /// The highest sequence number written since it was last cut (0: none).
    last_seq: u64,
}

impl Half {
    fn cut(&mut self) -> Result<(), StoreError> {
        self.file
            .set_len(0)
            .map_err(|e| StoreError::Io(e, self.path.display().to_string()))?;
        self.len = 0;
        self.last_seq = 0;
        Ok(())
    }
}

/// What the lock guards.
#[derive(Debug)]
struct State {
    halves: [Half; 2],
    /// Which half appends go to.
    current: usize,
    /// The number the next record gets.
    next_seq: u64,
    /// Records in the files and not yet in the table, in order; the last is `next_seq - 1`.
    waiting: Vec<AuditRow>,
    /// A write failed and its partial line could not be cut away: later lines would be
    /// unreadable, so nothing more is appended (reads are refused, as when a commit fails).
    broken: Option<String>,
}

/// The journal in front of one SQLite database's audit log.
#[derive(Debug)]
pub struct AuditJournal {
    pool: SqlitePool,
    state: Mutex<State>,
    /// One move at a time.
    moving: tokio::sync::Mutex<()>,
    /// Asks the mover to move now.
    wake: tokio::sync::Notify,
}

/// The journal's two files for the database at `db`.
#[must_use]
pub fn journal_paths(db: &Path) -> [PathBuf; 2] {
    ["a", "b"].map(|s| {
        let mut p = db.as_os_str().to_owned();
        p.push(format!("-audit-journal-{s}"));
        PathBuf::from(p)
    })
}

fn open_half(path: &Path) -> Result<File, StoreError> {
    OpenOptions::new()
        .create(true)
        .read(true)
        .append(true)
        .open(path)
        .map_err(|e| StoreError::Io(e, path.display().to_string()))
}

/// The records of the journal file at `path` numbered above `moved`, and how many lines did
/// not read (a line cut short by a failed write).
fn read_half(path: &Path, moved: u64) -> Result<(Vec<(u64, AuditRow)>, usize), StoreError> {
    let bytes = std::fs::read(path).map_err(|e| StoreError::Io(e, path.display().to_string()))?;
    let mut rows = Vec::new();
    let mut unreadable = 0;
    for line in bytes.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
        match serde_json::from_slice::<LineIn>(line).map_err(|e| e.to_string()) {
            Ok(l) if l.seq <= moved => {}
            Ok(l) => {
                let seq = l.seq;
                match l.into_row() {
                    Ok(row) => rows.push((seq, row)),
                    Err(_) => unreadable += 1,
                }
            }
            Err(_) => unreadable += 1,
        }
    }
    Ok((rows, unreadable))
}

/// Moves `rows` into the table and notes `last` as moved, in one transaction.
async fn insert(pool: &SqlitePool, rows: &[AuditRow], last: u64) -> Result<(), StoreError> {
    let last = i64::try_from(last).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let mut tx = pool.begin().await?;
    super::audit::append_rows_sqlite(&mut tx, rows).await?;
    sqlx::query("UPDATE audit_journal SET moved = $1 WHERE id = 1 AND moved < $1")
        .bind(last)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

impl AuditJournal {
    /// Opens the journal of `pool`'s database file and moves into the table whatever a
    /// process that stopped left in it. `None` for a database in memory, and when another
    /// process owns the journal (it then keeps writing through SQLite directly).
    ///
    /// # Errors
    /// Files that cannot be opened or read; database errors.
    pub async fn open(pool: &SqlitePool) -> Result<Option<Arc<Self>>, StoreError> {
        let db = pool.connect_options().get_filename().to_path_buf();
        if !db.is_file() {
            return Ok(None);
        }
        let [a, b] = journal_paths(&db);
        let first = open_half(&a)?;
        match first.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => return Ok(None),
            Err(TryLockError::Error(e)) => return Err(StoreError::Io(e, a.display().to_string())),
        }
        let second = open_half(&b)?;
        let (moved,): (i64,) = sqlx::query_as("SELECT moved FROM audit_journal WHERE id = 1")
            .fetch_one(pool)
            .await?;
        let moved = u64::try_from(moved).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let (mut left, bad_a) = read_half(&a, moved)?;
        let (more, bad_b) = read_half(&b, moved)?;
        left.extend(more);
        left.sort_by_key(|(seq, _)| *seq);
        let last = left.last().map_or(moved, |(seq, _)| *seq);
        if bad_a + bad_b > 0 {
            tracing::warn!(
                lines = bad_a + bad_b,
                "lines of the audit journal did not read (a write cut short: no read was answered on them)"
            );
        }
        if !left.is_empty() {
            let rows: Vec<AuditRow> = left.into_iter().map(|(_, row)| row).collect();
            insert(pool, &rows, last).await?;
            tracing::info!(
                records = rows.len(),
                "moved audit records left in the journal by a process that stopped"
            );
        }
        let mut halves = [
            Half {
                file: first,
                path: a,
                len: 0,
                last_seq: 0,
            },
            Half {
                file: second,
                path: b,
                len: 0,
                last_seq: 0,
            },
        ];
        for h in &mut halves {
            h.cut()?;
        }
        Ok(Some(Arc::new(Self {
            pool: pool.clone(),
            state: Mutex::new(State {
                halves,
                current: 0,
                next_seq: last + 1,
                waiting: Vec::new(),
                broken: None,
            }),
            moving: tokio::sync::Mutex::new(()),
            wake: tokio::sync::Notify::new(),
        })))
    }

    /// Moves into the table what a stopped process left in the journal of `pool`'s database,
    /// unless a running process owns it (it moves its own records). For commands that read
    /// the audit log.
    ///
    /// # Errors
    /// As [`AuditJournal::open`].
    pub async fn recover(pool: &SqlitePool) -> Result<(), StoreError> {
        // Never creates the files: a command run by another user (root) must not leave files
        // the server's own user cannot open.
        let db = pool.connect_options().get_filename().to_path_buf();
        if !journal_paths(&db).iter().all(|p| p.exists()) {
            // A server makes both at its start; without them there is nothing to move here
            // (and a server moves what it finds when it starts).
            return Ok(());
        }
        Self::open(pool).await.map(drop)
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves the state whole (every change is a single
        // step after the write succeeded), so a poisoned lock is taken as it is.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Appends `row`; once this returns, the record survives the process being killed.
    ///
    /// # Errors
    /// The file could not be written ([`StoreError::Io`]; nothing of the record is kept), or
    /// the table has taken no record for so long that [`MAX_WAITING`] are waiting
    /// ([`StoreError::Unavailable`]).
    pub fn append(&self, row: AuditRow) -> Result<(), StoreError> {
        let mut s = self.state();
        if let Some(why) = &s.broken {
            return Err(StoreError::Unavailable(why.clone()));
        }
        if s.waiting.len() >= MAX_WAITING {
            return Err(StoreError::Unavailable(format!(
                "{} audit records are waiting for the database",
                s.waiting.len()
            )));
        }
        let seq = s.next_seq;
        let mut line = serde_json::to_vec(&LineOut::of(seq, &row))
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        line.push(b'\n');
        let current = s.current;
        let half = &mut s.halves[current];
        if let Err(e) = half.file.write_all(&line) {
            // Whatever part of the line was written is cut, so the next line starts clean.
            let path = half.path.display().to_string();
            if let Err(cut) = half.file.set_len(half.len) {
                s.broken = Some(format!(
                    "the audit journal {path} could not be written ({e}) nor repaired ({cut})"
                ));
            }
            return Err(StoreError::Io(e, path));
        }
        half.len += line.len() as u64;
        half.last_seq = seq;
        s.next_seq = seq + 1;
        s.waiting.push(row);
        let now = s.waiting.len() >= MOVE_AT;
        drop(s);
        if now {
            self.wake.notify_one();
        }
        Ok(())
    }

    /// Moves every record waiting into the table (in one transaction), then cuts the files
    /// whose records are all there. The move runs as a task of its own, so a caller that
    /// stops waiting (a request cancelled, a timeout) never leaves a batch half-moved: taken
    /// from memory but neither in the table nor put back.
    ///
    /// # Errors
    /// Database errors: the records then stay waiting (and in the files).
    pub async fn flush(self: &Arc<Self>) -> Result<(), StoreError> {
        let journal = Arc::clone(self);
        tokio::spawn(async move { journal.move_waiting().await })
            .await
            .map_err(|e| {
                StoreError::Unavailable(format!("the audit journal's move stopped: {e}"))
            })?
    }

    async fn move_waiting(&self) -> Result<(), StoreError> {
        let _one = self.moving.lock().await;
        let (batch, last) = {
            let mut s = self.state();
            if s.waiting.is_empty() {
                return Ok(());
            }
            // Appends go to the other file while this batch is moved.
            s.current = 1 - s.current;
            (std::mem::take(&mut s.waiting), s.next_seq - 1)
        };
        if let Err(e) = insert(&self.pool, &batch, last).await {
            let mut s = self.state();
            let later = std::mem::replace(&mut s.waiting, batch);
            s.waiting.extend(later);
            return Err(e);
        }
        let mut s = self.state();
        for h in &mut s.halves {
            if h.len > 0 && h.last_seq <= last {
                // The records are in the table: a file left uncut only costs disk until the
                // next move, and is skipped by number when read again.
                if let Err(e) = h.cut() {
                    tracing::warn!("an audit journal file was not cut after its move: {e}");
                }
            }
        }
        Ok(())
    }

    /// The records waiting to be moved.
    #[must_use]
    pub fn waiting(&self) -> usize {
        self.state().waiting.len()
    }

    /// The journal files' size now, in bytes.
    #[must_use]
    pub fn bytes(&self) -> u64 {
        self.state().halves.iter().map(|h| h.len).sum()
    }

    /// Starts the task that moves records every [`MOVE_EVERY`] (sooner past [`MOVE_AT`]);
    /// it ends when the journal is dropped or the database closed.
    pub fn spawn_mover(self: &Arc<Self>) -> tokio::task::JoinHandle<()> {
        let weak = Arc::downgrade(self);
        tokio::spawn(async move {
            loop {
                let Some(journal) = weak.upgrade() else { break };
                if journal.pool.is_closed() {
                    break;
                }
                tokio::select! {
                    () = journal.wake.notified() => {}
                    () = tokio::time::sleep(MOVE_EVERY) => {}
                }
                if let Err(e) = journal.flush().await {
                    if journal.pool.is_closed() {
                        break;
                    }
                    tracing::warn!(
                        waiting = journal.waiting(),
                        "audit records could not be moved into the table yet (they are kept in the journal): {e}"
                    );
                    drop(journal);
                    tokio::time::sleep(BACK_OFF).await;
                }
            }
        })
    }
}
