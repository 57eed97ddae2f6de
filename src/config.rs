//! Settings: defaults → optional TOML file → environment → command-line flags.
//!
//! | key | env | default |
//! | --- | --- | --- |
//! | `database_url` | `DATABASE_URL` or `LAGESBILD_DATABASE_URL` | `sqlite://data/lagesbild.db` |
//! | `bind` | `LAGESBILD_BIND` | `127.0.0.1:8080` |
//! | `public_url` | `LAGESBILD_PUBLIC_URL` | none: links use the request's `Host` |
//! | `max_body_bytes` | `LAGESBILD_MAX_BODY_BYTES` | `2097152` (2 MiB) |
//! | `default_limit` | `LAGESBILD_DEFAULT_LIMIT` | `100` |
//! | `max_limit` | `LAGESBILD_MAX_LIMIT` | `10000` |
//! | `web_dir` | `LAGESBILD_WEB_DIR` | none: the map client built into the binary (a folder named here must hold it) |
//! | `request_timeout_secs` | `LAGESBILD_REQUEST_TIMEOUT_SECS` | `30` |
//! | `index_snapshot` | `LAGESBILD_INDEX_SNAPSHOT` | `true` (SQLite: `<file>.index`, see `store::snapshot`) |
//! | `wal_limit_mb` | `LAGESBILD_WAL_LIMIT_MB` | `64` (SQLite's write-ahead log, while serving) |
//! | `basemap` | `LAGESBILD_BASEMAP` | none: a PMTiles or MBTiles file of vector tiles drawn under the layers (see `api::basemap`) |
//! | `tile_cache` | `LAGESBILD_TILE_CACHE` | `true` (cut vector tiles kept per view until a change touches them) |
//! | `credential_recheck_ms` | `LAGESBILD_CREDENTIAL_RECHECK_MS` | `1000` (a confirmed token or session is asked about again after this, at most 60000; `0`: every request) |

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

/// The longest a confirmed credential may be trusted before the database is asked again.
pub const MAX_CREDENTIAL_RECHECK_MS: u64 = 60_000;

/// The default embedded database.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/lagesbild.db";

/// Everything the server and commands can be configured with.
#[derive(Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// `sqlite://path/file.db` (created on first run) or `postgres://…` (PostGIS).
    /// [default: sqlite://data/lagesbild.db]
    pub database_url: String,
    /// Address and port to listen on. [default: 127.0.0.1:8080]
    pub bind: SocketAddr,
    /// The URL clients reach the server at, for links (e.g. behind a proxy). [default: from Host]
    pub public_url: Option<String>,
    /// Largest request body accepted, in bytes. [default: 2 MiB]
    pub max_body_bytes: usize,
    /// Page size when a request gives no `limit`. [default: 100]
    pub default_limit: usize,
    /// Largest `limit` accepted. [default: 10000]
    pub max_limit: usize,
    /// A folder to serve the web client's files from instead of those built into the binary
    /// (to try changes without a build); it must hold `index.html`. [default: built in]
    pub web_dir: Option<PathBuf>,
    /// Longest a request may take before it is answered 408. [default: 30]
    pub request_timeout_secs: u64,
    /// A role file replacing the shipped `config/roles.toml`. [default: the shipped roles]
    pub roles_file: Option<PathBuf>,
    /// How long a web session lasts, in hours. [default: 12]
    pub session_hours: u32,
    /// Trust `X-Forwarded-For` / `X-Forwarded-Proto` from a reverse proxy (client address in the
    /// audit log; Secure cookies behind TLS). [default: false]
    pub trust_proxy: bool,
    /// Months an incident is kept before it is purged for good, its weekly counts kept;
    /// 0 keeps them for ever. [default: 24]
    pub retention_incidents_months: u32,
    /// Hours between automatic retention runs while serving; 0 turns them off. [default: 24]
    pub retention_interval_hours: u32,
    /// Seconds a client has to send a whole request head before it is disconnected.
    /// [default: 10]
    pub header_read_timeout_secs: u64,
    /// Connections served at once; more wait to be accepted. [default: 1024]
    pub max_connections: usize,
    /// Most positions in one geometry; larger ones are refused (413) before any geometric
    /// work. [default: 50000]
    pub max_geometry_positions: usize,
    /// Most arrays of positions in one geometry — each ring, each line (413 past it).
    /// [default: 1000]
    pub max_geometry_rings: usize,
    /// Web origins (`https://karta.kommun.se`) whose pages may call the API from a browser
    /// (CORS), with an API token; none by default. Cookies are never sent cross-origin.
    /// [default: none]
    pub cors_origins: Vec<String>,
    /// SQLite: the most the write-ahead log may hold while serving, in MiB; it is checkpointed
    /// and cut back to nothing at half this (see `store::wal`). [default: 64]
    pub wal_limit_mb: u64,
    /// SQLite: write the index to `<database file>.index` when the server stops and start from
    /// it (checked against the change log) instead of reading every row. [default: true]
    pub index_snapshot: bool,
    /// Keep cut vector tiles per view (role's precision, ceiling and hidden properties) until a
    /// change touches them; off, every tile is cut afresh (for measuring). [default: true]
    pub tile_cache: bool,
    /// Milliseconds a token or session the database confirmed is trusted before it is asked
    /// again; a revocation elsewhere is refused at most this long after. `0` asks on every
    /// request. [default: 1000]
    pub credential_recheck_ms: u64,
    /// A basemap: a PMTiles (`.pmtiles`, read by the browser with range requests) or MBTiles
    /// (`.mbtiles`) file of vector tiles, drawn under the layers with the shipped style.
    /// [default: none]
    pub basemap: Option<PathBuf>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            database_url: DEFAULT_DATABASE_URL.into(),
            bind: SocketAddr::from(([127, 0, 0, 1], 8080)),
            public_url: None,
            max_body_bytes: 2 * 1024 * 1024,
            default_limit: 100,
            max_limit: 10_000,
            web_dir: None,
            request_timeout_secs: 30,
            roles_file: None,
            session_hours: 12,
            trust_proxy: false,
            retention_incidents_months: 24,
            retention_interval_hours: 24,
            header_read_timeout_secs: 10,
            max_connections: 1024,
            max_geometry_positions: 50_000,
            max_geometry_rings: 1_000,
            cors_origins: Vec::new(),
            wal_limit_mb: 64,
            index_snapshot: true,
            tile_cache: true,
            credential_recheck_ms: 1000,
            basemap: None,
        }
    }
}

