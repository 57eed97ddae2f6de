//! lagesbild: a shared situational picture (*gemensam lägesbild*) for municipalities and police.
//!
//! Data flows one way: HTTP ([`api`]) → use cases ([`service`]) → the in-memory R-tree
//! ([`index`]) for reads, or the database ([`store`]) for writes, which are applied to the index
//! only after they commit. [`domain`] holds the plain types all of them share and does no I/O.

/// Analyses: pure statistics over what the caller may see.
pub mod analysis;
/// The HTTP edge: OGC API – Features, problem+json errors (only module using axum).
pub mod api;
/// The basemap: one tile file, drawn on the screen and in briefings.
pub mod basemap;
/// Briefing maps: one page as SVG, then vector PDF or PNG.
pub mod briefing;
/// The command line (clap).
pub mod cli;
/// Settings from defaults, file, environment and flags.
pub mod config;
/// Deterministic, fictitious demo data.
pub mod demo;
/// Layers, features, validation: plain types without I/O.
pub mod domain;
pub mod filter;
pub mod gpkg;
/// The in-memory R-tree per layer.
pub mod index;
/// The Swedish words shared by the map client, the briefings and the HTML pages.
pub mod labels;
/// Use cases: write then index, import, export.
pub mod service;
/// The one build path used by `main` and the tests.
pub mod startup;
/// PostGIS and SQLite persistence (only module using sqlx).
pub mod store;
/// Logging setup.
pub mod telemetry;
/// Vector tiles (MVT) in WebMercatorQuad: tile arithmetic, cutting, gridding, encoding.
pub mod tiles;
