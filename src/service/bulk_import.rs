//! Importing a file straight into the store while it is read (the command line's `import`):
//! a reader on a blocking thread checks each row and hands batches of new features to the
//! store's bulk insert ([`Store::insert_stream`]), which writes them in one open transaction.
//! It commits only when the whole file was read with no rejected row, no repeated or taken id
//! and nothing refused — all or nothing, as before — so memory is bounded by a few batches,
//! not by the file (issue 17). The picture is not loaded or touched: a running server finds the
//! rows through the change log.
//!
//! [`Store::insert_stream`]: crate::store::Store::insert_stream

use std::collections::HashSet;
use std::sync::Arc;

use tokio::sync::mpsc;
use uuid::Uuid;

use super::features::{creatable, stamp};
use super::{Service, ServiceError};
use crate::domain::access::Viewer;
use crate::domain::audit::AuditAction;
use crate::domain::{FeatureDraft, Layer};
use crate::service::import::{ImportError, ImportReport};
use crate::store::bulk::{BulkMessage, BulkMode};

/// Batches in flight between the reader and the store.
const IN_FLIGHT: usize = 4;

/// Hands each valid draft of a file to its argument as it is read, with the bytes read so far
/// (returning `false` stops the reading); returns the report of what it read.
pub type RowSource = Box<
    dyn FnOnce(&mut dyn FnMut(FeatureDraft, u64) -> bool) -> Result<ImportReport, ImportError>
        + Send,
>;

/// How to import.
#[derive(Debug, Clone, Copy)]
pub struct StreamOptions {
    /// The layer every row belongs to.
    pub layer: Layer,
    /// Write, or only check (a dry run).
    pub mode: BulkMode,
    /// Drop the file's ids: every feature gets a new one.
    pub new_ids: bool,
    /// Store incidents past the retention period (counted either way).
    pub allow_expired: bool,
}

/// What a streamed import found and did.
#[derive(Debug, Default)]
pub struct StreamReport {
    /// What the reader reported (rejected rows, counts; never the drafts).
    pub read: ImportReport,
    /// Valid rows read.
    pub rows: u64,
    /// Ids the file gives to more than one row.
    pub repeated: Vec<Uuid>,
    /// Ids the file chose that exist already.
    pub taken: Vec<Uuid>,
    /// Incidents from before the retention period's start.
    pub expired: usize,
    /// Rows stored (0 unless committed).
    pub stored: u64,
    /// Whether the rows were stored.
    pub committed: bool,
}

impl StreamReport {
    /// Whether the file may be stored as read: no rejected row, no repeated or taken id, and
    /// no expired incident unless allowed.
    #[must_use]
    pub fn acceptable(&self, allow_expired: bool) -> bool {
        self.read.rejected.is_empty()
            && self.repeated.is_empty()
            && self.taken.is_empty()
            && (allow_expired || self.expired == 0)
    }
}

