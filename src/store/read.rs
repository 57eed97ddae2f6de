//! Reading features, one SQL text for both back-ends: only the geometry and properties
//! expressions differ (WKB and JSON text on SQLite as stored; `ST_AsBinary` and `::text` on
//! PostGIS), and SQLite is told to scan the table in order for a whole-table read. The
//! `category`, `status` and `time_start` columns come too: an incident's document leaves them
//! out ([`crate::domain::Properties::to_stored_json`]). PostGIS sends a whole table or layer
//! as a binary `COPY` of the same `SELECT` ([`super::pgcopy_out`]).

use futures_util::TryStreamExt;
use time::OffsetDateTime;
use uuid::Uuid;

use super::codec::{FeatureRow, Interner, RowTuple};
use super::{Sink, Store, StoreError};
use crate::domain::{Feature, Layer};

/// The columns of a feature row, as each back-end spells them.
fn select(store: &Store, whole_table: bool) -> String {
    let (geom, props, hint) = match store {
        Store::Sqlite(_) => (
            "geom",
            "properties",
            if whole_table { " NOT INDEXED" } else { "" },
        ),
        Store::Postgres(_) => ("ST_AsBinary(geom)", "properties::text", ""),
    };
    format!(
        "SELECT id, layer, {geom}, {props}, organisation, classification, created_at, updated_at, created_by, version, category, status, time_start FROM features{hint}"
    )
}

/// Every live feature of `layer`, or of every layer in one sequential pass over the table.
pub(super) async fn for_each(
    store: &Store,
    layer: Option<Layer>,
    sink: Sink<'_>,
) -> Result<u64, StoreError> {
    let p = match store {
        Store::Sqlite(p) => p,
        Store::Postgres(pool) => {
            // Rows read in place from a binary COPY, which takes no parameters: a layer's name
            // is one of the enum's fixed, quote-free words, never input.
            let only = layer.map_or(String::new(), |l| format!("layer = '{}' AND ", l.as_str()));
            let sql = format!("{} WHERE {only}deleted_at IS NULL", select(store, true));
            return super::pgcopy_out::for_each(pool, &sql, sink).await;
        }
    };
    let sql = match layer {
        Some(_) => format!(
            "{} WHERE layer = $1 AND deleted_at IS NULL",
            select(store, false)
        ),
        None => format!("{} WHERE deleted_at IS NULL", select(store, true)),
    };
    let layer = layer.map(Layer::as_str);
    let mut strings = Interner::default();
    let mut n = 0;
    let mut q = sqlx::query_as::<_, RowTuple>(sqlx::AssertSqlSafe(sql));
    if let Some(l) = layer {
        q = q.bind(l);
    }
    let mut rows = q.fetch(p);
    while let Some(r) = rows.try_next().await? {
        sink(FeatureRow::from(r).into_feature(&mut strings)?);
        n += 1;
    }
    Ok(n)
}

type WithDeletion = (
    Uuid,
    String,
    Vec<u8>,
    String,
    String,
    String,
    OffsetDateTime,
    OffsetDateTime,
    String,
    i64,
    Option<String>,
    Option<String>,
    Option<OffsetDateTime>,
    Option<OffsetDateTime>,
);

fn with_deletion(
    found: WithDeletion,
    strings: &mut Interner,
) -> Result<(Feature, Option<OffsetDateTime>), StoreError> {
    let (a, b, c, d, e, f, g, h, i, j, k, l, m, deleted) = found;
    let row: RowTuple = (a, b, c, d, e, f, g, h, i, j, k, l, m);
    Ok((FeatureRow::from(row).into_feature(strings)?, deleted))
}

fn select_with_deletion(store: &Store) -> String {
    select(store, false).replace(" FROM features", ", deleted_at FROM features")
}

/// One feature by id, live or not, with its deletion time (one query).
pub(super) async fn get(
    store: &Store,
    id: Uuid,
) -> Result<Option<(Feature, Option<OffsetDateTime>)>, StoreError> {
    let sql = select_with_deletion(store) + " WHERE id = $1";
    let found: Option<WithDeletion> = on_pool!(store, p =>
        sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(p).await?);
    found
        .map(|f| with_deletion(f, &mut Interner::default()))
        .transpose()
}

/// Ids asked of SQLite per statement (well under its limit of bound parameters).
const SQLITE_IDS_PER_QUERY: usize = 500;

/// The features with these ids that exist, live or not, with their deletion times, in no
/// particular order (one query on PostGIS, one per 500 ids on SQLite).
pub(super) async fn get_many(
    store: &Store,
    ids: &[Uuid],
) -> Result<Vec<(Feature, Option<OffsetDateTime>)>, StoreError> {
    let mut strings = Interner::default();
    let mut found = Vec::with_capacity(ids.len());
    match store {
        Store::Sqlite(p) => {
            for chunk in ids.chunks(SQLITE_IDS_PER_QUERY) {
                let marks: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
                let sql = format!(
                    "{} WHERE id IN ({})",
                    select_with_deletion(store),
                    marks.join(",")
                );
                let mut q = sqlx::query_as::<_, WithDeletion>(sqlx::AssertSqlSafe(sql));
                for id in chunk {
                    q = q.bind(*id);
                }
                for row in q.fetch_all(p).await? {
                    found.push(with_deletion(row, &mut strings)?);
                }
            }
        }
        Store::Postgres(p) => {
            let sql = select_with_deletion(store) + " WHERE id = ANY($1)";
            let rows: Vec<WithDeletion> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(ids)
                .fetch_all(p)
                .await?;
            for row in rows {
                found.push(with_deletion(row, &mut strings)?);
            }
        }
    }
    Ok(found)
}
