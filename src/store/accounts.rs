//! Accounts, web sessions and API tokens, on either back-end.
//!
//! These tables hold plain columns, so one SQL text serves both databases: placeholders are
//! `$1, $2, …` in order of appearance (SQLite numbers `$N` parameters by first appearance), times
//! are bound as `OffsetDateTime` in whole seconds (timestamptz in PostGIS, RFC 3339 text in
//! SQLite, which then sorts as text).

use time::OffsetDateTime;
use uuid::Uuid;

use super::{Store, StoreError, whole_seconds};

/// An account as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct UserRow {
    /// Login name.
    pub name: String,
    /// Name shown in the client.
    pub display_name: String,
    /// Organisation (decides "own" features).
    pub organisation: String,
    /// Role id in the role file.
    pub role: String,
    /// argon2id PHC string.
    pub password_hash: String,
    /// Disabled accounts cannot sign in, and their sessions and tokens stop working.
    pub disabled: bool,
    /// Failed logins since the last success.
    pub failed_logins: i64,
    /// No login is tried before this time.
    pub locked_until: Option<OffsetDateTime>,
    /// When the account was made.
    pub created_at: OffsetDateTime,
}

/// A web session as stored (the cookie value is known only by its hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRow {
    /// SHA-256 of the cookie value.
    pub token_hash: Vec<u8>,
    /// The account.
    pub user_name: String,
    /// The token writes must echo in `X-CSRF-Token`.
    pub csrf_token: String,
    /// Signed in at.
    pub created_at: OffsetDateTime,
    /// Ends at.
    pub expires_at: OffsetDateTime,
    /// Ended early (logout, disable, new password).
    pub ended_at: Option<OffsetDateTime>,
    /// Where the login came from.
    pub address: Option<String>,
}

/// An API token as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct TokenRow {
    /// Its id (shown in lists and used to revoke it).
    pub id: Uuid,
    /// SHA-256 of the token.
    pub token_hash: Vec<u8>,
    /// The account it acts as.
    pub user_name: String,
    /// What it is for.
    pub label: String,
    /// Made at.
    pub created_at: OffsetDateTime,
    /// Stops working at, if set.
    pub expires_at: Option<OffsetDateTime>,
    /// Revoked at, if revoked.
    pub revoked_at: Option<OffsetDateTime>,
}

/// A token's validity and its account, as one request's authentication reads them.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct TokenUser {
    /// The account the token acts as.
    #[sqlx(flatten)]
    pub user: UserRow,
    /// The token stops working at, if set.
    pub token_expires_at: Option<OffsetDateTime>,
    /// The token was revoked at, if it was.
    pub token_revoked_at: Option<OffsetDateTime>,
}

/// A session's validity and its account, as one request's authentication reads them.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SessionUser {
    /// The signed-in account.
    #[sqlx(flatten)]
    pub user: UserRow,
    /// The token writes must echo in `X-CSRF-Token`.
    pub session_csrf_token: String,
    /// The session ends at.
    pub session_expires_at: OffsetDateTime,
    /// Ended early (logout, disable, new password).
    pub session_ended_at: Option<OffsetDateTime>,
}

const USER_COLUMNS: &str = "name, display_name, organisation, role, password_hash, disabled, failed_logins, locked_until, created_at";

fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
}

impl Store {
    /// Adds an account.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] when the name is taken; database errors.
    pub async fn insert_user(&self, u: &UserRow) -> Result<(), StoreError> {
        let sql = "INSERT INTO users (name, display_name, organisation, role, password_hash, disabled, failed_logins, locked_until, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)";
        let created_at = whole_seconds(u.created_at);
        let r = on_pool!(self, p => sqlx::query(sql)
            .bind(&u.name).bind(&u.display_name).bind(&u.organisation).bind(&u.role)
            .bind(&u.password_hash).bind(u.disabled).bind(u.failed_logins).bind(u.locked_until)
            .bind(created_at)
            .execute(p).await.map(|_| ()));
        r.map_err(|e| {
            if is_unique_violation(&e) {
                StoreError::Conflict(format!("an account named '{}' exists already", u.name))
            } else {
                e.into()
            }
        })
    }

