//! Loading the picture fast and keeping it true to the database: from the index snapshot and
//! the change log when they can be trusted, else from the table (see [`crate::store::snapshot`]
//! and [`crate::store::changes`]).
//!
//! The index reflects the change log up to a position. Own writes go to the index directly;
//! writes by anyone else (an import on the command line into the running server's file) are
//! applied from the log by [`Service::catch_up`] — at start-up and before a snapshot is written
//! — and, while serving, by [`Service::follow_log`] twice a second: each changed feature's
//! current row is read, live ones are put in, deleted or purged ones taken out, and what
//! changed is announced on the live event stream. Replaying an entry twice is harmless.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use uuid::Uuid;

use super::{Change, Service};
use crate::domain::{Feature, Layer};
use crate::index::{FeatureIndex, LayerLoad};
use crate::store::snapshot::{
    SnapshotHeader, read_header, read_snapshot, remove_snapshot, write_snapshot,
};
use crate::store::{Store, StoreError};

/// Above this many changes since the snapshot, reading the table is faster than replaying.
pub const MAX_REPLAY: i64 = 200_000;
/// Log entries read per round while catching up.
const PAGE: i64 = 10_000;
/// The position of a picture that follows no log (PostGIS, until issue 14).
pub(super) const NO_LOG: i64 = -1;

/// How the picture was loaded, for the start-up log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Loaded {
    /// From the index snapshot, then the log after it replayed: this many features changed.
    Snapshot {
        /// Changes applied after the snapshot.
        replayed: usize,
    },
    /// From the table; `why` the snapshot was not used, when there was one.
    Table {
        /// Why not from a snapshot.
        why: Option<String>,
    },
}

/// Fills `index` from the snapshot when it can be trusted, else from the table; returns the log
/// position the index reflects and how it was loaded.
pub(super) async fn load(
    store: &Store,
    index: &FeatureIndex,
    use_snapshot: bool,
) -> Result<(i64, Loaded), StoreError> {
    // Read before the table: a change made during the read is replayed later (harmlessly
    // when the read already saw it).
    let Some(log) = store.log_position(0).await? else {
        load_table(store, index).await?;
        return Ok((NO_LOG, Loaded::Table { why: None }));
    };
    let why = match store.snapshot_path() {
        Some(path) if use_snapshot && path.exists() => {
            match trusted(store, &path, log.identity, log.last).await? {
                Ok(head) => {
                    let (read, loads) = tokio::task::spawn_blocking(move || {
                        let mut loads = empty_loads();
                        let read = read_snapshot(&path, &mut |f| {
                            loads[usize::from(f.layer().code())].push(f);
                        });
                        (read, loads)
                    })
                    .await
                    .map_err(|e| {
                        StoreError::Corrupt(format!("reading the snapshot failed: {e}"))
                    })?;
                    match read {
                        Ok(read) if read == head => {
                            install(index, loads);
                            return Ok((head.position, Loaded::Snapshot { replayed: 0 }));
                        }
                        Ok(_) => Some("it changed while it was read".to_owned()),
                        Err(e) => Some(e.why),
                    }
                }
                Err(why) => Some(why),
            }
        }
        _ => None,
    };
    if let Some(why) = &why {
        tracing::warn!("the index snapshot is not used ({why}); reading the table");
        // Never tried again: a refused snapshot could otherwise look right later (after as
        // many new changes as it was ahead by).
        remove_snapshot(store)?;
    }
    load_table(store, index).await?;
    Ok((log.last, Loaded::Table { why }))
}

