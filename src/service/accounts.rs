//! Identities: accounts with argon2id passwords, web sessions, API tokens, and login throttling.
//!
//! Secrets are never stored: sessions and tokens are 256 random bits handed to the client once,
//! and the database keeps their SHA-256. A request is authenticated against the database every
//! time, so disabling an account or revoking a token takes effect on the next request, even
//! when done from the command line while the server runs.

use std::collections::HashMap;
use std::sync::Arc;

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use sha2::{Digest, Sha256};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use super::{Service, ServiceError};
use crate::domain::access::{Via, Viewer};
use crate::domain::audit::{AuditAction, AuditOutcome};
use crate::domain::text::check_label;
use crate::domain::{ValidationErrors, error::Checks};
use crate::store::accounts::{SessionRow, TokenRow, UserRow};
use crate::store::audit::AuditRow;

/// Failed logins allowed before an account or an address is slowed down.
pub const FREE_LOGIN_ATTEMPTS: i64 = 5;
/// The first wait after [`FREE_LOGIN_ATTEMPTS`]; it doubles with each further failure.
pub const FIRST_LOCK: Duration = Duration::seconds(30);
/// The longest wait.
pub const LONGEST_LOCK: Duration = Duration::minutes(15);
/// Shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 10;
/// The prefix of API tokens, so that a leaked one is recognisable in logs and scanners.
pub const TOKEN_PREFIX: &str = "lgb_";

/// Why a caller is not let in.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// No session cookie and no token.
    #[error(
        "sign in first: this needs a session (POST /auth/login) or an API token (Authorization: Bearer …)"
    )]
    Missing,
    /// Unknown name or wrong password (which one is not said).
    #[error("wrong account name or password")]
    BadCredentials,
    /// Too many failures: wait.
    #[error("too many failed logins; try again in {0} seconds")]
    Throttled(i64),
    /// The account is disabled.
    #[error("the account is disabled; ask an administrator")]
    Disabled,
    /// The session cookie is unknown, tampered with, ended or expired.
    #[error("the session has ended or is not valid; sign in again")]
    SessionInvalid,
    /// The token is unknown, revoked or expired.
    #[error("the API token is not valid (unknown, revoked or expired)")]
    TokenInvalid,
    /// The account's role is not in the role file.
    #[error("the account's role '{0}' is not defined in the role file; ask an administrator")]
    UnknownRole(String),
}

/// A new web session: the cookie value and the CSRF token, each shown once.
#[derive(Debug, Clone)]
pub struct NewSession {
    /// The cookie value.
    pub token: String,
    /// What cookie-authenticated writes must send in `X-CSRF-Token`.
    pub csrf_token: String,
    /// When it ends.
    pub expires_at: OffsetDateTime,
    /// Who signed in.
    pub viewer: Viewer,
}

/// A new account as the command line gives it.
#[derive(Debug, Clone)]
pub struct NewUser {
    /// Login name: lowercase letters, digits, `.`, `_` and `-`.
    pub name: String,
    /// Name shown in the client.
    pub display_name: String,
    /// Organisation.
    pub organisation: String,
    /// Role id.
    pub role: String,
    /// The password.
    pub password: String,
}

/// Login throttling, kept in memory.
///
/// - Per **source address**: after [`FREE_LOGIN_ATTEMPTS`] failures the address waits (429
///   with `Retry-After`), [`FIRST_LOCK`] doubling up to [`LONGEST_LOCK`], whatever name it
///   tries. Only the first refusal of each wait is audited; the rest are summed up in one record
///   when the wait is over.
/// - Per **account name**, for every name tried, existing or not (so the answer never says
///   whether a name exists): after [`FREE_LOGIN_ATTEMPTS`] failures each further attempt is
///   slowed down ([`name_delay`]), but never refused, so nobody can keep an account locked:
///   the right password from an address that is not itself waiting still signs in.
#[derive(Debug, Default)]
pub struct SourceThrottle {
    by_address: std::sync::Mutex<HashMap<String, SourceState>>,
    by_name: std::sync::Mutex<HashMap<String, (i64, OffsetDateTime)>>,
}

