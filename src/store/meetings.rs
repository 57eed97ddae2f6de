//! The chiefs' meetings, on either back-end (one SQL text). A record changes only while open,
//! at the version the caller read, and every change commits with its audit record.

use time::OffsetDateTime;
use uuid::Uuid;

use super::audit::AuditRow;
use super::{Store, StoreError, whole_seconds};

/// A meeting as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct MeetingRow {
    /// Its id.
    pub id: Uuid,
    /// The ISO week (`2026-W49`).
    pub week: String,
    /// The day it was held (`YYYY-MM-DD`).
    pub held_on: String,
    /// JSON array of the organisations present.
    pub organisations: String,
    /// Short minutes.
    pub minutes: String,
    /// JSON array of `{"measure": id, "change": …}`.
    pub decisions: String,
    /// The closed meeting this record corrects.
    pub corrects: Option<Uuid>,
    /// `open`, `internal` or `restricted`.
    pub classification: String,
    /// Made at.
    pub created_at: OffsetDateTime,
    /// Made by.
    pub created_by: String,
    /// Closed at (then it never changes again).
    pub closed_at: Option<OffsetDateTime>,
    /// Its version (`If-Match`).
    pub version: i64,
}

const COLUMNS: &str = "id, week, held_on, organisations, minutes, decisions, corrects, classification, created_at, created_by, closed_at, version";

impl Store {
    /// Adds a meeting, with its audit record, in one transaction.
    ///
    /// # Errors
    /// Database errors.
    pub async fn insert_meeting(&self, m: &MeetingRow, audit: &AuditRow) -> Result<(), StoreError> {
        let sql = format!(
            "INSERT INTO meetings ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
        );
        match self {
            Store::Sqlite(p) => {
                let mut tx = p.begin().await?;
                bind_meeting(sqlx::query(sqlx::AssertSqlSafe(sql)), m)
                    .execute(&mut *tx)
                    .await?;
                super::audit::append_audit_sqlite(&mut tx, audit).await?;
                tx.commit().await?;
            }
            Store::Postgres(p) => {
                let mut tx = p.begin().await?;
                bind_meeting(sqlx::query(sqlx::AssertSqlSafe(sql)), m)
                    .execute(&mut *tx)
                    .await?;
                super::audit::append_audit_pg(&mut tx, audit).await?;
                tx.commit().await?;
            }
        }
        Ok(())
    }

    /// Replaces an open meeting stored at `m.version - 1` (and closes it when `m.closed_at` is
    /// set), with its audit record, in one transaction; `false` when it is closed or at another
    /// version (nothing written).
    ///
    /// # Errors
    /// Database errors.
    pub async fn update_meeting(
        &self,
        m: &MeetingRow,
        audit: &AuditRow,
    ) -> Result<bool, StoreError> {
        let sql = "UPDATE meetings SET organisations = $1, minutes = $2, decisions = $3, classification = $4, \
                   closed_at = $5, version = $6 WHERE id = $7 AND version = $8 AND closed_at IS NULL";
        macro_rules! run {
            ($pool:expr, $append:path) => {{
                let mut tx = $pool.begin().await?;
                let done = sqlx::query(sql)
                    .bind(&m.organisations)
                    .bind(&m.minutes)
                    .bind(&m.decisions)
                    .bind(&m.classification)
                    .bind(m.closed_at.map(whole_seconds))
                    .bind(m.version)
                    .bind(m.id)
                    .bind(m.version - 1)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected()
                    == 1;
                if done {
                    $append(&mut tx, audit).await?;
                    tx.commit().await?;
                }
                done
            }};
        }
        Ok(match self {
            Store::Sqlite(p) => run!(p, super::audit::append_audit_sqlite),
            Store::Postgres(p) => run!(p, super::audit::append_audit_pg),
        })
    }

    /// One meeting.
    ///
    /// # Errors
    /// Database errors.
    pub async fn meeting(&self, id: Uuid) -> Result<Option<MeetingRow>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM meetings WHERE id = $1");
        Ok(
            on_pool!(self, p => sqlx::query_as::<_, MeetingRow>(sqlx::AssertSqlSafe(sql))
            .bind(id).fetch_optional(p).await)?,
        )
    }

    /// The latest meetings first (by the day held, then when recorded), at most `limit`.
    ///
    /// # Errors
    /// Database errors.
    pub async fn meetings(&self, limit: i64) -> Result<Vec<MeetingRow>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM meetings ORDER BY held_on DESC, created_at DESC LIMIT $1"
        );
        Ok(
            on_pool!(self, p => sqlx::query_as::<_, MeetingRow>(sqlx::AssertSqlSafe(sql))
            .bind(limit).fetch_all(p).await)?,
        )
    }
}

fn bind_meeting<'q, DB>(
    q: sqlx::query::Query<'q, DB, <DB as sqlx::Database>::Arguments>,
    m: &MeetingRow,
) -> sqlx::query::Query<'q, DB, <DB as sqlx::Database>::Arguments>
where
    DB: sqlx::Database,
    Uuid: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    String: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    Option<Uuid>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    OffsetDateTime: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    Option<OffsetDateTime>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    q.bind(m.id)
        .bind(m.week.clone())
        .bind(m.held_on.clone())
        .bind(m.organisations.clone())
        .bind(m.minutes.clone())
        .bind(m.decisions.clone())
        .bind(m.corrects)
        .bind(m.classification.clone())
        .bind(whole_seconds(m.created_at))
        .bind(m.created_by.clone())
        .bind(m.closed_at.map(whole_seconds))
        .bind(m.version)
}
