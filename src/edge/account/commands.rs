//! What each command of an account's Durable Object does, under the object's lock.
//! Whether a session may act is decided by the core's one session check
//! (`core::session_check`), as at the edge.
//!
//! Adding a command:
//! 1. a variant of `AccountCommand` holding its own struct, its `Op` and its arm in
//!    `AccountCommand::from_json`, and its reply type, in `protocol.rs` (a reply with an
//!    `outcome` tag gets a `from_json` too: serde's derived tagged enums buffer);
//! 2. a method here taking the `CommandContext`;
//! 3. its arm in `AccountSessions::handle` (`object.rs`);
//! 4. a typed call in `client.rs`, and an end-to-end test through a route.

use crate::core::claims::SessionClaims;
use crate::core::device_binding::DeviceBinding;
use crate::core::drift::{classify, Anomaly, Baseline, BaselineStamp, DriftAction, DriftHold, DriftVerdict};
use crate::core::error_code::ErrorCode;
use crate::core::event::{RevokeReason, RotationCause, SessionEvent};
use crate::core::policy::{Touch, TouchKind};
use crate::core::record::SessionRecord;
use crate::core::rotation_retry::RotatedAway;
use crate::core::session_check::{check, DriftRule, Requirement};
use crate::core::step_up::AuthenticatedAt;
use crate::core::token::{SessionId, TokenHash};
use crate::core::UnixMillis;
use crate::edge::account::index::{IndexRow, OldToken};
use crate::edge::account::object::{AccountSessions, CommandContext};
use crate::edge::account::protocol::{
    BindReply, Caller, Reauthentication, RefreshReply, RotateReply, TouchReply, VerifyReply,
};
use crate::edge::error::{log_error, ApiError};
use futures_util::future::join;

impl AccountSessions {
    /// Indexes a new session, evicting the oldest past the limit, and publishes it.
    pub(super) async fn create(
        &self,
        cx: &CommandContext,
        record: SessionRecord,
        hash: &TokenHash,
        authenticated_at: AuthenticatedAt,
    ) -> Result<Vec<SessionId>, ApiError> {
        let CommandContext { config, store, now, .. } = cx;
        // A retry of a create whose reply was lost: answer as the first attempt did,
        // evicting nobody again. A retry of one cut short before KV confirmed it
        // publishes it now.
        if let Some(existing) = self.index.get(&record.session_id)? {
            if existing.token_hash != *hash {
                return Err(ApiError::internal("account: create", "session id indexed under another hash"));
            }
            if !existing.is_pending() {
                return Ok(existing.evicted());
            }
        } else {
            // A login that checked the credentials before the account signed out
            // everywhere (a password change) must not open a session after it.
            let fence = Requirement::opening(self.index.revoked_all_at()?, authenticated_at.millis);
            check(config, &record, &fence, *now)?;
            self.index.insert(&record, hash)?;
            // What the create knows of the client: the user agent the origin passed.
            // Its `request.cf` is the origin's server's, so the network signals wait for
            // the first use (trust on first use).
            let known = Baseline::from_user_agent(record.meta.user_agent.as_deref());
            if !known.is_empty() {
                self.index.set_baseline(&record.session_id, Some(&known))?;
            }
        }
        // Index first (pending), then KV, then confirm: a KV record the index does not
        // know could never be revoked, and a pending row that a reset leaves behind
        // counts toward nothing. Evictions are decided now but applied only once the
        // new session is published, so a failed create evicts nobody.
        self.index.remove_ghosts(Some(&record.session_id))?;
        self.purge_expired(cx).await?;
        // An impersonation session counts toward no limit, so it makes room for nothing.
        let evicted =
            if record.impersonation.is_some() { Vec::new() } else { config.policy.evict(&self.index.entries()?) };
        self.schedule_housekeeping(*now).await;

        if let Err(e) = store.put(hash, &record, config.policy.kv_ttl(&record, *now)).await {
            // Not published (or published despite the error): drop the row, which queues
            // its key, so nothing the index does not know can stay in KV.
            self.index.remove(&record.session_id)?;
            self.settle(cx).await;
            return Err(ApiError::internal("account: publish new session", e));
        }
        for session_id in &evicted {
            self.index.remember_revoked(session_id, *now)?;
            self.index.remove(session_id)?;
        }
        self.index.confirm(&record.session_id, &evicted)?;
        self.record_session(SessionEvent::Created, &record, *now);
        if record.impersonation.is_some() {
            self.record_session(SessionEvent::ImpersonationStarted, &record, *now);
        }
        for session_id in &evicted {
            self.record(SessionEvent::Evicted, &record.account_id, session_id, *now);
        }
        self.settle(cx).await;
        Ok(evicted)
    }

