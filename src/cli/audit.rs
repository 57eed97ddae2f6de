//! `lagesbild audit`: the audit log, newest first, as lines or JSON, every field escaped.

use std::process::ExitCode;

use anyhow::Context;
use time::OffsetDateTime;

use super::open_accounts;
use super::output::println_out;
use crate::config::Settings;
use crate::startup::local_viewer;

/// Prints audit records.
///
/// # Errors
/// A bad `--since`, store failures.
pub async fn run(
    settings: &Settings,
    since: Option<String>,
    user: Option<String>,
    action: Option<String>,
    limit: i64,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let since = match since {
        Some(s) => {
            let span = crate::domain::time::parse_datetime(&s)
                .map_err(|e| anyhow::anyhow!("--since: {}", e.message))?;
            Some(OffsetDateTime::from_unix_timestamp(span.start).context("--since needs a start")?)
        }
        None => None,
    };
    let service = open_accounts(settings).await?;
    if let crate::store::Store::Sqlite(pool) = service.store() {
        // Records a killed server left in its journal (a running one moves its own).
        crate::store::audit_journal::AuditJournal::recover(pool).await?;
    }
    let admin = local_viewer(&service)?;
    let filter = crate::store::audit::AuditFilter {
        since,
        until: None,
        actor: user,
        action,
        limit: limit.clamp(1, 1_000_000),
    };
    for r in service.read_audit(&admin, &filter).await? {
        let at =
            r.at.format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default();
        if json {
            let v = serde_json::json!({"id": r.id, "at": at, "actor": r.actor, "role": r.role,
                "action": r.action, "layer": r.layer, "features": r.features, "bbox": r.bbox,
                "address": r.address, "outcome": r.outcome, "detail": r.detail});
            println_out(&v.to_string());
        } else {
            // Every field escaped: records written before escaping was done at write
            // time, or by another tool, must not drive the terminal.
            let p = |s: &str| crate::domain::text::printable(s, 2000);
            println_out(&format!(
                "{:>6} {at} {:<18} {:<10} {:<10} {:<17} {:<10} {} {}",
                r.id,
                p(&r.actor),
                p(&r.action),
                p(&r.outcome),
                p(r.layer.as_deref().unwrap_or("-")),
                p(r.address.as_deref().unwrap_or("-")),
                r.bbox
                    .as_deref()
                    .map(|b| format!("bbox={}", p(b)))
                    .unwrap_or_default(),
                p(r.detail.as_deref().unwrap_or("")),
            ));
        }
    }
    Ok(ExitCode::SUCCESS)
}
