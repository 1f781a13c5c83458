// The hardening review's findings, each end to end in workerd: short idle overrides,
// refresh and rate limits, logout of an unreadable record, and partial failures inside
// the account's Durable Object (faults injected at the bindings, never in the worker).

import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startWorker, kvKeyOf, sleep } from "./harness.mjs";
import { admin, bearer, json } from "./support/requests.mjs";
import { until } from "./support/until.mjs";

const secs = (rfc3339) => Date.parse(rfc3339) / 1000;
const entry = (name) => fileURLToPath(new URL(`./${name}`, import.meta.url));

describe("a short idle override", () => {
  test("is extended by use, and the configuration that outruns KV is warned about", async () => {
    const worker = await startWorker({ vars: { IDLE_TTL_SECS: "60", TOUCH_INTERVAL_SECS: "5" } });
    try {
      const created = await worker.createSession("short-idle", { idle_ttl_secs: 4 });
      const statuses = [];
      for (let i = 0; i < 8; i++) {
        await sleep(1000);
        statuses.push((await worker.validate(created.token)).status);
      }
      assert.deepEqual(statuses, [200, 200, 200, 200, 200, 200, 200, 200], "an active user stays logged in");
      const warning = worker.logs.find((l) => l.includes('"warn"') && l.includes("configuration"));
      assert.ok(warning, "a warning was logged");
      assert.match(warning, /IDLE_TTL_SECS/);
      assert.match(warning, /TOUCH_INTERVAL_SECS/);
    } finally {
      await worker.dispose();
    }
  });

  test("the default configuration logs no warning", async () => {
    const worker = await startWorker();
    try {
      assert.equal((await worker.fetch("/v1/session")).status, 401);
      assert.equal(worker.logs.filter((l) => l.includes('"warn"')).length, 0, worker.logs.join("\n"));
    } finally {
      await worker.dispose();
    }
  });
});

describe("refresh and costly calls", () => {
  test("a refresh within the window answers the session as it is, without a write", async () => {
    const worker = await startWorker();
    try {
      const created = await worker.createSession("refresh-loop");
      const key = await kvKeyOf(created.token);
      // The first use by a client takes the baseline (docs/theft-signals.md): one write.
      assert.equal((await worker.validate(created.token)).status, 200);
      const stored = await worker.kv.get(key);
      const bodies = [];
      for (let i = 0; i < 5; i++) {
        bodies.push(
          await json(
            await worker.fetch("/v1/session/refresh", { method: "POST", headers: bearer(created.token) }),
            200,
          ),
        );
      }
      for (const body of bodies) assert.equal(body.expires_at, created.expires_at);
      assert.equal(await worker.kv.get(key), stored, "KV was not rewritten");
      assert.equal(worker.logs.filter((l) => l.includes('"session_refreshed"')).length, 0);
    } finally {
      await worker.dispose();
    }
  });

  test("refresh, strong validation and the listing are rate limited per session with 429 and Retry-After", async () => {
    const worker = await startWorker({ ratelimits: { SESSION_LIMITER: { simple: { limit: 3, period: 60 } } } });
    try {
      const busy = await worker.createSession("limited");
      const calm = await worker.createSession("limited");
      const strong = () => worker.validate(busy.token, { query: "?consistency=strong" });
      assert.deepEqual([(await strong()).status, (await strong()).status], [200, 200]);
      await json(await worker.fetch("/v1/sessions", { headers: bearer(busy.token) }), 200);

      for (const res of [
        await worker.fetch("/v1/session?consistency=strong", { headers: bearer(busy.token) }),
        await worker.fetch("/v1/sessions", { headers: bearer(busy.token) }),
        await worker.fetch("/v1/session/refresh", { method: "POST", headers: bearer(busy.token) }),
      ]) {
        assert.equal(res.headers.get("retry-after"), "60");
        const body = await json(res, 429);
        assert.equal(body.error, "rate_limited");
      }
      // The hot path is never limited, and another session has its own budget.
      assert.equal((await worker.validate(busy.token)).status, 200);
      assert.equal((await worker.validate(calm.token, { query: "?consistency=strong" })).status, 200);
    } finally {
      await worker.dispose();
    }
  });
});

