//! API tests over HTTP against a real server on a random port (one test binary).

#![allow(clippy::unwrap_used)] // Test code: a failed unwrap is a failed test.

#[path = "../common/mod.rs"]
mod common;

mod agenda;
mod analysis;
mod areas;
mod bad_input;
mod basemap;
mod cameras;
mod clients;
mod compact;
mod crs;
mod discovery;
mod disk;
mod dosage;
mod faults;
mod filter;
mod follow;
mod gis_client;
mod measures;
mod meetings;
mod near_repeat;
mod read;
mod reports;
mod restart;
mod routes;
mod schema;
mod snapshot;
mod tiles;
mod time_limit;
mod write;