/// One source address's recent failures.
#[derive(Debug, Clone, Copy, Default)]
struct SourceState {
    failures: i64,
    until: Option<OffsetDateTime>,
    /// Refusals during the current wait that were not audited one by one.
    muted: u64,
    /// Attempts let through and not yet decided: counted with the failures, so that many
    /// attempts sent at once cannot all pass before the first failure is recorded.
    pending: i64,
    /// The last failure: the count is forgotten [`LONGEST_LOCK`] after it (a success does
    /// not reset it, or an insider could alternate guesses with its own logins).
    last_failure: Option<OffsetDateTime>,
}

/// Entries kept per map before old ones are dropped (bounded memory under a flood).
const MAX_THROTTLE_ENTRIES: usize = 100_000;

/// How long an attempt on an account name that has failed `failures` times in a row waits
/// before it is checked: nothing for the first [`FREE_LOGIN_ATTEMPTS`], then 250 ms doubling to
/// at most 4 s.
#[must_use]
pub fn name_delay(failures: i64) -> std::time::Duration {
    if failures < FREE_LOGIN_ATTEMPTS {
        return std::time::Duration::ZERO;
    }
    let doublings = u32::try_from((failures - FREE_LOGIN_ATTEMPTS).min(4)).unwrap_or(4);
    std::time::Duration::from_millis(250 * 2_u64.pow(doublings))
}

/// What the source throttle says about an attempt.
enum SourceVerdict {
    /// Go ahead; `muted` refusals of the last wait were not yet audited.
    Go { muted: u64 },
    /// Wait; `first` when this is the first refusal of the wait (audit it).
    Wait { until: OffsetDateTime, first: bool },
}

impl SourceThrottle {
    fn check_source(&self, address: &str, now: OffsetDateTime) -> SourceVerdict {
        let mut map = lock(&self.by_address);
        if map.len() > MAX_THROTTLE_ENTRIES {
            map.retain(|_, s| s.pending > 0 || s.until.is_some_and(|u| u > now));
        }
        let state = map.entry(address.to_owned()).or_default();
        if state.until.is_none_or(|u| u <= now)
            && state.last_failure.is_some_and(|t| now - t >= LONGEST_LOCK)
        {
            state.failures = 0;
            state.last_failure = None;
        }
        // Attempts in flight count as failures until decided: no more may be under way at once
        // than failures are still free (one at a time after a wait), so many attempts sent
        // together cannot all pass before the first failure is recorded.
        let free = (FREE_LOGIN_ATTEMPTS - state.failures).max(1);
        if state.until.is_none_or(|u| u <= now) && state.pending >= free {
            return SourceVerdict::Wait {
                until: now + Duration::seconds(1),
                first: false,
            };
        }
        match state.until {
            Some(until) if until > now => {
                state.muted += 1;
                SourceVerdict::Wait {
                    until,
                    first: state.muted == 1,
                }
            }
            _ => {
                // The first refusal was audited on its own; the rest are summed up now.
                let muted = state.muted.saturating_sub(1);
                state.muted = 0;
                state.pending += 1;
                SourceVerdict::Go { muted }
            }
        }
    }

    fn failed(&self, address: &str, name: &str, now: OffsetDateTime) -> i64 {
        let mut map = lock(&self.by_address);
        if map.len() > MAX_THROTTLE_ENTRIES {
            map.retain(|_, s| s.until.is_some_and(|u| u > now));
        }
        let entry = map.entry(address.to_owned()).or_default();
        entry.pending = (entry.pending - 1).max(0);
        entry.failures += 1;
        entry.last_failure = Some(now);
        entry.until = lock_after(entry.failures, now);
        let source = entry.failures;
        drop(map);
        let mut names = lock(&self.by_name);
        if names.len() > MAX_THROTTLE_ENTRIES {
            names.retain(|_, (_, at)| now - *at < LONGEST_LOCK);
        }
        let e = names.entry(name.to_owned()).or_insert((0, now));
        *e = (e.0 + 1, now);
        source.max(e.0)
    }

    /// Failures in a row on `name` (forgotten after [`LONGEST_LOCK`] without one).
    fn name_failures(&self, name: &str, now: OffsetDateTime) -> i64 {
        lock(&self.by_name)
            .get(name)
            .filter(|(_, at)| now - *at < LONGEST_LOCK)
            .map_or(0, |(n, _)| *n)
    }

    fn succeeded(&self, address: &str, name: &str) {
        if let Some(s) = lock(&self.by_address).get_mut(address) {
            s.pending = (s.pending - 1).max(0);
        }
        lock(&self.by_name).remove(name);
    }

