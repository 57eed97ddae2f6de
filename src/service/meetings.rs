//! The chiefs' meetings (*chefssamråd*): one record per meeting — the week and day, the
//! organisations present (never persons), the decisions on measures, short minutes. A record can
//! be changed while the meeting is open; once closed it never changes (a correction is a new
//! record naming the one it corrects). Every change is audited in its own transaction.
//!
//! Who: roles that may create measures for every organisation hold meetings (the security
//! coordinator, the meeting's screen, administrators); roles that read measures exactly read the
//! records up to their ceiling.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::{Date, OffsetDateTime};
use uuid::Uuid;

/// Most meetings' records in one answer.
pub const MAX_MEETINGS: i64 = 1000;

use super::{Service, ServiceError};
use crate::domain::access::{Precision, Scope, Viewer};
use crate::domain::audit::{AuditAction, AuditOutcome};
use crate::domain::error::Checks;
use crate::domain::meeting::Decision;
use crate::domain::text::{check_label, check_text};
use crate::domain::{Classification, Layer, ValidationErrors};
use crate::store::audit::AuditRow;
use crate::store::meetings::MeetingRow;

/// A meeting as clients send it (`POST /meetings`; a `PATCH` merges into it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MeetingDraft {
    /// ISO week, `2026-W49`.
    pub week: String,
    /// The day held, within the week.
    pub held_on: Date,
    /// Organisations present (never persons).
    #[serde(default)]
    pub organisations: Vec<String>,
    /// Short minutes: places and patterns, never persons.
    #[serde(default)]
    pub minutes: String,
    /// Decisions on measures.
    #[serde(default)]
    pub decisions: Vec<Decision>,
    /// The closed meeting this record corrects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub corrects: Option<Uuid>,
    /// Who may read the record (default `internal`).
    #[serde(default = "internal")]
    pub classification: Classification,
}

fn internal() -> Classification {
    Classification::Internal
}

/// A meeting as callers receive it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Meeting {
    /// Its id.
    pub id: Uuid,
    /// What it says.
    #[serde(flatten)]
    pub draft: MeetingDraft,
    /// Recorded at (RFC 3339).
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// Recorded by.
    pub created_by: String,
    /// Closed at, once closed.
    #[serde(with = "time::serde::rfc3339::option")]
    pub closed_at: Option<OffsetDateTime>,
    /// Its version (`ETag`).
    pub version: i64,
}

/// The ISO week of a day, `2026-W49`.
#[must_use]
pub fn iso_week(d: Date) -> String {
    let (y, w, _) = d.to_iso_week_date();
    format!("{y:04}-W{w:02}")
}

impl MeetingDraft {
    /// Reads and checks a client's JSON.
    ///
    /// # Errors
    /// Every problem, naming the field.
    pub fn from_json(value: Value) -> Result<Self, ValidationErrors> {
        let d: MeetingDraft = crate::domain::error::read_json(value)?;
        let mut checks = Checks::default();
        checks.require(iso_week(d.held_on) == d.week, "/held_on", || {
            format!(
                "({}) is in week {}, not in the meeting's week {}",
                d.held_on,
                iso_week(d.held_on),
                d.week
            )
        });
        checks.require(d.organisations.len() <= 40, "/organisations", || {
            "lists more than 40 organisations".into()
        });
        for (i, o) in d.organisations.iter().enumerate() {
            check_label(&mut checks, &format!("/organisations/{i}"), o);
        }
        check_text(&mut checks, "/minutes", &d.minutes);
        checks.require(d.decisions.len() <= 200, "/decisions", || {
            "lists more than 200 decisions".into()
        });
        checks.finish()?;
        Ok(d)
    }
}

