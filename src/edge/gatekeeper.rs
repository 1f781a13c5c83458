//! Gatekeeper mode (`ORIGIN_URL` set): every request outside `/v1/` is checked here
//! before it reaches the origin, so an unauthenticated request never costs the origin
//! anything.

use crate::core::config::Config;
use crate::core::credentials::CredentialSource;
use crate::core::gate::{is_html_navigation, is_identity_header, login_redirect, return_to, strip_cookie, GateConfig};
use crate::core::record::SessionRecord;
use crate::core::timestamp::rfc3339;
use crate::edge::http::{header, ApiError};
use crate::edge::platform;
use crate::edge::session_routes::{authenticate, require_trusted_origin, schedule_touch};
use futures_util::future::{select, Either};
use std::time::Duration;
use worker::{AbortController, Context, Delay, Env, Fetch, Headers, Method, Request, RequestInit, RequestRedirect, Response};

/// A request outside `/v1/`: forwarded untouched on a public path, forwarded with the
/// session's identity when the session is valid, otherwise refused (a redirect to the
/// login page for browser navigations, the same 401 JSON as `GET /v1/session` for
/// everything else).
pub async fn handle_gated(req: Request, env: &Env, ctx: &Context, config: &Config, gate: &GateConfig) -> Result<Response, ApiError> {
    let url = req.url().map_err(|e| ApiError::internal("request url", e))?;
    let path = url.path().to_owned();
    let query = url.query().map(str::to_owned);

    if gate.public_paths.matches(&path) {
        return forward(req, gate, &config.cookie_name, None, &path, query.as_deref()).await;
    }

    let now = platform::now();
    match authenticate(&req, env, config, now).await {
        Ok(auth) => {
            // A cookie rides along on cross-site requests too: state-changing methods
            // must come from this site or an allowed origin (CSRF), as on the API.
            if !matches!(req.method(), Method::Get | Method::Head | Method::Options) {
                require_trusted_origin(&req, config, auth.source)?;
            }
            schedule_touch(ctx, env, config, &auth, now)?;
            let identity = Identity { record: &auth.record, source: auth.source };
            forward(req, gate, &config.cookie_name, Some(identity), &path, query.as_deref()).await
        }
        Err(refused) if refused.status < 500 => {
            let method = req.method().to_string();
            match &gate.login_url {
                Some(login) if is_html_navigation(&method, header(&req, "Accept").as_deref()) => {
                    Ok(redirect(&login_redirect(login, &return_to(&path, query.as_deref()))))
                }
                _ => Err(refused),
            }
        }
        Err(failure) => Err(failure),
    }
}

fn redirect(location: &str) -> Response {
    let headers = Headers::new();
    let _ = headers.set("Location", location);
    let _ = headers.set("Cache-Control", "no-store");
    Response::empty().expect("empty response").with_status(302).with_headers(headers)
}

/// Who the forwarded request is, and how they proved it.
struct Identity<'a> {
    record: &'a SessionRecord,
    source: CredentialSource,
}

/// Sends the request on to the origin and returns the origin's response as it is.
///
/// - Incoming `X-Session-*` headers are always dropped: a client can never speak for
///   the gatekeeper.
/// - With a session, `X-Session-Account`, `X-Session-Id` and `X-Session-Expires` are
///   added, and the credential that proved it (the session cookie, or an
///   `Authorization: Bearer` token) is removed unless `FORWARD_SESSION_COOKIE=true`:
///   the origin never needs the token.
/// - Method, query, body and all other headers pass through; redirects from the origin
///   are returned to the client, not followed.
async fn forward(
    req: Request,
    gate: &GateConfig,
    cookie_name: &str,
    identity: Option<Identity<'_>>,
    path: &str,
    query: Option<&str>,
) -> Result<Response, ApiError> {
    let headers = Headers::new();
    for (name, value) in req.headers().entries() {
        if is_identity_header(&name) || name.eq_ignore_ascii_case("host") {
            continue;
        }
        let strip_credentials = identity.is_some() && !gate.forward_session_cookie;
        if strip_credentials && name.eq_ignore_ascii_case("cookie") {
            if let Some(rest) = strip_cookie(&value, cookie_name) {
                let _ = headers.append("Cookie", &rest);
            }
            continue;
        }
        let bearer_session = identity.as_ref().is_some_and(|i| i.source == CredentialSource::Bearer);
        if strip_credentials && bearer_session && name.eq_ignore_ascii_case("authorization") {
            continue;
        }
        let _ = headers.append(&name, &value);
    }
    if let Some(Identity { record, .. }) = identity {
        let _ = headers.set("X-Session-Account", record.account_id.as_str());
        let _ = headers.set("X-Session-Id", record.session_id.as_str());
        let _ = headers.set("X-Session-Expires", &rfc3339(record.idle_expires_at));
    }
    if let Ok(url) = req.url() {
        if let Some(host) = url.host_str() {
            let _ = headers.set("X-Forwarded-Host", host);
        }
        let _ = headers.set("X-Forwarded-Proto", url.scheme());
    }

    let method = req.method();
    let mut init = RequestInit::new();
    init.with_method(method.clone()).with_headers(headers).with_redirect(RequestRedirect::Manual);
    if !matches!(method, Method::Get | Method::Head) {
        init.with_body(req.inner().body().map(Into::into));
    }
    let upstream = Request::new_with_init(&gate.upstream_url(path, query), &init)
        .map_err(|e| ApiError::internal("gatekeeper: build origin request", e))?;

    let controller = AbortController::default();
    let signal = controller.signal();
    let fetch = Fetch::Request(upstream);
    let send = Box::pin(fetch.send_with_signal(&signal));
    let timeout = Box::pin(Delay::from(Duration::from_millis(u64::from(gate.origin_timeout_ms))));
    let outcome = match select(send, timeout).await {
        Either::Left((result, _)) => Some(result),
        Either::Right(_) => None,
    };
    match outcome {
        Some(Ok(response)) => Ok(response),
        Some(Err(e)) => {
            crate::edge::http::log_error("error", "gatekeeper: origin unreachable", &e);
            Err(ApiError::new(502, "origin_unreachable", "the origin could not be reached"))
        }
        None => {
            controller.abort();
            Err(ApiError::new(502, "origin_timeout", "the origin did not answer in time"))
        }
    }
}
