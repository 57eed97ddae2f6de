//! Accounts, sessions, API tokens, the audit log and retention, on either back-end.
//!
//! These tables hold plain columns, so one SQL text serves both databases: placeholders are
//! `$1, $2, …` in order of appearance (SQLite numbers `$N` parameters by first appearance), times
//! are bound as `OffsetDateTime` in whole seconds (timestamptz in PostGIS, RFC 3339 text in
//! SQLite, which then sorts as text).

use time::OffsetDateTime;
use uuid::Uuid;

use super::{Store, StoreError};

/// Runs the same query text on whichever pool the store holds.
macro_rules! on_pool {
    ($store:expr, $pool:ident => $body:expr) => {
        match $store {
            Store::Sqlite($pool) => $body,
            Store::Postgres($pool) => $body,
        }
    };
}

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

/// One audit record.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct AuditRow {
    /// Increasing number (0 before it is stored).
    pub id: i64,
    /// When.
    pub at: OffsetDateTime,
    /// Who (account name, `anonymous`, or `cli:<os user>`).
    pub actor: String,
    /// With which role.
    pub role: Option<String>,
    /// What (`login`, `read`, `create`, `export`, `purge`, `denied`, …).
    pub action: String,
    /// Which layer.
    pub layer: Option<String>,
    /// Which features: a JSON array of ids.
    pub features: Option<String>,
    /// Which box was asked for.
    pub bbox: Option<String>,
    /// From which address.
    pub address: Option<String>,
    /// `ok`, `denied`, `invalid`, `failed`, `throttled`.
    pub outcome: String,
    /// Anything else worth knowing, in words.
    pub detail: Option<String>,
}

/// Which audit records to read.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// At or after.
    pub since: Option<OffsetDateTime>,
    /// Before.
    pub until: Option<OffsetDateTime>,
    /// By this actor.
    pub actor: Option<String>,
    /// This action.
    pub action: Option<String>,
    /// At most this many (newest first).
    pub limit: i64,
}

/// Appends an audit record in the transaction that makes the change it records.
macro_rules! append_audit_in {
    ($name:ident, $conn:ty) => {
        pub(super) async fn $name(conn: &mut $conn, a: &AuditRow) -> Result<(), sqlx::Error> {
            sqlx::query("INSERT INTO audit_log (at, actor, role, action, layer, features, bbox, address, outcome, detail) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)")
                .bind(whole_seconds(a.at)).bind(&a.actor).bind(&a.role).bind(&a.action)
                .bind(&a.layer).bind(&a.features).bind(&a.bbox).bind(&a.address)
                .bind(&a.outcome).bind(&a.detail)
                .execute(conn).await?;
            Ok(())
        }
    };
}
append_audit_in!(append_audit_sqlite, sqlx::SqliteConnection);
append_audit_in!(append_audit_pg, sqlx::PgConnection);

/// Whole seconds, so that times sort as text in SQLite.
#[must_use]
pub fn whole_seconds(t: OffsetDateTime) -> OffsetDateTime {
    t.replace_nanosecond(0).unwrap_or(t)
}

const USER_COLUMNS: &str = "name, display_name, organisation, role, password_hash, disabled, failed_logins, locked_until, created_at";

type SessionTuple = (
    Vec<u8>,
    String,
    String,
    OffsetDateTime,
    OffsetDateTime,
    Option<OffsetDateTime>,
    Option<String>,
);

