//! RFC 9457 problem details: every error the API returns.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::domain::{ValidationError, ValidationErrors};
use crate::service::ServiceError;
use crate::service::accounts::AuthError;

/// The media type of every error body.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// One invalid input, as listed in a problem body.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct InvalidParam {
    /// Where: a JSON pointer into the request body (`/properties/severity`) or a query parameter.
    pub pointer: String,
    /// What is wrong.
    pub detail: String,
}

/// An RFC 9457 problem body.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// A URI naming the kind of problem, `urn:lagesbild:problem:<slug>`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Short summary of the kind of problem.
    pub title: String,
    /// HTTP status.
    pub status: u16,
    /// What went wrong in this request, in words a person can act on.
    pub detail: String,
    /// Every invalid input, when the request had any.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<InvalidParam>,
    /// For 412: the version currently stored.
    #[serde(rename = "currentVersion", skip_serializing_if = "Option::is_none")]
    pub current_version: Option<i64>,
}

/// An error on its way to becoming a problem response.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    problem: Box<Problem>,
    /// Logged, never sent: the internal cause of a 5xx.
    internal: Option<String>,
    /// For 429: seconds to wait.
    retry_after: Option<i64>,
}

impl ApiError {
    /// A problem with `status`, a type slug (`invalid-input`), a title and a detail.
    pub fn new(status: StatusCode, slug: &str, title: &str, detail: impl Into<String>) -> Self {
        Self {
            status,
            problem: Box::new(Problem {
                kind: format!("urn:lagesbild:problem:{slug}"),
                title: title.into(),
                status: status.as_u16(),
                detail: detail.into(),
                errors: Vec::new(),
                current_version: None,
            }),
            internal: None,
            retry_after: None,
        }
    }

    /// 400 for an invalid query or body, listing every problem.
    #[must_use]
    pub fn invalid(errors: ValidationErrors) -> Self {
        Self::invalid_with(StatusCode::BAD_REQUEST, errors)
    }

    /// An invalid-input problem with a chosen status (400 or 422).
    #[must_use]
    pub fn invalid_with(status: StatusCode, errors: ValidationErrors) -> Self {
        let detail = match errors.0.as_slice() {
            [one] if one.field.is_empty() => one.message.clone(),
            [one] => format!("{}: {}", one.field, one.message),
            many => format!("{} problems in the request; see 'errors'", many.len()),
        };
        let mut e = Self::new(status, "invalid-input", "Invalid input", detail);
        e.problem.errors = errors
            .0
            .into_iter()
            .map(|ValidationError { field, message }| InvalidParam {
                pointer: field,
                detail: message,
            })
            .collect();
        e
    }

    /// 400 for one bad query parameter.
    pub fn bad_param(name: &str, detail: impl Into<String>) -> Self {
        Self::invalid(ValidationErrors::one(name, detail))
    }