describe("a stale KV copy", () => {
  test("sends one touch per touch interval from an isolate, not one per validation", async () => {
    const worker = await startWorker({ scriptPath: entry("stale-kv-entry.mjs"), vars: { TOUCH_INTERVAL_SECS: "5" } });
    try {
      const created = await worker.createSession("busy");
      // The first use takes the baseline (a Durable Object request, and a write the
      // stale copy never shows); from then on this isolate remembers it was accepted.
      assert.equal((await worker.validate(created.token)).status, 200);
      await sleep(5100); // a touch is due from here on, and the copy never shows it
      const requests = async () => Number(await (await worker.fetch("/__test/do-requests")).text());
      const before = await requests();
      const started = Date.now();
      for (let i = 0; i < 200; i++) assert.equal((await worker.validate(created.token)).status, 200);
      // One touch per interval begun during the loop: on a loaded machine it may span two.
      const intervals = Math.floor((Date.now() - started) / 5000) + 1;
      await sleep(300);
      const touches = (await requests()) - before;
      assert.ok(
        touches >= 1 && touches <= intervals,
        `${touches} Durable Object requests for 200 validations in ${intervals} interval(s) of 5 s`,
      );
    } finally {
      await worker.dispose();
    }
  });
});

describe("logout", () => {
  test("?account_id= reaches the account's object for a token this location's KV does not have yet (issue 24)", async () => {
    const worker = await startWorker();
    try {
      const listed = async (account) =>
        (await json(await worker.fetch(`/v1/admin/accounts/${account}/sessions`, { headers: admin }), 200)).sessions;
      const created = await worker.createSession("young");
      // As at a location KV has not reached: the record is not there, the object has it.
      await worker.kv.delete(await kvKeyOf(created.token));
      const logout = (query) =>
        worker.fetch(`/v1/session${query}`, { method: "DELETE", headers: bearer(created.token) });
      assert.equal((await logout("")).status, 204);
      assert.equal((await listed("young")).length, 1, "without the hint, nothing to ask: nothing revoked");
      assert.equal((await json(await logout("?account_id=../x"), 400)).error, "invalid_account_id");
      assert.equal((await logout("?account_id=someone-else")).status, 204);
      assert.equal((await listed("young")).length, 1, "a wrong account revokes nothing");
      const other = await worker.createSession("young");
      const otherHint = await worker.fetch("/v1/session?account_id=young", {
        method: "DELETE",
        headers: bearer(`est_${"B".repeat(43)}`),
      });
      assert.equal(otherHint.status, 204);
      assert.equal((await listed("young")).length, 2, "another token with the right account revokes nothing");
      assert.equal((await logout("?account_id=young")).status, 204);
      assert.deepEqual(
        (await listed("young")).map((s) => s.session_id),
        [other.session_id],
        "the hinted account's object revoked this session, and only it",
      );
      // A rotated token names a session id of its own no longer: the object finds the
      // session by the token's hash (the fleet simulation's seed 1 found this).
      const rotated = await json(
        await worker.fetch("/v1/session/rotate", { method: "POST", headers: bearer(other.token) }),
        200,
      );
      await worker.kv.delete(await kvKeyOf(rotated.token));
      const hinted = await worker.fetch("/v1/session?account_id=young", {
        method: "DELETE",
        headers: bearer(rotated.token),
      });
      assert.equal(hinted.status, 204);
      assert.deepEqual(await listed("young"), [], "the rotated session is revoked through its token's hash");
    } finally {
      await worker.dispose();
    }
  });

  test("revokes a session whose KV record this build cannot read, through the key metadata", async () => {
    const worker = await startWorker();
    try {
      const created = await worker.createSession("rollout");
      const key = await kvKeyOf(created.token);
      const { metadata } = await worker.kv.getWithMetadata(key);
      assert.equal(metadata.session_id, created.session_id);
      // A newer build's record, as during a rollout.
      await worker.kv.put(key, JSON.stringify({ v: 2, future: true }), { metadata });

      const res = await worker.fetch("/v1/session", { method: "DELETE", headers: bearer(created.token) });
      assert.equal(res.status, 204);
      const { sessions } = await json(
        await worker.fetch("/v1/admin/accounts/rollout/sessions", { headers: admin }),
        200,
      );
      assert.deepEqual(sessions, [], "revoked in the account's Durable Object");
      assert.equal(await worker.kv.get(key), null, "its KV key is gone");
      const revoked = worker.logs
        .map((l) => (l.startsWith("{") ? JSON.parse(l) : {}))
        .find((e) => e.event === "session_revoked");
      assert.deepEqual([revoked?.session_id, revoked?.reason], [created.session_id, "logout"]);
    } finally {
      await worker.dispose();
    }
  });
});

