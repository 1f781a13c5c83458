// Step-up and rotation end to end in workerd: authentication facts on every session,
// freshness on validation, reauthentication and holder rotation, the revoke-all fence,
// the fleet-wide cut-off, strong validation trusting the Durable Object's deadline, and
// revoke-all-but-one.

import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startWorker, kvKeyOf, sleep, ADMIN_KEY } from "./harness.mjs";
import { createAdminClient } from "../../origin/index.js";
import { adminJson as admin, bearer, json } from "./support/requests.mjs";

const secs = (rfc3339) => Date.parse(rfc3339) / 1000;
const now = () => Math.floor(Date.now() / 1000);

describe("authentication facts and freshness", () => {
  let worker;
  before(async () => {
    worker = await startWorker();
  });
  after(async () => {
    await worker?.dispose();
  });

  test("a create may report an earlier login, its level and methods; validation and listings return them", async () => {
    const at = now() - 120;
    const created = await worker.createSession("facts", { authenticated_at: at, aal: 2, amr: ["pwd", "otp"] });
    assert.equal(secs(created.authenticated_at), at);
    const { body } = await worker.validate(created.token);
    assert.deepEqual([secs(body.authenticated_at), body.aal, body.amr], [at, 2, ["pwd", "otp"]]);
    const rfc = new Date((now() - 30) * 1000).toISOString().replace(/\.\d+Z$/, "Z");
    const second = await worker.createSession("facts", { authenticated_at: rfc });
    assert.equal(second.authenticated_at, rfc);
    const { sessions } = await json(await worker.fetch("/v1/admin/accounts/facts/sessions", { headers: admin }), 200);
    assert.deepEqual(
      sessions.map((s) => [s.aal, s.amr]),
      [
        [1, []],
        [2, ["pwd", "otp"]],
      ],
    );
  });

  test("bad authentication facts are refused and nothing is stored", async () => {
    for (const body of [
      { authenticated_at: now() - 601 },
      { authenticated_at: now() + 60 },
      { authenticated_at: "last tuesday" },
      { aal: 0 },
      { aal: 4 },
      { amr: ["PWD"] },
      { amr: Array.from({ length: 9 }, (_, i) => `m${i}`) },
      { amr: ["x".repeat(33)] },
    ]) {
      const res = await worker.fetch("/v1/admin/accounts/bad-facts/sessions", {
        method: "POST",
        headers: admin,
        body: JSON.stringify(body),
      });
      assert.equal((await json(res, 400)).error, "invalid_authentication", JSON.stringify(body));
    }
    const { sessions } = await json(
      await worker.fetch("/v1/admin/accounts/bad-facts/sessions", { headers: admin }),
      200,
    );
    assert.deepEqual(sessions, []);
  });

  test("max_age and min_aal answer 403 reauthentication_required, saying what failed", async () => {
    const created = await worker.createSession("fresh", { authenticated_at: now() - 100, aal: 1 });
    assert.equal((await worker.validate(created.token, { query: "?max_age=300" })).status, 200);
    const old = await worker.validate(created.token, { query: "?max_age=30" });
    assert.equal(old.status, 403);
    assert.equal(old.body.error, "reauthentication_required");
    assert.deepEqual(old.body.failed, ["max_age"]);
    assert.equal(old.body.authenticated_at, created.authenticated_at);
    assert.equal(old.body.aal, 1);
    const weak = await worker.validate(created.token, { query: "?max_age=30&min_aal=2&consistency=strong" });
    assert.deepEqual([weak.status, weak.body.failed], [403, ["max_age", "min_aal"]]);
    for (const query of ["?max_age=-1", "?max_age=soon", "?min_aal=0", "?min_aal=4"]) {
      const bad = await worker.validate(created.token, { query });
      assert.deepEqual([bad.status, bad.body.error], [400, "invalid_freshness"], query);
    }
  });
});

