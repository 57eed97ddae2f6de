//! Use cases: read the picture, write features, import and export.
//!
//! Every write goes to the store first, in one transaction; only after the commit is it applied
//! to the in-memory index and announced on the change feed. A single write lock orders the
//! commits and their application to the index, so the index never shows an older version after
//! a newer one. Readers never take that lock.

pub mod export;
pub mod features;
pub mod import;

use std::sync::Arc;

use tokio::sync::{Mutex, broadcast};
use uuid::Uuid;

use crate::domain::{Feature, Layer, ValidationErrors};
use crate::index::{FeatureIndex, LayerLoad};
use crate::store::{Store, StoreError};

/// A committed change, as announced on the change feed.
#[derive(Debug, Clone)]
pub enum Change {
    /// A feature was created or replaced.
    Upserted(Arc<Feature>),
    /// A feature was deleted.
    Deleted {
        /// Its layer.
        layer: Layer,
        /// Its id.
        id: Uuid,
    },
}

/// What a use case can fail with.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServiceError {
    /// The input breaks the domain's rules.
    #[error("invalid input: {0}")]
    Invalid(#[from] ValidationErrors),
    /// No such live feature in this layer.
    #[error("no feature {1} in layer '{0}'")]
    NotFound(Layer, Uuid),
    /// Someone else changed the feature first.
    #[error("feature {id} is at version {current}; you sent version {expected}")]
    VersionConflict {
        /// The feature.
        id: Uuid,
        /// The version the caller had.
        expected: i64,
        /// The version now stored.
        current: i64,
    },
    /// The id is taken.
    #[error("a feature with id {0} exists already")]
    DuplicateId(Uuid),
    /// The database failed.
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for ServiceError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(l, id) => ServiceError::NotFound(l, id),
            StoreError::VersionConflict {
                id,
                expected,
                current,
            } => ServiceError::VersionConflict {
                id,
                expected,
                current,
            },
            StoreError::DuplicateId(id) => ServiceError::DuplicateId(id),
            other => ServiceError::Store(other),
        }
    }
}

/// The picture: store, index and change feed.
pub struct Service {
    store: Store,
    index: Arc<FeatureIndex>,
    writes: Mutex<()>,
    changes: broadcast::Sender<Change>,
}

impl Service {
    /// Opens the picture on `store`: loads every layer into the index.
    ///
    /// # Errors
    /// When the store cannot be read.
    pub async fn open(store: Store) -> Result<Self, StoreError> {
        let index = Arc::new(FeatureIndex::new());
        let mut loads: Vec<LayerLoad> = Layer::ALL
            .iter()
            .map(|_| LayerLoad::with_capacity(0))
            .collect();
        store
            .for_each_live(&mut |f| loads[usize::from(f.layer().code())].push(f))
            .await?;
        for (layer, load) in Layer::ALL.iter().zip(loads) {
            index.install(*layer, load);
        }
        let (changes, _) = broadcast::channel(1024);
        Ok(Self {
            store,
            index,
            writes: Mutex::new(()),
            changes,
        })
    }

    /// The in-memory index, for queries.
    #[must_use]
    pub fn index(&self) -> &FeatureIndex {
        &self.index
    }

    /// The store behind the picture.
    #[must_use]
    pub const fn store(&self) -> &Store {
        &self.store
    }

    /// Subscribes to committed changes.
    #[must_use]
    pub fn subscribe(&self) -> broadcast::Receiver<Change> {
        self.changes.subscribe()
    }

    fn announce(&self, change: Change) {
        // No subscriber is fine.
        let _ = self.changes.send(change);
    }
}
