//! The index snapshot: every live feature in one file beside the SQLite database, written when
//! the server stops and read at the next start instead of the table (issue 17, item 3: a
//! million incidents load in about a second instead of 12–16), then brought up to date from the
//! change log ([`super::changes`]).
//!
//! A snapshot is trusted only when it names the same database (its random identity), the log
//! still holds every change after the snapshot's position (nothing was pruned in between), and
//! the file reads to its end marker with the count it announces. Every row is decoded by the
//! same code as a row from the table ([`FeatureRow::into_feature`]), so the same checks apply.
//! Anything else and the server reads the table, as before. The file is written to a temporary
//! name, synced and renamed, so a crash leaves the old snapshot or the new one, never half of
//! one; it holds what the database holds, so it is created readable by its owner only.
//!
//! Layout (little-endian): magic, format version, identity (16 bytes), log position (i64),
//! feature count (u64); per feature: id (16), created_at and updated_at (i128 nanoseconds),
//! version (i64), then layer, WKB geometry, properties (JSON), organisation, classification and
//! created_by, each a u32 length and its bytes; finally the end marker.

use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use time::OffsetDateTime;
use uuid::Uuid;

use super::codec::{FeatureRow, Interner, to_wkb};
use super::{Store, StoreError};
use crate::domain::Feature;

const MAGIC: &[u8; 8] = b"LGSBIDX\0";
const END: &[u8; 8] = b"LGSBEND\0";
/// Raised whenever the layout or the meaning of a stored field changes.
const FORMAT: u32 = 1;
/// Threads decoding rows (the machines this runs on have two cores or more).
const DECODERS: usize = 2;
/// The largest field a feature can have (its geometry is limited to 50 000 positions by
/// default, its request body to 2 MiB); a larger length is a damaged file.
const MAX_FIELD: usize = 64 * 1024 * 1024;
/// Rows handed to a decoding thread at a time.
const BATCH: usize = 4096;

/// What a snapshot says about itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SnapshotHeader {
    /// The database it was taken from.
    pub identity: [u8; 16],
    /// The change log's position it reflects.
    pub position: i64,
    /// How many features it holds.
    pub count: u64,
}

impl Store {
    /// Where this store's index snapshot lives: beside an SQLite file, `None` for PostGIS and
    /// in-memory databases.
    #[must_use]
    pub fn snapshot_path(&self) -> Option<PathBuf> {
        let Store::Sqlite(p) = self else {
            return None;
        };
        let options = p.connect_options();
        let file = options.get_filename();
        let name = file.to_str()?;
        if name.is_empty() || name == ":memory:" {
            return None;
        }
        let mut path = file.as_os_str().to_owned();
        path.push(".index");
        Some(PathBuf::from(path))
    }
}

/// Removes the snapshot beside an SQLite store (and any half-written one), if there is one:
/// after it was read or refused at start-up, and after a purge, so that no copy of removed
/// data outlives its removal.
///
/// # Errors
/// File-system errors other than the file being absent.
pub fn remove_snapshot(store: &Store) -> Result<(), StoreError> {
    let Some(path) = store.snapshot_path() else {
        return Ok(());
    };
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    for p in [path, PathBuf::from(tmp)] {
        match std::fs::remove_file(&p) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(io(&p)(e)),
            _ => {}
        }
    }
    Ok(())
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> StoreError + '_ {
    move |e| StoreError::Io(e, path.display().to_string())
}

fn put_bytes(w: &mut impl Write, b: &[u8]) -> std::io::Result<()> {
    let len = u32::try_from(b.len()).map_err(std::io::Error::other)?;
    w.write_all(&len.to_le_bytes())?;
    w.write_all(b)
}

