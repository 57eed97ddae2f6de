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
}

impl Availability {
    fn credentials(&self) -> std::sync::MutexGuard<'_, HashMap<Vec<u8>, Remembered>> {
        self.credentials
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub(super) fn remember(
        &self,
        hash: Vec<u8>,
        viewer: &Viewer,
        session: Option<(String, OffsetDateTime)>,
        expires_at: Option<OffsetDateTime>,
    ) {
        let mut c = self.credentials();
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
                confirmed: Instant::now(),
            },
        );
    }

    /// Forgets a credential (revoked, ended, or refused by the database).
    pub(super) fn forget(&self, hash: &[u8]) {
        self.credentials().remove(hash);
    }

    /// Forgets every credential (a token revoked, an account disabled or given a new
    /// password: rare, and the next request of everyone else confirms theirs again).
    pub(super) fn forget_all(&self) {
        self.credentials().clear();
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