impl fmt::Debug for Settings {
    /// Masks the database password.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("database_url", &mask_password(&self.database_url))
            .field("bind", &self.bind)
            .field("public_url", &self.public_url)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("default_limit", &self.default_limit)
            .field("max_limit", &self.max_limit)
            .field("web_dir", &self.web_dir)
            .field("request_timeout_secs", &self.request_timeout_secs)
            .field("roles_file", &self.roles_file)
            .field("session_hours", &self.session_hours)
            .field("trust_proxy", &self.trust_proxy)
            .field(
                "retention_incidents_months",
                &self.retention_incidents_months,
            )
            .field("retention_interval_hours", &self.retention_interval_hours)
            .field("header_read_timeout_secs", &self.header_read_timeout_secs)
            .field("max_connections", &self.max_connections)
            .field("max_geometry_positions", &self.max_geometry_positions)
            .field("max_geometry_rings", &self.max_geometry_rings)
            .field("cors_origins", &self.cors_origins)
            .field("wal_limit_mb", &self.wal_limit_mb)
            .field("index_snapshot", &self.index_snapshot)
            .field("tile_cache", &self.tile_cache)
            .field("credential_recheck_ms", &self.credential_recheck_ms)
            .field("basemap", &self.basemap)
            .finish()
    }
}

/// `postgres://user:secret@host/db` → `postgres://user:***@host/db`.
#[must_use]
pub fn mask_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    match rest.split_once('@') {
        Some((userinfo, host)) if userinfo.contains(':') => {
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{scheme}://{user}:***@{host}")
        }
        _ => url.to_owned(),
    }
}

/// Settings could not be read.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration: {0}")]
pub struct ConfigError(String);

/// The environment, as a seam so tests never change the process environment.
pub trait Environment {
    /// Every variable.
    fn vars(&self) -> Vec<(String, String)>;
}

/// The real process environment.
pub struct OsEnv;

impl Environment for OsEnv {
    fn vars(&self) -> Vec<(String, String)> {
        std::env::vars().collect()
    }
}

impl Settings {
    /// Reads the settings from defaults, the TOML file (if given), then the environment.
    ///
    /// # Errors
    /// A missing or malformed file, an unknown key, or a value of the wrong type.
    pub fn load(file: Option<&Path>, env: &dyn Environment) -> Result<Self, ConfigError> {
        let mut figment = Figment::from(Serialized::defaults(Settings::default()));
        if let Some(path) = file {
            if !path.exists() {
                return Err(ConfigError(format!(
                    "the config file {} does not exist",
                    path.display()
                )));
            }
            figment = figment.merge(Toml::file(path));
        }
        let vars = env.vars();
        let mut overrides = figment::value::Dict::new();
        for (k, v) in &vars {
            if let Some(key) = k.strip_prefix("LAGESBILD_") {
                let key = key.to_ascii_lowercase();
                if key == "config" {
                    continue;
                }
                overrides.insert(
                    key,
                    v.parse::<figment::value::Value>()
                        .unwrap_or_else(|_| v.clone().into()),
                );
            }
        }
        // DATABASE_URL is the convention (sqlx, Heroku, …); LAGESBILD_DATABASE_URL wins if both.
        if let Some((_, v)) = vars.iter().find(|(k, _)| k == "DATABASE_URL")
            && !overrides.contains_key("database_url")
        {
            overrides.insert("database_url".into(), v.clone().into());
        }
        figment = figment.merge(Serialized::defaults(overrides));
        let settings: Settings = figment.extract().map_err(|e| ConfigError(e.to_string()))?;
        settings.check()?;
        Ok(settings)
    }

