//! Who is calling: the [`Caller`] extractor (session cookie or API token, CSRF for cookie
//! writes), and `/auth/login`, `/auth/session`, `/auth/logout`.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use serde_json::{Value, json};
use time::format_description::well_known::Rfc3339;

use super::AppState;
use super::error::ApiError;
use super::extract::JsonBody;
use crate::domain::access::Viewer;
use crate::service::ServiceError;
use crate::service::accounts::AuthError;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "lagesbild_session";
/// The longest account name a login may name.
pub const MAX_LOGIN_NAME_CHARS: usize = 64;
/// The longest password a login may send (accounts allow at most 1000 characters).
pub const MAX_LOGIN_PASSWORD_BYTES: usize = 4096;
/// The header cookie-authenticated writes must carry.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The signed-in caller of a data endpoint.
pub struct Caller {
    /// Who, with which role.
    pub viewer: Viewer,
    /// The session cookie's value, when signed in with one.
    pub session: Option<String>,
    /// The session's CSRF token, when signed in with a cookie.
    pub csrf_token: Option<String>,
}

/// The client's address: the socket peer, or with `trust_proxy` the last `X-Forwarded-For`
/// entry — the one the trusted proxy added. Entries before it are whatever the client sent,
/// so taking the first would let anyone choose their address (and escape the throttles).
#[must_use]
pub fn client_address(parts: &Parts, state: &AppState) -> String {
    if state.config.trust_proxy
        && let Some(f) = parts
            .headers
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit(',').next())
            .map(str::trim)
            .filter(|v| !v.is_empty())
    {
        return f.chars().take(64).collect();
    }
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map_or_else(|| "unknown".to_owned(), |c| c.0.ip().to_string())
}

/// Why a cookie-authenticated write comes from another site, if it does: its `Origin` is not
/// this server's (the configured `public_url`, else the `Host` it was sent to), or the browser
/// says `Sec-Fetch-Site: cross-site`/`same-site`. Clients that send neither (not browsers)
/// still need the CSRF token.
fn cross_origin(parts: &Parts, state: &AppState) -> Option<String> {
    let headers = &parts.headers;
    if let Some(origin) = headers.get(header::ORIGIN) {
        let origin = origin.to_str().unwrap_or("");
        let own = own_origins(state, headers);
        if !own.iter().any(|o| o.eq_ignore_ascii_case(origin)) {
            return Some(format!("Origin '{}' is not this server", cap(origin, 100)));
        }
    }
    match headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        Some(site @ ("cross-site" | "same-site")) => Some(format!("Sec-Fetch-Site: {site}")),
        _ => None,
    }
}

