//! Creating, replacing and deleting features.

use std::sync::Arc;

use time::OffsetDateTime;
use uuid::Uuid;

use super::{Change, Service, ServiceError};
use crate::domain::access::{Action, Viewer};
use crate::domain::audit::{AuditAction, AuditOutcome};
use crate::domain::{Feature, FeatureDraft, Layer, Meta, ValidationErrors};
use crate::store::Progress;
use crate::store::audit::AuditRow;

/// The audit outcome of a failed write.
fn outcome(e: &ServiceError) -> AuditOutcome {
    match e {
        ServiceError::Forbidden(_) | ServiceError::Auth(_) => AuditOutcome::Denied,
        ServiceError::Invalid(_) | ServiceError::Unanswerable(_) | ServiceError::TooLarge(_) => {
            AuditOutcome::Invalid
        }
        ServiceError::NotFound(..) | ServiceError::NotFoundName(_) => AuditOutcome::NotFound,
        ServiceError::VersionConflict { .. }
        | ServiceError::DuplicateId(_)
        | ServiceError::Conflict(_) => AuditOutcome::Conflict,
        _ => AuditOutcome::Failed,
    }
}

/// Why `viewer` may not do `action` on a feature of `organisation`, if it may not.
fn refusal(
    viewer: &Viewer,
    action: Action,
    layer: Layer,
    organisation: &str,
) -> Option<ServiceError> {
    use crate::domain::access::Scope;
    if viewer.may(action, layer, organisation) {
        return None;
    }
    let verb = match action {
        Action::Create => "create",
        Action::Edit => "change",
        Action::Delete => "delete",
    };
    let role = &viewer.role.label;
    Some(ServiceError::Forbidden(
        match viewer.role.grant(layer).scope(action) {
            Scope::Own => format!(
                "your role ({role}) may {verb} features in '{layer}' only for your own organisation ({}), not for '{organisation}'",
                viewer.organisation
            ),
            _ => format!("your role ({role}) may not {verb} features in '{layer}'"),
        },
    ))
}

/// Refuses a classification above the role's ceiling.
fn check_ceiling(viewer: &Viewer, draft: &FeatureDraft) -> Result<(), ServiceError> {
    if viewer.may_see_classification(draft.classification) {
        Ok(())
    } else {
        Err(ServiceError::Forbidden(format!(
            "your role ({}) may classify features at most '{}', not '{}'",
            viewer.role.label, viewer.role.ceiling, draft.classification
        )))
    }
}

impl Service {
    /// Records a refused or failed write (a success is recorded in its own transaction) and
    /// hands the error back.
    pub(super) async fn refused<T>(
        &self,
        viewer: &Viewer,
        action: AuditAction,
        layer: Layer,
        ids: &[Uuid],
        e: ServiceError,
    ) -> Result<T, ServiceError> {
        let row = AuditRow::new(self.clock().now(), action, outcome(&e))
            .layer(layer)
            .features(ids.iter().copied())
            .detail(e.to_string());
        self.audit(viewer, row).await?;
        Err(e)
    }

    /// The feature `viewer` wants to `action`, if it may: a feature it cannot see exactly
    /// answers like an unknown id, one it can see but not change is forbidden.
    ///
    /// # Errors
    /// [`ServiceError::NotFound`], [`ServiceError::Forbidden`].
    pub fn changeable(
        &self,
        viewer: &Viewer,
        action: Action,
        layer: Layer,
        id: Uuid,
    ) -> Result<Arc<Feature>, ServiceError> {
        use crate::domain::access::Precision;
        let precision = self.precision(viewer, layer)?;
        if precision == Precision::Aggregate {
            // Decided before looking the id up, so the answer says nothing about it.
            return Err(refusal(viewer, action, layer, "").unwrap_or_else(|| {
                ServiceError::Forbidden(format!(
                    "your role ({}) sees only counts in '{layer}'",
                    viewer.role.label
                ))
            }));
        }
        let current = self
            .index()
            .get(layer, id)
            .filter(|f| viewer.may_see_classification(f.meta.classification))
            .ok_or(ServiceError::NotFound(layer, id))?;
        if let Some(e) = refusal(viewer, action, layer, &current.meta.organisation) {
            return Err(e);
        }
        if precision != Precision::Exact {
            return Err(ServiceError::Forbidden(format!(
                "your role ({}) sees '{layer}' only coarsely and cannot change its features",
                viewer.role.label
            )));
        }
        Ok(current)
    }
}