describe("rotation", () => {
  let worker;
  before(async () => {
    worker = await startWorker();
  });
  after(async () => {
    await worker?.dispose();
  });

  test("reauthenticate: a new token for the same session, fresh facts, the old token refused at once", async () => {
    const created = await worker.createSession("reauth", { authenticated_at: now() - 300, amr: ["pwd"] });
    const res = await worker.fetch(`/v1/admin/accounts/reauth/sessions/${created.session_id}/reauthenticate`, {
      method: "POST",
      headers: admin,
      body: JSON.stringify({ aal: 2, amr: ["pwd", "otp"] }),
    });
    const body = await json(res, 200);
    assert.match(body.token, /^est_/);
    assert.notEqual(body.token, created.token);
    assert.equal(body.session_id, created.session_id);
    assert.equal(body.created_at, created.created_at);
    assert.equal(body.absolute_expires_at, created.absolute_expires_at);
    assert.ok(secs(body.authenticated_at) >= now() - 2);
    assert.deepEqual([body.aal, body.amr], [2, ["pwd", "otp"]]);
    assert.match(res.headers.get("set-cookie"), new RegExp(`^__Host-session=${body.token}; Max-Age=\\d+;`));

    // The old token: refused by the object at once (strong validation, account calls).
    const strong = await worker.validate(created.token, { query: "?consistency=strong" });
    assert.deepEqual([strong.status, strong.body.error], [401, "session_not_found"]);
    const listing = await worker.fetch("/v1/sessions", { headers: bearer(created.token) });
    assert.equal((await json(listing, 401)).error, "session_not_found");
    assert.equal(await worker.kv.get(await kvKeyOf(created.token)), null, "its KV key is deleted");
    // The new one works, fresh enough for a sensitive action.
    const fresh = await worker.validate(body.token, { query: "?max_age=60&min_aal=2&consistency=strong" });
    assert.equal(fresh.status, 200);
    assert.equal(fresh.body.session_id, created.session_id);

    const missing = await worker.fetch(
      `/v1/admin/accounts/someone-else/sessions/${created.session_id}/reauthenticate`,
      { method: "POST", headers: admin },
    );
    assert.equal((await json(missing, 404)).error, "session_not_found");
  });

  test("a bearer holder rotates and gets the token in the body; a cookie holder gets only Set-Cookie", async () => {
    const viaBearer = await worker.createSession("rotate");
    const res = await worker.fetch("/v1/session/rotate", { method: "POST", headers: bearer(viaBearer.token) });
    const body = await json(res, 200);
    assert.match(body.token, /^est_/);
    assert.equal(body.session_id, viaBearer.session_id);
    assert.equal(res.headers.get("set-cookie"), null);
    assert.equal((await worker.validate(body.token)).status, 200);
    assert.equal((await worker.validate(viaBearer.token, { query: "?consistency=strong" })).status, 401);

    const viaCookie = await worker.createSession("rotate");
    const cookieRes = await worker.fetch("/v1/session/rotate", {
      method: "POST",
      headers: { Cookie: `__Host-session=${viaCookie.token}` },
    });
    const cookieBody = await json(cookieRes, 200);
    assert.equal(cookieBody.token, undefined, "no token in the body of a cookie rotation");
    const [, newToken] = cookieRes.headers.get("set-cookie").match(/^__Host-session=(est_[^;]+);/);
    assert.equal((await worker.validate(newToken)).body.session_id, viaCookie.session_id);

    // Cookie rotation is a write: a foreign origin is refused.
    const csrf = await worker.fetch("/v1/session/rotate", {
      method: "POST",
      headers: { Cookie: `__Host-session=${newToken}`, Origin: "https://evil.example" },
    });
    assert.equal((await json(csrf, 403)).error, "origin_not_allowed");
  });

  test("a rotation whose reply was lost is retried with the old token and gets a token that works", async () => {
    const created = await worker.createSession("rotate-retry");
    const rotate = (headers) => worker.fetch("/v1/session/rotate", { method: "POST", headers });
    // The first rotation happens, but its reply never reaches the holder.
    const lost = (await json(await rotate(bearer(created.token)), 200)).token;
    const marker = `rotated:${(await kvKeyOf(created.token)).slice("session:".length)}`;
    assert.deepEqual(JSON.parse(await worker.kv.get(marker)), {
      account_id: "rotate-retry",
      session_id: created.session_id,
    });
    assert.equal(await worker.kv.get(await kvKeyOf(created.token)), null, "the old session key is gone as before");

    // The holder retries with the only token it has.
    const retried = await json(await rotate(bearer(created.token)), 200);
    assert.equal(retried.session_id, created.session_id);
    assert.notEqual(retried.token, lost);
    assert.equal((await worker.validate(retried.token, { query: "?consistency=strong" })).status, 200);
    // The token nobody received stops working; the old one still opens nothing else.
    assert.equal((await worker.validate(lost)).status, 401);
    assert.equal((await worker.validate(created.token)).status, 401);
    assert.equal(
      (await json(await worker.fetch("/v1/sessions", { headers: bearer(created.token) }), 401)).error,
      "session_not_found",
    );
    const logout = await worker.fetch("/v1/session", { method: "DELETE", headers: bearer(created.token) });
    assert.equal(logout.status, 204);
    assert.equal(
      (await worker.validate(retried.token, { query: "?consistency=strong" })).status,
      200,
      "no logout by the old token",
    );
    // Only the token right before the last rotation may retry: after a rotation that
    // was received, the first token is done.
    const next = (await json(await rotate(bearer(retried.token)), 200)).token;
    assert.equal((await json(await rotate(bearer(created.token)), 401)).error, "session_not_found");
    assert.equal((await worker.validate(next)).status, 200);
    const retries = worker.logs.filter((l) => l.includes('"session_rotated"') && l.includes(created.session_id));
    assert.deepEqual(
      retries.map((l) => JSON.parse(l.slice(l.indexOf("{"))).reason),
      ["holder", "holder_retry", "holder"],
      "a retry is announced as its own event",
    );

    // A cookie holder retries with the cookie it still has, and gets a new one. The
    // retry is a cookie write: a foreign origin is refused before anything happens.
    const viaCookie = await worker.createSession("rotate-retry");
    const cookie = { Cookie: `__Host-session=${viaCookie.token}` };
    await json(await rotate(cookie), 200);
    const csrf = await rotate({ ...cookie, Origin: "https://evil.example" });
    assert.equal((await json(csrf, 403)).error, "origin_not_allowed");
    const again = await rotate(cookie);
    assert.equal((await json(again, 200)).session_id, viaCookie.session_id);
    const [, fromRetry] = again.headers.get("set-cookie").match(/^__Host-session=(est_[^;]+);/);
    assert.equal((await worker.validate(fromRetry)).status, 200);
  });

  test("the retry window closes once the object sees the new token, and at every revoke-all", async () => {
    const rotate = (token) => worker.fetch("/v1/session/rotate", { method: "POST", headers: bearer(token) });
    // The holder received the new token and used it where the object sees it: a thief
    // holding the old one can no longer take the session over.
    const seen = await worker.createSession("rotate-seen");
    const received = (await json(await rotate(seen.token), 200)).token;
    assert.equal((await worker.validate(received, { query: "?consistency=strong" })).status, 200);
    assert.equal((await json(await rotate(seen.token), 401)).error, "session_not_found");
    assert.equal((await worker.validate(received)).status, 200);
    // "Log out everywhere but here" keeps this session, but not a way back in for a
    // token from before its last rotation.
    const kept = await worker.createSession("rotate-kept");
    const keptToken = (await json(await rotate(kept.token), 200)).token;
    const revokeAll = await worker.fetch(`/v1/admin/accounts/rotate-kept/sessions?except=${kept.session_id}`, {
      method: "DELETE",
      headers: admin,
    });
    await json(revokeAll, 200);
    assert.equal((await json(await rotate(kept.token), 401)).error, "session_not_found");
    assert.equal((await worker.validate(keptToken)).status, 200);
  });

  test("no rotation retry after the window, after a reauthentication, or when ROTATION_RETRY_SECS=0", async () => {
    const rotate = (w, token) => w.fetch("/v1/session/rotate", { method: "POST", headers: bearer(token) });
    // Reauthentication moves the session on for good: a token from before the step-up
    // cannot retry its way into the renewed session.
    const created = await worker.createSession("rotate-reauth");
    await json(await rotate(worker, created.token), 200);
    const reauth = await worker.fetch(
      `/v1/admin/accounts/rotate-reauth/sessions/${created.session_id}/reauthenticate`,
      {
        method: "POST",
        headers: admin,
      },
    );
    const renewed = (await json(reauth, 200)).token;
    assert.equal((await json(await rotate(worker, created.token), 401)).error, "session_not_found");
    assert.equal((await worker.validate(renewed)).status, 200);

    const short = await startWorker({ vars: { ROTATION_RETRY_SECS: "1" } });
    const off = await startWorker({ vars: { ROTATION_RETRY_SECS: "0" } });
    try {
      const a = await short.createSession("rotate-window");
      const received = (await json(await rotate(short, a.token), 200)).token;
      await sleep(2100);
      assert.equal((await json(await rotate(short, a.token), 401)).error, "session_not_found");
      assert.equal((await short.validate(received)).status, 200, "a refused retry changes nothing");

      const b = await off.createSession("rotate-off");
      await json(await rotate(off, b.token), 200);
      assert.equal((await json(await rotate(off, b.token), 401)).error, "session_not_found");
      assert.deepEqual(await off.kv.list({ prefix: "rotated:" }).then((l) => l.keys), [], "no marker is written");
    } finally {
      await Promise.all([short.dispose(), off.dispose()]);
    }
  });

  test("a touch racing a rotation never brings the old token back", async () => {
    const racing = await startWorker({
      vars: { IDLE_TTL_SECS: "60", ABSOLUTE_TTL_SECS: "600", TOUCH_INTERVAL_SECS: "0" },
    });
    try {
      const sessions = await Promise.all(Array.from({ length: 6 }, (_, i) => racing.createSession(`rotate-race-${i}`)));
      await sleep(1100); // every validation below finds a touch due
      const rotated = await Promise.all(
        sessions.map(async (s) => {
          const validations = Array.from({ length: 6 }, () => racing.validate(s.token));
          const rotation = racing.fetch("/v1/session/rotate", { method: "POST", headers: bearer(s.token) });
          const [res] = await Promise.all([rotation, ...validations]);
          return (await json(res, 200)).token;
        }),
      );
      await sleep(1000); // let every wait_until touch finish
      for (const [i, s] of sessions.entries()) {
        assert.equal(await racing.kv.get(await kvKeyOf(s.token)), null, "the old token's record came back");
        assert.equal((await racing.validate(s.token)).status, 401);
        assert.equal((await racing.validate(rotated[i])).status, 200);
      }
    } finally {
      await racing.dispose();
    }
  });
});

