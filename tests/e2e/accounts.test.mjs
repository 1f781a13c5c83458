// Account control through the per-account Durable Object: listings, revocation,
// strong validation, housekeeping, concurrency, durability and audit events.

import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startWorker, kvKeyOf, sleep } from "./harness.mjs";
import { admin, bearer, json } from "./support/requests.mjs";

describe("the session holder's account", () => {
  let worker;
  before(async () => {
    worker = await startWorker();
  });
  after(async () => {
    await worker?.dispose();
  });

  test("GET /v1/sessions lists live sessions newest first, marking the caller's", async () => {
    const a = await worker.createSession("list-me", { ip: "198.51.100.1", user_agent: "Safari", label: "phone" });
    await sleep(1100);
    const b = await worker.createSession("list-me", { ip: "198.51.100.2", user_agent: "Firefox", label: "laptop" });
    await worker.createSession("someone-else");
    const res = await worker.fetch("/v1/sessions", { headers: bearer(a.token) });
    const text = await res.clone().text();
    const { sessions } = await json(res, 200);
    assert.deepEqual(
      sessions.map((s) => s.session_id),
      [b.session_id, a.session_id],
    );
    assert.deepEqual(
      sessions.map((s) => s.current),
      [false, true],
    );
    assert.deepEqual(sessions[1], {
      session_id: a.session_id,
      created_at: a.created_at,
      last_seen_at: a.created_at,
      expires_at: a.expires_at,
      absolute_expires_at: a.absolute_expires_at,
      ip: "198.51.100.1",
      user_agent: "Safari",
      label: "phone",
      authenticated_at: a.created_at,
      aal: 1,
      amr: [],
      claims: {},
      device_bound: false,
      // Where and on what it was last used (theft signals): this listing was its first
      // use, with the harness's user agent and Miniflare's placeholder request.cf.
      device: "Unknown",
      country: "US",
      current: true,
    });
    for (const token of [a.token, b.token]) {
      assert.ok(!text.includes(token.slice(4)), "no token in a listing");
      assert.ok(!text.includes((await kvKeyOf(token)).slice(8)), "no token hash in a listing");
    }
  });

  test("revoking one of your own sessions; another account's id answers exactly like an unknown one", async () => {
    const mine = await worker.createSession("owner");
    const other = await worker.createSession("owner");
    const theirs = await worker.createSession("stranger");

    const foreign = await worker.fetch(`/v1/sessions/${theirs.session_id}`, {
      method: "DELETE",
      headers: bearer(mine.token),
    });
    const unknown = await worker.fetch(`/v1/sessions/sid_${"0".repeat(32)}`, {
      method: "DELETE",
      headers: bearer(mine.token),
    });
    const malformed = await worker.fetch("/v1/sessions/not-an-id", { method: "DELETE", headers: bearer(mine.token) });
    const foreignBody = await json(foreign, 404);
    assert.deepEqual(await json(unknown, 404), foreignBody);
    assert.deepEqual(await json(malformed, 404), foreignBody);
    assert.equal(foreignBody.error, "session_not_found");
    assert.equal((await worker.validate(theirs.token)).status, 200, "the stranger's session survives");

    const res = await worker.fetch(`/v1/sessions/${other.session_id}`, {
      method: "DELETE",
      headers: bearer(mine.token),
    });
    assert.equal(res.status, 204);
    assert.equal((await worker.validate(other.token)).body.error, "session_not_found");
    assert.equal(await worker.kv.get(await kvKeyOf(other.token)), null);
    assert.equal((await worker.validate(mine.token)).status, 200);
  });

  test("log out everywhere else keeps only the caller", async () => {
    const sessions = [];
    for (let i = 0; i < 4; i++) sessions.push(await worker.createSession("others"));
    const [keep, ...rest] = sessions;
    const body = await json(
      await worker.fetch("/v1/sessions?scope=others", { method: "DELETE", headers: bearer(keep.token) }),
      200,
    );
    assert.deepEqual(body, { revoked: 3 });
    assert.equal((await worker.validate(keep.token)).status, 200);
    for (const s of rest) assert.equal((await worker.validate(s.token)).status, 401);
    const { sessions: listed } = await json(await worker.fetch("/v1/sessions", { headers: bearer(keep.token) }), 200);
    assert.deepEqual(
      listed.map((s) => s.session_id),
      [keep.session_id],
    );
  });

  test("log out everywhere revokes the caller too and clears the cookie", async () => {
    const a = await worker.createSession("everywhere");
    const b = await worker.createSession("everywhere");
    const res = await worker.fetch("/v1/sessions", {
      method: "DELETE",
      headers: { Cookie: `__Host-session=${a.token}` },
    });
    assert.match(res.headers.get("set-cookie"), /^__Host-session=; Max-Age=0;/);
    assert.deepEqual(await json(res, 200), { revoked: 2 });
    for (const s of [a, b]) {
      assert.equal((await worker.validate(s.token)).status, 401);
      assert.equal(await worker.kv.get(await kvKeyOf(s.token)), null);
    }
  });

  test("an unknown scope is a 400", async () => {
    const a = await worker.createSession("scoped");
    const body = await json(
      await worker.fetch("/v1/sessions?scope=mine", { method: "DELETE", headers: bearer(a.token) }),
      400,
    );
    assert.equal(body.error, "invalid_scope");
    assert.equal((await worker.validate(a.token)).status, 200);
  });
});

