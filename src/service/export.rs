//! Writing a layer as a GeoJSON FeatureCollection.

use std::io::Write;

use super::{Service, ServiceError};
use crate::domain::Layer;
use crate::store::StoreError;

impl Service {
    /// Writes every live feature of `layer` as an RFC 7946 FeatureCollection, streaming from the
    /// store, and returns how many were written.
    ///
    /// # Errors
    /// Store failures, or the writer failing.
    pub async fn export_geojson(
        &self,
        layer: Layer,
        mut out: impl Write + Send,
    ) -> Result<usize, ServiceError> {
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
                let sep: &[u8] = if written == 0 { b"\n" } else { b",\n" };
                let result = out.write_all(sep).and_then(|()| {
                    serde_json::to_writer(&mut out, &f.geojson(today)).map_err(Into::into)
                });
                match result {
                    Ok(()) => written += 1,
                    Err(e) => failed = Some(e),
                }
            })
            .await?;
        if let Some(e) = failed {
            return Err(io(e));
        }
        out.write_all(b"\n]}\n").map_err(io)?;
        out.flush().map_err(io)?;
        Ok(written)
    }
}