/// The origins this server is reached at: `public_url`'s, or the request's `Host` over http
/// (and https behind a trusted proxy).
fn own_origins(state: &AppState, headers: &HeaderMap) -> Vec<String> {
    if let Some(u) = &state.config.public_url {
        let (scheme, rest) = u.split_once("://").unwrap_or(("http", u));
        let host = rest.split('/').next().unwrap_or("");
        return vec![format!("{scheme}://{host}")];
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    vec![format!("http://{host}"), format!("https://{host}")]
}

/// At most `n` characters of `s`, with control characters escaped (for logs and audit).
#[must_use]
pub fn cap(s: &str, n: usize) -> String {
    crate::domain::text::printable(s, n)
}

/// Compares secrets without an early exit.
fn same_secret(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

async fn authenticate(
    parts: &Parts,
    state: &AppState,
    address: &str,
) -> Result<Caller, ServiceError> {
    let service = &state.service;
    if let Some(value) = parts.headers.get(header::AUTHORIZATION) {
        // The scheme is case-insensitive (RFC 9110 § 11.1).
        let token = value
            .to_str()
            .ok()
            .and_then(|v| v.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, t)| t.trim())
            .filter(|t| !t.is_empty() && t.len() <= 256)
            .ok_or(AuthError::TokenInvalid)?;
        let viewer = service.token_viewer(token, address).await?;
        return Ok(Caller {
            viewer,
            session: None,
            csrf_token: None,
        });
    }
    let jar = CookieJar::from_headers(&parts.headers);
    let Some(cookie) = jar.get(SESSION_COOKIE) else {
        return Err(AuthError::Missing.into());
    };
    let token = cookie.value().to_owned();
    let (viewer, csrf, _) = service.session_viewer(&token, address).await?;
    if !parts.method.is_safe()
        && let Some(why) = cross_origin(parts, state)
    {
        let what = format!("{} {}: {why}", parts.method, cap(parts.uri.path(), 200));
        service.record_refusal(&viewer, &what).await?;
        return Err(ServiceError::Forbidden(format!(
            "a change made with a session cookie must come from this server's own pages ({why})"
        )));
    }
    if !parts.method.is_safe() {
        let sent = parts
            .headers
            .get(CSRF_HEADER)
            .map(HeaderValue::as_bytes)
            .unwrap_or_default();
        if !same_secret(sent, csrf.as_bytes()) {
            let what = format!(
                "{} {}: missing or wrong CSRF token",
                parts.method,
                cap(parts.uri.path(), 200)
            );
            service.record_refusal(&viewer, &what).await?;
            return Err(ServiceError::Forbidden(format!(
                "a change made with a session cookie needs the session's CSRF token in the {CSRF_HEADER} header (GET /auth/session gives it)"
            )));
        }
    }
    Ok(Caller {
        viewer,
        session: Some(token),
        csrf_token: Some(csrf),
    })
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let address = client_address(parts, state);
        match authenticate(parts, state, &address).await {
            Ok(c) => {
                let span = tracing::Span::current();
                span.record("user", &*c.viewer.user);
                span.record("role", &*c.viewer.role_id);
                Ok(c)
            }
            Err(e) => {
                if matches!(e, ServiceError::Auth(_)) {
                    // Refusals of anonymous callers are recorded one by one only up to a rate
                    // per address; the rest are summed up (the log cannot be grown at will).
                    let what = format!("{} {}: {e}", parts.method, cap(parts.uri.path(), 200));
                    state
                        .service
                        .record_unauthenticated(&address, &what)
                        .await?;
                }
                Err(e.into())
            }
        }
    }
}

/// Audits a refusal of a signed-in caller (403 or 404 on a data path) and passes it on.
pub async fn audit_refusal(
    state: &AppState,
    caller: &Caller,
    what: &str,
    e: ServiceError,
) -> ApiError {
    if matches!(e, ServiceError::Forbidden(_))
        && let Err(store) = state
            .service
            .record_refusal(&caller.viewer, &format!("{what}: {e}"))
            .await
    {
        return store.into();
    }
    e.into()
}

fn secure_cookies(state: &AppState, headers: &HeaderMap) -> bool {
    state
        .config
        .public_url
        .as_deref()
        .is_some_and(|u| u.starts_with("https://"))
        || (state.config.trust_proxy
            && headers
                .get("x-forwarded-proto")
                .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"https")))
}

fn viewer_json(v: &Viewer, csrf: Option<&str>, expires_at: Option<time::OffsetDateTime>) -> Value {
    let layers: serde_json::Map<String, Value> = crate::domain::Layer::ALL
        .iter()
        .map(|l| {
            let g = v.role.grant(*l);
            (
                l.as_str().to_owned(),
                json!({"read": g.read, "create": g.create, "edit": g.edit, "delete": g.delete}),
            )
        })
        .collect();
    json!({
        "user": &*v.user,
        "organisation": &*v.organisation,
        "role": &*v.role_id,
        "roleLabel": v.role.label,
        "ceiling": v.role.ceiling,
        "admin": v.role.admin,
        "layers": layers,
        "csrfToken": csrf,
        "expiresAt": expires_at.and_then(|t| t.format(&Rfc3339).ok()),
    })
}

/// The body of `POST /auth/login` (documentation: the handler reads it field by field to
/// name what is wrong).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct LoginBody {
    /// The login name.
    #[schema(
        min_length = 1,
        max_length = 64,
        pattern = "^[^\\u0000-\\u001f\\u007f-\\u009f]+$"
    )]
    username: String,
    /// The password.
    #[schema(max_length = 1024)]
    password: String,
}

/// Signs in with `{"username": …, "password": …}`; sets the session cookie (HttpOnly,
/// SameSite=Strict, Secure behind TLS) and answers who signed in, with the CSRF token.
#[utoipa::path(post, path = "/auth/login", tag = "Access", security(()),
    request_body(content = LoginBody, description = "The account's name and password", content_type = "application/json"),
    responses(
        (status = 200, description = "Signed in; the cookie is set"),
        (status = 400, description = "Name or password missing", body = super::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "Wrong name or password, or the account is disabled", body = super::error::Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many failed logins; Retry-After says how long to wait", body = super::error::Problem, content_type = "application/problem+json"),
    ))]
