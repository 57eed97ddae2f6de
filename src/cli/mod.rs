//! The command line: `serve`, `migrate`, `import`, `export`, `seed`, `user`, `token`, `audit`,
//! `purge`, `roles`. The arguments are defined here; each command is a short function over the
//! library in a file of its own, and [`run`] hands over to it.

mod audit;
mod export;
mod import;
mod output;
mod purge;
mod reference;
mod seed;
mod serve;
mod tokens;
mod users;

use std::net::SocketAddr;
use std::path::PathBuf;

use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};

use crate::config::Settings;
use crate::domain::Layer;
use crate::service::Service;
use crate::service::import::InputCrs;
use crate::startup::{local_viewer, open_store, service_options};

/// lagesbild — a shared situational picture for municipalities and police.
///
/// Settings come from defaults, then an optional TOML file (--config), then the environment
/// (DATABASE_URL, LAGESBILD_*), then these flags. With no DATABASE_URL the data lives in an
/// SQLite file, sqlite://data/lagesbild.db, created on first run.
#[derive(Debug, Parser)]
#[command(name = "lagesbild", version, about, long_about)]
pub struct Cli {
    /// TOML file with settings (database_url, bind, public_url, max_body_bytes, default_limit,
    /// max_limit, web_dir, request_timeout_secs).
    #[arg(long, global = true, env = "LAGESBILD_CONFIG")]
    pub config: Option<PathBuf>,
    /// Database: sqlite://path/file.db or postgres://user:password@host/db (PostGIS).
    /// [default: sqlite://data/lagesbild.db]
    #[arg(long, global = true)]
    pub database_url: Option<String>,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the API and the map.
    Serve {
        /// Address and port to listen on. [default: 127.0.0.1:8080]
        #[arg(long)]
        bind: Option<SocketAddr>,
        /// Seed the fictitious demo picture first if the database is empty.
        #[arg(long)]
        demo: bool,
    },
    /// Create or update the database schema, then exit.
    Migrate,
    /// Import a GeoJSON or CSV file into a layer: all rows or none.
    ///
    /// CSV needs a header with lon,lat (or x,y, or a WKT column as GDAL writes it) in WGS84 or,
    /// with --crs EPSG:3006, e,n or x,y (SWEREF 99 TM); ',' ';' or tab between fields (detected),
    /// decimal commas, UTF-8 or Windows-1252. The other columns are the layer's properties plus
    /// organisation and classification, or what --map maps. Times may be RFC 3339 or
    /// '2026-11-30 22:15[:00][ +01:00]' (Swedish time without an offset). Every rejected row is
    /// reported with every problem and its line number, then a count per problem.
    Import {
        /// The file to read.
        file: PathBuf,
        /// The layer to import into.
        #[arg(long, value_parser = parse_layer)]
        layer: Layer,
        /// The file's coordinate reference system: EPSG:4326 (WGS84) or EPSG:3006 (SWEREF 99 TM).
        #[arg(long, default_value = "EPSG:4326", value_parser = parse_crs)]
        crs: InputCrs,
        /// geojson, csv or gpkg. [default: from the file name's ending]
        #[arg(long)]
        format: Option<FileFormat>,
        /// The GeoPackage table to read, when the file holds several.
        #[arg(long)]
        source_layer: Option<String>,
        /// Check the file (every row, ids already stored, the retention period) and report,
        /// but store nothing.
        #[arg(long)]
        dry_run: bool,
        /// A mapping file (TOML) from a foreign schema: source fields to properties, value
        /// maps, constants, the position (see geodata/mappings/).
        #[arg(long)]
        map: Option<PathBuf>,
        /// CSV separator: ',' ';' or tab. [default: detected from the header]
        #[arg(long, value_parser = parse_delimiter)]
        delimiter: Option<crate::service::import::Delimiter>,
        /// Leave the file's ids out: every feature is stored as a new one.
        #[arg(long)]
        new_ids: bool,
        /// Import incidents older than the retention period anyway (they are reduced to weekly
        /// counts at the next start or purge).
        #[arg(long)]
        allow_expired: bool,
    },
    /// Write a layer's live features as a GeoJSON FeatureCollection, or (`export briefing`) a
    /// briefing map as PDF or PNG (audited).
    Export {
        /// The layer to export: GeoJSON, or a GeoPackage when --output ends in .gpkg.
        #[arg(long, value_parser = parse_layer)]
        layer: Option<Layer>,
        /// A briefing map instead of GeoJSON.
        #[command(subcommand)]
        what: Option<Box<ExportWhat>>,
        /// Where to write. [default: standard output]
        #[arg(long, short)]
        output: Option<PathBuf>,
        /// A GeoPackage's coordinates: EPSG:4326 (WGS84) or EPSG:3006 (SWEREF 99 TM). GeoJSON
        /// is always WGS84 (RFC 7946). [default: EPSG:4326]
        #[arg(long, value_parser = parse_crs)]
        crs: Option<InputCrs>,
        /// Export what this role may see (e.g. night_walker for a file to share with civil
        /// society): coarse layers are coarsened, hidden properties left out. [default: admin]
        #[arg(long)]
        as_role: Option<String>,
    },
    /// Manage accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage API tokens for integrations.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Read the audit log, newest first.
    Audit {
        /// Records at or after this time (RFC 3339, or a date YYYY-MM-DD).
        #[arg(long)]
        since: Option<String>,
        /// Records by this account.
        #[arg(long)]
        user: Option<String>,
        /// Records of this action (login, read, create, edit, delete, export, purge, denied, …).
        #[arg(long)]
        action: Option<String>,
        /// At most this many records.
        #[arg(long, default_value_t = 100)]
        limit: i64,
        /// One JSON object per line instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Reference layers the analyses use: building footprints (they cut camera views) and the
    /// walkable path network (routes are suggested over it).
    #[command(subcommand)]
    Reference(ReferenceCommand),
    /// Remove incidents older than the retention period for good (gallring), keeping weekly
    /// counts per area and category; audited.
    Purge,
    /// Print the roles and what each may see and do per layer.
    Roles,
    /// Load the shipped district outlines (geodata/areas.geojson), or the whole demo picture.
    Seed {
        /// Seed the whole fictitious demo picture (only into an empty database).
        #[arg(long)]
        demo: bool,
        /// The day the demo picture is "as of" (YYYY-MM-DD). [default: today]
        #[arg(long)]
        as_of: Option<String>,
        /// Add this many synthetic clustered incidents (for load and benchmark tests).
        #[arg(long)]
        synthetic_incidents: Option<usize>,
    },
}

/// `lagesbild reference …`
#[derive(Debug, Subcommand)]
pub enum ReferenceCommand {
    /// Replace a reference layer by a file's geometries: all or nothing, every geometry checked.
    ///
    /// buildings: polygons (Lantmäteriet's Byggnad, OpenStreetMap's building=*); paths: lines
    /// that meet at shared vertices (Lantmäteriet's Vägar/Gångvägar, OpenStreetMap's
    /// highway=footway|path|residential|…). GeoJSON in WGS84 (or --crs EPSG:3006), or a
    /// GeoPackage table in EPSG:4326 or EPSG:3006. Running servers pick it up within 10 s.
    Import {
        /// buildings or paths.
        #[arg(value_parser = parse_reference_kind)]
        kind: crate::store::reference::ReferenceKind,
        /// The file: .geojson/.json or .gpkg.
        file: PathBuf,
        /// The GeoPackage table, when the file holds several.
        #[arg(long)]
        source_layer: Option<String>,
        /// A GeoJSON file's coordinates: EPSG:4326 or EPSG:3006. (A GeoPackage says its own.)
        #[arg(long, default_value = "EPSG:4326", value_parser = parse_crs)]
        crs: InputCrs,
    },
    /// What each reference layer holds and where it came from.
    List,
}

fn parse_reference_kind(s: &str) -> Result<crate::store::reference::ReferenceKind, String> {
    crate::store::reference::ReferenceKind::parse(s)
        .ok_or_else(|| format!("'{s}' is not a reference layer; use buildings or paths"))
}

/// `lagesbild export …`
#[derive(Debug, Subcommand)]
pub enum ExportWhat {
    /// A briefing map: one page (or with --pack an overview and a page per area) as PDF or PNG,
    /// the same as GET /exports/briefing.pdf|png.
    Briefing {
        /// Where to write; .pdf or .png decides the format.
        #[arg(long, short)]
        output: PathBuf,
        /// An area's name, e.g. Alby.
        #[arg(long)]
        area: Option<String>,
        /// Or min_lon,min_lat,max_lon,max_lat.
        #[arg(long)]
        bbox: Option<String>,
        /// A pack: comma-separated areas, one page each after an overview (PDF only).
        #[arg(long)]
        pack: Option<String>,
        /// First day, YYYY-MM-DD. [default: 29 days before --to]
        #[arg(long)]
        from: Option<String>,
        /// Last day, YYYY-MM-DD. [default: the day of --as-of]
        #[arg(long)]
        to: Option<String>,
        /// Comma-separated layers. [default: incidents,risk_environments,cameras,patrol_routes]
        #[arg(long)]
        layers: Option<String>,
        /// Comma-separated incident categories. [default: all]
        #[arg(long)]
        category: Option<String>,
        /// The title. [default: Lägesbild]
        #[arg(long)]
        title: Option<String>,
        /// Who it is for. [default: chefssamrådet]
        #[arg(long)]
        audience: Option<String>,
        /// a4 or a3. [default: a4]
        #[arg(long)]
        paper: Option<String>,
        /// landscape or portrait. [default: landscape]
        #[arg(long)]
        orientation: Option<String>,
        /// PNG resolution, 150 or 300. [default: 150]
        #[arg(long)]
        dpi: Option<String>,
        /// "Data as of" (RFC 3339); the same value gives the same bytes. [default: now]
        #[arg(long)]
        as_of: Option<String>,
        /// Make it as this role would see it. [default: admin]
        #[arg(long)]
        as_role: Option<String>,
    },
    /// The lägesbild document (Lag 2023:196, 4 §) as a multi-page PDF, the same as
    /// GET /exports/lagesbild.pdf.
    Lagesbild {
        /// Where to write (.pdf).
        #[arg(long, short)]
        output: PathBuf,
        /// First day, YYYY-MM-DD. [default: 364 days before --to]
        #[arg(long)]
        from: Option<String>,
        /// Last day, YYYY-MM-DD. [default: the day of --as-of]
        #[arg(long)]
        to: Option<String>,
        /// The report period whose stored text is printed. [default: the year of --to]
        #[arg(long)]
        period: Option<String>,
        /// Who it is for. [default: kommunens ledning och chefssamrådet]
        #[arg(long)]
        audience: Option<String>,
        /// The municipality named on the title page. [default: Kommunen]
        #[arg(long)]
        municipality: Option<String>,
        /// "Data as of" (RFC 3339); the same value gives the same bytes. [default: now]
        #[arg(long)]
        as_of: Option<String>,
        /// Make it as this role would see it. [default: admin]
        #[arg(long)]
        as_role: Option<String>,
    },
}

/// `lagesbild user …`
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add an account. Without --password-stdin a password is generated and shown once.
    Add {
        /// Login name (lowercase letters, digits, '.', '_', '-').
        name: String,
        /// Role id (see 'lagesbild roles').
        #[arg(long)]
        role: String,
        /// The account's organisation (decides which features are its own).
        #[arg(long)]
        organisation: String,
        /// Name shown in the client. [default: the login name]
        #[arg(long)]
        display_name: Option<String>,
        /// Read the password from standard input (one line).
        #[arg(long)]
        password_stdin: bool,
    },
    /// List accounts.
    List,
    /// Disable an account: it cannot sign in, and its sessions and tokens stop at once.
    Disable {
        /// Login name.
        name: String,
    },
    /// Enable a disabled account.
    Enable {
        /// Login name.
        name: String,
    },
    /// Set a new password (ends the account's sessions). Without --password-stdin a password
    /// is generated and shown once.
    Passwd {
        /// Login name.
        name: String,
        /// Read the password from standard input (one line).
        #[arg(long)]
        password_stdin: bool,
    },
}