    /// An attempt let through that ended without a verdict on the password (a store error).
    fn abandoned(&self, address: &str) {
        if let Some(s) = lock(&self.by_address).get_mut(address) {
            s.pending = (s.pending - 1).max(0);
        }
    }
}

fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Password hashes computed at once: one per core.
fn hashing_permits() -> &'static tokio::sync::Semaphore {
    static PERMITS: std::sync::OnceLock<tokio::sync::Semaphore> = std::sync::OnceLock::new();
    PERMITS.get_or_init(|| {
        tokio::sync::Semaphore::new(
            std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get),
        )
    })
}

/// When the next login may be tried after `failures` failures.
#[must_use]
pub fn lock_after(failures: i64, now: OffsetDateTime) -> Option<OffsetDateTime> {
    if failures < FREE_LOGIN_ATTEMPTS {
        return None;
    }
    let doublings = u32::try_from((failures - FREE_LOGIN_ATTEMPTS).min(10)).unwrap_or(10);
    let wait = FIRST_LOCK * 2_i32.pow(doublings);
    Some(now + wait.min(LONGEST_LOCK))
}

/// 32 random bytes as 64 hex digits.
#[must_use]
pub fn random_secret() -> String {
    let bytes: [u8; 32] = rand::random();
    hex(&bytes)
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// A generated password: 20 hex digits (80 random bits), shown once to whoever made it.
#[must_use]
pub fn generated_password() -> String {
    random_secret()[..20].to_owned()
}

/// The SHA-256 of a secret, as stored.
#[must_use]
pub fn secret_hash(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.as_bytes()).to_vec()
}

/// Hashes a password with argon2id (random salt, PHC string).
///
/// # Errors
/// Only if the random source fails.
pub fn hash_password(password: &str) -> Result<String, ServiceError> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| ServiceError::Internal(format!("cannot hash the password: {e}")))
}

fn password_matches(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| {
        Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

/// A hash of a random password, verified against when the account does not exist, so that a
/// wrong name takes as long as a wrong password.
fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash_password(&random_secret()).unwrap_or_default())
}

/// Checks a new password: long enough, not the account name.
///
/// # Errors
/// What is wrong with it.
pub fn check_password(name: &str, password: &str) -> Result<(), ValidationErrors> {
    let mut checks = Checks::default();
    let n = password.chars().count();
    checks.require(n >= MIN_PASSWORD_CHARS, "password", || {
        format!("is {n} characters; use at least {MIN_PASSWORD_CHARS}")
    });
    checks.require(n <= 1000, "password", || {
        "is longer than 1000 characters".into()
    });
    checks.require(!password.eq_ignore_ascii_case(name), "password", || {
        "must not be the account name".into()
    });
    checks.finish()
}

impl Service {
    /// Adds an account.
    ///
    /// # Errors
    /// Invalid name, unknown role, weak password, a taken name.
    pub async fn add_user(&self, u: NewUser, actor: &Viewer) -> Result<(), ServiceError> {
        let mut checks = Checks::default();
        checks.require(
            !u.name.is_empty()
                && u.name.len() <= 64
                && u.name.chars().all(|c| {
                    c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-')
                }),
            "name",
            || "use 1-64 lowercase letters a-z, digits, '.', '_' or '-'".into(),
        );
        checks.require(self.roles().get(&u.role).is_some(), "role", || {
            format!(
                "unknown role '{}'; roles: {}",
                u.role,
                self.roles().ids().collect::<Vec<_>>().join(", ")
            )
        });
        check_label(&mut checks, "organisation", &u.organisation);
        check_label(&mut checks, "display_name", &u.display_name);
        checks.finish()?;
        check_password(&u.name, &u.password)?;
        let password = u.password.clone();
        let hash = tokio::task::spawn_blocking(move || hash_password(&password))
            .await
            .map_err(|e| ServiceError::Internal(e.to_string()))??;
        let now = self.clock().now();
        self.store()
            .insert_user(&UserRow {
                name: u.name.clone(),
                display_name: u.display_name,
                organisation: u.organisation,
                role: u.role.clone(),
                password_hash: hash,
                disabled: false,
                failed_logins: 0,
                locked_until: None,
                created_at: now,
            })
            .await?;
        self.audit(
            actor,
            AuditRow::new(now, AuditAction::UserAdd, AuditOutcome::Ok)
                .detail(format!("account '{}' with role '{}'", u.name, u.role)),
        )
        .await?;
        Ok(())
    }

