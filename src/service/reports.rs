//! The lägesbild document's own text per report period (Lag 2023:196 § 4): "other relevant
//! information" as headed sections, and the written analysis. The document
//! (`briefing::lagesbild`) prints them with the numbers the service computes. Who: the roles
//! that read the meetings' records read the texts up to their ceiling; the roles that hold the
//! meetings write them, at the version read, audited.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;

use super::{Service, ServiceError};
use crate::domain::access::Viewer;
use crate::domain::audit::{AuditAction, AuditOutcome};
use crate::domain::error::Checks;
use crate::domain::text::{check_label, check_text};
use crate::domain::{Classification, ValidationErrors};
use crate::store::audit::AuditRow;
use crate::store::reports::ReportTextRow;

/// Most sections of other information.
pub const MAX_SECTIONS: usize = 20;

/// A headed section of text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Section {
    /// Its heading.
    pub heading: String,
    /// Its text: places and patterns, never persons.
    pub text: String,
}

/// A period's text as clients send it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportTextDraft {
    /// Other relevant information (§ 4 p. 2): e.g. the safety survey, school absence.
    #[serde(default)]
    pub other_information: Vec<Section>,
    /// The analysis (§ 4 p. 3): causes, what the numbers mean.
    #[serde(default)]
    pub analysis: String,
    /// Who may read it (default `internal`).
    #[serde(default = "internal")]
    pub classification: Classification,
}

fn internal() -> Classification {
    Classification::Internal
}

/// A period's text as callers receive it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReportText {
    /// The period.
    pub period: String,
    /// What it says.
    #[serde(flatten)]
    pub draft: ReportTextDraft,
    /// Changed at.
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    /// Changed by.
    pub updated_by: String,
    /// Its version (`ETag`).
    pub version: i64,
}

/// A report period as a JSON Schema pattern: what [`check_period`] accepts.
pub const PERIOD_PATTERN: &str = "^[A-Za-z0-9-]{1,20}$";

/// Checks a period's name: 1–20 letters, digits and hyphens (`2026`, `2026-H2`).
///
/// # Errors
/// A message naming `period`.
pub fn check_period(period: &str) -> Result<(), ValidationErrors> {
    let ok = (1..=20).contains(&period.len())
        && period
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-');
    if ok {
        Ok(())
    } else {
        Err(ValidationErrors::one(
            "period",
            format!(
                "'{period}' is not a report period; use 1–20 letters, digits and hyphens, e.g. 2026"
            ),
        ))
    }
}

impl ReportTextDraft {
    /// Reads and checks a client's JSON.
    ///
    /// # Errors
    /// Every problem, naming the field.
    pub fn from_json(value: Value) -> Result<Self, ValidationErrors> {
        let d: ReportTextDraft = crate::domain::error::read_json(value)?;
        let mut checks = Checks::default();
        checks.require(
            d.other_information.len() <= MAX_SECTIONS,
            "/other_information",
            || format!("has more than {MAX_SECTIONS} sections"),
        );
        for (i, s) in d.other_information.iter().enumerate() {
            check_label(
                &mut checks,
                &format!("/other_information/{i}/heading"),
                &s.heading,
            );
            check_text(
                &mut checks,
                &format!("/other_information/{i}/text"),
                &s.text,
            );
        }
        check_text(&mut checks, "/analysis", &d.analysis);
        checks.finish()?;
        Ok(d)
    }
}

fn to_text(row: &ReportTextRow) -> Result<ReportText, ServiceError> {
    let corrupt = |e: &dyn std::fmt::Display| {
        ServiceError::Internal(format!("report text {}: {e}", row.period))
    };
    let mut draft: ReportTextDraft = serde_json::from_str(&row.body).map_err(|e| corrupt(&e))?;
    draft.classification = row.classification.parse().map_err(|e| corrupt(&e))?;
    Ok(ReportText {
        period: row.period.clone(),
        draft,
        updated_at: row.updated_at,
        updated_by: row.updated_by.clone(),
        version: row.version,
    })
}

