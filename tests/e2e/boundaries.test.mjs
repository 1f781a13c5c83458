// The edges a hostile or confused caller finds: bad input, browsers from other origins,
// the admin key, and bad configuration. Every bad request must get a 4xx JSON error
// and leave every stored session exactly as it was.

import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startWorker, kvKeyOf, ADMIN_KEY } from "./harness.mjs";
import { adminJson } from "./support/requests.mjs";

const APP = "https://app.example";
const EVIL = "https://evil.example";

async function expectJsonError(res, status, code) {
  const text = await res.text();
  assert.equal(res.status, status, `status for ${code}: ${text}`);
  assert.match(res.headers.get("content-type") ?? "", /^application\/json/, text);
  const body = JSON.parse(text);
  if (code) assert.equal(body.error, code, text);
  assert.equal(typeof body.message, "string");
  return body;
}

describe("bad input", () => {
  let worker, victim, snapshot;
  before(async () => {
    worker = await startWorker({ vars: { ALLOWED_ORIGINS: APP } });
    victim = await worker.createSession("victim", { label: "keep me" });
    // Its first use by a client takes the baseline (docs/theft-signals.md), a write.
    assert.equal((await worker.validate(victim.token)).status, 200);
    snapshot = JSON.stringify(await worker.dumpKv());
  });
  after(async () => {
    // Nothing below may have changed a stored session.
    assert.equal(JSON.stringify(await worker.dumpKv()), snapshot);
    assert.equal((await worker.validate(victim.token)).status, 200);
    await worker?.dispose();
  });

  const get = (headers) => worker.fetch("/v1/session", { headers });

  test("garbage cookies", async () => {
    for (const cookie of [
      "__Host-session=garbage",
      "__Host-session=",
      '__Host-session=""',
      `__Host-session=${victim.token}x`,
      "__Host-session=est_\u00e9\u00ff\u00e9",
    ]) {
      await expectJsonError(await get({ Cookie: cookie }), 401, "invalid_token");
    }
    await expectJsonError(await get({ Cookie: "=;;;; ;=; a" }), 401, "missing_token");
  });

  test("two session cookies", async () => {
    const other = `est_${"B".repeat(42)}A`;
    await expectJsonError(
      await get({ Cookie: `__Host-session=${victim.token}; __Host-session=${other}` }),
      400,
      "ambiguous_token",
    );
    await expectJsonError(
      await get({ Cookie: `__Host-session=${victim.token}; __Host-session=${victim.token}` }),
      400,
      "ambiguous_token",
    );
  });

  test("a cookie and a bearer header that disagree", async () => {
    const other = `est_${"C".repeat(42)}A`;
    await expectJsonError(
      await get({ Cookie: `__Host-session=${victim.token}`, Authorization: `Bearer ${other}` }),
      400,
      "ambiguous_token",
    );
    // Without a cookie, a non-Bearer scheme is refused.
    await expectJsonError(await get({ Authorization: `Basic ${victim.token}` }), 401, "invalid_token");
    // With the cookie, another scheme is the site's own business and is ignored.
    const withBasic = await get({ Cookie: `__Host-session=${victim.token}`, Authorization: "Basic dXNlcjpwYXNz" });
    assert.equal(withBasic.status, 200);
  });

  test("tokens of the wrong length or alphabet", async () => {
    const body = victim.token.slice(4);
    for (const bad of [
      victim.token.slice(0, -1),
      `${victim.token}A`,
      `est_${body.replace(/.$/, "+")}`,
      `EST_${body}`,
      `est_${body.slice(0, 42)}=`,
    ]) {
      await expectJsonError(await get({ Authorization: `Bearer ${bad}` }), 401, "invalid_token");
    }
    // The stored hash is not a token.
    const hash = (await kvKeyOf(victim.token)).slice("session:".length);
    await expectJsonError(await get({ Authorization: `Bearer ${hash}` }), 401, "invalid_token");
  });

  test("a 64 KB header", async () => {
    const huge = "x".repeat(64 * 1024);
    await expectJsonError(
      await get({ Cookie: `pad=${huge}; __Host-session=${victim.token}` }),
      431,
      "header_too_large",
    );
    await expectJsonError(await get({ Authorization: `Bearer ${huge}` }), 431, "header_too_large");
  });

  const create = (account, init) =>
    worker.fetch(`/v1/admin/accounts/${account}/sessions`, {
      method: "POST",
      ...init,
      headers: { ...adminJson, ...(init?.headers ?? {}) },
    });

  test("non-JSON bodies, unknown fields, oversized bodies", async () => {
    await expectJsonError(await create("victim", { body: "{not json" }), 400, "invalid_json");
    await expectJsonError(await create("victim", { body: "[1,2,3]" }), 400, "invalid_json");
    await expectJsonError(await create("victim", { body: "\u0000\u00ff" }), 400, "invalid_json");
    await expectJsonError(
      await create("victim", { body: JSON.stringify({ label: "x", token: "est_mine" }) }),
      400,
      "invalid_json",
    );
    await expectJsonError(
      await create("victim", { body: JSON.stringify({ idle_ttl_secs: "soon" }) }),
      400,
      "invalid_json",
    );
    await expectJsonError(
      await create("victim", { body: JSON.stringify({ label: "x".repeat(17 * 1024) }) }),
      413,
      "body_too_large",
    );
    await expectJsonError(
      await create("victim", { body: "x=1", headers: { "Content-Type": "application/x-www-form-urlencoded" } }),
      415,
      "unsupported_media_type",
    );
    await expectJsonError(
      await create("victim", { body: JSON.stringify({ label: "line\nbreak" }) }),
      400,
      "invalid_metadata",
    );
    await expectJsonError(
      await create("victim", { body: JSON.stringify({ user_agent: "u".repeat(513) }) }),
      400,
      "invalid_metadata",
    );
    await expectJsonError(
      await create("victim", { body: JSON.stringify({ label: "Chrome\u202Eexe.pdf" }) }),
      400,
      "invalid_metadata",
    );
    const echoed = await expectJsonError(
      await create("victim", { body: JSON.stringify({ label: 5, pad: "p".repeat(10_000) }) }),
      400,
      "invalid_json",
    );
    assert.ok(echoed.message.length < 200, "error messages stay short");
  });

  test("hostile account ids", async () => {
    for (const account of [
      "a%2Fb",
      "%2e%2e",
      "a..b",
      "a%00b",
      "a%0Ab",
      "a%20b",
      "%C3%A9",
      "x".repeat(1000),
      ".hidden",
    ]) {
      const res = await create(account, {});
      assert.ok(res.status >= 400 && res.status < 500, `${account.slice(0, 20)} gave ${res.status}`);
      await expectJsonError(res, res.status);
    }
    // Ids that reach the handler get the precise error.
    await expectJsonError(await create("a%2Fb", {}), 400, "invalid_account_id");
    await expectJsonError(await create("x".repeat(1000), {}), 400, "invalid_account_id");
    await expectJsonError(await create("a%00b", {}), 400, "invalid_account_id");
    // A literal slash or dot segments never reach an account: they are other paths
    // (`/v1/admin/accounts/../sessions` normalises to `/v1/admin/sessions`, GET only).
    await expectJsonError(await create("a/b", {}), 404, "not_found");
    await expectJsonError(await create("..", {}), 405, "method_not_allowed");
  });

  test("wrong methods get 405 with Allow", async () => {
    const res = await worker.fetch("/v1/session", { method: "PUT" });
    await expectJsonError(res, 405, "method_not_allowed");
    assert.equal(res.headers.get("allow"), "GET, DELETE");
  });
});

