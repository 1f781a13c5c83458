// Sessions end to end in workerd: create, validate, touch, refresh, logout, with
// assertions on response bodies and on what KV actually holds.

import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startWorker, kvKeyOf, sleep } from "./harness.mjs";
import { adminJson } from "./support/requests.mjs";

const secs = (rfc3339) => Date.parse(rfc3339) / 1000;
const TOKEN_RE = /^est_[A-Za-z0-9_-]{43}$/;

describe("create and validate", () => {
  let worker;
  before(async () => {
    worker = await startWorker();
  });
  after(async () => {
    await worker?.dispose();
  });

  test("create returns a token once, with deadlines and a ready cookie", async () => {
    const created = await worker.createSession("alice", {
      ip: "203.0.113.7",
      user_agent: "Firefox/140",
      label: "laptop",
    });
    assert.match(created.token, TOKEN_RE);
    assert.match(created.session_id, /^sid_[0-9a-f]{32}$/);
    assert.equal(created.account_id, "alice");
    assert.deepEqual(created.evicted, []);
    assert.equal(secs(created.expires_at) - secs(created.created_at), 1800);
    assert.equal(secs(created.absolute_expires_at) - secs(created.created_at), 30 * 24 * 3600);
    assert.equal(
      created.setCookie,
      `__Host-session=${created.token}; Max-Age=${30 * 24 * 3600}; Path=/; Secure; HttpOnly; SameSite=Lax`,
    );
  });

  test("KV holds the record under the token's blake3 hash, and never the token", async () => {
    const created = await worker.createSession("bob", { label: "phone" });
    const key = await kvKeyOf(created.token);
    const { value, metadata } = await worker.kv.getWithMetadata(key);
    const record = JSON.parse(value);
    assert.equal(record.v, 3);
    assert.equal(record.authenticated_at, secs(created.created_at));
    assert.equal(record.aal, 1);
    assert.equal(record.account_id, "bob");
    assert.equal(record.session_id, created.session_id);
    assert.equal(record.meta.label, "phone");
    assert.equal(record.idle_expires_at, secs(created.expires_at));
    assert.equal(record.absolute_expires_at, secs(created.absolute_expires_at));
    assert.deepEqual(metadata, {
      account_id: "bob",
      session_id: created.session_id,
      expires_at: record.idle_expires_at,
      absolute_expires_at: record.absolute_expires_at,
    });
    assert.ok(!value.includes(created.token.slice(4)));
  });

  test("validate by bearer and by cookie returns the session", async () => {
    const created = await worker.createSession("carol");
    const expected = {
      account_id: "carol",
      session_id: created.session_id,
      created_at: created.created_at,
      expires_at: created.expires_at,
      absolute_expires_at: created.absolute_expires_at,
      authenticated_at: created.created_at,
      aal: 1,
      amr: [],
      claims: {},
      device_bound: false,
    };
    const byBearer = await worker.validate(created.token);
    assert.equal(byBearer.status, 200);
    assert.deepEqual(byBearer.body, expected);
    const res = await worker.fetch("/v1/session", {
      headers: { Cookie: `theme=dark; __Host-session=${created.token}` },
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("cache-control"), "no-store");
    assert.deepEqual(await res.json(), expected);
  });

  test("validate errors carry the documented codes", async () => {
    const missing = await worker.fetch("/v1/session");
    assert.equal(missing.status, 401);
    assert.equal((await missing.json()).error, "missing_token");
    assert.match(missing.headers.get("www-authenticate"), /^Bearer realm="session", error="missing_token"$/);

    const unknown = await worker.validate(`est_${"A".repeat(43)}`);
    assert.deepEqual([unknown.status, unknown.body.error], [401, "session_not_found"]);

    const malformed = await worker.validate("est_short");
    assert.deepEqual([malformed.status, malformed.body.error], [401, "invalid_token"]);
  });

  test("per-session lifetimes may shorten but never lengthen the policy", async () => {
    const short = await worker.createSession("dave", { idle_ttl_secs: 120, absolute_ttl_secs: 600 });
    assert.equal(secs(short.expires_at) - secs(short.created_at), 120);
    assert.equal(secs(short.absolute_expires_at) - secs(short.created_at), 600);
    assert.match(short.setCookie, /Max-Age=600;/);

    const res = await worker.fetch("/v1/admin/accounts/dave/sessions", {
      method: "POST",
      headers: adminJson,
      body: JSON.stringify({ idle_ttl_secs: 1801 }),
    });
    assert.equal(res.status, 400);
    assert.equal((await res.json()).error, "invalid_lifetime");
  });

  test("logout revokes: 204, cleared cookie, KV key gone, then 401", async () => {
    const created = await worker.createSession("erin");
    const key = await kvKeyOf(created.token);
    assert.notEqual(await worker.kv.get(key), null);

    const res = await worker.fetch("/v1/session", {
      method: "DELETE",
      headers: { Cookie: `__Host-session=${created.token}` },
    });
    assert.equal(res.status, 204);
    assert.equal(res.headers.get("set-cookie"), "__Host-session=; Max-Age=0; Path=/; Secure; HttpOnly; SameSite=Lax");
    assert.equal(await worker.kv.get(key), null);

    const after = await worker.validate(created.token);
    assert.deepEqual([after.status, after.body.error], [401, "session_not_found"]);

    // Idempotent: a second logout with the same token is still 204.
    const again = await worker.fetch("/v1/session", {
      method: "DELETE",
      headers: { Authorization: `Bearer ${created.token}` },
    });
    assert.equal(again.status, 204);
    // A cookie that cannot even be read is still cleared.
    for (const cookie of ["__Host-session=garbage", "__Host-session=a; __Host-session=b"]) {
      const junk = await worker.fetch("/v1/session", { method: "DELETE", headers: { Cookie: cookie } });
      assert.equal(junk.status, 204, cookie);
      assert.match(junk.headers.get("set-cookie"), /^__Host-session=; Max-Age=0;/);
    }
  });

  test("refresh extends the idle deadline now and rewrites KV", async () => {
    // A refresh is due once the session's touch interval (or 10 s, if shorter) has
    // passed since the last extension: 1 s here, so the test need not wait long.
    const worker = await startWorker({ vars: { TOUCH_INTERVAL_SECS: "1" } });
    try {
      const created = await worker.createSession("frank");
      await sleep(1100);
      const res = await worker.fetch("/v1/session/refresh", {
        method: "POST",
        headers: { Authorization: `Bearer ${created.token}` },
      });
      assert.equal(res.status, 200);
      const body = await res.json();
      assert.ok(secs(body.expires_at) > secs(created.expires_at), `${body.expires_at} > ${created.expires_at}`);
      assert.equal(body.absolute_expires_at, created.absolute_expires_at);
      const record = JSON.parse(await worker.kv.get(await kvKeyOf(created.token)));
      assert.equal(record.idle_expires_at, secs(body.expires_at));
      assert.ok(record.last_seen_at > record.created_at);
    } finally {
      await worker.dispose();
    }
  });

  test("the session limit evicts the oldest and deletes its KV key", async () => {
    const limited = await startWorker({ vars: { MAX_SESSIONS_PER_ACCOUNT: "2" } });
    try {
      // Created back to back, usually within the same second: the first indexed is
      // still the oldest.
      const first = await limited.createSession("gina");
      const second = await limited.createSession("gina");
      const third = await limited.createSession("gina");
      assert.deepEqual(second.evicted, []);
      assert.deepEqual(third.evicted, [first.session_id]);
      assert.equal(await limited.kv.get(await kvKeyOf(first.token)), null);
      assert.equal((await limited.validate(first.token)).body.error, "session_not_found");
      assert.equal((await limited.validate(second.token)).status, 200);
      assert.equal((await limited.validate(third.token)).status, 200);
    } finally {
      await limited.dispose();
    }
  });

  test("no token appears anywhere in KV or in the logs", async () => {
    const tokens = [];
    for (const account of ["kv-a", "kv-b", "kv-b"]) {
      const created = await worker.createSession(account, { label: "x" });
      tokens.push(created.token);
      await worker.validate(created.token);
    }
    const dump = await worker.dumpKv();
    assert.ok(dump.length >= tokens.length);
    const everything = JSON.stringify(dump);
    for (const token of tokens) {
      assert.ok(!everything.includes(token.slice(4)), "token body found in KV");
      const key = await kvKeyOf(token);
      assert.ok(
        dump.some((e) => e.name === key),
        "each session is stored under its hash",
      );
    }
    for (const entry of dump) {
      assert.match(entry.name, /^session:[0-9a-f]{64}$/);
    }
    const logs = worker.logs.join("\n");
    for (const token of tokens) assert.ok(!logs.includes(token.slice(4)), "token body found in logs");
  });
});

describe("lifecycle with short TTLs", () => {
  test("an idle session expires at its idle deadline", async () => {
    const worker = await startWorker({
      vars: { IDLE_TTL_SECS: "2", ABSOLUTE_TTL_SECS: "60", TOUCH_INTERVAL_SECS: "1" },
    });
    try {
      const created = await worker.createSession("idle");
      const key = await kvKeyOf(created.token);
      const stored = await worker.kv.get(key);
      assert.equal((await worker.validate(created.token)).status, 200);
      await sleep(3100);
      // KV expires lazily (and its TTL has a 60 s floor): put the record back as a KV
      // location that has not collected it yet would serve it. The record's own
      // deadline must refuse it.
      await worker.kv.put(key, stored);
      const expired = await worker.validate(created.token);
      assert.deepEqual([expired.status, expired.body.error], [401, "session_expired"]);
    } finally {
      await worker.dispose();
    }
  });

  test("steady use keeps a session past its idle window but never past the absolute cap", async () => {
    const worker = await startWorker({
      vars: { IDLE_TTL_SECS: "2", ABSOLUTE_TTL_SECS: "5", TOUCH_INTERVAL_SECS: "0" },
    });
    try {
      const created = await worker.createSession("steady");
      const start = secs(created.created_at);
      const seen = [];
      const deadline = Date.now() + 7000;
      while (Date.now() < deadline) {
        const { status, body } = await worker.validate(created.token);
        seen.push({ at: Date.now() / 1000 - start, status, error: body.error, expires_at: body.expires_at });
        await sleep(300);
      }
      const ok = seen.filter((s) => s.status === 200);
      const lastOk = ok.at(-1);
      assert.ok(lastOk.at > 3, `touched past the 2 s idle window (last ok at ${lastOk.at.toFixed(1)} s)`);
      assert.ok(lastOk.at < 5.5, `never valid past the 5 s cap (last ok at ${lastOk.at.toFixed(1)} s)`);
      for (const s of ok) assert.ok(secs(s.expires_at) <= start + 5, "idle deadline clamped to the cap");
      assert.equal(secs(lastOk.expires_at), start + 5, "touches reached the cap and stopped there");
      const after = seen.filter((s) => s.at > 5.5);
      assert.ok(after.length > 0);
      // Expired, or already removed from KV by the account's housekeeping alarm.
      for (const s of after)
        assert.ok(s.status === 401 && ["session_expired", "session_not_found"].includes(s.error), JSON.stringify(s));
    } finally {
      await worker.dispose();
    }
  });

  test("a touch writes at most once per touch interval", async () => {
    const worker = await startWorker({
      vars: { IDLE_TTL_SECS: "60", ABSOLUTE_TTL_SECS: "600", TOUCH_INTERVAL_SECS: "2" },
    });
    try {
      const created = await worker.createSession("touchy");
      const key = await kvKeyOf(created.token);
      // The first use by a client takes its baseline (docs/theft-signals.md): one write.
      assert.equal((await worker.validate(created.token)).status, 200);
      const before = await worker.kv.get(key);
      assert.ok(JSON.parse(before).baseline, "the baseline's digest is in the record");
      await Promise.all(Array.from({ length: 10 }, () => worker.validate(created.token)));
      await sleep(300);
      assert.equal(await worker.kv.get(key), before, "no write inside the interval");

      await sleep(2000);
      const results = await Promise.all(Array.from({ length: 20 }, () => worker.validate(created.token)));
      assert.ok(results.every((r) => r.status === 200));
      await sleep(500);
      const touches = worker.logs.filter((l) => l.includes('"session_refreshed"') && l.includes(created.session_id));
      assert.equal(touches.length, 1, `one touch for 20 concurrent validations: ${touches.join("\n")}`);
      const record = JSON.parse(await worker.kv.get(key));
      assert.ok(record.last_seen_at >= record.created_at + 2);
      assert.equal(record.idle_expires_at, record.last_seen_at + 60);
    } finally {
      await worker.dispose();
    }
  });

  test("a touch racing a logout never brings the session back", async () => {
    const worker = await startWorker({
      vars: { IDLE_TTL_SECS: "60", ABSOLUTE_TTL_SECS: "600", TOUCH_INTERVAL_SECS: "0" },
    });
    try {
      const rounds = 8;
      const sessions = await Promise.all(Array.from({ length: rounds }, (_, i) => worker.createSession(`race-${i}`)));
      await sleep(1100); // so every validation below finds a touch due
      await Promise.all(
        sessions.map(async (s) => {
          const validations = Array.from({ length: 6 }, () => worker.validate(s.token));
          const logout = worker.fetch("/v1/session", {
            method: "DELETE",
            headers: { Authorization: `Bearer ${s.token}` },
          });
          const [res] = await Promise.all([logout, ...validations]);
          assert.equal(res.status, 204);
        }),
      );
      await sleep(1000); // let every wait_until touch finish
      for (const s of sessions) {
        assert.equal(await worker.kv.get(await kvKeyOf(s.token)), null, "KV record resurrected by a touch");
        assert.equal((await worker.validate(s.token)).status, 401);
      }
    } finally {
      await worker.dispose();
    }
  });
});