impl Service {
    /// Stores a new feature and, after the commit, indexes it.
    ///
    /// # Errors
    /// [`ServiceError::DuplicateId`] when the client-chosen id is taken; store failures.
    pub async fn create(
        &self,
        draft: FeatureDraft,
        viewer: &Viewer,
    ) -> Result<Arc<Feature>, ServiceError> {
        let mut created = self.create_many(vec![draft], viewer, &|_| {}).await?;
        created.pop().ok_or_else(|| {
            ServiceError::Store(crate::store::StoreError::Corrupt(
                "nothing was created".into(),
            ))
        })
    }

    /// Stores many new features in one transaction (all or none), then indexes them. Every
    /// feature must be within `viewer`'s grant; the write is audited either way.
    ///
    /// # Errors
    /// As [`Service::create`]; [`ServiceError::Forbidden`]; nothing is stored on error.
    #[tracing::instrument(level = "debug", skip_all, fields(user = %viewer.user, n = drafts.len()))]
    pub async fn create_many(
        &self,
        drafts: Vec<FeatureDraft>,
        viewer: &Viewer,
        progress: Progress<'_>,
    ) -> Result<Vec<Arc<Feature>>, ServiceError> {
        let layer = drafts
            .first()
            .map_or(Layer::Incidents, |d| d.properties.layer());
        let ids: Vec<Uuid> = drafts.iter().filter_map(|d| d.id).collect();
        // A success is audited in the transaction that stores it; a refusal on its own.
        match self.create_unaudited(drafts, viewer, progress).await {
            Ok(created) => Ok(created),
            Err(e) => {
                self.refused(viewer, AuditAction::Create, layer, &ids, e)
                    .await
            }
        }
    }

    /// The record of a successful write, committed with it.
    pub(super) fn success_row(
        &self,
        viewer: &Viewer,
        action: AuditAction,
        layer: Layer,
        ids: &[Uuid],
    ) -> AuditRow {
        self.audit_row_of(
            viewer,
            AuditRow::new(self.clock().now(), action, AuditOutcome::Ok)
                .layer(layer)
                .features(ids.iter().copied())
                .detail(format!("{} features", ids.len())),
        )
    }

    /// Stores `drafts` as new features **without the picture** (the command line's import into
    /// a database a server may be using): the checks and the audit record of
    /// [`Service::create_many`], one transaction, but the index is not touched — a running
    /// server applies the new rows from the change log when it writes its snapshot at the stop,
    /// and has them from its next start (following the log while serving is issue 14).
    /// Returns how many were stored.
    ///
    /// # Errors
    /// As [`Service::create_many`]; nothing is stored on error.
    pub async fn import_stored(
        &self,
        drafts: Vec<FeatureDraft>,
        viewer: &Viewer,
        progress: Progress<'_>,
    ) -> Result<usize, ServiceError> {
        let layer = drafts
            .first()
            .map_or(Layer::Incidents, |d| d.properties.layer());
        let ids: Vec<Uuid> = drafts.iter().filter_map(|d| d.id).collect();
        let stored = async {
            let features = self.stamped(drafts, viewer)?;
            let ids: Vec<Uuid> = features.iter().map(|f| f.id).collect();
            let row = self.success_row(viewer, AuditAction::Create, layer, &ids);
            self.store
                .insert_audited(&features, Some(&row), progress)
                .await?;
            Ok::<_, ServiceError>(features.len())
        };
        match stored.await {
            Ok(n) => Ok(n),
            Err(e) => {
                self.refused(viewer, AuditAction::Create, layer, &ids, e)
                    .await
            }
        }
    }

