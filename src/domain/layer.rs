//! The layers (OGC collections) of the picture.

use super::geometry::{Accepts, GeometryKind};

str_enum! {
    /// One layer of the picture; its wire name is the OGC collection id.
    pub enum Layer {
        /// Händelser: car fires, shootings, caches, vandalism, …
        Incidents = "incidents",
        /// Riskmiljöer: point-marked places where young people risk recruitment.
        RiskEnvironments = "risk_environments",
        /// Kameror: camera positions with viewing sector.
        Cameras = "cameras",
        /// Nattvandringsrutter: routes walked by night walkers, field workers or police.
        PatrolRoutes = "patrol_routes",
        /// Genomförda vandringar: walks done on a route, with a short report.
        Walks = "walks",
        /// Områden: district outlines used to aggregate and compare.
        Areas = "areas",
        /// Åtgärder: measures decided per area, with owner, dates and follow-up.
        Measures = "measures",
    }
}

impl Layer {
    /// Title shown to people (Swedish, as in the user interface).
    #[must_use]
    pub const fn title(self) -> &'static str {
        match self {
            Layer::Incidents => "Händelser",
            Layer::RiskEnvironments => "Riskmiljöer",
            Layer::Cameras => "Kameror",
            Layer::PatrolRoutes => "Nattvandringsrutter",
            Layer::Walks => "Genomförda vandringar",
            Layer::Areas => "Områden",
            Layer::Measures => "Åtgärder",
        }
    }

    /// One-sentence description for the collection metadata.
    #[must_use]
    pub const fn description(self) -> &'static str {
        match self {
            Layer::Incidents => {
                "Incidents reported by police, municipality and partners: time, place, category, severity."
            }
            Layer::RiskEnvironments => {
                "Point-marked risk environments with risk level, kind and review dates; overdue markings are stale."
            }
            Layer::Cameras => {
                "Camera locations with viewing direction, field of view, range, owner and status."
            }
            Layer::PatrolRoutes => {
                "Night-patrol routes with organisation kind, weekdays, hours and status."
            }
            Layer::Walks => "Walks done on a patrol route, with time and a short report.",
            Layer::Areas => {
                "Approximate district outlines with the police classification of vulnerable areas where public."
            }
            Layer::Measures => {
                "Measures decided per area: kind, cause answered, owner, status, dates and the incident categories they aim at."
            }
        }
    }

    /// What this layer's geometries are checked for.
    #[must_use]
    pub const fn accepts(self) -> Accepts {
        Accepts {
            name: self.as_str(),
            kinds: self.allowed_geometries(),
        }
    }

    /// The geometry kinds a feature of this layer may have.
    #[must_use]
    pub const fn allowed_geometries(self) -> &'static [GeometryKind] {
        use GeometryKind::{LineString, MultiLineString, MultiPolygon, Point, Polygon};
        match self {
            Layer::Incidents | Layer::RiskEnvironments => &[Point, Polygon],
            Layer::Cameras => &[Point],
            Layer::PatrolRoutes | Layer::Walks => &[LineString, MultiLineString],
            Layer::Areas => &[Polygon, MultiPolygon],
            Layer::Measures => &[Point, LineString, Polygon, MultiPolygon],
        }
    }

    /// The values of this layer's `category` filter, or none if it has no categories.
    #[must_use]
    pub fn category_names(self) -> &'static [&'static str] {
        match self {
            Layer::Incidents => super::incident::IncidentCategory::NAMES,
            Layer::RiskEnvironments => super::risk_environment::RiskKind::NAMES,
            Layer::Cameras => super::camera::CameraOwner::NAMES,
            Layer::PatrolRoutes => super::patrol_route::RouteKind::NAMES,
            Layer::Walks => &[],
            Layer::Areas => super::area::PoliceClassification::NAMES,
            Layer::Measures => super::measure::MeasureKind::NAMES,
        }
    }

    /// The values of this layer's `status` filter, or none if it has no status.
    #[must_use]
    pub fn status_names(self) -> &'static [&'static str] {
        match self {
            Layer::Incidents => super::incident::IncidentStatus::NAMES,
            Layer::RiskEnvironments => super::risk_environment::RiskStatus::NAMES,
            Layer::Cameras => super::camera::CameraStatus::NAMES,
            Layer::PatrolRoutes => super::patrol_route::RouteStatus::NAMES,
            Layer::Measures => super::measure::MeasureStatus::NAMES,
            Layer::Walks | Layer::Areas => &[],
        }
    }

    /// The property that `category` filters on, for documentation.
    #[must_use]
    pub const fn category_property(self) -> Option<&'static str> {
        match self {
            Layer::Incidents => Some("category"),
            Layer::RiskEnvironments => Some("kind"),
            Layer::Cameras => Some("owner"),
            Layer::PatrolRoutes => Some("kind"),
            Layer::Walks => None,
            Layer::Areas => Some("police_classification"),
            Layer::Measures => Some("kind"),
        }
    }

    /// The properties that `datetime` filters on, for documentation; none for timeless layers.
    #[must_use]
    pub const fn temporal_properties(self) -> Option<(&'static str, Option<&'static str>)> {
        match self {
            Layer::Incidents => Some(("occurred_at", None)),
            Layer::RiskEnvironments => Some(("since", None)),
            Layer::Walks => Some(("started_at", Some("ended_at"))),
            Layer::Measures => Some(("start", Some("end"))),
            Layer::Cameras | Layer::PatrolRoutes | Layer::Areas => None,
        }
    }
}