describe("browsers and origins", () => {
  let worker;
  before(async () => {
    worker = await startWorker({ vars: { ALLOWED_ORIGINS: `${APP}, http://localhost:5173` } });
  });
  after(async () => {
    await worker?.dispose();
  });

  test("an allowed origin is echoed with credentials, never *", async () => {
    const { token } = await worker.createSession("cors");
    const res = await worker.fetch("/v1/session", { headers: { Origin: APP, Cookie: `__Host-session=${token}` } });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("access-control-allow-origin"), APP);
    assert.equal(res.headers.get("access-control-allow-credentials"), "true");
    assert.equal(res.headers.get("access-control-expose-headers"), "Retry-After", "a page can read a 429's wait");
    assert.match(res.headers.get("vary"), /Origin/);
    // The same on the full path, and on a refused request (a 429 is one).
    const refused = await worker.fetch("/v1/session/refresh", { method: "POST", headers: { Origin: APP } });
    assert.equal(refused.headers.get("access-control-expose-headers"), "Retry-After");
  });

  test("a foreign origin gets no CORS headers", async () => {
    const { token } = await worker.createSession("cors");
    const res = await worker.fetch("/v1/session", { headers: { Origin: EVIL, Cookie: `__Host-session=${token}` } });
    assert.equal(res.headers.get("access-control-allow-origin"), null);
    assert.equal(res.headers.get("access-control-allow-credentials"), null);
    assert.equal(res.headers.get("access-control-expose-headers"), null);
    assert.match(res.headers.get("vary"), /Origin/);
  });

  test("preflight is answered for allowed origins and refused for others", async () => {
    const ok = await worker.fetch("/v1/session/refresh", {
      method: "OPTIONS",
      headers: {
        Origin: APP,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type",
      },
    });
    assert.equal(ok.status, 204);
    assert.equal(ok.headers.get("access-control-allow-origin"), APP);
    assert.equal(ok.headers.get("access-control-allow-credentials"), "true");
    assert.match(ok.headers.get("access-control-allow-methods"), /POST/);
    assert.match(ok.headers.get("access-control-allow-headers"), /Content-Type/);

    const bad = await worker.fetch("/v1/session", {
      method: "OPTIONS",
      headers: { Origin: EVIL, "Access-Control-Request-Method": "DELETE" },
    });
    await expectJsonError(bad, 403, "origin_not_allowed");
    assert.equal(bad.headers.get("access-control-allow-origin"), null);
  });

  test("the admin API never answers CORS", async () => {
    const res = await worker.fetch("/v1/admin/accounts/x/sessions", { method: "OPTIONS", headers: { Origin: APP } });
    assert.equal(res.headers.get("access-control-allow-origin"), null);
  });

  test("cookie-authenticated writes from a foreign origin are refused and change nothing", async () => {
    const { token } = await worker.createSession("csrf");
    const key = await kvKeyOf(token);
    const before = await worker.kv.get(key);
    const cookie = `__Host-session=${token}`;
    for (const [path, method] of [
      ["/v1/session/refresh", "POST"],
      ["/v1/session", "DELETE"],
    ]) {
      await expectJsonError(
        await worker.fetch(path, { method, headers: { Cookie: cookie, Origin: EVIL } }),
        403,
        "origin_not_allowed",
      );
      await expectJsonError(
        await worker.fetch(path, { method, headers: { Cookie: cookie, Origin: "null" } }),
        403,
        "origin_not_allowed",
      );
      await expectJsonError(
        await worker.fetch(path, { method, headers: { Cookie: cookie, "Sec-Fetch-Site": "cross-site" } }),
        403,
        "origin_not_allowed",
      );
    }
    assert.equal(await worker.kv.get(key), before);
    assert.equal((await worker.validate(token)).status, 200);

    // From the allowed origin the same calls work.
    const refreshed = await worker.fetch("/v1/session/refresh", {
      method: "POST",
      headers: { Cookie: cookie, Origin: APP },
    });
    assert.equal(refreshed.status, 200);
    const logout = await worker.fetch("/v1/session", { method: "DELETE", headers: { Cookie: cookie, Origin: APP } });
    assert.equal(logout.status, 204);
    assert.equal(await worker.kv.get(key), null);
  });

  test("bearer-authenticated writes need no Origin check (browsers never attach bearers)", async () => {
    const { token } = await worker.createSession("bearer");
    const res = await worker.fetch("/v1/session/refresh", {
      method: "POST",
      headers: { Authorization: `Bearer ${token}`, Origin: EVIL },
    });
    assert.equal(res.status, 200);
  });
});

