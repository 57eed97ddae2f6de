//! What an instance's picture holds, reduced to a digest per layer, so that an operator (or the
//! fault suite, `scripts/fault-suite`) can tell whether every instance on one database holds
//! exactly what the database holds.
//!
//! The digest of a layer is the wrapping sum, over its live features, of the first 8 bytes
//! (big-endian) of SHA-256 of `"{layer}/{id}/{version}"`. A sum does not depend on order, and
//! the same sum over the table's live rows gives the same number (`scripts/fault-suite` computes it
//! from `SELECT layer, id, version FROM features WHERE deleted_at IS NULL`).

use sha2::{Digest, Sha256};

use super::{Service, ServiceError};
use crate::domain::Layer;
use crate::domain::access::Viewer;
use crate::domain::audit::AuditAction;
use crate::store::changes::LogCursor;

/// One layer of the picture.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct LayerDigest {
    /// The layer.
    pub layer: &'static str,
    /// How many live features the picture holds.
    pub count: usize,
    /// The layer's digest, 16 hexadecimal digits (see the module's description).
    pub digest: String,
}

/// The whole picture of this instance.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PictureDigest {
    /// Every layer, in the order of [`Layer::ALL`].
    pub layers: Vec<LayerDigest>,
    /// The change-log entry the picture has applied everything up to (`None` without a log).
    pub applied: Option<LogCursor>,
}

/// The digest term of one feature.
#[must_use]
pub fn feature_term(layer: Layer, id: uuid::Uuid, version: i64) -> u64 {
    let hash = Sha256::digest(format!("{layer}/{id}/{version}").as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&hash[..8]);
    u64::from_be_bytes(first)
}

impl Service {
    /// The picture's digest per layer (administrators only; the refusal is audited).
    ///
    /// # Errors
    /// [`ServiceError::Forbidden`] for anyone but an administrator.
    pub async fn picture_digest(&self, viewer: &Viewer) -> Result<PictureDigest, ServiceError> {
        self.admin_only(viewer, AuditAction::Denied, "read the picture's digest")
            .await?;
        let unrestricted = self.unrestricted();
        let layers = Layer::ALL
            .iter()
            .map(|layer| {
                let all = unrestricted.all(*layer);
                let sum = all.iter().fold(0u64, |acc, f| {
                    acc.wrapping_add(feature_term(*layer, f.id, f.meta.version))
                });
                LayerDigest {
                    layer: layer.as_str(),
                    count: all.len(),
                    digest: format!("{sum:016x}"),
                }
            })
            .collect();
        Ok(PictureDigest {
            layers,
            applied: self.applied_position(),
        })
    }
}
