//! The audit trail: who did what, when, to which layer, features or box, from where.
//!
//! Records are only ever appended (the tables refuse UPDATE and DELETE by trigger). Logins,
//! every write, every read of exact or restricted data, every export, purge and refusal is
//! recorded; a read is answered only after its record is stored.

use time::OffsetDateTime;
use uuid::Uuid;

use super::{Service, ServiceError};
use crate::domain::Layer;
use crate::domain::access::Viewer;
use crate::domain::audit::{AuditAction, AuditOutcome};
use crate::store::audit::{AuditFilter, AuditRow};

/// At most this many feature ids are listed in one record; the count is always in the detail.
pub const MAX_IDS_PER_RECORD: usize = 10_000;
/// Longest actor name kept in a record.
pub const MAX_ACTOR_CHARS: usize = 64;
/// Longest detail kept in a record.
pub const MAX_DETAIL_CHARS: usize = 1000;
/// Refusals of anonymous callers recorded one by one per address and minute; the rest are
/// summed up in one record.
pub const ANONYMOUS_REFUSALS_PER_MINUTE: u32 = 10;

/// Counts anonymous refusals per source address, to record a flood as one summary.
#[derive(Debug, Default)]
pub struct RefusalCounter {
    by_address: std::sync::Mutex<std::collections::HashMap<String, (OffsetDateTime, u32)>>,
}

/// What to do with one anonymous refusal.
enum RefusalVerdict {
    /// Record it; `muted` earlier ones were not recorded and are summed up first.
    Record { muted: u32 },
    /// Do not record it (counted).
    Mute,
}

impl RefusalCounter {
    fn count(&self, address: &str, now: OffsetDateTime) -> RefusalVerdict {
        let mut map = self
            .by_address
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if map.len() > 100_000 {
            map.retain(|_, (since, _)| now - *since < time::Duration::minutes(1));
        }
        let entry = map.entry(address.to_owned()).or_insert((now, 0));
        if now - entry.0 >= time::Duration::minutes(1) {
            let muted = entry.1.saturating_sub(ANONYMOUS_REFUSALS_PER_MINUTE);
            *entry = (now, 1);
            return RefusalVerdict::Record { muted };
        }
        entry.1 += 1;
        if entry.1 <= ANONYMOUS_REFUSALS_PER_MINUTE {
            RefusalVerdict::Record { muted: 0 }
        } else {
            RefusalVerdict::Mute
        }
    }
}

impl AuditRow {
    /// A record of `action` with `outcome` at `at`; the actor is filled in by [`Service::audit`].
    #[must_use]
    pub fn new(at: OffsetDateTime, action: AuditAction, outcome: AuditOutcome) -> Self {
        Self {
            id: 0,
            at,
            actor: "anonymous".into(),
            role: None,
            action: action.as_str().into(),
            layer: None,
            features: None,
            bbox: None,
            address: None,
            outcome: outcome.as_str().into(),
            detail: None,
        }
    }

    /// Sets the actor (for records without a signed-in caller).
    #[must_use]
    pub fn actor(mut self, actor: &str) -> Self {
        actor.clone_into(&mut self.actor);
        self
    }

    /// Sets the source address.
    #[must_use]
    pub fn address(mut self, address: &str) -> Self {
        self.address = Some(address.to_owned());
        self
    }

    /// Sets the detail.
    #[must_use]
    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    /// Sets the layer.
    #[must_use]
    pub fn layer(mut self, layer: Layer) -> Self {
        self.layer = Some(layer.as_str().to_owned());
        self
    }

    /// Lists the features concerned (at most [`MAX_IDS_PER_RECORD`]).
    #[must_use]
    pub fn features(mut self, ids: impl IntoIterator<Item = Uuid>) -> Self {
        let ids: Vec<String> = ids
            .into_iter()
            .take(MAX_IDS_PER_RECORD)
            .map(|i| i.to_string())
            .collect();
        self.features = serde_json::to_string(&ids).ok();
        self
    }