    /// Disables or enables an account (disabling ends its sessions at once).
    ///
    /// # Errors
    /// [`ServiceError::NotFoundName`] when there is no such account.
    pub async fn set_user_disabled(
        &self,
        name: &str,
        disabled: bool,
        actor: &Viewer,
    ) -> Result<(), ServiceError> {
        let now = self.clock().now();
        if !self.store().set_user_disabled(name, disabled, now).await? {
            return Err(ServiceError::NotFoundName(format!(
                "no account named '{name}'"
            )));
        }
        // What the database said before is no longer what it would say.
        self.availability.forget_all();
        let action = if disabled {
            AuditAction::UserDisable
        } else {
            AuditAction::UserEnable
        };
        self.audit(
            actor,
            AuditRow::new(now, action, AuditOutcome::Ok).detail(format!("account '{name}'")),
        )
        .await?;
        Ok(())
    }

    /// Sets a new password (ends the account's sessions, clears its login throttle).
    ///
    /// # Errors
    /// A weak password; no such account.
    pub async fn set_password(
        &self,
        name: &str,
        password: &str,
        actor: &Viewer,
    ) -> Result<(), ServiceError> {
        check_password(name, password)?;
        let owned = password.to_owned();
        let hash = tokio::task::spawn_blocking(move || hash_password(&owned))
            .await
            .map_err(|e| ServiceError::Internal(e.to_string()))??;
        let now = self.clock().now();
        if !self.store().set_password(name, &hash, now).await? {
            return Err(ServiceError::NotFoundName(format!(
                "no account named '{name}'"
            )));
        }
        // What the database said before is no longer what it would say.
        self.availability.forget_all();
        self.audit(
            actor,
            AuditRow::new(now, AuditAction::UserPasswd, AuditOutcome::Ok)
                .detail(format!("account '{name}'")),
        )
        .await?;
        Ok(())
    }

    /// Signs in with a name and password from `address`.
    ///
    /// # Errors
    /// [`AuthError`] inside [`ServiceError::Auth`]; every attempt is audited.
    pub async fn login(
        &self,
        name: &str,
        password: &str,
        address: &str,
    ) -> Result<NewSession, ServiceError> {
        let now = self.clock().now();
        let anonymous = |outcome: AuditOutcome, detail: String| {
            AuditRow::new(now, AuditAction::Login, outcome)
                .actor(if name.is_empty() { "anonymous" } else { name })
                .address(address)
                .detail(detail)
        };
        // The source first: an address that failed too often waits, whatever name it tries
        // (the same answer for every name, existing or not).
        match self.throttle.check_source(address, now) {
            SourceVerdict::Wait { until, first } => {
                let wait = (until - now).whole_seconds().max(1);
                if first {
                    self.audit_anonymous(anonymous(
                            AuditOutcome::Throttled,
                            format!(
                                "login refused for {wait} s after repeated failures from this address; further refusals during the wait are counted in one record"
                            ),
                        ))
                        .await?;
                    tracing::warn!(account = %crate::domain::text::printable(name, 64), address, wait, "login throttled");
                }
                return Err(AuthError::Throttled(wait).into());
            }
            SourceVerdict::Go { muted } if muted > 0 => {
                self.audit_anonymous(
                    AuditRow::new(now, AuditAction::Login, AuditOutcome::Throttled)
                        .address(address)
                        .detail(format!(
                            "{muted} further login attempts from this address were refused during the wait"
                        )),
                )
                .await?;
            }
            SourceVerdict::Go { .. } => {}
        }
        // Then the name: slowed down after repeated failures, never locked, the same for names
        // that do not exist.
        let delay = name_delay(self.throttle.name_failures(name, now));
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        let user = match self.store().user(name).await {
            Ok(u) => u,
            Err(e) => {
                self.throttle.abandoned(address);
                return Err(e.into());
            }
        };
        let hash = user
            .as_ref()
            .map_or_else(|| decoy_hash().to_owned(), |u| u.password_hash.clone());
        let pw = password.to_owned();
        // At most one argon2 hash per core at a time (each takes ~19 MiB): a flood of logins
        // waits here instead of exhausting memory or the blocking pool.
        let permit = hashing_permits().acquire().await.ok();
        let ok = tokio::task::spawn_blocking(move || password_matches(&pw, &hash))
            .await
            .map_err(|e| ServiceError::Internal(e.to_string()));
        drop(permit);
        let ok = match ok {
            Ok(ok) => ok,
            Err(e) => {
                self.throttle.abandoned(address);
                return Err(e);
            }
        };
        let Some(user) = user.filter(|_| ok) else {
            let failures = self.throttle.failed(address, name, now);
            if failures >= FREE_LOGIN_ATTEMPTS {
                tracing::warn!(
                    account = %crate::domain::text::printable(name, 64),
                    address,
                    failures,
                    "repeated failed logins: slowing down"
                );
            }
            // Recorded one by one up to a rate per address, then summed up.
            self.audit_refusal_of_anonymous(anonymous(
                AuditOutcome::Failed,
                format!("wrong name or password ({failures} in a row)"),
            ))
            .await?;
            return Err(AuthError::BadCredentials.into());
        };
        // The password was right: the attempt is decided (the address's count stays).
        self.throttle.succeeded(address, name);
        if user.disabled {
            self.audit_anonymous(anonymous(
                AuditOutcome::Denied,
                "the account is disabled".into(),
            ))
            .await?;
            return Err(AuthError::Disabled.into());
        }
        let viewer = self.viewer_for(&user, Via::Session, Some(address))?;
        let token = random_secret();
        let csrf_token = random_secret();
        let expires_at = now + self.session_ttl;
        self.store()
            .insert_session(&SessionRow {
                token_hash: secret_hash(&token),
                user_name: user.name.clone(),
                csrf_token: csrf_token.clone(),
                created_at: now,
                expires_at,
                ended_at: None,
                address: Some(address.to_owned()),
            })
            .await?;
        self.audit(
            &viewer,
            AuditRow::new(now, AuditAction::Login, AuditOutcome::Ok),
        )
        .await?;
        Ok(NewSession {
            token,
            csrf_token,
            expires_at,
            viewer,
        })
    }