/// Why a streamed import stopped.
#[derive(Debug, thiserror::Error)]
pub enum StreamError {
    /// The file could not be read (its header, its bytes).
    #[error(transparent)]
    Read(#[from] ImportError),
    /// Refused, or the store failed (audited).
    #[error(transparent)]
    Service(#[from] ServiceError),
}

/// What the reader thread ends with.
struct Read {
    report: ImportReport,
    rows: u64,
    ids: Vec<Uuid>,
    repeated: Vec<Uuid>,
    expired: usize,
    refused: Option<ServiceError>,
}

impl Service {
    /// Reads `source` into the store as described in the module's documentation. `progress`
    /// gets the bytes of the file read so far.
    ///
    /// # Errors
    /// [`StreamError::Read`] for a file that cannot be read at all;
    /// [`ServiceError::Forbidden`] when `viewer` may not create a row's feature; store errors
    /// (each audited). Rejected rows and
    /// taken ids are not errors: they are in the report, and nothing is stored.
    pub async fn import_streamed(
        &self,
        viewer: &Viewer,
        source: RowSource,
        options: StreamOptions,
        progress: Arc<dyn Fn(u64) + Send + Sync>,
    ) -> Result<StreamReport, StreamError> {
        let (sender, batches) = mpsc::channel::<BulkMessage>(IN_FLIGHT);
        let now = self.clock().now();
        let cutoff = match options.layer {
            Layer::Incidents => self.retention_cutoff().map(|c| c.unix_timestamp()),
            _ => None,
        };
        let reader_viewer = viewer.clone();
        let batch = self.store().bulk_batch_rows();
        let reader = tokio::task::spawn_blocking(move || {
            let read = read_rows(
                source,
                &reader_viewer,
                options,
                (now, cutoff),
                batch,
                &sender,
                &*progress,
            );
            (read, sender)
        });
        let decide = async {
            let (read, sender) = reader
                .await
                .map_err(|e| ServiceError::Internal(format!("the import's reader failed: {e}")))?;
            let read = read?;
            Ok::<_, StreamError>((read, sender))
        };
        let writer = self.store().insert_stream(batches, options.mode, &|_| {});
        // The reader's verdict decides the commit; the writer runs meanwhile.
        let commit = async {
            let (read, sender) = decide.await?;
            let ok = read.refused.is_none()
                && read.report.rejected.is_empty()
                && read.repeated.is_empty()
                && (options.allow_expired || read.expired == 0);
            if ok && options.mode.writes() {
                let row = self.success_row(viewer, AuditAction::Create, options.layer, &read.ids);
                // A closed channel means the writer failed: its error is the answer.
                let _ = sender.send(BulkMessage::Commit(Some(row))).await;
            }
            drop(sender);
            Ok::<_, StreamError>(read)
        };
        let (written, read) = tokio::join!(writer, commit);
        let read = read?;
        let failure = match (read.refused, written) {
            (Some(e), _) => e,
            (None, Err(e)) => ServiceError::from(e),
            (None, Ok(outcome)) => {
                if outcome.committed {
                    // Heard at once by servers on the same PostGIS (each reads the log).
                    if let Err(e) = self.store().signal_changes().await {
                        tracing::debug!("the change wake-up was not sent: {e}");
                    }
                }
                return Ok(StreamReport {
                    read: read.report,
                    rows: read.rows,
                    repeated: read.repeated,
                    taken: outcome.taken,
                    expired: read.expired,
                    stored: if outcome.committed {
                        outcome.written
                    } else {
                        0
                    },
                    committed: outcome.committed,
                });
            }
        };
        // A failed import is audited; a dry run writes nothing, not even that.
        if options.mode.writes() {
            Ok(self
                .refused(viewer, AuditAction::Create, options.layer, &[], failure)
                .await?)
        } else {
            Err(failure.into())
        }
    }
}

/// The reader thread: checks, stamps and hands on every row `source` gives in batches of
/// `batch` ([`crate::store::Store::bulk_batch_rows`]); `(now, cutoff)` are the stamp's time
/// and retention's cutoff.
fn read_rows(
    source: RowSource,
    viewer: &Viewer,
    options: StreamOptions,
    (now, cutoff): (time::OffsetDateTime, Option<i64>),
    batch: usize,
    sender: &mpsc::Sender<BulkMessage>,
    progress: &(dyn Fn(u64) + Send + Sync),
) -> Result<Read, ImportError> {
    let mut rows = 0u64;
    let mut ids = Vec::new();
    let mut seen = HashSet::new();
    let mut repeated = Vec::new();
    let mut expired = 0usize;
    let mut refused = None;
    let mut features = Vec::with_capacity(batch);
    let mut chosen = Vec::new();
    let mut open = true;
    // Once the file cannot be stored (a repeated id), batches carry only the ids to look up, for
    // the report: nothing more is written only to be rolled back.
    let mut doomed = false;
    let mut send = |features: &mut Vec<_>, chosen: &mut Vec<Uuid>, doomed: bool| {
        let mut features = std::mem::replace(features, Vec::with_capacity(batch));
        if doomed {
            features.clear();
        }
        let batch = BulkMessage::Batch {
            features,
            chosen: std::mem::take(chosen),
        };
        open = open && sender.blocking_send(batch).is_ok();
        open
    };
    let mut report = source(&mut |mut draft, at| {
        rows += 1;
        if options.new_ids {
            draft.id = None;
        }
        if let Some(id) = draft.id {
            if !seen.insert(id) {
                // Not handed on: the database would refuse it as a duplicate, or report the
                // first copy as taken.
                repeated.push(id);
                doomed = true;
                return true;
            }
            chosen.push(id);
        }
        if cutoff.is_some_and(|c| draft.properties.time_span().start < c) {
            expired += 1;
        }
        if let Err(e) = creatable(viewer, &draft) {
            refused = Some(e);
            return false;
        }
        let f = stamp(draft, &viewer.user, now);
        ids.push(f.id);
        features.push(f);
        if features.len() >= batch {
            progress(at);
            return send(&mut features, &mut chosen, doomed);
        }
        true
    })?;
    if !features.is_empty() || !chosen.is_empty() {
        send(&mut features, &mut chosen, doomed);
    }
    report.drafts.clear();
    Ok(Read {
        report,
        rows,
        ids,
        repeated,
        expired,
        refused,
    })
}