fn to_meeting(row: &MeetingRow) -> Result<Meeting, ServiceError> {
    let corrupt =
        |e: &dyn std::fmt::Display| ServiceError::Internal(format!("meeting {}: {e}", row.id));
    let held_on = Date::parse(
        &row.held_on,
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .map_err(|e| corrupt(&e))?;
    Ok(Meeting {
        id: row.id,
        draft: MeetingDraft {
            week: row.week.clone(),
            held_on,
            organisations: serde_json::from_str(&row.organisations).map_err(|e| corrupt(&e))?,
            minutes: row.minutes.clone(),
            decisions: serde_json::from_str(&row.decisions).map_err(|e| corrupt(&e))?,
            corrects: row.corrects,
            classification: row.classification.parse().map_err(|e| corrupt(&e))?,
        },
        created_at: row.created_at,
        created_by: row.created_by.clone(),
        closed_at: row.closed_at,
        version: row.version,
    })
}

impl Service {
    pub(super) fn may_read_meetings(viewer: &Viewer) -> Result<(), ServiceError> {
        if viewer.role.grant(Layer::Measures).read == Precision::Exact {
            Ok(())
        } else {
            Err(ServiceError::Forbidden(format!(
                "your role ({}) does not read the meetings' records",
                viewer.role.label
            )))
        }
    }

    pub(super) fn may_hold_meetings(viewer: &Viewer) -> Result<(), ServiceError> {
        if viewer.role.grant(Layer::Measures).create == Scope::All {
            Ok(())
        } else {
            Err(ServiceError::Forbidden(format!(
                "your role ({}) may read the meetings' records but not write them",
                viewer.role.label
            )))
        }
    }

    /// Checks what a record refers to: the measures exist for the caller, the corrected meeting
    /// is closed, the classification is within the ceiling.
    fn check_references(&self, viewer: &Viewer, d: &MeetingDraft) -> Result<(), ServiceError> {
        let mut errors = Vec::new();
        for (i, dec) in d.decisions.iter().enumerate() {
            let seen = self
                .index()
                .get(Layer::Measures, dec.measure)
                .is_some_and(|m| viewer.may_see_classification(m.meta.classification));
            if !seen {
                errors.push(crate::domain::ValidationError::new(
                    format!("/decisions/{i}/measure"),
                    format!("no measure {}", dec.measure),
                ));
            }
        }
        if !viewer.may_see_classification(d.classification) {
            errors.push(crate::domain::ValidationError::new(
                "/classification",
                format!("is above your role's ceiling ({})", viewer.role.ceiling),
            ));
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(ValidationErrors(errors).into())
        }
    }

    /// The meetings `viewer` may read, latest first.
    ///
    /// # Errors
    /// [`ServiceError::Forbidden`]; store failures.
    pub async fn meetings(
        &self,
        viewer: &Viewer,
        limit: i64,
    ) -> Result<Vec<Meeting>, ServiceError> {
        Self::may_read_meetings(viewer)?;
        self.store()
            .meetings(limit.clamp(1, MAX_MEETINGS))
            .await?
            .iter()
            .map(to_meeting)
            .filter(|m| {
                m.as_ref().map_or(true, |m| {
                    viewer.may_see_classification(m.draft.classification)
                })
            })
            .collect()
    }

    /// One meeting (above the ceiling: the same 404 as an unknown id).
    ///
    /// # Errors
    /// [`ServiceError::Forbidden`], [`ServiceError::NotFoundName`]; store failures.
    pub async fn meeting(&self, viewer: &Viewer, id: Uuid) -> Result<Meeting, ServiceError> {
        Self::may_read_meetings(viewer)?;
        let not_found = || ServiceError::NotFoundName(format!("no meeting {id}"));
        let row = self.store().meeting(id).await?.ok_or_else(not_found)?;
        let m = to_meeting(&row)?;
        if !viewer.may_see_classification(m.draft.classification) {
            return Err(not_found());
        }
        Ok(m)
    }

    /// The latest meeting held before `now` that `viewer` may read ("since the last meeting").
    ///
    /// # Errors
    /// As [`Service::meetings`].
    pub async fn last_meeting(&self, viewer: &Viewer) -> Result<Option<Meeting>, ServiceError> {
        let today = self.clock().now().date();
        Ok(self
            .meetings(viewer, 50)
            .await?
            .into_iter()
            .find(|m| m.draft.held_on <= today))
    }

    /// Records a meeting (open until closed).
    ///
    /// # Errors
    /// [`ServiceError::Forbidden`], [`ServiceError::Invalid`] (naming the field); store failures.
    pub async fn create_meeting(
        &self,
        viewer: &Viewer,
        body: Value,
    ) -> Result<Meeting, ServiceError> {
        Self::may_hold_meetings(viewer)?;
        let d = MeetingDraft::from_json(body)?;
        self.check_references(viewer, &d)?;
        if let Some(c) = d.corrects {
            let corrected = self.meeting(viewer, c).await.map_err(|_| {
                ServiceError::from(ValidationErrors::one(
                    "/corrects",
                    format!("no meeting {c}"),
                ))
            })?;
            if corrected.closed_at.is_none() {
                return Err(ValidationErrors::one(
                    "/corrects",
                    "names a meeting that is still open; change it instead",
                )
                .into());
            }
        }
        let now = self.clock().now();
        let row = MeetingRow {
            id: Uuid::new_v4(),
            week: d.week.clone(),
            held_on: d.held_on.to_string(),
            organisations: serde_json::to_string(&d.organisations).unwrap_or_default(),
            minutes: d.minutes.clone(),
            decisions: serde_json::to_string(&d.decisions).unwrap_or_default(),
            corrects: d.corrects,
            classification: d.classification.as_str().to_owned(),
            created_at: now,
            created_by: viewer.user.to_string(),
            closed_at: None,
            version: 1,
        };
        let audit = self.audit_row_of(
            viewer,
            AuditRow::new(now, AuditAction::MeetingCreate, AuditOutcome::Ok).detail(format!(
                "meeting {} ({}), {} decisions",
                row.id,
                row.week,
                d.decisions.len()
            )),
        );
        self.store().insert_meeting(&row, &audit).await?;
        to_meeting(&row)
    }

    /// Changes an open meeting (a JSON merge patch of its record) at the version read, or
    /// closes it (`close`); a closed meeting never changes.
    ///
    /// # Errors
    /// [`ServiceError::Forbidden`], [`ServiceError::NotFoundName`],
    /// [`ServiceError::Conflict`] for a closed meeting, [`ServiceError::VersionConflict`],
    /// [`ServiceError::Invalid`].
    pub async fn change_meeting(
        &self,
        viewer: &Viewer,
        id: Uuid,
        patch: Option<Value>,
        close: bool,
        expected: Option<i64>,
    ) -> Result<Meeting, ServiceError> {
        Self::may_hold_meetings(viewer)?;
        let current = self.meeting(viewer, id).await?;
        if current.closed_at.is_some() {
            return Err(ServiceError::Conflict(format!(
                "meeting {id} is closed and never changes; record a correction: POST /meetings with \"corrects\": \"{id}\""
            )));
        }
        let version = expected.unwrap_or(current.version);
        if version != current.version {
            return Err(ServiceError::VersionConflict {
                id,
                expected: version,
                current: current.version,
            });
        }
        let mut draft = current.draft.clone();
        if let Some(patch) = patch {
            let mut doc =
                serde_json::to_value(&draft).map_err(|e| ServiceError::Internal(e.to_string()))?;
            let Value::Object(p) = patch else {
                return Err(
                    ValidationErrors::one("", "a merge patch must be a JSON object").into(),
                );
            };
            for key in ["week", "held_on", "corrects"] {
                if p.contains_key(key) {
                    return Err(ValidationErrors::one(
                        format!("/{key}"),
                        "cannot change; record a new meeting instead",
                    )
                    .into());
                }
            }
            super::edits::merge_patch(&mut doc, &Value::Object(p));
            draft = MeetingDraft::from_json(doc)?;
            self.check_references(viewer, &draft)?;
        }
        let now = self.clock().now();
        let row = MeetingRow {
            id,
            week: draft.week.clone(),
            held_on: draft.held_on.to_string(),
            organisations: serde_json::to_string(&draft.organisations).unwrap_or_default(),
            minutes: draft.minutes.clone(),
            decisions: serde_json::to_string(&draft.decisions).unwrap_or_default(),
            corrects: draft.corrects,
            classification: draft.classification.as_str().to_owned(),
            created_at: current.created_at,
            created_by: current.created_by.clone(),
            closed_at: close.then_some(now),
            version: version + 1,
        };
        let action = if close {
            AuditAction::MeetingClose
        } else {
            AuditAction::MeetingEdit
        };
        let audit = self.audit_row_of(
            viewer,
            AuditRow::new(now, action, AuditOutcome::Ok)
                .detail(format!("meeting {id} ({})", row.week)),
        );
        if !self.store().update_meeting(&row, &audit).await? {
            // Changed or closed by someone else between the read and the write.
            return Err(ServiceError::Conflict(format!(
                "meeting {id} changed or was closed meanwhile; read it again"
            )));
        }
        to_meeting(&row)
    }
}
