//! Outbound requests: to the origin (gatekeeper mode) and to the webhook receiver.
//! Both need the same two things the platform's `fetch` does not give by default: a
//! deadline (an origin that never answers must not hold the request until the runtime
//! gives up), and redirects returned rather than followed (a redirect is the origin's
//! answer to the client, and a webhook must not be bounced to another host).

use futures_util::future::{select, Either};
use std::time::Duration;
use worker::{web_sys, AbortController, Delay, Fetch, Request, Response};

/// Why an outbound request produced no response.
pub enum FetchFailure {
    /// The request could not be built (a URL or method the runtime refuses).
    Build(String),
    /// The network failed, or the receiver closed the connection.
    Unreachable(worker::Error),
    /// No answer within the deadline; the request was aborted.
    TimedOut,
}

/// Sends `url` with `init` (its redirect mode is set to manual here), aborting after
/// `timeout_ms`.
pub async fn fetch_with_deadline(
    url: &str,
    init: &web_sys::RequestInit,
    timeout_ms: u32,
) -> Result<Response, FetchFailure> {
    init.set_redirect(web_sys::RequestRedirect::Manual);
    let request = web_sys::Request::new_with_str_and_init(url, init)
        .map(Request::from)
        .map_err(|e| FetchFailure::Build(format!("{e:?}")))?;
    let controller = AbortController::default();
    let signal = controller.signal();
    let fetch = Fetch::Request(request);
    let send = Box::pin(fetch.send_with_signal(&signal));
    let timeout = Box::pin(Delay::from(Duration::from_millis(u64::from(timeout_ms))));
    let outcome = match select(send, timeout).await {
        Either::Left((result, _)) => Some(result),
        Either::Right(_) => None,
    };
    match outcome {
        Some(Ok(response)) => Ok(response),
        Some(Err(e)) => Err(FetchFailure::Unreachable(e)),
        None => {
            controller.abort();
            Err(FetchFailure::TimedOut)
        }
    }
}
