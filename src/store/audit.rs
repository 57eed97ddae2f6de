//! The audit log, on either back-end: appended to (also inside a write's own transaction),
//! read newest first; never changed (triggers refuse UPDATE and DELETE).
//!
//! These tables hold plain columns, so one SQL text serves both databases: placeholders are
//! `$1, $2, …` in order of appearance (SQLite numbers `$N` parameters by first appearance), times
//! are bound as `OffsetDateTime` in whole seconds (timestamptz in PostGIS, RFC 3339 text in
//! SQLite, which then sorts as text).

use time::OffsetDateTime;

use super::{Store, StoreError, whole_seconds};

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

impl Store {
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

    /// Appends audit records in one transaction: all or none, one commit (group commit).
    ///
    /// # Errors
    /// Database errors (then none was written).
    pub async fn append_audit_batch(&self, rows: &[AuditRow]) -> Result<(), StoreError> {
        match self {
            Store::Sqlite(p) => {
                let mut tx = p.begin().await?;
                for a in rows {
                    append_audit_sqlite(&mut tx, a).await?;
                }
                tx.commit().await?;
            }
            Store::Postgres(p) => {
                let mut tx = p.begin().await?;
                for a in rows {
                    append_audit_pg(&mut tx, a).await?;
                }
                tx.commit().await?;
            }
        }
        Ok(())
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
