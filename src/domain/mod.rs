//! Plain types of the lägesbild domain: layers, features, their typed properties and the rules
//! that make them valid. Nothing here does I/O.

#[macro_use]
mod str_enum;
pub mod access;
pub mod area;
pub mod audit;
pub mod bbox;
pub mod camera;
pub mod compact_geometry;
pub mod crs;
pub mod error;
pub mod feature;
pub mod geojson_out;
pub mod geometry;
pub mod incident;
pub mod layer;
pub mod measure;
pub mod meeting;
pub mod patrol_route;
pub mod pii;
pub mod problems;
pub mod risk_environment;
pub mod schema;
pub mod text;
pub mod time;
pub mod walk;

pub use bbox::Bbox;
pub use compact_geometry::CompactGeometry;
pub use error::{UnknownValue, ValidationError, ValidationErrors};
pub use feature::{Classification, Feature, FeatureDraft, Meta, Properties, StoredColumns};
pub use layer::Layer;
