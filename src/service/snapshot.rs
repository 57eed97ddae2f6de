//! Loading the picture fast and keeping it true to the database: from the index snapshot and
//! the change log when they can be trusted, else from the table (see [`crate::store::snapshot`]
//! and [`crate::store::changes`]).
//!
//! The index reflects the change log up to a position. Own writes go to the index directly;
//! writes by anyone else (another instance on the same PostGIS, an import on the command line
//! into the running server's file) are applied from the log by [`Service::catch_up`] — at
//! start-up and before a snapshot is written — and, while serving, by [`Service::follow_log`]:
//! each changed feature's current row is read, live ones are put in, deleted or purged ones
//! taken out, and what changed is announced on the live event stream. Replaying an entry twice
//! is harmless. When the log was pruned past the index's position, the whole picture is read
//! again and live-event clients are told to reload ([`Service::subscribe_resyncs`]).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use uuid::Uuid;

use super::{Change, Service};
use crate::domain::{Feature, Layer};
use crate::index::{FeatureIndex, LayerLoad};
use crate::store::changes::{ChangePage, LogCursor};
use crate::store::snapshot::{
    SnapshotHeader, read_header, read_snapshot, remove_snapshot, write_snapshot,
};
use crate::store::{Store, StoreError};

/// Above this many changes since the snapshot, reading the table is faster than replaying.
pub const MAX_REPLAY: i64 = 200_000;
/// Log entries read per round while catching up.
pub const PAGE: i64 = 10_000;
/// Pages of the log an answer by id applies itself before it answers 503 and leaves the rest
/// to the server's own follower.
pub const REFRESH_PAGES: usize = 2;

