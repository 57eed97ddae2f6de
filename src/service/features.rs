//! Creating, replacing and deleting features.

use std::sync::Arc;

use time::OffsetDateTime;
use uuid::Uuid;

use super::{Change, Service, ServiceError};
use crate::domain::{Feature, FeatureDraft, Layer, Meta, ValidationErrors};
use crate::store::Progress;

impl Service {
    /// Stores a new feature and, after the commit, indexes it.
    ///
    /// # Errors
    /// [`ServiceError::DuplicateId`] when the client-chosen id is taken; store failures.
    pub async fn create(
        &self,
        draft: FeatureDraft,
        actor: &str,
    ) -> Result<Arc<Feature>, ServiceError> {
        let mut created = self.create_many(vec![draft], actor, &|_| {}).await?;
        created.pop().ok_or_else(|| {
            ServiceError::Store(crate::store::StoreError::Corrupt(
                "nothing was created".into(),
            ))
        })
    }

    /// Stores many new features in one transaction (all or none), then indexes them.
    ///
    /// # Errors
    /// As [`Service::create`]; nothing is stored on error.
    pub async fn create_many(
        &self,
        drafts: Vec<FeatureDraft>,
        actor: &str,
        progress: Progress<'_>,
    ) -> Result<Vec<Arc<Feature>>, ServiceError> {
        let now = crate::domain::time::now_utc();
        let features: Vec<Feature> = drafts.into_iter().map(|d| stamp(d, actor, now)).collect();
        let _guard = self.writes.lock().await;
        self.store.insert(&features, progress).await?;
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
    pub async fn replace(
        &self,
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
        let current = self.current_at(layer, id, expected_version)?;
        let feature = Feature {
            id,
            geometry: draft.geometry,
            properties: draft.properties,
            meta: Meta {
                organisation: Arc::from(draft.organisation.as_str()),
                classification: draft.classification,
                created_at: current.meta.created_at,
                updated_at: crate::domain::time::now_utc(),
                created_by: Arc::clone(&current.meta.created_by),
                version: expected_version + 1,
            },
        };
        self.store.update(&feature).await?;
        let feature = Arc::new(feature);
        self.index.upsert(Feature::clone(&feature));
        self.announce(Change::Upserted(Arc::clone(&feature)));
        Ok(feature)
    }

    /// Soft-deletes a feature if it is still at `expected_version`.
    ///
    /// # Errors
    /// [`ServiceError::NotFound`], [`ServiceError::VersionConflict`], store failures.
    pub async fn delete(
        &self,
        layer: Layer,
        id: Uuid,
        expected_version: i64,
        actor: &str,
    ) -> Result<(), ServiceError> {
        let _guard = self.writes.lock().await;
        self.current_at(layer, id, expected_version)?;
        self.store
            .delete(layer, id, expected_version, actor)
            .await?;
        self.index.remove(layer, id);
        self.announce(Change::Deleted { layer, id });
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

/// Turns a validated draft into a new feature at version 1.
#[must_use]
pub fn stamp(draft: FeatureDraft, actor: &str, now: OffsetDateTime) -> Feature {
    Feature {
        id: draft.id.unwrap_or_else(Uuid::new_v4),
        geometry: draft.geometry,
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
