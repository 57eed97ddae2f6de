//! Need to know, over HTTP against a real server: the role × endpoint × layer matrix, sign-in
//! and its attacks, the personal-data guard, the audit trail and retention (one test binary).

#![allow(clippy::unwrap_used)] // Test code: a failed unwrap is a failed test.

#[path = "../common/mod.rs"]
mod common;

mod attacks;
mod audit;
mod matrix;
mod pii;
mod retention;
mod sessions;

use std::sync::Arc;

use lagesbild::domain::access::{RoleBook, Viewer};
use lagesbild::domain::{Classification, Feature, Layer};
use time::OffsetDateTime;
use uuid::Uuid;

/// The organisation the test account of `role` belongs to.
pub fn organisation_of(role: &str) -> &'static str {
    match role {
        "police" | "admin" => "Polisen",
        "night_walker" => "Nattvandrarna i Botkyrka",
        _ => "Botkyrka kommun",
    }
}

/// The shipped roles (the matrix reads its expectations from them, not from the test).
pub fn roles() -> &'static RoleBook {
    static ROLES: std::sync::OnceLock<RoleBook> = std::sync::OnceLock::new();
    ROLES.get_or_init(|| RoleBook::defaults().unwrap())
}

/// A viewer of `role`, as the server would build it for the test account.
pub fn viewer_of(role: &str) -> Viewer {
    let book = roles();
    Viewer {
        user: Arc::from(format!("t-{}", role.replace('_', "-"))),
        organisation: Arc::from(organisation_of(role)),
        role_id: Arc::from(role),
        role: Arc::clone(book.get(role).unwrap()),
        via: lagesbild::domain::access::Via::Token,
        address: None,
    }
}

/// The demo picture plus, for every layer, copies of one feature in every classification and
/// for two organisations, so each layer holds every classification.
pub fn fixture(as_of: OffsetDateTime) -> Vec<Feature> {
    let mut all = lagesbild::demo::demo(as_of);
    let mut extra = Vec::new();
    for layer in Layer::ALL {
        let Some(base) = all.iter().find(|f| f.layer() == *layer) else {
            continue;
        };
        for (i, class) in Classification::ALL.iter().enumerate() {
            for org in ["Polisen", "Botkyrka kommun"] {
                let mut f = base.clone();
                f.id = Uuid::new_v4();
                f.meta.classification = *class;
                f.meta.organisation = Arc::from(org);
                // Spread them a little so that cells differ.
                #[allow(clippy::cast_precision_loss)]
                let d = 0.003 * (i as f64 + 1.0);
                use geo::MapCoordsInPlace;
                let mut g = f.geometry().into_owned();
                g.map_coords_in_place(|c| geo::Coord { x: c.x + d, y: c.y });
                f.geom = g.into();
                extra.push(f);
            }
        }
    }
    all.extend(extra);
    all
}
