//! Maps method and path to a handler, and wraps every answer in CORS. Paths are matched
//! exactly as sent (no percent-decoding), so `/v1/session%2Frefresh` is not
//! `/v1/session/refresh`.

use crate::core::error_code::ErrorCode;
use crate::edge::config::load_config;
use crate::edge::cors::{apply_cors, preflight};
use crate::edge::error::ApiError;
use crate::edge::metrics::{AnswerMetrics, RouteClass};
use crate::edge::request::IncomingRequest;
use crate::edge::routes::{
    account as account_routes, admin as admin_routes, device_binding, gatekeeper,
    impersonation as impersonation_routes, public, readiness, session as session_routes,
};
use std::future::Future;
use std::pin::Pin;
use worker::{Context, Env, Response};

pub async fn route(req: IncomingRequest, env: Env, ctx: Context) -> Response {
    // Owned: handlers that read the body take the request itself.
    let path = req.path().to_owned();
    let method = req.method().to_owned();
    let method = method.as_str();
    let segments: Vec<&str> = path.split('/').collect();
    let is_admin = segments.get(1..3) == Some(&["v1", "admin"][..]);
    // The browser calls the DBSC endpoints itself: no CORS, no preflight (`routes::device_binding`).
    let is_dbsc = segments.get(1..3) == Some(&["v1", "dbsc"][..]);

    // Public documents, answered before the configuration is read: a deployment with a
    // broken setting still says it is up, what its API is, and (readiness) what is broken.
    match (method, &segments[1..]) {
        ("GET", ["v1", "health"]) => return public::health(),
        ("GET", ["v1", "health", "ready"]) => return separately(readiness::ready(&env)).await,
        ("GET", ["v1", "jwks.json"]) => {
            return match load_config(&env) {
                Ok(config) => separately(public::jwks(&config)).await,
                Err(err) => err.into_response(),
            }
        }
        ("GET", ["v1", "openapi.json"]) => return public::openapi(),
        (_, ["v1", "health" | "jwks.json" | "openapi.json"] | ["v1", "health", "ready"]) => {
            return method_not_allowed("GET")
        }
        _ => {}
    }

    let config = match load_config(&env) {
        Ok(config) => config,
        Err(err) => return err.into_response(),
    };
    let origin = req.header("Origin");
    let v1 = (segments.get(1) == Some(&"v1")).then(|| &segments[2..]);
    let metrics = AnswerMetrics::for_request(&env, &req);
    let answered = |result: Result<Response, ApiError>| {
        let code = result.as_ref().err().map(ApiError::code);
        let response = result.unwrap_or_else(ApiError::into_response);
        if let Some(metrics) = &metrics {
            metrics.record(RouteClass::of(method, v1), response.status_code(), code);
        }
        response
    };

    if v1.is_none() {
        let response = match &config.gate {
            Some(gate) => separately(gatekeeper::handle_gated(req, &env, &ctx, &config, gate)).await,
            None => Err(ApiError::not_found()),
        };
        // The origin's response goes back exactly as it came: no CORS headers added.
        return answered(response);
    }

    if method == "OPTIONS" && !is_admin && !is_dbsc {
        return preflight(&config.allowed_origins, origin.as_deref());
    }

    let result = match (method, &segments[1..]) {
        ("GET", ["v1", "session"]) => separately(session_routes::handle_validate(&req, &env, &ctx, &config)).await,
        ("DELETE", ["v1", "session"]) => separately(session_routes::handle_logout(&req, &env, &config)).await,
        (_, ["v1", "session"]) => Ok(method_not_allowed("GET, DELETE")),
        ("POST", ["v1", "session", "refresh"]) => separately(session_routes::handle_refresh(&req, &env, &config)).await,
        (_, ["v1", "session", "refresh"]) => Ok(method_not_allowed("POST")),
        ("POST", ["v1", "session", "rotate"]) => separately(session_routes::handle_rotate(&req, &env, &config)).await,
        (_, ["v1", "session", "rotate"]) => Ok(method_not_allowed("POST")),
        ("GET", ["v1", "session", "token"]) => {
            separately(session_routes::handle_token(&req, &env, &ctx, &config)).await
        }
        (_, ["v1", "session", "token"]) => Ok(method_not_allowed("GET")),
        ("GET", ["v1", "sessions"]) => separately(account_routes::handle_list(&req, &env, &config)).await,
        ("DELETE", ["v1", "sessions"]) => separately(account_routes::handle_revoke_all(&req, &env, &config)).await,
        (_, ["v1", "sessions"]) => Ok(method_not_allowed("GET, DELETE")),
        ("DELETE", ["v1", "sessions", session_id]) => {
            separately(account_routes::handle_revoke_one(&req, &env, &config, session_id)).await
        }
        (_, ["v1", "sessions", _]) => Ok(method_not_allowed("DELETE")),
        ("GET", ["v1", "admin", "sessions"]) => separately(admin_routes::handle_list_fleet(&req, &env)).await,
        (_, ["v1", "admin", "sessions"]) => Ok(method_not_allowed("GET")),
        ("GET", ["v1", "admin", "impersonations"]) => {
            separately(impersonation_routes::handle_list_actor(&req, &env)).await
        }
        ("DELETE", ["v1", "admin", "impersonations"]) => {
            separately(impersonation_routes::handle_end_actor(&req, &env)).await
        }
        (_, ["v1", "admin", "impersonations"]) => Ok(method_not_allowed("GET, DELETE")),
        ("POST", ["v1", "admin", "accounts", account_id, "impersonations"]) => {
            let account_id = account_id.to_string();
            separately(impersonation_routes::handle_create(req, &env, &config, &account_id)).await
        }
        ("GET", ["v1", "admin", "accounts", account_id, "impersonations"]) => {
            separately(impersonation_routes::handle_list_account(&req, &env, account_id)).await
        }
        ("DELETE", ["v1", "admin", "accounts", account_id, "impersonations"]) => {
            separately(impersonation_routes::handle_end_account(&req, &env, account_id)).await
        }
        (_, ["v1", "admin", "accounts", _, "impersonations"]) => Ok(method_not_allowed("GET, POST, DELETE")),
        ("DELETE", ["v1", "admin", "accounts", account_id, "impersonations", session_id]) => {
            separately(impersonation_routes::handle_end_one(&req, &env, account_id, session_id)).await
        }
        (_, ["v1", "admin", "accounts", _, "impersonations", _]) => Ok(method_not_allowed("DELETE")),
        ("POST", ["v1", "admin", "accounts", account_id, "sessions"]) => {
            let account_id = account_id.to_string();
            separately(admin_routes::handle_create(req, &env, &config, &account_id)).await
        }
        ("GET", ["v1", "admin", "accounts", account_id, "sessions"]) => {
            separately(admin_routes::handle_list_account(&req, &env, account_id)).await
        }
        ("DELETE", ["v1", "admin", "accounts", account_id, "sessions"]) => {
            separately(admin_routes::handle_revoke_account(&req, &env, account_id)).await
        }
        ("PATCH", ["v1", "admin", "accounts", account_id, "sessions"]) => {
            let account_id = account_id.to_string();
            separately(admin_routes::handle_update_account_claims(req, &env, &account_id)).await
        }
        (_, ["v1", "admin", "accounts", _, "sessions"]) => Ok(method_not_allowed("GET, POST, PATCH, DELETE")),
        ("DELETE", ["v1", "admin", "accounts", account_id, "sessions", session_id]) => {
            separately(admin_routes::handle_revoke_session(&req, &env, account_id, session_id)).await
        }
        ("PATCH", ["v1", "admin", "accounts", account_id, "sessions", session_id]) => {
            let (account_id, session_id) = (account_id.to_string(), session_id.to_string());
            separately(admin_routes::handle_update_session_claims(req, &env, &account_id, &session_id)).await
        }
        (_, ["v1", "admin", "accounts", _, "sessions", _]) => Ok(method_not_allowed("PATCH, DELETE")),
        ("POST", ["v1", "admin", "accounts", account_id, "sessions", session_id, "reauthenticate"]) => {
            let (account_id, session_id) = (account_id.to_string(), session_id.to_string());
            separately(admin_routes::handle_reauthenticate(req, &env, &config, &account_id, &session_id)).await
        }
        (_, ["v1", "admin", "accounts", _, "sessions", _, "reauthenticate"]) => Ok(method_not_allowed("POST")),
        ("POST", ["v1", "dbsc", "register"]) => separately(device_binding::handle_register(&req, &env, &config)).await,
        ("POST", ["v1", "dbsc", "refresh"]) => separately(device_binding::handle_refresh(&req, &env, &config)).await,
        (_, ["v1", "dbsc", "register" | "refresh"]) => Ok(method_not_allowed("POST")),
        _ => Err(ApiError::not_found()),
    };
    let mut response = answered(result);
    if is_dbsc {
        device_binding::harden(&mut response);
    } else if !is_admin {
        apply_cors(&mut response, &config.allowed_origins, origin.as_deref());
    }
    response
}

fn method_not_allowed(allow: &str) -> Response {
    let mut response = ApiError::with_message(ErrorCode::MethodNotAllowed, format!("use {allow}")).into_response();
    let _ = response.headers_mut().set("Allow", allow);
    response
}

/// A handler's future, boxed. Awaited in place, every handler's state machine is inlined
/// into `route`'s, and the export that polls it becomes one wasm function of about
/// 110 KB, a ninth of the module. V8 compiles a wasm function when it is first called
/// (workerd keeps V8's lazy compilation), so a cold isolate's first full-path request,
/// even `GET /v1/health`, paid for compiling every route (about 7 ms of the cold start,
/// docs/performance.md). Boxed, each handler's poll is its own function behind a
/// vtable, compiled when a request first takes its route.
fn separately<'a, T>(handler: impl Future<Output = T> + 'a) -> Pin<Box<dyn Future<Output = T> + 'a>> {
    Box::pin(handler)
}