/// Whether the snapshot at `path` may be used for the database `identity` whose log has
/// reached `last`: same database, not ahead of it, and every change after it still in the log.
async fn trusted(
    store: &Store,
    path: &std::path::Path,
    identity: [u8; 16],
    last: i64,
) -> Result<Result<SnapshotHeader, String>, StoreError> {
    let head = match read_header(path) {
        Ok(h) => h,
        Err(e) => return Ok(Err(e.why)),
    };
    if head.identity != identity {
        return Ok(Err("it was taken from another database".into()));
    }
    if head.position > last {
        return Ok(Err(format!(
            "it is ahead of the database's change log ({} > {last}): the database was restored from an older copy",
            head.position
        )));
    }
    let held = store
        .log_position(head.position)
        .await?
        .map_or(0, |p| p.held_after);
    if held != last - head.position {
        return Ok(Err(format!(
            "the change log no longer holds the {} changes after it",
            last - head.position
        )));
    }
    if held > MAX_REPLAY {
        return Ok(Err(format!(
            "{held} changes since it was written; reading the table is faster"
        )));
    }
    Ok(Ok(head))
}

fn empty_loads() -> Vec<LayerLoad> {
    Layer::ALL
        .iter()
        .map(|_| LayerLoad::with_capacity(0))
        .collect()
}

fn install(index: &FeatureIndex, loads: Vec<LayerLoad>) {
    for (layer, load) in Layer::ALL.iter().zip(loads) {
        index.install(*layer, load);
    }
}

async fn load_table(store: &Store, index: &FeatureIndex) -> Result<(), StoreError> {
    let mut loads = empty_loads();
    store
        .for_each_live(&mut |f| loads[usize::from(f.layer().code())].push(f))
        .await?;
    install(index, loads);
    Ok(())
}

impl Service {
    /// Applies every change in the log after the index's position (writes by other processes,
    /// or own writes already applied); returns how many features were read again. Nothing to
    /// do on a store without a log.
    ///
    /// # Errors
    /// Store failures (the position is left where the last whole page ended).
    pub async fn catch_up(&self) -> Result<usize, StoreError> {
        // Own writes wait: a row read here just before an own delete must not be put back
        // after it.
        let _guard = self.writes.lock().await;
        self.catch_up_locked().await
    }

    /// Follows the log while serving: when it holds entries after the index's position (an
    /// import on the command line into this server's file, a manual edit), applies them a page
    /// at a time — taking the write lock for each page only, so a large import does not hold
    /// own writes back for long — and announces each feature whose stored row differs from the
    /// picture on the live event stream. Own writes come back through the log too and are
    /// already in the picture: they change nothing and are not announced twice. Returns how
    /// many features changed.
    ///
    /// # Errors
    /// Store failures; a log pruned past the index's position.
    pub async fn follow_log(&self) -> Result<usize, StoreError> {
        let mut changed = 0;
        loop {
            let position = self.log_position.load(Ordering::Acquire);
            if position == NO_LOG || self.store.changes_after(position, 1).await?.is_empty() {
                return Ok(changed);
            }
            let _guard = self.writes.lock().await;
            match self.apply_page().await? {
                Some(n) => changed += n,
                None => return Ok(changed),
            }
        }
    }

    async fn catch_up_locked(&self) -> Result<usize, StoreError> {
        let mut applied = 0;
        while let Some(n) = self.apply_page().await? {
            applied += n;
        }
        Ok(applied)
    }

    /// Applies the next page of the log after the index's position (the caller holds the write
    /// lock); `None` when there was none, else how many features changed.
    async fn apply_page(&self) -> Result<Option<usize>, StoreError> {
        let position = self.log_position.load(Ordering::Acquire);
        if position == NO_LOG {
            return Ok(None);
        }
        let page = self.store.changes_after(position, PAGE).await?;
        let Some(last) = page.last().map(|c| c.seq) else {
            return Ok(None);
        };
        if page.first().is_some_and(|c| c.seq != position + 1) {
            // Entries were pruned that this index never saw: it cannot be made true from
            // the log (the next start reads the table).
            return Err(StoreError::Corrupt(format!(
                "the change log has no entry {} (it continues at {}): changes were pruned before this server applied them",
                position + 1,
                page.first().map_or(0, |c| c.seq)
            )));
        }
        let mut seen: HashSet<Uuid> = HashSet::with_capacity(page.len());
        let mut changed = 0;
        for c in page.iter().filter(|c| seen.insert(c.id)) {
            changed += usize::from(self.apply_stored(c.layer, c.id).await?);
        }
        self.log_position.store(last, Ordering::Release);
        Ok(Some(changed))
    }

