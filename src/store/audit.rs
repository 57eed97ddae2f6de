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

/// The head of a multi-row insert into the audit log.
const INSERT_HEAD: &str = "INSERT INTO audit_log (at, actor, role, action, layer, features, bbox, address, outcome, detail) ";

/// Row counts of the multi-row statements a batch is written with: a batch is cut into
/// groups of these sizes, largest first, so only four statements are ever prepared and
/// cached, and 100 records take four statements (64 + 16 + 16 + 4 rows) rather than 100.
const GROUP_SIZES: [usize; 4] = [64, 16, 4, 1];

/// `rows` cut into groups of [`GROUP_SIZES`], in order.
fn groups(mut rows: &[AuditRow]) -> Vec<&[AuditRow]> {
    let mut out = Vec::new();
    for size in GROUP_SIZES {
        while rows.len() >= size {
            let (group, rest) = rows.split_at(size);
            out.push(group);
            rows = rest;
        }
    }
    out
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

/// The multi-row insert of one group, for database `db`.
macro_rules! group_insert {
    ($db:ty, $group:expr) => {{
        let mut b = sqlx::QueryBuilder::<$db>::new(INSERT_HEAD);
        b.push_values($group, |mut s, a| {
            s.push_bind(whole_seconds(a.at))
                .push_bind(&a.actor)
                .push_bind(&a.role)
                .push_bind(&a.action)
                .push_bind(&a.layer)
                .push_bind(&a.features)
                .push_bind(&a.bbox)
                .push_bind(&a.address)
                .push_bind(&a.outcome)
                .push_bind(&a.detail);
        });
        b
    }};
}

/// Writes `rows` on `pool` of database `db` all or none: a multi-row statement per group, in
/// one transaction when there is more than one statement. A single statement is a
/// transaction of its own, so a batch of one group (every batch of a lone request) costs one
/// round trip instead of three (`BEGIN`, the insert, `COMMIT`).
macro_rules! append_groups {
    ($pool:expr, $db:ty, $rows:expr) => {{
        let groups = groups($rows);
        if let [group] = groups.as_slice() {
            let mut b = group_insert!($db, *group);
            b.build().execute($pool).await?;
        } else {
            let mut tx = $pool.begin().await?;
            for group in groups {
                let mut b = group_insert!($db, group);
                b.build().execute(&mut *tx).await?;
            }
            tx.commit().await?;
        }
    }};
}
append_audit_in!(append_audit_pg, sqlx::PgConnection);

/// Appends `rows` in the transaction `conn` holds, a multi-row statement per group (the audit
/// journal moves its records with this).
pub(super) async fn append_rows_sqlite(
    conn: &mut sqlx::SqliteConnection,
    rows: &[AuditRow],
) -> Result<(), sqlx::Error> {
    for group in groups(rows) {
        let mut b = group_insert!(sqlx::Sqlite, group);
        b.build().execute(&mut *conn).await?;
    }
    Ok(())
}

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

    /// Appends audit records all or none, with one commit (group commit): one multi-row
    /// statement, or several in one transaction.
    ///
    /// # Errors
    /// Database errors (then none was written).
    pub async fn append_audit_batch(&self, rows: &[AuditRow]) -> Result<(), StoreError> {
        match self {
            Store::Sqlite(p) => append_groups!(p, sqlx::Sqlite, rows),
            Store::Postgres(p) => append_groups!(p, sqlx::Postgres, rows),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_is_cut_into_groups_of_the_four_sizes_in_order() {
        let rows: Vec<AuditRow> = (0..300)
            .map(|i| AuditRow {
                id: i,
                at: OffsetDateTime::UNIX_EPOCH,
                actor: format!("a{i}"),
                role: None,
                action: "read".into(),
                layer: None,
                features: None,
                bbox: None,
                address: None,
                outcome: "ok".into(),
                detail: None,
            })
            .collect();
        for n in [0, 1, 3, 4, 5, 63, 64, 65, 100, 300] {
            let g = groups(&rows[..n]);
            assert!(g.iter().all(|g| GROUP_SIZES.contains(&g.len())), "{n}");
            let flat: Vec<i64> = g.iter().flat_map(|g| g.iter().map(|r| r.id)).collect();
            assert_eq!(flat, (0..n as i64).collect::<Vec<_>>(), "{n}");
        }
        assert_eq!(groups(&rows[..100]).len(), 4);
    }
}