    /// The caller behind a session cookie, with the session's CSRF token.
    ///
    /// # Errors
    /// [`AuthError::SessionInvalid`], [`AuthError::Disabled`], [`AuthError::UnknownRole`].
    pub async fn session_viewer(
        &self,
        token: &str,
        address: &str,
    ) -> Result<(Viewer, String, OffsetDateTime), ServiceError> {
        let hash = secret_hash(token);
        let recalled = |r: super::availability::Remembered| {
            let (csrf, expires) = r.session.ok_or(AuthError::SessionInvalid)?;
            Ok((with_address(r.viewer, address), csrf, expires))
        };
        if let Some(r) = self.recently_confirmed(&hash)
            && r.session.is_some()
        {
            return recalled(r);
        }
        if self.database_down() {
            return match self.availability.recall(&hash, self.clock().now()) {
                Some(r) => recalled(r),
                None => Err(Self::unavailable_error()),
            };
        }
        let asked = self.availability.asking();
        match self.confirm_session(&hash, address).await {
            Ok((viewer, csrf, expires)) => {
                self.availability.remember(
                    asked,
                    hash,
                    &viewer,
                    Some((csrf.clone(), expires)),
                    None,
                );
                Ok((viewer, csrf, expires))
            }
            Err(e) => {
                if !matches!(&e, ServiceError::Store(s) if s.is_unavailable()) {
                    self.availability.forget_refused(&hash);
                }
                recalled(self.recall_when_down(&hash, e)?)
            }
        }
    }

    async fn confirm_session(
        &self,
        hash: &[u8],
        address: &str,
    ) -> Result<(Viewer, String, OffsetDateTime), ServiceError> {
        let now = self.clock().now();
        let row = self
            .store()
            .session_with_user(hash)
            .await?
            .filter(|s| s.session_ended_at.is_none() && s.session_expires_at > now)
            .ok_or(AuthError::SessionInvalid)?;
        if row.user.disabled {
            return Err(AuthError::Disabled.into());
        }
        let viewer = self.viewer_for(&row.user, Via::Session, Some(address))?;
        Ok((viewer, row.session_csrf_token, row.session_expires_at))
    }