describe("the admin key", () => {
  test("with no key configured every admin call is refused", async () => {
    const worker = await startWorker({ adminKey: null });
    try {
      const res = await worker.fetch("/v1/admin/accounts/alice/sessions", {
        method: "POST",
        headers: { Authorization: "Bearer anything" },
      });
      await expectJsonError(res, 403, "admin_disabled");
      assert.deepEqual(await worker.dumpKv(), []);
    } finally {
      await worker.dispose();
    }
  });

  test("a wrong, missing or prefixed key is refused", async () => {
    const worker = await startWorker();
    try {
      for (const auth of [
        undefined,
        "Bearer wrong",
        `Bearer ${ADMIN_KEY}x`,
        `Bearer ${ADMIN_KEY.slice(0, -1)}`,
        `Basic ${ADMIN_KEY}`,
        ADMIN_KEY,
      ]) {
        const headers = auth ? { Authorization: auth } : {};
        await expectJsonError(
          await worker.fetch("/v1/admin/accounts/alice/sessions", { method: "POST", headers }),
          401,
          "invalid_admin_key",
        );
      }
      assert.deepEqual(await worker.dumpKv(), []);
    } finally {
      await worker.dispose();
    }
  });

  test("a key too short to be a secret is a configuration error", async () => {
    const worker = await startWorker({ adminKey: "short" });
    try {
      const res = await worker.fetch("/v1/admin/accounts/alice/sessions", {
        method: "POST",
        headers: { Authorization: "Bearer short" },
      });
      const body = await expectJsonError(res, 500, "invalid_config");
      assert.match(body.message, /ADMIN_KEY/);
    } finally {
      await worker.dispose();
    }
  });
});

describe("configuration", () => {
  test("an invalid variable stops requests with a 500 naming it", async () => {
    for (const [name, value] of [
      ["IDLE_TTL_SECS", "thirty"],
      ["MAX_SESSIONS_PER_ACCOUNT", "0"],
      ["ALLOWED_ORIGINS", "*"],
      ["COOKIE_NAME", "a b"],
    ]) {
      const worker = await startWorker({ vars: { [name]: value } });
      try {
        const body = await expectJsonError(await worker.fetch("/v1/session"), 500, "invalid_config");
        assert.match(body.message, new RegExp(name));
      } finally {
        await worker.dispose();
      }
    }
  });

  test("COOKIE_NAME is honoured in Set-Cookie and when reading", async () => {
    const worker = await startWorker({ vars: { COOKIE_NAME: "sid" } });
    try {
      const created = await worker.createSession("named");
      assert.match(created.setCookie, /^sid=est_/);
      const res = await worker.fetch("/v1/session", { headers: { Cookie: `sid=${created.token}` } });
      assert.equal(res.status, 200);
    } finally {
      await worker.dispose();
    }
  });
});