    /// Extends a session's idle deadline if the policy says it is due for this kind.
    pub(super) async fn touch(
        &self,
        cx: &CommandContext,
        session_id: &SessionId,
        hash: &TokenHash,
        kind: TouchKind,
    ) -> Result<TouchReply, ApiError> {
        let CommandContext { config, store, now, .. } = cx;
        let Some(row) = self.index.get(session_id)? else { return Ok(TouchReply::NotFound) };
        if row.token_hash != *hash {
            return Ok(TouchReply::NotFound);
        }
        self.seen_current_token(&row)?;
        let record = row.record()?;
        match config.policy.extend_for(kind, &record, *now) {
            Touch::NotDue => Ok(TouchReply::NotDue { record }),
            Touch::Expired(validity) => Ok(TouchReply::Expired { validity }),
            Touch::Extended(extended) => {
                // KV first, then the index: if the write fails, the index still holds
                // the old deadline, so the next touch is due again and retries it.
                // (The lock keeps a revoke from running in between.)
                store
                    .put(hash, &extended, config.policy.kv_ttl(&extended, *now))
                    .await
                    .map_err(|e| ApiError::internal("account: publish touch", e))?;
                self.index.update(&extended)?;
                self.record_session(SessionEvent::Refreshed(kind), &extended, *now);
                self.settle(cx).await;
                Ok(TouchReply::Extended { record: extended })
            }
        }
    }

    pub(super) async fn revoke(
        &self,
        cx: &CommandContext,
        session_id: &SessionId,
        reason: RevokeReason,
    ) -> Result<bool, ApiError> {
        let Some(row) = self.index.get(session_id)? else { return Ok(false) };
        self.index.remember_revoked(session_id, cx.now)?;
        self.index.remove(session_id)?;
        // An unreadable row is still revoked; it only goes unannounced.
        if let Ok(record) = row.record() {
            self.record_session(SessionEvent::Revoked(reason), &record, cx.now);
        }
        self.settle(cx).await;
        Ok(true)
    }

    /// Revokes the caller's own session if `caller.token_hash` is its current token;
    /// otherwise does nothing (the token was rotated away, or the session is gone). Only
    /// the hash is compared, so a row this build cannot decode is still revoked.
    pub(super) async fn revoke_own(
        &self,
        cx: &CommandContext,
        caller: &Caller,
        reason: RevokeReason,
    ) -> Result<bool, ApiError> {
        // A logout that named the account (`?account_id=`) for a token KV had not
        // propagated knows only the id its token derives, which a rotated session no
        // longer has: the token's hash finds it then. Either way, only the session whose
        // current token this is.
        let row = match self.index.get(&caller.session_id)? {
            Some(row) => Some(row),
            None => self.index.get_by_hash(&caller.token_hash)?,
        };
        let Some(row) = row.filter(|row| row.token_hash == caller.token_hash) else { return Ok(false) };
        self.revoke(cx, &row.session_id, reason).await
    }

    /// Ends the account's impersonation sessions: the one named, or every one (of one
    /// actor, when given). The user's own sessions are never touched. Returns the ids
    /// ended.
    pub(super) async fn end_impersonations(
        &self,
        cx: &CommandContext,
        only: Option<&SessionId>,
        actor: Option<&str>,
    ) -> Result<Vec<SessionId>, ApiError> {
        // Ended ones are housekeeping's, announced as expired, not ended by the admin.
        self.purge_expired(cx).await?;
        let rows = match only {
            Some(session_id) => self.index.get(session_id)?.into_iter().filter(|r| !r.is_pending()).collect(),
            None => self.index.all()?,
        };
        let mut ended = Vec::new();
        for row in rows {
            let Ok(record) = row.record() else { continue };
            let Some(imp) = &record.impersonation else { continue };
            if actor.is_some_and(|a| a != imp.actor) {
                continue;
            }
            self.index.remember_revoked(&row.session_id, cx.now)?;
            self.index.remove(&row.session_id)?;
            self.record_session(SessionEvent::Revoked(RevokeReason::AdminRevoke), &record, cx.now);
            ended.push(row.session_id);
        }
        self.settle(cx).await;
        Ok(ended)
    }

