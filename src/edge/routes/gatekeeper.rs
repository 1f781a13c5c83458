//! Gatekeeper mode (`ORIGIN_URL` set): every request outside `/v1/` is checked here
//! before it reaches the origin, so an unauthenticated request never costs the origin
//! anything.

use crate::core::assertion::AssertionKind;
use crate::core::config::Config;
use crate::core::error_code::ErrorCode;
use crate::core::gate::{
    gatekeeper_headers, is_html_navigation, login_redirect, login_would_loop, return_to, ForwardedHeader, GateConfig,
    ACTOR_HEADER,
};
use crate::core::record::SessionRecord;
use crate::core::session_check::Refusal;
use crate::core::step_up::Freshness;
use crate::edge::answer::Answer;
use crate::edge::assertion::assertion_for;
use crate::edge::auth::{Denial, SessionCheck};
use crate::edge::device_binding::{registration_offer, REGISTRATION_HEADER};
use crate::edge::error::{log_error, ApiError};
use crate::edge::fetch::{fetch_with_deadline, FetchFailure};
use crate::edge::platform;
use crate::edge::request::IncomingRequest;
use crate::edge::touch::schedule_touch;
use worker::{web_sys, Context, Env, Headers, Response};

/// A request outside `/v1/`: forwarded on a public path, forwarded with the session's
/// identity when the session is valid, otherwise refused (a redirect to the login page
/// for browser navigations, the same 401 JSON as `GET /v1/session` for everything else).
pub async fn handle_gated(
    req: IncomingRequest,
    env: &Env,
    ctx: &Context,
    config: &Config,
    gate: &GateConfig,
) -> Result<Response, ApiError> {
    let method = req.method().to_owned();

    if gate.public_paths.matches(req.path()) {
        return forward(req, &method, gate, &config.cookie_name, config.public_host.as_deref(), None).await;
    }

    let now = platform::now();
    let path = req.path();
    let navigation = is_html_navigation(&method, req.header("Accept").as_deref());
    let freshness = gate.fresh_paths.requirement(path);
    // A cookie rides along on cross-site requests too: anything but a safe method must
    // come from this site or an allowed origin (CSRF), as on the API.
    // A strong check counts against the session's rate limit (SessionCheck::strong).
    let check = SessionCheck::new()
        .strong(gate.needs_strong_check(&method, path))
        .csrf()
        .fresh(freshness.unwrap_or_default())
        .impersonation(gate.impersonation.access(&method, path));
    match check.check(&req, env, config, now).await {
        Ok(auth) => {
            schedule_touch(&req, ctx, env, config, &auth, now)?;
            // The origin can verify this one against /v1/jwks.json, instead of trusting
            // unsigned headers because nothing else can reach it.
            let assertion = match config.assertions.gateway_audience.as_deref() {
                Some(audience) => assertion_for(config, &auth.record, AssertionKind::Gateway, audience, now)
                    .await?
                    .map(|(jwt, _)| jwt),
                None => None,
            };
            // A browser's page load of an unbound session is offered a device key (DBSC):
            // added to the origin's answer, so the origin changes nothing.
            let top_level = navigation && req.header("Sec-Fetch-Dest").is_none_or(|dest| dest == "document");
            let offer = top_level.then(|| registration_offer(config, &auth.record, auth.source)).flatten();
            let identity = Identity { record: &auth.record, assertion: assertion.as_deref() };
            let response =
                forward(req, &method, gate, &config.cookie_name, config.public_host.as_deref(), Some(identity)).await?;
            Ok(match offer {
                Some(offer) => {
                    // The origin's headers are immutable; a copy carries the offer.
                    let headers = response.headers().clone();
                    let _ = headers.append(REGISTRATION_HEADER, &offer);
                    response.with_headers(headers)
                }
                None => response,
            })
        }
        Err(denial) => {
            let request = Refused { navigation, path, query: req.query(), origin: &req.origin(), freshness };
            refusal(denial, gate, &request).map(Answer::into_response)
        }
    }
}

/// What the gatekeeper needs of a refused request to answer it.
pub struct Refused<'a> {
    /// A browser's page load (`is_html_navigation`): sent to sign in where that helps.
    pub navigation: bool,
    pub path: &'a str,
    pub query: Option<&'a str>,
    /// `scheme://host[:port]` of the request.
    pub origin: &'a str,
    /// The path's `FRESH_PATHS` requirement, if any.
    pub freshness: Option<Freshness>,
}

