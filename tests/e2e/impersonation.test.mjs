// Impersonation end to end in workerd (docs/impersonation.md): an admin opens a session
// for support to act as a user; the gatekeeper, in front of a loopback echo origin,
// refuses what it may not do before the origin sees anything, and tells the origin who
// is acting (X-Session-Actor, and `act` in an assertion the origin SDK verifies with
// jose). The user sees it in their listing and can end it; the admin can list and end
// them by account and by actor; the events are verified with `standardwebhooks`.

import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { exportJWK, generateKeyPair } from "jose";
import { Webhook } from "standardwebhooks";
import { createAdminClient, createAssertionVerifier } from "../../origin/index.js";
import { createSessionClient } from "../../client/index.js";
import { startWorker, kvKeyOf, sleep, ADMIN_KEY } from "./harness.mjs";
import { startEchoOrigin, startLoopbackServer } from "./support/origin.mjs";
import { webhookProblems } from "./support/openapi-conformance.mjs";
import { admin, adminJson, bearer, json } from "./support/requests.mjs";
import { until } from "./support/until.mjs";

const ISSUER = "https://sessions.example";
const SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const ACTOR = "support@example.com";
const HTML = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8";

/** A loopback receiver that keeps the events `standardwebhooks` verifies, and checks each against openapi.json. */
async function startReceiver() {
  const verifier = new Webhook(SECRET);
  const accepted = [];
  const mismatches = [];
  const server = await startLoopbackServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      let event = null;
      try {
        event = verifier.verify(body, req.headers);
      } catch {
        // refused below
      }
      for (const problem of webhookProblems(req.headers, body)) mismatches.push(`${body}: ${problem}`);
      if (event) accepted.push(event);
      res.writeHead(event ? 204 : 400).end();
    });
  });
  return {
    url: `${server.url}/hooks`,
    accepted,
    close: async () => {
      await server.close();
      assert.deepEqual(mismatches, [], "webhooks that break openapi.json");
    },
  };
}