/// Writes `features` as the snapshot at `path` for the database `identity` at log `position`.
///
/// # Errors
/// File-system errors, a geometry that cannot be encoded.
pub fn write_snapshot(
    path: &Path,
    identity: [u8; 16],
    position: i64,
    features: &[Arc<Feature>],
) -> Result<(), StoreError> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    // A leftover from a crash is removed, so the new file is created with the mode below.
    let _ = std::fs::remove_file(&tmp);
    let file = {
        let mut o = std::fs::OpenOptions::new();
        o.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
        o.open(&tmp).map_err(io(&tmp))?
    };
    let mut w = BufWriter::with_capacity(1 << 20, file);
    let write = || -> Result<(), StoreError> {
        let e = io(&tmp);
        w.write_all(MAGIC).map_err(&e)?;
        w.write_all(&FORMAT.to_le_bytes()).map_err(&e)?;
        w.write_all(&identity).map_err(&e)?;
        w.write_all(&position.to_le_bytes()).map_err(&e)?;
        w.write_all(&(features.len() as u64).to_le_bytes())
            .map_err(&e)?;
        for f in features {
            let wkb = to_wkb(&f.geometry())?;
            // The document whole: a snapshot row has no columns to complete it from.
            let properties = f.properties.to_json();
            w.write_all(f.id.as_bytes()).map_err(&e)?;
            w.write_all(&f.meta.created_at.unix_timestamp_nanos().to_le_bytes())
                .map_err(&e)?;
            w.write_all(&f.meta.updated_at.unix_timestamp_nanos().to_le_bytes())
                .map_err(&e)?;
            w.write_all(&f.meta.version.to_le_bytes()).map_err(&e)?;
            for part in [
                f.layer().as_str().as_bytes(),
                &wkb,
                properties.as_bytes(),
                f.meta.organisation.as_bytes(),
                f.meta.classification.as_str().as_bytes(),
                f.meta.created_by.as_bytes(),
            ] {
                put_bytes(&mut w, part).map_err(&e)?;
            }
        }
        w.write_all(END).map_err(&e)?;
        let file = w.into_inner().map_err(|e| io(&tmp)(e.into_error()))?;
        file.sync_all().map_err(&e)?;
        Ok(())
    };
    let written = write();
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    std::fs::rename(&tmp, path).map_err(io(path))?;
    Ok(())
}

/// A snapshot that cannot be used, and why (the server then reads the table).
#[derive(Debug, thiserror::Error)]
#[error("the index snapshot {path} is not used: {why}")]
pub struct Unusable {
    /// The file.
    pub path: String,
    /// Why not.
    pub why: String,
}

struct Reader<R> {
    r: R,
}

impl<R: Read> Reader<R> {
    fn array<const N: usize>(&mut self) -> std::io::Result<[u8; N]> {
        let mut a = [0u8; N];
        self.r.read_exact(&mut a)?;
        Ok(a)
    }

    fn string(&mut self) -> std::io::Result<String> {
        let bytes = self.bytes()?;
        String::from_utf8(bytes).map_err(std::io::Error::other)
    }

    fn bytes(&mut self) -> std::io::Result<Vec<u8>> {
        let len = u32::from_le_bytes(self.array()?) as usize;
        if len > MAX_FIELD {
            return Err(std::io::Error::other(format!(
                "a field of {len} bytes, more than any feature holds"
            )));
        }
        let mut bytes = vec![0u8; len];
        self.r.read_exact(&mut bytes)?;
        Ok(bytes)
    }

    fn time(&mut self) -> std::io::Result<OffsetDateTime> {
        OffsetDateTime::from_unix_timestamp_nanos(i128::from_le_bytes(self.array()?))
            .map_err(std::io::Error::other)
    }
}

/// Reads the snapshot's header only.
///
/// # Errors
/// [`Unusable`] when the file is missing, foreign or of another format.
pub fn read_header(path: &Path) -> Result<SnapshotHeader, Unusable> {
    let unusable = |why: String| Unusable {
        path: path.display().to_string(),
        why,
    };
    let file = std::fs::File::open(path).map_err(|e| unusable(e.to_string()))?;
    let mut r = Reader {
        r: BufReader::new(file),
    };
    header(&mut r).map_err(unusable)
}

fn header<R: Read>(r: &mut Reader<R>) -> Result<SnapshotHeader, String> {
    let magic: [u8; 8] = r.array().map_err(|e| e.to_string())?;
    if &magic != MAGIC {
        return Err("not an index snapshot".into());
    }
    let format = u32::from_le_bytes(r.array().map_err(|e| e.to_string())?);
    if format != FORMAT {
        return Err(format!("format {format}, this server reads {FORMAT}"));
    }
    Ok(SnapshotHeader {
        identity: r.array().map_err(|e| e.to_string())?,
        position: i64::from_le_bytes(r.array().map_err(|e| e.to_string())?),
        count: u64::from_le_bytes(r.array().map_err(|e| e.to_string())?),
    })
}

