// The gated forward's synchronous entry (src/edge/fast_gate.rs, scripts/shim/worker-shim.js)
// against the full path (src/edge/routes/gatekeeper.rs), in workerd, in front of a real
// loopback origin. Every request of the corpus goes through both (both-paths-entry.mjs:
// the build, and its full-path twin with the same glue), and the two must agree byte for
// byte: status, every response header, the body, what the origin saw (method, path,
// query, every header, the body) and the metrics data point.

import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { startWorker, unusedPort, sleep, kvKeyOf } from "./harness.mjs";
import { startEchoOrigin } from "./support/origin.mjs";
import { admin, adminJson } from "./support/requests.mjs";

const scriptPath = fileURLToPath(new URL("./both-paths-entry.mjs", import.meta.url));
const HTML = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
const cookie = (token) => `__Host-session=${token}`;

/** The echo, with cookies and a header of the origin's own; /hang never answers and /moved redirects. */
function respond(seen, res) {
  if (seen.url.startsWith("/hang")) return;
  res.writeHead(seen.url.startsWith("/moved") ? 302 : 200, {
    "Content-Type": "application/json",
    "Set-Cookie": ["origin_pref=1; Path=/", "origin_other=2; Path=/"],
    "X-Origin": "echo",
    ...(seen.url.startsWith("/moved") ? { Location: "/elsewhere" } : {}),
  });
  res.end(JSON.stringify(seen));
}

/** Status, headers (all but Date) and body; a DBSC offer's time-bound values masked. */
async function answerOf(res) {
  const headers = [...res.headers]
    .filter(([name]) => name !== "date")
    .map(([name, value]) =>
      name === "secure-session-registration" ? [name, value.replace(/="[A-Za-z0-9_-]{32}"/g, '="…"')] : [name, value],
    );
  return { status: res.status, headers, body: await res.text() };
}

/**
 * Sends `request` down the fast path, then the full path, and returns what each gave:
 * the answer, what the origin received (if anything) and the data points written.
 */
async function bothPaths(worker, origin, { path, method = "GET", headers = {}, body }) {
  const one = async (marker) => {
    const seenBefore = origin.received.length;
    await worker.fetch("/__test/metrics");
    const res = await worker.fetch(path, { method, body, headers: { ...headers, ...marker } });
    const answer = await answerOf(res);
    return {
      answer,
      seen: origin.received.slice(seenBefore),
      points: await (await worker.fetch("/__test/metrics")).json(),
    };
  };
  return { fast: await one({}), full: await one({ "X-Test-Path": "full" }) };
}