    /// Ends a session (logout).
    ///
    /// # Errors
    /// Store failures.
    pub async fn logout(&self, token: &str, viewer: &Viewer) -> Result<(), ServiceError> {
        let now = self.clock().now();
        self.store().end_session(&secret_hash(token), now).await?;
        // After the session has ended: a request confirming it meanwhile is not remembered.
        self.availability.forget(&secret_hash(token));
        self.audit(
            viewer,
            AuditRow::new(now, AuditAction::Logout, AuditOutcome::Ok),
        )
        .await?;
        Ok(())
    }

    /// The caller behind an API token.
    ///
    /// # Errors
    /// [`AuthError::TokenInvalid`], [`AuthError::Disabled`], [`AuthError::UnknownRole`].
    pub async fn token_viewer(&self, token: &str, address: &str) -> Result<Viewer, ServiceError> {
        let hash = secret_hash(token);
        if let Some(r) = self.recently_confirmed(&hash)
            && r.session.is_none()
        {
            return Ok(with_address(r.viewer, address));
        }
        if self.database_down() {
            return match self.availability.recall(&hash, self.clock().now()) {
                Some(r) if r.session.is_none() => Ok(with_address(r.viewer, address)),
                _ => Err(Self::unavailable_error()),
            };
        }
        let asked = self.availability.asking();
        match self.confirm_token(&hash, address).await {
            Ok((viewer, expires_at)) => {
                self.availability
                    .remember(asked, hash, &viewer, None, expires_at);
                Ok(viewer)
            }
            Err(e) => {
                if !matches!(&e, ServiceError::Store(s) if s.is_unavailable()) {
                    self.availability.forget_refused(&hash);
                }
                let r = self.recall_when_down(&hash, e)?;
                if r.session.is_some() {
                    return Err(AuthError::TokenInvalid.into());
                }
                Ok(with_address(r.viewer, address))
            }
        }
    }

    /// The credential behind `hash` when the database confirmed it within
    /// [`Options::credential_recheck`](super::Options::credential_recheck) and it has not
    /// expired since: trusted without asking again.
    fn recently_confirmed(&self, hash: &[u8]) -> Option<super::availability::Remembered> {
        self.availability
            .recall_within(hash, self.clock().now(), self.credential_recheck)
    }

    async fn confirm_token(
        &self,
        hash: &[u8],
        address: &str,
    ) -> Result<(Viewer, Option<OffsetDateTime>), ServiceError> {
        let now = self.clock().now();
        let row = self
            .store()
            .token_with_user(hash)
            .await?
            .filter(|t| t.token_revoked_at.is_none() && t.token_expires_at.is_none_or(|e| e > now))
            .ok_or(AuthError::TokenInvalid)?;
        if row.user.disabled {
            return Err(AuthError::Disabled.into());
        }
        Ok((
            self.viewer_for(&row.user, Via::Token, Some(address))?,
            row.token_expires_at,
        ))
    }

    /// Makes an API token acting as `user`; returns its id and the token (shown once).
    ///
    /// # Errors
    /// No such account; store failures.
    pub async fn create_token(
        &self,
        user: &str,
        label: &str,
        valid_for: Option<Duration>,
        actor: &Viewer,
    ) -> Result<(Uuid, String), ServiceError> {
        let mut checks = Checks::default();
        check_label(&mut checks, "label", label);
        checks.finish()?;
        if self.store().user(user).await?.is_none() {
            return Err(ServiceError::NotFoundName(format!(
                "no account named '{user}'"
            )));
        }
        let now = self.clock().now();
        let token = format!("{TOKEN_PREFIX}{}", random_secret());
        let id = Uuid::new_v4();
        self.store()
            .insert_token(&TokenRow {
                id,
                token_hash: secret_hash(&token),
                user_name: user.to_owned(),
                label: label.to_owned(),
                created_at: now,
                expires_at: valid_for.map(|d| now + d),
                revoked_at: None,
            })
            .await?;
        self.audit(
            actor,
            AuditRow::new(now, AuditAction::TokenCreate, AuditOutcome::Ok)
                .detail(format!("token {id} '{label}' for '{user}'")),
        )
        .await?;
        Ok((id, token))
    }

