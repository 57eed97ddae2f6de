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
use crate::store::access::{AuditFilter, AuditRow};

/// At most this many feature ids are listed in one record; the count is always in the detail.
pub const MAX_IDS_PER_RECORD: usize = 10_000;

impl AuditRow {
    /// A record of `action` with `outcome` at `at`; the actor is filled in by [`Service::audit`].
    #[must_use]
    pub fn new(at: OffsetDateTime, action: &str, outcome: &str) -> Self {
        Self {
            id: 0,
            at,
            actor: "anonymous".into(),
            role: None,
            action: action.into(),
            layer: None,
            features: None,
            bbox: None,
            address: None,
            outcome: outcome.into(),
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
        self.store().append_audit(&row).await?;
        Ok(())
    }

    /// Appends a record with no signed-in caller (refused requests).
    ///
    /// # Errors
    /// Store failures.
    pub async fn audit_anonymous(&self, row: AuditRow) -> Result<(), ServiceError> {
        self.store().append_audit(&row).await?;
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
            self.audit(viewer, AuditRow::new(now, "audit.read", "denied"))
                .await?;
            return Err(ServiceError::Forbidden(
                "only administrators may read the audit log".into(),
            ));
        }
        let rows = self.store().audit(filter).await?;
        let now = self.clock().now();
        self.audit(
            viewer,
            AuditRow::new(now, "audit.read", "ok").detail(format!("{} records", rows.len())),
        )
        .await?;
        Ok(rows)
    }
}
