// The fleet simulation: a seeded, concurrent workload against several locations of the
// built worker (tests/fleet/fleet.mjs) whose KV lags (tests/fleet/kv-model.mjs), with
// faults at the bindings (tests/fleet/faults.mjs), a model of what every answer should
// be, and the invariants of issue 24 checked on each answer. `simulate(options)`
// returns the report; scripts/simulate.mjs prints it.
//
// Time: the run is in real time, and everything configurable is given in simulated
// seconds and divided by `scale` (60 s of KV cache at scale 20 is 3 s). The worker's own
// times reach it only as configuration (its [vars] and a create's `idle_ttl_secs`).
// The seed fixes the workload (what is done, where, and when) and the fault plan;
// workerd's interleaving of concurrent requests is the one thing it cannot fix.

import { Webhook } from "standardwebhooks";
import { startFleet } from "./fleet.mjs";
import { KvModel } from "./kv-model.mjs";
import { FaultPlan, seededRandom } from "./faults.mjs";
import { ADMIN_KEY, kvKeyOf } from "../e2e/harness.mjs";
import { startEchoOrigin, startLoopbackServer } from "../e2e/support/origin.mjs";

const FINAL_EVENTS = new Set(["session.revoked", "session.evicted", "session.expired"]);
const WEBHOOK_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

export const DEFAULTS = {
  seed: 1,
  locations: 4,
  accounts: 4,
  /** real seconds of workload (the drain of events comes after) */
  seconds: 20,
  /** simulated seconds per real second */
  scale: 20,
  /** simulated seconds: KV's propagation delay and cache time */
  propagationSecs: 5,
  cacheSecs: 60,
  /** simulated seconds: the worker's settings (wrangler.toml's defaults) */
  idleSecs: 1800,
  touchSecs: 300,
  absoluteSecs: 2592000,
  /** simulated seconds: the idle window of the short-lived sessions (a create's idle_ttl_secs) */
  shortIdleSecs: 400,
  /** simulated seconds: FRESH_PATHS' max age */
  freshMaxAgeSecs: 600,
  maxSessions: 4,
  faults: true,
  cutoff: true,
  /** real milliseconds allowed for a request's own latency around every bound */
  slackMs: 500,
  concurrency: 10,
};

const percentile = (sorted, p) =>
  sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] : null;

