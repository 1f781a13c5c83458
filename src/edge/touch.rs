//! The idle touch that use of a session schedules: sent to the account's Durable Object
//! after the response has gone (`waitUntil`), so the hot path never waits for a write,
//! and remembered per isolate, so a location whose KV copy lags the touch does not send
//! it again on every request.

use crate::core::config::Config;
use crate::core::policy::{Touch, TouchKind};
use crate::core::record::SessionRecord;
use crate::core::token::TokenHash;
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
    if touch_due(config, &auth.record, &auth.hash, now) {
        let touch = send_touch(env, &auth.record, &auth.hash)?;
        req.note(|n| n.touch_sent = true);
        ctx.wait_until(touch);
    }
    Ok(())
}

/// Whether this use should extend the session, and this isolate has not asked already
/// (a stale KV copy may still be answering after an earlier touch). Remembers the ask.
pub fn touch_due(config: &Config, record: &SessionRecord, hash: &TokenHash, now: UnixSeconds) -> bool {
    if !matches!(config.policy.touch(record, now), Touch::Extended(_)) {
        return false;
    }
    let interval = config.policy.touch_interval_for(record);
    SENT_TOUCHES.with(|m| m.borrow_mut().should_send(hash, now, interval))
}

/// Undoes `touch_due`'s note when the touch it allowed could not be sent (the hot path's
/// ring was full), so that the next use asks again instead of a whole interval later.
pub fn touch_not_sent(hash: &TokenHash) {
    SENT_TOUCHES.with(|m| m.borrow_mut().forget(hash));
}

/// The touch itself, for `waitUntil`. A failed touch changes nothing; the next request
/// will try again.
pub fn send_touch(
    env: &Env,
    record: &SessionRecord,
    hash: &TokenHash,
) -> Result<impl std::future::Future<Output = ()> + 'static, ApiError> {
    let client = AccountClient::for_account(env, &record.account_id)?;
    let session_id = record.session_id.clone();
    let hash = hash.clone();
    Ok(async move {
        if let Err(e) = client.touch(&session_id, &hash, TouchKind::Use).await {
            e.log_if_internal();
        }
    })
}