describe("admin account control", () => {
  let worker;
  before(async () => {
    worker = await startWorker();
  });
  after(async () => {
    await worker?.dispose();
  });

  test("list an account's sessions, newest first, with a limit", async () => {
    const created = [];
    for (let i = 0; i < 3; i++) {
      created.push(await worker.createSession("adm-list", { label: `device-${i}` }));
      await sleep(1050);
    }
    const all = await json(await worker.fetch("/v1/admin/accounts/adm-list/sessions", { headers: admin }), 200);
    assert.deepEqual(
      all.sessions.map((s) => s.label),
      ["device-2", "device-1", "device-0"],
    );
    assert.ok(all.sessions.every((s) => !("current" in s)));
    const two = await json(await worker.fetch("/v1/admin/accounts/adm-list/sessions?limit=2", { headers: admin }), 200);
    assert.deepEqual(
      two.sessions.map((s) => s.session_id),
      [created[2].session_id, created[1].session_id],
    );
    for (const bad of ["0", "-1", "abc", "100000"]) {
      const body = await json(
        await worker.fetch(`/v1/admin/accounts/adm-list/sessions?limit=${bad}`, { headers: admin }),
        400,
      );
      assert.equal(body.error, "invalid_limit");
    }
    assert.equal((await worker.fetch("/v1/admin/accounts/adm-list/sessions")).status, 401);
  });

  test("revoke all of an account's sessions", async () => {
    const a = await worker.createSession("adm-all");
    const b = await worker.createSession("adm-all");
    const bystander = await worker.createSession("adm-bystander");
    const body = await json(
      await worker.fetch("/v1/admin/accounts/adm-all/sessions", { method: "DELETE", headers: admin }),
      200,
    );
    assert.deepEqual(body, { revoked: 2 });
    for (const s of [a, b]) assert.equal((await worker.validate(s.token)).status, 401);
    assert.equal((await worker.validate(bystander.token)).status, 200);
    const again = await json(
      await worker.fetch("/v1/admin/accounts/adm-all/sessions", { method: "DELETE", headers: admin }),
      200,
    );
    assert.deepEqual(again, { revoked: 0 });
  });

  test("revoke one session: 204, or 404 when it belongs to another account", async () => {
    const a = await worker.createSession("adm-one");
    const other = await worker.createSession("adm-two");
    const wrong = await worker.fetch(`/v1/admin/accounts/adm-one/sessions/${other.session_id}`, {
      method: "DELETE",
      headers: admin,
    });
    assert.equal((await json(wrong, 404)).error, "session_not_found");
    assert.equal((await worker.validate(other.token)).status, 200);
    const ok = await worker.fetch(`/v1/admin/accounts/adm-one/sessions/${a.session_id}`, {
      method: "DELETE",
      headers: admin,
    });
    assert.equal(ok.status, 204);
    assert.equal((await worker.validate(a.token)).status, 401);
  });

  test("the fleet listing pages through live sessions of every account", async () => {
    const fleet = await startWorker();
    try {
      const made = [];
      for (const account of ["f1", "f2", "f3", "f3", "f4"]) made.push(await fleet.createSession(account));
      await fleet.fetch(`/v1/admin/accounts/f4/sessions/${made[4].session_id}`, { method: "DELETE", headers: admin });
      const seen = [];
      let cursor;
      let pages = 0;
      do {
        const qs = cursor ? `?limit=2&cursor=${encodeURIComponent(cursor)}` : "?limit=2";
        const page = await json(await fleet.fetch(`/v1/admin/sessions${qs}`, { headers: admin }), 200);
        seen.push(...page.sessions);
        cursor = page.cursor;
        pages++;
      } while (cursor && pages < 10);
      assert.ok(pages >= 2, "paged");
      const expected = made
        .slice(0, 4)
        .map((s) => s.session_id)
        .sort();
      assert.deepEqual(seen.map((s) => s.session_id).sort(), expected);
      for (const junk of ["not a cursor!", "%00", "x".repeat(2000)]) {
        const bad = await fleet.fetch(`/v1/admin/sessions?cursor=${encodeURIComponent(junk)}`, { headers: admin });
        assert.equal((await json(bad, 400)).error, "invalid_cursor");
      }
      const f3 = seen.filter((s) => s.account_id === "f3");
      assert.equal(f3.length, 2);
      assert.ok(seen.every((s) => Number.isInteger(s.expires_at) && Number.isInteger(s.absolute_expires_at)));
    } finally {
      await fleet.dispose();
    }
  });
});