describe("the gated fast path answers and forwards exactly as the full path", () => {
  let origin, worker;
  const corpus = [];
  before(async () => {
    origin = await startEchoOrigin({ respond });
    worker = await startWorker({
      scriptPath,
      vars: {
        ORIGIN_URL: origin.url,
        LOGIN_URL: "https://site.example/login",
        PUBLIC_PATHS: "/login,/assets/*",
        ORIGIN_TIMEOUT_MS: "700",
        IMPERSONATION_DENY_PATHS: "/billing/*",
        DEVICE_BOUND_SESSIONS: "offer",
        DEVICE_BINDING_SECRET: Buffer.alloc(32, 5).toString("base64"),
      },
    });
    const live = await worker.createSession("gate", { claims: { role: "editor" } });
    const short = await worker.createSession("gate", { idle_ttl_secs: 1 });
    const revoked = await worker.createSession("gate");
    await worker.fetch(`/v1/admin/accounts/gate/sessions/${revoked.session_id}`, { method: "DELETE", headers: admin });
    const acting = await (
      await worker.fetch("/v1/admin/accounts/gate/impersonations", {
        method: "POST",
        headers: adminJson,
        body: JSON.stringify({ actor: "support@example.com", reason: "ticket 9", ttl_secs: 600 }),
      })
    ).json();
    // The first use by a client takes its baseline (the full path asks the account's
    // Durable Object); the corpus compares later uses.
    for (const s of [live, acting]) {
      assert.equal(
        (await worker.fetch("/v1/session", { headers: { Authorization: `Bearer ${s.token}` } })).status,
        200,
      );
    }
    await sleep(1100); // `short` is now idle-expired

    const hostile = {
      "X-Session-Account": "forged",
      X_Session_Id: "forged",
      "x-session-actor": "forged",
      "X-Forwarded-For": "198.51.100.1",
      "X-Forwarded-Host": "evil.example",
      "X-Forwarded-Proto": "http",
      Forwarded: "for=198.51.100.1",
      "X-Real-IP": "198.51.100.1",
      "X-Original-URL": "/admin",
      "CF-Connecting-IP": "203.0.113.7",
    };
    const credentials = {
      "a live bearer token": { Authorization: `Bearer ${live.token}` },
      "a live cookie among others": { Cookie: `theme=dark; ${cookie(live.token)}; lang=en` },
      "a live cookie alone": { Cookie: cookie(live.token) },
      "an impersonation session": { Authorization: `Bearer ${acting.token}` },
      "an idle-expired session": { Authorization: `Bearer ${short.token}` },
      "a revoked session": { Cookie: `a=1; ${cookie(revoked.token)}` },
      "no credential": {},
      "only other cookies": { Cookie: "theme=dark;lang=en" },
      "an unknown token": { Authorization: `Bearer est_${"A".repeat(43)}` },
      "a garbage token": { Authorization: "Bearer not-a-token" },
      "another scheme": { Authorization: "Basic dXNlcjpwYXNz" },
      "two session cookies": { Cookie: `${cookie(live.token)}; ${cookie(short.token)}` },
    };
    const requests = {
      "GET /account?tab=1": { path: "/account?tab=1" },
      "a navigation to /account": { path: "/account", headers: { Accept: HTML } },
      "an image load": { path: "/account/avatar", headers: { Accept: HTML, "Sec-Fetch-Dest": "image" } },
      "HEAD /account": { path: "/account", method: "HEAD" },
      "OPTIONS /account": { path: "/account", method: "OPTIONS" },
      "GET /billing/plan": { path: "/billing/plan" },
      "a navigation to /billing/plan": { path: "/billing/plan", headers: { Accept: HTML } },
      "POST /account (strong)": { path: "/account", method: "POST", body: "a=1" },
      "GET /assets/app.js?v=3 (public)": { path: "/assets/app.js?v=3" },
      "POST /login (public)": { path: "/login", method: "POST", body: "user=a&pass=b" },
      "an origin redirect": { path: "/moved?to=x" },
      "an origin that hangs": { path: "/hang" },
    };
    for (const [what, credential] of Object.entries(credentials))
      for (const [how, request] of Object.entries(requests))
        corpus.push({ name: `${how}, ${what}`, ...request, headers: { ...request.headers, ...credential } });
    for (const [how, request] of Object.entries(requests))
      corpus.push({
        name: `${how}, a live cookie, hostile headers`,
        ...request,
        headers: { ...request.headers, ...hostile, Cookie: `theme=dark; ${cookie(live.token)}` },
      });
  });
  after(async () => {
    await worker?.dispose();
    await origin?.close();
  });

  test("every request of the corpus gets the same answer, origin request and data point on both paths", async () => {
    assert.equal(corpus.length, 156);
    const outcomes = new Map();
    // The hangs wait for the timeout on both paths: run them together, the rest in order.
    const hangs = corpus.filter((c) => c.path === "/hang");
    const results = await Promise.all(hangs.map((c) => bothPaths(worker, origin, c).then((r) => [c, r])));
    for (const c of corpus.filter((c) => c.path !== "/hang")) results.push([c, await bothPaths(worker, origin, c)]);
    for (const [{ name }, { fast, full }] of results) {
      if (!name.includes("hangs")) {
        assert.deepEqual(fast.seen, full.seen, `${name}: what the origin saw`);
        assert.deepEqual(fast.points, full.points, `${name}: the data point`);
        assert.equal(fast.points.length, 1, `${name}: one data point`);
      }
      assert.deepEqual(fast.answer, full.answer, `${name}: the answer`);
      outcomes.set(name, [fast.answer.status, fast.seen.length]);
    }
    const statuses = new Set([...outcomes.values()].map(([status]) => status));
    for (const status of [200, 302, 400, 401, 403, 502])
      assert.ok(statuses.has(status), `the corpus reaches a ${status}`);
    assert.deepEqual(outcomes.get("GET /account?tab=1, a live bearer token"), [200, 1]);
    assert.deepEqual(outcomes.get("a navigation to /account, no credential"), [302, 0]);
    assert.deepEqual(outcomes.get("GET /billing/plan, an impersonation session"), [403, 0]);
    const timedOut = results.find(([c]) => c.name === "an origin that hangs, a live bearer token")[1].fast.answer;
    assert.deepEqual([timedOut.status, JSON.parse(timedOut.body).error], [502, "origin_timeout"]);
  });

  test("what the origin sees of a session: identity set, credential and hostile headers gone, other cookies kept", async () => {
    const { headers } = corpus.find((c) => c.name === "GET /account?tab=1, a live cookie, hostile headers");
    const res = await worker.fetch("/account?tab=1", { headers });
    const seen = await res.json();
    assert.equal(res.status, 200);
    assert.equal(seen.url, "/account?tab=1");
    assert.equal(seen.headers.cookie, "theme=dark");
    assert.equal(seen.headers["x-session-account"], "gate");
    assert.match(seen.headers["x-session-id"], /^sid_/);
    assert.equal(seen.headers["x-session-actor"], undefined);
    assert.equal(seen.headers.x_session_id, undefined);
    assert.equal(seen.headers["x-forwarded-for"], "203.0.113.7");
    assert.equal(seen.headers["x-forwarded-host"], new URL(worker.url).host);
    for (const name of ["forwarded", "x-real-ip", "x-original-url"]) assert.equal(seen.headers[name], undefined, name);
    assert.deepEqual(res.headers.getSetCookie(), ["origin_pref=1; Path=/", "origin_other=2; Path=/"]);

    const acting = corpus.find((c) => c.name === "GET /account?tab=1, an impersonation session");
    const actor = await (await worker.fetch("/account?tab=1", { headers: acting.headers })).json();
    assert.equal(actor.headers["x-session-actor"], "support@example.com");

    const page = corpus.find((c) => c.name === "a navigation to /account, a live cookie alone");
    const offered = await worker.fetch("/account", { headers: page.headers });
    assert.equal(offered.status, 200);
    assert.ok(offered.headers.get("secure-session-registration"), "a page load is offered a device key");
    assert.equal((await offered.json()).headers.cookie, undefined, "no cookie left to send");
  });
});