impl Service {
    /// A period's text, or `None` when none is stored (or it is above the caller's ceiling:
    /// the same answer).
    ///
    /// # Errors
    /// [`ServiceError::Forbidden`]; [`ServiceError::Invalid`] for a bad period; store failures.
    pub async fn report_text(
        &self,
        viewer: &Viewer,
        period: &str,
    ) -> Result<Option<ReportText>, ServiceError> {
        Self::may_read_meetings(viewer)?;
        check_period(period)?;
        let Some(row) = self.store().report_text(period).await? else {
            return Ok(None);
        };
        let text = to_text(&row)?;
        if !viewer.may_see_classification(text.draft.classification) {
            return Ok(None);
        }
        if text.draft.classification == Classification::Restricted {
            // Restricted text handed out is audited like a restricted feature.
            let row = AuditRow::new(self.clock().now(), AuditAction::Read, AuditOutcome::Ok)
                .detail(format!(
                    "restricted lägesbild text {period}, version {}",
                    text.version
                ));
            self.audit(viewer, row).await?;
        }
        Ok(Some(text))
    }

    /// Writes a period's text at the version read (`expected`; `None` only for a new one).
    ///
    /// # Errors
    /// [`ServiceError::Forbidden`], [`ServiceError::Invalid`] (naming the field),
    /// [`ServiceError::PreconditionRequired`] when changing without a version,
    /// [`ServiceError::VersionConflict`]; store failures.
    pub async fn put_report_text(
        &self,
        viewer: &Viewer,
        period: &str,
        body: Value,
        expected: Option<i64>,
    ) -> Result<ReportText, ServiceError> {
        Self::may_hold_meetings(viewer)?;
        check_period(period)?;
        let draft = ReportTextDraft::from_json(body)?;
        if !viewer.may_see_classification(draft.classification) {
            return Err(ValidationErrors::one(
                "/classification",
                format!("is above your role's ceiling ({})", viewer.role.ceiling),
            )
            .into());
        }
        let current = self.store().report_text(period).await?;
        // A text above the caller's ceiling is answered as if there were none (never "it is
        // above your ceiling", which would say that it exists); it is not overwritten.
        let current_version = match &current {
            Some(row) => {
                let t = to_text(row)?;
                if viewer.may_see_classification(t.draft.classification) {
                    Some(t.version)
                } else {
                    return Err(ServiceError::Conflict(format!(
                        "no text of {period} is stored at version {}; read it again",
                        expected.unwrap_or(1)
                    )));
                }
            }
            None => None,
        };
        let version = match (current_version, expected) {
            (None, None | Some(0)) => 1,
            (None, Some(v)) => {
                return Err(ServiceError::Conflict(format!(
                    "no text of {period} is stored at version {v}; read it again"
                )));
            }
            (Some(_), None) => return Err(ServiceError::PreconditionRequired),
            (Some(c), Some(v)) if c != v => {
                return Err(ServiceError::Conflict(format!(
                    "the text of {period} is at version {c}, not {v}; read it again"
                )));
            }
            (Some(c), Some(_)) => c + 1,
        };
        let now = self.clock().now();
        let row = ReportTextRow {
            period: period.to_owned(),
            body: serde_json::to_string(&draft)
                .map_err(|e| ServiceError::Internal(e.to_string()))?,
            classification: draft.classification.as_str().to_owned(),
            updated_at: now,
            updated_by: viewer.user.to_string(),
            version,
        };
        let audit = self.audit_row_of(
            viewer,
            AuditRow::new(now, AuditAction::ReportEdit, AuditOutcome::Ok).detail(format!(
                "lägesbild text {period}, version {version}: {} sections",
                draft.other_information.len()
            )),
        );
        if !self.store().put_report_text(&row, &audit).await? {
            return Err(ServiceError::Conflict(format!(
                "the text of {period} changed meanwhile; read it again"
            )));
        }
        to_text(&row)
    }
}