    /// Every free field capped and made printable (an actor, address or detail is often the
    /// caller's own text): the log cannot be grown by long input, and `lagesbild audit` cannot
    /// be made to print terminal escapes.
    #[must_use]
    pub fn capped(mut self) -> Self {
        use crate::domain::text::printable;
        self.actor = printable(&self.actor, MAX_ACTOR_CHARS);
        self.action = printable(&self.action, 64);
        self.outcome = printable(&self.outcome, 64);
        self.role = self.role.map(|r| printable(&r, 64));
        self.layer = self.layer.map(|l| printable(&l, 64));
        self.address = self.address.map(|a| printable(&a, 64));
        self.bbox = self.bbox.map(|b| printable(&b, 200));
        self.detail = self.detail.map(|d| printable(&d, MAX_DETAIL_CHARS));
        self
    }

    /// Records the box asked for.
    #[must_use]
    pub fn bbox(mut self, b: Option<[f64; 4]>) -> Self {
        self.bbox = b.map(|b| format!("{},{},{},{}", b[0], b[1], b[2], b[3]));
        self
    }
}

impl Service {
    /// Appends `row` as done by `viewer`.
    ///
    /// # Errors
    /// When the record cannot be stored (the caller must then not hand out the data).
    pub async fn audit(&self, viewer: &Viewer, mut row: AuditRow) -> Result<(), ServiceError> {
        row.actor = viewer.user.to_string();
        row.role = Some(viewer.role_id.to_string());
        if row.address.is_none() {
            row.address = viewer.address.as_deref().map(str::to_owned);
        }
        self.audit_queue.append(row.capped()).await?;
        Ok(())
    }

    /// The record `row` as done by `viewer`, capped, ready to be written with a change in one
    /// transaction.
    #[must_use]
    pub fn audit_row_of(&self, viewer: &Viewer, mut row: AuditRow) -> AuditRow {
        row.actor = viewer.user.to_string();
        row.role = Some(viewer.role_id.to_string());
        if row.address.is_none() {
            row.address = viewer.address.as_deref().map(str::to_owned);
        }
        row.capped()
    }

    /// Records that `viewer` was refused (`what`: the request and why).
    ///
    /// # Errors
    /// Store failures.
    pub async fn record_refusal(&self, viewer: &Viewer, what: &str) -> Result<(), ServiceError> {
        let row = AuditRow::new(
            self.clock().now(),
            AuditAction::Denied,
            AuditOutcome::Denied,
        )
        .detail(what);
        self.audit(viewer, row).await
    }

    /// Records a refused request without valid credentials from `address` (rate-limited: see
    /// [`Service::audit_refusal_of_anonymous`]).
    ///
    /// # Errors
    /// Store failures.
    pub async fn record_unauthenticated(
        &self,
        address: &str,
        what: &str,
    ) -> Result<(), ServiceError> {
        let row = AuditRow::new(
            self.clock().now(),
            AuditAction::Denied,
            AuditOutcome::Unauthenticated,
        )
        .address(address)
        .detail(what);
        self.audit_refusal_of_anonymous(row).await
    }

    /// Records a live-event subscription.
    ///
    /// # Errors
    /// Store failures.
    pub async fn record_subscription(&self, viewer: &Viewer) -> Result<(), ServiceError> {
        let row = AuditRow::new(self.clock().now(), AuditAction::Subscribe, AuditOutcome::Ok);
        self.audit(viewer, row).await
    }

    /// Records a live event about to be sent, when it hands out a restricted feature exactly
    /// (like a read); other events need no record.
    ///
    /// # Errors
    /// Store failures: then the event must not be sent.
    pub async fn record_event(
        &self,
        viewer: &Viewer,
        kind: &str,
        shown: &super::visibility::Shown,
    ) -> Result<(), ServiceError> {
        let super::visibility::Shown::Exact { feature, .. } = shown else {
            return Ok(());
        };
        if feature.meta.classification != crate::domain::Classification::Restricted {
            return Ok(());
        }
        let row = AuditRow::new(self.clock().now(), AuditAction::Event, AuditOutcome::Ok)
            .layer(feature.layer())
            .features([feature.id])
            .detail(format!(
                "{kind} event with 1 restricted feature at exact precision"
            ));
        self.audit(viewer, row).await
    }