    /// New features from `drafts`, once `viewer` may create every one of them.
    fn stamped(
        &self,
        drafts: Vec<FeatureDraft>,
        viewer: &Viewer,
    ) -> Result<Vec<Feature>, ServiceError> {
        for d in &drafts {
            creatable(viewer, d)?;
        }
        let now = self.clock().now();
        Ok(drafts
            .into_iter()
            .map(|d| stamp(d, &viewer.user, now))
            .collect())
    }

    async fn create_unaudited(
        &self,
        drafts: Vec<FeatureDraft>,
        viewer: &Viewer,
        progress: Progress<'_>,
    ) -> Result<Vec<Arc<Feature>>, ServiceError> {
        let features = self.stamped(drafts, viewer)?;
        let layer = features.first().map_or(Layer::Incidents, |f| f.layer());
        let ids: Vec<Uuid> = features.iter().map(|f| f.id).collect();
        let row = self.success_row(viewer, AuditAction::Create, layer, &ids);
        let _guard = self.writes.lock().await;
        self.store
            .insert_audited(&features, Some(&row), progress)
            .await?;
        self.changes_written();
        let mut created = Vec::with_capacity(features.len());
        for f in features {
            let f = Arc::new(f);
            self.index.upsert(Feature::clone(&f));
            self.announce(Change::Upserted(Arc::clone(&f)));
            created.push(f);
        }
        Ok(created)
    }

    /// Replaces a feature's geometry and properties if it is still at `expected_version`.
    ///
    /// # Errors
    /// [`ServiceError::NotFound`], [`ServiceError::VersionConflict`], store failures.
    #[tracing::instrument(level = "debug", skip_all, fields(layer = %layer, %id, user = %viewer.user))]
    pub async fn replace(
        &self,
        viewer: &Viewer,
        layer: Layer,
        id: Uuid,
        draft: FeatureDraft,
        expected_version: i64,
    ) -> Result<Arc<Feature>, ServiceError> {
        match self
            .replace_unaudited(viewer, layer, id, draft, expected_version)
            .await
        {
            Ok(f) => Ok(f),
            Err(e) => {
                self.refused(viewer, AuditAction::Edit, layer, &[id], e)
                    .await
            }
        }
    }

    async fn replace_unaudited(
        &self,
        viewer: &Viewer,
        layer: Layer,
        id: Uuid,
        draft: FeatureDraft,
        expected_version: i64,
    ) -> Result<Arc<Feature>, ServiceError> {
        if draft.id.is_some_and(|d| d != id) {
            return Err(ValidationErrors::one(
                "/id",
                format!(
                    "does not match the feature addressed ({id}); leave it out or send the same id"
                ),
            )
            .into());
        }
        let _guard = self.writes.lock().await;
        self.changeable(viewer, Action::Edit, layer, id)?;
        if let Some(e) = refusal(viewer, Action::Edit, layer, &draft.organisation) {
            return Err(e);
        }
        check_ceiling(viewer, &draft)?;
        let before = self.current_at(layer, id, expected_version)?;
        let current = &before;
        let feature = Feature {
            id,
            geom: draft.geometry.into(),
            properties: draft.properties,
            meta: Meta {
                organisation: Arc::from(draft.organisation.as_str()),
                classification: draft.classification,
                created_at: current.meta.created_at,
                updated_at: self.clock().now(),
                created_by: Arc::clone(&current.meta.created_by),
                version: expected_version + 1,
            },
        };
        let row = self.success_row(viewer, AuditAction::Edit, layer, &[id]);
        self.store.update_audited(&feature, Some(&row)).await?;
        self.changes_written();
        let feature = Arc::new(feature);
        self.index.upsert(Feature::clone(&feature));
        self.announce(Change::Replaced {
            before,
            after: Arc::clone(&feature),
        });
        Ok(feature)
    }