    /// One account.
    ///
    /// # Errors
    /// Database errors.
    pub async fn user(&self, name: &str) -> Result<Option<UserRow>, StoreError> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE name = $1");
        Ok(
            on_pool!(self, p => sqlx::query_as::<_, UserRow>(sqlx::AssertSqlSafe(sql))
            .bind(name).fetch_optional(p).await)?,
        )
    }

    /// Every account, by name.
    ///
    /// # Errors
    /// Database errors.
    pub async fn users(&self) -> Result<Vec<UserRow>, StoreError> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users ORDER BY name");
        Ok(
            on_pool!(self, p => sqlx::query_as::<_, UserRow>(sqlx::AssertSqlSafe(sql))
            .fetch_all(p).await)?,
        )
    }

    /// Disables or enables an account; disabling also ends its sessions. False when no such account.
    ///
    /// # Errors
    /// Database errors.
    pub async fn set_user_disabled(
        &self,
        name: &str,
        disabled: bool,
        at: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let at = whole_seconds(at);
        let n = on_pool!(self, p => sqlx::query("UPDATE users SET disabled = $1, updated_at = $2 WHERE name = $3")
            .bind(disabled).bind(at).bind(name).execute(p).await.map(|r| r.rows_affected()))?;
        if disabled {
            self.end_sessions_of(name, at).await?;
        }
        Ok(n == 1)
    }

    /// Sets a new password hash, clears the login throttle and ends the account's sessions.
    /// False when no such account.
    ///
    /// # Errors
    /// Database errors.
    pub async fn set_password(
        &self,
        name: &str,
        hash: &str,
        at: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let at = whole_seconds(at);
        let n = on_pool!(self, p => sqlx::query("UPDATE users SET password_hash = $1, failed_logins = 0, locked_until = NULL, updated_at = $2 WHERE name = $3")
            .bind(hash).bind(at).bind(name).execute(p).await.map(|r| r.rows_affected()))?;
        self.end_sessions_of(name, at).await?;
        Ok(n == 1)
    }

    /// Records the login throttle state of an account.
    ///
    /// # Errors
    /// Database errors.
    pub async fn set_login_failures(
        &self,
        name: &str,
        failed_logins: i64,
        locked_until: Option<OffsetDateTime>,
    ) -> Result<(), StoreError> {
        let locked_until = locked_until.map(whole_seconds);
        on_pool!(self, p => sqlx::query("UPDATE users SET failed_logins = $1, locked_until = $2 WHERE name = $3")
            .bind(failed_logins).bind(locked_until).bind(name).execute(p).await.map(|_| ()))?;
        Ok(())
    }

    /// Stores a new session.
    ///
    /// # Errors
    /// Database errors.
    pub async fn insert_session(&self, s: &SessionRow) -> Result<(), StoreError> {
        let sql = "INSERT INTO sessions (token_hash, user_name, csrf_token, created_at, expires_at, ended_at, address) VALUES ($1, $2, $3, $4, $5, $6, $7)";
        on_pool!(self, p => sqlx::query(sql)
            .bind(&s.token_hash).bind(&s.user_name).bind(&s.csrf_token)
            .bind(whole_seconds(s.created_at)).bind(whole_seconds(s.expires_at))
            .bind(s.ended_at).bind(&s.address)
            .execute(p).await.map(|_| ()))?;
        Ok(())
    }

    /// Ends one session (logout).
    ///
    /// # Errors
    /// Database errors.
    pub async fn end_session(
        &self,
        token_hash: &[u8],
        at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let at = whole_seconds(at);
        on_pool!(self, p => sqlx::query("UPDATE sessions SET ended_at = $1 WHERE token_hash = $2 AND ended_at IS NULL")
            .bind(at).bind(token_hash).execute(p).await.map(|_| ()))?;
        Ok(())
    }

    async fn end_sessions_of(&self, user: &str, at: OffsetDateTime) -> Result<(), StoreError> {
        on_pool!(self, p => sqlx::query("UPDATE sessions SET ended_at = $1 WHERE user_name = $2 AND ended_at IS NULL")
            .bind(at).bind(user).execute(p).await.map(|_| ()))?;
        Ok(())
    }

    /// Stores a new API token.
    ///
    /// # Errors
    /// Database errors.
    pub async fn insert_token(&self, t: &TokenRow) -> Result<(), StoreError> {
        let sql = "INSERT INTO api_tokens (id, token_hash, user_name, label, created_at, expires_at, revoked_at) VALUES ($1, $2, $3, $4, $5, $6, $7)";
        on_pool!(self, p => sqlx::query(sql)
            .bind(t.id).bind(&t.token_hash).bind(&t.user_name).bind(&t.label)
            .bind(whole_seconds(t.created_at)).bind(t.expires_at.map(whole_seconds)).bind(t.revoked_at)
            .execute(p).await.map(|_| ()))?;
        Ok(())
    }

    /// A session by its hash with its account, in one round trip (asked by every request
    /// with a session cookie).
    ///
    /// # Errors
    /// Database errors.
    pub async fn session_with_user(
        &self,
        token_hash: &[u8],
    ) -> Result<Option<SessionUser>, StoreError> {
        let sql = "SELECT u.name, u.display_name, u.organisation, u.role, u.password_hash, u.disabled, u.failed_logins, u.locked_until, u.created_at, s.csrf_token AS session_csrf_token, s.expires_at AS session_expires_at, s.ended_at AS session_ended_at FROM sessions s JOIN users u ON u.name = s.user_name WHERE s.token_hash = $1";
        Ok(on_pool!(self, p => sqlx::query_as::<_, SessionUser>(sql)
            .bind(token_hash).fetch_optional(p).await)?)
    }

    /// An API token by its hash with the account it acts as, in one round trip (every request
    /// with a token asks this: a token is checked against the database each time, so a
    /// revocation or a disabled account takes effect on the next request).
    ///
    /// # Errors
    /// Database errors.
    pub async fn token_with_user(
        &self,
        token_hash: &[u8],
    ) -> Result<Option<TokenUser>, StoreError> {
        let sql = "SELECT u.name, u.display_name, u.organisation, u.role, u.password_hash, u.disabled, u.failed_logins, u.locked_until, u.created_at, t.expires_at AS token_expires_at, t.revoked_at AS token_revoked_at FROM api_tokens t JOIN users u ON u.name = t.user_name WHERE t.token_hash = $1";
        Ok(on_pool!(self, p => sqlx::query_as::<_, TokenUser>(sql)
            .bind(token_hash).fetch_optional(p).await)?)
    }

    /// Every API token, newest first.
    ///
    /// # Errors
    /// Database errors.
    pub async fn tokens(&self) -> Result<Vec<TokenRow>, StoreError> {
        let sql = "SELECT id, token_hash, user_name, label, created_at, expires_at, revoked_at FROM api_tokens ORDER BY created_at DESC, label";
        Ok(on_pool!(self, p => sqlx::query_as::<_, TokenRow>(sql).fetch_all(p).await)?)
    }

    /// Revokes a token; false when no such live token.
    ///
    /// # Errors
    /// Database errors.
    pub async fn revoke_token(&self, id: Uuid, at: OffsetDateTime) -> Result<bool, StoreError> {
        let at = whole_seconds(at);
        let n = on_pool!(self, p => sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
            .bind(at).bind(id).execute(p).await.map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }
}