    /// Records a refusal of an anonymous caller, one by one up to
    /// [`ANONYMOUS_REFUSALS_PER_MINUTE`] per address and minute; past that they are counted
    /// and summed up in one record when the next minute starts.
    ///
    /// # Errors
    /// Store failures.
    pub async fn audit_refusal_of_anonymous(&self, row: AuditRow) -> Result<(), ServiceError> {
        let address = row.address.clone().unwrap_or_default();
        match self.refusals.count(&address, row.at) {
            RefusalVerdict::Mute => {
                tracing::debug!(address, "anonymous refusal counted, not recorded");
                Ok(())
            }
            RefusalVerdict::Record { muted } => {
                if muted > 0 {
                    let mut summary = row.clone();
                    summary.features = None;
                    summary.bbox = None;
                    let summary = summary.detail(format!(
                            "{muted} further refusals from this address in the minute before were not recorded one by one"
                        ));
                    self.audit_anonymous(summary).await?;
                }
                self.audit_anonymous(row).await
            }
        }
    }

    /// Appends a record with no signed-in caller (refused requests).
    ///
    /// # Errors
    /// Store failures.
    pub async fn audit_anonymous(&self, row: AuditRow) -> Result<(), ServiceError> {
        self.audit_queue.append(row.capped()).await?;
        Ok(())
    }

    /// Reads the audit log (administrators only).
    ///
    /// # Errors
    /// [`ServiceError::Forbidden`] for a caller without the admin flag; store failures.
    pub async fn read_audit(
        &self,
        viewer: &Viewer,
        filter: &AuditFilter,
    ) -> Result<Vec<AuditRow>, ServiceError> {
        if !viewer.role.admin {
            let now = self.clock().now();
            self.audit(
                viewer,
                AuditRow::new(now, AuditAction::AuditRead, AuditOutcome::Denied),
            )
            .await?;
            return Err(ServiceError::Forbidden(
                "only administrators may read the audit log".into(),
            ));
        }
        let rows = self.audit_records(filter).await?;
        let now = self.clock().now();
        self.audit(
            viewer,
            AuditRow::new(now, AuditAction::AuditRead, AuditOutcome::Ok)
                .detail(format!("{} records", rows.len())),
        )
        .await?;
        Ok(rows)
    }

    /// Sends this process's audit records through the journal of its SQLite file (see
    /// [`crate::store::audit_journal`]), moving in first what a stopped process left there;
    /// `false` on PostGIS, in memory, or when another process owns the journal (records then
    /// go by group commit).
    ///
    /// # Errors
    /// The journal's files cannot be opened, or its records cannot be moved.
    pub async fn open_audit_journal(&self) -> Result<bool, ServiceError> {
        let crate::store::Store::Sqlite(pool) = self.store() else {
            return Ok(false);
        };
        let Some(journal) = crate::store::audit_journal::AuditJournal::open(pool).await? else {
            return Ok(false);
        };
        drop(journal.spawn_mover());
        self.audit_queue.use_journal(journal);
        Ok(true)
    }

    /// Moves every audit record appended so far into the table.
    ///
    /// # Errors
    /// Database errors.
    pub async fn flush_audit(&self) -> Result<(), ServiceError> {
        self.audit_queue.flush().await?;
        Ok(())
    }

    /// The size of the audit journal's files in bytes, when records go through one.
    #[must_use]
    pub fn audit_journal_bytes(&self) -> Option<u64> {
        self.audit_queue.journal().map(|j| j.bytes())
    }

    /// Audit records matching `filter`, newest first, every record appended before this call
    /// included (no permission check: for the command line and tests).
    ///
    /// # Errors
    /// Database errors.
    pub async fn audit_records(&self, filter: &AuditFilter) -> Result<Vec<AuditRow>, ServiceError> {
        self.flush_audit().await?;
        Ok(self.store().audit(filter).await?)
    }
}