describe("with FORWARD_SESSION_COOKIE, DROP_REQUEST_HEADERS and a LOGIN_URL that would loop", () => {
  test("both paths still agree on the answer, what the origin saw and the data point", async () => {
    const origin = await startEchoOrigin({ respond });
    // An absolute LOGIN_URL on the host the requests reach, on a gated path: redirecting
    // there would loop, so navigations get the 401 and a warning instead.
    const worker = await startWorker({
      scriptPath,
      vars: {
        ORIGIN_URL: origin.url,
        LOGIN_URL: "http://loop.example/signin",
        PUBLIC_PATHS: "/open/*",
        FORWARD_SESSION_COOKIE: "true",
        DROP_REQUEST_HEADERS: "X-Internal,X-Debug",
      },
    });
    try {
      const s = await worker.createSession("gate-lenient");
      await worker.fetch("/v1/session", { headers: { Authorization: `Bearer ${s.token}` } }); // the baseline
      const credentials = {
        "a bearer token": { Authorization: `Bearer ${s.token}` },
        "a cookie among others": { Cookie: `a=1; ${cookie(s.token)}` },
        "no credential": {},
      };
      const requests = {
        "GET /page": { path: "http://loop.example/page?x=1" },
        "a navigation": { path: "http://loop.example/page", headers: { Accept: HTML } },
        "GET /open/a (public)": { path: "http://loop.example/open/a" },
      };
      let compared = 0;
      for (const [what, credential] of Object.entries(credentials))
        for (const [how, request] of Object.entries(requests)) {
          const headers = { ...request.headers, ...credential, "X-Internal": "1", x_debug: "1", "X-Kept": "yes" };
          const { fast, full } = await bothPaths(worker, origin, { ...request, headers });
          assert.deepEqual(fast, full, `${how}, ${what}`);
          if (fast.seen.length) {
            const seen = fast.seen[0].headers;
            assert.deepEqual([seen["x-internal"], seen.x_debug, seen["x-kept"]], [undefined, undefined, "yes"]);
            if (what !== "no credential") assert.ok(seen.cookie || seen.authorization, "the credential is forwarded");
          }
          compared++;
        }
      assert.equal(compared, 9);
      const navigation = await worker.fetch("http://loop.example/page", { headers: { Accept: HTML } });
      assert.equal(navigation.status, 401);
      assert.ok(worker.logs.some((l) => l.includes("LOGIN_URL is on this host but not public")));
    } finally {
      await worker.dispose();
      await origin.close();
    }
  });
});

