//! Writing a layer as a GeoJSON FeatureCollection.

use std::collections::HashMap;
use std::io::Write;
use std::sync::Arc;

use super::{Service, ServiceError};
use crate::domain::Layer;
use crate::domain::access::{Precision, Viewer};
use crate::domain::audit::{AuditAction, AuditOutcome};
use crate::store::StoreError;
use crate::store::audit::AuditRow;

impl Service {
    /// Writes every live feature of `layer` that `viewer` may see, as it may see it, as an
    /// RFC 7946 FeatureCollection streamed from the store; returns how many were written. The
    /// export is audited (with the ids written) whether or not it succeeds.
    ///
    /// # Errors
    /// [`ServiceError::Forbidden`] for `none` and `aggregate` layers; store failures, or the
    /// writer failing.
    #[tracing::instrument(level = "debug", skip_all, fields(layer = %layer, user = %viewer.user))]
    pub async fn export_geojson(
        &self,
        viewer: &Viewer,
        layer: Layer,
        mut out: impl Write + Send,
    ) -> Result<usize, ServiceError> {
        let precision = self.precision(viewer, layer);
        if let Err(e) | Ok(Err(e)) = precision.map(|p| match p {
            Precision::Aggregate => Err(ServiceError::Forbidden(format!(
                "your role ({}) sees only counts in the layer '{layer}'; it cannot be exported",
                viewer.role.label
            ))),
            _ => Ok(()),
        }) {
            self.audit(
                viewer,
                AuditRow::new(
                    self.clock().now(),
                    AuditAction::Export,
                    AuditOutcome::Denied,
                )
                .layer(layer)
                .detail(e.to_string()),
            )
            .await?;
            return Err(e);
        }
        let mut ids = Vec::new();
        let mut cells = HashMap::new();
        let today = crate::domain::time::now_utc().date();
        let io =
            |e: std::io::Error| ServiceError::Store(StoreError::Io(e, "the export output".into()));
        write!(
            out,
            "{{\"type\":\"FeatureCollection\",\"name\":\"{layer}\",\"features\":["
        )
        .map_err(io)?;
        let mut written = 0usize;
        let mut failed: Option<std::io::Error> = None;
        self.store
            .for_each_in_layer(layer, &mut |f| {
                if failed.is_some() {
                    return;
                }
                let Some(shown) = self.show(viewer, &Arc::new(f), &mut cells) else {
                    return;
                };
                ids.push(shown.id());
                let sep: &[u8] = if written == 0 { b"\n" } else { b",\n" };
                let result = out.write_all(sep).and_then(|()| {
                    let json = shown.to_json(today)?;
                    out.write_all(json.as_bytes())
                });
                match result {
                    Ok(()) => written += 1,
                    Err(e) => failed = Some(e),
                }
            })
            .await?;
        let result = match failed {
            Some(e) => Err(io(e)),
            None => out
                .write_all(b"\n]}\n")
                .and_then(|()| out.flush())
                .map_err(io),
        };
        let row = AuditRow::new(
            self.clock().now(),
            AuditAction::Export,
            if result.is_ok() {
                AuditOutcome::Ok
            } else {
                AuditOutcome::Failed
            },
        )
        .layer(layer)
        .features(ids.iter().copied())
        .detail(format!("{written} features as GeoJSON"));
        self.audit(viewer, row).await?;
        result.map(|()| written)
    }
}