    /// Revokes every session of the account except `except`; returns how many. Records
    /// the time, which later creates are fenced against.
    pub(super) async fn revoke_all(
        &self,
        cx: &CommandContext,
        except: Option<&SessionId>,
        reason: RevokeReason,
    ) -> Result<u32, ApiError> {
        // Expired rows are housekeeping, not revocations: not counted, and announced as
        // expired, not revoked.
        self.purge_expired(cx).await?;
        self.index.remove_ghosts(None)?;
        self.index.set_revoked_all_at(cx.now_ms)?;
        // The session kept (the one that changed the password) may have been rotated a
        // moment ago: a token from before that must not retry its way back in.
        self.index.forget_previous_tokens(None)?;
        let mut revoked = 0;
        for row in self.index.all()? {
            if Some(&row.session_id) == except {
                continue;
            }
            self.index.remember_revoked(&row.session_id, cx.now)?;
            self.index.remove(&row.session_id)?;
            revoked += 1;
            if let Ok(record) = row.record() {
                self.record_session(SessionEvent::Revoked(reason), &record, cx.now);
            }
        }
        self.settle(cx).await;
        Ok(revoked)
    }

    /// The account's live sessions, newest first. Cut-off sessions are gone for every
    /// purpose, even before housekeeping removes their rows.
    pub(super) fn list(&self, cx: &CommandContext, limit: u32) -> Result<Vec<SessionRecord>, ApiError> {
        let records: Vec<SessionRecord> =
            self.index.live(limit, cx.now)?.iter().map(|row| row.record()).collect::<Result<_, _>>()?;
        // A session under a drift hold is still listed: the holder and the admin see it.
        let listed = Requirement::live().drift(DriftRule::Ignored);
        Ok(records.into_iter().filter(|r| check(&cx.config, r, &listed, cx.now).is_ok()).collect())
    }

    /// Strong validation: the index's own view of one session, if `hash` is its
    /// current token. The edge applies the session check to what this returns.
    pub(super) fn verify(&self, session_id: &SessionId, hash: &TokenHash) -> Result<VerifyReply, ApiError> {
        match self.index.get(session_id)? {
            Some(row) if row.token_hash == *hash => {
                self.seen_current_token(&row)?;
                Ok(VerifyReply { record: Some(row.record()?), revoked_at: None })
            }
            _ => Ok(VerifyReply { record: None, revoked_at: self.index.revoked_at(hash)? }),
        }
    }

    /// Replaces claims on one live session or all of them. Like a touch: KV first, then
    /// the index, so a failed write leaves the index as it was and the caller retries.
    pub(super) async fn update_claims(
        &self,
        cx: &CommandContext,
        only: Option<&SessionId>,
        claims: &SessionClaims,
    ) -> Result<Vec<SessionRecord>, ApiError> {
        let CommandContext { config, store, now, .. } = cx;
        let rows = match only {
            Some(session_id) => self.index.get(session_id)?.into_iter().filter(|r| !r.is_pending()).collect(),
            None => self.index.all()?,
        };
        let mut updated = Vec::new();
        for row in rows {
            let record = row.record()?;
            if check(config, &record, &Requirement::live().drift(DriftRule::Ignored), *now).is_err() {
                continue;
            }
            let changed = SessionRecord { claims: claims.clone(), ..record };
            store
                .put(&row.token_hash, &changed, config.policy.kv_ttl(&changed, *now))
                .await
                .map_err(|e| ApiError::internal("account: publish claims", e))?;
            self.index.update(&changed)?;
            self.record_session(SessionEvent::ClaimsUpdated, &changed, *now);
            updated.push(changed);
        }
        self.settle(cx).await;
        Ok(updated)
    }