describe("impersonation", () => {
  let origin, worker, receiver, verifier;
  before(async () => {
    origin = await startEchoOrigin();
    receiver = await startReceiver();
    const { privateKey } = await generateKeyPair("EdDSA", { extractable: true, crv: "Ed25519" });
    worker = await startWorker({
      vars: {
        ORIGIN_URL: origin.url,
        LOGIN_URL: "https://site.example/login",
        ISSUER,
        SIGNING_KEY: JSON.stringify(await exportJWK(privateKey)),
        ASSERTION_AUDIENCES: "https://api.example.com",
        IMPERSONATION_DENY_PATHS: "/settings/*,/billing/*",
        MAX_SESSIONS_PER_ACCOUNT: "2",
        WEBHOOK_URL: receiver.url,
        WEBHOOK_SECRET: SECRET,
      },
    });
    verifier = createAssertionVerifier({
      jwksUrl: new URL("/v1/jwks.json", worker.url),
      issuer: ISSUER,
      audience: origin.url,
    });
  });
  after(async () => {
    await worker?.dispose();
    await origin?.close();
    await receiver?.close();
  });

  /** POST …/impersonations; the raw response. */
  const open = (account, body) =>
    worker.fetch(`/v1/admin/accounts/${account}/impersonations`, {
      method: "POST",
      headers: adminJson,
      body: JSON.stringify(body),
    });
  /** Opens one and returns the 201 body. */
  const impersonate = async (account, { actor = ACTOR, reason = "ticket 4521", ttl_secs = 600 } = {}) =>
    json(await open(account, { actor, reason, ttl_secs }), 201);

  test("an admin opens one: the token once, act, a cap of creation + ttl, no cookie, and KV knows the actor", async () => {
    const s = await impersonate("imp-open", { ttl_secs: 900 });
    assert.match(s.token, /^est_/);
    assert.deepEqual(s.act, { sub: ACTOR });
    assert.equal((Date.parse(s.absolute_expires_at) - Date.parse(s.created_at)) / 1000, 900);
    const res = await open("imp-open", { actor: ACTOR, reason: "x", ttl_secs: 60 });
    assert.equal(res.headers.get("set-cookie"), null, "the token is for the support tool, not a browser profile");
    await res.body.cancel();
    const key = await kvKeyOf(s.token);
    const record = JSON.parse(await worker.kv.get(key));
    assert.equal(record.v, 3);
    assert.deepEqual(record.impersonation, { actor: ACTOR, reason: "ticket 4521", started_at: record.created_at });
    assert.ok(!JSON.stringify(record).includes(s.token), "only the hash is stored");
    const { metadata } = await worker.kv.getWithMetadata(key);
    assert.equal(metadata.actor, ACTOR);
    const validated = await json(await worker.fetch("/v1/session", { headers: bearer(s.token) }), 200);
    assert.deepEqual(validated.act, { sub: ACTOR });
  });

  test("bad requests are refused with a JSON 4xx, and without the admin key nothing opens", async () => {
    const cases = [
      [{ actor: ACTOR, reason: "r", ttl_secs: 3601 }, 400, "invalid_lifetime"],
      [{ actor: ACTOR, reason: "r", ttl_secs: 0 }, 400, "invalid_lifetime"],
      [{ actor: ACTOR, reason: "r", ttl_secs: 60.5 }, 400, null],
      [{ actor: ACTOR, reason: "r" }, 400, "invalid_lifetime"],
      [{ actor: "evil\nline", reason: "r", ttl_secs: 60 }, 400, "invalid_metadata"],
      [{ actor: ACTOR, reason: "rtl\u202e", ttl_secs: 60 }, 400, "invalid_metadata"],
      [{ actor: "", reason: "r", ttl_secs: 60 }, 400, "invalid_metadata"],
      [{ actor: ACTOR, ttl_secs: 60 }, 400, "invalid_metadata"],
      [{ actor: "a".repeat(129), reason: "r", ttl_secs: 60 }, 400, "invalid_metadata"],
      [{ actor: "サポート", reason: "r", ttl_secs: 60 }, 400, "invalid_metadata"],
      [{ actor: ACTOR, reason: "r", ttl_secs: 60, aal: 3 }, 400, null],
    ];
    for (const [body, status, code] of cases) {
      const answer = await json(await open("imp-bad", body), status);
      assert.equal(typeof answer.error, "string", JSON.stringify(body));
      if (code) assert.equal(answer.error, code, JSON.stringify(body));
    }
    const refused = await worker.fetch("/v1/admin/accounts/imp-bad/impersonations", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ actor: ACTOR, reason: "r", ttl_secs: 60 }),
    });
    assert.equal((await json(refused, 401)).error, "invalid_admin_key");
    const listed = await json(await worker.fetch("/v1/admin/accounts/imp-bad/impersonations", { headers: admin }), 200);
    assert.deepEqual(listed.impersonations, [], "nothing was opened");
  });

  test("writes and denied paths are refused before the origin, which saw nothing", async () => {
    const s = await impersonate("imp-gate");
    const before = origin.received.length;
    const refusals = [
      ["POST", "/notes", {}],
      ["PUT", "/notes/1", {}],
      ["DELETE", "/notes/1", {}],
      ["PATCH", "/profile", {}],
      ["PROPFIND", "/files", {}],
      ["GET", "/settings/password", {}],
      ["GET", "/billing", {}],
      ["GET", "/billing/invoices?year=2026", {}],
      ["GET", "/settings/%2e%2e/settings/x", {}],
      ["GET", "/settings/profile", { Accept: HTML }], // a navigation gets the 403, not the login page
      ["HEAD", "/billing/card", {}],
    ];
    for (const [method, path, headers] of refusals) {
      const res = await worker.fetch(path, { method, headers: { ...bearer(s.token), ...headers } });
      assert.equal(res.status, 403, `${method} ${path}`);
      assert.equal(res.headers.get("location"), null);
      if (method !== "HEAD") {
        assert.equal((await res.json()).error, "impersonation_forbidden", `${method} ${path}`);
      } else {
        await res.body?.cancel();
      }
    }
    assert.equal(origin.received.length, before, "the origin saw none of them");
    // The user's own session does all of these.
    const own = await worker.createSession("imp-gate");
    const res = await worker.fetch("/settings/password", { method: "POST", headers: bearer(own.token) });
    assert.equal(res.status, 200);
    await res.body.cancel();
    assert.equal(origin.received.length, before + 1);
  });

  test("a GET is forwarded with X-Session-Actor and an assertion whose act the origin SDK verifies", async () => {
    const s = await impersonate("imp-read");
    const seen = await json(
      await worker.fetch("/dashboard?tab=2", {
        headers: { ...bearer(s.token), "X-Session-Actor": "root", X_Session_Actor: "root" },
      }),
      200,
    );
    assert.equal(seen.url, "/dashboard?tab=2");
    assert.equal(seen.headers["x-session-actor"], ACTOR, "the gatekeeper's, not the client's");
    assert.equal(seen.headers.x_session_actor, undefined);
    assert.equal(seen.headers["x-session-account"], "imp-read");
    const verified = await verifier.verify({ headers: seen.headers });
    assert.deepEqual(verified.act, { sub: ACTOR });
    assert.deepEqual([verified.accountId, verified.sessionId], ["imp-read", s.session_id]);
    assert.deepEqual(verified.payload.act, { sub: ACTOR });
    assert.equal("act" in verified.claims, false, "act is registered, not one of the session's claims");
    // A page's access token carries it too.
    const { token } = await json(
      await worker.fetch("/v1/session/token?audience=https%3A%2F%2Fapi.example.com", { headers: bearer(s.token) }),
      200,
    );
    const api = createAssertionVerifier({
      jwksUrl: new URL("/v1/jwks.json", worker.url),
      issuer: ISSUER,
      audience: "https://api.example.com",
      kind: "access_token",
    });
    assert.deepEqual((await api.verify(token)).act, { sub: ACTOR });
    // The user's own session: no actor, and a client-sent one never gets through.
    const own = await worker.createSession("imp-read");
    const plain = await json(
      await worker.fetch("/dashboard", { headers: { ...bearer(own.token), "X-Session-Actor": ACTOR } }),
      200,
    );
    assert.equal(plain.headers["x-session-actor"], undefined);
    assert.equal((await verifier.verify({ headers: plain.headers })).act, null);
  });

  test("the session-control API is refused to it, and nothing was revoked", async () => {
    const own = await worker.createSession("imp-control");
    const s = await impersonate("imp-control");
    for (const [method, path] of [
      ["GET", "/v1/sessions"],
      ["DELETE", "/v1/sessions"],
      ["DELETE", "/v1/sessions?scope=others"],
      ["DELETE", `/v1/sessions/${own.session_id}`],
    ]) {
      const answer = await json(await worker.fetch(path, { method, headers: bearer(s.token) }), 403);
      assert.equal(answer.error, "impersonation_forbidden", `${method} ${path}`);
    }
    assert.equal((await worker.validate(own.token)).status, 200, "the user's session survived");
    assert.equal((await worker.validate(s.token)).status, 200);
    // It may log itself out.
    await json(await worker.fetch("/v1/session", { method: "DELETE", headers: bearer(s.token) }), 204);
    assert.equal((await worker.validate(s.token)).status, 401);
    assert.equal((await worker.validate(own.token)).status, 200);
  });

  test("touch, refresh and reauthentication never move the cap; it ends at creation + ttl", async () => {
    const s = await impersonate("imp-cap", { ttl_secs: 4 });
    const cap = s.absolute_expires_at;
    assert.equal(s.expires_at, cap, "no idle window past the cap");
    await sleep(2100); // past the session's touch interval (half its 4 s idle window)
    assert.equal((await worker.validate(s.token)).body.absolute_expires_at, cap); // a touch
    const refreshed = await json(
      await worker.fetch("/v1/session/refresh", { method: "POST", headers: bearer(s.token) }),
      200,
    );
    assert.deepEqual([refreshed.expires_at, refreshed.absolute_expires_at], [cap, cap]);
    const reauth = await json(
      await worker.fetch(`/v1/admin/accounts/imp-cap/sessions/${s.session_id}/reauthenticate`, {
        method: "POST",
        headers: adminJson,
        body: JSON.stringify({ aal: 2 }),
      }),
      200,
    );
    assert.deepEqual([reauth.expires_at, reauth.absolute_expires_at], [cap, cap]);
    assert.deepEqual(reauth.act, { sub: ACTOR }, "still an impersonation");
    const record = JSON.parse(await worker.kv.get(await kvKeyOf(reauth.token)));
    assert.equal(record.absolute_expires_at, Date.parse(cap) / 1000);
    assert.ok(record.idle_expires_at <= record.absolute_expires_at);
    await sleep(Math.max(0, Date.parse(cap) - Date.now()) + 1100);
    const ended = await worker.validate(reauth.token);
    // Refused as expired, or (once the account's alarm has purged it at its deadline) as gone.
    assert.equal(ended.status, 401);
    assert.ok(["session_expired", "session_not_found"].includes(ended.body.error), ended.body.error);
    // The account's alarm purges it at its cap, and says so.
    const expired = await until(
      "session.impersonation_ended (expired)",
      () => receiver.accepted.find((e) => e.session_id === s.session_id && e.type === "session.impersonation_ended"),
      15000,
    );
    assert.equal(expired.reason, "expired");
    assert.deepEqual(expired.data.act, { sub: ACTOR });
  });

  test("the user's listing shows it apart, as support signed in as them, and the user ends it", async () => {
    const own = await worker.createSession("imp-user");
    const s = await impersonate("imp-user", { reason: "ticket 77" });
    const listing = await json(await worker.fetch("/v1/sessions", { headers: bearer(own.token) }), 200);
    assert.deepEqual(
      listing.sessions.map((x) => x.session_id),
      [own.session_id],
      "not one of the user's devices",
    );
    assert.equal(listing.impersonations.length, 1);
    const [shown] = listing.impersonations;
    assert.equal(shown.session_id, s.session_id);
    assert.equal(shown.notice, `${ACTOR} (ticket 77) signed in as you`);
    assert.deepEqual([shown.actor, shown.reason, shown.act], [ACTOR, "ticket 77", { sub: ACTOR }]);
    assert.equal(shown.expires_at, s.expires_at);
    // The admin's device listing leaves it out too.
    const adminListing = await json(
      await worker.fetch("/v1/admin/accounts/imp-user/sessions", { headers: admin }),
      200,
    );
    assert.deepEqual(
      adminListing.sessions.map((x) => x.session_id),
      [own.session_id],
    );
    await json(
      await worker.fetch(`/v1/sessions/${s.session_id}`, { method: "DELETE", headers: bearer(own.token) }),
      204,
    );
    assert.equal(await worker.kv.get(await kvKeyOf(s.token)), null, "its KV copy is gone");
    const refused = await worker.validate(s.token);
    assert.equal(refused.status, 401);
    const after = await json(await worker.fetch("/v1/sessions", { headers: bearer(own.token) }), 200);
    assert.deepEqual(after.impersonations, []);
    assert.equal((await worker.validate(own.token)).status, 200);
    // The events, as a webhook receiver verifies them.
    const events = await until(
      "the impersonation's events",
      () => {
        const mine = receiver.accepted.filter((e) => e.session_id === s.session_id);
        return mine.some((e) => e.type === "session.impersonation_ended") && mine;
      },
      15000,
    );
    assert.deepEqual(
      events.map((e) => [e.type, e.reason]),
      [
        ["session.created", "created"],
        ["session.impersonation_started", "admin"],
        ["session.revoked", "revoke"],
        ["session.impersonation_ended", "revoke"],
      ],
    );
    for (const e of events) assert.deepEqual(e.data.act, { sub: ACTOR }, e.type);
    const started = events.find((e) => e.type === "session.impersonation_started");
    assert.deepEqual(started.data.impersonation, {
      actor: ACTOR,
      reason: "ticket 77",
      started_at: s.created_at,
      expires_at: s.absolute_expires_at,
    });
    const ownEvents = receiver.accepted.filter((e) => e.session_id === own.session_id);
    assert.ok(ownEvents.length > 0);
    for (const e of ownEvents) assert.deepEqual(e.data, {}, "the user's own sessions carry no act");
  });

  test("the admin lists and ends them by account and by actor; the users' sessions stay", async () => {
    const other = "other-agent@example.com";
    const ownA = await worker.createSession("imp-adm-a");
    const ownB = await worker.createSession("imp-adm-b");
    const a1 = await impersonate("imp-adm-a");
    const a2 = await impersonate("imp-adm-a", { actor: other });
    const b1 = await impersonate("imp-adm-b");
    const byAccount = await json(
      await worker.fetch("/v1/admin/accounts/imp-adm-a/impersonations", { headers: admin }),
      200,
    );
    assert.deepEqual(
      byAccount.impersonations.map((i) => [i.session_id, i.actor]).sort(),
      [
        [a1.session_id, ACTOR],
        [a2.session_id, other],
      ].sort(),
    );
    const byActor = await json(
      await worker.fetch(`/v1/admin/impersonations?actor=${encodeURIComponent(ACTOR)}`, { headers: admin }),
      200,
    );
    const mine = byActor.impersonations.filter((i) => i.account_id.startsWith("imp-adm-"));
    assert.deepEqual(
      mine.map((i) => [i.account_id, i.session_id]).sort(),
      [
        ["imp-adm-a", a1.session_id],
        ["imp-adm-b", b1.session_id],
      ].sort(),
    );
    assert.equal(byActor.complete, true);
    assert.ok(byActor.impersonations.every((i) => i.actor === ACTOR));
    // By actor, across accounts: every one of that actor's, nobody else's.
    const ended = await json(
      await worker.fetch(`/v1/admin/impersonations?actor=${encodeURIComponent(ACTOR)}`, {
        method: "DELETE",
        headers: admin,
      }),
      200,
    );
    assert.ok(ended.ended >= 2);
    for (const gone of [a1, b1]) assert.equal((await worker.validate(gone.token)).status, 401);
    assert.equal((await worker.validate(a2.token)).status, 200, "another actor's stays");
    const none = await json(
      await worker.fetch(`/v1/admin/impersonations?actor=${encodeURIComponent(ACTOR)}`, { headers: admin }),
      200,
    );
    assert.deepEqual(none.impersonations, []);
    // One by account: a user's own session id is not ended here.
    const notOne = await worker.fetch(`/v1/admin/accounts/imp-adm-a/impersonations/${ownA.session_id}`, {
      method: "DELETE",
      headers: admin,
    });
    assert.equal((await json(notOne, 404)).error, "session_not_found");
    await json(
      await worker.fetch(`/v1/admin/accounts/imp-adm-a/impersonations/${a2.session_id}`, {
        method: "DELETE",
        headers: admin,
      }),
      204,
    );
    assert.equal((await worker.validate(a2.token)).status, 401);
    // All of an account's.
    const b2 = await impersonate("imp-adm-b", { actor: other });
    const all = await json(
      await worker.fetch("/v1/admin/accounts/imp-adm-b/impersonations", { method: "DELETE", headers: admin }),
      200,
    );
    assert.deepEqual(all, { ended: 1 });
    assert.equal((await worker.validate(b2.token)).status, 401);
    for (const own of [ownA, ownB]) assert.equal((await worker.validate(own.token)).status, 200, "users keep theirs");
    for (const query of ["", "?actor=", "?actor=%0A"]) {
      const bad = await worker.fetch(`/v1/admin/impersonations${query}`, { headers: admin });
      assert.equal((await json(bad, 400)).error, "invalid_scope", query);
    }
    const unauthorised = await worker.fetch(`/v1/admin/impersonations?actor=${ACTOR}`, { method: "DELETE" });
    assert.equal(unauthorised.status, 401);
    await unauthorised.body.cancel();
  });

  test("it does not count toward the limit: a full account stays full, and nobody is evicted", async () => {
    const first = await worker.createSession("imp-full");
    const second = await worker.createSession("imp-full");
    const s = await impersonate("imp-full");
    assert.equal("evicted" in s, false);
    for (const kept of [first, second, s]) assert.equal((await worker.validate(kept.token)).status, 200);
    // The account is still exactly full: the next login evicts one of the user's, as ever.
    const third = await worker.createSession("imp-full");
    assert.deepEqual(third.evicted, [first.session_id]);
    assert.equal((await worker.validate(s.token)).status, 200, "never the impersonation");
    const listing = await json(await worker.fetch("/v1/sessions", { headers: bearer(third.token) }), 200);
    assert.deepEqual(listing.sessions.map((x) => x.session_id).sort(), [second.session_id, third.session_id].sort());
    assert.deepEqual(
      listing.impersonations.map((x) => x.session_id),
      [s.session_id],
    );
  });

  test("the SDKs: the admin client opens, finds and ends one; the browser client lists it for the user", async () => {
    const fetchImpl = (input, init) => worker.fetch(new URL(input).pathname + new URL(input).search, init);
    const adminClient = createAdminClient({ baseUrl: worker.url.origin, adminKey: ADMIN_KEY, fetch: fetchImpl });
    const own = await worker.createSession("imp-sdk");
    const s = await adminClient.createImpersonation("imp-sdk", {
      actor: "sdk-agent",
      reason: "ticket 9",
      ttlSecs: 120,
    });
    assert.deepEqual([s.accountId, s.act], ["imp-sdk", { sub: "sdk-agent" }]);
    const [listed] = await adminClient.listImpersonations("imp-sdk");
    assert.deepEqual([listed.sessionId, listed.notice], [s.sessionId, "sdk-agent (ticket 9) signed in as you"]);
    const page = await adminClient.listActorImpersonations("sdk-agent");
    assert.deepEqual(
      page.impersonations.map((i) => i.sessionId),
      [s.sessionId],
    );
    const user = createSessionClient({ baseUrl: worker.url.origin, token: own.token, fetch: fetchImpl });
    assert.deepEqual(
      (await user.listImpersonations()).map((i) => i.notice),
      ["sdk-agent (ticket 9) signed in as you"],
    );
    assert.equal(await adminClient.endImpersonation("imp-sdk", s.sessionId), true);
    assert.equal(await adminClient.endImpersonation("imp-sdk", s.sessionId), false);
    assert.deepEqual(await user.listImpersonations(), []);
    assert.equal(await adminClient.endActorImpersonations("sdk-agent"), 0);
    assert.equal(await adminClient.endImpersonations("imp-sdk"), 0);
  });
});
