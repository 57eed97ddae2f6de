//! Reference layers (building footprints, walkable paths) on either back-end: replaced whole by
//! an import, read whole by the service.

use geo::Geometry;
use time::OffsetDateTime;

use super::codec::{from_wkb, to_wkb};
use super::{Store, StoreError, whole_seconds};

/// A kind of reference layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ReferenceKind {
    /// Building footprints (polygons): they block camera views.
    Buildings,
    /// The walkable path network (lines): routes are suggested over it.
    Paths,
}

impl ReferenceKind {
    /// Every kind.
    pub const ALL: [ReferenceKind; 2] = [ReferenceKind::Buildings, ReferenceKind::Paths];

    /// Its name in the database and on the command line.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            ReferenceKind::Buildings => "buildings",
            ReferenceKind::Paths => "paths",
        }
    }

    /// The kind named `s`.
    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// What an import of a kind was.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ReferenceSource {
    /// The kind.
    pub kind: String,
    /// Where it came from (file and table).
    pub source: String,
    /// Features imported.
    pub features: i64,
    /// When.
    pub imported_at: OffsetDateTime,
}

impl Store {
    /// Replaces every feature of `kind` by `geometries` (longitude, latitude), in one
    /// transaction.
    ///
    /// # Errors
    /// Database errors (nothing is changed then).
    pub async fn replace_reference(
        &self,
        kind: ReferenceKind,
        geometries: &[Geometry<f64>],
        source: &str,
        at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let wkb: Vec<Vec<u8>> = geometries.iter().map(to_wkb).collect::<Result<_, _>>()?;
        let insert = match self {
            Store::Sqlite(_) => {
                "INSERT INTO reference_features (kind, seq, wkb) VALUES ($1, $2, $3)"
            }
            Store::Postgres(_) => {
                "INSERT INTO reference_features (kind, seq, geom) VALUES ($1, $2, ST_GeomFromWKB($3, 4326))"
            }
        };
        let count = i64::try_from(wkb.len()).unwrap_or(i64::MAX);
        macro_rules! run {
            ($pool:expr) => {{
                let mut tx = $pool.begin().await?;
                sqlx::query("DELETE FROM reference_features WHERE kind = $1")
                    .bind(kind.as_str())
                    .execute(&mut *tx)
                    .await?;
                for (seq, bytes) in wkb.iter().enumerate() {
                    sqlx::query(insert)
                        .bind(kind.as_str())
                        .bind(i64::try_from(seq).unwrap_or(i64::MAX))
                        .bind(bytes.as_slice())
                        .execute(&mut *tx)
                        .await?;
                }
                sqlx::query(
                    "INSERT INTO reference_sources (kind, source, features, imported_at) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (kind) DO UPDATE SET source = excluded.source, features = excluded.features, \
                     imported_at = excluded.imported_at",
                )
                .bind(kind.as_str())
                .bind(source)
                .bind(count)
                .bind(whole_seconds(at))
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
            }};
        }
        match self {
            Store::Sqlite(p) => run!(p),
            Store::Postgres(p) => run!(p),
        }
        Ok(())
    }

    /// Every feature of `kind`.
    ///
    /// # Errors
    /// Database errors; a stored geometry that cannot be read.
    pub async fn reference(&self, kind: ReferenceKind) -> Result<Vec<Geometry<f64>>, StoreError> {
        let sql = match self {
            Store::Sqlite(_) => "SELECT wkb FROM reference_features WHERE kind = $1 ORDER BY seq",
            Store::Postgres(_) => {
                "SELECT ST_AsBinary(geom) FROM reference_features WHERE kind = $1 ORDER BY seq"
            }
        };
        let rows: Vec<(Vec<u8>,)> =
            on_pool!(self, p => sqlx::query_as(sql).bind(kind.as_str()).fetch_all(p).await)?;
        rows.iter().map(|(b,)| from_wkb(b)).collect()
    }

    /// What each kind's last import was.
    ///
    /// # Errors
    /// Database errors.
    pub async fn reference_sources(&self) -> Result<Vec<ReferenceSource>, StoreError> {
        let sql = "SELECT kind, source, features, imported_at FROM reference_sources ORDER BY kind";
        Ok(on_pool!(self, p => sqlx::query_as::<_, ReferenceSource>(sql).fetch_all(p).await)?)
    }
}