    /// The holder moves their own session to a new token, presenting its current token,
    /// or the token the last rotation moved it away from while the retry window is open
    /// (that rotation's reply was lost: `core::rotation_retry`). Anything else, and a
    /// session that may not be used, is not found.
    pub(super) async fn rotate(
        &self,
        cx: &CommandContext,
        caller: &Caller,
        new_hash: &TokenHash,
    ) -> Result<RotateReply, ApiError> {
        let Some(row) = self.index.get(&caller.session_id)? else { return Ok(RotateReply::NotFound) };
        let window = cx.config.rotation_retry_secs;
        let old = if row.token_hash == caller.token_hash {
            if window > 0 {
                OldToken::Remember { at: cx.now }
            } else {
                OldToken::Forget
            }
        } else if row.previous_token().is_some_and(|p| p.admits(&caller.token_hash, window, cx.now)) {
            OldToken::KeepRemembered
        } else {
            return Ok(RotateReply::NotFound);
        };
        let Some(record) = self.rotatable(cx, &caller.session_id, DriftRule::HoldsOnly)? else {
            return Ok(RotateReply::NotFound);
        };
        // A bound session never rotates for its holder (nor retries one): its browser
        // renews its cookie with the device key, and a copied cookie must not get a new one.
        if record.device_binding.is_some() {
            return Ok(RotateReply::NotFound);
        }
        let (cause, marker) = match old {
            OldToken::KeepRemembered => (RotationCause::HolderRetry, None),
            OldToken::Remember { .. } => (RotationCause::Holder, Some(&caller.token_hash)),
            OldToken::Forget => (RotationCause::Holder, None),
        };
        self.move_to_token(cx, record, new_hash, cause, old, marker).await
    }

    /// The admin reports that the origin checked the user again: the session is renewed
    /// with the new facts (`core::policy::Policy::reauthenticate`) and moved to a new
    /// token, so a token captured before the step-up is worth nothing after it.
    pub(super) async fn reauthenticate(
        &self,
        cx: &CommandContext,
        session_id: &SessionId,
        new_hash: &TokenHash,
        facts: Reauthentication,
    ) -> Result<RotateReply, ApiError> {
        // A reauthentication is what lifts a drift hold, and it renews the baseline: the
        // next use by a client takes a new one.
        let Some(record) = self.rotatable(cx, session_id, DriftRule::Ignored)? else {
            return Ok(RotateReply::NotFound);
        };
        let renewed = cx.config.policy.reauthenticate(&record, facts.aal, facts.amr, cx.now);
        let renewed = SessionRecord { baseline: None, ..renewed };
        self.index.set_baseline(session_id, None)?;
        self.move_to_token(cx, renewed, new_hash, RotationCause::Reauthentication, OldToken::Forget, None).await
    }

    /// Binds the holder's own session to a device key and moves it to a new token, so a
    /// cookie jar copied before the binding holds a dead token (`core::device_binding`).
    pub(super) async fn bind_device(
        &self,
        cx: &CommandContext,
        caller: &Caller,
        new_hash: &TokenHash,
        binding: DeviceBinding,
        jwk: &str,
    ) -> Result<BindReply, ApiError> {
        let current = self.index.get(&caller.session_id)?.is_some_and(|row| row.token_hash == caller.token_hash);
        let Some(record) = self.rotatable(cx, &caller.session_id, DriftRule::HoldsOnly)?.filter(|_| current) else {
            return Ok(BindReply::NotFound);
        };
        if record.device_binding.is_some() {
            return Ok(BindReply::AlreadyBound);
        }
        let bound = SessionRecord { device_binding: Some(binding), ..record };
        self.index.set_device_key(&bound.session_id, jwk)?;
        self.record(SessionEvent::Bound, &bound.account_id, &bound.session_id, cx.now);
        match self.move_to_token(cx, bound, new_hash, RotationCause::DeviceBinding, OldToken::Forget, None).await? {
            RotateReply::Rotated { record } => Ok(BindReply::Bound { record }),
            RotateReply::NotFound => Ok(BindReply::NotFound),
        }
    }