    /// 413 for a geometry (or body) over a configured size limit.
    pub fn too_large(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too-large",
            "Too large",
            detail,
        )
    }

    /// 404 for a path that names nothing.
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not-found", "Not found", detail)
    }

    /// 500: logs `cause`, tells the client only that something failed.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        let mut e = Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "Internal error",
            "The server could not complete the request; nothing was changed. The error is logged.",
        );
        e.internal = Some(cause.to_string());
        e
    }

    /// 503 with `Retry-After`: the database cannot be reached just now. What this server holds
    /// is still shown; what must be written first (a change, an audit record, a sign-in) waits.
    pub fn unavailable(cause: impl std::fmt::Display) -> Self {
        let mut e = Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "database-unavailable",
            "The database cannot be reached",
            "The database cannot be reached just now, so nothing was changed or recorded. The map keeps showing what this server holds; try again in a few seconds.",
        );
        e.internal = Some(cause.to_string());
        e.retry_after = Some(crate::service::availability::RETRY_AFTER_SECS);
        e
    }

    /// The HTTP status.
    #[must_use]
    pub const fn status(&self) -> StatusCode {
        self.status
    }

    /// What went wrong, in words (for the command line, which shows the same messages).
    #[must_use]
    pub fn detail(&self) -> &str {
        &self.problem.detail
    }
}

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::Invalid(errors) | ServiceError::Unanswerable(errors) => {
                ApiError::invalid_with(StatusCode::UNPROCESSABLE_ENTITY, errors)
            }
            ServiceError::NotFound(layer, id) => {
                ApiError::not_found(format!("no feature {id} in collection '{layer}'"))
            }
            ServiceError::VersionConflict {
                id,
                expected,
                current,
            } => {
                let mut e = ApiError::new(
                    StatusCode::PRECONDITION_FAILED,
                    "version-conflict",
                    "Changed by someone else",
                    format!(
                        "feature {id} is now at version {current}, but your If-Match named version {expected}: someone changed it after you read it. Fetch it again, re-apply your change and send If-Match: \"{current}\"."
                    ),
                );
                e.problem.current_version = Some(current);
                e
            }
            ServiceError::DuplicateId(id) => ApiError::new(
                StatusCode::CONFLICT,
                "duplicate-id",
                "Id already used",
                format!(
                    "a feature with id {id} exists already (possibly deleted); leave 'id' out to get a new one"
                ),
            ),
            ServiceError::TooLarge(m) => ApiError::too_large(m),
            // 408 as the server's request timeout answers, but saying how far the work got.
            ServiceError::Stopped(stopped) => ApiError::new(
                StatusCode::REQUEST_TIMEOUT,
                "time-limit",
                "Time limit reached",
                format!("{stopped}; nothing was changed"),
            ),
            e @ (ServiceError::PreconditionRequired | ServiceError::PreconditionWildcard) => {
                ApiError::new(
                    StatusCode::PRECONDITION_REQUIRED,
                    "if-match-required",
                    "If-Match required",
                    e.to_string(),
                )
            }
            e @ ServiceError::PreconditionUnreadable(_) => ApiError::new(
                StatusCode::PRECONDITION_FAILED,
                "version-conflict",
                "If-Match does not match",
                e.to_string(),
            ),
            ServiceError::Auth(AuthError::Throttled(wait)) => {
                let mut e = ApiError::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "login-throttled",
                    "Too many failed logins",
                    AuthError::Throttled(wait).to_string(),
                );
                e.retry_after = Some(wait);
                e
            }
            ServiceError::Auth(a) => ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                "Not signed in",
                a.to_string(),
            ),
            ServiceError::Forbidden(m) => ApiError::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                "Not allowed for your role",
                m,
            ),
            ServiceError::NotFoundName(m) => ApiError::not_found(m),
            ServiceError::Conflict(m) => {
                ApiError::new(StatusCode::CONFLICT, "conflict", "Conflict", m)
            }
            ServiceError::Internal(m) => ApiError::internal(m),
            ServiceError::CatchingUp(m) => {
                let mut e = ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "catching-up",
                    "Catching up",
                    format!(
                        "{m}, so it cannot yet say whether it holds this feature. Try again in a moment: the changes are being applied."
                    ),
                );
                e.retry_after = Some(1);
                e
            }
            ServiceError::Store(e) if e.is_unavailable() => ApiError::unavailable(e),
            ServiceError::Store(e) => ApiError::internal(e),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let Some(cause) = &self.internal {
            if self.status == StatusCode::SERVICE_UNAVAILABLE {
                // The database out of reach: expected while it is, and said by /health.
                tracing::warn!(status = 503, %cause, "request failed");
            } else {
                tracing::error!(status = self.status.as_u16(), %cause, "request failed");
            }
        } else {
            tracing::debug!(status = self.status.as_u16(), detail = %self.problem.detail, "request refused");
        }
        let body = serde_json::to_vec(&self.problem).unwrap_or_default();
        let mut res = (self.status, body).into_response();
        res.headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        if self.status == StatusCode::UNAUTHORIZED {
            res.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"lagesbild\""),
            );
        }
        if let Some(wait) = self.retry_after {
            res.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(wait));
        }
        res
    }
}