/// Where the index stands in the change log.
#[derive(Debug, Default)]
pub(super) struct Follow {
    /// Every entry at or before this has been applied; `None` for a service opened without
    /// the picture, which follows nothing.
    cursor: Option<LogCursor>,
    /// Entries beyond the cursor already applied while unsettled (PostGIS), skipped when
    /// they settle.
    ahead: HashSet<LogCursor>,
}

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
) -> Result<(LogCursor, Loaded), StoreError> {
    // Read before the table: a change made during the read is replayed later (harmlessly
    // when the read already saw it).
    let start = store.log_start().await?;
    let Some(log) = store.log_position(0).await? else {
        load_table(store, index).await?;
        return Ok((start, Loaded::Table { why: None }));
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
                            let at = LogCursor {
                                xid: 0,
                                seq: head.position,
                            };
                            return Ok((at, Loaded::Snapshot { replayed: 0 }));
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
    Ok((start, Loaded::Table { why }))
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
    fn follow_state(&self) -> std::sync::MutexGuard<'_, Follow> {
        self.follow
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Starts following the log at `cursor` (the position the freshly loaded index reflects).
    pub(super) fn follow_from(&self, cursor: LogCursor) {
        let mut f = self.follow_state();
        f.cursor = Some(cursor);
        f.ahead.clear();
    }

    fn cursor(&self) -> Option<LogCursor> {
        self.follow_state().cursor
    }

    /// The change-log entry the picture has applied everything up to (`None` for a service
    /// opened without the picture).
    #[must_use]
    pub fn applied_position(&self) -> Option<LogCursor> {
        self.cursor()
    }

    /// Applies every change in the log after the index's position (writes by other processes,
    /// or own writes already applied); returns how many features were read again. Nothing to
    /// do for a service without the picture.
    ///
    /// # Errors
    /// Store failures (the position is left where the last whole page ended).
    pub async fn catch_up(&self) -> Result<usize, StoreError> {
        // Own writes wait: a row read here just before an own delete must not be put back
        // after it.
        let _guard = self.writes.lock().await;
        self.catch_up_locked().await
    }

    /// Follows the log while serving: when it holds entries after the index's position (another
    /// instance's write, an import on the command line into this server's file, a manual edit),
    /// applies them a page at a time — taking the write lock for each page only, so a large
    /// import does not hold own writes back for long — and announces each feature whose stored
    /// row differs from the picture on the live event stream. Own writes come back through the
    /// log too and are already in the picture: they change nothing and are not announced
    /// twice. Returns how many features changed.
    ///
    /// # Errors
    /// Store failures.
    pub async fn follow_log(&self) -> Result<usize, StoreError> {
        Ok(self.follow_log_within(None).await?.0)
    }

    /// [`Service::follow_log`], applying at most `max_pages` pages when given and never reading
    /// the whole picture again (a pruned log): how many features changed, and whether the log
    /// still holds entries beyond the picture (left to the server's own follower).
    async fn follow_log_within(
        &self,
        max_pages: Option<usize>,
    ) -> Result<(usize, bool), StoreError> {
        let mut changed = 0;
        let mut pages = 0;
        loop {
            // A look without the write lock first: most rounds find nothing new.
            let Some(cursor) = self.cursor() else {
                return Ok((changed, false));
            };
            let page = self.store.changes_after(cursor, PAGE).await?;
            if !page.pruned && self.news(&page).is_empty() {
                // Only entries applied while unsettled: step past them, and look again when
                // that moved the position (a whole page of them may be followed by news).
                self.settle(&page);
                if page.settled > cursor {
                    continue;
                }
                return Ok((changed, false));
            }
            let bounded = max_pages.is_some();
            if max_pages.is_some_and(|max| pages >= max) || (bounded && page.pruned) {
                return Ok((changed, true));
            }
            let _guard = self.writes.lock().await;
            let Some((n, more)) = self.apply_page(!bounded).await? else {
                return Ok((changed, true));
            };
            pages += 1;
            changed += n;
            if !more {
                return Ok((changed, false));
            }
        }
    }

    /// Applies what the log holds beyond the picture before an answer that depends on one
    /// feature (a read or write by id that missed, or found another version): a feature written
    /// through another instance a moment ago is then found.
    ///
    /// # Errors
    /// The database cannot be reached: then this picture cannot tell a feature it lacks from
    /// one written elsewhere, and the answer is 503 rather than a 404 or 412 it cannot vouch
    /// for.
    ///
    /// Bounded, so one request never pays for another's import: requests arriving together
    /// share one look at the log (a look that began after a request asked has seen everything
    /// committed before it), and a request applies at most [`REFRESH_PAGES`] pages itself.
    /// When the log holds more, or was pruned past the picture (a whole reload), the answer is
    /// [`ServiceError::CatchingUp`](super::ServiceError::CatchingUp) (503, try again in a
    /// moment) while the server's own follower does the rest.
    pub(super) async fn refresh_from_log(&self) -> Result<(), super::ServiceError> {
        if self.cursor().is_none() {
            return Ok(());
        }
        if self.database_down() {
            return Err(Self::unavailable_error());
        }
        let catching_up = || {
            super::ServiceError::CatchingUp(
                "this server is still applying changes made through other instances or an import"
                    .into(),
            )
        };
        let asked = std::time::Instant::now();
        let mut last = self.refreshed.lock().await;
        // A look that began after this request asked has seen every change committed before
        // it: its outcome is this request's too.
        if let Some((began, caught_up)) = *last
            && began > asked
        {
            return if caught_up {
                Ok(())
            } else {
                Err(catching_up())
            };
        }
        let began = std::time::Instant::now();
        match self.follow_log_within(Some(REFRESH_PAGES)).await {
            Ok((_, behind)) => {
                *last = Some((began, !behind));
                if behind { Err(catching_up()) } else { Ok(()) }
            }
            Err(e) if e.is_unavailable() => Err(e.into()),
            Err(e) => {
                tracing::warn!("the log could not be read before an answer by id: {e}");
                Ok(())
            }
        }
    }

    async fn catch_up_locked(&self) -> Result<usize, StoreError> {
        let mut applied = 0;
        loop {
            let Some((n, more)) = self.apply_page(true).await? else {
                return Ok(applied);
            };
            applied += n;
            if !more {
                return Ok(applied);
            }
        }
    }

    /// The entries of `page` not applied yet: its settled ones, except those applied while
    /// unsettled, and its unsettled ones not applied yet.
    fn news(&self, page: &ChangePage) -> Vec<(Layer, Uuid)> {
        let f = self.follow_state();
        page.entries
            .iter()
            .chain(&page.unsettled)
            .filter(|c| !f.ahead.contains(&c.at))
            .map(|c| (c.layer, c.id))
            .collect()
    }

    /// Moves the position on to where `page` settled, remembering its unsettled entries as
    /// applied.
    fn settle(&self, page: &ChangePage) {
        let mut f = self.follow_state();
        let Some(cursor) = f.cursor else { return };
        let to = cursor.max(page.settled);
        f.cursor = Some(to);
        f.ahead.extend(page.unsettled.iter().map(|c| c.at));
        f.ahead.retain(|c| *c > to);
    }

    /// Applies the next page of the log after the index's position (the caller holds the write
    /// lock): how many features changed, and whether more settled entries may follow. A log
    /// pruned past the position means reading the whole picture again: done when `reload` is
    /// allowed, else `None`.
    async fn apply_page(&self, reload: bool) -> Result<Option<(usize, bool)>, StoreError> {
        let Some(cursor) = self.cursor() else {
            return Ok(Some((0, false)));
        };
        let page = self.store.changes_after(cursor, PAGE).await?;
        if page.pruned {
            if !reload {
                return Ok(None);
            }
            tracing::warn!(
                "the change log was pruned past this picture's position; reading the whole picture again"
            );
            return Ok(Some((self.reload_locked().await?, false)));
        }
        let news = self.news(&page);
        if news
            .iter()
            .any(|(_, id)| *id == crate::store::changes::WHOLESALE)
        {
            // Rows changed wholesale (a first load): the log does not name them.
            if !reload {
                return Ok(None);
            }
            tracing::info!(
                "a first load changed the rows wholesale; reading the whole picture again"
            );
            let n = self.reload_locked().await?;
            // Every entry of the page committed before the read began: the read holds it.
            let mut f = self.follow_state();
            if let Some(to) = f.cursor {
                let applied: Vec<LogCursor> = page
                    .entries
                    .iter()
                    .chain(&page.unsettled)
                    .map(|c| c.at)
                    .filter(|at| *at > to)
                    .collect();
                f.ahead.extend(applied);
            }
            return Ok(Some((n, true)));
        }
        let changed = self.apply_stored(&news).await?;
        self.settle(&page);
        let more = i64::try_from(page.entries.len()).unwrap_or(i64::MAX) >= PAGE;
        Ok(Some((changed, more)))
    }

    /// Reads the whole picture again (the log was pruned past the index's position, or says
    /// the rows changed wholesale, so it cannot say which changed), tells live-event clients
    /// to reload, and follows the log from before the read. Returns how many features the
    /// picture holds.
    async fn reload_locked(&self) -> Result<usize, StoreError> {
        let start = self.store.log_start().await?;
        let mut loads = empty_loads();
        let mut n = 0;
        self.store
            .for_each_live(&mut |f| {
                n += 1;
                loads[usize::from(f.layer().code())].push(f);
            })
            .await?;
        install(&self.index, loads);
        self.follow_from(start);
        self.tile_cache.clear();
        self.generation
            .fetch_add(1, std::sync::atomic::Ordering::Release);
        self.resyncs.send_modify(|r| *r += 1);
        Ok(n)
    }

    /// Makes the index hold what the store holds for these features (layer as the log names
    /// it), and announces each change; returns how many changed.
    async fn apply_stored(&self, changed: &[(Layer, Uuid)]) -> Result<usize, StoreError> {
        // Once per (layer, id): a feature moved between layers is named under both, and each
        // layer's copy must be put right.
        let mut seen: HashSet<(Layer, Uuid)> = HashSet::with_capacity(changed.len());
        let wanted: Vec<(Layer, Uuid)> = changed
            .iter()
            .copied()
            .filter(|c| seen.insert(*c))
            .collect();
        if wanted.is_empty() {
            return Ok(0);
        }
        let ids: Vec<Uuid> = wanted
            .iter()
            .map(|(_, id)| *id)
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        let rows: HashMap<Uuid, Feature> = self
            .store
            .get_many(&ids)
            .await?
            .into_iter()
            .filter(|(_, deleted)| deleted.is_none())
            .map(|(f, _)| (f.id, f))
            .collect();
        let mut n = 0;
        for (layer, id) in wanted {
            n += usize::from(self.apply_row(layer, id, rows.get(&id).cloned()));
        }
        Ok(n)
    }

    /// Makes the index hold `after` (the stored row, `None` when deleted or gone) for one
    /// feature the log names in `layer`, and announces the change; `false` when it held that
    /// already.
    fn apply_row(&self, layer: Layer, id: Uuid, after: Option<Feature>) -> bool {
        // The row is the truth, whatever its version says (a manual edit may not raise it; a
        // row may have moved between layers): out with the old, in with what is stored.
        let before = self.index.get(layer, id);
        let change = match (before, after) {
            (None, None) => return false,
            (Some(b), Some(a)) if *b == a => return false,
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
        true
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
        let Some(position) = self.cursor() else {
            return Ok(0);
        };
        self.store.prune_changes_through(position.seq).await
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
        if self.cursor().is_none() {
            // Opened without the picture: an empty index is no snapshot of anything.
            return Ok(None);
        }
        self.catch_up_locked().await?;
        let Some(LogCursor { seq: position, .. }) = self.cursor() else {
            return Ok(None);
        };
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