    /// A bound session's refresh, asked once per bound cookie: the strong check that
    /// makes the cookie's lifetime the revocation bound of a bound session.
    pub(super) fn refresh_binding(
        &self,
        cx: &CommandContext,
        session_id: &SessionId,
        hash: &TokenHash,
        challenge_issued_ms: UnixMillis,
    ) -> Result<RefreshReply, ApiError> {
        let Some(row) = self.index.get(session_id)?.filter(|r| r.token_hash == *hash && !r.is_pending()) else {
            return Ok(RefreshReply::Ended);
        };
        let record = row.record()?;
        if record.device_binding.is_none() || check(&cx.config, &record, &Requirement::live(), cx.now).is_err() {
            return Ok(RefreshReply::Ended);
        }
        let Some(jwk) = self.index.device_key(session_id)? else { return Ok(RefreshReply::Ended) };
        if !self.index.accept_challenge(session_id, challenge_issued_ms)? {
            return Ok(RefreshReply::Replayed);
        }
        self.seen_current_token(&row)?;
        Ok(RefreshReply::Refreshable { record: Box::new(record), jwk })
    }

    /// The session, if it is indexed, confirmed and may still be used.
    fn rotatable(
        &self,
        cx: &CommandContext,
        session_id: &SessionId,
        drift: DriftRule,
    ) -> Result<Option<SessionRecord>, ApiError> {
        let Some(row) = self.index.get(session_id)? else { return Ok(None) };
        let record = row.record()?;
        if row.is_pending() || check(&cx.config, &record, &Requirement::live().drift(drift), cx.now).is_err() {
            return Ok(None);
        }
        Ok(Some(record))
    }

    /// Moves a live session to a new token. The index answers to the new hash only from
    /// the same synchronous step that queues the old key's deletion, so the old token is
    /// refused by the object at once, and a touch that raced it finds no match and
    /// writes nothing. Then the new record is published and the old key deleted; with
    /// `marker_for`, the rotation marker for that old token is written beside it.
    ///
    /// If the publish fails, the session is left with neither token working at the edge
    /// (the old one is queued for deletion, the new one never reached KV): it fails
    /// closed, and the caller gets a 500. A holder may then retry with the old token
    /// while the window is open; otherwise they log in again.
    async fn move_to_token(
        &self,
        cx: &CommandContext,
        record: SessionRecord,
        new_hash: &TokenHash,
        cause: RotationCause,
        old: OldToken,
        marker_for: Option<&TokenHash>,
    ) -> Result<RotateReply, ApiError> {
        self.index.remember_revoked(&record.session_id, cx.now)?;
        self.index.rekey(&record, new_hash, old)?;
        // The events commit with the rekey, in the same synchronous step.
        if matches!(cause, RotationCause::Reauthentication) {
            self.record_session(SessionEvent::Reauthenticated, &record, cx.now);
        }
        self.record_session(SessionEvent::Rotated(cause), &record, cx.now);
        self.schedule_housekeeping(cx.now).await;
        let publish = cx.store.put(new_hash, &record, cx.config.policy.kv_ttl(&record, cx.now));
        let (published, marked) = match marker_for {
            Some(old_hash) => {
                let marker =
                    RotatedAway { account_id: record.account_id.clone(), session_id: record.session_id.clone() };
                let ttl = RotatedAway::kv_ttl(cx.config.rotation_retry_secs);
                let (published, marked) = join(publish, cx.store.put_rotation_marker(old_hash, &marker, ttl)).await;
                (published, Some(marked))
            }
            None => (publish.await, None),
        };
        if let Some(Err(e)) = marked {
            // Fails closed: the old token simply cannot retry.
            log_error("warn", "account: rotation marker not written", &e);
        }
        self.settle(cx).await;
        published.map_err(|e| ApiError::internal("account: publish rotated session", e))?;
        Ok(RotateReply::Rotated { record: Box::new(record) })
    }

