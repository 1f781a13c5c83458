//! The idle touch that use of a session schedules: sent to the account's Durable Object
//! after the response has gone (`waitUntil`), so the hot path never waits for a write,
//! and remembered per isolate, so a location whose KV copy lags the touch does not send
//! it again on every request.

use crate::core::config::Config;
use crate::core::policy::{Touch, TouchKind};
use crate::core::touch_memory::TouchMemory;
use crate::core::UnixSeconds;
use crate::edge::account::client::AccountClient;
use crate::edge::auth::Authenticated;
use crate::edge::error::ApiError;
use crate::edge::request::IncomingRequest;
use worker::{Context, Env};

/// Most token hashes whose last touch an isolate remembers.
const SENT_TOUCHES_CAPACITY: usize = 4096;

thread_local! {
    static SENT_TOUCHES: std::cell::RefCell<TouchMemory> =
        std::cell::RefCell::new(TouchMemory::new(SENT_TOUCHES_CAPACITY));
}

/// When use should extend the session, asks the account's Durable Object to do it after
/// the response has gone (`waitUntil`): the hot path never waits for a write. Notes on
/// the request whether a touch was sent.
pub fn schedule_touch(
    req: &IncomingRequest,
    ctx: &Context,
    env: &Env,
    config: &Config,
    auth: &Authenticated,
    now: UnixSeconds,
) -> Result<(), ApiError> {
    if let Touch::Extended(_) = config.policy.touch(&auth.record, now) {
        let interval = config.policy.touch_interval_for(&auth.record);
        if !SENT_TOUCHES.with(|m| m.borrow_mut().should_send(&auth.hash, now, interval)) {
            return Ok(()); // this isolate asked already; a stale KV copy is still answering
        }
        let client = AccountClient::for_account(env, &auth.record.account_id)?;
        req.note(|n| n.touch_sent = true);
        let session_id = auth.record.session_id.clone();
        let hash = auth.hash.clone();
        ctx.wait_until(async move {
            // A failed touch changes nothing; the next request will try again.
            if let Err(e) = client.touch(&session_id, &hash, TouchKind::Use).await {
                e.log_if_internal();
            }
        });
    }
    Ok(())
}