    fn check(&self) -> Result<(), ConfigError> {
        if self.default_limit == 0 || self.default_limit > self.max_limit {
            return Err(ConfigError(format!(
                "default_limit ({}) must be from 1 to max_limit ({})",
                self.default_limit, self.max_limit
            )));
        }
        if self.max_body_bytes < 1024 {
            return Err(ConfigError("max_body_bytes must be at least 1024".into()));
        }
        if !(1..=65_536).contains(&self.wal_limit_mb) {
            return Err(ConfigError(format!(
                "wal_limit_mb ({}) must be from 1 to 65536 (MiB)",
                self.wal_limit_mb
            )));
        }
        if self.credential_recheck_ms > MAX_CREDENTIAL_RECHECK_MS {
            return Err(ConfigError(format!(
                "credential_recheck_ms ({}) must be at most {MAX_CREDENTIAL_RECHECK_MS}: a revocation must reach every instance within a minute",
                self.credential_recheck_ms
            )));
        }
        for origin in &self.cors_origins {
            check_origin(origin)?;
        }
        Ok(())
    }
}

/// An origin as browsers send it: `http(s)://host[:port]`, nothing after, no wildcard.
fn check_origin(origin: &str) -> Result<(), ConfigError> {
    let bad = |why: &str| {
        Err(ConfigError(format!(
            "cors_origins: '{origin}' {why}; write an origin as a browser sends it, e.g. https://karta.kommun.se or http://localhost:3000"
        )))
    };
    let Some(rest) = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"))
    else {
        return bad("does not start with https:// or http://");
    };
    if rest.is_empty() {
        return bad("has no host");
    }
    if rest.contains('/') {
        return bad("has a path (or a trailing /)");
    }
    if rest.contains('*') {
        return bad("has a wildcard (name each origin)");
    }
    if !rest
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
    {
        return bad("has characters a host cannot have");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    struct FakeEnv(Vec<(&'static str, &'static str)>);
    impl Environment for FakeEnv {
        fn vars(&self) -> Vec<(String, String)> {
            self.0
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect()
        }
    }

    #[test]
    fn cors_origins_must_be_plain_origins() {
        for ok in [
            "https://karta.kommun.se",
            "http://localhost:3000",
            "http://[::1]:8080",
        ] {
            assert!(check_origin(ok).is_ok(), "{ok}");
        }
        for bad in [
            "*",
            "karta.kommun.se",
            "https://karta.kommun.se/",
            "https://*.kommun.se",
            "https://",
            "ftp://x",
        ] {
            assert!(check_origin(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn defaults_need_no_file_and_no_env() {
        assert_eq!(
            Settings::load(None, &FakeEnv(vec![])).unwrap(),
            Settings::default()
        );
    }

    #[test]
    fn env_overrides_file_and_database_url_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("l.toml");
        std::fs::write(
            &file,
            "bind = \"0.0.0.0:9000\"\nmax_limit = 500\ndefault_limit = 50\n",
        )
        .unwrap();
        let s = Settings::load(
            Some(&file),
            &FakeEnv(vec![
                ("DATABASE_URL", "postgres://u:pw@h/db"),
                ("LAGESBILD_MAX_LIMIT", "700"),
            ]),
        )
        .unwrap();
        assert_eq!(s.bind.port(), 9000);
        assert_eq!(s.max_limit, 700);
        assert_eq!(s.default_limit, 50);
        assert_eq!(s.database_url, "postgres://u:pw@h/db");
        assert!(!format!("{s:?}").contains("pw"));
    }

    #[test]
    fn unknown_keys_and_bad_values_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("l.toml");
        std::fs::write(&file, "bnid = \"0.0.0.0:9000\"\n").unwrap();
        let e = Settings::load(Some(&file), &FakeEnv(vec![])).unwrap_err();
        assert!(e.to_string().contains("bnid"), "{e}");
        let e = Settings::load(None, &FakeEnv(vec![("LAGESBILD_MAX_LIMIT", "many")])).unwrap_err();
        assert!(e.to_string().contains("max_limit"), "{e}");
        let e = Settings::load(
            None,
            &FakeEnv(vec![("LAGESBILD_CREDENTIAL_RECHECK_MS", "3600000")]),
        )
        .unwrap_err();
        assert!(e.to_string().contains("credential_recheck_ms"), "{e}");
        let s = Settings::load(
            None,
            &FakeEnv(vec![("LAGESBILD_CREDENTIAL_RECHECK_MS", "0")]),
        )
        .unwrap();
        assert_eq!(s.credential_recheck_ms, 0);
    }
}
