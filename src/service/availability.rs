//! Whether the database answers, and what a server does while it does not (issue 14): reads of
//! the picture go on from the index, writes and anything that must be recorded first (audited
//! reads, sign-ins) answer 503 with `Retry-After`, and `/health` says `degraded`. When the
//! database is back, the change log brings the picture up to date.
//!
//! While the database answers, a credential it confirmed is trusted for
//! [`Options::credential_recheck`](super::Options::credential_recheck) (one second unless
//! configured) before it is asked again: a revocation, a disabled account or a new password
//! is refused at once on the instance that made it (it forgets what it remembered) and at most
//! that long after on the others. Expiry is checked on every request.
//!
//! A caller signed in before the outage stays recognised: each credential the database
//! confirmed is remembered for [`REMEMBER_CREDENTIALS`], and used only when the database cannot
//! be asked. Nobody can revoke a token or end a session while the database is unreachable, so
//! the exposure is a token revoked on another instance just before the outage, for that
//! long, and only for what needs no audit record (restricted reads do).

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use time::OffsetDateTime;

use super::{Service, ServiceError};
use crate::domain::access::Viewer;
use crate::store::StoreError;

/// How long a credential the database confirmed may stand in for it while it is unreachable.
pub const REMEMBER_CREDENTIALS: Duration = Duration::from_secs(600);
/// Credentials remembered at most (the oldest half is forgotten when full).
const MAX_REMEMBERED: usize = 10_000;
/// How long the database has to answer a health probe.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(2);
/// Seconds a client is told to wait before trying a write again.
pub const RETRY_AFTER_SECS: i64 = 5;

/// A credential the database confirmed.
#[derive(Debug, Clone)]
pub(super) struct Remembered {
    pub viewer: Viewer,
    /// A session's CSRF token and expiry.
    pub session: Option<(String, OffsetDateTime)>,
    /// A token's expiry.
    pub expires_at: Option<OffsetDateTime>,
    confirmed: Instant,
}

/// The database's state as the server last saw it, and the credentials it confirmed.
#[derive(Debug, Default)]
pub(super) struct Availability {
    down: AtomicBool,
    credentials: Mutex<HashMap<Vec<u8>, Remembered>>,
    /// Counts forgettings: a confirmation read before one is not remembered after it (a
    /// request in flight while a token is revoked must not bring the old answer back).
    forgotten: std::sync::atomic::AtomicU64,
}

/// What a confirmation started from: the forgettings so far and when it asked.
#[derive(Debug, Clone, Copy)]
pub(super) struct Asking {
    forgotten: u64,
    at: Instant,
}

impl Availability {
    fn credentials(&self) -> std::sync::MutexGuard<'_, HashMap<Vec<u8>, Remembered>> {
        self.credentials
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Call before asking the database to confirm a credential; hand the answer to
    /// [`Availability::remember`].
    pub(super) fn asking(&self) -> Asking {
        Asking {
            forgotten: self.forgotten.load(Ordering::Acquire),
            at: Instant::now(),
        }
    }

    /// Remembers what the database confirmed when `asked`, unless something was forgotten
    /// since (then the answer may be older than a revocation, and the next request asks
    /// again). The confirmation counts from when it was asked, not answered.
    pub(super) fn remember(
        &self,
        asked: Asking,
        hash: Vec<u8>,
        viewer: &Viewer,
        session: Option<(String, OffsetDateTime)>,
        expires_at: Option<OffsetDateTime>,
    ) {
        let mut c = self.credentials();
        // Under the lock that forgetting takes too: no forgetting slips in between.
        if self.forgotten.load(Ordering::Acquire) != asked.forgotten {
            return;
        }
        if c.len() >= MAX_REMEMBERED && !c.contains_key(&hash) {
            let mut ages: Vec<Instant> = c.values().map(|r| r.confirmed).collect();
            ages.sort_unstable();
            let cut = ages[ages.len() / 2];
            c.retain(|_, r| r.confirmed > cut);
        }
        c.insert(
            hash,
            Remembered {
                viewer: viewer.clone(),
                session,
                expires_at,
                confirmed: asked.at,
            },
        );
    }

    /// Forgets a credential the database has just refused. Confirmations in flight may still
    /// be remembered: they were asked no later than this refusal, so they expire within the
    /// recheck interval of it, as a change made elsewhere does.
    pub(super) fn forget_refused(&self, hash: &[u8]) {
        self.credentials().remove(hash);
    }

    /// Forgets a credential this server has just ended (a logout), and every confirmation of it
    /// still in flight.
    pub(super) fn forget(&self, hash: &[u8]) {
        let mut c = self.credentials();
        self.forgotten.fetch_add(1, Ordering::AcqRel);
        c.remove(hash);
    }