pub async fn login(
    State(state): State<AppState>,
    parts: LoginParts,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let field = |k: &str| body.get(k).and_then(Value::as_str).map(str::to_owned);
    let (Some(name), Some(password)) = (field("username"), field("password")) else {
        return Err(ApiError::bad_param(
            "/username",
            "send {\"username\": \"…\", \"password\": \"…\"} as JSON strings",
        ));
    };
    // Refused before any lookup, log line or audit record: a name or password no account can
    // have says nothing about accounts, and must not grow the logs.
    if name.chars().count() > MAX_LOGIN_NAME_CHARS || name.chars().any(char::is_control) {
        return Err(ApiError::bad_param(
            "/username",
            format!(
                "is not a possible account name (at most {MAX_LOGIN_NAME_CHARS} characters, no control characters)"
            ),
        ));
    }
    if password.len() > MAX_LOGIN_PASSWORD_BYTES {
        return Err(ApiError::bad_param(
            "/password",
            format!("is longer than {MAX_LOGIN_PASSWORD_BYTES} bytes; no password is"),
        ));
    }
    let session = state
        .service
        .login(&name, &password, &parts.address)
        .await?;
    let max_age = session.expires_at - state.service.clock().now();
    let cookie = Cookie::build((SESSION_COOKIE, session.token.clone()))
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(parts.secure)
        .path("/")
        .max_age(max_age)
        .build();
    let body = viewer_json(
        &session.viewer,
        Some(&session.csrf_token),
        Some(session.expires_at),
    );
    Ok((
        StatusCode::OK,
        [
            (header::SET_COOKIE, cookie.to_string()),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        axum::Json(body),
    )
        .into_response())
}

/// What `login` needs from the request line and headers.
pub struct LoginParts {
    address: String,
    secure: bool,
}

impl FromRequestParts<AppState> for LoginParts {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        // A page elsewhere must not sign a browser in (as the attacker's account, say).
        if let Some(why) = cross_origin(parts, state) {
            return Err(ServiceError::Forbidden(format!(
                "sign in from this server's own page ({why})"
            ))
            .into());
        }
        Ok(Self {
            address: client_address(parts, state),
            secure: secure_cookies(state, &parts.headers),
        })
    }
}

/// Who is signed in, with the role's grants and (for a session) the CSRF token; `{"signedIn":
/// false}` when nobody is (so a page can ask without provoking an error).
#[utoipa::path(get, path = "/auth/session", tag = "Access", security(()),
    responses(
        (status = 200, description = "The caller, role, grants per layer and CSRF token; or signedIn false"),
    ))]
pub async fn session(
    State(state): State<AppState>,
    mut parts: Parts,
) -> Result<Response, ApiError> {
    let has_credentials = parts.headers.contains_key(header::AUTHORIZATION)
        || CookieJar::from_headers(&parts.headers)
            .get(SESSION_COOKIE)
            .is_some();
    let body = if has_credentials {
        match Caller::from_request_parts(&mut parts, &state).await {
            Ok(caller) => {
                let mut v = viewer_json(&caller.viewer, caller.csrf_token.as_deref(), None);
                v["signedIn"] = json!(true);
                v
            }
            Err(e) if e.status() == StatusCode::UNAUTHORIZED => json!({"signedIn": false}),
            Err(e) => return Err(e),
        }
    } else {
        json!({"signedIn": false})
    };
    let mut res = axum::Json(body).into_response();
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(res)
}

/// Ends the session and clears the cookie.
#[utoipa::path(post, path = "/auth/logout", tag = "Access",
    responses(
        (status = 204, description = "Signed out"),
        (status = 401, description = "Not signed in", body = super::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "CSRF token missing", body = super::error::Problem, content_type = "application/problem+json"),
    ))]
pub async fn logout(State(state): State<AppState>, caller: Caller) -> Result<Response, ApiError> {
    if let Some(token) = &caller.session {
        state.service.logout(token, &caller.viewer).await?;
    }
    let clear = Cookie::build((SESSION_COOKIE, ""))
        .http_only(true)
        .same_site(SameSite::Strict)
        .path("/")
        .max_age(time::Duration::ZERO)
        .build();
    Ok((
        StatusCode::NO_CONTENT,
        [(header::SET_COOKIE, clear.to_string())],
    )
        .into_response())
}