/// How a gated request whose session check failed is answered, on both paths (this
/// one and `fast_gate`): a navigation is redirected to sign in where signing in could
/// help, anything else gets the same JSON as `GET /v1/session`.
pub fn refusal(denial: Denial, gate: &GateConfig, request: &Refused<'_>) -> Result<Answer, ApiError> {
    let Refused { navigation, path, query, origin, freshness } = *request;
    match denial {
        // Too old or too weak for this path: a navigation goes to sign in again, saying
        // which level is needed; anything else gets the JSON.
        Denial::Refused(refusal @ Refusal::NotFresh { failed, .. }) => match &gate.login_url {
            Some(login) if navigation => {
                let target = login_redirect(login, &return_to(path, query));
                let level = freshness.and_then(|f| f.min_aal).filter(|_| failed.too_weak);
                let extra = match level {
                    Some(aal) => format!("&reauth=1&aal={aal}"),
                    None => "&reauth=1".to_owned(),
                };
                Ok(Answer::redirect(&format!("{target}{extra}")))
            }
            _ => Err(refusal.into()),
        },
        // A drift hold (`DRIFT_POLICY` `step_up`): as step-up, to sign in again.
        Denial::Refused(Refusal::DriftStepUp) => match &gate.login_url {
            Some(login) if navigation => {
                Ok(Answer::redirect(&format!("{}&reauth=1", login_redirect(login, &return_to(path, query)))))
            }
            _ => Err(Refusal::DriftStepUp.into()),
        },
        denial => {
            let refused = ApiError::from(denial);
            match &gate.login_url {
                // Sent to sign in only when signing in could help: not for a rate limit,
                // nor for an impersonation session asking for what it may not do.
                Some(login)
                    if navigation
                        && refused.status() < 500
                        && !matches!(refused.code(), ErrorCode::RateLimited | ErrorCode::ImpersonationForbidden) =>
                {
                    if login_would_loop(login, origin, &gate.public_paths) {
                        // Redirecting would land on a gated page and redirect again, forever.
                        log_error(
                            "warn",
                            "gatekeeper: LOGIN_URL is on this host but not public; answering 401",
                            &login,
                        );
                        return Err(refused);
                    }
                    Ok(Answer::redirect(&login_redirect(login, &return_to(path, query))))
                }
                _ => Err(refused),
            }
        }
    }
}

/// What the origin is told about the session behind a forwarded request.
struct Identity<'a> {
    record: &'a SessionRecord,
    /// A signed assertion (`X-Session-Assertion`), when a signing key is configured.
    assertion: Option<&'a str>,
}

/// Sends the request on to the origin and returns the origin's response as it is.
///
/// - Incoming `X-Session-*` headers (and their `X_Session_*` spellings) are always
///   dropped: a client can never speak for the gatekeeper. So are hop-by-hop headers
///   and forwarding headers only the gatekeeper may set.
/// - The session credential (the session cookie, an `Authorization: Bearer est_…`) is
///   removed, on public paths too, unless `FORWARD_SESSION_COOKIE=true`: the origin
///   never needs the token.
/// - With a session, `X-Session-Account`, `X-Session-Id` and `X-Session-Expires` are
///   added (and `X-Session-Actor` for an impersonation session), and the request may
///   not be answered from a cache (it is per user).
/// - Method (any, not only the common ones), query, body and all other headers pass
///   through; redirects from the origin are returned to the client, not followed.
async fn forward(
    req: IncomingRequest,
    method: &str,
    gate: &GateConfig,
    cookie_name: &str,
    public_host: Option<&str>,
    identity: Option<Identity<'_>>,
) -> Result<Response, ApiError> {
    let headers = Headers::new();
    for (name, value) in req.headers().entries() {
        match gate.forwarded_header(cookie_name, &name, Some(&value)) {
            ForwardedHeader::Unchanged => {
                let _ = headers.append(&name, &value);
            }
            ForwardedHeader::Rewritten(rest) => {
                let _ = headers.append(&name, &rest);
            }
            ForwardedHeader::Removed => {}
        }
    }
    let identity = identity.map(|Identity { record, assertion }| (record, assertion));
    let host = public_host.unwrap_or(req.authority());
    let connecting_ip = req.header("CF-Connecting-IP");
    for (name, value) in gatekeeper_headers(identity, host, req.scheme(), connecting_ip.as_deref()) {
        if let Err(e) = headers.set(name, &value) {
            // Never forwarded without the actor: the origin would take the request as the user's.
            if name == ACTOR_HEADER {
                return Err(ApiError::internal("gatekeeper: X-Session-Actor", e));
            }
        }
    }

    // Built with web_sys directly: workers-rs's `Method` maps methods it does not know
    // (PROPFIND, QUERY, ...) to GET, which would change the request.
    let init = web_sys::RequestInit::new();
    init.set_method(method);
    init.set_headers(&headers.0);
    if !matches!(method, "GET" | "HEAD") {
        if let Some(body) = req.inner().body() {
            init.set_body(&body);
        }
    }
    if identity.is_some() {
        init.set_cache(web_sys::RequestCache::NoStore);
    }
    let url = gate.upstream_url(req.path(), req.query());
    match fetch_with_deadline(&url, &init, gate.origin_timeout_ms).await {
        Ok(response) => Ok(response),
        Err(FetchFailure::Build(e)) => Err(ApiError::internal("gatekeeper: build origin request", e)),
        Err(FetchFailure::Unreachable(e)) => {
            log_error("error", "gatekeeper: origin unreachable", &e);
            Err(ApiError::new(ErrorCode::OriginUnreachable))
        }
        Err(FetchFailure::TimedOut) => Err(ApiError::new(ErrorCode::OriginTimeout)),
    }
}