    /// Forgets every credential (a token revoked, an account disabled or given a new
    /// password: rare, and the next request of everyone else confirms theirs again).
    pub(super) fn forget_all(&self) {
        let mut c = self.credentials();
        self.forgotten.fetch_add(1, Ordering::AcqRel);
        c.clear();
    }

    /// A credential confirmed recently enough to stand in for the database while it cannot
    /// be asked, and not expired at `now`.
    pub(super) fn recall(&self, hash: &[u8], now: OffsetDateTime) -> Option<Remembered> {
        self.recall_within(hash, now, REMEMBER_CREDENTIALS)
    }

    /// A credential the database confirmed at most `within` ago and not expired at `now`
    /// (expiry is decided here, on every request, not when it was confirmed).
    pub(super) fn recall_within(
        &self,
        hash: &[u8],
        now: OffsetDateTime,
        within: Duration,
    ) -> Option<Remembered> {
        if within.is_zero() {
            return None;
        }
        let c = self.credentials();
        let r = c.get(hash)?;
        let expired = r.expires_at.is_some_and(|e| e <= now)
            || r.session.as_ref().is_some_and(|(_, e)| *e <= now);
        (r.confirmed.elapsed() <= within && !expired).then(|| r.clone())
    }
}

impl Service {
    /// Whether the last health probe found the database unreachable.
    #[must_use]
    pub fn database_down(&self) -> bool {
        self.availability.down.load(Ordering::Acquire)
    }

    /// Asks the database whether it answers (within [`PROBE_TIMEOUT`]) and records the answer;
    /// returns whether it changed.
    pub async fn probe_database(&self) -> bool {
        let up = matches!(
            tokio::time::timeout(PROBE_TIMEOUT, self.store.ping()).await,
            Ok(Ok(()))
        );
        let was_down = self.availability.down.swap(!up, Ordering::AcqRel);
        was_down == up
    }

    /// When `e` says the database cannot be reached: the credential remembered for `hash`, if
    /// any, else the error as it was.
    pub(super) fn recall_when_down(
        &self,
        hash: &[u8],
        e: ServiceError,
    ) -> Result<Remembered, ServiceError> {
        match &e {
            // Only the health probe decides that the database is down (a busy pool is not).
            ServiceError::Store(s) if s.is_unavailable() => {
                self.availability.recall(hash, self.clock().now()).ok_or(e)
            }
            _ => Err(e),
        }
    }

    /// A store error for "the database is known to be unreachable", without asking it.
    #[must_use]
    pub fn unavailable_error() -> ServiceError {
        ServiceError::Store(StoreError::Unavailable(
            "the last health probe found it unreachable".into(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::access::{RoleBook, Via};
    use std::sync::Arc;

    fn viewer() -> Viewer {
        let roles = RoleBook::defaults().unwrap();
        Viewer {
            user: "anna".into(),
            organisation: "Polisen".into(),
            role_id: "police".into(),
            role: Arc::clone(roles.get("police").unwrap()),
            via: Via::Token,
            address: None,
        }
    }

    #[test]
    fn a_confirmation_in_flight_while_credentials_are_forgotten_is_not_remembered() {
        let a = Availability::default();
        let now = OffsetDateTime::now_utc();
        let second = Duration::from_secs(1);
        // Asked before a revocation, answered after it: not remembered.
        let asked = a.asking();
        a.forget_all();
        a.remember(asked, b"t".to_vec(), &viewer(), None, None);
        assert!(a.recall_within(b"t", now, second).is_none());
        // The same after a logout of this very credential.
        let asked = a.asking();
        a.forget(b"t");
        a.remember(asked, b"t".to_vec(), &viewer(), None, None);
        assert!(a.recall_within(b"t", now, second).is_none());
        // Asked after: remembered, and trusted for the interval only, never at zero.
        let asked = a.asking();
        a.remember(asked, b"t".to_vec(), &viewer(), None, None);
        assert!(a.recall_within(b"t", now, second).is_some());
        assert!(a.recall_within(b"t", now, Duration::ZERO).is_none());
        // A refusal of another credential does not stop this one being remembered.
        let asked = a.asking();
        a.forget_refused(b"other");
        a.remember(asked, b"u".to_vec(), &viewer(), None, None);
        assert!(a.recall_within(b"u", now, second).is_some());
        // Expired by the service's clock: not recalled however fresh.
        let asked = a.asking();
        a.remember(
            asked,
            b"e".to_vec(),
            &viewer(),
            None,
            Some(now - time::Duration::seconds(1)),
        );
        assert!(a.recall_within(b"e", now, second).is_none());
    }
}