describe("revocation with a stated bound", () => {
  test("a login that checked the old password cannot open a session after revoke-all (409)", async () => {
    const worker = await startWorker();
    try {
      const before = now();
      await worker.createSession("fence");
      await sleep(1100);
      const res = await worker.fetch("/v1/admin/accounts/fence/sessions", { method: "DELETE", headers: admin });
      assert.deepEqual(await json(res, 200), { revoked: 1 });
      const stale = await worker.fetch("/v1/admin/accounts/fence/sessions", {
        method: "POST",
        headers: admin,
        body: JSON.stringify({ authenticated_at: before }),
      });
      assert.equal((await json(stale, 409)).error, "stale_authentication");
      // A login after the change goes through.
      const fresh = await worker.createSession("fence");
      assert.equal((await worker.validate(fresh.token)).status, 200);
      const { sessions } = await json(await worker.fetch("/v1/admin/accounts/fence/sessions", { headers: admin }), 200);
      assert.deepEqual(
        sessions.map((s) => s.session_id),
        [fresh.session_id],
      );
    } finally {
      await worker.dispose();
    }
  });

  test("within one second, the fence orders a login and a revoke-all by their milliseconds", async () => {
    const worker = await startWorker();
    const client = createAdminClient({
      baseUrl: worker.url.origin,
      adminKey: ADMIN_KEY,
      fetch: worker.mf.dispatchFetch,
    });
    try {
      // Start early in a second, so the check, the revoke-all and the logins share it.
      while (Date.now() % 1000 > 300) await sleep(20);
      const checked = new Date();
      await sleep(30);
      const res = await worker.fetch("/v1/admin/accounts/fence-ms/sessions", { method: "DELETE", headers: admin });
      await json(res, 200);
      // Credentials checked 30 ms before the revoke-all: refused, in the same second.
      const stale = await worker.fetch("/v1/admin/accounts/fence-ms/sessions", {
        method: "POST",
        headers: admin,
        body: JSON.stringify({ authenticated_at: checked.toISOString() }),
      });
      assert.equal((await json(stale, 409)).error, "stale_authentication");
      await assert.rejects(client.createSession("fence-ms", { authenticatedAt: checked }), { status: 409 });
      // A login right after it, still in that second: through, with the SDK's default
      // and with a whole-second time (which counts as the end of its second).
      const after = await client.createSession("fence-ms");
      const whole = await worker.createSession("fence-ms", { authenticated_at: Math.floor(Date.now() / 1000) });
      for (const s of [after, whole]) assert.equal((await worker.validate(s.token)).status, 200);
    } finally {
      await worker.dispose();
    }
  });

  test("the origin SDK dates every login, so the revoke-all fence has a login time to compare", async () => {
    const worker = await startWorker();
    try {
      // The admin client sends authenticated_at even when the caller does not, so the
      // fence has a login time to compare (the time of the call, not the server's).
      const sent = [];
      const client = createAdminClient({
        baseUrl: worker.url.origin,
        adminKey: ADMIN_KEY,
        fetch: async (input, init) => {
          sent.push(JSON.parse(init.body ?? "null"));
          return worker.fetch(input, init);
        },
      });
      const created = await client.createSession("fence-same");
      assert.equal(typeof sent.at(-1).authenticated_at, "string");
      assert.ok(Math.abs(Date.parse(sent.at(-1).authenticated_at) - Date.now()) < 5000, sent.at(-1).authenticated_at);
      assert.equal((await worker.validate(created.token)).status, 200);
    } finally {
      await worker.dispose();
    }
  });

  test("revoke all but one: the session that changed the password stays", async () => {
    const worker = await startWorker();
    try {
      const [a, b, c] = [
        await worker.createSession("except"),
        await worker.createSession("except"),
        await worker.createSession("except"),
      ];
      const res = await worker.fetch(`/v1/admin/accounts/except/sessions?except=${b.session_id}`, {
        method: "DELETE",
        headers: admin,
      });
      assert.deepEqual(await json(res, 200), { revoked: 2 });
      assert.equal((await worker.validate(b.token, { query: "?consistency=strong" })).status, 200);
      for (const gone of [a, c])
        assert.equal((await worker.validate(gone.token, { query: "?consistency=strong" })).status, 401);
      const bad = await worker.fetch("/v1/admin/accounts/except/sessions?except=nope", {
        method: "DELETE",
        headers: admin,
      });
      assert.equal(bad.status, 400);
    } finally {
      await worker.dispose();
    }
  });

  test("SESSIONS_NOT_BEFORE refuses every session authenticated before it, everywhere, with no KV writes", async () => {
    const dir = mkdtempSync(join(tmpdir(), "edge-sessions-cutoff-"));
    try {
      const first = await startWorker({ persistTo: dir });
      const old = await first.createSession("cutoff");
      await sleep(1100);
      const cutoff = now();
      await sleep(1100);
      const newer = await first.createSession("cutoff");
      const oldKey = await kvKeyOf(old.token);
      const stored = await first.kv.get(oldKey);
      await first.dispose();

      // The operator sets the cut-off (a breach): the same storage, a new deployment.
      const worker = await startWorker({
        persistTo: dir,
        vars: { SESSIONS_NOT_BEFORE: new Date(cutoff * 1000).toISOString() },
      });
      try {
        for (const query of ["", "?consistency=strong"]) {
          const res = await worker.validate(old.token, { query });
          assert.deepEqual([res.status, res.body.error], [401, "session_revoked"], query);
        }
        assert.equal(
          (await json(await worker.fetch("/v1/sessions", { headers: bearer(old.token) }), 401)).error,
          "session_revoked",
        );
        assert.equal(await worker.kv.get(oldKey), stored, "refused without a KV write");
        assert.equal((await worker.validate(newer.token)).status, 200);
        const { sessions } = await json(
          await worker.fetch("/v1/admin/accounts/cutoff/sessions", { headers: admin }),
          200,
        );
        assert.deepEqual(
          sessions.map((s) => s.session_id),
          [newer.session_id],
          "never listed",
        );

        // A login dated before the cut-off cannot open a session.
        const stale = await worker.fetch("/v1/admin/accounts/cutoff/sessions", {
          method: "POST",
          headers: admin,
          body: JSON.stringify({ authenticated_at: cutoff - 1 }),
        });
        assert.equal((await json(stale, 409)).error, "stale_authentication");
        // The account's next command drops the old row, deletes its key, and says so.
        await worker.createSession("cutoff");
        assert.equal(await worker.kv.get(oldKey), null);
        const revoked = worker.logs.filter((l) => l.includes('"session_revoked"') && l.includes(old.session_id));
        assert.equal(revoked.length, 1);
        assert.match(revoked[0], /"reason":"sessions_not_before"/);
      } finally {
        await worker.dispose();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("strong validation trusts the Durable Object's deadline over a stale KV copy", async () => {
    const worker = await startWorker({ vars: { TOUCH_INTERVAL_SECS: "1" } });
    try {
      const created = await worker.createSession("stale-copy", { idle_ttl_secs: 4 });
      const key = await kvKeyOf(created.token);
      const { value: original, metadata } = await worker.kv.getWithMetadata(key);
      await sleep(2100);
      assert.equal((await worker.validate(created.token)).status, 200); // a touch extends it
      // The touch runs after the response (waitUntil); wait until it has reached KV, so
      // the object has applied it, before a slow moment could let the alarm at the old
      // deadline run first.
      for (let i = 0; i < 60 && (await worker.kv.get(key)) === original; i++) await sleep(50);
      assert.notEqual(await worker.kv.get(key), original, "the touch reached KV");
      // A distant location still serves the pre-touch copy (KV's propagation delay).
      await worker.kv.put(key, original, { metadata });
      await sleep(2500); // past the copy's idle deadline, inside the touched one
      const eventual = await worker.validate(created.token);
      assert.deepEqual(
        [eventual.status, eventual.body.error],
        [401, "session_expired"],
        "the stale copy alone says expired",
      );
      const strong = await worker.validate(created.token, { query: "?consistency=strong" });
      assert.equal(strong.status, 200, JSON.stringify(strong.body));
      assert.ok(secs(strong.body.expires_at) > secs(created.expires_at));
    } finally {
      await worker.dispose();
    }
  });
});
