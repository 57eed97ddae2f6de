//! The rooms of the house, checked: rules about which module may reach what, read from the
//! source (a failing test names the file and line that breaks the rule).

#![allow(clippy::unwrap_used)] // Test code: a failed unwrap is a failed test.

use std::path::{Path, PathBuf};

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    out
}

/// Every line of the files under `src/<dir>` that contains one of `needles`, outside comments.
fn offending(dir: &str, needles: &[&str]) -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src").join(dir);
    let mut hits = Vec::new();
    for file in rust_files(&root) {
        let text = std::fs::read_to_string(&file).unwrap();
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            if needles.iter().any(|x| code.contains(x)) {
                hits.push(format!("{}:{}: {}", file.display(), n + 1, line.trim()));
            }
        }
    }
    hits
}

#[test]
fn every_read_for_a_caller_goes_through_visibility() {
    // The HTTP edge and the briefing use case never touch the index: they ask the service,
    // which applies the caller's grant.
    for dir in ["api", "briefing"] {
        let hits = offending(dir, &[".index()", ".unrestricted()"]);
        assert!(
            hits.is_empty(),
            "reads around need to know:\n{}",
            hits.join("\n")
        );
    }
}

#[test]
fn handlers_write_no_audit_records_themselves() {
    // The service writes the audit (with its typed actions and outcomes); api/ translates.
    let hits = offending("api", &["AuditRow"]);
    assert!(
        hits.is_empty(),
        "audit records built in api/:\n{}",
        hits.join("\n")
    );
}

#[test]
fn the_http_edge_holds_no_use_case_and_the_domain_no_io() {
    // The command line does not reach into the HTTP layer for a use case.
    let hits = offending("", &["api::briefing", "api::items::", "api::write::"]);
    let hits: Vec<_> = hits
        .into_iter()
        .filter(|h| !h.contains("/src/api/"))
        .collect();
    assert!(
        hits.is_empty(),
        "use cases imported from api/:\n{}",
        hits.join("\n")
    );
    // The domain does no I/O and knows nothing of the layers above it.
    let hits = offending(
        "domain",
        &[
            "crate::api",
            "crate::service",
            "crate::store",
            "sqlx",
            "axum",
            "tokio::",
        ],
    );
    assert!(
        hits.is_empty(),
        "the domain reaches out:\n{}",
        hits.join("\n")
    );
}
