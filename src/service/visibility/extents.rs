//! What a caller may know of a layer as a whole: its extent in space and time and its size,
//! computed over what the caller sees (a feature above its ceiling never widens them) and
//! rounded below `exact`.

use super::widen_to_weeks;
use crate::domain::Layer;
use crate::domain::access::{Precision, Viewer};
use crate::domain::time::TimeSpan;
use crate::service::Service;

/// A layer's extent and size as one viewer may know them ([`Service::layer_summary`]).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct LayerSummary {
    /// `[min_lon, min_lat, max_lon, max_lat]`, if the viewer sees anything.
    pub bbox: Option<[f64; 4]>,
    /// First and last time (Unix seconds), if the viewer sees anything with a time.
    pub time: Option<(i64, i64)>,
    /// How many features the viewer sees (`None` for counts-only viewers).
    pub count: Option<usize>,
}

/// A box grown outwards to multiples of `step` degrees.
#[must_use]
pub fn round_out(b: [f64; 4], step: f64) -> [f64; 4] {
    [
        (b[0] / step).floor() * step,
        (b[1] / step).floor() * step,
        (b[2] / step).ceil() * step,
        (b[3] / step).ceil() * step,
    ]
}

impl Service {
    /// What `viewer` may know of `layer` as a whole: its extent and (above `aggregate`) how many
    /// features it holds, computed over what the viewer sees. Exact viewers get the box and time
    /// span of the features within their ceiling; coarse viewers the same rounded out to 0.05°
    /// and whole weeks; counts-only viewers the box of the published cells and areas and the
    /// weeks of published buckets, rounded the same way, and no count.
    #[must_use]
    pub fn layer_summary(&self, viewer: &Viewer, layer: Layer) -> LayerSummary {
        let round = |(bbox, time): (Option<[f64; 4]>, Option<(i64, i64)>)| {
            (
                bbox.map(|b| round_out(b, 0.05)),
                time.map(|(a, b)| {
                    let w = widen_to_weeks(TimeSpan { start: a, end: b });
                    (w.start, w.end)
                }),
            )
        };
        match viewer.precision(layer) {
            Precision::None => LayerSummary::default(),
            Precision::Aggregate => {
                let (bbox, time) = round(self.published_extent(viewer, layer));
                LayerSummary {
                    bbox,
                    time,
                    count: None,
                }
            }
            p => {
                let e = self
                    .index()
                    .extent_within(layer, viewer.role.ceiling.code());
                let (bbox, time) = if p == Precision::Exact {
                    (e.bbox, e.time)
                } else {
                    round((e.bbox, e.time))
                };
                LayerSummary {
                    bbox,
                    time,
                    count: Some(e.count),
                }
            }
        }
    }
}