describe("an origin that is down", () => {
  test("gives the same 502 JSON and log line on both paths", async () => {
    const origin = { url: `http://127.0.0.1:${await unusedPort()}`, received: [] };
    const worker = await startWorker({ scriptPath, vars: { ORIGIN_URL: origin.url, PUBLIC_PATHS: "/open/*" } });
    try {
      const s = await worker.createSession("gate-down");
      await worker.fetch("/v1/session", { headers: { Authorization: `Bearer ${s.token}` } }); // the baseline
      for (const request of [
        { path: "/open/page" },
        { path: "/private", headers: { Authorization: `Bearer ${s.token}` } },
      ]) {
        const { fast, full } = await bothPaths(worker, origin, request);
        assert.deepEqual(fast, full, request.path);
        assert.equal(fast.answer.status, 502);
        assert.equal(JSON.parse(fast.answer.body).error, "origin_unreachable");
      }
      const lines = worker.logs.filter((l) => l.includes("gatekeeper: origin unreachable"));
      assert.equal(lines.length, 4, "one log line per failed forward, on each path");
      assert.equal(new Set(lines).size, 1, "the same line on both paths");
    } finally {
      await worker.dispose();
    }
  });
});

describe("which path a gated request takes", () => {
  test("common gated requests read KV and fetch from the shim; rare ones from wasm", async () => {
    const origin = await startEchoOrigin({ respond });
    const worker = await startWorker({
      scriptPath,
      vars: { ORIGIN_URL: origin.url, PUBLIC_PATHS: "/assets/*", FRESH_PATHS: "/settings/*=300" },
    });
    try {
      const s = await worker.createSession("gate-paths");
      const auth = { Authorization: `Bearer ${s.token}` };
      const gone = await worker.createSession("gate-paths");
      await worker.fetch(`/v1/admin/accounts/gate-paths/sessions/${gone.session_id}`, {
        method: "DELETE",
        headers: admin,
      });
      const callers = async () => (await worker.fetch("/__test/callers")).json();
      await worker.fetch("/v1/session", { headers: auth }); // the baseline (full path)
      await callers();
      const cases = [
        [{ path: "/assets/a.js" }, ["fetch:shim"]],
        [{ path: "/page", headers: auth }, ["kv:shim", "fetch:shim"]],
        [{ path: "/page", headers: { Authorization: "Bearer junk" } }, []],
        [{ path: "/page", headers: { Authorization: `Bearer ${gone.token}` } }, ["kv:shim"]],
        [{ path: "/page", method: "POST", headers: auth }, ["kv:wasm", "fetch:wasm"]],
        [{ path: "/settings/x", headers: auth }, ["kv:wasm", "fetch:wasm"]],
        [{ path: "/page", headers: { ...auth, "X-Test-Path": "full" } }, ["kv:wasm", "fetch:wasm"]],
      ];
      for (const [{ path, method, headers }, expected] of cases) {
        const res = await worker.fetch(path, { method, headers });
        await res.arrayBuffer();
        assert.deepEqual(await callers(), expected, `${method ?? "GET"} ${path} ${JSON.stringify(headers ?? {})}`);
      }
    } finally {
      await worker.dispose();
      await origin.close();
    }
  });

  test("a due touch on the gated fast path still extends the session, after the response", async () => {
    const origin = await startEchoOrigin({ respond });
    const worker = await startWorker({ scriptPath, vars: { ORIGIN_URL: origin.url, TOUCH_INTERVAL_SECS: "1" } });
    try {
      const s = await worker.createSession("gate-touch");
      const auth = { Authorization: `Bearer ${s.token}` };
      await worker.fetch("/v1/session", { headers: auth }); // the baseline (full path)
      const key = await kvKeyOf(s.token);
      const before = JSON.parse(await worker.kv.get(key));
      await sleep(1100);
      await worker.fetch("/__test/callers");
      await worker.fetch("/__test/metrics");
      const res = await worker.fetch("/page", { headers: auth });
      assert.equal(res.status, 200);
      await res.arrayBuffer();
      assert.deepEqual(await (await worker.fetch("/__test/callers")).json(), ["kv:shim", "fetch:shim"]);
      const [point] = await (await worker.fetch("/__test/metrics")).json();
      assert.deepEqual(point.blobs.slice(0, 3), ["gated", "eventual", "ok"]);
      assert.deepEqual(point.doubles.slice(0, 2), [200, 1], "the data point says a touch was sent");
      let after = before;
      for (let i = 0; i < 50 && after.idle_expires_at === before.idle_expires_at; i++) {
        await sleep(50);
        after = JSON.parse(await worker.kv.get(key));
      }
      assert.ok(after.idle_expires_at > before.idle_expires_at, "the touch moved the idle deadline");
    } finally {
      await worker.dispose();
      await origin.close();
    }
  });
});