describe("strong validation and housekeeping", () => {
  test("consistency=strong refuses a revoked session that a stale KV copy would still accept", async () => {
    const worker = await startWorker();
    try {
      const s = await worker.createSession("strong");
      const key = await kvKeyOf(s.token);
      const stale = await worker.kv.getWithMetadata(key);
      assert.equal((await worker.validate(s.token, { query: "?consistency=strong" })).status, 200);
      await worker.fetch("/v1/session", { method: "DELETE", headers: bearer(s.token) });
      // Put the old value back, as a KV location that has not yet seen the delete would.
      await worker.kv.put(key, stale.value, { metadata: stale.metadata });
      assert.equal((await worker.validate(s.token)).status, 200, "eventual: trusts the stale copy");
      const strong = await worker.validate(s.token, { query: "?consistency=strong" });
      assert.deepEqual([strong.status, strong.body.error], [401, "session_not_found"]);
      assert.equal(
        (await worker.validate(s.token, { query: "?consistency=sometimes" })).body.error,
        "invalid_consistency",
      );
    } finally {
      await worker.dispose();
    }
  });

  test("a revocation whose KV deletes fail is retried, and strong validation refuses in the window", async () => {
    const dir = mkdtempSync(join(tmpdir(), "edge-sessions-outbox-"));
    try {
      // The same build with every KV delete failing (a KV outage at the binding).
      const failingDeletes = fileURLToPath(new URL("./failing-kv-deletes-entry.mjs", import.meta.url));
      let worker = await startWorker({ persistTo: dir, scriptPath: failingDeletes });
      const s = await worker.createSession("outbox");
      // Its first use takes the baseline (a Durable Object request); an unbaselined
      // session's first use would find the revocation in the object.
      assert.equal((await worker.validate(s.token)).status, 200);
      const key = await kvKeyOf(s.token);
      const res = await worker.fetch("/v1/admin/accounts/outbox/sessions", { method: "DELETE", headers: admin });
      assert.deepEqual(await json(res, 200), { revoked: 1 });
      assert.notEqual(await worker.kv.get(key), null, "the KV delete did not go through");
      assert.equal((await worker.validate(s.token)).status, 200, "eventual validation still sees KV");
      assert.equal((await worker.validate(s.token, { query: "?consistency=strong" })).body.error, "session_not_found");
      const { sessions } = await json(
        await worker.fetch("/v1/admin/accounts/outbox/sessions", { headers: admin }),
        200,
      );
      assert.deepEqual(sessions, []);
      await worker.dispose();

      assert.ok(
        worker.logs.some((l) => l.includes("KV delete failed, will retry")),
        "the failure was logged",
      );
      // The same storage, with KV deletes working again: the pending delete goes through.
      worker = await startWorker({ persistTo: dir });
      try {
        await worker.createSession("outbox"); // any command flushes the outbox
        assert.equal(await worker.kv.get(key), null, "the pending delete was retried");
        assert.equal((await worker.validate(s.token)).status, 401);
      } finally {
        await worker.dispose();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("expired sessions never list, and the alarm deletes them from KV before KV's own TTL", async () => {
    const worker = await startWorker();
    try {
      const short = await worker.createSession("tidy", { idle_ttl_secs: 1 });
      const long = await worker.createSession("tidy");
      await sleep(1500);
      const { sessions } = await json(await worker.fetch("/v1/sessions", { headers: bearer(long.token) }), 200);
      assert.deepEqual(
        sessions.map((s) => s.session_id),
        [long.session_id],
      );
      const adminList = await json(await worker.fetch("/v1/admin/accounts/tidy/sessions", { headers: admin }), 200);
      assert.deepEqual(
        adminList.sessions.map((s) => s.session_id),
        [long.session_id],
      );
      // KV's TTL floor is 60 s; only the alarm can have removed it this soon.
      const key = await kvKeyOf(short.token);
      const deadline = Date.now() + 5000;
      while ((await worker.kv.get(key)) !== null && Date.now() < deadline) await sleep(200);
      assert.equal(await worker.kv.get(key), null);
      assert.notEqual(await worker.kv.get(await kvKeyOf(long.token)), null);
    } finally {
      await worker.dispose();
    }
  });
});

describe("concurrency and durability", () => {
  test("40 concurrent creates with a limit of 5 leave exactly 5", async () => {
    const worker = await startWorker({ vars: { MAX_SESSIONS_PER_ACCOUNT: "5" } });
    try {
      const created = await Promise.all(
        Array.from({ length: 40 }, (_, i) => worker.createSession("burst", { label: `c${i}` })),
      );
      const evicted = created.flatMap((c) => c.evicted);
      assert.equal(evicted.length, 35);
      assert.equal(new Set(evicted).size, 35, "each session evicted once");
      const validating = [];
      for (const c of created) if ((await worker.validate(c.token)).status === 200) validating.push(c.session_id);
      assert.equal(validating.length, 5);
      const all = new Set(created.map((c) => c.session_id));
      assert.deepEqual(new Set([...evicted, ...validating]), all);
      const { sessions } = await json(await worker.fetch("/v1/admin/accounts/burst/sessions", { headers: admin }), 200);
      assert.deepEqual(sessions.map((s) => s.session_id).sort(), validating.sort());
      const keys = (await worker.dumpKv()).filter((e) => e.metadata?.account_id === "burst");
      assert.equal(keys.length, 5, "evicted KV keys are deleted");
    } finally {
      await worker.dispose();
    }
  });

  test("revoke-all racing creates and touches leaves nothing from before it alive", async () => {
    const worker = await startWorker({ vars: { TOUCH_INTERVAL_SECS: "0", MAX_SESSIONS_PER_ACCOUNT: "50" } });
    try {
      const before = await Promise.all(Array.from({ length: 6 }, () => worker.createSession("storm")));
      await sleep(1100); // every validation below finds a touch due
      const revokeAll = worker.fetch("/v1/admin/accounts/storm/sessions", { method: "DELETE", headers: admin });
      const touches = before.flatMap((s) => [worker.validate(s.token), worker.validate(s.token)]);
      // A create racing the revoke-all may land after it with a login dated before it:
      // the fence then refuses it (409 stale_authentication), as it must.
      const creates = Array.from({ length: 8 }, async () => {
        const res = await worker.fetch("/v1/admin/accounts/storm/sessions", { method: "POST", headers: admin });
        const body = await res.json();
        assert.ok(res.status === 201 || body.error === "stale_authentication", `${res.status} ${JSON.stringify(body)}`);
      });
      const [revoked] = await Promise.all([revokeAll, ...touches, ...creates]);
      assert.equal(revoked.status, 200);
      await sleep(1000); // let every wait_until touch land
      for (const s of before) {
        assert.equal(await worker.kv.get(await kvKeyOf(s.token)), null, "a pre-revoke session came back in KV");
        assert.equal((await worker.validate(s.token, { query: "?consistency=strong" })).status, 401);
      }
      const { sessions } = await json(await worker.fetch("/v1/admin/accounts/storm/sessions", { headers: admin }), 200);
      const beforeIds = new Set(before.map((s) => s.session_id));
      assert.ok(sessions.every((s) => !beforeIds.has(s.session_id)));
    } finally {
      await worker.dispose();
    }
  });

  test("two accounts hammered at once do not interfere", async () => {
    const worker = await startWorker({ vars: { MAX_SESSIONS_PER_ACCOUNT: "5" } });
    try {
      const burst = (account) => Array.from({ length: 15 }, () => worker.createSession(account));
      const results = await Promise.all([...burst("left"), ...burst("right")]);
      const byAccount = { left: [], right: [] };
      for (const r of results) byAccount[r.account_id].push(r);
      for (const [account, sessions] of Object.entries(byAccount)) {
        const own = new Set(sessions.map((s) => s.session_id));
        const evicted = sessions.flatMap((s) => s.evicted);
        assert.equal(evicted.length, 10, account);
        assert.ok(
          evicted.every((id) => own.has(id)),
          `${account} evicted only its own sessions`,
        );
        const listed = await json(
          await worker.fetch(`/v1/admin/accounts/${account}/sessions`, { headers: admin }),
          200,
        );
        assert.equal(listed.sessions.length, 5);
      }
    } finally {
      await worker.dispose();
    }
  });

  test("sessions and the index survive a restart of the runtime", async () => {
    const dir = mkdtempSync(join(tmpdir(), "edge-sessions-persist-"));
    try {
      let worker = await startWorker({ persistTo: dir });
      const a = await worker.createSession("durable", { label: "kept" });
      const b = await worker.createSession("durable");
      await worker.fetch(`/v1/admin/accounts/durable/sessions/${b.session_id}`, { method: "DELETE", headers: admin });
      await worker.dispose();

      worker = await startWorker({ persistTo: dir });
      try {
        assert.equal((await worker.validate(a.token)).status, 200);
        assert.equal((await worker.validate(b.token)).status, 401);
        const { sessions } = await json(await worker.fetch("/v1/sessions", { headers: bearer(a.token) }), 200);
        assert.deepEqual(
          sessions.map((s) => [s.session_id, s.label, s.current]),
          [[a.session_id, "kept", true]],
        );
      } finally {
        await worker.dispose();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("audit events", () => {
  test("create, refresh, revoke and eviction each log one JSON line without secrets", async () => {
    const worker = await startWorker({ vars: { MAX_SESSIONS_PER_ACCOUNT: "1", TOUCH_INTERVAL_SECS: "1" } });
    try {
      const first = await worker.createSession("audited");
      const second = await worker.createSession("audited"); // evicts first
      await sleep(1100);
      await worker.fetch("/v1/session/refresh", { method: "POST", headers: bearer(second.token) });
      await worker.fetch("/v1/session", { method: "DELETE", headers: bearer(second.token) });
      await sleep(200);
      const events = worker.logs.filter((l) => l.startsWith("{") && l.includes('"event"')).map((l) => JSON.parse(l));
      const summary = events.map((e) => [e.event, e.session_id, e.reason]);
      assert.deepEqual(summary, [
        ["session_created", first.session_id, "created"],
        ["session_created", second.session_id, "created"],
        ["session_evicted", first.session_id, "session_limit"],
        ["session_refreshed", second.session_id, "refresh"],
        ["session_revoked", second.session_id, "logout"],
      ]);
      for (const e of events) {
        assert.deepEqual(Object.keys(e).sort(), ["account_id", "at", "event", "reason", "session_id"]);
        assert.equal(e.account_id, "audited");
        assert.match(e.at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      }
      const logs = worker.logs.join("\n");
      for (const token of [first.token, second.token]) {
        assert.ok(!logs.includes(token.slice(4)), "token in logs");
        assert.ok(!logs.includes((await kvKeyOf(token)).slice(8)), "token hash in logs");
      }
    } finally {
      await worker.dispose();
    }
  });
});