    /// Soft-deletes a feature if it is still at `expected_version`.
    ///
    /// # Errors
    /// [`ServiceError::NotFound`], [`ServiceError::VersionConflict`], store failures.
    #[tracing::instrument(level = "debug", skip_all, fields(layer = %layer, %id, user = %viewer.user))]
    pub async fn delete(
        &self,
        viewer: &Viewer,
        layer: Layer,
        id: Uuid,
        expected_version: i64,
    ) -> Result<(), ServiceError> {
        match self
            .delete_unaudited(viewer, layer, id, expected_version)
            .await
        {
            Ok(()) => Ok(()),
            Err(e) => {
                self.refused(viewer, AuditAction::Delete, layer, &[id], e)
                    .await
            }
        }
    }

    async fn delete_unaudited(
        &self,
        viewer: &Viewer,
        layer: Layer,
        id: Uuid,
        expected_version: i64,
    ) -> Result<(), ServiceError> {
        let _guard = self.writes.lock().await;
        self.changeable(viewer, Action::Delete, layer, id)?;
        let current = self.current_at(layer, id, expected_version)?;
        let row = self.success_row(viewer, AuditAction::Delete, layer, &[id]);
        self.store
            .delete_audited(layer, id, expected_version, &viewer.user, Some(&row))
            .await?;
        self.changes_written();
        self.index.remove(layer, id);
        self.announce(Change::Deleted(current));
        Ok(())
    }
}

impl Service {
    /// The indexed feature if it is still at `expected_version` (call under the write lock).
    fn current_at(
        &self,
        layer: Layer,
        id: Uuid,
        expected_version: i64,
    ) -> Result<Arc<Feature>, ServiceError> {
        let current = self
            .index
            .get(layer, id)
            .ok_or(ServiceError::NotFound(layer, id))?;
        if current.meta.version != expected_version {
            return Err(ServiceError::VersionConflict {
                id,
                expected: expected_version,
                current: current.meta.version,
            });
        }
        Ok(current)
    }
}

/// Refuses `draft` unless `viewer` may create it as it is: a chosen id (only administrators and
/// the command line choose ids), the layer and organisation, the classification ceiling.
///
/// # Errors
/// [`ServiceError::Invalid`] for a chosen id, [`ServiceError::Forbidden`].
pub(super) fn creatable(viewer: &Viewer, draft: &FeatureDraft) -> Result<(), ServiceError> {
    // Ids are the server's to give: a client-chosen id that is taken would answer
    // differently from a free one, an oracle for features the caller cannot see. Only
    // administrators and the command line (imports keeping their source's ids) choose ids.
    let may_choose_ids = viewer.role.admin || viewer.via == crate::domain::access::Via::Local;
    if !may_choose_ids && draft.id.is_some() {
        return Err(ValidationErrors::one(
            "/id",
            "is assigned by the server; leave it out (the answer's Location names the new feature)",
        )
        .into());
    }
    if let Some(e) = refusal(
        viewer,
        Action::Create,
        draft.properties.layer(),
        &draft.organisation,
    ) {
        return Err(e);
    }
    check_ceiling(viewer, draft)
}

/// Turns a validated draft into a new feature at version 1.
#[must_use]
pub fn stamp(draft: FeatureDraft, actor: &str, now: OffsetDateTime) -> Feature {
    Feature {
        id: draft.id.unwrap_or_else(Uuid::new_v4),
        geom: draft.geometry.into(),
        properties: draft.properties,
        meta: Meta {
            organisation: Arc::from(draft.organisation.as_str()),
            classification: draft.classification,
            created_at: now,
            updated_at: now,
            created_by: Arc::from(actor),
            version: 1,
        },
    }
}
