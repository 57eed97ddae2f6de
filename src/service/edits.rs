//! Writes from client documents (OGC API – Features Part 4): a GeoJSON Feature or a merge patch
//! in, checked against the grant, the size limits and the layer's rules, audited, stored. The
//! HTTP handlers only translate; the checks and the audit records are made here, once each.

use std::sync::Arc;

use serde_json::Value;
use time::OffsetDateTime;
use uuid::Uuid;

use super::{Service, ServiceError};
use crate::domain::access::{Action, Viewer};
use crate::domain::audit::AuditAction;
use crate::domain::geometry::{DEFAULT_VALIDATION_BUDGET, GeometryLimits, check_limits};
use crate::domain::{Feature, FeatureDraft, Layer, ValidationError, ValidationErrors};

/// What the client's `If-Match` said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expected {
    /// No `If-Match`: refused (428) once the caller may change the feature at all.
    Missing,
    /// `If-Match: *`: refused (428): it would overwrite whatever is stored, unseen.
    Any,
    /// `If-Match: "3"`.
    Version(i64),
    /// Something that names no version (412).
    Unreadable(String),
}

/// The audit action of a write action.
const fn audit_action(action: Action) -> AuditAction {
    match action {
        Action::Create => AuditAction::Create,
        Action::Edit => AuditAction::Edit,
        Action::Delete => AuditAction::Delete,
    }
}

impl Service {
    /// Reads a client's Feature for `layer`: size limits on the raw JSON first (before any
    /// geometric work), then the layer's rules off the async runtime within a time budget.
    /// Refusals are audited.
    async fn read_draft(
        &self,
        viewer: &Viewer,
        action: Action,
        layer: Layer,
        body: Value,
        limits: GeometryLimits,
    ) -> Result<FeatureDraft, ServiceError> {
        if let Some(g) = body.get("geometry")
            && let Err(e) = check_limits(g, &limits, "/geometry")
        {
            return self
                .refused(
                    viewer,
                    audit_action(action),
                    layer,
                    &[],
                    ServiceError::TooLarge(e.to_string()),
                )
                .await;
        }
        let parsed = tokio::task::spawn_blocking(move || {
            FeatureDraft::from_geojson_with(layer, body, &limits, DEFAULT_VALIDATION_BUDGET)
        })
        .await
        .map_err(|e| ServiceError::Internal(e.to_string()))?;
        match parsed {
            Ok(d) => Ok(d),
            Err(e) => {
                self.refused(
                    viewer,
                    audit_action(action),
                    layer,
                    &[],
                    ServiceError::Invalid(e),
                )
                .await
            }
        }
    }

    /// Refuses a change naming a property the caller's grant hides (`hide`), whatever the
    /// value: a role cannot change what it cannot read, and a refusal that depended on the
    /// stored value would reveal it. Creating may set it (the author hands it on to roles that
    /// read it); a replacement or patch that leaves it out keeps the stored value.
    async fn refuse_hidden(
        &self,
        viewer: &Viewer,
        layer: Layer,
        id: Uuid,
        body: &Value,
    ) -> Result<(), ServiceError> {
        let hide = &viewer.role.grant(layer).hide;
        let Some(props) = body.get("properties").and_then(Value::as_object) else {
            return Ok(());
        };
        let named: Vec<&String> = hide.iter().filter(|h| props.contains_key(*h)).collect();
        if named.is_empty() {
            return Ok(());
        }
        let errors = ValidationErrors(
            named
                .iter()
                .map(|h| {
                    ValidationError::new(
                        format!("/properties/{h}"),
                        format!(
                            "is not shown to your role ({}) and cannot be changed by it; leave it out (the stored value is kept)",
                            viewer.role.label
                        ),
                    )
                })
                .collect(),
        );
        self.refused(
            viewer,
            AuditAction::Edit,
            layer,
            &[id],
            ServiceError::Invalid(errors),
        )
        .await
    }

    /// The feature `viewer` wants to change, and the version it must be at: 404/403 (audited)
    /// before 428/412, so the answer says nothing about features the caller may not change.
    async fn target(
        &self,
        viewer: &Viewer,
        action: Action,
        layer: Layer,
        id: Uuid,
        expected: &Expected,
    ) -> Result<(Arc<Feature>, i64), ServiceError> {
        // Behind a load balancer the feature may have been written through another instance a
        // moment ago: when the picture lacks it or holds another version than the caller read,
        // the log is applied first, so the answer is never a 404 or 412 this picture only
        // thinks true.
        // Decided only for callers who may change the layer's features at all, and by what
        // the caller may see, so a refusal answers alike for an unknown id and a hidden one.
        let writer = self
            .precision(viewer, layer)
            .is_ok_and(|p| p == crate::domain::access::Precision::Exact);
        let lagging = writer
            && self
                .index()
                .get(layer, id)
                .filter(|f| viewer.may_see_classification(f.meta.classification))
                .is_none_or(|f| match expected {
                    Expected::Version(v) => f.meta.version != *v,
                    _ => false,
                });
        if lagging && let Err(e) = self.refresh_from_log().await {
            return self
                .refused(viewer, audit_action(action), layer, &[id], e)
                .await;
        }
        let current = match self.changeable(viewer, action, layer, id) {
            Ok(c) => c,
            Err(e) => {
                return self
                    .refused(viewer, audit_action(action), layer, &[id], e)
                    .await;
            }
        };
        let version = match expected {
            Expected::Missing => return Err(ServiceError::PreconditionRequired),
            Expected::Unreadable(text) => {
                return Err(ServiceError::PreconditionUnreadable(text.clone()));
            }
            Expected::Any => return Err(ServiceError::PreconditionWildcard),
            Expected::Version(v) => *v,
        };
        Ok((current, version))
    }