    /// Revokes an API token by id.
    ///
    /// # Errors
    /// No such live token; store failures.
    pub async fn revoke_token(&self, id: Uuid, actor: &Viewer) -> Result<(), ServiceError> {
        let now = self.clock().now();
        if !self.store().revoke_token(id, now).await? {
            return Err(ServiceError::NotFoundName(format!(
                "no live token with id {id}"
            )));
        }
        // What the database said before is no longer what it would say.
        self.availability.forget_all();
        self.audit(
            actor,
            AuditRow::new(now, AuditAction::TokenRevoke, AuditOutcome::Ok)
                .detail(format!("token {id}")),
        )
        .await?;
        Ok(())
    }

    /// Every account (administrators only; audited).
    ///
    /// # Errors
    /// [`ServiceError::Forbidden`] for others; store failures.
    pub async fn list_users(&self, actor: &Viewer) -> Result<Vec<UserRow>, ServiceError> {
        self.admin_only(actor, AuditAction::UserList, "list accounts")
            .await?;
        let users = self.store().users().await?;
        self.audit(
            actor,
            AuditRow::new(self.clock().now(), AuditAction::UserList, AuditOutcome::Ok)
                .detail(format!("{} accounts", users.len())),
        )
        .await?;
        Ok(users)
    }

    /// Every API token, without its secret (administrators only; audited).
    ///
    /// # Errors
    /// [`ServiceError::Forbidden`] for others; store failures.
    pub async fn list_tokens(&self, actor: &Viewer) -> Result<Vec<TokenRow>, ServiceError> {
        self.admin_only(actor, AuditAction::TokenList, "list API tokens")
            .await?;
        let tokens = self.store().tokens().await?;
        self.audit(
            actor,
            AuditRow::new(self.clock().now(), AuditAction::TokenList, AuditOutcome::Ok)
                .detail(format!("{} tokens", tokens.len())),
        )
        .await?;
        Ok(tokens)
    }

    /// Refuses (and audits) a caller without the admin flag.
    pub(super) async fn admin_only(
        &self,
        actor: &Viewer,
        action: AuditAction,
        what: &str,
    ) -> Result<(), ServiceError> {
        if actor.role.admin {
            return Ok(());
        }
        self.audit(
            actor,
            AuditRow::new(self.clock().now(), action, AuditOutcome::Denied),
        )
        .await?;
        Err(ServiceError::Forbidden(format!(
            "only administrators may {what}"
        )))
    }

    fn viewer_for(
        &self,
        user: &UserRow,
        via: Via,
        address: Option<&str>,
    ) -> Result<Viewer, ServiceError> {
        let role = self
            .roles()
            .get(&user.role)
            .ok_or_else(|| AuthError::UnknownRole(user.role.clone()))?;
        Ok(Viewer {
            user: Arc::from(user.name.as_str()),
            organisation: Arc::from(user.organisation.as_str()),
            role_id: Arc::from(user.role.as_str()),
            role: Arc::clone(role),
            via,
            address: address.map(Arc::from),
        })
    }
}

/// A remembered caller, asking from `address` now.
fn with_address(mut viewer: Viewer, address: &str) -> Viewer {
    viewer.address = Some(address.into());
    viewer
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_hash_with_argon2id_and_verify() {
        let h = hash_password("korrekt häst batteri").unwrap();
        assert!(h.starts_with("$argon2id$"), "{h}");
        assert!(password_matches("korrekt häst batteri", &h));
        assert!(!password_matches("korrekt häst batterI", &h));
        assert!(!password_matches("x", "not a hash"));
    }

    #[test]
    fn the_lock_starts_after_five_failures_and_doubles_up_to_a_cap() {
        let now = OffsetDateTime::UNIX_EPOCH;
        assert_eq!(lock_after(4, now), None);
        assert_eq!(lock_after(5, now), Some(now + FIRST_LOCK));
        assert_eq!(lock_after(6, now), Some(now + FIRST_LOCK * 2));
        assert_eq!(lock_after(60, now), Some(now + LONGEST_LOCK));
    }

    #[test]
    fn secrets_are_random_and_stored_hashed() {
        let (a, b) = (random_secret(), random_secret());
        assert_ne!(a, b);
        assert_eq!(a.len(), 64);
        assert_eq!(secret_hash(&a).len(), 32);
        assert_ne!(secret_hash(&a), a.as_bytes());
    }

    #[test]
    fn weak_passwords_are_refused() {
        assert!(check_password("anna", "kort").is_err());
        assert!(check_password("annaannaanna", "AnnaAnnaAnna").is_err());
        assert!(check_password("anna", "en lång lösenfras").is_ok());
    }
}