describe("partial failures inside the account's Durable Object", () => {
  let dir;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "edge-sessions-faults-"));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** Starts the hanging-put build, creates `real` sessions, then one whose put lands and never returns; restarts on the same storage. */
  async function withGhost(persistTo, accountId, vars) {
    const faulty = await startWorker({ persistTo, scriptPath: entry("hanging-put-entry.mjs"), vars });
    const real = await faulty.createSession(accountId);
    const ghostCreate = faulty.createSession(accountId, { label: "hang" }).catch(() => null);
    await until("the ghost's KV put", async () => (await faulty.dumpKv()).length === 2);
    const realKey = await kvKeyOf(real.token);
    const ghostKey = (await faulty.dumpKv()).map((e) => e.name).find((name) => name !== realKey);
    await faulty.dispose();
    await ghostCreate;
    const worker = await startWorker({ persistTo, vars });
    return { worker, real, ghostKey };
  }

  test("a create cut off between its index row and KV leaves a ghost that evicts nobody", async () => {
    const vars = { MAX_SESSIONS_PER_ACCOUNT: "2" };
    const { worker, real, ghostKey } = await withGhost(join(dir, "ghost"), "ghosted", vars);
    try {
      const next = await worker.createSession("ghosted");
      assert.deepEqual(next.evicted, [], "the ghost did not count toward the limit");
      assert.equal((await worker.validate(real.token)).status, 200);
      const { sessions } = await json(
        await worker.fetch("/v1/admin/accounts/ghosted/sessions", { headers: admin }),
        200,
      );
      assert.deepEqual(
        sessions.map((s) => s.session_id),
        [next.session_id, real.session_id],
      );
      await until("the ghost's KV key to go", async () => (await worker.kv.get(ghostKey)) === null);
    } finally {
      await worker.dispose();
    }
  });

  test("the alarm removes a ghost and its KV key with no other command", async () => {
    const { worker, ghostKey } = await withGhost(join(dir, "alarm"), "haunted", {});
    try {
      assert.notEqual(await worker.kv.get(ghostKey), null, "the put had landed");
      await until("the alarm to delete the ghost's key", async () => (await worker.kv.get(ghostKey)) === null, 20000);
    } finally {
      await worker.dispose();
    }
  });

  test("a create whose reply is lost is retried and evicts nobody twice", async () => {
    const worker = await startWorker({
      scriptPath: entry("lost-create-reply-entry.mjs"),
      vars: { MAX_SESSIONS_PER_ACCOUNT: "2" },
    });
    try {
      const a = await worker.createSession("retried");
      const b = await worker.createSession("retried");
      const c = await worker.createSession("retried"); // its first reply is lost
      assert.deepEqual(c.evicted, [a.session_id], "the retry answers as the first attempt did");
      assert.equal((await worker.validate(b.token)).status, 200, "b was not evicted by the retry");
      assert.equal((await worker.validate(c.token)).status, 200);
      assert.equal((await worker.validate(a.token)).status, 401);
      assert.ok(worker.logs.some((l) => l.includes("create reply lost, retrying")));
      const created = worker.logs.filter((l) => l.includes('"session_created"') && l.includes(c.session_id));
      assert.equal(created.length, 1, "one session, one event");
    } finally {
      await worker.dispose();
    }
  });

  test("a touch cut off between KV and the index is adopted by the alarm, not purged", async () => {
    const persistTo = join(dir, "touch");
    const vars = { TOUCH_INTERVAL_SECS: "3" };
    const faulty = await startWorker({ persistTo, scriptPath: entry("hanging-put-entry.mjs"), vars });
    const created = await faulty.createSession("touch-ghost", { idle_ttl_secs: 8 });
    const key = await kvKeyOf(created.token);
    await sleep(3200);
    assert.equal((await faulty.validate(created.token)).status, 200); // schedules the touch
    await until(
      "the touch's KV put",
      async () => JSON.parse(await faulty.kv.get(key)).idle_expires_at > secs(created.expires_at),
    );
    const touched = JSON.parse(await faulty.kv.get(key));
    await faulty.dispose();

    const worker = await startWorker({ persistTo, vars });
    try {
      // Past the index's stale idle deadline (the alarm's time), inside KV's.
      const wait = (secs(created.expires_at) + 1.5) * 1000 - Date.now();
      assert.ok(touched.idle_expires_at > secs(created.expires_at) + 2, "KV holds the later deadline");
      await sleep(Math.max(0, wait));
      const after = await worker.validate(created.token);
      assert.equal(after.status, 200, JSON.stringify(after.body));
      const { sessions } = await json(
        await worker.fetch("/v1/admin/accounts/touch-ghost/sessions", { headers: admin }),
        200,
      );
      // The index holds KV's deadline (or a later one: the validation above may touch).
      assert.equal(sessions.length, 1);
      assert.ok(secs(sessions[0].expires_at) >= touched.idle_expires_at, "the index adopted KV's deadline");
    } finally {
      await worker.dispose();
    }
  });
});