export async function simulate(input = {}) {
  const o = { ...DEFAULTS, ...input };
  const random = seededRandom(o.seed);
  const faultRandom = seededRandom(o.seed ^ 0x9e3779b9);
  const real = (simSecs) => (simSecs * 1000) / o.scale; // simulated seconds -> real ms
  const workerSecs = (simSecs) => Math.max(1, Math.round(simSecs / o.scale));
  const boundMs = real(o.propagationSecs + o.cacheSecs);
  const idleMs = workerSecs(o.idleSecs) * 1000;
  const touchMs = workerSecs(o.touchSecs) * 1000;
  const shortIdle = workerSecs(o.shortIdleSecs);
  const freshMaxAgeMs = workerSecs(o.freshMaxAgeSecs) * 1000;
  const startedAt = Date.now();

  const faults = new FaultPlan({
    random: faultRandom,
    enabled: o.faults,
    kvFailRate: 0.02,
    kvHangRate: 0.02,
    kvHangMs: real(30),
    replyLossRate: 0.02,
    queueOutages: [], // set once the cut-off is done (below)
    startedAt,
  });
  const kv = new KvModel({ propagationMs: real(o.propagationSecs), cacheMs: real(o.cacheSecs), faults });

  // The webhook receiver, verifying with `standardwebhooks`.
  const verifier = new Webhook(WEBHOOK_SECRET);
  const delivered = new Map(); // id -> event
  let deliveries = 0;
  let unverified = 0;
  const receiver = await startLoopbackServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      deliveries++;
      try {
        const event = verifier.verify(body, req.headers);
        delivered.set(event.id, event);
        res.writeHead(204).end();
      } catch {
        unverified++;
        res.writeHead(400).end();
      }
    });
  });
  const origin = await startEchoOrigin();

  const vars = {
    IDLE_TTL_SECS: String(workerSecs(o.idleSecs)),
    TOUCH_INTERVAL_SECS: String(workerSecs(o.touchSecs)),
    ABSOLUTE_TTL_SECS: String(workerSecs(o.absoluteSecs)),
    MAX_SESSIONS_PER_ACCOUNT: String(o.maxSessions),
    ORIGIN_URL: origin.url,
    STRONG_PATHS: "/strong/*",
    FRESH_PATHS: `/fresh/*=${freshMaxAgeMs / 1000}`,
    WEBHOOK_URL: `${receiver.url}/hooks`,
    WEBHOOK_SECRET,
    WEBHOOK_RETRY_DELAY_SECS: "1",
    WEBHOOK_TIMEOUT_MS: "5000",
  };
  const fleet = await startFleet({
    locations: o.locations,
    vars,
    handle: async (body) => {
      if (body.op !== "fault") return kv.handle(body);
      if (body.kind === "do_reply") return { lose: faults.loseReply(body.command) };
      return { fail: faults.queueSendFails() };
    },
  });

  // ---- the model ----
  const tokens = new Map(); // token -> T
  const sessions = new Map(); // sid -> S
  // `pending`: changes of the account under way (creates, which may evict, revokes,
  // rotations), whose effect the model learns only from their answer.
  const accounts = Array.from({ length: o.accounts }, (_, i) => ({
    id: `acct-${o.seed}-${i}`,
    windows: [],
    pending: 0,
  }));
  // Accounts whose sessions are only used (never revoked but by the cut-off): invariant 5's subjects.
  const steadyAccounts = Array.from({ length: 2 }, (_, i) => ({
    id: `steady-${o.seed}-${i}`,
    windows: [],
    steady: true,
  }));
  const expectedEvents = []; // { sid, type }
  const invariants = Object.fromEntries(
    [
      "1 strong check refuses after acknowledged revocation",
      "2 eventual check refuses within the bound",
      "3 no resurrection",
      "4 index within the limit",
      "5 steady use never refused",
      "6 events at least once, in order per session",
      "7 claims reach every location within the bound",
    ].map((name) => [name, { checks: 0, violations: 0 }]),
  );
  const violations = [];
  const inv = (n) => invariants[Object.keys(invariants).find((k) => k.startsWith(`${n} `))];
  const violate = (n, detail) => {
    inv(n).violations++;
    if (violations.length < 50) violations.push({ invariant: n, ...detail, at_ms: Date.now() - startedAt });
  };
  const lags = []; // { kind, klass, location, ms }
  const lagCells = new Map(); // token|loc|class -> { kind, klass, location, lastAccept, revokedAt }
  const claimsLags = [];
  const counts = { requests: 0, byStatus: {}, uncertain: 0, lostReplies: 0, created: 0 };
  const beyondBoundUnderFaults = [];
  let paused = false;
  let inFlight = 0;
  const done = () => Date.now() - startedAt >= o.seconds * 1000;

  const newToken = async (token, sid, account, { issuedAt, idle, created }) => {
    const T = {
      token,
      key: await kvKeyOf(token),
      sid,
      account,
      issuedAt,
      idleMs: idle ? idle * 1000 : idleMs,
      touchMs: idle ? (idle * 1000) / 2 : touchMs,
      status: "live",
      uses: [],
      refusedPastBound: new Set(),
      authenticatedAt: created,
    };
    tokens.set(token, T);
    return T;
  };

  const markRevoked = (T, kind, ackAt, requestStart) => {
    if (T.status !== "live") return;
    if (T.issuedAt >= requestStart) {
      T.status = "uncertain"; // issued while the revocation was under way: either order is right
      counts.uncertain++;
      return;
    }
    T.status = "revoked";
    T.kind = kind;
    T.revokedAt = ackAt;
    T.kvFaulted = () => kv.faultedKeys.has(T.key);
    scheduleProbes(T);
  };
  const markUncertain = (T) => {
    if (T && T.status === "live") {
      T.status = "uncertain";
      counts.uncertain++;
    }
  };
  const currentToken = (sid) => sessions.get(sid)?.token && tokens.get(sessions.get(sid).token);

  // ---- requests ----
  const classify = (res, body) => {
    if (res.status >= 200 && res.status < 300) return "accept";
    if (res.status === 401 || (res.status === 404 && body?.error === "session_not_found")) return "refuse";
    if (res.status === 403 && body?.error === "reauthentication_required") return "stale_login";
    return "other";
  };

  async function call(loc, path, init = {}) {
    const start = Date.now();
    counts.requests++;
    let res;
    try {
      res = await fleet.fetch(loc, path, init);
    } catch (e) {
      counts.byStatus.throw = (counts.byStatus.throw ?? 0) + 1;
      return { start, end: Date.now(), status: 0, body: { error: String(e) } };
    }
    const text = await res.text();
    let body = null;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      body = { raw: text };
    }
    counts.byStatus[res.status] = (counts.byStatus[res.status] ?? 0) + 1;
    return { start, end: Date.now(), status: res.status, body, headers: res.headers };
  }
  const bearer = (token) => ({ Authorization: `Bearer ${token}` });
  const admin = { Authorization: `Bearer ${ADMIN_KEY}`, "Content-Type": "application/json" };

  // A check of a token on one route class, judged against the model.
  const ROUTES = {
    eventual: { path: "/v1/session", strong: false },
    strong: { path: "/v1/session?consistency=strong", strong: true },
    gated: { path: "/app/page", strong: false },
    fresh: { path: "/fresh/page", strong: false },
    gated_strong: { path: "/strong/page", strong: true },
    gated_write: { path: "/app/form", method: "POST", strong: true },
    refresh: { path: "/v1/session/refresh", method: "POST", strong: true },
  };
  async function check(T, loc, klass) {
    const route = ROUTES[klass];
    const r = await call(loc, route.path, { method: route.method ?? "GET", headers: bearer(T.token) });
    const outcome = classify(r, r.body);
    judge(T, loc, klass, route.strong, r, outcome);
    return { r, outcome };
  }

  function judge(T, loc, klass, strong, r, outcome) {
    const accepted = outcome === "accept";
    if (accepted) {
      const sid =
        klass.startsWith("gated") || klass === "fresh" ? r.body?.headers?.["x-session-id"] : r.body?.session_id;
      if (sid !== T.sid)
        violate(5, { what: "accepted answer names another session", klass, expected: T.sid, got: sid });
    }
    if (T.status === "revoked") {
      const after = r.start - T.revokedAt;
      if (strong && after > 0) {
        inv(1).checks++;
        if (accepted) violate(1, { kind: T.kind, klass, location: loc, after_ms: after, sid: T.sid });
      }
      if (!strong && after > 0) {
        inv(2).checks++;
        if (accepted && after > boundMs + o.slackMs) {
          if (T.kvFaulted()) beyondBoundUnderFaults.push({ kind: T.kind, klass, ms: after });
          else violate(2, { kind: T.kind, klass, location: loc, after_ms: after, bound_ms: boundMs, sid: T.sid });
        }
      }
      if (T.refusedPastBound.size === o.locations) {
        inv(3).checks++;
        if (accepted) violate(3, { kind: T.kind, klass, location: loc, after_ms: after, sid: T.sid });
      }
      if (!accepted && outcome !== "other" && after > boundMs + o.slackMs) T.refusedPastBound.add(loc);
      // the lag: the last acceptance after the acknowledgement, per token, location and class
      const cellKey = `${T.token}|${loc}|${klass}`;
      let cell = lagCells.get(cellKey);
      if (!cell && after > 0)
        lagCells.set(cellKey, (cell = { kind: T.kind, klass, location: loc, lag: 0, faulted: T.kvFaulted }));
      if (cell && accepted) cell.lag = Math.max(cell.lag, after);
      return;
    }
    if (T.status !== "live") return;
    if (steadyWindow(T, r.start)) inv(5).checks++;
    if (accepted) {
      T.uses.push(r.start);
      if (T.claimsVersion && r.body?.claims && klass === "eventual") {
        const seen = r.body.claims.v ?? 0;
        if (r.start > T.claimsAckAt) {
          inv(7).checks++;
          if (seen < T.claimsVersion) {
            const after = r.start - T.claimsAckAt;
            claimsLags.push(after);
            if (after > boundMs + o.slackMs && !kv.faultedKeys.has(T.key))
              violate(7, { klass, location: loc, after_ms: after, sid: T.sid });
          }
        }
      }
      return;
    }
    if (outcome === "other") return;
    // A refusal of a session the model holds live: allowed only before its token is known
    // everywhere, or once the idle window may have passed.
    const age = r.start - T.issuedAt;
    if (age <= boundMs + o.slackMs) return;
    if (outcome === "stale_login") {
      if (r.start - T.authenticatedAt < freshMaxAgeMs - o.slackMs)
        violate(5, { what: "fresh login refused", klass, location: loc, sid: T.sid });
      return;
    }
    if (!steadyWindow(T, r.start)) return;
    violate(5, { klass, location: loc, status: r.status, error: r.body?.error, sid: T.sid, age_ms: age });
  }

  // A live token in steady use: known everywhere (older than the bound), and used
  // recently enough, by a use every location had time to learn of, that no copy can be
  // past its idle deadline (the README's rule: idle - touch interval >= KV's lag).
  function steadyWindow(T, at) {
    if (at - T.issuedAt <= boundMs + o.slackMs || kv.faultedKeys.has(T.key)) return false;
    if (accountOf(T.account).pending > 0) return false; // a change under way may have ended it
    const horizon = at - boundMs - o.slackMs;
    let lastUse = T.issuedAt;
    for (const u of T.uses) if (u <= horizon && u > lastUse) lastUse = u;
    return at <= lastUse + T.idleMs - T.touchMs - o.slackMs;
  }

  // ---- probes: a revoked token is asked at every location, on every class ----
  const PROBE_CLASSES = Object.keys(ROUTES);
  function scheduleProbes(T) {
    let n = 0;
    const probe = async () => {
      if (done()) return;
      if (!paused) {
        const loc = n % o.locations;
        const klass = PROBE_CLASSES[Math.floor(n / o.locations) % PROBE_CLASSES.length];
        n++;
        inFlight++;
        try {
          await check(T, loc, klass);
        } finally {
          inFlight--;
        }
      }
      const since = Date.now() - T.revokedAt;
      const wait = since < boundMs + 1500 ? random.between(40, 160) : random.between(1500, 4000);
      setTimeout(probe, wait);
    };
    setTimeout(probe, random.between(0, 60));
  }

  // ---- steady users ----
  function steadyUse(sid) {
    const use = async () => {
      const T = currentToken(sid);
      if (done() || !T || T.status !== "live") return;
      if (!paused) {
        const klass = random.pick(["eventual", "eventual", "eventual", "gated", "gated", "strong", "fresh", "refresh"]);
        inFlight++;
        try {
          await check(T, random.int(o.locations), klass);
        } finally {
          inFlight--;
        }
      }
      setTimeout(use, random.between(200, 900));
    };
    setTimeout(use, random.between(0, 300));
  }

  // ---- operations ----
  const steadyIds = new Set(steadyAccounts.map((a) => a.id));
  const liveTokens = (account) =>
    [...tokens.values()].filter(
      (T) => T.status === "live" && (account ? T.account === account : !steadyIds.has(T.account)),
    );
  const anyToken = () => random.pick([...tokens.values()]);
  const accountOf = (id) => [...accounts, ...steadyAccounts].find((a) => a.id === id);

  async function changing(accountId, f) {
    const account = accountOf(accountId);
    account.pending++;
    try {
      return await f();
    } finally {
      account.pending--;
    }
  }

  const create = (account, loc) => changing(account.id, () => createNow(account, loc));
  async function createNow(account, loc) {
    const short = random.chance(account.steady ? 0.5 : 0.3);
    const body = { label: `s${counts.created}`, ...(short ? { idle_ttl_secs: shortIdle } : {}) };
    const r = await call(loc, `/v1/admin/accounts/${account.id}/sessions`, {
      method: "POST",
      headers: admin,
      body: JSON.stringify(body),
    });
    if (r.status !== 201) {
      if (r.status >= 500) {
        // The create may have run, and evicted sessions the model never hears of.
        counts.lostReplies++;
        liveTokens(account.id).forEach(markUncertain);
      }
      return;
    }
    counts.created++;
    const sid = r.body.session_id;
    sessions.set(sid, { account: account.id, token: r.body.token });
    expectedEvents.push({ sid, type: "session.created", at: r.end - startedAt });
    const T = await newToken(r.body.token, sid, account.id, {
      issuedAt: r.end,
      idle: short ? shortIdle : null,
      created: r.start,
    });
    // created while a revoke-all of the account was under way: either order is right
    if (account.windows.some((w) => w.start < r.end && (w.end === null || w.end > r.start))) markUncertain(T);
    for (const evicted of r.body.evicted) {
      expectedEvents.push({ sid: evicted, type: "session.evicted", at: r.end - startedAt });
      const E = currentToken(evicted);
      if (E) markRevoked(E, "eviction", r.end, r.start);
    }
    if (account.steady || random.chance(0.2)) steadyUse(sid);
  }

  async function burst() {
    const account = random.pick(accounts);
    const n = 2 + random.int(4);
    await Promise.all(Array.from({ length: n }, (_, i) => create(account, i % o.locations)));
    await checkLimit(account);
  }

  async function checkLimit(account) {
    const start = Date.now();
    const r = await call(random.int(o.locations), `/v1/admin/accounts/${account.id}/sessions?limit=1000`, {
      headers: admin,
    });
    if (r.status !== 200) return;
    inv(4).checks++;
    if (r.body.sessions.length > o.maxSessions)
      violate(4, { account: account.id, live: r.body.sessions.length, limit: o.maxSessions });
    for (const s of r.body.sessions) {
      const T = currentToken(s.session_id);
      if (T && T.status === "revoked" && T.revokedAt < start && T.kind !== "rotation" && T.kind !== "reauthentication")
        violate(4, { what: "index lists a revoked session", sid: s.session_id, kind: T.kind });
    }
  }

  // Revokes and their acknowledgement.
  const revokeOne = (T, loc, byAdmin) => changing(T.account, () => revokeOneNow(T, loc, byAdmin));
  async function revokeOneNow(T, loc, byAdmin) {
    const path = byAdmin ? `/v1/admin/accounts/${T.account}/sessions/${T.sid}` : `/v1/sessions/${T.sid}`;
    const caller = byAdmin ? null : (random.pick(liveTokens(T.account)) ?? T);
    // The session is revoked whatever its token by then: a rotation under way may have
    // moved it, and a rotation overlapping this window may come out either side of it.
    const session = sessions.get(T.sid);
    const window = { start: Date.now(), end: null };
    (session.windows ??= []).push(window);
    const r = await call(loc, path, { method: "DELETE", headers: byAdmin ? admin : bearer(caller.token) });
    window.end = Date.now();
    if (r.status === 204) {
      expectedEvents.push({ sid: T.sid, type: "final", at: r.end - startedAt });
      markRevoked(T, "revoke_one", r.end, r.start);
      const current = currentToken(T.sid);
      if (current && current !== T) markRevoked(current, "revoke_one", r.end, r.start);
    } else if (r.status >= 500) {
      markUncertain(T);
      markUncertain(currentToken(T.sid));
      counts.lostReplies++;
    } else if (
      !byAdmin &&
      caller.status === "live" &&
      r.status === 401 &&
      r.start - caller.issuedAt > boundMs + o.slackMs
    ) {
      // the caller's own session refused: judged like any other check
      judge(caller, loc, "account", true, r, "refuse");
    }
  }

  const logout = (T, loc) => changing(T.account, () => logoutNow(T, loc));
  async function logoutNow(T, loc) {
    // With the account named (as the JS client does once it knows it), a location whose
    // KV does not have the token yet still reaches the account's object.
    const r = await call(loc, `/v1/session?account_id=${T.account}`, { method: "DELETE", headers: bearer(T.token) });
    if (r.status === 204 && T.status === "live") {
      expectedEvents.push({ sid: T.sid, type: "final", maybe: true });
      markRevoked(T, "revoke_one", r.end, r.start);
    } else if (r.status >= 500) markUncertain(T);
  }

  const revokeAll = (account, loc, how) => changing(account.id, () => revokeAllNow(account, loc, how));
  async function revokeAllNow(account, loc, { byAdmin, keep }) {
    const window = { start: Date.now(), end: null };
    account.windows.push(window);
    let r;
    if (byAdmin) {
      const q = keep ? `?except=${keep.sid}` : "";
      r = await call(loc, `/v1/admin/accounts/${account.id}/sessions${q}`, { method: "DELETE", headers: admin });
    } else {
      const q = keep ? "?scope=others" : "";
      r = await call(loc, `/v1/sessions${q}`, {
        method: "DELETE",
        headers: bearer(keep?.token ?? random.pick(liveTokens(account.id))?.token ?? "est_x"),
      });
    }
    window.end = Date.now();
    const affected = liveTokens(account.id).filter((T) => T !== keep);
    if (r.status === 200) {
      for (const T of affected) {
        expectedEvents.push({ sid: T.sid, type: "final", maybe: T.issuedAt >= r.start });
        markRevoked(T, keep ? "revoke_others" : "revoke_all", r.end, r.start);
      }
    } else if (r.status >= 500) {
      affected.forEach(markUncertain);
      counts.lostReplies++;
    }
  }

  const rotate = (T, loc, byAdmin) => changing(T.account, () => rotateNow(T, loc, byAdmin));
  async function rotateNow(T, loc, byAdmin) {
    const r = byAdmin
      ? await call(loc, `/v1/admin/accounts/${T.account}/sessions/${T.sid}/reauthenticate`, {
          method: "POST",
          headers: admin,
          body: JSON.stringify({ aal: 2, amr: ["pwd", "otp"] }),
        })
      : await call(loc, "/v1/session/rotate", { method: "POST", headers: bearer(T.token) });
    if (r.status === 200 && r.body?.token) {
      const kind = byAdmin ? "reauthentication" : "rotation";
      if (T.status === "revoked" && r.start > T.revokedAt)
        violate(1, { what: `${kind} of a revoked session`, sid: T.sid });
      expectedEvents.push({ sid: T.sid, type: "session.rotated" });
      if (byAdmin) expectedEvents.push({ sid: T.sid, type: "session.reauthenticated" });
      const wasLive = T.status === "live";
      markRevoked(T, kind, r.end, r.start);
      const N = await newToken(r.body.token, T.sid, T.account, {
        issuedAt: r.end,
        idle: T.idleMs === idleMs ? null : T.idleMs / 1000,
        created: byAdmin ? r.start : T.authenticatedAt,
      });
      N.claimsVersion = T.claimsVersion;
      N.claimsAckAt = T.claimsAckAt;
      sessions.get(T.sid).token = N.token;
      const account = accountOf(T.account);
      const overlaps = (w) => w.start < r.end && (w.end === null || w.end > r.start);
      if (!wasLive || account.windows.some(overlaps) || (sessions.get(T.sid).windows ?? []).some(overlaps))
        markUncertain(N);
    } else if (r.status >= 500) {
      markUncertain(T);
      counts.lostReplies++;
    } else if (!byAdmin) {
      judge(T, loc, "refresh", true, r, classify(r, r.body));
    }
  }

  async function updateClaims(T, loc) {
    const version = (T.claimsVersion ?? 0) + 1;
    const r = await call(loc, `/v1/admin/accounts/${T.account}/sessions/${T.sid}`, {
      method: "PATCH",
      headers: admin,
      body: JSON.stringify({ claims: { v: version } }),
    });
    if (r.status === 200 && T.status === "live" && currentToken(T.sid) === T) {
      T.claimsVersion = version;
      T.claimsAckAt = r.end;
      // every location is asked until the bound has passed
      for (let i = 0; i < 12; i++)
        setTimeout(
          () => {
            if (done() || paused || T.status !== "live") return;
            inFlight++;
            check(T, i % o.locations, "eventual").finally(() => inFlight--);
          },
          (i * (boundMs + 1000)) / 12,
        );
    }
  }

  async function cutoff() {
    paused = true;
    while (inFlight > 0) await new Promise((r) => setTimeout(r, 20));
    // Let the queue drain first: a redeploy restarts the runtime.
    await waitForEvents(3000);
    const cutoffSecs = Math.floor(Date.now() / 1000) + 1;
    const start = Date.now();
    await fleet.redeploy({ SESSIONS_NOT_BEFORE: String(cutoffSecs) });
    while (Date.now() < cutoffSecs * 1000 + 1000) await new Promise((r) => setTimeout(r, 50));
    const end = Date.now();
    for (const T of tokens.values()) markRevoked(T, "cutoff", end, start);
    paused = false;
    return end - start;
  }

  const OPS = [
    [14, async () => create(random.pick(accounts), random.int(o.locations))],
    [3, burst],
    [
      20,
      async () => {
        const T = anyToken();
        if (T) await check(T, random.int(o.locations), "eventual");
      },
    ],
    [
      8,
      async () => {
        const T = anyToken();
        if (T) await check(T, random.int(o.locations), random.pick(["strong", "gated_strong", "gated_write"]));
      },
    ],
    [
      8,
      async () => {
        const T = anyToken();
        if (T) await check(T, random.int(o.locations), random.pick(["gated", "fresh"]));
      },
    ],
    [
      4,
      async () => {
        const T = random.pick(liveTokens());
        if (T) await check(T, random.int(o.locations), "refresh");
      },
    ],
    [5, async () => withLive((T) => rotate(T, random.int(o.locations), false))],
    [3, async () => withLive((T) => rotate(T, random.int(o.locations), true))],
    [3, async () => withLive((T) => updateClaims(T, random.int(o.locations)))],
    [3, async () => withLive((T) => logout(T, random.int(o.locations)))],
    [3, async () => withLive((T) => revokeOne(T, random.int(o.locations), false))],
    [3, async () => withLive((T) => revokeOne(T, random.int(o.locations), true))],
    [
      2,
      async () =>
        withLive((T) =>
          revokeAll(accountOf(T.account), random.int(o.locations), { byAdmin: random.chance(0.5), keep: T }),
        ),
    ],
    [
      1,
      async () =>
        withLive((T) => revokeAll(accountOf(T.account), random.int(o.locations), { byAdmin: random.chance(0.5) })),
    ],
    [4, async () => checkLimit(random.pick(accounts))],
  ];
  const totalWeight = OPS.reduce((s, [w]) => s + w, 0);
  const pickOp = () => {
    let x = random.next() * totalWeight;
    for (const [w, op] of OPS) if ((x -= w) < 0) return op;
    return OPS[0][1];
  };
  async function withLive(f) {
    const T = random.pick(liveTokens());
    if (T) await f(T);
  }

  async function waitForEvents(maxMs) {
    const deadline = Date.now() + maxMs;
    // "final": revoked, unless something else ended the session first (a concurrent
    // create's eviction, its expiry).
    const missing = () => {
      const seen = new Set(
        [...delivered.values()].flatMap((e) => [
          `${e.session_id}|${e.type}`,
          ...(FINAL_EVENTS.has(e.type) ? [`${e.session_id}|final`] : []),
        ]),
      );
      return expectedEvents.filter((e) => !e.maybe && !seen.has(`${e.sid}|${e.type}`));
    };
    while (Date.now() < deadline && missing().length) await new Promise((r) => setTimeout(r, 250));
    return missing();
  }

  // ---- the run ----
  let cutoffMs = null;
  const ops = [];
  try {
    // everyone's first create, so the other operations have something to act on
    const everyone = () =>
      Promise.all([...accounts, ...steadyAccounts, ...steadyAccounts].map((a, i) => create(a, i % o.locations)));
    await everyone();
    let cutoffDone = !o.cutoff;
    // Queue sends fail for 60 simulated seconds, after the cut-off's redeploy: a Miniflare
    // restart does not keep what is queued or waiting for its alarm, which a real deploy does.
    const queueOutage = () => {
      const from = Date.now() - startedAt + 500;
      faults.queueOutages.push([from, from + real(60)]);
    };
    if (!o.cutoff) queueOutage();
    while (!done()) {
      if (!cutoffDone && Date.now() - startedAt > o.seconds * 1000 * 0.5) {
        cutoffDone = true;
        cutoffMs = await cutoff();
        await everyone();
        queueOutage();
      }
      await new Promise((r) => setTimeout(r, random.between(5, 40)));
      if (inFlight >= o.concurrency || paused) continue;
      const op = pickOp();
      inFlight++;
      ops.push(
        op()
          .catch((e) => violations.push({ invariant: "harness", error: String(e.stack ?? e) }))
          .finally(() => inFlight--),
      );
    }
    await Promise.all(ops);
    while (inFlight > 0) await new Promise((r) => setTimeout(r, 20));
    for (const a of [...accounts, ...steadyAccounts]) await checkLimit(a);

    // Invariant 6: every expected event at least once; per session, nothing after its final event.
    const missing = await waitForEvents(45000);
    inv(6).checks += expectedEvents.filter((e) => !e.maybe).length;
    for (const m of missing) violate(6, { what: "event not delivered", ...m });
    const bySession = new Map();
    for (const e of delivered.values()) {
      if (!bySession.has(e.session_id)) bySession.set(e.session_id, []);
      bySession.get(e.session_id).push(e);
    }
    const FINAL = FINAL_EVENTS;
    for (const [sid, events] of bySession) {
      inv(6).checks++;
      const finals = events.filter((e) => FINAL.has(e.type)).map((e) => Date.parse(e.occurred_at));
      const created = events.filter((e) => e.type === "session.created").map((e) => Date.parse(e.occurred_at));
      const end = finals.length ? Math.min(...finals) : Infinity;
      const late = events.filter((e) => !FINAL.has(e.type) && Date.parse(e.occurred_at) > end);
      const early = events.filter((e) => created.length && Date.parse(e.occurred_at) < Math.min(...created));
      if (late.length || early.length)
        violate(6, {
          what: "out of order",
          sid,
          events: events.map((e) => `${e.type}:${e.reason}@${e.occurred_at}`),
        });
    }
    // What the object said about each session a violation names.
    for (const v of violations)
      if (v.sid)
        v.events = [...delivered.values()]
          .filter((e) => e.session_id === v.sid)
          .map((e) => `${e.type}:${e.reason}@${e.occurred_at}`);
  } finally {
    await fleet.dispose();
    await receiver.close();
    await origin.close();
  }

  // ---- figures ----
  const lagTable = {};
  for (const cell of lagCells.values()) {
    if (cell.faulted()) continue;
    const row = (lagTable[cell.kind] ??= {});
    const cls =
      cell.klass === "gated_strong" || cell.klass === "gated_write" || cell.klass === "refresh" ? "strong" : cell.klass;
    const bucket = cls === "gated" ? "eventual" : cls;
    (row[bucket] ??= []).push((cell.lag * o.scale) / 1000);
  }
  const summarise = (values) => {
    const sorted = [...values].sort((a, b) => a - b);
    return { n: sorted.length, p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted.at(-1) ?? null };
  };
  const lagsOut = Object.fromEntries(
    Object.entries(lagTable).map(([kind, row]) => [
      kind,
      Object.fromEntries(Object.entries(row).map(([k, v]) => [k, summarise(v)])),
    ]),
  );
  return {
    seed: o.seed,
    options: o,
    bound_secs: o.propagationSecs + o.cacheSecs,
    invariants,
    violations,
    lags_secs: lagsOut,
    lags_raw: lagTable,
    claims_raw: claimsLags.map((ms) => (ms * o.scale) / 1000),
    claims_lag_secs: summarise(claimsLags.map((ms) => (ms * o.scale) / 1000)),
    beyond_bound_under_kv_faults: beyondBoundUnderFaults.length,
    faults_injected: faults.injected,
    kv_calls: kv.calls,
    requests: counts.requests,
    statuses: counts.byStatus,
    sessions_created: counts.created,
    uncertain_tokens: counts.uncertain,
    events: { expected: expectedEvents.length, delivered: delivered.size, deliveries, unverified },
    cutoff_redeploy_ms: cutoffMs,
    real_seconds: (Date.now() - startedAt) / 1000,
    ok: violations.length === 0,
  };
}
