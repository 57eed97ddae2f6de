//! Where audit records go before a read is answered (issue 17, item 4).
//!
//! On a SQLite file owned by this process, into the audit journal
//! ([`crate::store::audit_journal`]): one line appended to a file, moved into the table in
//! batches behind the reader's back. Otherwise (PostGIS, or a SQLite file another process
//! journals) by group commit: a read is never answered before its record is committed, but
//! records do not wait in line for the database one by one: whoever arrives while a commit is
//! in flight joins the next one, so many concurrent readers share a commit. Nothing waits on
//! purpose: under no load a record commits alone, as fast as before.

use std::sync::{Arc, OnceLock};

use tokio::sync::{mpsc, oneshot};

use crate::store::audit::AuditRow;
use crate::store::audit_journal::AuditJournal;
use crate::store::{Store, StoreError};

/// The most records in one commit.
const MAX_BATCH: usize = 512;

/// A record waiting for its commit.
struct Pending {
    row: AuditRow,
    done: oneshot::Sender<Result<(), StoreError>>,
}

/// The queue in front of the audit log.
#[derive(Debug)]
pub(crate) struct AuditQueue {
    store: Store,
    sender: OnceLock<mpsc::UnboundedSender<Pending>>,
    journal: OnceLock<Arc<AuditJournal>>,
}

impl AuditQueue {
    /// A queue writing to `store` (its writer starts with the first record).
    pub(crate) fn new(store: Store) -> Self {
        Self {
            store,
            sender: OnceLock::new(),
            journal: OnceLock::new(),
        }
    }

    /// Sends every later record through `journal` (its mover must run).
    pub(crate) fn use_journal(&self, journal: Arc<AuditJournal>) {
        let _ = self.journal.set(journal);
    }

    /// The journal records go through, if any.
    pub(crate) fn journal(&self) -> Option<&Arc<AuditJournal>> {
        self.journal.get()
    }

    /// Moves what waits in the journal into the table, so a reader of the table sees every
    /// record appended before.
    ///
    /// # Errors
    /// Database errors.
    pub(crate) async fn flush(&self) -> Result<(), StoreError> {
        match self.journal.get() {
            Some(j) => j.flush().await,
            None => Ok(()),
        }
    }

    /// Appends `row` and returns once it is committed.
    ///
    /// # Errors
    /// The store's error for this record.
    pub(crate) async fn append(&self, row: AuditRow) -> Result<(), StoreError> {
        if let Some(journal) = self.journal.get() {
            return journal.append(row);
        }
        let sender = self.sender.get_or_init(|| {
            let (tx, rx) = mpsc::unbounded_channel();
            tokio::spawn(write(self.store.clone(), rx));
            tx
        });
        let (done, committed) = oneshot::channel();
        let fallback = row.clone();
        if sender.send(Pending { row, done }).is_ok()
            && let Ok(result) = committed.await
        {
            return result;
        }
        // The writer is gone (its runtime ended): write the record directly.
        self.store.append_audit(&fallback).await.map(|_| ())
    }
}

/// The writer: takes every record waiting, commits them together, answers each.
async fn write(store: Store, mut rx: mpsc::UnboundedReceiver<Pending>) {
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(p) => batch.push(p),
                Err(_) => break,
            }
        }
        let rows: Vec<AuditRow> = batch.iter().map(|p| p.row.clone()).collect();
        match store.append_audit_batch(&rows).await {
            Ok(()) => {
                for p in batch {
                    let _ = p.done.send(Ok(()));
                }
            }
            // The database is out of reach: every record waiting gets that answer at once,
            // rather than each waiting for a connection of its own.
            Err(e) if e.is_unavailable() => {
                let why = e.to_string();
                for p in batch {
                    let _ = p.done.send(Err(StoreError::Unavailable(why.clone())));
                }
            }
            // Nothing of the batch was written: each record on its own, with its own answer.
            Err(_) => {
                for p in batch {
                    let result = store.append_audit(&p.row).await.map(|_| ());
                    let _ = p.done.send(result);
                }
            }
        }
    }
}
