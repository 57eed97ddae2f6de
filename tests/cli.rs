//! The command line, run as a user would: import, export, seed, migrate, help.

#![allow(clippy::unwrap_used)] // Test code: a failed unwrap is a failed test.

mod common;

use std::path::Path;
use std::process::{Command, Output};

fn lagesbild(db: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lagesbild"))
        .args(args)
        .env("DATABASE_URL", db)
        .env_remove("LAGESBILD_CONFIG")
        .output()
        .expect("run lagesbild")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn export(db: &str, layer: &str, dir: &Path) -> serde_json::Value {
    let out = dir.join(format!("{layer}.geojson"));
    let o = lagesbild(
        db,
        &[
            "export",
            "--layer",
            layer,
            "--output",
            out.to_str().unwrap(),
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    serde_json::from_str(&std::fs::read_to_string(out).unwrap()).unwrap()
}

/// How many features `export` writes of `layer`.
fn count_exported(db: &str, layer: &str, dir: &Path) -> usize {
    export(db, layer, dir)["features"].as_array().unwrap().len()
}

fn incidents_csv(rows: usize, bad_row: Option<usize>) -> String {
    let mut s = String::from("lon,lat,category,occurred_at,severity,organisation,description\n");
    for i in 0..rows {
        let lat = if Some(i) == bad_row {
            "95.0".to_owned()
        } else {
            format!("{:.6}", 59.20 + (i % 100) as f64 * 0.0005)
        };
        s.push_str(&format!(
            "{:.6},{lat},vandalism,2026-10-{:02}T20:00:00Z,{},Botkyrkabyggen,Klotter\n",
            17.80 + (i / 100) as f64 * 0.0005,
            1 + i % 28,
            1 + i % 3
        ));
    }
    s
}

#[test]
fn an_import_with_one_bad_row_of_10000_stores_nothing_and_names_the_row() {
    let db = common::fresh_sqlite();
    let file = db.dir.path().join("incidents.csv");
    std::fs::write(&file, incidents_csv(10_000, Some(4_999))).unwrap();
    let o = lagesbild(
        &db.url,
        &["import", file.to_str().unwrap(), "--layer", "incidents"],
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    // Row 4 999 (0-based) is line 5 001: the header is line 1.
    assert!(
        err.contains("line 5001") && err.contains("latitude 95"),
        "{err}"
    );
    assert!(
        err.contains("nothing imported: 1 of 10000 rows rejected"),
        "{err}"
    );
    assert_eq!(count_exported(&db.url, "incidents", db.dir.path()), 0);

    std::fs::write(&file, incidents_csv(10_000, None)).unwrap();
    let o = lagesbild(
        &db.url,
        &["import", file.to_str().unwrap(), "--layer", "incidents"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("imported 10000 features"),
        "{}",
        stderr(&o)
    );
    let fc = export(&db.url, "incidents", db.dir.path());
    assert_eq!(fc["type"], "FeatureCollection");
    assert_eq!(fc["features"].as_array().unwrap().len(), 10_000);
}

#[test]
fn sweref_csv_lands_in_wgs84_and_dry_run_stores_nothing() {
    let db = common::fresh_sqlite();
    let file = db.dir.path().join("cameras.csv");
    // SWEREF 99 TM E 670817.916, N 6577304.567 is lon 18.0, lat 59.3 (PROJ).
    std::fs::write(
        &file,
        "e,n,direction,field_of_view,range_m,owner,status,organisation,permit_reference\n\
         670817.916,6577304.567,90,60,50,municipality,active,Botkyrka kommun,KBT-2025-0001\n",
    )
    .unwrap();
    let o = lagesbild(
        &db.url,
        &[
            "import",
            file.to_str().unwrap(),
            "--layer",
            "cameras",
            "--crs",
            "EPSG:3006",
            "--dry-run",
        ],
    );
    assert!(
        o.status.success() && stderr(&o).contains("dry run"),
        "{}",
        stderr(&o)
    );
    assert_eq!(count_exported(&db.url, "cameras", db.dir.path()), 0);
    let o = lagesbild(
        &db.url,
        &[
            "import",
            file.to_str().unwrap(),
            "--layer",
            "cameras",
            "--crs",
            "EPSG:3006",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let fc = export(&db.url, "cameras", db.dir.path());
    let c = &fc["features"][0]["geometry"]["coordinates"];
    assert!(
        (c[0].as_f64().unwrap() - 18.0).abs() < 1e-6
            && (c[1].as_f64().unwrap() - 59.3).abs() < 1e-6,
        "{c}"
    );
    // A register from before 1 April 2025 still imports: its permit reference is the
    // documented assessment's reference now.
    assert_eq!(
        fc["features"][0]["properties"]["assessment_reference"],
        "KBT-2025-0001"
    );
    assert!(fc["features"][0]["properties"]["permit_reference"].is_null());
    // Without --crs the same file is refused with a hint.
    let o = lagesbild(
        &db.url,
        &["import", file.to_str().unwrap(), "--layer", "cameras"],
    );
    assert!(!o.status.success());
    assert!(stderr(&o).contains("--crs EPSG:3006"), "{}", stderr(&o));
}

#[test]
fn geojson_round_trips_through_export_and_import() {
    let a = common::fresh_sqlite();
    let o = lagesbild(&a.url, &["seed", "--demo", "--as-of", "2026-11-23"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = lagesbild(&a.url, &["seed", "--demo"]);
    assert!(
        !o.status.success() && stderr(&o).contains("empty database"),
        "seeding twice is refused"
    );
    let routes = export(&a.url, "patrol_routes", a.dir.path());
    assert_eq!(routes["features"].as_array().unwrap().len(), 15);

    let b = common::fresh_sqlite();
    let file = a.dir.path().join("patrol_routes.geojson");
    let o = lagesbild(
        &b.url,
        &["import", file.to_str().unwrap(), "--layer", "patrol_routes"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let again = export(&b.url, "patrol_routes", b.dir.path());
    let key = |fc: &serde_json::Value| {
        let mut v: Vec<(String, String)> = fc["features"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                (
                    f["properties"]["name"].to_string(),
                    f["geometry"].to_string(),
                )
            })
            .collect();
        v.sort();
        v
    };
    assert_eq!(key(&again), key(&routes));
    // The ids came along, so a second import of the same file is refused whole.
    let o = lagesbild(
        &b.url,
        &["import", file.to_str().unwrap(), "--layer", "patrol_routes"],
    );
    assert!(
        !o.status.success() && stderr(&o).contains("have ids that exist already"),
        "{}",
        stderr(&o)
    );
    assert!(stderr(&o).contains("--new-ids"), "{}", stderr(&o));
    // The dry run says the same, before anything is tried.
    let o = lagesbild(
        &b.url,
        &[
            "import",
            file.to_str().unwrap(),
            "--layer",
            "patrol_routes",
            "--dry-run",
        ],
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("have ids that exist already"),
        "{}",
        stderr(&o)
    );
    // As new features, they are stored again beside the first copies.
    let o = lagesbild(
        &b.url,
        &[
            "import",
            file.to_str().unwrap(),
            "--layer",
            "patrol_routes",
            "--new-ids",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let twice = export(&b.url, "patrol_routes", b.dir.path());
    assert_eq!(
        twice["features"].as_array().unwrap().len(),
        2 * routes["features"].as_array().unwrap().len()
    );
}

#[test]
fn seed_loads_the_district_outlines_and_bad_files_are_explained() {
    let db = common::fresh_sqlite();
    let o = lagesbild(&db.url, &["seed"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let areas = export(&db.url, "areas", db.dir.path());
    let names: Vec<&str> = areas["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["properties"]["name"].as_str().unwrap())
        .collect();
    for n in [
        "Alby",
        "Fittja",
        "Hallunda",
        "Norsborg",
        "Tumba",
        "Ronna",
        "Geneta",
        "Hovsjö",
        "Fornhöjden",
    ] {
        assert!(names.contains(&n), "{n} missing");
    }
    assert!(
        areas["features"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["properties"]["approximate"] == true)
    );

    let file = db.dir.path().join("broken.geojson");
    std::fs::write(&file, "{\"type\": \"FeatureCollection\", ").unwrap();
    let o = lagesbild(
        &db.url,
        &["import", file.to_str().unwrap(), "--layer", "areas"],
    );
    assert!(
        !o.status.success() && stderr(&o).contains("not valid JSON (line 1"),
        "{}",
        stderr(&o)
    );
    let o = lagesbild(
        &db.url,
        &["import", file.to_str().unwrap(), "--layer", "suspects"],
    );
    assert!(
        !o.status.success() && stderr(&o).contains("allowed: incidents"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn help_documents_commands_and_configuration() {
    let o = Command::new(env!("CARGO_BIN_EXE_lagesbild"))
        .arg("--help")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&o.stdout);
    for word in [
        "serve",
        "migrate",
        "import",
        "export",
        "seed",
        "DATABASE_URL",
        "--config",
        "--database-url",
    ] {
        assert!(text.contains(word), "--help lacks {word}");
    }
    let o = Command::new(env!("CARGO_BIN_EXE_lagesbild"))
        .args(["import", "--help"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&o.stdout).contains("EPSG:3006"));
}

#[test]
fn migrate_works_on_postgis() {
    let Some(admin) = common::pg_admin_url() else {
        return;
    };
    let rt = tokio::runtime::Runtime::new().unwrap();
    let url = rt.block_on(common::fresh_pg_url(&admin));
    let o = lagesbild(&url, &["migrate"]);
    assert!(
        o.status.success() && stderr(&o).contains("postgis database is up to date"),
        "{}",
        stderr(&o)
    );
    let o = lagesbild(&url, &["seed", "--demo"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(count_exported(&url, "cameras", dir.path()), 60);
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn lagesbild_stdin(db: &str, args: &[&str], input: &str) -> Output {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_lagesbild"))
        .args(args)
        .env("DATABASE_URL", db)
        .env_remove("LAGESBILD_CONFIG")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn accounts_tokens_and_the_audit_log_are_managed_from_the_command_line() {
    let db = common::fresh_sqlite();
    // A generated password is printed once, on stdout.
    let o = lagesbild(
        &db.url,
        &[
            "user",
            "add",
            "anna",
            "--role",
            "police",
            "--organisation",
            "Polisen",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o).trim().len(), 20, "{}", stdout(&o));
    // A chosen password comes on stdin; weak ones and unknown roles are refused with reasons.
    let o = lagesbild_stdin(
        &db.url,
        &[
            "user",
            "add",
            "bo",
            "--role",
            "night_walker",
            "--organisation",
            "Nattvandrarna",
            "--password-stdin",
        ],
        "kort\n",
    );
    assert!(
        !o.status.success() && stderr(&o).contains("at least 10"),
        "{}",
        stderr(&o)
    );
    let o = lagesbild(
        &db.url,
        &[
            "user",
            "add",
            "bo",
            "--role",
            "pirate",
            "--organisation",
            "X",
        ],
    );
    assert!(
        !o.status.success() && stderr(&o).contains("unknown role 'pirate'"),
        "{}",
        stderr(&o)
    );
    let o = lagesbild(
        &db.url,
        &[
            "user",
            "add",
            "anna",
            "--role",
            "police",
            "--organisation",
            "Polisen",
        ],
    );
    assert!(
        !o.status.success() && stderr(&o).contains("exists already"),
        "{}",
        stderr(&o)
    );
    let list = stdout(&lagesbild(&db.url, &["user", "list"]));
    assert!(
        list.contains("anna") && list.contains("police") && list.contains("active"),
        "{list}"
    );

    // Tokens: shown once, listed without the secret, revoked by id.
    let o = lagesbild(
        &db.url,
        &["token", "create", "--user", "anna", "--label", "RAKEL"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let token = stdout(&o).trim().to_owned();
    assert!(token.starts_with("lgb_"));
    let list = stdout(&lagesbild(&db.url, &["token", "list"]));
    assert!(
        list.contains("RAKEL") && list.contains("active") && !list.contains(&token),
        "{list}"
    );
    let id = list.split_whitespace().next().unwrap().to_owned();
    assert!(
        lagesbild(&db.url, &["token", "revoke", &id])
            .status
            .success()
    );
    assert!(stdout(&lagesbild(&db.url, &["token", "list"])).contains("revoked"));
    let o = lagesbild(&db.url, &["token", "revoke", &id]);
    assert!(
        !o.status.success() && stderr(&o).contains("no live token"),
        "{}",
        stderr(&o)
    );

    assert!(
        lagesbild(&db.url, &["user", "disable", "anna"])
            .status
            .success()
    );
    assert!(stdout(&lagesbild(&db.url, &["user", "list"])).contains("disabled"));
    let o = lagesbild(&db.url, &["user", "disable", "nobody"]);
    assert!(!o.status.success() && stderr(&o).contains("no account named 'nobody'"));
    let o = lagesbild_stdin(
        &db.url,
        &["user", "passwd", "anna", "--password-stdin"],
        "ett nytt långt lösenord\n",
    );
    assert!(o.status.success(), "{}", stderr(&o));

    // Everything above is in the audit log, by the local administrator.
    let o = lagesbild(&db.url, &["audit", "--json", "--limit", "100"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let actions: Vec<String> = stdout(&o)
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["action"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    for a in [
        "user.add",
        "token.create",
        "token.revoke",
        "user.disable",
        "user.passwd",
    ] {
        assert!(
            actions.iter().any(|x| x == a),
            "{a} missing from {actions:?}"
        );
    }
    let o = lagesbild(
        &db.url,
        &["audit", "--action", "user.add", "--since", "2020-01-01"],
    );
    assert!(stdout(&o).contains("account 'anna'"), "{}", stdout(&o));
    let o = lagesbild(&db.url, &["audit", "--since", "igår"]);
    assert!(
        !o.status.success() && stderr(&o).contains("--since"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn export_as_a_role_applies_its_grant_and_purge_and_roles_explain_themselves() {
    let db = common::fresh_sqlite();
    assert!(lagesbild(&db.url, &["seed", "--demo"]).status.success());
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("risk.geojson");
    let o = lagesbild(
        &db.url,
        &[
            "export",
            "--layer",
            "incidents",
            "--as-role",
            "social_services",
            "-o",
            out.to_str().unwrap(),
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let fc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    let features = fc["features"].as_array().unwrap();
    assert!(!features.is_empty());
    for f in features {
        assert_eq!(f["properties"]["precision"], "coarse", "{f}");
        assert!(f["properties"].get("reference").is_none());
    }
    // Night walkers see only counts of incidents: no file at all.
    let out = dir.path().join("walker.geojson");
    let o = lagesbild(
        &db.url,
        &[
            "export",
            "--layer",
            "incidents",
            "--as-role",
            "night_walker",
            "-o",
            out.to_str().unwrap(),
        ],
    );
    assert!(
        !o.status.success() && stderr(&o).contains("only counts"),
        "{}",
        stderr(&o)
    );
    assert!(!out.exists() && !out.with_extension("partial").exists());
    // Purge with the default 24 months removes nothing from a fresh demo and says so.
    let o = lagesbild(&db.url, &["purge"]);
    assert!(
        o.status.success() && stderr(&o).contains("removed 0 incidents"),
        "{}",
        stderr(&o)
    );
    let o = lagesbild(&db.url, &["audit", "--action", "export", "--json"]);
    assert_eq!(stdout(&o).lines().count(), 2, "{}", stdout(&o));
    // The matrix, as the README shows it.
    let o = lagesbild(&db.url, &["roles"]);
    let table = stdout(&o);
    assert!(
        table.contains("| night_walker (Nattvandrare) | open |"),
        "{table}"
    );
    assert!(table.contains("aggregate"), "{table}");
}

#[test]
fn export_briefing_writes_the_same_pdf_for_the_same_as_of() {
    let db = common::fresh_sqlite();
    assert!(
        lagesbild(&db.url, &["seed", "--demo", "--as-of", "2026-11-23"])
            .status
            .success()
    );
    let dir = tempfile::tempdir().unwrap();
    let run = |name: &str| {
        let out = dir.path().join(name);
        let o = lagesbild(
            &db.url,
            &[
                "export",
                "briefing",
                "--area",
                "Alby",
                "--as-of",
                "2026-11-23T08:00:00Z",
                "--title",
                "Alby",
                "-o",
                out.to_str().unwrap(),
            ],
        );
        assert!(o.status.success(), "{}", stderr(&o));
        std::fs::read(out).unwrap()
    };
    let a = run("a.pdf");
    assert!(a.starts_with(b"%PDF-"));
    assert_eq!(a, run("b.pdf"), "same request, same bytes");
    let png = run("c.png");
    assert!(png.starts_with(b"\x89PNG"));
    let o = lagesbild(
        &db.url,
        &[
            "export",
            "briefing",
            "--area",
            "Atlantis",
            "-o",
            dir.path().join("x.pdf").to_str().unwrap(),
        ],
    );
    assert!(
        !o.status.success() && stderr(&o).contains("no area named 'Atlantis'"),
        "{}",
        stderr(&o)
    );
    assert!(!dir.path().join("x.pdf").exists() && !dir.path().join("x.partial").exists());
    let o = lagesbild(&db.url, &["export"]);
    assert!(
        !o.status.success() && stderr(&o).contains("--layer"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn export_lagesbild_writes_the_document_and_refuses_bad_dates() {
    let db = common::fresh_sqlite();
    assert!(
        lagesbild(&db.url, &["seed", "--demo", "--as-of", "2026-11-23"])
            .status
            .success()
    );
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("l.pdf");
    let args = |to: &'static str, out: &std::path::Path| {
        vec![
            "export".to_owned(),
            "lagesbild".to_owned(),
            "--to".to_owned(),
            to.to_owned(),
            "--as-of".to_owned(),
            "2026-11-23T08:00:00Z".to_owned(),
            "--as-role".to_owned(),
            "meeting_viewer".to_owned(),
            "-o".to_owned(),
            out.to_str().unwrap().to_owned(),
        ]
    };
    let a: Vec<String> = args("2026-11-22", &out);
    let o = lagesbild(&db.url, &a.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(o.status.success(), "{}", stderr(&o));
    let bytes = std::fs::read(&out).unwrap();
    assert!(bytes.starts_with(b"%PDF-"));
    let bad = dir.path().join("x.pdf");
    let a: Vec<String> = args("2026-02-30", &bad);
    let o = lagesbild(&db.url, &a.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(
        !o.status.success() && stderr(&o).contains("to"),
        "{}",
        stderr(&o)
    );
    assert!(!bad.exists() && !dir.path().join("x.partial").exists());
}

#[test]
fn the_police_events_feed_imports_through_the_shipped_mapping() {
    let db = common::fresh_sqlite();
    let feed = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/polisen_events.json"
    );
    let map = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/geodata/mappings/polisen-events.toml"
    );
    let args = ["import", feed, "--layer", "incidents", "--map", map];
    let o = lagesbild(&db.url, &[&args[..], &["--dry-run"]].concat());
    let err = stderr(&o);
    assert!(o.status.success(), "{err}");
    assert!(err.contains("all 5 rows are valid"), "{err}");
    assert!(
        err.contains("left out 2 rows") && err.contains("type = Trafikolycka (1)"),
        "{err}"
    );
    assert!(
        err.contains("source fields not imported (not mapped): name, url"),
        "{err}"
    );
    let o = lagesbild(&db.url, &args);
    assert!(o.status.success(), "{}", stderr(&o));
    let fc = export(&db.url, "incidents", db.dir.path());
    let mut got: Vec<(String, String, u64)> = fc["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let p = &f["properties"];
            (
                p["reference"].as_str().unwrap().to_owned(),
                p["category"].as_str().unwrap().to_owned(),
                p["severity"].as_u64().unwrap(),
            )
        })
        .collect();
    got.sort();
    assert_eq!(
        got,
        vec![
            ("575101".into(), "shooting".into(), 5),
            ("575102".into(), "other".into(), 2),
            ("575104".into(), "threat_violence".into(), 4),
            ("575106".into(), "vandalism".into(), 2),
            ("575107".into(), "explosion".into(), 5),
        ]
    );
    // Without the mapping the records have no geometry, and the error says what to do.
    let o = lagesbild(&db.url, &["import", feed, "--layer", "incidents"]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("polisen-events.toml"), "{}", stderr(&o));
}

#[test]
fn many_bad_rows_are_summarised_per_problem() {
    let db = common::fresh_sqlite();
    let mut csv = String::from("lon;lat;category;occurred_at;severity;organisation\n");
    for i in 0..900 {
        let organisation = if i < 816 { "" } else { "Botkyrka kommun" };
        let severity = if i % 100 == 0 { "hög" } else { "2" };
        csv.push_str(&format!(
            "17,8{i:03};59,2;vandalism;2026-11-{:02} 21:00;{severity};{organisation}\n",
            1 + i % 28
        ));
    }
    let file = db.dir.path().join("skadegorelse.csv");
    std::fs::write(&file, csv).unwrap();
    let o = lagesbild(
        &db.url,
        &[
            "import",
            file.to_str().unwrap(),
            "--layer",
            "incidents",
            "--dry-run",
        ],
    );
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("read as CSV (separator ';', UTF-8)"), "{err}");
    assert!(
        err.contains("816 rows: column 'organisation': is missing"),
        "{err}"
    );
    assert!(
        err.contains("9 rows: column 'severity': is '…' (text); it must be a whole number from 1 to 5 (first: line 2)"),
        "{err}"
    );
    // Row 1 (line 2) has both problems, both named on its line.
    let line2 = err.lines().find(|l| l.contains("line 2:")).unwrap();
    assert!(
        line2.contains("organisation") && line2.contains("severity"),
        "{line2}"
    );
    assert!(
        err.contains("nothing imported: 816 of 900 rows rejected"),
        "{err}"
    );
}

#[test]
fn incidents_past_the_retention_period_are_refused_unless_asked() {
    let db = common::fresh_sqlite();
    let file = db.dir.path().join("old.csv");
    std::fs::write(
        &file,
        "lon,lat,category,occurred_at,severity,organisation\n\
         17.84,59.24,vandalism,2019-03-01 21:00,2,Botkyrka kommun\n\
         17.84,59.24,vandalism,2026-11-01 21:00,2,Botkyrka kommun\n",
    )
    .unwrap();
    let path = file.to_str().unwrap();
    for extra in [&["--dry-run"][..], &[]] {
        let o = lagesbild(
            &db.url,
            &[&["import", path, "--layer", "incidents"][..], extra].concat(),
        );
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{err}");
        assert!(err.contains("1 incidents are from before"), "{err}");
        assert!(err.contains("--allow-expired"), "{err}");
    }
    assert_eq!(count_exported(&db.url, "incidents", db.dir.path()), 0);
    let o = lagesbild(
        &db.url,
        &["import", path, "--layer", "incidents", "--allow-expired"],
    );
    let err = stderr(&o);
    assert!(o.status.success(), "{err}");
    assert!(err.contains("reduced to weekly counts"), "{err}");
    assert!(err.contains("imported 2 features"), "{err}");
}

/// GDAL, when installed (under CI it must be: scripts/test installs gdal-bin).
fn gdal_tool(tool: &str) -> bool {
    let found = Command::new(tool)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        found || std::env::var("CI").is_err(),
        "{tool} is missing under CI; scripts/test installs gdal-bin"
    );
    found
}

fn run_gdal(tool: &str, args: &[&str]) -> String {
    let o = Command::new(tool).args(args).output().expect("run GDAL");
    assert!(o.status.success(), "{tool} {args:?}: {}", stderr(&o));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn geopackages_export_and_import_in_both_crs() {
    let a = common::fresh_sqlite();
    let o = lagesbild(&a.url, &["seed", "--demo", "--as-of", "2026-11-23"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let original = export(&a.url, "incidents", a.dir.path());
    let n = original["features"].as_array().unwrap().len();
    for crs in ["EPSG:4326", "EPSG:3006"] {
        let gpkg = a.dir.path().join(format!("incidents-{}.gpkg", &crs[5..]));
        let out = gpkg.to_str().unwrap();
        let o = lagesbild(
            &a.url,
            &[
                "export",
                "--layer",
                "incidents",
                "--output",
                out,
                "--crs",
                crs,
            ],
        );
        assert!(o.status.success(), "{}", stderr(&o));
        assert!(
            stderr(&o).contains(&format!("exported {n} features")),
            "{}",
            stderr(&o)
        );
        if gdal_tool("ogrinfo") {
            // GDAL reads it as a GeoPackage: the count, the SRS and the typed columns.
            let info = run_gdal("ogrinfo", &["-so", out, "incidents"]);
            assert!(info.contains(&format!("Feature Count: {n}")), "{info}");
            assert!(
                info.contains(&format!("ID[\"EPSG\",{}]", &crs[5..])),
                "{info}"
            );
            assert!(info.contains("severity: Integer"), "{info}");
            assert!(info.contains("occurred_at: DateTime"), "{info}");
        }
        // Back into an empty database: the same features, ids and all.
        let b = common::fresh_sqlite();
        let o = lagesbild(&b.url, &["import", out, "--layer", "incidents"]);
        let err = stderr(&o);
        assert!(o.status.success(), "{err}");
        assert!(
            err.contains(&format!("GeoPackage table 'incidents' in {crs}")),
            "{err}"
        );
        let again = export(&b.url, "incidents", b.dir.path());
        let key = |fc: &serde_json::Value| {
            let mut v: Vec<(String, String, String, u64, f64, f64)> = fc["features"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| {
                    let p = &f["properties"];
                    let c = &f["geometry"]["coordinates"];
                    // Points only: the demo's polygons are compared by id and properties.
                    let (x, y) = (c[0].as_f64().unwrap_or(0.0), c[1].as_f64().unwrap_or(0.0));
                    (
                        f["id"].as_str().unwrap().to_owned(),
                        p["category"].as_str().unwrap().to_owned(),
                        p["occurred_at"].as_str().unwrap().to_owned(),
                        p["severity"].as_u64().unwrap(),
                        (x * 1e6).round(),
                        (y * 1e6).round(),
                    )
                })
                .collect();
            v.sort_by(|a, b| a.0.cmp(&b.0));
            v
        };
        assert_eq!(key(&again), key(&original), "{crs}");
    }
}

#[test]
fn a_municipal_shapefile_and_geopackage_import_through_the_shipped_mapping() {
    if !gdal_tool("ogr2ogr") {
        return;
    }
    let db = common::fresh_sqlite();
    let dir = db.dir.path();
    // A municipal register as its system exports it: Swedish names, SWEREF 99 TM, local times.
    let source = serde_json::json!({
        "type": "FeatureCollection",
        "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::3006"}},
        "features": [
            {"type": "Feature", "geometry": {"type": "Point", "coordinates": [660412.0, 6568015.0]},
             "properties": {"kategori": "Bilbrand", "datum": "2026-11-20 22:15:00", "allvarlighetsgrad": 3, "beskrivning": "Bil i brand på parkering", "diarienr": "KS 2026-101", "status": "Avslutad"}},
            {"type": "Feature", "geometry": {"type": "Point", "coordinates": [660900.0, 6567500.0]},
             "properties": {"kategori": "Klotter", "datum": "2026-11-21 08:30:00", "allvarlighetsgrad": 1, "beskrivning": "Klotter på skolans fasad", "diarienr": "KS 2026-102", "status": "Öppen"}},
            {"type": "Feature", "geometry": {"type": "Point", "coordinates": [661200.0, 6567900.0]},
             "properties": {"kategori": "Nedskräpning", "datum": "2026-11-22 14:00:00", "allvarlighetsgrad": 1, "beskrivning": "Skräp vid återvinningen", "diarienr": "KS 2026-103", "status": "Pågående"}}
        ]
    });
    let src = dir.join("register.geojson");
    std::fs::write(&src, source.to_string()).unwrap();
    let src = src.to_str().unwrap();
    let shp = dir.join("register.shp");
    let shp = shp.to_str().unwrap();
    let gpkg = dir.join("register.gpkg");
    let gpkg = gpkg.to_str().unwrap();
    run_gdal(
        "ogr2ogr",
        &["-f", "ESRI Shapefile", "-lco", "ENCODING=UTF-8", shp, src],
    );
    run_gdal("ogr2ogr", &["-f", "GPKG", "-nln", "incidenter", gpkg, src]);
    let from_shp = dir.join("from-shp.geojson");
    let from_shp = from_shp.to_str().unwrap();
    // The README's recipe: a Shapefile to GeoJSON in WGS84 (names cut to 10 characters).
    run_gdal(
        "ogr2ogr",
        &["-f", "GeoJSON", "-t_srs", "EPSG:4326", from_shp, shp],
    );
    let map = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/geodata/mappings/kommun-incidenter.toml"
    );
    // A Shapefile's date field keeps the day and loses the time (DBF has no times): refused,
    // and the message says why and what to do.
    let o = lagesbild(
        &db.url,
        &[
            "import",
            from_shp,
            "--layer",
            "incidents",
            "--map",
            map,
            "--dry-run",
        ],
    );
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("field 'datum'"), "{err}");
    assert!(
        err.contains("a date without a time of day") && err.contains("GeoPackage"),
        "{err}"
    );
    assert!(err.contains("3 rows:"), "{err}");
    // The GeoPackage keeps the times (as GDAL wrote them, without an offset: Swedish time).
    let o = lagesbild(
        &db.url,
        &[
            "import",
            gpkg,
            "--layer",
            "incidents",
            "--map",
            map,
            "--source-layer",
            "incidenter",
            "--dry-run",
        ],
    );
    let err = stderr(&o);
    assert!(o.status.success(), "{err}");
    assert!(err.contains("all 3 rows are valid"), "{err}");
    assert!(err.contains("3 times had no offset"), "{err}");
    // The GeoPackage (EPSG:3006, read directly) into the database.
    let o = lagesbild(
        &db.url,
        &["import", gpkg, "--layer", "incidents", "--map", map],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let fc = export(&db.url, "incidents", dir);
    let mut got: Vec<(String, String, String, String)> = fc["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let p = &f["properties"];
            (
                p["reference"].as_str().unwrap().to_owned(),
                p["category"].as_str().unwrap().to_owned(),
                p["status"].as_str().unwrap().to_owned(),
                p["occurred_at"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    got.sort();
    assert_eq!(
        got,
        vec![
            (
                "KS 2026-101".into(),
                "car_fire".into(),
                "closed".into(),
                "2026-11-20T22:15:00+01:00".into()
            ),
            (
                "KS 2026-102".into(),
                "vandalism".into(),
                "open".into(),
                "2026-11-21T08:30:00+01:00".into()
            ),
            (
                "KS 2026-103".into(),
                "other".into(),
                "open".into(),
                "2026-11-22T14:00:00+01:00".into()
            ),
        ]
    );
    // Positions: SWEREF 99 TM back to WGS84 (the first point, within a centimetre).
    let t = lagesbild::domain::crs::sweref().unwrap();
    let (lon, lat) = t.to_wgs84(660412.0, 6568015.0).unwrap();
    assert!(fc["features"].as_array().unwrap().iter().any(|f| {
        let c = &f["geometry"]["coordinates"];
        (c[0].as_f64().unwrap() - lon).abs() < 1e-7 && (c[1].as_f64().unwrap() - lat).abs() < 1e-7
    }));
    // A GeoPackage with several tables asks which; a wrong name lists them.
    let o = lagesbild(
        &db.url,
        &[
            "import",
            gpkg,
            "--layer",
            "incidents",
            "--source-layer",
            "nope",
        ],
    );
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("its feature tables are incidenter"),
        "{}",
        stderr(&o)
    );
}

/// Issue 17: commands about accounts, tokens and the audit log do not load the picture. Shown
/// by behaviour, not by time: with a feature row the index could not read, they still work
/// (an export, which reads every feature, names the broken row).
#[test]
fn account_commands_do_not_load_the_picture() {
    let db = common::fresh_sqlite();
    let o = lagesbild(&db.url, &["seed", "--demo", "--as-of", "2026-11-23"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let pool = sqlx::SqlitePool::connect(&db.url).await.unwrap();
        let n = sqlx::query(
            "UPDATE features SET properties = '{not json' WHERE rowid = (SELECT min(rowid) FROM features WHERE layer = 'incidents')",
        )
        .execute(&pool)
        .await
        .unwrap()
        .rows_affected();
        assert_eq!(n, 1);
        pool.close().await;
    });
    for args in [
        &[
            "user",
            "add",
            "kim",
            "--role",
            "police",
            "--organisation",
            "Polisen",
        ][..],
        &["user", "list"],
        &["token", "create", "--user", "kim", "--label", "gis"],
        &["token", "list"],
        &["audit", "--limit", "5"],
    ] {
        let o = lagesbild(&db.url, args);
        assert!(o.status.success(), "{args:?}: {}", stderr(&o));
    }
    let out = db.dir.path().join("x.geojson");
    let o = lagesbild(
        &db.url,
        &[
            "export",
            "--layer",
            "incidents",
            "--output",
            out.to_str().unwrap(),
        ],
    );
    assert!(
        !o.status.success(),
        "the broken row is read by a command that needs the picture"
    );
}

/// What a feature is, whatever database stored it: its position and its own properties (not
/// the id, version or timestamps the store gives it).
fn content(fc: &serde_json::Value) -> Vec<String> {
    let mut v: Vec<String> = fc["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let p = &f["properties"];
            format!(
                "{} {} {} {} {} {} {}",
                f["geometry"],
                p["category"],
                p["occurred_at"],
                p["severity"],
                p["description"],
                p["organisation"],
                p["classification"]
            )
        })
        .collect();
    v.sort();
    v
}

/// The names of the indexes on `features` (an import into an empty table sets the secondary
/// ones aside and builds them again).
fn feature_indexes(url: &str) -> Vec<String> {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        use sqlx::Connection;
        let mut names: Vec<String> = if url.starts_with("sqlite:") {
            let mut c = sqlx::SqliteConnection::connect(url).await.unwrap();
            sqlx::query_scalar(
                "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'features'",
            )
            .fetch_all(&mut c)
            .await
            .unwrap()
        } else {
            let mut c = sqlx::PgConnection::connect(url).await.unwrap();
            sqlx::query_scalar(
                "SELECT indexname::text FROM pg_indexes WHERE tablename = 'features'",
            )
            .fetch_all(&mut c)
            .await
            .unwrap()
        };
        names.sort();
        names
    })
}

/// The change log's length and the triggers on `features` (a writing import sets the log's
/// insert trigger aside and logs its rows in one statement).
fn change_log(url: &str) -> (i64, Vec<String>) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        use sqlx::Connection;
        let (logged, mut triggers): (i64, Vec<String>) = if url.starts_with("sqlite:") {
            let mut c = sqlx::SqliteConnection::connect(url).await.unwrap();
            let logged = sqlx::query_scalar("SELECT count(*) FROM changes")
                .fetch_one(&mut c)
                .await
                .unwrap();
            let triggers = sqlx::query_scalar(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'features'",
            )
            .fetch_all(&mut c)
            .await
            .unwrap();
            (logged, triggers)
        } else {
            let mut c = sqlx::PgConnection::connect(url).await.unwrap();
            let logged = sqlx::query_scalar("SELECT count(*) FROM changes")
                .fetch_one(&mut c)
                .await
                .unwrap();
            let triggers = sqlx::query_scalar(
                "SELECT tgname::text FROM pg_trigger WHERE tgrelid = 'features'::regclass AND NOT tgisinternal",
            )
            .fetch_all(&mut c)
            .await
            .unwrap();
            (logged, triggers)
        };
        triggers.sort();
        (logged, triggers)
    })
}

#[test]
fn a_streamed_import_is_all_or_nothing_and_the_same_on_both_back_ends() {
    // More rows than two batches (`Store::bulk_batch_rows`: 5 000 on SQLite, 20 000 on
    // PostGIS), so the first batches are written before the bad last row is read: the
    // transaction must still be rolled back.
    let rows = 45_000;
    let sqlite = common::fresh_sqlite();
    let mut urls = vec![sqlite.url.clone()];
    if let Some(admin) = common::pg_admin_url() {
        let rt = tokio::runtime::Runtime::new().unwrap();
        urls.push(rt.block_on(common::fresh_pg_url(&admin)));
    }
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, incidents_csv(rows, Some(rows - 1))).unwrap();
    let good = dir.path().join("good.csv");
    std::fs::write(&good, incidents_csv(rows, None)).unwrap();
    let single = dir.path().join("two.csv");
    std::fs::write(&single, incidents_csv(2, None)).unwrap();
    // Two features with one id (GeoJSON: CSV rows have no ids), the second in a later batch
    // on both back-ends.
    let features: Vec<serde_json::Value> = (0..25_000)
        .map(|i| {
            let id = if i == 24_999 { 1 } else { i };
            serde_json::json!({
                "type": "Feature",
                "id": format!("0b5d6f0e-0000-4000-8000-{id:012}"),
                "geometry": {"type": "Point", "coordinates": [17.9, 59.2]},
                "properties": {"category": "vandalism", "occurred_at": "2026-10-01T20:00:00Z",
                    "severity": 2, "organisation": "Polisen"}
            })
        })
        .collect();
    let repeated_file = dir.path().join("repeated.geojson");
    std::fs::write(
        &repeated_file,
        serde_json::json!({"type": "FeatureCollection", "features": features}).to_string(),
    )
    .unwrap();
    let same_batch = dir.path().join("same-batch.geojson");
    let features: Vec<serde_json::Value> = [0, 1, 0]
        .iter()
        .map(|i| {
            serde_json::json!({
                "type": "Feature",
                "id": format!("1c5d6f0e-0000-4000-8000-{i:012}"),
                "geometry": {"type": "Point", "coordinates": [17.9, 59.2]},
                "properties": {"category": "vandalism", "occurred_at": "2026-10-01T20:00:00Z",
                    "severity": 2, "organisation": "Polisen"}
            })
        })
        .collect();
    std::fs::write(
        &same_batch,
        serde_json::json!({"type": "FeatureCollection", "features": features}).to_string(),
    )
    .unwrap();
    let mut exported = Vec::new();
    for url in &urls {
        let _ = lagesbild(url, &["migrate"]);
        let indexes = feature_indexes(url);
        assert!(indexes.len() >= 3, "{url}: {indexes:?}");
        let (logged, triggers) = change_log(url);
        assert_eq!(triggers.len(), 3, "{url}: {triggers:?}");
        let o = lagesbild(
            url,
            &["import", bad.to_str().unwrap(), "--layer", "incidents"],
        );
        assert_eq!(o.status.code(), Some(2), "{url}: {}", stderr(&o));
        assert!(
            stderr(&o).contains(&format!("line {}", rows + 1))
                && stderr(&o).contains(&format!("nothing imported: 1 of {rows} rows rejected")),
            "{url}: {}",
            stderr(&o)
        );
        assert_eq!(count_exported(url, "incidents", dir.path()), 0, "{url}");

        let o = lagesbild(
            url,
            &[
                "import",
                repeated_file.to_str().unwrap(),
                "--layer",
                "incidents",
            ],
        );
        assert_eq!(o.status.code(), Some(2), "{url}: {}", stderr(&o));
        assert!(
            stderr(&o).contains("1 rows repeat an id of an earlier row")
                && stderr(&o).contains("nothing imported"),
            "{url}: {}",
            stderr(&o)
        );
        assert_eq!(count_exported(url, "incidents", dir.path()), 0, "{url}");
        // Two features with one id in one batch: named as such, not as a database error nor
        // as an id that exists already.
        let o = lagesbild(
            url,
            &[
                "import",
                same_batch.to_str().unwrap(),
                "--layer",
                "incidents",
            ],
        );
        assert_eq!(o.status.code(), Some(2), "{url}: {}", stderr(&o));
        assert!(
            stderr(&o).contains("1 rows repeat an id of an earlier row")
                && !stderr(&o).contains("exist already")
                && !stderr(&o).to_lowercase().contains("unique"),
            "{url}: {}",
            stderr(&o)
        );
        assert_eq!(count_exported(url, "incidents", dir.path()), 0, "{url}");

        let o = lagesbild(
            url,
            &["import", good.to_str().unwrap(), "--layer", "incidents"],
        );
        assert!(o.status.success(), "{url}: {}", stderr(&o));
        assert!(
            stderr(&o).contains(&format!("imported {rows} features")),
            "{url}: {}",
            stderr(&o)
        );
        // One audit record, in the same transaction, naming every stored feature.
        let o = lagesbild(url, &["audit", "--action", "create", "--limit", "1"]);
        assert!(
            o.status.success() && stdout(&o).contains(&format!("{rows} features")),
            "{url}: {}{}",
            stdout(&o),
            stderr(&o)
        );
        // ... and were built again over the rows before the commit (on PostGIS the primary
        // key's index too, which a first load sets aside).
        assert_eq!(feature_indexes(url), indexes, "{url}");
        // The failed imports logged nothing; the stored one, a first load, logged one entry
        // saying the rows changed wholesale; and the trigger it set aside is back.
        assert_eq!(change_log(url), (logged + 1, triggers.clone()), "{url}");
        exported.push(export(url, "incidents", dir.path()));
        // A second import into the now non-empty table keeps its indexes in place, and logs
        // each of its rows (on SQLite in one statement, with the trigger set aside).
        let o = lagesbild(
            url,
            &[
                "import",
                good.to_str().unwrap(),
                "--layer",
                "incidents",
                "--dry-run",
            ],
        );
        assert!(o.status.success(), "{url}: {}", stderr(&o));
        let o = lagesbild(
            url,
            &["import", single.to_str().unwrap(), "--layer", "incidents"],
        );
        assert!(o.status.success(), "{url}: {}", stderr(&o));
        assert_eq!(feature_indexes(url), indexes, "{url}");
        assert_eq!(change_log(url), (logged + 1 + 2, triggers), "{url}");
    }
    for fc in &exported {
        assert_eq!(fc["features"].as_array().unwrap().len(), rows);
    }
    // SQLite's INSERTs and PostGIS's binary COPY stored the same features.
    if let [a, b] = &exported[..] {
        assert_eq!(content(a), content(b));
    }
}

#[test]
fn reference_layers_are_imported_whole_or_not_at_all_and_listed() {
    let db = common::fresh_sqlite();
    let o = lagesbild(&db.url, &["migrate"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let square = |x: f64, y: f64| {
        serde_json::json!({"type": "Feature", "properties": {}, "geometry": {"type": "Polygon",
            "coordinates": [[[x, y], [x + 0.0005, y], [x + 0.0005, y + 0.0003], [x, y + 0.0003], [x, y]]]}})
    };
    // One bowtie among good footprints: nothing is imported, the bad one is named.
    let bowtie = serde_json::json!({"type": "Feature", "properties": {}, "geometry": {"type": "Polygon",
        "coordinates": [[[17.84, 59.24], [17.841, 59.241], [17.841, 59.24], [17.84, 59.241], [17.84, 59.24]]]}});
    let file = db.dir.path().join("byggnader.geojson");
    let write = |features: Vec<serde_json::Value>| {
        std::fs::write(
            &file,
            serde_json::json!({"type": "FeatureCollection", "features": features}).to_string(),
        )
        .unwrap();
    };
    write(vec![square(17.84, 59.24), bowtie, square(17.85, 59.24)]);
    let o = lagesbild(
        &db.url,
        &["reference", "import", "buildings", file.to_str().unwrap()],
    );
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("feature 2") && stderr(&o).contains("nothing imported"),
        "{}",
        stderr(&o)
    );
    let o = lagesbild(&db.url, &["reference", "list"]);
    assert!(
        o.status.success() && stdout(&o).trim().is_empty(),
        "{}",
        stdout(&o)
    );
    // Lines are not buildings.
    write(vec![
        serde_json::json!({"type": "Feature", "properties": {}, "geometry":
        {"type": "LineString", "coordinates": [[17.84, 59.24], [17.85, 59.24]]}}),
    ]);
    let o = lagesbild(
        &db.url,
        &["reference", "import", "buildings", file.to_str().unwrap()],
    );
    assert!(
        !o.status.success() && stderr(&o).contains("feature 1"),
        "{}",
        stderr(&o)
    );
    // Good ones: stored, listed with their source; a second import replaces the first.
    write(vec![
        square(17.84, 59.24),
        square(17.85, 59.24),
        square(17.86, 59.24),
    ]);
    let o = lagesbild(
        &db.url,
        &["reference", "import", "buildings", file.to_str().unwrap()],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    write(vec![square(17.84, 59.24), square(17.85, 59.24)]);
    let o = lagesbild(
        &db.url,
        &["reference", "import", "buildings", file.to_str().unwrap()],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let o = lagesbild(&db.url, &["reference", "list"]);
    let listed = stdout(&o);
    assert!(
        listed.contains("buildings")
            && listed.contains(" 2 features")
            && listed.contains("byggnader.geojson"),
        "{listed}"
    );
    let o = lagesbild(
        &db.url,
        &["reference", "import", "roads", file.to_str().unwrap()],
    );
    assert!(
        !o.status.success() && stderr(&o).contains("buildings or paths"),
        "{}",
        stderr(&o)
    );
}

/// Issue 17, item 4: no read is answered before its audit record is durable. A server whose
/// audited reads go through the journal is killed (SIGKILL, no shutdown) right after the last
/// answer; every answered read has its record afterwards, read by `lagesbild audit`, once.
#[test]
fn every_answered_read_is_in_the_audit_log_after_kill_9() {
    let db = common::fresh_sqlite();
    let o = lagesbild(&db.url, &["seed", "--synthetic-incidents", "300"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = lagesbild(
        &db.url,
        &[
            "user",
            "add",
            "k9",
            "--role",
            "police",
            "--organisation",
            "Polisen",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let o = lagesbild(
        &db.url,
        &["token", "create", "--user", "k9", "--label", "k9"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let token = stdout(&o).lines().last().unwrap().trim().to_owned();
    let (mut server, base) = spawn_server(&db.url, Path::new("."));
    let rt = tokio::runtime::Runtime::new().unwrap();
    let answered: Vec<String> = rt.block_on(async {
        let client = common::client_with_token(&token);
        wait_for(&base).await;
        let page: serde_json::Value = client
            .get(format!("{base}/collections/incidents/items?limit=200"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let ids: Vec<String> = page["features"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["id"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(ids.len(), 200);
        // Eight at a time, as concurrent readers.
        let mut answered = Vec::new();
        for chunk in ids.chunks(8) {
            let reads = chunk.iter().map(|id| {
                let client = client.clone();
                let url = format!("{base}/collections/incidents/items/{id}");
                async move { (id.clone(), client.get(url).send().await.unwrap().status()) }
            });
            for (id, status) in futures_util::future::join_all(reads).await {
                assert_eq!(status, 200);
                answered.push(id);
            }
        }
        answered
    });
    server.kill().unwrap();
    server.wait().unwrap();
    for _ in 0..2 {
        // Twice: the records a killed server left are moved once.
        let o = lagesbild(
            &db.url,
            &["audit", "--user", "k9", "--json", "--limit", "10000"],
        );
        assert!(o.status.success(), "{}", stderr(&o));
        let records: Vec<serde_json::Value> = stdout(&o)
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        for id in &answered {
            let naming = records
                .iter()
                .filter(|r| r["action"] == "read" && r["features"] == format!("[\"{id}\"]"))
                .count();
            assert_eq!(naming, 1, "the read of {id} has {naming} records");
        }
    }
}

/// `lagesbild import FILE --layer incidents` into `db`, running in the background, quiet.
fn spawn_import(db: &str, file: &Path) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_lagesbild"))
        .args(["import", file.to_str().unwrap(), "--layer", "incidents"])
        .env("DATABASE_URL", db)
        .env_remove("LAGESBILD_CONFIG")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap()
}

/// An import that has an SQLite database to itself writes it through a rollback journal (see
/// `BulkMode::Load`). Killed mid-way (SIGKILL: no rollback of its own) after writing into the
/// file, it leaves its journal;
/// the next command to open the database rolls it back: nothing of the import is stored, the
/// indexes and the change log's trigger it set aside are there, the file is whole and in WAL
/// mode again, and the same file then imports.
#[test]
fn an_import_killed_while_it_holds_the_database_alone_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("many.csv");
    let rows = 100_000;
    std::fs::write(&file, incidents_csv(rows, None)).unwrap();
    // The kill must fall between the first write into the file and the commit (the journal's
    // deletion): on a busy machine it may miss, and then the round is run again.
    for _round in 0..5 {
        let db = common::fresh_sqlite();
        let _ = lagesbild(&db.url, &["migrate"]);
        let indexes = feature_indexes(&db.url);
        let (logged, triggers) = change_log(&db.url);
        let path = db.dir.path().join("lagesbild.db");
        let journal = db.dir.path().join("lagesbild.db-journal");
        let mut import = spawn_import(&db.url, &file);
        // Killed once it has written pages into the database file itself (it does at the end,
        // when it builds the indexes it set aside in a small page cache), with its journal
        // beside: the rollback must undo them.
        let before = std::fs::metadata(&path).unwrap().len();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
        let mut ended = false;
        while !(journal.exists() && std::fs::metadata(&path).unwrap().len() > before + (1 << 20)) {
            if import.try_wait().unwrap().is_some() {
                ended = true;
                break;
            }
            assert!(std::time::Instant::now() < deadline, "no journal appeared");
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        let _ = import.kill();
        import.wait().unwrap();
        if ended || !journal.exists() {
            // The import ended, or committed just before the kill: not the case under test.
            continue;
        }
        assert_eq!(count_exported(&db.url, "incidents", dir.path()), 0);
        assert_eq!(feature_indexes(&db.url), indexes);
        assert_eq!(change_log(&db.url), (logged, triggers.clone()));
        let header = std::fs::read(&path).unwrap();
        assert_eq!((header[18], header[19]), (2, 2), "back in WAL mode");
        let rt = tokio::runtime::Runtime::new().unwrap();
        let check: String = rt.block_on(async {
            let store = lagesbild::store::Store::connect(&db.url).await.unwrap();
            let lagesbild::store::Store::Sqlite(pool) = &store else {
                panic!()
            };
            sqlx::query_scalar("PRAGMA integrity_check")
                .fetch_one(pool)
                .await
                .unwrap()
        });
        assert_eq!(check, "ok");
        let o = lagesbild(
            &db.url,
            &["import", file.to_str().unwrap(), "--layer", "incidents"],
        );
        assert!(o.status.success(), "{}", stderr(&o));
        assert_eq!(count_exported(&db.url, "incidents", dir.path()), rows);
        assert_eq!(change_log(&db.url), (logged + 1, triggers));
        assert!(!journal.exists(), "no journal is left");
        return;
    }
    panic!("in five rounds the import was never killed between writing the file and committing");
}

/// A command (or a server) started while an import holds the SQLite file alone is refused by
/// SQLite at once, whatever the busy timeout: it waits for the import, says why, and then
/// does its work — it does not stop with "database is locked".
#[test]
fn a_command_started_while_an_import_holds_the_database_alone_waits_for_it() {
    let db = common::fresh_sqlite();
    let _ = lagesbild(&db.url, &["migrate"]);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("many.csv");
    let rows = 60_000;
    std::fs::write(&file, incidents_csv(rows, None)).unwrap();
    let journal = db.dir.path().join("lagesbild.db-journal");
    let mut import = spawn_import(&db.url, &file);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !journal.exists() {
        assert!(
            import.try_wait().unwrap().is_none(),
            "the import ended before it was seen holding the file"
        );
        assert!(std::time::Instant::now() < deadline, "no journal appeared");
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    let o = lagesbild(&db.url, &["token", "list"]);
    // It returned only once the import had let go of the file.
    let ended = import.try_wait().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("held by another process") || ended.is_some(),
        "{}",
        stderr(&o)
    );
    let status = import.wait().unwrap();
    assert!(status.success());
    assert_eq!(count_exported(&db.url, "incidents", dir.path()), rows);
}

/// `lagesbild serve` on `db` started in the folder `cwd` on a free port: the child and its base URL.
fn spawn_server(db: &str, cwd: &Path) -> (std::process::Child, String) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let server = Command::new(env!("CARGO_BIN_EXE_lagesbild"))
        .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
        .current_dir(cwd)
        .env("DATABASE_URL", db)
        .env_remove("LAGESBILD_CONFIG")
        .env_remove("LAGESBILD_WEB_DIR")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    (server, format!("http://127.0.0.1:{port}"))
}

/// Waits until the server at `base` answers.
async fn wait_for(base: &str) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while reqwest::get(format!("{base}/health")).await.is_err() {
        assert!(
            std::time::Instant::now() < deadline,
            "the server never answered"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// Issue 16: the map client is built into the binary, so a server started elsewhere than the
/// repository (as a service manager starts it) serves the map; a `web_dir` that does not hold
/// the client stops the start with a message, not a server without its map.
#[test]
fn the_binary_serves_the_map_from_any_working_directory() {
    let db = common::fresh_sqlite();
    let elsewhere = tempfile::tempdir().unwrap();
    let (mut server, base) = spawn_server(&db.url, elsewhere.path());
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        wait_for(&base).await;
        let client = reqwest::Client::new();
        let page = client
            .get(format!("{base}/"))
            .header("Accept", "text/html")
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), 200);
        let html = page.text().await.unwrap();
        assert!(html.contains("/web/js/main.js"), "{html}");
        for (path, kind) in [
            ("/web/js/main.js", "javascript"),
            ("/web/app.css", "text/css"),
            ("/web/vendor/maplibre-gl/maplibre-gl.mjs", "javascript"),
            ("/web/favicon.svg", "image/svg+xml"),
        ] {
            let r = client.get(format!("{base}{path}")).send().await.unwrap();
            assert_eq!(r.status(), 200, "{path}");
            let got = r.headers()["content-type"].to_str().unwrap().to_owned();
            assert!(got.contains(kind), "{path}: {got}");
            let tag = r.headers()["etag"].clone();
            let expected = std::fs::read(
                Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("web")
                    .join(&path[5..]),
            )
            .unwrap();
            assert_eq!(
                r.bytes().await.unwrap().as_ref(),
                expected.as_slice(),
                "{path}"
            );
            let again = client
                .get(format!("{base}{path}"))
                .header("If-None-Match", tag)
                .send()
                .await
                .unwrap();
            assert_eq!(again.status(), 304, "{path}");
        }
        for missing in [
            "/web/nothing.js",
            "/web/%2e%2e/Cargo.toml",
            "/web/package.json",
            "/web/node_modules/maplibre-gl/package.json",
        ] {
            let r = client.get(format!("{base}{missing}")).send().await.unwrap();
            assert_eq!(r.status(), 404, "{missing}");
        }
    });
    server.kill().unwrap();
    server.wait().unwrap();

    // A web_dir without the client: a clear refusal to start.
    let o = Command::new(env!("CARGO_BIN_EXE_lagesbild"))
        .args(["serve", "--bind", "127.0.0.1:0"])
        .current_dir(elsewhere.path())
        .env("DATABASE_URL", &db.url)
        .env("LAGESBILD_WEB_DIR", "web")
        .env_remove("LAGESBILD_CONFIG")
        .output()
        .unwrap();
    assert!(!o.status.success());
    let err = stderr(&o);
    assert!(err.contains("web_dir 'web' holds no index.html"), "{err}");
}