// Issue 20: the outside review's low findings and the contract check, each end to end.
describe("review findings", () => {
  test("revoke-one, revoke-all and the gatekeeper's strong checks are rate limited; CSRF refusals cost nothing", async () => {
    const limited = { SESSION_LIMITER: { simple: { limit: 2, period: 60 } } };
    const worker = await startWorker({
      ratelimits: limited,
      vars: { ORIGIN_URL: "http://127.0.0.1:9", ORIGIN_TIMEOUT_MS: "200" },
    });
    try {
      const s = await worker.createSession("limited-revoke");
      const revokeOne = () => worker.fetch("/v1/sessions/sid_unknown", { method: "DELETE", headers: bearer(s.token) });
      assert.deepEqual([(await revokeOne()).status, (await revokeOne()).status], [404, 404]);
      assert.equal((await json(await revokeOne(), 429)).error, "rate_limited");

      const t = await worker.createSession("limited-revoke-all");
      const others = () => worker.fetch("/v1/sessions?scope=others", { method: "DELETE", headers: bearer(t.token) });
      assert.deepEqual([(await others()).status, (await others()).status], [200, 200]);
      assert.equal((await json(await others(), 429)).error, "rate_limited");

      // Gated writes are checked strongly: cross-site cookie writes are refused before
      // anything leaves the isolate, so they spend none of the session's budget.
      const u = await worker.createSession("limited-gate");
      const crossSite = {
        Cookie: `__Host-session=${u.token}`,
        Origin: "https://evil.example",
        "Sec-Fetch-Site": "cross-site",
      };
      for (let i = 0; i < 3; i++) {
        const res = await worker.fetch("/form", { method: "POST", headers: crossSite, body: "x" });
        assert.equal((await json(res, 403)).error, "origin_not_allowed");
      }
      const write = () => worker.fetch("/form", { method: "POST", headers: bearer(u.token), body: "x" });
      // The origin (a closed port) is unreachable: 502 means the check passed.
      assert.deepEqual([(await write()).status, (await write()).status], [502, 502]);
      const third = await write();
      assert.equal((await json(third, 429)).error, "rate_limited");
      const nav = await worker.fetch("/form", {
        method: "POST",
        headers: { ...bearer(u.token), Accept: "text/html" },
        body: "x",
      });
      assert.equal(nav.status, 429, "a rate limit is not answered with a login redirect");
    } finally {
      await worker.dispose();
    }
  });

  test("without a SESSION_LIMITER binding, calls go through and the isolate says so once", async () => {
    const worker = await startWorker({ ratelimits: {} });
    try {
      const s = await worker.createSession("unlimited");
      for (let i = 0; i < 3; i++)
        assert.equal((await worker.validate(s.token, { query: "?consistency=strong" })).status, 200);
      const said = worker.logs.filter((l) => l.includes("no SESSION_LIMITER binding"));
      assert.equal(said.length, 1, said.join("\n"));
    } finally {
      await worker.dispose();
    }
  });

  test("a rotated-away token whose KV copy lingers cannot log out the session that replaced it", async () => {
    const worker = await startWorker();
    try {
      const s = await worker.createSession("logout-rotated");
      const copy = (await worker.dumpKv()).find((e) => e.value?.includes(s.session_id));
      const rotated = await json(
        await worker.fetch("/v1/session/rotate", { method: "POST", headers: bearer(s.token) }),
        200,
      );
      await worker.kv.put(copy.name, copy.value, { metadata: copy.metadata }); // a location KV has not reached
      const logout = await worker.fetch("/v1/session", { method: "DELETE", headers: bearer(s.token) });
      assert.equal(logout.status, 204, "logout stays idempotent");
      const still = await worker.validate(rotated.token, { query: "?consistency=strong" });
      assert.equal(still.status, 200, "the replacing session survives");
      // The current token still logs out.
      assert.equal(
        (await worker.fetch("/v1/session", { method: "DELETE", headers: bearer(rotated.token) })).status,
        204,
      );
      assert.equal((await worker.validate(rotated.token, { query: "?consistency=strong" })).status, 401);
    } finally {
      await worker.dispose();
    }
  });

  test("contract: 405 carries Allow for any method, a preflight is no-store, authenticated_at at the bottom of i64 is refused", async () => {
    const worker = await startWorker({ vars: { ALLOWED_ORIGINS: "https://app.example" } });
    try {
      for (const [method, path, allow] of [
        ["QUERY", "/v1/session", "GET, DELETE"],
        ["PROPFIND", "/v1/sessions", "GET, DELETE"],
        ["PUT", "/v1/session/refresh", "POST"],
      ]) {
        const res = await worker.fetch(path, { method });
        assert.equal(res.status, 405, `${method} ${path}`);
        assert.equal(res.headers.get("allow"), allow, `${method} ${path}`);
        assert.equal((await res.json()).error, "method_not_allowed");
      }
      const preflight = await worker.fetch("/v1/session", {
        method: "OPTIONS",
        headers: { Origin: "https://app.example", "Access-Control-Request-Method": "DELETE" },
      });
      assert.equal(preflight.status, 204);
      assert.equal(preflight.headers.get("cache-control"), "no-store");

      for (const at of ["-9223372036854775808", "9223372036854775807"]) {
        const res = await worker.fetch("/v1/admin/accounts/overflow/sessions", {
          method: "POST",
          headers: { ...admin, "Content-Type": "application/json" },
          body: `{"authenticated_at": ${at}}`,
        });
        assert.equal((await json(res, 400)).error, "invalid_authentication", at);
      }
      const { sessions } = await json(
        await worker.fetch("/v1/admin/accounts/overflow/sessions", { headers: admin }),
        200,
      );
      assert.deepEqual(sessions, [], "nothing was indexed");
    } finally {
      await worker.dispose();
    }
  });

  test("contract: 60.0 is a whole number in a JSON body and a query, 60.5 is not, and null reads as absent", async () => {
    const worker = await startWorker();
    try {
      const post = (body) =>
        worker.fetch("/v1/admin/accounts/floats/sessions", {
          method: "POST",
          headers: { ...admin, "Content-Type": "application/json" },
          body,
        });
      const created = await json(await post('{"idle_ttl_secs": 60.0, "aal": 2.0, "label": null}'), 201);
      assert.equal(secs(created.expires_at) - secs(created.created_at), 60);
      assert.equal(created.aal, 2);
      assert.equal((await json(await post('{"idle_ttl_secs": 60.5}'), 400)).error, "invalid_json");
      assert.equal(
        (await json(await post('{"authenticated_at": ' + (Math.floor(Date.now() / 1000) - 5) + ".0}"), 201)).aal,
        1,
      );
      // And in a query, by the same rule.
      const fresh = await worker.validate(created.token, { query: "?max_age=60.0&min_aal=1.0" });
      assert.equal(fresh.status, 200);
      const page = await worker.fetch("/v1/admin/accounts/floats/sessions?limit=1.0", { headers: admin });
      assert.equal((await json(page, 200)).sessions.length, 1);
      const half = await worker.fetch("/v1/admin/accounts/floats/sessions?limit=1.5", { headers: admin });
      assert.equal((await json(half, 400)).error, "invalid_limit");
    } finally {
      await worker.dispose();
    }
  });
});