    /// A client's signals that the edge found different from the session's baseline, or
    /// the first use of a session with none: classifies the drift against the full
    /// baseline kept here, applies `DRIFT_POLICY`, and publishes what changed.
    ///
    /// - no drift (the first use, a browser update, nothing the request could show):
    ///   the observation becomes the baseline, laid over what it did not show;
    /// - `log`: the same, with a `session.anomaly` event;
    /// - `strong` or `step_up`: the old baseline stays, with a hold on the record until
    ///   the origin reauthenticates the session;
    /// - `revoke`: the session ends (reason `drift`).
    ///
    /// A session already held answers with its hold, and nothing is recorded again.
    pub(super) async fn observe(
        &self,
        cx: &CommandContext,
        session_id: &SessionId,
        hash: &TokenHash,
        observed: Baseline,
    ) -> Result<Option<DriftVerdict>, ApiError> {
        let CommandContext { config, store, now, .. } = cx;
        let Some(row) = self.index.get(session_id)? else { return Ok(None) };
        if row.token_hash != *hash || row.is_pending() {
            return Ok(None);
        }
        let record = row.record()?;
        check(config, &record, &Requirement::live().drift(DriftRule::Ignored), *now)?;
        match record.baseline.as_ref().and_then(|stamp| stamp.hold) {
            Some(DriftHold::StepUp) => return Ok(Some(DriftVerdict::StepUp)),
            Some(DriftHold::Strong) => return Ok(Some(DriftVerdict::Strong)),
            None => {}
        }
        let stored = row.baseline().unwrap_or_default();
        let classes = classify(&stored, &observed);
        // A DBSC-bound session lowers each class one step (`DriftAction::lowered`): its
        // cookie cannot travel without the device's key.
        let device_bound = record.device_binding.is_some();
        let action = config.drift_policy.decide(&classes, device_bound);
        let (verdict, hold) = match action {
            None | Some(DriftAction::Log) => (DriftVerdict::Accepted, None),
            Some(DriftAction::Strong) => (DriftVerdict::Strong, Some(DriftHold::Strong)),
            Some(DriftAction::StepUp) => (DriftVerdict::StepUp, Some(DriftHold::StepUp)),
            Some(DriftAction::Revoke) => (DriftVerdict::Revoked, None),
        };
        if let Some(action) = action {
            let anomaly = Anomaly::new(&stored, &observed, classes, action);
            self.record_with_data(SessionEvent::Anomaly(action), &record.account_id, session_id, *now, anomaly.data());
        }
        if verdict == DriftVerdict::Revoked {
            self.revoke(cx, session_id, RevokeReason::Drift).await?;
            return Ok(Some(verdict));
        }
        let renewed = hold.is_none().then(|| observed.over(&stored));
        let stamp = match &renewed {
            Some(baseline) => BaselineStamp::of(baseline, None),
            None => BaselineStamp { hold, ..BaselineStamp::of(&stored, None) },
        };
        if record.baseline.as_ref() != Some(&stamp) {
            let stamped = SessionRecord { baseline: Some(stamp), ..record };
            let published = store.put(hash, &stamped, config.policy.kv_ttl(&stamped, *now)).await;
            if let Err(e) = published {
                self.settle(cx).await;
                return Err(ApiError::internal("account: publish baseline", e));
            }
            self.index.update(&stamped)?;
        }
        if let Some(baseline) = &renewed {
            self.index.set_baseline(session_id, Some(baseline))?;
        }
        self.settle(cx).await;
        Ok(Some(verdict))
    }

    /// Account-scoped commands from a session holder run only while the caller's own
    /// session is live in the index under the token they presented: a revoked session
    /// cannot list or revoke others, even while KV still has its stale copy.
    pub(super) fn require_live_caller(&self, cx: &CommandContext, caller: Option<&Caller>) -> Result<(), ApiError> {
        let Some(caller) = caller else { return Ok(()) };
        let row =
            self.index.get(&caller.session_id)?.filter(|row| row.token_hash == caller.token_hash && !row.is_pending());
        let Some(row) = row else {
            return Err(ApiError::new(ErrorCode::SessionNotFound));
        };
        self.seen_current_token(&row)?;
        Ok(check(&cx.config, &row.record()?, &Requirement::live(), cx.now)?)
    }

    /// The holder has the token the last rotation gave out: nobody needs to retry that
    /// rotation any more, so the token before it may not (`core::rotation_retry`).
    fn seen_current_token(&self, row: &IndexRow) -> Result<(), ApiError> {
        if row.previous_token().is_some() {
            self.index.forget_previous_tokens(Some(&row.session_id))?;
        }
        Ok(())
    }
}