    /// Makes the index hold what the store holds for one feature, and announces the change;
    /// `false` when it held that already.
    async fn apply_stored(&self, layer: Layer, id: Uuid) -> Result<bool, StoreError> {
        // The row is the truth, whatever its version says (a manual edit may not raise it; a
        // row may have moved between layers): out with the old, in with what is stored.
        let before = self.index.get(layer, id);
        let after = match self.store.get(id).await? {
            Some((f, None)) => Some(f),
            _ => None,
        };
        let change = match (before, after) {
            (None, None) => return Ok(false),
            (Some(b), Some(a)) if *b == a => return Ok(false),
            (None, Some(a)) => {
                self.index.remove(a.layer(), id);
                self.index.upsert(a.clone());
                Change::Upserted(Arc::new(a))
            }
            (Some(b), Some(a)) if b.layer() != a.layer() => {
                // Moved to another layer (by hand): gone from the one, new in the other, so
                // no client keeps it in the old one.
                self.index.remove(layer, id);
                self.index.remove(a.layer(), id);
                self.index.upsert(a.clone());
                self.announce(Change::Deleted(b));
                Change::Upserted(Arc::new(a))
            }
            (Some(b), Some(a)) => {
                self.index.remove(layer, id);
                self.index.remove(a.layer(), id);
                self.index.upsert(a.clone());
                Change::Replaced {
                    before: b,
                    after: Arc::new(a),
                }
            }
            (Some(b), None) => {
                self.index.remove(layer, id);
                Change::Deleted(b)
            }
        };
        self.announce(change);
        Ok(true)
    }

    /// Removes this store's snapshot file: the server does so once it has started (it writes
    /// a new one when it stops), and a purge does, so no copy of removed data is left.
    ///
    /// # Errors
    /// File-system errors.
    pub fn discard_snapshot(&self) -> Result<(), StoreError> {
        remove_snapshot(&self.store)
    }

    /// Forgets the whole change log up to where the index stands (a server that keeps no
    /// snapshot, when it stops: nothing will read the entries).
    ///
    /// # Errors
    /// Store failures.
    pub async fn prune_log(&self) -> Result<u64, StoreError> {
        let _guard = self.writes.lock().await;
        self.catch_up_locked().await?;
        let position = self.log_position.load(Ordering::Acquire);
        if position == NO_LOG {
            return Ok(0);
        }
        self.store.prune_changes_through(position).await
    }

    /// Writes the index snapshot beside an SQLite database, after catching up with the log
    /// under the write lock, then forgets the log entries it holds. `None` when the store
    /// keeps no snapshot (PostGIS, in-memory).
    ///
    /// # Errors
    /// Store and file-system failures (the previous snapshot, if any, stays as it was).
    pub async fn save_snapshot(&self) -> Result<Option<SnapshotHeader>, StoreError> {
        let Some(path) = self.store.snapshot_path() else {
            return Ok(None);
        };
        let Some(log) = self.store.log_position(0).await? else {
            return Ok(None);
        };
        let _guard = self.writes.lock().await;
        if self.log_position.load(Ordering::Acquire) == NO_LOG {
            // Opened without the picture: an empty index is no snapshot of anything.
            return Ok(None);
        }
        self.catch_up_locked().await?;
        let position = self.log_position.load(Ordering::Acquire);
        let features: Vec<Arc<Feature>> = Layer::ALL
            .iter()
            .flat_map(|l| {
                self.index.matching(
                    *l,
                    &crate::index::Spatial::All,
                    &crate::index::Filters::default(),
                )
            })
            .collect();
        let (identity, count) = (log.identity, features.len() as u64);
        tokio::task::spawn_blocking(move || write_snapshot(&path, identity, position, &features))
            .await
            .map_err(|e| StoreError::Corrupt(format!("writing the snapshot failed: {e}")))??;
        self.store.prune_changes_through(position).await?;
        Ok(Some(SnapshotHeader {
            identity,
            position,
            count,
        }))
    }
}
