//! Analyses over what the caller may see: pure functions, each checked against an established
//! implementation on fixed fixtures (`scripts/reference/`, `tests/fixtures/`).

pub mod backtest;
pub mod camera_view;
pub mod coverage;
pub mod deadline;
pub mod dosage;
pub mod emerging;
pub mod getis;
pub mod kde;
pub mod knox;
pub mod paths;
pub mod rates;
pub mod route_score;
pub mod trend;
