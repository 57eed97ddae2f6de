//! Re-reads of one kept tile by one caller, answered under the audit record of the first.
//!
//! A map asks for the same tiles again and again (a pan back, a zoom out and in, a projector
//! refreshing), and every tile that hands out exact features needs an audit record before it
//! is answered. The record of the first read says everything the next ones would: the same
//! caller (account, role, organisation, how signed in, address), the same kept tile (layer,
//! tile, view), so the same features to the byte. So the first read of a kept tile is recorded
//! and committed before it is answered, as every read is, and the same caller's re-reads of that
//! unchanged tile within [`COVERED_FOR`] are answered under it; the record says so in its
//! detail. Any change to the tile drops it from the cache, and the tile cut next is a new
//! generation whose first read is recorded again; another caller, or the same one from another
//! address, is recorded on their own.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::domain::access::{Via, Viewer};

/// How long one tile read's audit record covers the same caller's re-reads of the same
/// unchanged tile.
pub const COVERED_FOR: Duration = Duration::from_secs(60);
/// Covers kept at most (expired ones are dropped when full, then all).
const MAX_COVERS: usize = 100_000;

/// Who read, as the audit record names them, and which kept tile.
#[derive(Debug, PartialEq, Eq, Hash)]
struct Key {
    user: Arc<str>,
    role: Arc<str>,
    organisation: Arc<str>,
    via: Via,
    address: Option<Arc<str>>,
    generation: u64,
}

impl Key {
    fn new(viewer: &Viewer, generation: u64) -> Self {
        Self {
            user: Arc::clone(&viewer.user),
            role: Arc::clone(&viewer.role_id),
            organisation: Arc::clone(&viewer.organisation),
            via: viewer.via,
            address: viewer.address.clone(),
            generation,
        }
    }
}

/// The tile reads whose audit records are committed, and until when each covers re-reads.
#[derive(Debug)]
pub struct ReadCover {
    covered_for: Duration,
    until: Mutex<HashMap<Key, Instant>>,
}

impl Default for ReadCover {
    fn default() -> Self {
        Self::new(COVERED_FOR)
    }
}

impl ReadCover {
    /// Covers lasting `covered_for` ([`COVERED_FOR`] in the service; zero covers nothing).
    #[must_use]
    pub fn new(covered_for: Duration) -> Self {
        Self {
            covered_for,
            until: Mutex::new(HashMap::new()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Key, Instant>> {
        self.until
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Whether `viewer`'s read of kept tile `generation` has a committed record still covering
    /// it.
    #[must_use]
    pub fn covers(&self, viewer: &Viewer, generation: u64) -> bool {
        self.lock()
            .get(&Key::new(viewer, generation))
            .is_some_and(|until| Instant::now() < *until)
    }

    /// Notes that `viewer`'s read of kept tile `generation` was recorded (call only once its
    /// record is committed).
    pub fn cover(&self, viewer: &Viewer, generation: u64) {
        if self.covered_for.is_zero() {
            return;
        }
        let now = Instant::now();
        let mut until = self.lock();
        if until.len() >= MAX_COVERS {
            until.retain(|_, u| now < *u);
            // Mostly still running: start over rather than scan a full table on every cover
            // (a read then records anew, which is always allowed).
            if until.len() >= MAX_COVERS * 9 / 10 {
                until.clear();
            }
        }
        until.insert(Key::new(viewer, generation), now + self.covered_for);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::access::RoleBook;

    fn viewer(user: &str, address: Option<&str>, via: Via) -> Viewer {
        let roles = RoleBook::defaults().unwrap();
        Viewer {
            user: user.into(),
            organisation: "Polisen".into(),
            role_id: "police".into(),
            role: Arc::clone(roles.get("police").unwrap()),
            via,
            address: address.map(Arc::from),
        }
    }

    #[test]
    fn a_cover_is_for_one_caller_one_address_one_tile_generation() {
        let cover = ReadCover::default();
        let anna = viewer("anna", Some("10.0.0.1"), Via::Token);
        assert!(!cover.covers(&anna, 7));
        cover.cover(&anna, 7);
        assert!(cover.covers(&anna, 7));
        assert!(!cover.covers(&anna, 8), "a changed tile is read anew");
        assert!(!cover.covers(&viewer("bo", Some("10.0.0.1"), Via::Token), 7));
        assert!(!cover.covers(&viewer("anna", Some("10.0.0.2"), Via::Token), 7));
        assert!(!cover.covers(&viewer("anna", Some("10.0.0.1"), Via::Session), 7));
    }

    #[test]
    fn a_cover_ends() {
        let cover = ReadCover::new(Duration::from_millis(30));
        let anna = viewer("anna", None, Via::Token);
        cover.cover(&anna, 1);
        std::thread::sleep(Duration::from_millis(40));
        assert!(!cover.covers(&anna, 1));
        let none = ReadCover::new(Duration::ZERO);
        none.cover(&anna, 1);
        assert!(!none.covers(&anna, 1));
    }
}
