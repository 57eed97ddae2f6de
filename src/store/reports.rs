//! The lägesbild document's stored text, one record per report period, on either back-end (one
//! SQL text). A change is made at the version read and commits with its audit record.

use time::OffsetDateTime;

use super::audit::AuditRow;
use super::{Store, StoreError, whole_seconds};

/// A report period's text as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ReportTextRow {
    /// The period, e.g. `2026`.
    pub period: String,
    /// JSON: `{"other_information": [{"heading", "text"}], "analysis"}`.
    pub body: String,
    /// `open`, `internal` or `restricted`.
    pub classification: String,
    /// Changed at.
    pub updated_at: OffsetDateTime,
    /// Changed by.
    pub updated_by: String,
    /// Its version (`If-Match`); 1 when first written.
    pub version: i64,
}

impl Store {
    /// A period's text.
    ///
    /// # Errors
    /// Database errors.
    pub async fn report_text(&self, period: &str) -> Result<Option<ReportTextRow>, StoreError> {
        let sql = "SELECT period, body, classification, updated_at, updated_by, version \
                   FROM report_texts WHERE period = $1";
        Ok(on_pool!(self, p => sqlx::query_as::<_, ReportTextRow>(sql)
            .bind(period).fetch_optional(p).await)?)
    }

    /// Writes a period's text: a new record when `row.version` is 1, else the record stored at
    /// `row.version - 1`; with its audit record in one transaction. `false` when the version
    /// does not match (nothing written).
    ///
    /// # Errors
    /// Database errors.
    pub async fn put_report_text(
        &self,
        row: &ReportTextRow,
        audit: &AuditRow,
    ) -> Result<bool, StoreError> {
        let sql = if row.version == 1 {
            "INSERT INTO report_texts (body, classification, updated_at, updated_by, version, period) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (period) DO NOTHING"
        } else {
            "UPDATE report_texts SET body = $1, classification = $2, updated_at = $3, updated_by = $4, \
             version = $5 WHERE period = $6 AND version = $7"
        };
        macro_rules! run {
            ($pool:expr, $append:path) => {{
                let mut tx = $pool.begin().await?;
                let mut q = sqlx::query(sql)
                    .bind(&row.body)
                    .bind(&row.classification)
                    .bind(whole_seconds(row.updated_at))
                    .bind(&row.updated_by)
                    .bind(row.version)
                    .bind(&row.period);
                if row.version > 1 {
                    q = q.bind(row.version - 1);
                }
                let done = q.execute(&mut *tx).await?.rows_affected() == 1;
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
}
