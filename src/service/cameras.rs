//! Camera views (issue 15): each camera the caller may see exactly, with what it sees in
//! zones by image detail (IEC 62676-4, `analysis::camera_view`). A view's apex is the camera's
//! position, so only roles that read cameras exactly get views, and the read is audited like a
//! page of cameras (restricted ones named).
//!
//! Building footprints cut a view when given; no `buildings` layer is imported yet, so views
//! are open sectors (the geometry and its test against a ray-cast reference are in place).

use std::sync::Arc;

use super::visibility::{Shown, cpu_bound};
use super::{Service, ServiceError};
use crate::analysis::camera_view::{Lens, Zone, zones};
use crate::domain::access::{Precision, Viewer};
use crate::domain::{Feature, Layer, Properties};
use crate::index::{Filters, Page, Spatial};

/// Views worked out in one answer at most (more cameras in the box are said, not dropped
/// silently).
pub const MAX_VIEWS: usize = 5_000;

/// One camera and what it sees.
#[derive(Debug, Clone)]
pub struct CameraView {
    /// The camera.
    pub camera: Arc<Feature>,
    /// Its zones, finest detail first, the whole registered range last.
    pub zones: Vec<Zone>,
}

/// Camera views in a box, and how many cameras matched.
#[derive(Debug, Clone)]
pub struct CameraViews {
    /// Views of the cameras returned (at most [`MAX_VIEWS`]).
    pub views: Vec<CameraView>,
    /// Cameras in the box the caller may see.
    pub matched: usize,
}

impl Service {
    /// The views of the cameras in `spatial` that `viewer` reads exactly.
    ///
    /// # Errors
    /// [`ServiceError::Forbidden`] below exact precision on cameras (a view shows where the
    /// camera is); store failures of the audit record.
    pub async fn camera_views(
        &self,
        viewer: &Viewer,
        spatial: &Spatial,
    ) -> Result<CameraViews, ServiceError> {
        if self.precision(viewer, Layer::Cameras)? != Precision::Exact {
            return Err(ServiceError::Forbidden(format!(
                "your role ({}) does not see where cameras are, and a camera's view shows it",
                viewer.role.label
            )));
        }
        let items = self
            .read_items(
                viewer,
                Layer::Cameras,
                spatial,
                &Filters::default(),
                Page {
                    offset: 0,
                    limit: MAX_VIEWS,
                },
            )
            .await?;
        let cameras: Vec<Arc<Feature>> = items
            .features
            .into_iter()
            .filter_map(|s| match s {
                Shown::Exact { feature, .. } => Some(feature),
                Shown::Coarse(_) => None,
            })
            .collect();
        let views = cpu_bound(|| {
            cameras
                .into_iter()
                .filter_map(|camera| {
                    let lens = lens_of(&camera)?;
                    Some(CameraView {
                        zones: zones(&lens, &[]),
                        camera,
                    })
                })
                .collect()
        });
        Ok(CameraViews {
            views,
            matched: items.matched,
        })
    }
}

/// A camera feature's lens (`None` for a camera that is not a point).
fn lens_of(f: &Feature) -> Option<Lens> {
    let (Properties::Camera(c), geo::Geometry::Point(p)) = (&f.properties, &f.geometry) else {
        return None;
    };
    Some(Lens {
        at: (p.x(), p.y()),
        direction: c.direction,
        field_of_view: c.field_of_view,
        range_m: c.range_m,
        resolution_px: c.resolution_px,
    })
}