    /// Creates a feature from a client's GeoJSON Feature; its organisation defaults to the
    /// caller's.
    ///
    /// # Errors
    /// [`ServiceError::TooLarge`], [`ServiceError::Invalid`], [`ServiceError::Forbidden`], store
    /// failures; every refusal is audited.
    pub async fn create_from_geojson(
        &self,
        viewer: &Viewer,
        layer: Layer,
        mut body: Value,
        limits: GeometryLimits,
    ) -> Result<Arc<Feature>, ServiceError> {
        if let Some(props) = body.get_mut("properties").and_then(Value::as_object_mut)
            && !props.contains_key("organisation")
        {
            props.insert(
                "organisation".into(),
                Value::String(viewer.organisation.to_string()),
            );
        }
        let draft = self
            .read_draft(viewer, Action::Create, layer, body, limits)
            .await?;
        self.create(draft, viewer).await
    }

    /// Replaces a feature with a client's GeoJSON Feature. A replacement that names no
    /// organisation keeps the stored one; the properties the role does not see are kept.
    ///
    /// # Errors
    /// As [`Service::create_from_geojson`]; [`ServiceError::NotFound`],
    /// [`ServiceError::PreconditionRequired`], [`ServiceError::VersionConflict`].
    pub async fn replace_from_geojson(
        &self,
        viewer: &Viewer,
        layer: Layer,
        id: Uuid,
        mut body: Value,
        expected: Expected,
        limits: GeometryLimits,
    ) -> Result<Arc<Feature>, ServiceError> {
        let (current, version) = self
            .target(viewer, Action::Edit, layer, id, &expected)
            .await?;
        self.refuse_hidden(viewer, layer, id, &body).await?;
        if let Some(props) = body.get_mut("properties").and_then(Value::as_object_mut) {
            if !props.contains_key("organisation") {
                props.insert(
                    "organisation".into(),
                    Value::String(current.meta.organisation.to_string()),
                );
            }
            let hide = &viewer.role.grant(layer).hide;
            if !hide.is_empty() {
                let stored =
                    serde_json::to_value(current.geojson(OffsetDateTime::now_utc().date()))
                        .map_err(|e| ServiceError::Internal(e.to_string()))?;
                for h in hide {
                    if let Some(v) = stored["properties"].get(h) {
                        props.insert(h.clone(), v.clone());
                    }
                }
            }
        }
        let draft = self
            .read_draft(viewer, Action::Edit, layer, body, limits)
            .await?;
        self.replace(viewer, layer, id, draft, version).await
    }

    /// Changes some fields of a feature: a JSON Merge Patch (RFC 7396) on its GeoJSON form.
    ///
    /// # Errors
    /// As [`Service::replace_from_geojson`]; a patch that is not an object.
    pub async fn patch_from_geojson(
        &self,
        viewer: &Viewer,
        layer: Layer,
        id: Uuid,
        patch: Value,
        expected: Expected,
        limits: GeometryLimits,
    ) -> Result<Arc<Feature>, ServiceError> {
        let (current, version) = self
            .target(viewer, Action::Edit, layer, id, &expected)
            .await?;
        if !patch.is_object() {
            return Err(ValidationErrors::one("", "a merge patch must be a JSON object").into());
        }
        self.refuse_hidden(viewer, layer, id, &patch).await?;
        let mut doc = serde_json::to_value(current.geojson(OffsetDateTime::now_utc().date()))
            .map_err(|e| ServiceError::Internal(e.to_string()))?;
        merge_patch(&mut doc, &patch);
        let draft = self
            .read_draft(viewer, Action::Edit, layer, doc, limits)
            .await?;
        self.replace(viewer, layer, id, draft, version).await
    }

    /// Deletes a feature the caller may delete, at the version it read.
    ///
    /// # Errors
    /// [`ServiceError::NotFound`], [`ServiceError::Forbidden`],
    /// [`ServiceError::PreconditionRequired`], [`ServiceError::VersionConflict`].
    pub async fn delete_checked(
        &self,
        viewer: &Viewer,
        layer: Layer,
        id: Uuid,
        expected: Expected,
    ) -> Result<(), ServiceError> {
        let (_, version) = self
            .target(viewer, Action::Delete, layer, id, &expected)
            .await?;
        self.delete(viewer, layer, id, version).await
    }
}

/// RFC 7396 JSON Merge Patch.
pub(crate) fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(p) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(serde_json::Map::new());
    }
    if let Value::Object(t) = target {
        for (k, v) in p {
            if v.is_null() {
                t.remove(k);
            } else {
                merge_patch(t.entry(k.clone()).or_insert(Value::Null), v);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::merge_patch;
    use serde_json::json;

    #[test]
    fn merge_patch_follows_rfc_7396() {
        let mut doc = json!({"a": "b", "c": {"d": "e", "f": "g"}});
        merge_patch(&mut doc, &json!({"a": "z", "c": {"f": null}}));
        assert_eq!(doc, json!({"a": "z", "c": {"d": "e"}}));
    }
}
