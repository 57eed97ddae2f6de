//! Writing a layer as a GeoJSON FeatureCollection.

use std::io::Write;

use time::OffsetDateTime;

use super::{Service, ServiceError};
use crate::domain::Layer;

impl Service {
    /// Writes every live feature of `layer` as an RFC 7946 FeatureCollection, returning how many.
    ///
    /// # Errors
    /// Store failures, or the writer failing.
    pub async fn export_geojson(
        &self,
        layer: Layer,
        mut out: impl Write,
    ) -> Result<usize, ServiceError> {
        let features = self.store.load_layer(layer, &|_| {}).await?;
        let today = OffsetDateTime::now_utc().date();
        let io = |e: std::io::Error| {
            ServiceError::Store(crate::store::StoreError::Io(e, "the export output".into()))
        };
        write!(
            out,
            "{{\"type\":\"FeatureCollection\",\"name\":\"{}\",\"features\":[",
            layer.as_str()
        )
        .map_err(io)?;
        for (i, f) in features.iter().enumerate() {
            if i > 0 {
                out.write_all(b",\n").map_err(io)?;
            }
            serde_json::to_writer(&mut out, &f.geojson(today)).map_err(|e| io(e.into()))?;
        }
        out.write_all(b"]}\n").map_err(io)?;
        out.flush().map_err(io)?;
        Ok(features.len())
    }
}