/// Reads every feature of the snapshot at `path` into `sink`; returns its header.
///
/// # Errors
/// [`Unusable`] when the file does not read to its end marker with the count it announces,
/// or a row does not decode (what was handed to `sink` must then be thrown away).
pub fn read_snapshot(
    path: &Path,
    sink: &mut dyn FnMut(Feature),
) -> Result<SnapshotHeader, Unusable> {
    let unusable = |why: String| Unusable {
        path: path.display().to_string(),
        why,
    };
    let file = std::fs::File::open(path).map_err(|e| unusable(e.to_string()))?;
    let mut r = Reader {
        r: BufReader::with_capacity(1 << 20, file),
    };
    let head = header(&mut r).map_err(&unusable)?;
    let read_row = |r: &mut Reader<_>| -> std::io::Result<FeatureRow> {
        let id = Uuid::from_bytes(r.array()?);
        let created_at = r.time()?;
        let updated_at = r.time()?;
        let version = i64::from_le_bytes(r.array()?);
        Ok(FeatureRow {
            id,
            created_at,
            updated_at,
            version,
            layer: r.string()?,
            geom: r.bytes()?,
            properties: r.string()?,
            organisation: r.string()?,
            classification: r.string()?,
            created_by: r.string()?,
            category: None,
            status: None,
            time_start: None,
        })
    };
    // One thread reads rows, two decode them (JSON, WKB and the checks are the cost), and this
    // one hands each decoded batch on at once, so no more than a few batches wait in memory.
    let (raw_tx, raw_rx) = std::sync::mpsc::sync_channel::<Vec<FeatureRow>>(4);
    // Held only by the decoders: should they all stop (a panic), the reader's next send fails
    // instead of waiting for ever.
    let raw_rx = std::sync::Arc::new(std::sync::Mutex::new(raw_rx));
    let (done_tx, done_rx) = std::sync::mpsc::sync_channel::<Result<Vec<Feature>, String>>(4);
    let mut failed: Option<String> = None;
    let reader = std::thread::scope(|scope| {
        for _ in 0..DECODERS {
            let (raw_rx, done_tx) = (std::sync::Arc::clone(&raw_rx), done_tx.clone());
            scope.spawn(move || {
                let mut strings = Interner::default();
                loop {
                    let batch = match raw_rx.lock() {
                        Ok(rx) => rx.recv(),
                        Err(_) => break,
                    };
                    let Ok(batch) = batch else { break };
                    let decoded: Result<Vec<Feature>, String> = batch
                        .into_iter()
                        .map(|row| row.into_feature(&mut strings).map_err(|e| e.to_string()))
                        .collect();
                    if done_tx.send(decoded).is_err() {
                        break;
                    }
                }
            });
        }
        drop(done_tx);
        drop(raw_rx);
        let reader = scope.spawn(move || -> Result<(), String> {
            let mut batch = Vec::with_capacity(BATCH);
            for i in 0..head.count {
                batch.push(read_row(&mut r).map_err(|e| format!("feature {i}: {e}"))?);
                if batch.len() == BATCH {
                    let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH));
                    raw_tx.send(full).map_err(|e| e.to_string())?;
                }
            }
            raw_tx.send(batch).map_err(|e| e.to_string())?;
            let end: [u8; 8] = r.array().map_err(|e| format!("no end marker: {e}"))?;
            if &end != END {
                return Err("no end marker after the announced features".into());
            }
            Ok(())
        });
        // Drained to the end even after a failure, so no thread waits for ever.
        for decoded in done_rx {
            match decoded {
                Ok(features) if failed.is_none() => features.into_iter().for_each(&mut *sink),
                Ok(_) => {}
                Err(e) => {
                    if failed.is_none() {
                        failed = Some(e);
                    }
                }
            }
        }
        reader
            .join()
            .unwrap_or_else(|_| Err("the reading thread failed".into()))
    });
    reader.map_err(&unusable)?;
    if let Some(why) = failed {
        return Err(unusable(why));
    }
    Ok(head)
}