/// `lagesbild token …`
#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Make a token acting as an account; it is shown once, stored only as a hash.
    Create {
        /// The account the token acts as.
        #[arg(long)]
        user: String,
        /// What the token is for.
        #[arg(long)]
        label: String,
        /// Days until it stops working. [default: never]
        #[arg(long)]
        days: Option<u32>,
    },
    /// List tokens (never the tokens themselves).
    List,
    /// Revoke a token by id; it stops working at once.
    Revoke {
        /// The token's id (from 'lagesbild token list').
        id: uuid::Uuid,
    },
}

/// Input file formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FileFormat {
    /// GeoJSON FeatureCollection or Feature.
    Geojson,
    /// CSV with a header row.
    Csv,
    /// A GeoPackage feature table.
    Gpkg,
}

fn parse_layer(s: &str) -> Result<Layer, String> {
    s.parse()
        .map_err(|e: crate::domain::UnknownValue| e.to_string())
}

fn parse_crs(s: &str) -> Result<InputCrs, String> {
    s.parse()
}

fn parse_delimiter(s: &str) -> Result<crate::service::import::Delimiter, String> {
    s.parse()
}

/// Runs a parsed command line.
///
/// # Errors
/// Whatever the command fails with, for the caller to print.
pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let mut settings = crate::config::Settings::load(cli.config.as_deref(), &crate::config::OsEnv)?;
    if let Some(url) = cli.database_url {
        settings.database_url = url;
    }
    match cli.command {
        Command::Serve { bind, demo } => serve::run(settings, bind, demo).await,
        Command::Migrate => {
            let store = crate::startup::open_store(&settings).await?;
            eprintln!("the {} database is up to date", store.kind());
            Ok(ExitCode::SUCCESS)
        }
        Command::Import {
            file,
            layer,
            crs,
            format,
            dry_run,
            map,
            delimiter,
            new_ids,
            allow_expired,
            source_layer,
        } => {
            import::run(
                &settings,
                import::ImportArgs {
                    file,
                    layer,
                    crs,
                    format,
                    source_layer,
                    dry_run,
                    map,
                    delimiter,
                    new_ids,
                    allow_expired,
                },
            )
            .await
        }
        Command::Export {
            what: Some(what), ..
        } => match *what {
            ExportWhat::Lagesbild {
                output,
                from,
                to,
                period,
                audience,
                municipality,
                as_of,
                as_role,
            } => {
                let q = crate::briefing::lagesbild::LagesbildQuery {
                    from,
                    to,
                    period,
                    audience,
                    municipality,
                    as_of,
                };
                export::lagesbild(&settings, &q, &output, as_role.as_deref()).await
            }
            briefing => export::briefing(&settings, briefing).await,
        },
        Command::Export {
            layer,
            output,
            as_role,
            crs,
            what: None,
        } => export::layer(&settings, layer, output, as_role, crs).await,
        Command::Seed {
            demo,
            as_of,
            synthetic_incidents,
        } => seed::run(&settings, demo, as_of, synthetic_incidents).await,
        Command::User(cmd) => users::run(&settings, cmd).await,
        Command::Token(cmd) => tokens::run(&settings, cmd).await,
        Command::Audit {
            since,
            user,
            action,
            limit,
            json,
        } => audit::run(&settings, since, user, action, limit, json).await,
        Command::Purge => purge::run(&settings).await,
        Command::Reference(cmd) => reference::run(&settings, cmd).await,
        Command::Roles => {
            let options =
                crate::startup::service_options(&settings, crate::service::clock::Clock::system())?;
            output::println_out(&crate::domain::access::matrix_markdown(&options.roles));
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// The local administrator, or a role's view when asked (`--as-role`).
fn viewer_as(
    service: &Service,
    role_id: Option<&str>,
) -> anyhow::Result<crate::domain::access::Viewer> {
    let mut viewer = local_viewer(service)?;
    if let Some(role_id) = role_id {
        let role = service.roles().get(role_id).with_context(|| {
            format!(
                "unknown role '{role_id}'; roles: {}",
                service.roles().ids().collect::<Vec<_>>().join(", ")
            )
        })?;
        viewer.role = std::sync::Arc::clone(role);
        viewer.role_id = std::sync::Arc::from(role_id);
    }
    Ok(viewer)
}

/// Opens the store and the picture with the configured roles.
async fn open_service(settings: &Settings) -> anyhow::Result<Service> {
    let options = service_options(settings, crate::service::clock::Clock::system())?;
    let store = open_store(settings).await?;
    Ok(Service::open_with(store, options).await?)
}

/// Opens the store with the configured roles but not the picture: for accounts, tokens and the
/// audit log, which start in milliseconds however many features there are.
async fn open_accounts(settings: &Settings) -> anyhow::Result<Service> {
    let options = service_options(settings, crate::service::clock::Clock::system())?;
    let store = open_store(settings).await?;
    Ok(Service::open_without_picture(store, options)?)
}