fn session_from(t: SessionTuple) -> SessionRow {
    SessionRow {
        token_hash: t.0,
        user_name: t.1,
        csrf_token: t.2,
        created_at: t.3,
        expires_at: t.4,
        ended_at: t.5,
        address: t.6,
    }
}

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

    /// A session by its token hash.
    ///
    /// # Errors
    /// Database errors.
    pub async fn session(&self, token_hash: &[u8]) -> Result<Option<SessionRow>, StoreError> {
        let sql = "SELECT token_hash, user_name, csrf_token, created_at, expires_at, ended_at, address FROM sessions WHERE token_hash = $1";
        let row = on_pool!(self, p => sqlx::query_as::<_, SessionTuple>(sql)
            .bind(token_hash).fetch_optional(p).await)?;
        Ok(row.map(session_from))
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

    /// An API token by its hash.
    ///
    /// # Errors
    /// Database errors.
    pub async fn token_by_hash(&self, token_hash: &[u8]) -> Result<Option<TokenRow>, StoreError> {
        let sql = "SELECT id, token_hash, user_name, label, created_at, expires_at, revoked_at FROM api_tokens WHERE token_hash = $1";
        Ok(on_pool!(self, p => sqlx::query_as::<_, TokenRow>(sql)
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

    /// Appends an audit record; returns its id.
    ///
    /// # Errors
    /// Database errors.
    pub async fn append_audit(&self, a: &AuditRow) -> Result<i64, StoreError> {
        let sql = "INSERT INTO audit_log (at, actor, role, action, layer, features, bbox, address, outcome, detail) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id";
        let id: (i64,) = on_pool!(self, p => sqlx::query_as(sql)
            .bind(whole_seconds(a.at)).bind(&a.actor).bind(&a.role).bind(&a.action)
            .bind(&a.layer).bind(&a.features).bind(&a.bbox).bind(&a.address)
            .bind(&a.outcome).bind(&a.detail)
            .fetch_one(p).await)?;
        Ok(id.0)
    }

    /// Audit records matching `filter`, newest first.
    ///
    /// # Errors
    /// Database errors.
    pub async fn audit(&self, f: &AuditFilter) -> Result<Vec<AuditRow>, StoreError> {
        // Unused filters compare with themselves, so the placeholders stay in order.
        let sql = "SELECT id, at, actor, role, action, layer, features, bbox, address, outcome, detail FROM audit_log \
             WHERE ($1 IS NULL OR at >= $1) AND ($2 IS NULL OR at < $2) AND ($3 IS NULL OR actor = $3) \
             AND ($4 IS NULL OR action = $4) ORDER BY id DESC LIMIT $5";
        let since = f.since.map(whole_seconds);
        let until = f.until.map(whole_seconds);
        Ok(on_pool!(self, p => sqlx::query_as::<_, AuditRow>(sql)
            .bind(since).bind(until).bind(&f.actor).bind(&f.action).bind(f.limit)
            .fetch_all(p).await)?)
    }
}

/// An incident past its retention period, as the purge needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct ExpiredIncident {
    /// Its id.
    pub id: Uuid,
    /// Its category.
    pub category: String,
    /// When it happened.
    pub occurred_at: OffsetDateTime,
    /// The centre of its geometry (lon, lat), to attribute it to an area.
    pub centre: (f64, f64),
}

/// Weekly counts kept after a purge: (ISO week, area, category, count).
pub type WeeklyCount = (String, String, String, i64);

impl Store {
    /// Every incident, live or deleted, that happened before `cutoff`.
    ///
    /// # Errors
    /// Database errors.
    pub async fn expired_incidents(
        &self,
        cutoff: OffsetDateTime,
    ) -> Result<Vec<ExpiredIncident>, StoreError> {
        type Row = (Uuid, Option<String>, OffsetDateTime, f64, f64);
        let rows: Vec<Row> = match self {
            Store::Sqlite(p) => sqlx::query_as(
                "SELECT id, category, time_start, (min_lon + max_lon) / 2, (min_lat + max_lat) / 2 \
                     FROM features WHERE layer = 'incidents' AND time_start < $1",
            )
            .bind(cutoff)
            .fetch_all(p)
            .await?,
            Store::Postgres(p) => sqlx::query_as(
                "SELECT id, category, time_start, ST_X(ST_Centroid(geom)), ST_Y(ST_Centroid(geom)) \
                     FROM features WHERE layer = 'incidents' AND time_start < $1",
            )
            .bind(cutoff)
            .fetch_all(p)
            .await?,
        };
        Ok(rows
            .into_iter()
            .map(|(id, category, occurred_at, lon, lat)| ExpiredIncident {
                id,
                category: category.unwrap_or_default(),
                occurred_at,
                centre: (lon, lat),
            })
            .collect())
    }

    /// In one transaction: adds `counts` to the kept weekly counts, deletes the incidents `ids`
    /// for good, and appends `audit`. All or nothing.
    ///
    /// # Errors
    /// Database errors (then nothing changed).
    pub async fn purge_incidents(
        &self,
        ids: &[Uuid],
        counts: &[WeeklyCount],
        audit: &AuditRow,
    ) -> Result<u64, StoreError> {
        let upsert = "INSERT INTO incident_weekly_counts (week, area, category, count) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (week, area, category) DO UPDATE SET count = incident_weekly_counts.count + excluded.count";
        let delete = "DELETE FROM features WHERE id = $1 AND layer = 'incidents'";
        let append = "INSERT INTO audit_log (at, actor, role, action, layer, features, bbox, address, outcome, detail) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)";
        let deleted = on_pool!(self, p => async {
            let mut tx = p.begin().await?;
            for (week, area, category, n) in counts {
                sqlx::query(upsert).bind(week).bind(area).bind(category).bind(n)
                    .execute(&mut *tx).await?;
            }
            let mut deleted = 0;
            for id in ids {
                deleted += sqlx::query(delete).bind(id).execute(&mut *tx).await?.rows_affected();
            }
            sqlx::query(append)
                .bind(whole_seconds(audit.at)).bind(&audit.actor).bind(&audit.role).bind(&audit.action)
                .bind(&audit.layer).bind(&audit.features).bind(&audit.bbox).bind(&audit.address)
                .bind(&audit.outcome).bind(&audit.detail)
                .execute(&mut *tx).await?;
            tx.commit().await?;
            Ok::<u64, sqlx::Error>(deleted)
        }.await)?;
        Ok(deleted)
    }

    /// The weekly counts kept from purged incidents, by week, area and category.
    ///
    /// # Errors
    /// Database errors.
    pub async fn weekly_counts(&self) -> Result<Vec<WeeklyCount>, StoreError> {
        let sql = "SELECT week, area, category, count FROM incident_weekly_counts ORDER BY week, area, category";
        Ok(on_pool!(self, p => sqlx::query_as::<_, WeeklyCount>(sql).fetch_all(p).await)?)
    }
}
